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
 * bulk checks mixing good and bad items; a worker dying while it holds texts
 * of several requests; a deadline passing inside a bulk check; bulk checks
 * through a reload; workers serving after dropping privileges (as root);
 * filterctl check/--jsonl (same lines as scan)/ping/stats/reload; the
 * notify protocol (a socket of ours as $NOTIFY_SOCKET: READY, RELOADING,
 * READY after a failed and a good reload, STOPPING, WATCHDOG; filterd.ready
 * following the version); filterctl reload's report (old -> new, entries per
 * label; every error and "still serving"); filterctl finding the daemon from
 * the configuration and failing at once when none listens; admin-group; a
 * client's quotes cannot forge log fields; symlinks the unprivileged user
 * planted in the run dir are never followed by root. */
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
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dirent.h>
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
static rlim_t daemon_nofile;    /* when set: RLIMIT_NOFILE (soft and hard) of the next daemon */

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
        struct rlimit rl = {daemon_nofile, daemon_nofile};
        if (daemon_nofile && setrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(127);
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
 * is neither replaced nor detected while the test needs it stopped. It
 * holds one text at a time, so that the queue fills behind it. */
static int setup_one_worker(void **state)
{
    return setup(state, "workers 1\nheartbeat-ms 60000\nheartbeat-liveness 100\n"
                        "on-deadline block\nqueue-max 2\nworker-window 1\n", 0);
}

/* Started as root, the broker and workers drop to nobody (skipped otherwise). */
static int setup_nobody(void **state)
{
    return setup(state, "workers 2\nuser nobody\n", 0);
}

/* Two such workers, each holding up to 8 texts; bulk checks of up to 6. */
static int setup_two_slow_hb(void **state)
{
    return setup(state, "workers 2\nheartbeat-ms 60000\nheartbeat-liveness 100\n"
                        "worker-window 8\nmax-items 6\npolicy chat ad allow\n", 0);
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


/* The next reply on r is an error with this code. */
static void expect_error(raw *r, const char *code)
{
    cJSON *j = raw_recv(r, REPLY_TIMEOUT_MS);
    assert_non_null(j);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_non_null(e);
    assert_string_equal(jstr(e, "code"), code);
    cJSON_Delete(j);
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

/* ---- bulk checks and the batched path ---- */

/* {id, items: [...]} with the REQ envelope; items written by fn. */
static cJSON *bulk_raw(const fdproc *d, const char *id, uint32_t n,
                       void (*fn)(tu_mp *m, uint32_t i))
{
    raw r;
    tu_mp m;
    raw_open(&r, d->ep);
    tu_mp_begin(&m, 3);
    tu_mp_kv(&m, "id", id);
    tu_mp_kv(&m, "scene", "forum");
    tu_mp_str(&m, "items");
    msgpack_pack_array(&m.pk, n);
    for (uint32_t i = 0; i < n; i++)
        fn(&m, i);
    mp_send(&r, &m);
    cJSON *j = raw_recv(&r, REPLY_TIMEOUT_MS);
    raw_close(&r);
    return j;
}

/* Good and bad items, mixed: 0 porn, 1 no text, 2 allowed (own id), 3 too
 * large, 4 not a map, 5 ad in the chat scene (allowed there). */
static void mixed_item(tu_mp *m, uint32_t i)
{
    char big[MAX_TEXT + 10];
    switch (i) {
    case 0: msgpack_pack_map(&m->pk, 1), tu_mp_kv(m, "text", "zqpornx"); break;
    case 1: msgpack_pack_map(&m->pk, 1), tu_mp_kv(m, "id", "no-text"); break;
    case 2: msgpack_pack_map(&m->pk, 2), tu_mp_kv(m, "id", "fine"), tu_mp_kv(m, "text", "ok");
            break;
    case 3:
        memset(big, 'z', sizeof big);
        msgpack_pack_map(&m->pk, 1), tu_mp_str(m, "text");
        msgpack_pack_str_with_body(&m->pk, big, sizeof big);
        break;
    case 4: msgpack_pack_true(&m->pk); break;
    default: msgpack_pack_map(&m->pk, 2), tu_mp_kv(m, "text", "zqadx"), tu_mp_kv(m, "scene", "chat");
    }
}

static void plain_item(tu_mp *m, uint32_t i)
{
    (void)i;
    msgpack_pack_map(&m->pk, 1);
    tu_mp_kv(m, "text", "zqadx");
}

static const char *item_error(const cJSON *res, int i)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(res, i), "error");
    return e ? jstr(e, "code") : NULL;
}

static void test_bulk(void **state)
{
    const fdproc *d = *state;
    cJSON *j = bulk_raw(d, "mix", 6, mixed_item);
    assert_non_null(j);
    assert_string_equal(jstr(j, "id"), "mix");
    assert_true(jnum(j, "elapsed_us") >= 0);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "results");
    assert_int_equal(cJSON_GetArraySize(res), 6);
    const cJSON *r0 = cJSON_GetArrayItem(res, 0), *r2 = cJSON_GetArrayItem(res, 2);
    assert_string_equal(jstr(r0, "decision"), "block");
    assert_string_equal(jstr(r0, "version"), d->version);
    assert_null(cJSON_GetObjectItemCaseSensitive(r0, "id"));
    assert_null(cJSON_GetObjectItemCaseSensitive(r0, "elapsed_us"));
    assert_string_equal(item_error(res, 1), "bad_request");
    assert_string_equal(jstr(cJSON_GetArrayItem(res, 1), "id"), "no-text");
    assert_string_equal(jstr(r2, "decision"), "allow");
    assert_string_equal(jstr(r2, "id"), "fine");
    assert_string_equal(item_error(res, 3), "too_large");
    assert_string_equal(item_error(res, 4), "bad_request");
    assert_string_equal(jstr(cJSON_GetArrayItem(res, 5), "decision"), "allow");  /* chat: ad allowed */
    cJSON_Delete(j);

    /* over max-items: one error for the request */
    j = bulk_raw(d, "many", 7, plain_item);
    assert_non_null(j);
    assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(j, "error"), "code"), "too_large");
    assert_string_equal(jstr(j, "id"), "many");
    cJSON_Delete(j);
    /* no items: no results */
    j = bulk_raw(d, "none", 0, plain_item);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "results")), 0);
    cJSON_Delete(j);

    /* the client library's bulk check, and the counters */
    fc_client *c = client(d, 1);
    fc_query q[40];
    fc_result out[40];
    char texts[40][80], err[256];
    for (int i = 0; i < 40; i++) {
        text_of(i % FE_NLABELS, texts[i], sizeof texts[i]);
        q[i] = (fc_query){texts[i], strlen(texts[i]), "forum", 0};
    }
    assert_int_equal(fc_check_many(c, q, 40, 5, out, err, sizeof err), 0);   /* bulks of 5 */
    for (int i = 0; i < 40; i++) {
        assert_null(out[i].error);
        assert_int_equal(out[i].decision, expected(i % FE_NLABELS));
        assert_string_equal(out[i].labels[0], fe_label_name(i % FE_NLABELS));
        fc_result_free(&out[i]);
    }
    fc_close(c);
    cJSON *st = admin(d, "stats");
    assert_int_equal((int)jnum(st, "bulk"), 2 + 40 / 5);   /* "many" was refused whole */
    assert_int_equal((int)jnum(st, "queue"), 0);
    assert_int_equal((int)jnum(st, "held"), 0);
    cJSON_Delete(st);
}

/* The texts worker pid holds, once it holds at least n (waiting for that). */
static int holds(const fdproc *d, int pid, int n)
{
    int held = 0;
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; held < n && now_ms() < end;
         sleep_ms(POLL_STEP_MS)) {
        cJSON *w = admin(d, "workers"), *x;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(w, "workers"))
            if ((int)jnum(x, "pid") == pid)
                held = (int)jnum(x, "held");
        cJSON_Delete(w);
    }
    return held;
}

/* Stop the first of the two workers (pids), and make n queries of texts of
 * each label in turn, budget_ms each. */
static void stop_one_of_two(const fdproc *d, int *pids, char (*texts)[80], fc_query *q, int n,
                            int budget_ms)
{
    assert_int_equal(worker_pids(d, pids, 2), 2);
    assert_int_equal(kill(pids[0], SIGSTOP), 0);
    for (int i = 0; i < n; i++) {
        text_of(i % FE_NLABELS, texts[i], sizeof texts[i]);
        q[i] = (fc_query){texts[i], strlen(texts[i]), NULL, budget_ms};
    }
}

/* A worker dies holding several texts (of single and bulk checks): every
 * one is retried on the other worker and answered, none lost or degraded.
 * Both are stopped while the texts are shared out, so that the one killed
 * holds several. */
static void test_worker_dies_holding_many(void **state)
{
    const fdproc *d = *state;
    char err[256], texts[12][80];
    int pids[2];
    uint64_t id[6];
    fc_query q[12];
    fc_result r[12];
    size_t n;
    fc_client *c = client(d, 1);

    stop_one_of_two(d, pids, texts, q, 12, 10000);
    /* the other too: a worker that answers would take every text that comes
     * while the stopped one is silent (dispatch.c); with both silent the
     * texts are shared out, least loaded first */
    assert_int_equal(kill(pids[1], SIGSTOP), 0);
    /* 6 requests: 3 single checks and 3 bulk checks of 3 texts */
    for (int k = 0; k < 6; k++)
        assert_int_equal(k % 2 ? fc_send_many(c, &q[k / 2 * 3], 3, 0, &id[k], err, sizeof err)
                               : fc_send(c, texts[k], strlen(texts[k]), NULL, 10000, 0, &id[k],
                                         err, sizeof err), 0);
    int held = holds(d, pids[0], 3);   /* at least one text of each bulk check */
    kill(pids[0], SIGKILL);
    kill(pids[0], SIGCONT);
    kill(pids[1], SIGCONT);
    if (held < 3)
        fail_msg("the stopped worker holds %d texts, want at least 3", held);
    int answered = 0;
    for (int k = 0; k < 6; k++) {
        uint64_t got;
        assert_int_equal(fc_recv_many(c, REPLY_TIMEOUT_MS * 2, &got, r, 12, &n, err, sizeof err), 0);
        int which = -1;
        for (int x = 0; x < 6; x++)
            which = id[x] == got ? x : which;
        assert_true(which >= 0);
        assert_int_equal(n, which % 2 ? 3 : 1);
        for (size_t i = 0; i < n; i++) {
            int label = which % 2 ? (int)((which / 2 * 3 + i) % FE_NLABELS) : which % FE_NLABELS;
            assert_null(r[i].error);
            if (r[i].degraded)
                fail_msg("request %d text %zu: degraded %s", which, i, r[i].degraded);
            assert_int_equal(r[i].decision, expected(label));
            fc_result_free(&r[i]);
            answered++;
        }
    }
    assert_int_equal(answered, 12);
    fc_close(c);
    cJSON *s = admin(d, "stats");
    assert_int_equal((int)jnum(s, "deadline"), 0);
    cJSON_Delete(s);
}

/* A worker holding a text goes silent (stopped: descheduled for good): the
 * texts that come next go to the worker that answers, none waits behind the
 * silent one (dispatch.c, FD_WORKER_LATE_NS; round 8 of issue 11). Before,
 * the least loaded rule gave it every other text once the other worker held
 * as many, and those waited until their deadline. */
static void test_silent_worker_gets_no_more(void **state)
{
    const fdproc *d = *state;
    char err[256], texts[8][80];
    int pids[2];
    uint64_t first, got;
    fc_query q[8];
    fc_result r[8];
    size_t n;
    fc_client *c = client(d, 1);

    stop_one_of_two(d, pids, texts, q, 8, 1000);
    q[0].budget_ms = q[1].budget_ms = 10000;   /* these wait in the stopped worker */
    /* two texts in one round: one to each worker, so the stopped one holds one */
    assert_int_equal(fc_send_many(c, q, 2, 0, &first, err, sizeof err), 0);
    int held = holds(d, pids[0], 1);
    if (held != 1) {
        kill(pids[0], SIGCONT);
        fail_msg("the stopped worker holds %d texts, want 1", held);
    }
    sleep_ms(50);                 /* silent far longer than FD_WORKER_LATE_NS */
    fc_client *c2 = client(d, 1);   /* fc_check_many wants a client with nothing in flight */
    assert_int_equal(fc_check_many(c2, q + 2, 6, 6, r + 2, err, sizeof err), 0);
    fc_close(c2);
    held = holds(d, pids[0], 1);
    kill(pids[0], SIGCONT);
    for (int i = 2; i < 8; i++) {
        assert_null(r[i].error);
        if (r[i].degraded)
            fail_msg("text %d: degraded %s (it waited in the stopped worker)", i, r[i].degraded);
        assert_int_equal(r[i].decision, expected(i % FE_NLABELS));
        fc_result_free(&r[i]);
    }
    assert_int_equal(held, 1);
    assert_int_equal(fc_recv_many(c, REPLY_TIMEOUT_MS, &got, r, 8, &n, err, sizeof err), 0);
    assert_true(got == first && n == 2);
    for (int i = 0; i < 2; i++) {
        assert_null(r[i].degraded);
        assert_int_equal(r[i].decision, expected(i % FE_NLABELS));
        fc_result_free(&r[i]);
    }
    fc_close(c);
    cJSON *s = admin(d, "stats");
    assert_int_equal((int)jnum(s, "deadline"), 0);
    cJSON_Delete(s);
}

/* A bulk check's deadline passes while part of it is in a stopped worker:
 * the texts answered keep their answers, the rest get the fallback, in one
 * reply at the deadline; the worker's late answers are dropped. */
static void test_deadline_inside_a_batch(void **state)
{
    const fdproc *d = *state;
    char err[256], texts[6][80];
    int pids[2];
    fc_query q[6];
    fc_result r[6];
    fc_client *c = client(d, 1);

    assert_int_equal(worker_pids(d, pids, 2), 2);
    assert_int_equal(kill(pids[0], SIGSTOP), 0);
    for (int i = 0; i < 6; i++) {
        text_of(FE_L_PORN, texts[i], sizeof texts[i]);
        q[i] = (fc_query){texts[i], strlen(texts[i]), NULL, 300};
    }
    assert_int_equal(fc_check_many(c, q, 6, 6, r, err, sizeof err), 0);
    int good = 0, late = 0;
    for (int i = 0; i < 6; i++) {
        assert_null(r[i].error);
        if (r[i].degraded) {
            assert_string_equal(r[i].degraded, "deadline");
            assert_int_equal(r[i].decision, FC_FLAG);
            late++;
        } else {
            assert_int_equal(r[i].decision, FC_BLOCK);
            good++;
        }
        fc_result_free(&r[i]);
    }
    kill(pids[0], SIGCONT);
    if (!good || !late)
        fail_msg("%d answered and %d past the deadline: want some of each", good, late);
    /* the late answers come back and are dropped; the worker serves again */
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS;; sleep_ms(POLL_STEP_MS)) {
        cJSON *s = admin(d, "stats");
        int held = (int)jnum(s, "held");
        cJSON_Delete(s);
        if (!held)
            break;
        if (now_ms() > end)
            fail_msg("the stopped worker still holds %d texts", held);
    }
    assert_int_equal(fc_check_many(c, q, 6, 6, r, err, sizeof err), 0);
    for (int i = 0; i < 6; i++) {
        assert_null(r[i].degraded);
        fc_result_free(&r[i]);
    }
    fc_close(c);
    cJSON *s = admin(d, "stats");
    assert_int_equal((int)jnum(s, "deadline"), late);
    cJSON_Delete(s);
}

/* Bulk checks keep going while the lists reload: no error, no fallback, and
 * every bulk sent after the switch is answered by the new lists only. */
typedef struct bulk_arg {
    const fdproc *d;
    atomic_int *stop, *switched;
    const char *newversion;
    atomic_long batches, after;
    long bad;
    char why[256];
} bulk_arg;

static void *bulk_thread(void *p)
{
    bulk_arg *a = p;
    char err[256], texts[16][80];
    fc_query q[16];
    fc_result r[16];
    fc_client *c = client(a->d, 1);
    for (int i = 0; i < 16; i++) {
        if (i == 15)
            snprintf(texts[i], sizeof texts[i], "a zqbrandnewx here");
        else
            text_of(i % FE_NLABELS, texts[i], sizeof texts[i]);
        q[i] = (fc_query){texts[i], strlen(texts[i]), NULL, 0};
    }
    while (!atomic_load(a->stop)) {
        int after = atomic_load(a->switched);
        if (fc_check_many(c, q, 16, 16, r, err, sizeof err) < 0) {
            snprintf(a->why, sizeof a->why, "%s", err);
            a->bad++;
            break;
        }
        for (int i = 0; i < 16; i++) {
            int want = i == 15 ? (after ? FC_FLAG : -1) : expected(i % FE_NLABELS);
            if (r[i].error || r[i].degraded || (want >= 0 && r[i].decision != want) ||
                (after && strcmp(r[i].version, a->newversion))) {
                snprintf(a->why, sizeof a->why, "text %d: %s %s decision %d version %s", i,
                         r[i].error ? r[i].error : "", r[i].degraded ? r[i].degraded : "",
                         r[i].decision, r[i].version ? r[i].version : "");
                a->bad++;
            }
            fc_result_free(&r[i]);
        }
        atomic_fetch_add(&a->batches, 1);
        atomic_fetch_add(&a->after, after);
    }
    fc_close(c);
    return NULL;
}

static void test_reload_between_batches(void **state)
{
    fdproc *d = *state;
    pthread_t t[2];
    bulk_arg a[2];
    atomic_int stop = 0, switched = 0;
    char newversion[128] = "", path[PATH_MAX];

    memset(a, 0, sizeof a);
    for (int i = 0; i < 2; i++) {
        a[i] = (bulk_arg){d, &stop, &switched, newversion, 0, 0, 0, ""};
        assert_int_equal(pthread_create(&t[i], NULL, bulk_thread, &a[i]), 0);
    }
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS))
        if (atomic_load(&a[0].batches) > 20 && atomic_load(&a[1].batches) > 20)
            break;
    snprintf(path, sizeof path, "%s/other.txt", d->lists);
    assert_int_equal(write_file(path, "# test list\n# term on line 3\nzqotherx\nzqbrandnewx\n"), 0);
    cJSON *j = admin(d, "reload");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    snprintf(newversion, sizeof newversion, "%s", jstr(j, "version"));
    cJSON_Delete(j);
    atomic_store(&switched, 1);
    /* Each client must have batches that began after the switch: one
     * client's batch begun before it may still be in flight while the
     * other one runs many. */
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS))
        if (atomic_load(&a[0].after) > 20 && atomic_load(&a[1].after) > 20)
            break;
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++)
        if (a[i].bad || !a[i].after)
            fail_msg("client %d: %ld batches, %ld after the switch, %ld bad; last: %s", i,
                     atomic_load(&a[i].batches), atomic_load(&a[i].after), a[i].bad, a[i].why);
    snprintf(d->version, sizeof d->version, "%s", newversion);
}

/* ---- privilege separation ---- */

static long uid_of(int pid)
{
    char path[64], line[256];
    long uid = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4))
            uid = strtol(line + 4, NULL, 10);
    if (f)
        fclose(f);
    return uid;
}

/* The workers reach the broker's socket after dropping privileges, and serve. */
static void test_privilege_drop(void **state)
{
    const fdproc *d = *state;
    int pids[2];
    if (geteuid() != 0)
        skip();
    assert_int_equal(worker_pids(d, pids, 2), 2);
    for (int i = 0; i < 2; i++)
        assert_true(uid_of(pids[i]) > 0);
    fc_client *c = client(d, 1);
    check_label(c, d, FE_L_PORN);
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

/* Issue 16: with explain, every match of the real daemon's reply carries the
 * chain filterctl explain shows (fe_match_steps), in a single check and in
 * each item of a bulk one: a leetspeak disguise, full-width letters, and []
 * for a term matched as written. Without explain, no chain. */
static void test_explain_chain(void **state)
{
    const fdproc *d = *state;
    static const char *const texts[] = {"hello zqp0rnx world", "hello ＺＱＰＯＲＮＸ world",
                                        "hello zqpornx world"};
    static const char *const want[] = {
        "zqp0rnx -> zqpornx = zqpornx (leetspeak, masks and stretching undone)",
        "full-width/compatibility forms|case|ＺＱＰＯＲＮＸ -> zqpornx", ""};
    char err[256], got[512];
    const char *eps[1] = {d->ep};
    fc_options o = {.timeout_ms = REPLY_TIMEOUT_MS, .try_ms = REPLY_TIMEOUT_MS, .explain = 1};
    fc_client *c = fc_connect(eps, 1, &o, err, sizeof err);
    fc_query q[3];
    fc_result r[3];
    assert_non_null(c);
    for (int i = 0; i < 3; i++)
        q[i] = (fc_query){texts[i], strlen(texts[i]), NULL, 0};
    for (int bulk = 0; bulk < 2; bulk++) {
        if (bulk)
            assert_int_equal(fc_check_many(c, q, 3, 0, r, err, sizeof err), 0);
        for (int i = 0; !bulk && i < 3; i++)
            assert_int_equal(fc_check(c, texts[i], strlen(texts[i]), NULL, 0, &r[i], err,
                                      sizeof err), 0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(r[i].nmatches, 1);
            assert_int_equal(r[i].nviews, 2);
            got[0] = '\0';
            for (size_t k = 0; k < r[i].matches[0].nchain; k++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? "|" : "",
                         r[i].matches[0].chain[k]);
            assert_string_equal(got, want[i]);
            fc_result_free(&r[i]);
        }
    }
    fc_close(c);
    c = client(d, 1);
    assert_int_equal(fc_check(c, texts[1], strlen(texts[1]), NULL, 0, &r[0], err, sizeof err), 0);
    assert_int_equal(r[0].nmatches, 1);
    assert_int_equal(r[0].nviews, 0);
    assert_null(r[0].matches[0].chain);
    fc_result_free(&r[0]);
    fc_close(c);
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
    snprintf(cmd, sizeof cmd, "%s scan --config %s < %s | sed 's/\"version\":\"[^\"]*\"//'",
             filterctl_bin, d->conf, in);
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
    expect_error(&r, "unknown_op");
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

/* ---- the service manager, filterctl finding the daemon, the admin group ---- */

static void expect_has(const char *out, const char *want)
{
    if (!out || !strstr(out, want))
        fail_msg("expected '%s' in:\n%s", want, out ? out : "(nothing)");
}

/* The test's $NOTIFY_SOCKET, read all the time by a thread, as systemd reads
 * it: the messages kept in order, WATCHDOG=1 only counted. */
#define NOTIFY_KEEP 256
static struct {
    int fd;
    pthread_t thread;
    atomic_int stop, watchdogs;
    pthread_mutex_t mu;
    char msg[NOTIFY_KEEP][1024];
    int n, next;                  /* kept; handed to the test */
} nt = {.fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

static void *notify_reader(void *p)
{
    char buf[1024];
    (void)p;
    while (!atomic_load(&nt.stop)) {
        struct pollfd q = {nt.fd, POLLIN, 0};
        if (poll(&q, 1, POLL_STEP_MS * 5) <= 0)
            continue;
        ssize_t n = recv(nt.fd, buf, sizeof buf - 1, 0);
        if (n < 0)
            continue;
        buf[n] = '\0';
        if (!strcmp(buf, "WATCHDOG=1")) {
            atomic_fetch_add(&nt.watchdogs, 1);
            continue;
        }
        pthread_mutex_lock(&nt.mu);
        if (nt.n < NOTIFY_KEEP)
            memcpy(nt.msg[nt.n++], buf, (size_t)n + 1);
        pthread_mutex_unlock(&nt.mu);
    }
    return NULL;
}

/* A daemon whose $NOTIFY_SOCKET is a datagram socket of ours (an abstract
 * name, as systemd may give), with a fast watchdog asked for; read by the
 * thread, or by nobody. */
static int notify_setup(void **state, int read, const char *watchdog_usec)
{
    char name[64];
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int n = snprintf(name, sizeof name, "@fdit-notify-%d", (int)getpid());
    memcpy(a.sun_path, name, (size_t)n);
    a.sun_path[0] = '\0';
    nt.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    atomic_store(&nt.stop, 0);
    if (nt.fd < 0 || bind(nt.fd, (struct sockaddr *)&a,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0 ||
        (read && pthread_create(&nt.thread, NULL, notify_reader, NULL) != 0)) {
        perror("notify socket");
        return -1;
    }
    setenv("NOTIFY_SOCKET", name, 1);
    setenv("WATCHDOG_USEC", watchdog_usec, 1);
    int rc = setup(state, "workers 2\n", 0);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    return rc;
}

static int setup_notify(void **state) { return notify_setup(state, 1, "200000"); }
/* WATCHDOG=1 every millisecond fills any queue soon */
static int setup_notify_unread(void **state) { return notify_setup(state, 0, "2000"); }

static int teardown_notify(void **state)
{
    int rc = teardown(state);
    atomic_store(&nt.stop, 1);
    pthread_join(nt.thread, NULL);
    close(nt.fd);
    return rc;
}

static int teardown_notify_unread(void **state)
{
    int rc = teardown(state);
    close(nt.fd);
    return rc;
}

/* The next notify message that is not WATCHDOG=1, into buf; fails the test
 * when none comes within REPLY_TIMEOUT_MS. */
static const char *next_notify(char *buf, size_t size)
{
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS)) {
        pthread_mutex_lock(&nt.mu);
        int got = nt.next < nt.n;
        if (got)
            snprintf(buf, size, "%s", nt.msg[nt.next++]);
        pthread_mutex_unlock(&nt.mu);
        if (got)
            return buf;
    }
    fail_msg("no notify message within %d ms", REPLY_TIMEOUT_MS);
    return NULL;
}

static void expect_notify(const char *want1, const char *want2)
{
    char buf[2048];
    const char *m = next_notify(buf, sizeof buf);
    if (!strstr(m, want1) || (want2 && !strstr(m, want2)))
        fail_msg("notify: expected '%s'%s%s, got '%s'", want1, want2 ? " and " : "",
                 want2 ? want2 : "", m);
}

static void expect_ready_file(const fdproc *d, const char *version)
{
    char path[PATH_MAX], want[256];
    snprintf(path, sizeof path, "%s/filterd.ready", d->dir);
    snprintf(want, sizeof want, "%ld %s\n", (long)d->pid, version);
    char *s = read_file(path);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

/* READY=1, RELOADING=1 with MONOTONIC_USEC, READY=1 again after a failed and
 * after a good reload (with the version that serves in STATUS and in
 * filterd.ready), STOPPING=1, and WATCHDOG=1 meanwhile; in that order. */
static void test_notify(void **state)
{
    fdproc *d = *state;
    char path[PATH_MAX], buf[2048];
    fc_result r;
    char err[256];

    expect_notify("READY=1", d->version);
    expect_ready_file(d, d->version);

    /* a broken list, SIGHUP: the reload fails, the old version still serves, and
     * the log has every file:line: reason */
    snprintf(path, sizeof path, "%s/porn.txt", d->lists);
    assert_int_equal(write_file(path, "zqpornx\n[nosuchoption] zqbrokenx\n[re] a(b\n"), 0);
    int64_t t0 = now_ms();
    kill(d->pid, SIGHUP);
    const char *m = next_notify(buf, sizeof buf);
    int64_t t1 = now_ms();
    const char *mono = strstr(m, "MONOTONIC_USEC=");
    if (strncmp(m, "RELOADING=1\n", 12) || !mono)
        fail_msg("expected RELOADING=1 with MONOTONIC_USEC, got '%s'", m);
    long long us = atoll(mono + 15);
    assert_true(us / 1000 >= t0 - 1 && us / 1000 <= t1 + 1);  /* the same clock, in between */
    m = next_notify(buf, sizeof buf);
    if (strncmp(m, "READY=1\n", 8) || !strstr(m, "still serving") || !strstr(m, d->version))
        fail_msg("expected READY=1 still serving %s, got '%s'", d->version, m);
    expect_ready_file(d, d->version);
    char *log = read_file(d->log);
    assert_non_null(log);
    expect_has(log, "event=reload_error message=\"porn.txt:2: unknown option 'nosuchoption'\"");
    expect_has(log, "event=reload_error message=\"porn.txt:3: regex refused by Hyperscan: "
                    "Missing close parenthesis for group started at character 2 ('(').\"");
    expect_has(log, "event=reload_failed errors=2");
    free(log);

    /* fixed, and SIGHUP: the new version serves, and readiness says so */
    assert_int_equal(write_file(path, "zqpornx\nzqfixedx\n"), 0);
    kill(d->pid, SIGHUP);
    expect_notify("RELOADING=1\nMONOTONIC_USEC=", NULL);
    m = next_notify(buf, sizeof buf);
    if (strncmp(m, "READY=1\nSTATUS=serving wl-", 26) || strstr(m, d->version))
        fail_msg("expected READY=1 with a new version, got '%s'", m);
    char newversion[64];
    snprintf(newversion, sizeof newversion, "%.19s", m + 23);
    expect_ready_file(d, newversion);
    fc_client *c = client(d, 1);
    assert_int_equal(fc_check(c, "zqfixedx", 8, NULL, 0, &r, err, sizeof err), 0);
    assert_string_equal(r.version, newversion);
    fc_result_free(&r);
    fc_close(c);

    kill(d->pid, SIGTERM);
    expect_notify("STOPPING=1", NULL);
    assert_true(atomic_load(&nt.watchdogs) > 0);
}

/* A $NOTIFY_SOCKET nobody reads (its queue full of WATCHDOG=1) never blocks
 * the supervisor: reloads and the stop still work. */
static void test_notify_unread(void **state)
{
    fdproc *d = *state;
    char path[PATH_MAX], err[256];
    fc_result r;

    /* the queue holds net.unix.max_dgram_qlen datagrams: wait until it is full */
    char *q = read_file("/proc/sys/net/unix/max_dgram_qlen");
    int qlen = q ? atoi(q) : 512;
    free(q);
    sleep_ms(500 + 3 * (qlen > 0 ? qlen : 512));
    snprintf(path, sizeof path, "%s/porn.txt", d->lists);
    assert_int_equal(write_file(path, "zqpornx\nzqunreadx\n"), 0);
    cJSON *j = admin(d, "reload");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    cJSON_Delete(j);
    fc_client *c = client(d, 1);
    assert_int_equal(fc_check(c, "zqunreadx", 9, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_BLOCK);
    fc_result_free(&r);
    fc_close(c);
    char *log = read_file(d->log);
    expect_has(log, "event=notify_failed");   /* RELOADING=1: no room, dropped */
    free(log);
}

/* A shell command's output, stdout and stderr, in a string the caller frees. */
static char *run_all(int *status, const char *fmt, ...)
{
    char cmd[PATH_MAX * 4], out[64], full[PATH_MAX * 4 + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(out, sizeof out, "/tmp/fdit-cli.%d.all", (int)getpid());
    snprintf(full, sizeof full, "%s > %s 2>&1", cmd, out);
    *status = system(full);
    char *s = read_file(out);
    unlink(out);
    return s;
}

#define ctl(status, fmt, ...) run_all(status, "%s " fmt, filterctl_bin, __VA_ARGS__)

#define EXITED(st, code) (WIFEXITED(st) && WEXITSTATUS(st) == (code))

/* filterctl reload: old -> new version with the entries added and removed
 * per label; on failure every error and the version that still serves. */
static void test_cli_reload(void **state)
{
    fdproc *d = *state;
    char path[PATH_MAX], want[256];
    int st;

    if (!filterctl_bin)
        skip();
    snprintf(path, sizeof path, "%s/porn.txt", d->lists);
    assert_int_equal(write_file(path, "# test list\n# term on line 3\nzqpornx\nzqmorepornx\n"), 0);
    snprintf(path, sizeof path, "%s/ad.txt", d->lists);
    assert_int_equal(write_file(path, "# test list\n# term on line 3\nzqotheradx\n"), 0);
    char *s = ctl(&st, "reload --config %s", d->conf);
    assert_true(EXITED(st, 0));
    cJSON *v = admin(d, "version");
    char newversion[64];
    snprintf(newversion, sizeof newversion, "%s", jstr(v, "version"));
    cJSON_Delete(v);
    snprintf(want, sizeof want, "%s \u2192 %s: %d entries (+2 \u22121)\n", d->version, newversion,
             FE_NLABELS + 1);
    expect_has(s, want);
    expect_has(s, "\n  porn         +1\n");
    expect_has(s, "\n  ad           +1      \u22121\n");
    free(s);

    /* the same lists again: nothing added or removed */
    s = ctl(&st, "reload --config %s", d->conf);
    assert_true(EXITED(st, 0));
    snprintf(want, sizeof want, "%s \u2192 %s: %d entries, none added or removed (the same lists",
             newversion, newversion, FE_NLABELS + 1);
    expect_has(s, want);
    free(s);

    /* a broken list: every error, and the version that still serves */
    snprintf(path, sizeof path, "%s/porn.txt", d->lists);
    assert_int_equal(write_file(path, "zqpornx\n[nosuch] x\n[re] a(b\n"), 0);
    s = ctl(&st, "reload --config %s", d->conf);
    assert_true(EXITED(st, 1));
    expect_has(s, "porn.txt:2: unknown option 'nosuch'");
    expect_has(s, "porn.txt:3: regex refused by Hyperscan: Missing close parenthesis for group "
                  "started at character 2 ('(')");
    expect_has(s, "filterctl reload: failed with 2 errors");
    snprintf(want, sizeof want, "filterctl reload: still serving %s\n", newversion);
    expect_has(s, want);
    free(s);
}

/* filterctl finds the daemon from the configuration, and fails at once when
 * no daemon listens (a --timeout of ten minutes is never waited out: the
 * command runs under timeout(1), whose own status would show it). */
static void test_cli_discovery(void **state)
{
    fdproc *d = *state;
    char conf[PATH_MAX], body[PATH_MAX + 64], want[PATH_MAX];
    int st;

    if (!filterctl_bin)
        skip();
    /* no admin setting: ipc://<run-dir>/admin.sock, as the daemon binds it */
    snprintf(conf, sizeof conf, "%s/noadmin.conf", d->dir);
    snprintf(body, sizeof body, "run-dir %s\nlisten %s\n", d->dir, d->ep);
    assert_int_equal(write_file(conf, body), 0);
    char *s = ctl(&st, "stats --config %s", conf);
    assert_true(EXITED(st, 0));
    expect_has(s, d->version);
    free(s);
    s = ctl(&st, "ping --config %s", conf);          /* the listen endpoint, from there too */
    assert_true(EXITED(st, 0));
    expect_has(s, d->version);
    free(s);

    /* nobody there: a clear message, at once */
    snprintf(body, sizeof body, "run-dir %s/nowhere\nlisten ipc://%s/nowhere.sock\n", d->dir,
             d->dir);
    assert_int_equal(write_file(conf, body), 0);
    snprintf(want, sizeof want, "no filterd at ipc://%s/nowhere/admin.sock: no such socket",
             d->dir);
    static const char *const cmds[] = {"reload", "stats", "workers"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        s = run_all(&st, "timeout 60 %s %s --timeout 600000 --config %s", filterctl_bin,
                    cmds[i], conf);
        assert_true(EXITED(st, 1));
        expect_has(s, want);
        free(s);
    }
    s = ctl(&st, "ping --timeout 600000 --config %s", conf);
    assert_true(EXITED(st, 1));
    expect_has(s, "no filterd at ipc://");
    free(s);
    int port = free_port();
    assert_true(port > 0);
    s = ctl(&st, "reload --timeout 600000 --admin tcp://127.0.0.1:%d", port);
    assert_true(EXITED(st, 1));
    expect_has(s, "Connection refused");
    free(s);

    /* a configuration that does not load: its errors, exit 2 */
    assert_int_equal(write_file(conf, "workers lots\n"), 0);
    s = ctl(&st, "reload --config %s", conf);
    assert_true(EXITED(st, 2));
    expect_has(s, "noadmin.conf:1: workers: 'lots' is not a number");
    free(s);
}

/* admin-group: the admin socket is 0660 and the group's, so its members may
 * reload without root, and others may not (root only: it runs filterctl as
 * the 'daemon' user, with and without the group). */
static int setup_admin_group(void **state)
{
    if (geteuid() != 0)
        return setup(state, "workers 1\n", 0);
    return setup(state, "workers 1\nuser nobody\nadmin-group nogroup\n", 0);
}

static void test_admin_group(void **state)
{
    fdproc *d = *state;
    struct stat sb;
    int st;

    if (geteuid() != 0 || !filterctl_bin || access("/usr/bin/setpriv", X_OK) != 0)
        skip();
    assert_int_equal(stat(d->admin + 6, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0660);
    assert_int_equal((int)sb.st_gid, 65534);          /* nogroup */
    assert_int_equal(chmod(d->dir, 0755), 0);         /* mkdtemp made it 0700 */
    char *s = run_all(&st, "/usr/bin/setpriv --reuid=daemon --regid=daemon --clear-groups "
                           "%s stats --admin %s", filterctl_bin, d->admin);
    assert_true(EXITED(st, 1));
    expect_has(s, "permission denied");
    free(s);
    s = run_all(&st, "/usr/bin/setpriv --reuid=daemon --regid=daemon --groups=nogroup "
                     "%s reload --admin %s", filterctl_bin, d->admin);
    assert_true(EXITED(st, 0));
    expect_has(s, d->version);
    free(s);
}

/* ---- issue 12: process faults around the broker ---- */

/* The children of pid (from /proc), up to max. */
static int children_of(int pid, int *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) && n < max) {
        char path[300], buf[512];
        int ppid = 0;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = e->d_name[0] >= '1' && e->d_name[0] <= '9' ? fopen(path, "r") : NULL;
        if (!f)
            continue;
        if (fgets(buf, sizeof buf, f)) {
            char *rp = strrchr(buf, ')');   /* after the command name */
            char state;
            if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == pid && state != 'Z')
                out[n++] = atoi(e->d_name);
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

/* A process that exists and is not a zombie. */
static int alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    int live = 0;
    if (f && fgets(buf, sizeof buf, f)) {
        char *rp = strrchr(buf, ')');
        live = rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
    }
    if (f)
        fclose(f);
    return live;
}

/* The broker: the supervisor's child that is not one of the nw workers w. */
static int broker_pid(const fdproc *d, const int *w, int nw)
{
    int kids[16], n = children_of(d->pid, kids, 16);
    for (int i = 0; i < n; i++) {
        int worker = 0;
        for (int k = 0; k < nw; k++)
            worker |= kids[i] == w[k];
        if (!worker)
            return kids[i];
    }
    return -1;
}

/* Occurrences of needle in the daemon's log. */
static int log_count(const fdproc *d, const char *needle)
{
    char *s = read_file(d->log);
    int n = 0;
    for (const char *p = s; p && (p = strstr(p, needle)); p++)
        n++;
    free(s);
    return n;
}

static double stat_of(const fdproc *d, const char *key)
{
    cJSON *s = admin(d, "stats");
    double v = jnum(s, key);
    cJSON_Delete(s);
    return v;
}

/* After a test that killed the supervisor itself: whatever is left goes. */
static int teardown_killed(void **state)
{
    fdproc *d = *state;
    if (d) {
        if (!reaped(d))
            kill(d->pid, SIGKILL);
        waitpid(d->pid, &d->status, 0);
        kill(-d->pid, SIGKILL);
        track(d->pid, 0);
        rm_tree(d->dir);
        free(d);
    }
    return 0;
}

/* Issue 12 item 2: after kill -9 of a root-started supervisor, the workers
 * (running as nobody) and the broker kept running, and later served old
 * lists to the next run. They die with it now (the parent-death signal is
 * armed again after setuid). */
static void test_children_die_with_the_supervisor(void **state)
{
    fdproc *d = *state;
    int kids[16], n;
    if (geteuid() != 0)
        skip();
    n = children_of(d->pid, kids, 16);
    assert_true(n >= 3);                        /* the broker and two workers */
    for (int i = 0; i < n; i++)
        if (uid_of(kids[i]) == 0)
            fail_msg("child %d runs as root", kids[i]);
    assert_int_equal(kill(d->pid, SIGKILL), 0);
    waitpid(d->pid, &d->status, 0);
    d->exited = 1;
    for (int64_t end = now_ms() + STOP_TIMEOUT_MS;; sleep_ms(POLL_STEP_MS)) {
        int left = 0;
        for (int i = 0; i < n; i++)
            left += alive(kids[i]);
        if (!left)
            break;
        if (now_ms() > end)
            fail_msg("%d of %d children outlived the supervisor", left, n);
    }
}

/* Issue 12 item 2: a worker of another run (an orphan whose hello says
 * generation 1 like the new run's) was accepted and served its old lists.
 * Its hello now carries the run id, which the broker checks. */
static void test_worker_of_another_run_refused(void **state)
{
    const fdproc *d = *state;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    uint8_t frame[64];
    uint32_t pid = (uint32_t)getpid(), gen = 1, len;
    uint64_t run = 0x0123456789abcdefull;
    size_t vlen = strlen(d->version);
    char c;

    snprintf(a.sun_path, sizeof a.sun_path, "%s/workers.sock", d->dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_true(vlen < 32);
    len = (uint32_t)(1 + 16 + vlen);                    /* [len][H][pid][gen][run][version] */
    memcpy(frame, &len, 4);
    frame[4] = 'H';
    memcpy(frame + 5, &pid, 4);
    memcpy(frame + 9, &gen, 4);
    memcpy(frame + 13, &run, 8);
    memcpy(frame + 21, d->version, vlen);
    assert_int_equal(write(fd, frame, 21 + vlen), (ssize_t)(21 + vlen));
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, REPLY_TIMEOUT_MS), 1);
    assert_int_equal(read(fd, &c, 1), 0);             /* the broker hung up */
    close(fd);
    assert_int_equal((int)stat_of(d, "workers_refused"), 1);
    assert_int_equal((int)stat_of(d, "workers"), 2);
    assert_int_equal(log_count(d, "reason=\"a worker of another run\""), 1);
    fc_client *cl = client(d, 1);
    check_label(cl, d, FE_L_PORN);
    fc_close(cl);
}

/* Issue 12 item 5: one message of 40 frames of 16 MiB took the broker to
 * 683 MB. A message is limited in all its frames (here max-text-bytes +
 * 16 MiB + 4 KiB): refused with too_large, counted, the others served. */
static void test_message_size_limited(void **state)
{
    const fdproc *d = *state;
    size_t big = 6u << 20;                              /* 3 x 6 MiB: over 16 MiB */
    char *junk = calloc(1, big);
    raw r;
    tu_mp m;

    assert_non_null(junk);
    raw_open(&r, d->ep);
    tu_mp_begin(&m, 2);
    tu_mp_kv(&m, "op", "check");
    tu_mp_kv(&m, "text", "hello");
    raw_send(&r, "", (size_t)0, junk, big, junk, big, junk, big, NULL);
    expect_error(&r, "too_large");
    mp_send(&r, &m);                                    /* the same client, served */
    cJSON *j = raw_recv(&r, REPLY_TIMEOUT_MS);   /* (no id: UBSan saw memcpy from NULL) */
    assert_non_null(j);
    assert_string_equal(jstr(j, "decision"), "allow");
    cJSON_Delete(j);
    raw_close(&r);
    free(junk);
    assert_int_equal((int)stat_of(d, "too_large"), 1);
}

/* Issue 12 item 7: the port in use made the supervisor restart the broker
 * 500 times a second forever. Now: said once, and filterd exits 1. */
static void test_bind_failure_stops(void **state)
{
    fdproc d;
    char extra[128];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    (void)state;
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(extra, sizeof extra, "workers 2\nlisten tcp://127.0.0.1:%d\n", ntohs(a.sin_port));
    assert_int_equal(daemon_start(&d, extra, 0), -1);   /* it exits instead of serving */
    assert_true(d.exited);
    assert_true(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 1);
    assert_int_equal(log_count(&d, "event=broker_failed"), 1);
    assert_int_equal(log_count(&d, "event=start_failed"), 1);
    assert_int_equal(log_count(&d, "event=broker_exit"), 0);
    assert_true(log_count(&d, "Address already in use") >= 1);
    for (int64_t end = now_ms() + STOP_TIMEOUT_MS; kill(-d.pid, 0) == 0; sleep_ms(POLL_STEP_MS))
        if (now_ms() > end)
            fail_msg("filterd left processes behind");
    track(d.pid, 0);
    rm_tree(d.dir);
    close(fd);
}

/* Issue 12 item 1: under ulimit -n 1024, 1,100 connections made the TCP
 * listener spin and the next ipc connection abort the broker (EMFILE). Now
 * the broker counts its connections and shuts down those past
 * max-connections; the admin endpoint and new clients (once the others
 * went) are served, and stats counts the refused. */
static int setup_low_nofile(void **state)
{
    daemon_nofile = 512;
    int rc = setup(state, "workers 2\nmax-connections 20\n", 1);
    daemon_nofile = 0;
    return rc;
}

/* n DEALERs connecting to d (to its TCP endpoint, or else every other to
 * its ipc one), reconnecting after ivl ms (0: ZeroMQ's default); then wait
 * until all but max have been refused. */
static void *crowd(const fdproc *d, void **s, int n, int ivl, int tcp_only, int max)
{
    void *ctx = zmq_ctx_new();
    int zero = 0;
    assert_non_null(ctx);
    for (int i = 0; i < n; i++) {
        s[i] = zmq_socket(ctx, ZMQ_DEALER);
        assert_non_null(s[i]);
        zmq_setsockopt(s[i], ZMQ_LINGER, &zero, sizeof zero);
        if (ivl)
            zmq_setsockopt(s[i], ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
        assert_int_equal(zmq_connect(s[i], tcp_only || i % 2 ? d->tcp : d->ep), 0);
    }
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; stat_of(d, "connections_refused") < n - max;)
        if (now_ms() > end)
            fail_msg("connections_refused %g, want >= %d", stat_of(d, "connections_refused"),
                     n - max);
        else
            sleep_ms(50);
    assert_true(stat_of(d, "connections") <= max);
    return ctx;
}

/* Close what crowd() opened; the broker counts them all gone. */
static void crowd_leaves(const fdproc *d, void *ctx, void **s, int n)
{
    for (int i = 0; i < n; i++)
        zmq_close(s[i]);
    zmq_ctx_term(ctx);
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; stat_of(d, "connections") > 0;)
        if (now_ms() > end)
            fail_msg("connections %g after they all closed", stat_of(d, "connections"));
        else
            sleep_ms(50);
}

static void test_connection_limit(void **state)
{
    const fdproc *d = *state;
    enum { N = 200 };
    void *s[N], *ctx = crowd(d, s, N, 1000, 0, 20);
    int st;
    if (filterctl_bin) {                               /* the admin endpoint still answers */
        char *out = run_all(&st, "%s stats --admin %s", filterctl_bin, d->admin);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        expect_has(out, "connections_refused");
        free(out);
    }
    crowd_leaves(d, ctx, s, N);
    fc_client *cl = client(d, 1);
    check_label(cl, d, FE_L_PORN);
    fc_close(cl);
}

/* CPU time the process has used, in clock ticks (utime + stime), or -1. */
static long cpu_ticks(int pid)
{
    char path[64], *s;
    long ut = -1, st = -1;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if ((s = read_file(path))) {
        const char *p = strrchr(s, ')');   /* fields 14, 15 after "pid (comm)" */
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut,
                        &st) == 2)
            ut += st;
        else
            ut = -1;
        free(s);
    }
    return ut;
}

/* The number after KEY (and its ':', if any) in /proc/PID/FILE, or -1. */
static long proc_number(int pid, const char *file, const char *key)
{
    char path[64], *s;
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
    if ((s = read_file(path))) {
        const char *p = strstr(s, key);
        if (p && (p = strchr(p, ':')))
            v = strtol(p + 1, NULL, 10);
        free(s);
    }
    return v;
}

/* se.slice of a process in ns (/proc/PID/sched, Linux 6.6 and later), or -1. */
static long sched_slice(int pid)
{
    return proc_number(pid, "sched", "se.slice");
}

/* The broker runs on the short slice (bench/README.md, round 6), the workers
 * on the kernel's: checked where the kernel takes a slice at all (a child of
 * the test asks fc_short_slice and reads its own back), skipped elsewhere. */
static void test_broker_short_slice(void **state)
{
    const fdproc *d = *state;
    int st, wp[8], nwp = worker_pids(d, wp, 8), pid = broker_pid(d, wp, nwp);
    pid_t c = fork();
    if (c == 0)
        _exit(fc_short_slice(100) == 0 && sched_slice(getpid()) == 100000 ? 0 : 1);
    assert_true(c > 0 && waitpid(c, &st, 0) == c);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        print_message("this kernel takes no time slice from sched_setattr: skipped\n");
        skip();
    }
    assert_true(pid > 0 && nwp > 0);
    assert_int_equal(sched_slice(pid), 100000);
    assert_true(sched_slice(wp[0]) != 100000);
}

/* Only the workers keep the rule set: the broker gives back the copy of it
 * that came with the supervisor's memory, and a reload frees the old set
 * before it forks the new workers (before, the broker held the first set
 * for its whole life, ~60 MB with the 60,000-term list, and every worker
 * forked by a reload the old set beside the new). */
static void test_children_keep_no_old_rule_set(void **state)
{
    const fdproc *d = *state;
#ifdef __SANITIZE_ADDRESS__
    skip();                       /* ASan keeps freed memory in its quarantine and adds its */
#endif                            /* own to every process: RSS cannot show it (the plain run does) */
    int wp[8], nwp = worker_pids(d, wp, 8), bp = broker_pid(d, wp, nwp), np[8], nnp = 0;
    assert_true(nwp == 2 && bp > 0);
    long broker = proc_number(bp, "status", "VmRSS"), worker = proc_number(wp[0], "status", "VmRSS");
    assert_true(broker > 0 && worker > 0);
    long set = worker - broker;   /* about the rule set: what a worker has more */
    assert_true(set > broker);    /* the broker holds less than half of a worker */
    cJSON_Delete(admin(d, "reload"));
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; nnp < 2; sleep_ms(POLL_STEP_MS)) {
        if (now_ms() > end)
            fail_msg("no new workers after the reload");
        nnp = 0;
        int got[8], n = worker_pids(d, got, 8);
        for (int i = 0; i < n; i++)
            if (got[i] != wp[0] && got[i] != wp[1] && nnp < 8)
                np[nnp++] = got[i];
    }
    long after = proc_number(np[0], "status", "VmRSS");
    assert_true(after > 0);
    if (after > worker + set / 2)   /* the old set beside the new one */
        fail_msg("a new worker holds %ld kB, one of the first %ld kB", after, worker);
    assert_true(proc_number(bp, "status", "VmRSS") < worker);   /* the broker stays small */
}

/* The refused connections' noise: a client refused past max-connections
 * reconnects after ZMQ_RECONNECT_IVL (100 ms by default), so 13,333
 * refusals came in 8 s and the broker spent ~25% of a core on them. Now a
 * refused connection is held open (its messages ignored) for a second
 * before it is shut down, so each such client comes back about once a
 * second, not ten times. */
static int setup_few_connections(void **state)
{
    return setup(state, "workers 2\nmax-connections 20\n", 1);
}

static void test_refused_reconnect_rate(void **state)
{
    const fdproc *d = *state;
    enum { N = 100, OVER = N - 20, WINDOW_MS = 3000 };
    int wp[8], nwp = worker_pids(d, wp, 8), pid = broker_pid(d, wp, nwp);
    void *s[N], *ctx = crowd(d, s, N, 0, 1, 20);     /* the default reconnect interval */
    assert_true(pid > 0);
    double r0 = stat_of(d, "connections_refused");
    long c0 = cpu_ticks(pid);
    sleep_ms(WINDOW_MS);
    double r1 = stat_of(d, "connections_refused");
    long c1 = cpu_ticks(pid);
    print_message("%d clients over max-connections: %g refusals in %d ms, broker CPU %ld ticks\n",
                  OVER, r1 - r0, WINDOW_MS, c1 - c0);
    /* a reconnect every 100 ms would be 10 a second per client; held a
     * second, at most about 1 (a busy machine only makes it fewer) */
    assert_true(r1 - r0 < 3.0 * OVER * WINDOW_MS / 1000);
    assert_true(stat_of(d, "connections") <= 20);
    crowd_leaves(d, ctx, s, N);
}

/* Issue 12 item 6: 2,000 unread explain replies (524 KB each for a 64 KB
 * text) took the broker to 1.07 GB; the per-client limit was 100,000
 * replies. It became reply-queue-max, past which replies to a client that
 * does not read were dropped (issue 11 round 5: the soak lost requests so).
 * Now such a client is paused instead: not read while its replies queued
 * and its requests unanswered pass half of reply-queue-max (here 5), read
 * again when they drain. So a client that sends many requests and reads
 * nothing for a while, then reads, gets every reply, and others are served
 * meanwhile. Explain replies (about 40 KB each here) and plain ones (many
 * requests to one read of the broker's, so that it pauses inside a read and
 * holds the rest). */
static int setup_small_reply_queue(void **state)
{
    return setup(state, "workers 2\nreply-queue-max 10\n", 0);
}

/* n check requests on r, ids "x0", "x1", ...: of text, with explain or not. */
static void check_requests(raw *r, const char *text, int n, int explain)
{
    char idbuf[16];
    tu_mp m;
    for (int i = 0; i < n; i++) {
        snprintf(idbuf, sizeof idbuf, "x%d", i);
        tu_mp_begin(&m, 3 + explain);
        tu_mp_kv(&m, "op", "check");
        tu_mp_kv(&m, "id", idbuf);
        tu_mp_kv(&m, "text", text);
        if (explain) {
            tu_mp_str(&m, "explain");
            msgpack_pack_true(&m.pk);
        }
        mp_send(r, &m);
    }
}

static void explain_requests(raw *r, const char *text, int n)
{
    check_requests(r, text, n, 1);
}

/* n requests from a client that reads nothing until the broker has paused
 * it, then reads them all: every reply, once, none dropped. */
static void unread_then_read(const fdproc *d, const char *text, int n, int explain)
{
    int one = 1, small = 4096, zero = 0;
    char *seen = calloc((size_t)n, 1);
    double dropped = stat_of(d, "dropped"), paused = stat_of(d, "reads_paused");
    raw r = {zmq_ctx_new(), NULL};

    assert_non_null(seen);
    r.sock = zmq_socket(r.ctx, ZMQ_DEALER);
    zmq_setsockopt(r.sock, ZMQ_RCVHWM, &one, sizeof one);    /* takes next to nothing */
    zmq_setsockopt(r.sock, ZMQ_RCVBUF, &small, sizeof small);
    zmq_setsockopt(r.sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(r.sock, d->ep), 0);
    check_requests(&r, text, n, explain);
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; stat_of(d, "reads_paused") <= paused;)
        if (now_ms() > end)
            fail_msg("a client that reads nothing was not paused");
        else
            sleep_ms(20);
    fc_client *cl = client(d, 1);                 /* others are served meanwhile */
    check_label(cl, d, FE_L_PORN);
    fc_close(cl);
    for (int k = 0; k < n; k++) {
        cJSON *j = raw_recv(&r, REPLY_TIMEOUT_MS);
        if (!j)
            fail_msg("reply %d of %d missing", k + 1, n);
        const char *id = jstr(j, "id");
        int x = id && id[0] == 'x' ? atoi(id + 1) : -1;
        assert_true(x >= 0 && x < n && !seen[x]);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "decision"));
        seen[x] = 1;
        cJSON_Delete(j);
    }
    print_message("%d %s requests unread, then read: all answered, broker paused %g times, "
                  "dropped %g\n", n, explain ? "explain" : "plain",
                  stat_of(d, "reads_paused") - paused, stat_of(d, "dropped") - dropped);
    assert_true(stat_of(d, "dropped") == dropped);
    raw_close(&r);
    free(seen);
}

static void test_unread_replies_paused(void **state)
{
    const fdproc *d = *state;
    char text[MAX_TEXT];
    for (size_t i = 0; i < sizeof text - 1; i++)
        text[i] = (char)('a' + i % 26);
    text[sizeof text - 1] = '\0';
    unread_then_read(d, text, 100, 1);            /* about 40 KB of reply each */
    unread_then_read(d, "a short post", 600, 0);  /* ~40 bytes each: many to one read */
}

/* The broker's peak resident memory so far (VmHWM), in kB, or -1. */
static long peak_rss_kb(int pid)
{
    return proc_number(pid, "status", "VmHWM");
}

/* Issue 12 item 6, in bytes: reply-queue-max counts replies, and explain
 * replies to 64 KB texts are about 0.5 MB each, so a client that sent
 * hundreds and read none held hundreds of MB in the broker. Now the bytes
 * queued to a TCP connection are bounded (reply-queue-bytes, default 4 MiB;
 * left at the default here so that the same test runs against a filterd of
 * before, where the broker's peak grows by ~N x 0.5 MB). The client takes
 * one reply and then reads nothing (ZMQ_RCVHWM 1, a small kernel buffer).
 * Since issue 11 round 5 the broker pauses such a client at 2 MiB queued;
 * what it had read by then is still answered, and those replies (0.5 MB
 * each) may pass the limit and be dropped: the last resort, which this
 * test reaches or not (on tcp the broker has usually read all 400 before
 * the first reply and drops ~150, on ipc it pauses after ~150 and drops
 * fewer), so it asserts the bound, and that one of the two acted. */
static int setup_big_texts_tcp(void **state)
{
    return setup(state, "workers 2\nmax-text-bytes 65536\n", 1);
}

/* N explain requests on ep from a client that takes one reply: the broker's peak RSS. */
static void unread_reply_bytes(const fdproc *d, const char *ep)
{
    enum { N = 400, TEXT = 65000 };
    char *text = malloc(TEXT + 1), t[64];
    int one = 1, small = 16384, zero = 0, wp[8], nwp = worker_pids(d, wp, 8);
    int pid = broker_pid(d, wp, nwp);
    raw r = {zmq_ctx_new(), NULL};

    assert_non_null(text);
    assert_true(pid > 0);
    term_of(FE_L_PORN, t, sizeof t);               /* matches all along: a big explain */
    for (size_t i = 0, n = strlen(t); i < TEXT; i++)
        text[i] = i % (n + 1) < n ? t[i % (n + 1)] : ' ';
    text[TEXT] = '\0';
    r.sock = zmq_socket(r.ctx, ZMQ_DEALER);
    zmq_setsockopt(r.sock, ZMQ_RCVHWM, &one, sizeof one);
    zmq_setsockopt(r.sock, ZMQ_RCVBUF, &small, sizeof small);
    zmq_setsockopt(r.sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(r.sock, ep), 0);
    long before = peak_rss_kb(pid);
    double dropped = stat_of(d, "dropped"), paused = stat_of(d, "reads_paused");
    explain_requests(&r, text, N);
    /* every text read answered, the replies in the broker's hands or dropped;
     * the rest unread, the client paused (issue 11 round 5) */
    for (int64_t end = now_ms() + 10 * REPLY_TIMEOUT_MS;;) {
        cJSON *st = admin(d, "stats");
        double q = jnum(st, "queue"), held = jnum(st, "held"), req = jnum(st, "requests");
        double p = jnum(st, "reads_paused");
        cJSON_Delete(st);
        if (q == 0 && held == 0 && (req >= N || p > paused))
            break;
        if (now_ms() > end)
            fail_msg("the texts were not all answered");
        sleep_ms(100);
    }
    sleep_ms(300);                                /* ZeroMQ's I/O thread takes them */
    long after = peak_rss_kb(pid);
    zmq_msg_t first;                              /* the one reply the client took */
    zmq_msg_init(&first);
    while (zmq_msg_recv(&first, r.sock, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&first))
        ;
    print_message("broker peak RSS %ld kB -> %ld kB (+%ld kB) for %d unread explain replies "
                  "of %zu bytes; read %g of them, paused %g times, dropped %g, "
                  "reply_queue_full %g\n", before, after, after - before, N,
                  zmq_msg_size(&first), stat_of(d, "requests"),
                  stat_of(d, "reads_paused") - paused, stat_of(d, "dropped") - dropped,
                  stat_of(d, "reply_queue_full"));
    zmq_msg_close(&first);
    /* 4 MiB queued + one reply + the requests' 26 MB while they wait (more
     * under ASan, which keeps what is freed for a while): far under the
     * ~190 MB that N replies of ~0.5 MB are */
    assert_true(before > 0 && after >= before);   /* read at all */
    assert_true(after - before < 100 * 1024);
    /* the limits acted: the client held back, or (replies to what was read) dropped */
    assert_true(stat_of(d, "reads_paused") > paused || stat_of(d, "reply_queue_full") >= 1);
    raw_close(&r);
    free(text);
    fc_client *cl = client(d, 1);                 /* others are served */
    check_label(cl, d, FE_L_PORN);
    fc_close(cl);
}

static void test_unread_reply_bytes_bounded(void **state)
{
    const fdproc *d = *state;
    unread_reply_bytes(d, d->tcp);
}

/* The same on ipc (the HTTP front door's way in, an ipc:// listen): there
 * reply-queue-max alone bounded them (1,000 replies, 0.5 GB of explains),
 * as ZeroMQ counts messages and a unix socket says nothing of the bytes
 * its peer took. The broker writes the bytes itself now, so
 * reply-queue-bytes bounds both. */
static void test_unread_ipc_reply_bytes_bounded(void **state)
{
    const fdproc *d = *state;
    unread_reply_bytes(d, d->ep);
}

/* ---- ZMTP spoken by hand: the broker speaks it itself (issue 12, round 4) ---- */

static const uint8_t zr_greeting[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1, 'N', 'U', 'L', 'L'};

/* A stream socket connected to ep (tcp://127.0.0.1:PORT or ipc://PATH). */
static int zr_connect(const char *ep)
{
    int fd;
    if (!strncmp(ep, "ipc://", 6)) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", ep + 6);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_port = htons((uint16_t)atoi(strrchr(ep, ':') + 1));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    }
    return fd;
}

static void zr_write(int fd, const void *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t k = send(fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        assert_true(k > 0);
        off += (size_t)k;
    }
}

/* A frame's head for n bytes (more: another follows). */
static void zr_head(int fd, uint64_t n, int more)
{
    uint8_t h[9] = {(uint8_t)(more ? 1 : 0)};
    if (n < 256) {
        h[1] = (uint8_t)n;
        zr_write(fd, h, 2);
        return;
    }
    h[0] |= 2;
    for (int i = 8; i >= 1; i--, n >>= 8)
        h[i] = (uint8_t)n;
    zr_write(fd, h, 9);
}

/* Read n bytes within REPLY_TIMEOUT_MS: 0, or -1 (closed, timed out). */
static int zr_read(int fd, void *p, size_t n)
{
    struct pollfd pf = {fd, POLLIN, 0};
    for (size_t off = 0; off < n;) {
        if (poll(&pf, 1, REPLY_TIMEOUT_MS) <= 0)
            return -1;
        ssize_t k = recv(fd, (char *)p + off, n - off, 0);
        if (k <= 0)
            return -1;
        off += (size_t)k;
    }
    return 0;
}

/* The next frame: its flags, and its body (malloc'd) and size. 0 or -1. */
static int zr_frame(int fd, int *flags, uint8_t **body, uint64_t *len)
{
    uint8_t h[9];
    if (zr_read(fd, h, 2) < 0)
        return -1;
    *flags = h[0];
    *len = h[1];
    if (h[0] & 2) {
        if (zr_read(fd, h + 2, 7) < 0)
            return -1;
        *len = 0;
        for (int i = 1; i < 9; i++)
            *len = *len << 8 | h[i];
    }
    assert_true(*len < (64u << 20));
    *body = malloc(*len + 1);
    assert_non_null(*body);
    return zr_read(fd, *body, *len);
}

/* The server's greeting and READY: read and checked. */
static void zr_welcome(int fd)
{
    uint8_t g[64], *body;
    int flags;
    uint64_t len;
    assert_int_equal(zr_read(fd, g, 64), 0);
    assert_int_equal(g[0], 0xff);
    assert_int_equal(g[10], 3);
    assert_int_equal(zr_frame(fd, &flags, &body, &len), 0);
    assert_int_equal(flags, 4);
    assert_true(len > 6 && !memcmp(body, "\x05READY", 6));
    free(body);
}

/* Our greeting, the server's greeting and READY read (as a client waits for
 * them: libzmq closes a connection whose READY comes with its greeting), then
 * our READY as type. */
static void zr_hello(int fd, const char *type)
{
    char ready[64];
    size_t tl = strlen(type);
    int n = snprintf(ready, sizeof ready, "\x04%c\x05READY\x0bSocket-Type%c%c%c%c%s",
                     (char)(1 + 5 + 1 + 11 + 4 + tl), 0, 0, 0, (char)tl, type);
    zr_write(fd, zr_greeting, sizeof zr_greeting);
    zr_welcome(fd);
    zr_write(fd, ready, (size_t)n);
}

/* The next reply [""][body] as JSON (commands before it skipped). */
static cJSON *zr_reply(int fd)
{
    uint8_t *body;
    int flags, n = 0;
    uint64_t len;
    cJSON *j = NULL;
    char err[128];
    for (;;) {
        if (zr_frame(fd, &flags, &body, &len) < 0)
            return NULL;
        if (flags & 4) {
            free(body);
            continue;
        }
        if (n++ == 0)
            assert_int_equal(len, 0);            /* the delimiter */
        else
            j = fw_msgpack_to_json(body, len, err, sizeof err);
        free(body);
        if (!(flags & 1))
            return j;
    }
}

/* Whether the peer closes fd within REPLY_TIMEOUT_MS (what it sends first is dropped). */
static int zr_closed(int fd)
{
    char buf[4096];
    struct pollfd pf = {fd, POLLIN, 0};
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end;) {
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k == 0 || (k < 0 && errno == ECONNRESET))
            return 1;
    }
    return 0;
}

/* Issue 12 item 5: one message of 40 frames of 16 MiB took the broker to
 * 683 MB, because ZeroMQ hands a message over only once its last frame is
 * in. The broker reads the frames itself now: past the message limit
 * (max-text-bytes + 16 MiB + 4 KiB, here 16 MiB + 8 KiB) the rest streams by
 * unkept, the client gets too_large, and another client is answered while
 * the frames still come. The broker's peak RSS may grow by the one message
 * it keeps (its buffer doubles up to 16 MiB: 32 MiB touched) and its
 * reading; 96 MiB is the documented bound with a margin (docs/SECURITY.md). */
static void test_many_big_frames(void **state)
{
    const fdproc *d = *state;
    enum { FRAMES = 40, CHUNK = 1 << 20, PER = 16 };
    int wp[8], nwp = worker_pids(d, wp, 8), pid = broker_pid(d, wp, nwp);
    char *chunk = malloc(CHUNK);
    assert_true(pid > 0);
    assert_non_null(chunk);
    memset(chunk, 'x', CHUNK);
    long before = peak_rss_kb(pid);
    int fd = zr_connect(d->ep);
    zr_hello(fd, "DEALER");
    zr_head(fd, 0, 1);
    for (int f = 0; f < FRAMES; f++) {
        zr_head(fd, (uint64_t)PER * CHUNK, f + 1 < FRAMES);
        for (int k = 0; k < PER; k++)
            zr_write(fd, chunk, CHUNK);
        if (f == FRAMES / 2) {                     /* meanwhile, another client */
            fc_client *cl = client(d, 1);
            check_label(cl, d, FE_L_PORN);
            fc_close(cl);
        }
    }
    cJSON *j = zr_reply(fd);
    assert_non_null(j);
    assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(j, "error"), "code"), "too_large");
    cJSON_Delete(j);
    long after = peak_rss_kb(pid);
    print_message("broker peak RSS %ld kB -> %ld kB (+%ld kB) for one message of %d frames of "
                  "16 MiB\n", before, after, after - before, FRAMES);
    assert_true(before > 0 && after >= before);   /* read at all */
    assert_true(after - before < 96 * 1024);
    assert_int_equal((int)stat_of(d, "too_large"), 1);
    close(fd);
    free(chunk);
}

/* Two workers, also on a loopback TCP port. */
static int setup_tcp(void **state)
{
    return setup(state, "workers 2\n", 1);
}

/* What is not ZMTP 3 with NULL as a DEALER or REQ is closed, counted, and
 * costs the others nothing. */
static void test_not_zmtp_closed(void **state)
{
    static const uint8_t zmtp2[11] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1};
    const fdproc *d = *state;
    fc_client *cl = client(d, 1);
    int fd;

    fd = zr_connect(d->tcp);                       /* not ZMTP at all */
    zr_write(fd, "GET / HTTP/1.0\r\n\r\n", 18);
    assert_true(zr_closed(fd));
    close(fd);
    fd = zr_connect(d->tcp);                       /* ZMTP 2.0: libzmq would speak it */
    zr_write(fd, zmtp2, sizeof zmtp2);
    assert_true(zr_closed(fd));
    close(fd);
    check_label(cl, d, FE_L_PORN);
    fd = zr_connect(d->tcp);                       /* a PUB socket */
    zr_hello(fd, "PUB");
    assert_true(zr_closed(fd));
    close(fd);
    fd = zr_connect(d->tcp);                       /* a message before the handshake */
    zr_write(fd, zr_greeting, sizeof zr_greeting);
    zr_write(fd, "\x00\x02hi", 4);
    assert_true(zr_closed(fd));
    close(fd);
    fd = zr_connect(d->tcp);                       /* a frame of 2^63 bytes */
    zr_hello(fd, "DEALER");
    zr_write(fd, "\x02\x80\0\0\0\0\0\0\0", 9);
    assert_true(zr_closed(fd));
    close(fd);
    check_label(cl, d, FE_L_PORN);
    fc_close(cl);
    assert_int_equal((int)stat_of(d, "protocol_errors"), 5);
}

/* ZMTP 3.1 heartbeats: a PING gets its PONG with the context, and a libzmq
 * client with ZMQ_HEARTBEAT_IVL stays connected past its timeout. */
static void test_heartbeats_answered(void **state)
{
    const fdproc *d = *state;
    uint8_t *body;
    int flags, ivl = 100, timeout = 300, zero = 0;
    uint64_t len;
    tu_mp m;

    int fd = zr_connect(d->tcp);
    zr_hello(fd, "DEALER");
    zr_write(fd, "\x04\x0a\x04PING\x00\x0a" "ctx", 12);
    assert_int_equal(zr_frame(fd, &flags, &body, &len), 0);
    assert_int_equal(flags, 4);
    assert_int_equal(len, 8);
    assert_memory_equal(body, "\x04PONGctx", 8);
    free(body);
    close(fd);

    raw r = {zmq_ctx_new(), NULL};
    r.sock = zmq_socket(r.ctx, ZMQ_DEALER);
    zmq_setsockopt(r.sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(r.sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
    zmq_setsockopt(r.sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_socket_monitor(r.sock, "inproc://hb", ZMQ_EVENT_DISCONNECTED), 0);
    void *mon = zmq_socket(r.ctx, ZMQ_PAIR);
    assert_int_equal(zmq_connect(mon, "inproc://hb"), 0);
    assert_int_equal(zmq_connect(r.sock, d->tcp), 0);
    for (int i = 0; i < 2; i++) {
        tu_mp_begin(&m, 2);
        tu_mp_kv(&m, "op", "check");
        tu_mp_kv(&m, "text", "hello");
        mp_send(&r, &m);
        cJSON *j = raw_recv(&r, REPLY_TIMEOUT_MS);
        assert_non_null(j);
        assert_string_equal(jstr(j, "decision"), "allow");
        cJSON_Delete(j);
        if (!i)
            sleep_ms(5 * timeout);                 /* idle: only heartbeats go */
    }
    zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 0), 0);      /* never disconnected */
    zmq_close(mon);
    raw_close(&r);
}

/* Issue 12 item 7: after a broker SIGKILL the workers re-registered only at
 * their next heartbeat (898 requests degraded, 5 lost at 3,000 req/s) and
 * the stats restarted at 0. Now the workers come back at once, the stats
 * live in memory the supervisor keeps, and a broker that keeps dying is
 * restarted after a delay that doubles. */
static void test_broker_restart(void **state)
{
    const fdproc *d = *state;
    pthread_t t[4];
    worker_arg w[4];
    atomic_int stop = 0;
    int pid, wp[8], nwp = worker_pids(d, wp, 8);

    memset(w, 0, sizeof w);
    for (int i = 0; i < 4; i++) {
        w[i].d = d, w[i].seed = 700 + i, w[i].stop = &stop;
        assert_int_equal(pthread_create(&t[i], NULL, load_thread, &w[i]), 0);
    }
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS))
        if (w[0].done > 200 && w[3].done > 200)
            break;
    double before = stat_of(d, "requests");
    assert_true(before >= 400);
    assert_true((pid = broker_pid(d, wp, nwp)) > 0);
    int64_t killed = now_ms(), back = -1;
    assert_int_equal(kill(pid, SIGKILL), 0);
    long base = w[0].done;
    /* a new client's check answered by a worker, not a fallback: served again */
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; back < 0 && now_ms() < end;) {
        char err[200];
        const char *eps[1] = {d->ep};
        fc_options o = {.timeout_ms = 200, .try_ms = 200, .retries = 0};
        fc_client *c = fc_connect(eps, 1, &o, err, sizeof err);
        fc_result r;
        assert_non_null(c);
        if (fc_check(c, "nothing to see", 14, NULL, 0, &r, err, sizeof err) == 0) {
            if (!r.degraded && !r.error)
                back = now_ms() - killed;
            fc_result_free(&r);
        }
        fc_close(c);
    }
    assert_true(back >= 0);
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; now_ms() < end; sleep_ms(POLL_STEP_MS))
        if (w[0].done > base + 500 && w[3].done > base + 500)
            break;
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    long done = 0, degraded = 0, lost = 0;
    for (int i = 0; i < 4; i++)
        done += w[i].done, degraded += w[i].degraded, lost += w[i].unavailable + w[i].errors;
    print_message("broker kill under load: %ld answered, %ld degraded, %ld lost (in flight in "
                  "the killed broker), a new client served %lld ms after the kill\n",
                  done, degraded, lost, (long long)back);
    assert_true(w[0].done > base);                      /* served again */
    assert_true(lost <= 4 * WINDOW);                    /* at most what was in flight */
    assert_true(stat_of(d, "requests") >= before);      /* the stats survived */
    assert_int_equal((int)stat_of(d, "broker_restarts"), 1);
    assert_int_equal((int)stat_of(d, "workers"), 2);
    /* a broker that keeps dying young: restarted after a delay that doubles */
    for (int k = 0; k < 3; k++) {
        int64_t end = now_ms() + REPLY_TIMEOUT_MS;
        int old = pid;
        while ((pid = broker_pid(d, wp, nwp)) <= 0 || pid == old)
            if (now_ms() > end)
                fail_msg("no new broker");
            else
                sleep_ms(POLL_STEP_MS);
        assert_int_equal(kill(pid, SIGKILL), 0);
    }
    for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; log_count(d, "restart_in_ms=") < 4;)
        if (now_ms() > end) {
            show_log(d);
            fail_msg("broker restarts not logged");
        } else
            sleep_ms(POLL_STEP_MS);
    assert_int_equal(log_count(d, "event=broker_exit"), 4);
    assert_true(log_count(d, "restart_in_ms=100") >= 1);   /* 0 after a long life, then */
    assert_int_equal(log_count(d, "restart_in_ms=200"), 1); /* 100, 200 when dying young */
    fc_client *cl = client(d, 3);
    check_label(cl, d, FE_L_PORN);
    fc_close(cl);
}

/* The client library's two DEALERs on the real daemon: its own (ZMTP on the
 * unix socket or on TCP, the default on ipc:// and on tcp:// with a numeric
 * address) and libzmq's (fc_options.libzmq). One client on each link goes
 * through a bulk check, a deadline (every worker stopped: the fallback) and
 * the broker killed under it (its tries reach the new broker on their own:
 * on TCP, refused until the new broker listens). */
static void test_client_links(void **state)
{
    const fdproc *d = *state;
    char err[256], texts[8][80];
    fc_query q[8];
    fc_result out[8], r;
    for (int i = 0; i < 8; i++) {
        text_of(i % FE_NLABELS, texts[i], sizeof texts[i]);
        q[i] = (fc_query){texts[i], strlen(texts[i]), "forum", 0};
    }
    for (int link = 0; link < 3; link++) {   /* own on ipc, own on tcp, libzmq's on ipc */
        int lz = link == 2;
        const char *eps[1] = {link == 1 ? d->tcp : d->ep};
        fc_options o = {.timeout_ms = REPLY_TIMEOUT_MS, .try_ms = 300, .retries = 10,
                        .libzmq = lz};
        fc_client *c = fc_connect(eps, 1, &o, err, sizeof err);
        assert_non_null(c);
        struct stat st;
        int w, wp[8], nwp;
        short ev;
        int fd = fc_pollfd_events(c, &w, &ev);   /* own: its socket; libzmq: ZMQ_FD */
        assert_true(fd >= 0 && fstat(fd, &st) == 0);
        assert_int_equal(S_ISSOCK(st.st_mode), !lz);

        assert_int_equal(fc_check_many(c, q, 8, 0, out, err, sizeof err), 0);   /* one bulk */
        for (int i = 0; i < 8; i++) {
            assert_null(out[i].error);
            assert_null(out[i].degraded);
            assert_int_equal(out[i].decision, expected(i % FE_NLABELS));
            fc_result_free(&out[i]);
        }

        nwp = worker_pids(d, wp, 8);
        assert_true(nwp >= 1);
        for (int i = 0; i < nwp; i++)
            assert_int_equal(kill(wp[i], SIGSTOP), 0);
        int rc = fc_check(c, "all fine", 8, NULL, 50, &r, err, sizeof err);
        char deg[32];
        snprintf(deg, sizeof deg, "%s", rc == 0 && r.degraded ? r.degraded : "(nil)");
        fc_result_free(&r);
        for (int i = 0; i < nwp; i++)
            kill(wp[i], SIGCONT);
        assert_int_equal(rc, 0);
        assert_string_equal(deg, "deadline");

        int pid = broker_pid(d, wp, nwp);
        assert_true(pid > 0);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int served = 0;
        for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; !served && now_ms() < end;) {
            if (fc_check(c, texts[1], strlen(texts[1]), NULL, 0, &r, err, sizeof err) == 0)
                served = !r.degraded && !r.error && r.decision == expected(1 % FE_NLABELS);
            fc_result_free(&r);
        }
        assert_true(served);      /* the same client, served by the new broker */
        fc_close(c);
        for (int64_t end = now_ms() + REPLY_TIMEOUT_MS; stat_of(d, "workers") < nwp;)
            if (now_ms() > end)
                fail_msg("workers not back after the broker restart");
            else
                sleep_ms(POLL_STEP_MS);
    }
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
    if (getenv("INTEG_FILTER"))     /* e.g. INTEG_FILTER='test_broker*': only those */
        cmocka_set_test_filter(getenv("INTEG_FILTER"));
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
        cmocka_unit_test_setup_teardown(test_bulk, setup_two_slow_hb, teardown),
        cmocka_unit_test_setup_teardown(test_worker_dies_holding_many, setup_two_slow_hb,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_silent_worker_gets_no_more, setup_two_slow_hb,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_deadline_inside_a_batch, setup_two_slow_hb,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reload_between_batches, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_privilege_drop, setup_nobody, teardown),
        cmocka_unit_test_setup_teardown(test_cli, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_explain_chain, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_notify, setup_notify, teardown_notify),
        cmocka_unit_test_setup_teardown(test_notify_unread, setup_notify_unread,
                                        teardown_notify_unread),
        cmocka_unit_test_setup_teardown(test_cli_reload, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_cli_discovery, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_admin_group, setup_admin_group, teardown),
        cmocka_unit_test_setup_teardown(test_log_injection, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_run_dir_symlinks, setup_planted_run_dir,
                                        teardown_planted_run_dir),
        cmocka_unit_test(test_shared_run_dir_refused),
        cmocka_unit_test_setup_teardown(test_children_die_with_the_supervisor, setup_nobody,
                                        teardown_killed),
        cmocka_unit_test_setup_teardown(test_worker_of_another_run_refused, setup_default,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_message_size_limited, setup_default, teardown),
        cmocka_unit_test(test_bind_failure_stops),
        cmocka_unit_test_setup_teardown(test_refused_reconnect_rate, setup_few_connections,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_broker_short_slice, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_children_keep_no_old_rule_set, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_unread_reply_bytes_bounded, setup_big_texts_tcp,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unread_ipc_reply_bytes_bounded, setup_big_texts_tcp,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unread_replies_paused, setup_small_reply_queue,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many_big_frames, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_not_zmtp_closed, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeats_answered, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit, setup_low_nofile, teardown),
        cmocka_unit_test_setup_teardown(test_broker_restart, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_client_links, setup_tcp, teardown),
    };
    if (getenv("INTEG_FILTER"))   /* e.g. INTEG_FILTER='test_reload*' */
        cmocka_set_test_filter(getenv("INTEG_FILTER"));
    return cmocka_run_group_tests_name("filterd integration", tests, NULL, NULL);
}
