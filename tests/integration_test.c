/* integration_test.c -- the real filterd through the real client, end to end.
 *
 * Usage: integration_test path/to/filterd [path/to/filterctl]
 *        (INTEG_FILTER=PATTERN runs only the matching tests)
 *
 * Each test starts its own daemon (setup) in a fresh temporary run dir, with
 * ipc:// endpoints, a config and small lists written there, waits for
 * "event=ready" in its log, and stops it with SIGTERM (teardown: it must exit
 * 0). The daemon runs in its own process group and dies with this process
 * (PR_SET_PDEATHSIG); a watchdog alarm and an atexit hook SIGKILL the groups
 * still alive, so no daemon outlives a failed or stuck run. No assertion is
 * about wall-clock time: waits are bounded, and the deadline case is made
 * deterministic by stopping the only worker (SIGSTOP).
 *
 * Cases: a decision for each label (offsets, term, list, line, version), a
 * scene policy, TCP beside ipc; 8 clients x 1500 requests with 32 in flight
 * each, plus a batch and a plain REQ socket; malformed frames from two raw
 * DEALERs while good clients run; admin ops on the request endpoint are
 * forbidden; reload under load (no failed or lost reply, every request sent
 * after the reload answered carries the new version); a broken list refused
 * with file:line while the old version serves; SIGHUP; SIGKILL of workers
 * under load; expired budget and a full queue (fallback, degraded); SIGTERM
 * with a request in flight; the client's Lazy Pirate and its own fallback;
 * filterctl check/--jsonl (same lines as scan)/ping/stats/reload; a client's
 * quotes cannot forge log fields; symlinks the unprivileged user planted in
 * the run dir are never followed by root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>
#include <zmq.h>

#include "fclient.h"
#include "tu_msgpack.h"
#include "taxonomy.h"

#define READY_TIMEOUT_MS 60000  /* msecs: daemon start (ASan builds compile slowly) */
#define STOP_TIMEOUT_MS 20000   /* msecs: SIGTERM to exit */
#define WATCHDOG_S 540          /* secs: the whole run, then every daemon is killed */
#define REPLY_TIMEOUT_MS 15000  /* msecs: any one reply in these tests */
#define POLL_STEP_MS 10         /* msecs: between looks at a log or a process */
#define MAX_TEXT 4096           /* the test config's max-text-bytes */
#define NTHREADS 8              /* concurrent clients */
#define PER_THREAD 1500         /* requests per client in the concurrency test */
#define WINDOW 32               /* requests in flight per client */
#define MAX_DAEMONS 4

static const char *filterd_bin, *filterctl_bin;

/* ---- small utilities ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(text, f) == EOF ? -1 : 0;
    return fclose(f) == EOF ? -1 : rc;
}

/* The whole file, NUL-terminated; caller frees. NULL if unreadable. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *s = malloc(cap);
    while (s && (got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *t = realloc(s, cap *= 2);
            if (!t) {
                free(s);
                s = NULL;
            }
            s = t;
        }
    }
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

static void rm_tree(const char *dir)
{
    if (dir[0])
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the lists: one term per label, so each label can be asked for ---- */

/* "zq<label>x": plain ASCII, unique, folds to itself. */
static void term_of(int label, char *buf, size_t size)
{
    snprintf(buf, size, "zq%sx", fe_label_name(label));
}

static void text_of(int label, char *buf, size_t size)
{
    char t[64];
    term_of(label, t, sizeof t);
    snprintf(buf, size, "hello %s world", t);
}

#define TERM_LINE 3   /* the line of each list's term */

static int write_lists(const char *dir)
{
    char path[PATH_MAX + 64], body[256], t[64];
    if (mkdir(dir, 0700) < 0)
        return -1;
    for (int l = 0; l < FE_NLABELS; l++) {
        term_of(l, t, sizeof t);
        snprintf(path, sizeof path, "%s/%s.txt", dir, fe_label_name(l));
        snprintf(body, sizeof body, "# test list\n# term on line %d\n%s\n", TERM_LINE, t);
        if (write_file(path, body) < 0)
            return -1;
    }
    return 0;
}

/* ---- daemons ---- */

typedef struct fdproc {
    pid_t pid;
    int status, exited;
    char dir[64];            /* /tmp/fdit.XXXXXX */
    char lists[128];
    char conf[128];
    char log[128];
    char ep[128];       /* request endpoint */
    char admin[128];
    char tcp[64];            /* a second request endpoint on loopback, or "" */
    char version[128];
} fdproc;

static volatile pid_t live_groups[MAX_DAEMONS];

static void kill_all(void)
{
    for (int i = 0; i < MAX_DAEMONS; i++)
        if (live_groups[i] > 0)
            kill(-live_groups[i], SIGKILL);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "integration_test: watchdog: killing daemons\n";
    kill_all();
    if (write(2, msg, sizeof msg - 1) < 0) {
    }
    _exit(1);
}

static void track(pid_t pid, int on)
{
    for (int i = 0; i < MAX_DAEMONS; i++)
        if (on ? live_groups[i] == 0 : live_groups[i] == pid) {
            live_groups[i] = on ? pid : 0;
            return;
        }
}

static void show_log(const fdproc *d)
{
    char *s = read_file(d->log);
    if (s) {
        size_t n = strlen(s);
        fprintf(stderr, "---- %s (last 4 KiB)\n%s----\n", d->log, n > 4096 ? s + n - 4096 : s);
    }
    free(s);
}

/* 1 if the daemon has exited (status in d), 0 if it runs. */
static int reaped(fdproc *d)
{
    if (d->exited)
        return 1;
    if (waitpid(d->pid, &d->status, WNOHANG) == d->pid) {
        d->exited = 1;
        return 1;
    }
    return 0;
}

/* A loopback port free right now (the kernel's pick), or -1. */
static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Temp dir, lists, config (the common settings plus extra lines), start,
 * wait for event=ready, learn the version. 0 or -1 (message printed). */
static int daemon_start(fdproc *d, const char *extra, int with_tcp)
{
    char conf[4096], err[256];

    memset(d, 0, sizeof *d);
    if (with_tcp) {
        int port = free_port();
        if (port < 0)
            return -1;
        snprintf(d->tcp, sizeof d->tcp, "tcp://127.0.0.1:%d", port);
    }
    snprintf(d->dir, sizeof d->dir, "/tmp/fdit.XXXXXX");
    if (!mkdtemp(d->dir)) {
        perror("mkdtemp");
        d->dir[0] = '\0';
        return -1;
    }
    snprintf(d->lists, sizeof d->lists, "%s/lists", d->dir);
    snprintf(d->conf, sizeof d->conf, "%s/filterd.conf", d->dir);
    snprintf(d->log, sizeof d->log, "%s/filterd.log", d->dir);
    snprintf(d->ep, sizeof d->ep, "ipc://%s/req.sock", d->dir);
    snprintf(d->admin, sizeof d->admin, "ipc://%s/admin.sock", d->dir);
    snprintf(conf, sizeof conf,
             "lists %s\nlisten %s %s\nadmin %s\nrun-dir %s\ncache-dir %s/cache\nuser\n"
             "max-text-bytes %d\nbudget-ms 10000\nmax-budget-ms 20000\n%s",
             d->lists, d->ep, d->tcp, d->admin, d->dir, d->dir, MAX_TEXT, extra ? extra : "");
    if (write_lists(d->lists) < 0 || write_file(d->conf, conf) < 0) {
        fprintf(stderr, "cannot write %s\n", d->dir);
        return -1;
    }
    pid_t parent = getpid();
    if ((d->pid = fork()) < 0) {
        perror("fork");
        return -1;
    }
    if (d->pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1), dup2(fd, 2);
            close(fd);
        }
        execl(filterd_bin, filterd_bin, "--config", d->conf, (char *)NULL);
        perror(filterd_bin);
        _exit(127);
    }
    setpgid(d->pid, d->pid);
    track(d->pid, 1);
    for (int64_t end = now_ms() + READY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS)) {
        char *s = read_file(d->log);
        int ready = s && strstr(s, "event=ready");
        free(s);
        if (ready) {
            cJSON *j = fc_admin(d->admin, "stats", REPLY_TIMEOUT_MS, err, sizeof err);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "version");
            if (cJSON_IsString(v))
                snprintf(d->version, sizeof d->version, "%s", v->valuestring);
            cJSON_Delete(j);
            if (!d->version[0]) {
                fprintf(stderr, "daemon ready but stats gave no version: %s\n", err);
                show_log(d);
                return -1;
            }
            return 0;
        }
        if (reaped(d)) {
            fprintf(stderr, "filterd exited before ready (status %d)\n", d->status);
            show_log(d);
            return -1;
        }
    }
    fprintf(stderr, "filterd not ready within %d ms\n", READY_TIMEOUT_MS);
    show_log(d);
    return -1;
}

/* SIGTERM, wait for the exit; SIGKILL the group if it hangs. 0 when it
 * exited 0 by itself and left no process of its group behind. */
static int daemon_stop(fdproc *d)
{
    int rc = 0;
    if (d->pid <= 0)
        goto out;
    if (!reaped(d)) {
        kill(d->pid, SIGTERM);
        for (int64_t end = now_ms() + STOP_TIMEOUT_MS; !reaped(d) && now_ms() < end;)
            sleep_ms(POLL_STEP_MS);
    }
    if (!reaped(d)) {
        fprintf(stderr, "filterd did not exit within %d ms of SIGTERM\n", STOP_TIMEOUT_MS);
        kill(-d->pid, SIGKILL);
        waitpid(d->pid, &d->status, 0);
        rc = -1;
    } else if (!WIFEXITED(d->status) || WEXITSTATUS(d->status) != 0) {
        fprintf(stderr, "filterd ended with status 0x%x, not exit 0\n", d->status);
        rc = -1;
    }
    for (int64_t end = now_ms() + STOP_TIMEOUT_MS; kill(-d->pid, 0) == 0 && now_ms() < end;)
        sleep_ms(POLL_STEP_MS);   /* workers finishing */
    if (kill(-d->pid, 0) == 0) {
        fprintf(stderr, "filterd left processes behind\n");
        kill(-d->pid, SIGKILL);
        rc = -1;
    }
    track(d->pid, 0);
    if (rc < 0)
        show_log(d);
out:
    rm_tree(d->dir);
    return rc;
}

/* cmocka skips the teardown when a setup fails: clean up here. */
static int setup(void **state, const char *extra, int with_tcp)
{
    fdproc *d = calloc(1, sizeof *d);
    *state = d;
    if (!d)
        return -1;
    if (daemon_start(d, extra, with_tcp) == 0)
        return 0;
    if (d->pid > 0 && !reaped(d)) {
        kill(-d->pid, SIGKILL);
        waitpid(d->pid, &d->status, 0);
    }
    if (d->pid > 0)
        track(d->pid, 0);
    rm_tree(d->dir);
    free(d);
    *state = NULL;
    return -1;
}

static int setup_default(void **state)
{
    return setup(state, "workers 2\n", 0);
}

/* Also on a loopback TCP port, and with a scene policy. */
static int setup_tcp_policy(void **state)
{
    return setup(state, "workers 2\npolicy chat ad allow\n", 1);
}

/* One worker that heartbeats rarely, so a stopped worker stays "busy" and
 * is neither replaced nor detected while the test needs it stopped. */
static int setup_one_worker(void **state)
{
    return setup(state, "workers 1\nheartbeat-ms 60000\nheartbeat-liveness 100\n"
                        "on-deadline block\nqueue-max 2\n", 0);
}

static int teardown(void **state)
{
    fdproc *d = *state;
    int rc = d ? daemon_stop(d) : 0;
    free(d);
    return rc;
}

/* ---- client helpers ---- */

static fc_client *client(const fdproc *d, int retries)
{
    char err[256];
    fc_options o = {.timeout_ms = REPLY_TIMEOUT_MS, .try_ms = REPLY_TIMEOUT_MS,
                    .retries = retries};
    const char *eps[1] = {d->ep};
    fc_client *c = fc_connect(eps, 1, &o, err, sizeof err);
    if (!c)
        fail_msg("fc_connect: %s", err);
    return c;
}

static cJSON *admin(const fdproc *d, const char *op)
{
    char err[256];
    cJSON *j = fc_admin(d->admin, op, REPLY_TIMEOUT_MS, err, sizeof err);
    if (!j)
        fail_msg("admin %s: %s", op, err);
    return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : -1;
}

/* The decision the test lists give text_of(label); label -1: an allowed text. */
static int expected(int label) { return label < 0 ? FC_ALLOW : (int)fe_label_action(label); }

/* ---- raw sockets, for what the client library never sends ---- */

typedef struct raw {
    void *ctx, *sock;
} raw;

static void raw_open(raw *r, const char *ep)
{
    int zero = 0;
    r->ctx = zmq_ctx_new();
    r->sock = zmq_socket(r->ctx, ZMQ_DEALER);
    assert_non_null(r->sock);
    zmq_setsockopt(r->sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(r->sock, ep), 0);
}

static void raw_close(raw *r)
{
    zmq_close(r->sock);
    zmq_ctx_term(r->ctx);
}

/* Send frames; each given as (ptr, len); NULL ptr ends the list. */
static void raw_send(raw *r, ...)
{
    va_list ap;
    const void *p[8];
    size_t n[8], k = 0;
    va_start(ap, r);
    while (k < 8 && (p[k] = va_arg(ap, const void *)) != NULL) {
        n[k] = va_arg(ap, size_t);
        k++;
    }
    va_end(ap);
    for (size_t i = 0; i < k; i++)
        assert_true(zmq_send(r->sock, p[i], n[i], i + 1 < k ? ZMQ_SNDMORE : 0) >= 0);
}

/* The next [empty][body] reply as JSON, or NULL after timeout_ms (or
 * when it had another shape, which is reported). */
static cJSON *raw_recv(raw *r, int timeout_ms)
{
    zmq_pollitem_t it = {r->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return NULL;
    zmq_msg_t m[2];
    int k = 0, more;
    size_t ml = sizeof more, first = 1;
    do {
        zmq_msg_t part;
        zmq_msg_init(&part);
        zmq_msg_recv(&part, r->sock, 0);
        zmq_getsockopt(r->sock, ZMQ_RCVMORE, &more, &ml);
        if (k < 2) {
            zmq_msg_init(&m[k]);
            zmq_msg_move(&m[k], &part);
        }
        if (k == 0)
            first = zmq_msg_size(&m[0]);
        zmq_msg_close(&part);
        k++;
    } while (more);
    cJSON *j = NULL;
    char err[128];
    if (k == 2 && first == 0)
        j = fw_msgpack_to_json(zmq_msg_data(&m[1]), zmq_msg_size(&m[1]), err, sizeof err);
    else if (k == 1)   /* the answer to a request sent without the delimiter */
        j = fw_msgpack_to_json(zmq_msg_data(&m[0]), zmq_msg_size(&m[0]), err, sizeof err);
    else
        print_error("a reply of %d frames, the first of %zu bytes\n", k, first);
    for (int i = 0; i < (k < 2 ? k : 2); i++)
        zmq_msg_close(&m[i]);
    return j;
}

/* Send m as a request body on r (with the REQ envelope) and release it. */
static void mp_send(raw *r, tu_mp *m)
{
    raw_send(r, "", (size_t)0, m->sb.data, m->sb.size, NULL);
    msgpack_sbuffer_destroy(&m->sb);
}


/* ---- decisions end to end ---- */

static void check_label(fc_client *c, const fdproc *d, int l)
{
    char text[128], term[64], err[256], list[64];
    fc_result r;
    text_of(l, text, sizeof text);
    term_of(l, term, sizeof term);
    snprintf(list, sizeof list, "%s.txt", fe_label_name(l));
    if (fc_check(c, text, strlen(text), "comment", 0, &r, err, sizeof err) < 0)
        fail_msg("label %s: %s", fe_label_name(l), err);
    assert_int_equal(r.decision, expected(l));
    assert_string_equal(fc_decision_suggest(r.decision), fc_decision_suggest(expected(l)));
    assert_int_equal(r.label, fe_label_code(l));
    assert_int_equal(r.nlabels, 1);
    assert_string_equal(r.labels[0], fe_label_name(l));
    assert_int_equal(r.nmatches, 1);
    assert_string_equal(r.matches[0].label, fe_label_name(l));
    assert_string_equal(r.matches[0].action, fc_decision_name(expected(l)));
    assert_string_equal(r.matches[0].term, term);
    assert_non_null(strstr(r.matches[0].list, list));
    assert_int_equal(r.matches[0].line, TERM_LINE);
    assert_int_equal(r.matches[0].start, 6);
    assert_int_equal(r.matches[0].end, 6 + strlen(term));
    assert_string_equal(r.version, d->version);
    assert_null(r.degraded);
    assert_null(r.error);
    fc_result_free(&r);
}

static void test_decisions(void **state)
{
    const fdproc *d = *state;
    char err[256], version[128];
    fc_result r;
    fc_client *c = client(d, 1);

    assert_int_equal(fc_ping(c, version, sizeof version, err, sizeof err), 0);
    assert_string_equal(version, d->version);
    for (int l = 0; l < FE_NLABELS; l++)
        check_label(c, d, l);
    /* the scene policy (chat: ad allowed), and the same over TCP */
    assert_int_equal(fc_check(c, "zqadx", 5, "chat", 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_ALLOW);
    fc_result_free(&r);
    assert_int_equal(fc_check(c, "zqadx", 5, "forum", 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_FLAG);
    fc_result_free(&r);
    const char *tcp[1] = {d->tcp};
    fc_options o = {.timeout_ms = REPLY_TIMEOUT_MS, .try_ms = REPLY_TIMEOUT_MS, .retries = 1};
    fc_client *t = fc_connect(tcp, 1, &o, err, sizeof err);
    assert_non_null(t);
    check_label(t, d, FE_L_FRAUD);
    fc_close(t);
    /* allowed: label 100, nothing matched */
    assert_int_equal(fc_check(c, "hello world", 11, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_ALLOW);
    assert_int_equal(r.decision, FC_ALLOW);
    assert_int_equal(r.label, FC_LABEL_PASS);
    assert_int_equal(r.nmatches, 0);
    assert_int_equal(r.nlabels, 0);
    assert_null(r.degraded);
    fc_result_free(&r);
    /* invalid UTF-8 is scanned, with a warning */
    assert_int_equal(fc_check(c, "a\xff zqpornx", 10, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_BLOCK);
    assert_true(r.nwarnings >= 1);
    assert_string_equal(r.warnings[0], "invalid_utf8");
    fc_result_free(&r);
    /* too large: an error reply, not a decision */
    char *big = malloc(MAX_TEXT + 1);
    memset(big, 'a', MAX_TEXT + 1);
    assert_int_equal(fc_check(c, big, MAX_TEXT + 1, NULL, 0, &r, err, sizeof err), -1);
    assert_non_null(r.error);
    assert_string_equal(r.error, "too_large");
    fc_result_free(&r);
    free(big);
    fc_close(c);
}

/* ---- many clients, many requests in flight ---- */

typedef struct worker_arg {
    const fdproc *d;
    int seed, n;
    atomic_int *stop;          /* load mode: run until set, n ignored */
    atomic_int *switched;      /* reload: set once the new version is live */
    const char *newversion;    /* valid once *switched */
    const char *newtext;       /* reload: flagged only by the new lists */
    long done, wrong, errors, degraded, unavailable, stale, after;
    char why[256];
} worker_arg;

typedef struct sent {
    uint64_t id;
    int label;                 /* -2: newtext */
    int after;                 /* sent after the switch */
} sent;

static void *load_thread(void *p)
{
    worker_arg *a = p;
    char err[200], text[128];
    sent fl[WINDOW];
    int nfl = 0;
    unsigned seed = (unsigned)a->seed;
    fc_client *c = NULL;
    const char *eps[1] = {a->d->ep};
    fc_options o = {.timeout_ms = REPLY_TIMEOUT_MS, .try_ms = REPLY_TIMEOUT_MS, .retries = 1};

    if (!(c = fc_connect(eps, 1, &o, err, sizeof err))) {
        snprintf(a->why, sizeof a->why, "connect: %s", err);
        a->errors++;
        return NULL;
    }
    for (long sent_n = 0;;) {
        int more = a->stop ? !atomic_load(a->stop) : sent_n < a->n;
        while (more && nfl < WINDOW) {
            int l = (int)(rand_r(&seed) % (FE_NLABELS + 2)) - 1;  /* -1: allowed */
            if (l == FE_NLABELS)
                l = a->newtext ? -2 : -1;
            if (l == -2)
                snprintf(text, sizeof text, "%s", a->newtext);
            else if (l >= 0)
                text_of(l, text, sizeof text);
            else
                snprintf(text, sizeof text, "nothing to see %ld", sent_n);
            sent *s = &fl[nfl];
            s->label = l;
            s->after = a->switched && atomic_load(a->switched);
            if (fc_send(c, text, strlen(text), NULL, 0, 0, &s->id, err, sizeof err) < 0) {
                snprintf(a->why, sizeof a->why, "send: %s", err);
                a->errors++;
                goto out;
            }
            nfl++, sent_n++;
            more = a->stop ? !atomic_load(a->stop) : sent_n < a->n;
        }
        if (!nfl)
            break;
        fc_result r;
        uint64_t id;
        if (fc_recv(c, REPLY_TIMEOUT_MS * 2, &id, &r, err, sizeof err) < 0) {
            snprintf(a->why, sizeof a->why, "recv: %s", err);
            a->errors++;
            goto out;
        }
        int k = 0;
        while (k < nfl && fl[k].id != id)
            k++;
        if (k == nfl) {
            snprintf(a->why, sizeof a->why, "reply to an id never sent");
            a->errors++;
        } else {
            sent s = fl[k];
            fl[k] = fl[--nfl];
            int want = s.label == -2 ? (s.after ? FC_FLAG : FC_ALLOW) : expected(s.label);
            a->done++;
            if (r.error) {
                a->errors++;
                snprintf(a->why, sizeof a->why, "error %s: %s", r.error, r.error_message);
            } else if (r.degraded && !strcmp(r.degraded, "unavailable")) {
                a->unavailable++;
            } else if (r.degraded) {
                a->degraded++;
                snprintf(a->why, sizeof a->why, "degraded %s", r.degraded);
            } else if (s.after && strcmp(r.version, a->newversion)) {
                a->stale++;
                snprintf(a->why, sizeof a->why, "after the switch: version %s", r.version);
            } else if (r.decision != want && !(s.label == -2 && !s.after)) {
                a->wrong++;
                snprintf(a->why, sizeof a->why, "label %d: %s, want %s", s.label,
                         fc_decision_name(r.decision), fc_decision_name(want));
            }
            a->after += s.after;
        }
        fc_result_free(&r);
    }
out:
    fc_close(c);
    return NULL;
}

static void expect_clean(const worker_arg *w, int n, int allow_degraded)
{
    for (int i = 0; i < n; i++) {
        if (w[i].errors || w[i].wrong || w[i].unavailable || w[i].stale ||
            (!allow_degraded && w[i].degraded))
            fail_msg("client %d: %ld done, %ld errors, %ld wrong, %ld unavailable (lost), "
                     "%ld stale, %ld degraded; last: %s", i, w[i].done, w[i].errors,
                     w[i].wrong, w[i].unavailable, w[i].stale, w[i].degraded, w[i].why);
    }
}

static void test_concurrent(void **state)
{
    const fdproc *d = *state;
    pthread_t t[NTHREADS];
    worker_arg w[NTHREADS];

    memset(w, 0, sizeof w);
    for (int i = 0; i < NTHREADS; i++) {
        w[i].d = d, w[i].seed = i + 1, w[i].n = PER_THREAD;
        assert_int_equal(pthread_create(&t[i], NULL, load_thread, &w[i]), 0);
    }
    /* meanwhile: a batch through fc_check_many, and a plain REQ socket */
    fc_client *c = client(d, 1);
    fc_query q[FE_NLABELS + 1];
    fc_result res[FE_NLABELS + 1];
    char texts[FE_NLABELS + 1][128], err[256];
    for (int l = -1; l < FE_NLABELS; l++) {
        if (l < 0)
            snprintf(texts[0], sizeof texts[0], "all fine");
        else
            text_of(l, texts[l + 1], sizeof texts[l + 1]);
        q[l + 1] = (fc_query){texts[l + 1], strlen(texts[l + 1]), "forum", 0};
    }
    assert_int_equal(fc_check_many(c, q, FE_NLABELS + 1, 4, res, err, sizeof err), 0);
    for (int l = -1; l < FE_NLABELS; l++) {
        assert_null(res[l + 1].error);
        assert_int_equal(res[l + 1].decision, expected(l));
        fc_result_free(&res[l + 1]);
    }
    fc_close(c);

    void *ctx = zmq_ctx_new(), *req = zmq_socket(ctx, ZMQ_REQ);
    int zero = 0;
    zmq_setsockopt(req, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(req, d->ep), 0);
    tu_mp m;
    tu_mp_begin(&m, 3);
    tu_mp_kv(&m, "op", "check");
    tu_mp_kv(&m, "id", "req-1");
    tu_mp_kv(&m, "text", "zqpornx");
    assert_true(zmq_send(req, m.sb.data, m.sb.size, 0) >= 0);
    msgpack_sbuffer_destroy(&m.sb);
    zmq_pollitem_t it = {req, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, REPLY_TIMEOUT_MS), 1);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    assert_true(zmq_msg_recv(&msg, req, 0) >= 0);
    cJSON *j = fw_msgpack_to_json(zmq_msg_data(&msg), zmq_msg_size(&msg), err, sizeof err);
    zmq_msg_close(&msg);
    zmq_close(req);
    zmq_ctx_term(ctx);
    assert_non_null(j);
    assert_string_equal(jstr(j, "id"), "req-1");
    assert_string_equal(jstr(j, "decision"), "block");
    assert_int_equal((int)jnum(j, "v"), 1);
    cJSON_Delete(j);

    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    expect_clean(w, NTHREADS, 0);
    long total = 0;
    for (int i = 0; i < NTHREADS; i++)
        total += w[i].done;
    assert_int_equal(total, (long)NTHREADS * PER_THREAD);
}

/* ---- malformed input ---- */

typedef struct bad_case {
    const char *name;
    const char *code;       /* the error code expected; NULL: a reply is optional */
    const char *id;         /* the id the reply must echo, when the daemon could read it */
} bad_case;

/* Send every malformed message on one DEALER; the good ones run meanwhile. */
static void send_garbage(raw *r, int round)
{
    tu_mp m;
    char id[32];
    static const char not_mp[] = "\xc1\xc1 this is not msgpack";
    static const char arr[] = "\x92\x01\x02";             /* [1, 2] */
    static const char str[] = "\xa3" "abc";                /* "abc" */

    raw_send(r, "", (size_t)0, not_mp, sizeof not_mp - 1, NULL);
    raw_send(r, "", (size_t)0, arr, sizeof arr - 1, NULL);
    raw_send(r, "", (size_t)0, str, sizeof str - 1, NULL);
    raw_send(r, "", (size_t)0, "", (size_t)0, NULL);        /* empty body */

    /* wrong types, each with a readable id */
    snprintf(id, sizeof id, "t-text-%d", round);
    tu_mp_begin(&m, 3), tu_mp_kv(&m, "id", id), tu_mp_kv(&m, "op", "check");
    tu_mp_str(&m, "text"), msgpack_pack_int(&m.pk, 42);
    mp_send(r, &m);

    snprintf(id, sizeof id, "t-budget-%d", round);
    tu_mp_begin(&m, 3), tu_mp_kv(&m, "id", id), tu_mp_kv(&m, "text", "x");
    tu_mp_kv(&m, "budget_ms", "fast");
    mp_send(r, &m);

    snprintf(id, sizeof id, "t-scene-%d", round);
    tu_mp_begin(&m, 3), tu_mp_kv(&m, "id", id), tu_mp_kv(&m, "text", "x");
    tu_mp_str(&m, "scene"), msgpack_pack_int(&m.pk, 7);
    mp_send(r, &m);

    snprintf(id, sizeof id, "t-explain-%d", round);
    tu_mp_begin(&m, 3), tu_mp_kv(&m, "id", id), tu_mp_kv(&m, "text", "x");
    tu_mp_kv(&m, "explain", "yes");
    mp_send(r, &m);

    snprintf(id, sizeof id, "t-notext-%d", round);
    tu_mp_begin(&m, 2), tu_mp_kv(&m, "id", id), tu_mp_kv(&m, "op", "check");
    mp_send(r, &m);

    snprintf(id, sizeof id, "t-op-%d", round);
    tu_mp_begin(&m, 3), tu_mp_kv(&m, "id", id), tu_mp_kv(&m, "op", "launch"), tu_mp_kv(&m, "text", "x");
    mp_send(r, &m);

    /* too large */
    snprintf(id, sizeof id, "t-large-%d", round);
    char *big = malloc(MAX_TEXT + 100);
    memset(big, 'z', MAX_TEXT + 100);
    tu_mp_begin(&m, 2), tu_mp_kv(&m, "id", id);
    tu_mp_str(&m, "text"), msgpack_pack_str(&m.pk, MAX_TEXT + 100);
    msgpack_pack_str_body(&m.pk, big, MAX_TEXT + 100);
    free(big);
    mp_send(r, &m);

    /* truncated in the middle of the text (the id may be read: bad_request either way) */
    snprintf(id, sizeof id, "t-trunc-%d", round);
    tu_mp_begin(&m, 2), tu_mp_kv(&m, "id", id), tu_mp_kv(&m, "text", "a text cut in the middle");
    raw_send(r, "", (size_t)0, m.sb.data, m.sb.size - 10, NULL);
    msgpack_sbuffer_destroy(&m.sb);

    /* an id too long (over 128 bytes) */
    char longid[200];
    memset(longid, 'i', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    tu_mp_begin(&m, 2), tu_mp_kv(&m, "id", longid), tu_mp_kv(&m, "text", "x");
    mp_send(r, &m);

    /* shapes with no reply possible, or an optional one: extra frames, no
     * delimiter, a non-empty delimiter */
    snprintf(id, sizeof id, "t-extra-%d", round);
    tu_mp_begin(&m, 2), tu_mp_kv(&m, "id", id), tu_mp_kv(&m, "text", "x");
    raw_send(r, "", (size_t)0, m.sb.data, m.sb.size, "extra", (size_t)5, NULL);
    raw_send(r, m.sb.data, m.sb.size, NULL);
    raw_send(r, "x", (size_t)1, m.sb.data, m.sb.size, NULL);
    raw_send(r, "", (size_t)0, "", (size_t)0, m.sb.data, m.sb.size, NULL);
    msgpack_sbuffer_destroy(&m.sb);
}

#define ROUNDS 20

static void test_malformed(void **state)
{
    const fdproc *d = *state;
    static const bad_case must[] = {
        {"t-text", "bad_request", NULL}, {"t-budget", "bad_request", NULL},
        {"t-scene", "bad_request", NULL}, {"t-explain", "bad_request", NULL},
        {"t-notext", "bad_request", NULL}, {"t-op", "unknown_op", NULL},
        {"t-large", "too_large", NULL},
    };
    enum { NMUST = sizeof must / sizeof must[0] };
    pthread_t t[2];
    worker_arg w[2];
    raw r[2];

    memset(w, 0, sizeof w);
    for (int i = 0; i < 2; i++) {
        w[i].d = d, w[i].seed = 100 + i, w[i].n = 1000;
        assert_int_equal(pthread_create(&t[i], NULL, load_thread, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        raw_open(&r[i], d->ep);
    int got_id[2][ROUNDS][NMUST];
    int anon = 0, other = 0;
    memset(got_id, 0, sizeof got_id);
    for (int round = 0; round < ROUNDS; round++)
        send_garbage(&r[round % 2], round);
    /* a good request last on each socket: its answer proves the socket lives */
    for (int i = 0; i < 2; i++) {
        tu_mp m;
        tu_mp_begin(&m, 2), tu_mp_kv(&m, "id", "sentinel"), tu_mp_kv(&m, "text", "zqadx");
        raw_send(&r[i], "", (size_t)0, m.sb.data, m.sb.size, NULL);
        msgpack_sbuffer_destroy(&m.sb);
    }
    /* Collect until every must-reply and both sentinels came in. */
    int sentinels = 0, missing = NMUST * ROUNDS;
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; (missing || sentinels < 2) &&
                                                      now_ms() < end;) {
        for (int i = 0; i < 2; i++) {
            cJSON *j = raw_recv(&r[i], POLL_STEP_MS);
            if (!j)
                continue;
            const char *id = jstr(j, "id");
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
            if (id && !strcmp(id, "sentinel")) {
                assert_string_equal(jstr(j, "decision"), "flag");
                sentinels++;
            } else if (!e) {
                /* extra-frame variants may be answered as checks of "x" */
                assert_non_null(id);
                assert_non_null(strstr(id, "t-extra-"));
                assert_string_equal(jstr(j, "decision"), "allow");
                other++;
            } else {
                const char *code = jstr(e, "code");
                assert_non_null(code);
                assert_non_null(jstr(e, "message"));
                int matched = 0;
                for (int k = 0; id && k < NMUST; k++) {
                    size_t nl = strlen(must[k].name);
                    if (!strncmp(id, must[k].name, nl) && id[nl] == '-') {
                        int round = atoi(id + nl + 1);
                        assert_true(round >= 0 && round < ROUNDS);
                        if (strcmp(code, must[k].code))
                            fail_msg("%s: got %s, want %s", id, code, must[k].code);
                        assert_int_equal(got_id[round % 2][round][k], 0);
                        got_id[round % 2][round][k] = 1;
                        missing--;
                        matched = 1;
                    }
                }
                /* no id (or one the daemon could read before the damage) */
                if (!matched && (!id || !strncmp(id, "t-trunc-", 8) || id[0] == 'i')) {
                    if (strcmp(code, "bad_request"))
                        fail_msg("error reply %s for id %s, want bad_request", code,
                                 id ? id : "(none)");
                    anon++;
                } else if (!matched && strncmp(id, "t-extra-", 8))
                    fail_msg("unexpected error reply for id %s: %s", id, code);
                else if (!matched)
                    other++;
            }
            cJSON_Delete(j);
        }
    }
    if (missing)
        fail_msg("%d error replies missing", missing);
    assert_int_equal(sentinels, 2);
    /* not msgpack, not a map (x2), empty, truncated, long id: 6 per round, without an id */
    if (anon < 6 * ROUNDS)
        fail_msg("%d anonymous error replies, want at least %d", anon, 6 * ROUNDS);
    for (int i = 0; i < 2; i++)
        raw_close(&r[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    expect_clean(w, 2, 0);
    print_message("malformed: %d error replies without a usable id, %d replies to the "
                  "optional shapes (of %d sent)\n", anon, other, 4 * ROUNDS);
    /* nothing crashed: no worker was replaced */
    cJSON *s = admin(d, "stats");
    assert_int_equal((int)jnum(s, "worker_restarts"), 0);
    assert_true(jnum(s, "errors") >= NMUST * ROUNDS);
    cJSON_Delete(s);
}

/* ---- admin operations ---- */

static void test_forbidden(void **state)
{
    const fdproc *d = *state;
    static const char *const ops[] = {"reload", "stats", "workers", "version"};
    raw r;
    struct stat st;
    char path[PATH_MAX];

    raw_open(&r, d->ep);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        tu_mp m;
        tu_mp_begin(&m, 3);
        tu_mp_str(&m, "v"), msgpack_pack_unsigned_int(&m.pk, 1);
        tu_mp_kv(&m, "op", ops[i]);
        tu_mp_kv(&m, "id", ops[i]);
        raw_send(&r, "", (size_t)0, m.sb.data, m.sb.size, NULL);
        msgpack_sbuffer_destroy(&m.sb);
        cJSON *j = raw_recv(&r, REPLY_TIMEOUT_MS);
        assert_non_null(j);
        assert_string_equal(jstr(j, "id"), ops[i]);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        assert_non_null(e);
        assert_string_equal(jstr(e, "code"), "forbidden");
        cJSON_Delete(j);
    }
    raw_close(&r);
    /* the reload was not done: same version; the admin socket is 0600 */
    cJSON *s = admin(d, "stats");
    assert_string_equal(jstr(s, "version"), d->version);
    assert_int_equal((int)jnum(s, "reloads"), 0);
    cJSON_Delete(s);
    snprintf(path, sizeof path, "%s/admin.sock", d->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* the admin endpoint's own answers */
    cJSON *w = admin(d, "workers");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(w, "workers");
    assert_true(cJSON_IsArray(arr));
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    cJSON_Delete(w);
}

/* ---- reload ---- */

static void test_reload_under_load(void **state)
{
    fdproc *d = *state;
    pthread_t t[4];
    worker_arg w[4];
    atomic_int stop = 0, switched = 0;
    char newversion[128] = "", path[PATH_MAX];

    memset(w, 0, sizeof w);
    for (int i = 0; i < 4; i++) {
        w[i].d = d, w[i].seed = 200 + i, w[i].stop = &stop, w[i].switched = &switched;
        w[i].newversion = newversion, w[i].newtext = "a zqbrandnewx here";
        assert_int_equal(pthread_create(&t[i], NULL, load_thread, &w[i]), 0);
    }
    /* wait until load runs: every client has answers */
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS)) {
        int all = 1;
        for (int i = 0; i < 4; i++)
            all &= w[i].done > 50;
        if (all)
            break;
    }
    snprintf(path, sizeof path, "%s/other.txt", d->lists);
    assert_int_equal(write_file(path, "# test list\n# term on line 3\nzqotherx\nzqbrandnewx\n"), 0);
    cJSON *j = admin(d, "reload");
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
    if (!cJSON_IsTrue(ok)) {
        char *s = cJSON_Print(j);
        atomic_store(&stop, 1);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        fail_msg("reload refused: %s", s);
    }
    snprintf(newversion, sizeof newversion, "%s", jstr(j, "version"));
    assert_string_equal(jstr(j, "previous"), d->version);
    cJSON_Delete(j);
    assert_string_not_equal(newversion, d->version);
    atomic_store(&switched, 1);
    /* keep the load on until each client had answers sent after the switch */
    long base[4];
    for (int i = 0; i < 4; i++)
        base[i] = w[i].done;
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS)) {
        int all = 1;
        for (int i = 0; i < 4; i++)
            all &= w[i].done > base[i] + 200;
        if (all)
            break;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    expect_clean(w, 4, 0);
    for (int i = 0; i < 4; i++)
        assert_true(w[i].after > 0);
    /* the workers all run the new version; stats count one reload */
    cJSON *s = admin(d, "stats");
    assert_string_equal(jstr(s, "version"), newversion);
    assert_int_equal((int)jnum(s, "reloads"), 1);
    cJSON_Delete(s);
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS;; sleep_ms(POLL_STEP_MS)) {
        cJSON *wk = admin(d, "workers"), *x;
        int n = 0, old = 0;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(wk, "workers")) {
            n++;
            old += jstr(x, "version") && strcmp(jstr(x, "version"), newversion) != 0;
        }
        cJSON_Delete(wk);
        if (n == 2 && !old)
            break;
        if (now_ms() > end)
            fail_msg("workers after reload: %d, %d on the old version", n, old);
    }
    snprintf(d->version, sizeof d->version, "%s", newversion);
}

static void test_reload_broken(void **state)
{
    fdproc *d = *state;
    char path[PATH_MAX], err[256], cmd[PATH_MAX * 2];
    fc_result r;

    snprintf(path, sizeof path, "%s/porn.txt", d->lists);
    assert_int_equal(write_file(path, "zqpornx\n[nosuchoption] zqbrokenx\n"), 0);
    cJSON *j = admin(d, "reload");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    assert_string_equal(jstr(j, "version"), d->version);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_non_null(e);
    assert_string_equal(jstr(e, "code"), "reload_failed");
    const cJSON *x;
    int found = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "errors"))
        found |= cJSON_IsString(x) && strstr(x->valuestring, "porn.txt:2:") != NULL;
    if (!found) {
        char *s = cJSON_Print(j);
        fail_msg("no porn.txt:2: in %s", s);
    }
    cJSON_Delete(j);

    /* the old version keeps serving */
    fc_client *c = client(d, 1);
    check_label(c, d, FE_L_PORN);
    assert_int_equal(fc_check(c, "zqbrokenx", 9, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_ALLOW);
    fc_result_free(&r);

    /* the CLI says the same, and exits 1 */
    if (filterctl_bin) {
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/reload.out", d->dir);
        snprintf(cmd, sizeof cmd, "%s reload --admin %s > %s 2>&1", filterctl_bin, d->admin, out);
        int st = system(cmd);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        char *s = read_file(out);
        assert_non_null(s);
        assert_non_null(strstr(s, "porn.txt:2:"));
        free(s);
    }
    cJSON *s = admin(d, "stats");
    assert_int_equal((int)jnum(s, "reload_failures"), 1 + (filterctl_bin != NULL));
    assert_string_equal(jstr(s, "version"), d->version);
    cJSON_Delete(s);

    /* fixed, the reload goes through, and SIGHUP reloads too */
    assert_int_equal(write_file(path, "zqpornx\nzqbrokenx\n"), 0);
    j = admin(d, "reload");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    cJSON_Delete(j);
    assert_int_equal(fc_check(c, "zqbrokenx", 9, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_BLOCK);
    fc_result_free(&r);
    fc_close(c);
}

static void test_sighup(void **state)
{
    fdproc *d = *state;
    char path[PATH_MAX], err[256];
    fc_result r;
    fc_client *c = client(d, 1);

    snprintf(path, sizeof path, "%s/ad.txt", d->lists);
    assert_int_equal(write_file(path, "zqadx\nzqhupx\n"), 0);
    kill(d->pid, SIGHUP);
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS;; sleep_ms(POLL_STEP_MS)) {
        assert_int_equal(fc_check(c, "zqhupx", 6, NULL, 0, &r, err, sizeof err), 0);
        int done = r.decision == FC_FLAG;
        if (done)
            assert_string_not_equal(r.version, d->version);
        fc_result_free(&r);
        if (done)
            break;
        if (now_ms() > end)
            fail_msg("SIGHUP: the new lists never served");
    }
    fc_close(c);
}

/* ---- supervision ---- */

static int worker_pids(const fdproc *d, int *pids, int max)
{
    cJSON *w = admin(d, "workers"), *x;
    int n = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(w, "workers"))
        if (n < max)
            pids[n++] = (int)jnum(x, "pid");
    cJSON_Delete(w);
    return n;
}

static void test_worker_kill(void **state)
{
    const fdproc *d = *state;
    pthread_t t[4];
    worker_arg w[4];
    atomic_int stop = 0;
    int pids[8], n, killed;

    memset(w, 0, sizeof w);
    assert_int_equal(worker_pids(d, pids, 8), 2);
    for (int i = 0; i < 4; i++) {
        w[i].d = d, w[i].seed = 300 + i, w[i].stop = &stop;
        assert_int_equal(pthread_create(&t[i], NULL, load_thread, &w[i]), 0);
    }
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS)) {
        int all = 1;
        for (int i = 0; i < 4; i++)
            all &= w[i].done > 100;
        if (all)
            break;
    }
    killed = pids[0];
    assert_int_equal(kill(killed, SIGKILL), 0);
    /* replaced: two workers again, the killed one gone */
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS;; sleep_ms(POLL_STEP_MS)) {
        n = worker_pids(d, pids, 8);
        int gone = 1;
        for (int i = 0; i < n; i++)
            gone &= pids[i] != killed;
        if (n == 2 && gone)
            break;
        if (now_ms() > end)
            fail_msg("worker %d not replaced (%d workers)", killed, n);
    }
    /* and a second kill while loaded */
    assert_int_equal(kill(pids[1], SIGKILL), 0);
    long base = w[0].done;
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS))
        if (w[0].done > base + 200)
            break;
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    /* the request a dying worker held: retried or the fallback, never lost */
    expect_clean(w, 4, 1);
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS;; sleep_ms(POLL_STEP_MS)) {
        cJSON *s = admin(d, "stats");
        double restarts = jnum(s, "worker_restarts");
        cJSON_Delete(s);
        if (restarts >= 2)
            break;
        if (now_ms() > end)
            fail_msg("stats: worker_restarts %g, want 2", restarts);
    }
}

/* ---- the budget ---- */

static void test_deadline(void **state)
{
    const fdproc *d = *state;
    char err[256];
    int pid;
    fc_result r;
    fc_client *c = client(d, 1);

    /* healthy first */
    assert_int_equal(fc_check(c, "zqadx", 5, NULL, 50, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_FLAG);
    assert_null(r.degraded);
    fc_result_free(&r);

    assert_int_equal(worker_pids(d, &pid, 1), 1);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    /* the only worker cannot answer: the fallback (on-deadline block) */
    assert_int_equal(fc_check(c, "all fine", 8, NULL, 50, &r, err, sizeof err), 0);
    int dec = r.decision;
    char deg[32];
    snprintf(deg, sizeof deg, "%s", r.degraded ? r.degraded : "(nil)");
    fc_result_free(&r);

    /* the queue is bounded (queue-max 2): past it, requests are shed */
    uint64_t ids[6];
    int overload = 0, deadline = 0;
    for (int i = 0; i < 6; i++)
        assert_int_equal(fc_send(c, "all fine", 8, NULL, 2000, 0, &ids[i], err, sizeof err), 0);
    for (int i = 0; i < 6; i++) {
        uint64_t id;
        assert_int_equal(fc_recv(c, REPLY_TIMEOUT_MS * 2, &id, &r, err, sizeof err), 0);
        assert_non_null(r.degraded);
        overload += !strcmp(r.degraded, "overload");
        deadline += !strcmp(r.degraded, "deadline");
        assert_int_equal(r.decision, FC_BLOCK);
        fc_result_free(&r);
    }
    kill(pid, SIGCONT);
    assert_int_equal(dec, FC_BLOCK);
    assert_string_equal(deg, "deadline");
    assert_true(overload >= 1);
    assert_int_equal(overload + deadline, 6);

    /* the worker goes on; its late answers are dropped, new ones are fresh */
    assert_int_equal(fc_check(c, "zqpornx", 7, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_BLOCK);
    assert_null(r.degraded);
    fc_result_free(&r);
    fc_close(c);
    cJSON *s = admin(d, "stats");
    assert_true(jnum(s, "deadline") >= 1);
    assert_true(jnum(s, "overload") >= 1);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(s, "dropped")));
    assert_true(jnum(s, "dropped") == 0);   /* every degraded reply reached its client */
    cJSON_Delete(s);
}

/* SIGTERM while a request is held by the (stopped) only worker: it is still
 * answered, and the daemon exits 0 (checked by the teardown). */
static void test_sigterm_drains(void **state)
{
    fdproc *d = *state;
    char err[256];
    int pid;
    uint64_t id, got;
    fc_result r;
    fc_client *c = client(d, 1);

    assert_int_equal(worker_pids(d, &pid, 1), 1);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    assert_int_equal(fc_send(c, "zqpornx", 7, NULL, 10000, 0, &id, err, sizeof err), 0);
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS;; sleep_ms(POLL_STEP_MS)) {
        cJSON *w = admin(d, "workers"), *x;
        int held = 0;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(w, "workers"))
            held |= jstr(x, "state") && strcmp(jstr(x, "state"), "idle") != 0;
        cJSON_Delete(w);
        if (held)
            break;   /* the worker holds it (it is no longer idle) */
        if (now_ms() > end) {
            kill(pid, SIGCONT);
            fail_msg("the request never reached the broker");
        }
    }
    assert_int_equal(kill(d->pid, SIGTERM), 0);
    assert_int_equal(kill(pid, SIGCONT), 0);
    assert_int_equal(fc_recv(c, REPLY_TIMEOUT_MS * 2, &got, &r, err, sizeof err), 0);
    assert_true(got == id);
    assert_null(r.error);
    if (r.degraded && !strcmp(r.degraded, "unavailable")) {
        reaped(d);
        show_log(d);
        fail_msg("the request held at SIGTERM was lost (no reply in %d ms)", REPLY_TIMEOUT_MS);
    }
    if (r.degraded)   /* answered by the fallback is fine; lost is not */
        assert_string_equal(r.degraded, "deadline");
    else
        assert_int_equal(r.decision, FC_BLOCK);
    fc_result_free(&r);
    fc_close(c);
}

/* The client's own fallback: nobody listens at the first endpoint, the second answers. */
static void test_lazy_pirate(void **state)
{
    const fdproc *d = *state;
    char err[256], dead[PATH_MAX];
    fc_result r;

    snprintf(dead, sizeof dead, "ipc://%s/nobody.sock", d->dir);
    const char *eps[2] = {dead, d->ep};
    fc_options o = {.timeout_ms = 5000, .try_ms = 200, .retries = 3};
    fc_client *c = fc_connect(eps, 2, &o, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(fc_check(c, "zqpornx", 7, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_BLOCK);
    assert_null(r.degraded);
    assert_int_equal(r.tries, 2);
    fc_result_free(&r);
    fc_close(c);

    /* none answers: the configured fallback, degraded "unavailable" */
    const char *none[1] = {dead};
    fc_options o2 = {.timeout_ms = 1000, .try_ms = 100, .retries = 2, .fallback = FC_ALLOW,
                     .has_fallback = 1};
    c = fc_connect(none, 1, &o2, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(fc_check(c, "zqpornx", 7, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_ALLOW);
    assert_string_equal(r.degraded, "unavailable");
    fc_result_free(&r);
    assert_int_equal(fc_ping(c, NULL, 0, err, sizeof err), -1);
    fc_close(c);
}

/* ---- filterctl ---- */

static char *run(const char *cmd, int *status)
{
    char out[PATH_MAX + 64];
    snprintf(out, sizeof out, "/tmp/fdit-cli.%d.out", (int)getpid());
    char *full = malloc(strlen(cmd) + sizeof out + 16);
    sprintf(full, "%s > %s", cmd, out);
    *status = system(full);
    free(full);
    char *s = read_file(out);
    unlink(out);
    return s;
}

static void test_cli(void **state)
{
    const fdproc *d = *state;
    char cmd[PATH_MAX * 4], in[PATH_MAX];
    int st;

    if (!filterctl_bin)
        skip();
    snprintf(cmd, sizeof cmd, "%s ping --endpoint %s", filterctl_bin, d->ep);
    char *s = run(cmd, &st);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(s, d->version));
    free(s);

    snprintf(cmd, sizeof cmd, "%s check --endpoint %s --scene forum 'say zqpornx'",
             filterctl_bin, d->ep);
    s = run(cmd, &st);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cJSON *j = cJSON_Parse(s);
    free(s);
    assert_non_null(j);
    assert_string_equal(jstr(j, "decision"), "block");
    assert_int_equal((int)jnum(j, "label"), 20002);
    cJSON_Delete(j);

    /* check --jsonl prints what scan prints (the version string aside) */
    snprintf(in, sizeof in, "%s/in.jsonl", d->dir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    for (int l = -1; l < FE_NLABELS; l++) {
        char t[128];
        text_of(l < 0 ? 0 : l, t, sizeof t);
        fprintf(f, "{\"id\": %d, \"text\": \"%s\"%s}\n", l, l < 0 ? "plain" : t,
                l == FE_L_AD ? ", \"scene\": \"chat\"" : "");
    }
    fprintf(f, "{\"id\": \"nul\", \"text\": \"zq\\u0000pornx\"}\n");
    fprintf(f, "not json\n{\"id\": \"s\", \"text\": 5}\n{\"text\": \"no id zqcultx\"}\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s check --jsonl --window 3 --endpoint %s < %s | "
             "sed 's/\"version\":\"[^\"]*\"//'", filterctl_bin, d->ep, in);
    char *online = run(cmd, &st);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    snprintf(cmd, sizeof cmd, "%s scan --lists %s < %s | sed 's/\"version\":\"[^\"]*\"//'",
             filterctl_bin, d->lists, in);
    char *offline = run(cmd, &st);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(online);
    assert_non_null(offline);
    if (strcmp(online, offline))
        fail_msg("check --jsonl and scan differ:\n%s\n----\n%s", online, offline);
    free(online), free(offline);

    snprintf(cmd, sizeof cmd, "%s stats --admin %s", filterctl_bin, d->admin);
    s = run(cmd, &st);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    j = cJSON_Parse(s);
    free(s);
    assert_non_null(j);
    assert_string_equal(jstr(j, "version"), d->version);
    assert_true(jnum(j, "requests") >= 3);
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(j, "latency_us");
    assert_true(cJSON_IsObject(lat));
    assert_true(jnum(lat, "p99") >= 0);
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(j, "decisions");
    assert_true(jnum(dec, "block") >= 1);
    cJSON_Delete(j);

    snprintf(cmd, sizeof cmd, "%s reload --admin %s", filterctl_bin, d->admin);
    s = run(cmd, &st);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(s, d->version));   /* unchanged lists: the same version */
    free(s);

    snprintf(cmd, sizeof cmd, "%s ping --timeout 300 --endpoint ipc://%s/none.sock 2>/dev/null",
             filterctl_bin, d->dir);
    s = run(cmd, &st);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    free(s);
}

/* ---- hardening (issue 12) ---- */

/* How many times key= starts a field of the log line, outside quoted values. */
static int fields_named(const char *line, const char *key)
{
    int n = 0, quoted = 0;
    size_t kl = strlen(key);
    for (const char *p = line; *p && *p != '\n'; p++) {
        if (quoted && *p == '\\' && p[1])
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (!quoted && (p == line || p[-1] == ' ') && !strncmp(p, key, kl))
            n++;
    }
    return n;
}

/* Issue 12: an op like 'x" event=forged' reached the log unescaped, so a
 * client could add fields of its own to a line. */
static void test_log_injection(void **state)
{
    const fdproc *d = *state;
    raw r;
    tu_mp m;
    raw_open(&r, d->ep);
    tu_mp_begin(&m, 3);
    tu_mp_kv(&m, "id", "inj\" event=forged_id");
    tu_mp_kv(&m, "op", "x\" event=forged level=e");
    tu_mp_kv(&m, "text", "zqadx");
    mp_send(&r, &m);
    cJSON *j = raw_recv(&r, REPLY_TIMEOUT_MS);
    assert_non_null(j);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_non_null(e);
    assert_string_equal(jstr(e, "code"), "unknown_op");
    cJSON_Delete(j);
    raw_close(&r);
    char *log = NULL, *line = NULL;
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; !line && now_ms() < end;
         sleep_ms(POLL_STEP_MS)) {
        free(log);
        log = read_file(d->log);
        line = log ? strstr(log, "event=bad_request") : NULL;
    }
    assert_non_null(line);
    while (line > log && line[-1] != '\n')
        line--;
    if (fields_named(line, "event=") != 1 || fields_named(line, "level=") != 1 ||
        !strstr(line, "forged"))
        fail_msg("a client's value escaped its quotes: %.*s", (int)strcspn(line, "\n"), line);
    free(log);
}

/* Paths for the run-dir case: a root-only file, and the run dir. */
static char secret_dir[64], secret[96], planted_run[64];

/* Run fn(arg) as the user nobody in a child; its exit status (0: fn gave 0). */
static int as_nobody(int (*fn)(void *), void *arg)
{
    struct passwd *pw = getpwnam("nobody");
    pid_t pid;
    int status;
    if (!pw || (pid = fork()) < 0)
        return -1;
    if (pid == 0)
        _exit(setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0
                  ? 2 : fn(arg));
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* As nobody: symlinks to the secret where root writes its pid and ready
 * files. 0 when both were planted. */
static int plant(void *arg)
{
    const char *dir = arg;
    const char *names[] = {"filterd.pid", "filterd.ready"};
    int planted = 0;
    for (int i = 0; i < 2; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
        planted += symlink(secret, path) == 0;
    }
    return planted == 2 ? 0 : 1;
}

/* The run dir as an older filterd left it (owned by nobody) with nobody's
 * symlinks in it; filterd starts as root, dropping to nobody. */
static int setup_planted_run_dir(void **state)
{
    struct passwd *pw = getpwnam("nobody");
    char extra[256];
    if (geteuid() != 0 || !pw) {
        print_message("run-dir case skipped: needs root and the user nobody\n");
        return setup(state, "workers 1\n", 0);
    }
    snprintf(secret_dir, sizeof secret_dir, "/tmp/fdsecret.XXXXXX");
    snprintf(planted_run, sizeof planted_run, "/tmp/fdrun.XXXXXX");
    if (!mkdtemp(secret_dir) || !mkdtemp(planted_run))
        return -1;
    snprintf(secret, sizeof secret, "%s/secret", secret_dir);
    if (write_file(secret, "root only\n") < 0 || chmod(secret, 0600) < 0 ||
        chown(planted_run, pw->pw_uid, pw->pw_gid) < 0 || chmod(planted_run, 0755) < 0 ||
        as_nobody(plant, planted_run) != 0)
        return -1;
    snprintf(extra, sizeof extra, "workers 1\nuser nobody\nrun-dir %s\n", planted_run);
    return setup(state, extra, 0);
}

static int teardown_planted_run_dir(void **state)
{
    int rc = teardown(state);
    rm_tree(planted_run);
    rm_tree(secret_dir);
    planted_run[0] = secret_dir[0] = '\0';
    return rc;
}

/* Issue 12: root followed a symlink that the unprivileged user planted in
 * the run dir (which it owned) and overwrote a root-only file. */
static void test_run_dir_symlinks(void **state)
{
    const fdproc *d = *state;
    struct stat st;
    char path[128];
    if (!planted_run[0])
        skip();
    char *text = read_file(secret);
    assert_non_null(text);
    assert_string_equal(text, "root only\n");          /* untouched */
    free(text);
    assert_int_equal(lstat(planted_run, &st), 0);        /* root's own now */
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    snprintf(path, sizeof path, "%s/filterd.pid", planted_run);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));                    /* a file, not the symlink */
    text = read_file(path);
    assert_non_null(text);
    assert_int_equal(atol(text), d->pid);
    free(text);
    snprintf(path, sizeof path, "%s/filterd.ready", planted_run);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode) && st.st_uid == 0);
    assert_int_not_equal(as_nobody(plant, planted_run), 0);   /* nobody can plant no more */
    fc_client *c = client(d, 0);                         /* and the workers (nobody) serve */
    fc_result res;
    char err[256];
    assert_int_equal(fc_check(c, "zqadx", 5, "comment", 0, &res, err, sizeof err), 0);
    assert_int_equal(res.decision, FC_FLAG);
    fc_result_free(&res);
    fc_close(c);
}

/* A run dir that other users can write (run-dir /tmp, say) is refused at
 * start, and left as it was: before, root chowned it to the unprivileged
 * user (and would now have made it 0755). */
static void test_shared_run_dir_refused(void **state)
{
    char dir[] = "/tmp/fdshared.XXXXXX", conf[128], cmd[512], text[512];
    struct stat st;
    int status;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 01777), 0);
    snprintf(conf, sizeof conf, "%s/filterd.conf", dir);
    snprintf(text, sizeof text, "lists %s/none\nrun-dir %s\nlisten ipc://%s/req.sock\n",
             dir, dir, dir);
    assert_int_equal(write_file(conf, text), 0);
    snprintf(text, sizeof text, "%s/none", dir);
    assert_int_equal(mkdir(text, 0755), 0);
    snprintf(text, sizeof text, "%s/none/ad.txt", dir);
    assert_int_equal(write_file(text, "zqadx\n"), 0);
    snprintf(cmd, sizeof cmd, "{ timeout 60 %s --config %s 2>&1; }", filterd_bin, conf);
    char *out = run(cmd, &status);
    assert_non_null(out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
        !strstr(out, "can be written by other users"))
        fail_msg("filterd on a shared run dir: status 0x%x, output: %s", status, out);
    free(out);
    assert_int_equal(lstat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 01777);
    assert_int_equal(st.st_uid, geteuid());
    rm_tree(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s path/to/filterd [path/to/filterctl]\n", argv[0]);
        return 2;
    }
    static char dbin[PATH_MAX], cbin[PATH_MAX];
    if (!realpath(argv[1], dbin)) {
        perror(argv[1]);
        return 2;
    }
    filterd_bin = dbin;
    if (argc > 2 && realpath(argv[2], cbin))
        filterctl_bin = cbin;
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(WATCHDOG_S);
    atexit(kill_all);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decisions, setup_tcp_policy, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_reload_under_load, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_reload_broken, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_sighup, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_worker_kill, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup_one_worker, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_drains, setup_one_worker, teardown),
        cmocka_unit_test_setup_teardown(test_lazy_pirate, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_cli, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_log_injection, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_run_dir_symlinks, setup_planted_run_dir,
                                        teardown_planted_run_dir),
        cmocka_unit_test(test_shared_run_dir_refused),
    };
    if (getenv("INTEG_FILTER"))   /* e.g. INTEG_FILTER='test_reload*' */
        cmocka_set_test_filter(getenv("INTEG_FILTER"));
    return cmocka_run_group_tests_name("filterd integration", tests, NULL, NULL);
}
