/* filterbench.c -- load generator for filterd: closed and open loop, latency histograms.
 *
 * Usage: filterbench [options] POSTS_FILE   (filterbench --help for the list)
 *
 * Each connection is a thread with its own fc_client (one DEALER socket).
 *   closed loop - every connection keeps K requests in flight: a reply frees
 *                 a slot and the next request goes out at once. Latency is
 *                 measured from the actual send: it shows service time, and
 *                 throughput is the most the service gives at that depth.
 *   open loop   - requests are due at a fixed rate (R / C per connection,
 *                 phases spread), whatever the replies do. Latency is
 *                 measured from each request's *intended* send time, so a
 *                 stall that delays sends is counted, not hidden (no
 *                 coordinated omission). When the service cannot keep up,
 *                 latency grows without bound, as it would for real users.
 * The first --warmup seconds are not recorded; requests sent in the measured
 * window are waited for (up to FB_DRAIN_S) after it ends, so slow ones count.
 * Throughput is replies received inside the window divided by its length.
 *
 * With --start BIN the daemon is started for the run (stderr to a log file),
 * awaited until it logs event=ready, and stopped with SIGTERM afterwards. */
#define _DEFAULT_SOURCE           /* clock_nanosleep, prctl constants */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fclient.h"
#include "posts.h"
#include "hist.h"

#define FB_DEFAULT_EP "tcp://127.0.0.1:7700"
#define FB_SECONDS 5.0            /* s: measured window */
#define FB_WARMUP 1.0             /* s: not recorded, before the window */
#define FB_DRAIN_S 10.0           /* s: wait for replies to requests sent in the window */
#define FB_CALL_TIMEOUT_MS 10000  /* msecs: a request's limit in the client, one try */
#define FB_INFLIGHT 16            /* closed loop: requests in flight per connection */
#define FB_MAX_CONN 64
#define FB_MAX_OUTSTANDING 8192   /* open loop: per connection; past it sends wait */
#define FB_POLL_NS 50000          /* ns: open loop, reply check period when a send is < 2 ms away */
#define FB_BLOCK_MS 2             /* msecs: from here on the open loop blocks in fc_recv */
#define FB_READY_S 180.0          /* s: wait for a started daemon's event=ready */
#define FB_STOP_S 15.0            /* s: wait for it to exit after SIGTERM */
#define FB_MAX_SCENES 8
#define FB_MAX_LABELS 32
#define FB_MAX_ARGS 32
#define FB_NS 1000000000LL        /* ns per s */
#define ERRLEN 512

enum fb_mode { FB_CLOSED, FB_OPEN };
enum fb_degraded { FB_DEG_DEADLINE, FB_DEG_OVERLOAD, FB_DEG_UNAVAILABLE, FB_DEG_OTHER, FB_NDEG };
static const char *fb_deg_names[FB_NDEG] = {"deadline", "overload", "unavailable", "other"};

typedef struct fb_opts {
    const char *endpoint, *posts, *tag;
    const char *start_bin, *config, *daemon_log;
    const char *daemon_args[FB_MAX_ARGS];
    int ndaemon_args, endpoint_given;
    enum fb_mode mode;
    int conns, inflight, budget_ms, json;
    double rate, seconds, warmup;
    const char *scenes[FB_MAX_SCENES];
    int weights[FB_MAX_SCENES], nscenes, wsum;
} fb_opts;

typedef struct fb_label {
    char name[24];
    uint64_t n;
} fb_label;

/* What one connection saw; merged over the threads at the end. */
typedef struct fb_tally {
    fb_hist hist;                 /* ns, requests sent in the window */
    fb_hist lag;                  /* ns, open loop: actual send - intended send */
    uint64_t sent, done, in_window, errors, late, decisions[3], degraded[FB_NDEG];
    fb_label labels[FB_MAX_LABELS];
    int nlabels;
    char first_error[160];        /* the first error reply, to show what went wrong */
} fb_tally;

typedef struct fb_run fb_run;

typedef struct fb_conn {
    fb_run *run;
    int no;
    pthread_t th;
    fc_client *c;
    int64_t *due;                 /* ns: intended send time, by the client's slot index */
    size_t ndue;
    size_t cursor;                /* next post */
    uint64_t rng;
    fb_tally t;
    char err[ERRLEN];
} fb_conn;

struct fb_run {
    const fb_opts *o;
    const fb_posts *posts;
    int64_t t0, win_start, win_end;  /* ns, CLOCK_MONOTONIC */
    fb_conn conn[FB_MAX_CONN];
};

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * FB_NS + t.tv_nsec;
}

static void sleep_until(int64_t ns)
{
    struct timespec t = {(time_t)(ns / FB_NS), (long)(ns % FB_NS)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

/* ---- options -------------------------------------------------------------- */

static void usage(int rc)
{
    fprintf(rc ? stderr : stdout,
        "usage: filterbench [options] POSTS_FILE\n"
        "  --endpoint EP       filterd request endpoint (default " FB_DEFAULT_EP ")\n"
        "  --start BIN         start BIN for the run (stopped with SIGTERM after)\n"
        "  --config FILE       with --start: its --config\n"
        "  --daemon-arg ARG    with --start: one more argument (repeat)\n"
        "  --daemon-log FILE   with --start: its stderr (default /tmp/filterbench-daemon.log)\n"
        "  --closed            closed loop (default): --conns C x --inflight K\n"
        "  --open RATE         open loop at RATE requests/s over all connections\n"
        "  --conns C           connections, one thread each (default 1)\n"
        "  --inflight K        closed loop: requests in flight per connection (default %d)\n"
        "  --seconds S         measured window (default %.0f)\n"
        "  --warmup S          unrecorded time before it (default %.0f)\n"
        "  --scenes MIX        scene or mix, e.g. comment:70,chat:20,nickname:10\n"
        "  --budget-ms MS      budget_ms of every request (default: the server's)\n"
        "  --tag NAME          name of this run in the output\n"
        "  --json              one JSON object on stdout\n",
        FB_INFLIGHT, FB_SECONDS, FB_WARMUP);
    exit(rc);
}

/* "comment:70,chat:20" or "comment"; weights default to 1. */
static void parse_scenes(fb_opts *o, char *mix)
{
    for (char *tok = strtok(mix, ","); tok; tok = strtok(NULL, ",")) {
        if (o->nscenes == FB_MAX_SCENES)
            usage(2);
        char *colon = strchr(tok, ':');
        int w = colon ? atoi(colon + 1) : 1;
        if (colon)
            *colon = '\0';
        if (w <= 0)
            usage(2);
        o->scenes[o->nscenes] = tok;
        o->weights[o->nscenes++] = w;
        o->wsum += w;
    }
}

static int arg_is(const char *a, const char *name, int i, int argc)
{
    return !strcmp(a, name) && i + 1 < argc;
}

static void parse_args(int argc, char **argv, fb_opts *o)
{
    memset(o, 0, sizeof *o);
    o->endpoint = FB_DEFAULT_EP;
    o->daemon_log = "/tmp/filterbench-daemon.log";
    o->conns = 1, o->inflight = FB_INFLIGHT;
    o->seconds = FB_SECONDS, o->warmup = FB_WARMUP;
    o->tag = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            usage(0);
        else if (arg_is(a, "--endpoint", i, argc))
            o->endpoint = argv[++i], o->endpoint_given = 1;
        else if (arg_is(a, "--start", i, argc))
            o->start_bin = argv[++i];
        else if (arg_is(a, "--config", i, argc))
            o->config = argv[++i];
        else if (arg_is(a, "--daemon-arg", i, argc) && o->ndaemon_args < FB_MAX_ARGS - 8)
            o->daemon_args[o->ndaemon_args++] = argv[++i];
        else if (arg_is(a, "--daemon-log", i, argc))
            o->daemon_log = argv[++i];
        else if (!strcmp(a, "--closed"))
            o->mode = FB_CLOSED;
        else if (arg_is(a, "--open", i, argc))
            o->mode = FB_OPEN, o->rate = atof(argv[++i]);
        else if (arg_is(a, "--conns", i, argc))
            o->conns = atoi(argv[++i]);
        else if (arg_is(a, "--inflight", i, argc))
            o->inflight = atoi(argv[++i]);
        else if (arg_is(a, "--seconds", i, argc))
            o->seconds = atof(argv[++i]);
        else if (arg_is(a, "--warmup", i, argc))
            o->warmup = atof(argv[++i]);
        else if (arg_is(a, "--scenes", i, argc))
            parse_scenes(o, argv[++i]);
        else if (arg_is(a, "--budget-ms", i, argc))
            o->budget_ms = atoi(argv[++i]);
        else if (arg_is(a, "--tag", i, argc))
            o->tag = argv[++i];
        else if (!strcmp(a, "--json"))
            o->json = 1;
        else if (a[0] == '-' || o->posts)
            usage(2);
        else
            o->posts = a;
    }
    if (!o->posts || o->conns < 1 || o->conns > FB_MAX_CONN || o->inflight < 1 ||
        o->seconds <= 0 || o->warmup < 0 || (o->mode == FB_OPEN && o->rate <= 0) ||
        (o->config && !o->start_bin))
        usage(2);
}

/* ---- posts ---------------------------------------------------------------- */

/* ---- one connection --------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *pick_scene(fb_conn *k)
{
    const fb_opts *o = k->run->o;
    if (!o->nscenes)
        return NULL;
    int r = (int)(xorshift(&k->rng) % (uint64_t)o->wsum);
    for (int i = 0; i < o->nscenes; i++)
        if ((r -= o->weights[i]) < 0)
            return o->scenes[i];
    return o->scenes[0];
}

/* Remember when request id was due; ids are (generation << 32 | slot). */
static int track(fb_conn *k, uint64_t id, int64_t due)
{
    size_t slot = (uint32_t)id;
    if (slot >= k->ndue) {
        size_t n = slot * 2 + 64;
        int64_t *d = realloc(k->due, n * sizeof *d);
        if (!d)
            return -1;
        k->due = d, k->ndue = n;
    }
    k->due[slot] = due;
    return 0;
}

static int send_one(fb_conn *k, int64_t due)
{
    const fb_posts *p = k->run->posts;
    size_t i = k->cursor++ % p->n;
    uint64_t id;
    if (fc_send(k->c, p->text + p->off[i], p->len[i], pick_scene(k), k->run->o->budget_ms,
                FB_CALL_TIMEOUT_MS, &id, k->err, sizeof k->err) < 0 || track(k, id, due) < 0) {
        k->t.errors++;
        return -1;
    }
    k->t.sent++;
    if (due >= k->run->win_start)
        fb_hist_add(&k->t.lag, (uint64_t)(now_ns() - due));
    return 0;
}

static void count_label(fb_tally *t, const char *name, uint64_t n)
{
    for (int i = 0; i < t->nlabels; i++)
        if (!strcmp(t->labels[i].name, name)) {
            t->labels[i].n += n;
            return;
        }
    if (t->nlabels < FB_MAX_LABELS) {
        snprintf(t->labels[t->nlabels].name, sizeof t->labels[0].name, "%s", name);
        t->labels[t->nlabels++].n = n;
    }
}

static void count_degraded(fb_tally *t, const char *d)
{
    int k = FB_DEG_OTHER;
    for (int i = 0; i < FB_DEG_OTHER; i++)
        if (!strcmp(d, fb_deg_names[i]))
            k = i;
    t->degraded[k]++;
}

/* A completed request: latency from its due time, tallies. */
static void record(fb_conn *k, uint64_t id, fc_result *r)
{
    int64_t now = now_ns(), due = k->due[(uint32_t)id];
    fb_tally *t = &k->t;
    t->done++;
    if (now >= k->run->win_start && now < k->run->win_end)
        t->in_window++;
    if (due >= k->run->win_start && due < k->run->win_end)
        fb_hist_add(&t->hist, (uint64_t)(now - due));
    if (r->error) {
        if (!t->errors++)
            snprintf(t->first_error, sizeof t->first_error, "%s: %s", r->error,
                     r->error_message ? r->error_message : "");
        return;
    }
    if (r->degraded)
        count_degraded(t, r->degraded);
    if (r->decision >= 0 && r->decision <= 2)
        t->decisions[r->decision]++;
    for (size_t i = 0; i < r->nlabels; i++)
        count_label(t, r->labels[i], 1);
}

/* Take one reply, waiting up to timeout_ms. 1: got one, 0: none. */
static int take_one(fb_conn *k, int timeout_ms)
{
    fc_result r;
    uint64_t id;
    if (fc_recv(k->c, timeout_ms, &id, &r, k->err, sizeof k->err) < 0) {
        fc_result_free(&r);
        return 0;
    }
    record(k, id, &r);
    fc_result_free(&r);
    return 1;
}

static void drain(fb_conn *k)
{
    int64_t stop = k->run->win_end + (int64_t)(FB_DRAIN_S * FB_NS);
    while (fc_inflight(k->c) > 0 && now_ns() < stop)
        take_one(k, 100);
    k->t.late += fc_inflight(k->c);
}

static void closed_loop(fb_conn *k)
{
    const fb_run *run = k->run;
    while (now_ns() < run->win_end) {
        while (fc_inflight(k->c) < (size_t)run->o->inflight)
            if (send_one(k, now_ns()) < 0)
                return;
        take_one(k, 100);
    }
}

/* Wait for a reply or for the next due time, whichever comes first. */
static void open_wait(fb_conn *k, int64_t next)
{
    int64_t rem = next - now_ns();
    if (rem <= 0)
        return;
    if (!fc_inflight(k->c)) {
        sleep_until(next);
        return;
    }
    if (take_one(k, 0))
        return;
    if (rem > FB_BLOCK_MS * 1000000LL)
        take_one(k, (int)(rem / 1000000LL) - 1);
    else
        sleep_until(now_ns() + (rem < FB_POLL_NS ? rem : FB_POLL_NS));
}

static void open_loop(fb_conn *k)
{
    const fb_run *run = k->run;
    int64_t gap = (int64_t)((double)FB_NS * run->o->conns / run->o->rate);
    int64_t next = run->t0 + gap * k->no / run->o->conns;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);   /* ns: wake on time, not 50 us late */
    while (next < run->win_end) {
        while (next <= now_ns() && next < run->win_end) {
            if (fc_inflight(k->c) >= FB_MAX_OUTSTANDING) {
                take_one(k, 100);      /* the send is late; its latency still counts */
                continue;
            }
            if (send_one(k, next) < 0)
                return;
            next += gap;
        }
        while (take_one(k, 0))
            ;
        open_wait(k, next < run->win_end ? next : run->win_end);
    }
}

static void *conn_main(void *arg)
{
    fb_conn *k = arg;
    if (k->run->o->mode == FB_OPEN)
        open_loop(k);
    else
        closed_loop(k);
    drain(k);
    return NULL;
}

/* ---- the run ---------------------------------------------------------------- */

static int conns_open(fb_run *run, char *err)
{
    fc_options opt = {.timeout_ms = FB_CALL_TIMEOUT_MS, .try_ms = FB_CALL_TIMEOUT_MS,
                      .retries = 1};
    const char *ep[1] = {run->o->endpoint};
    for (int i = 0; i < run->o->conns; i++) {
        fb_conn *k = &run->conn[i];
        k->run = run, k->no = i;
        k->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        k->cursor = run->posts->n * (size_t)i / (size_t)run->o->conns;
        fb_hist_init(&k->t.hist);
        fb_hist_init(&k->t.lag);
        if (!(k->c = fc_connect(ep, 1, &opt, err, ERRLEN)))
            return -1;
    }
    return 0;
}

/* Every connection pings once, so that sockets are connected before t0. */
static int conns_ping(fb_run *run, char *err)
{
    for (int i = 0; i < run->o->conns; i++)
        if (fc_ping(run->conn[i].c, NULL, 0, err, ERRLEN) < 0)
            return -1;
    return 0;
}

static void conns_close(fb_run *run)
{
    for (int i = 0; i < run->o->conns; i++) {
        if (run->conn[i].c)
            fc_close(run->conn[i].c);
        free(run->conn[i].due);
    }
}

static int run_load(fb_run *run, char *err)
{
    const fb_opts *o = run->o;
    if (conns_open(run, err) < 0 || conns_ping(run, err) < 0)
        return -1;
    run->t0 = now_ns();
    run->win_start = run->t0 + (int64_t)(o->warmup * FB_NS);
    run->win_end = run->win_start + (int64_t)(o->seconds * FB_NS);
    for (int i = 0; i < o->conns; i++)
        if (pthread_create(&run->conn[i].th, NULL, conn_main, &run->conn[i])) {
            snprintf(err, ERRLEN, "pthread_create failed");
            return -1;
        }
    for (int i = 0; i < o->conns; i++)
        pthread_join(run->conn[i].th, NULL);
    return 0;
}

static void merge(fb_tally *all, const fb_tally *t)
{
    fb_hist_merge(&all->hist, &t->hist);
    fb_hist_merge(&all->lag, &t->lag);
    all->sent += t->sent, all->done += t->done, all->in_window += t->in_window;
    if (!all->first_error[0])
        memcpy(all->first_error, t->first_error, sizeof all->first_error);
    all->errors += t->errors, all->late += t->late;
    for (int i = 0; i < 3; i++)
        all->decisions[i] += t->decisions[i];
    for (int i = 0; i < FB_NDEG; i++)
        all->degraded[i] += t->degraded[i];
    for (int i = 0; i < t->nlabels; i++)
        count_label(all, t->labels[i].name, t->labels[i].n);
}

/* ---- report ----------------------------------------------------------------- */

static const double fb_quantiles[] = {0.50, 0.90, 0.99, 0.999};
static const char *fb_qnames[] = {"p50", "p90", "p99", "p999"};
#define FB_NQ (sizeof fb_quantiles / sizeof fb_quantiles[0])

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static void print_text(const fb_run *run, const fb_tally *a)
{
    const fb_opts *o = run->o;
    const fb_posts *p = run->posts;
    if (o->mode == FB_OPEN)
        printf("filterbench %s open loop %.0f req/s, %d conn, %s\n", o->tag, o->rate, o->conns,
               o->endpoint);
    else
        printf("filterbench %s closed loop %d conn x %d in flight, %s\n", o->tag, o->conns,
               o->inflight, o->endpoint);
    printf("  posts       %zu, %.0f bytes on average; %.1f s measured after %.1f s warm-up\n",
           p->n, (double)p->bytes / (double)p->n, o->seconds, o->warmup);
    printf("  throughput  %.0f req/s (%" PRIu64 " replies in the window; %" PRIu64 " sent)\n",
           (double)a->in_window / o->seconds, a->in_window, a->sent);
    printf("  latency ms ");
    for (size_t i = 0; i < FB_NQ; i++)
        printf(" %s %.3f", fb_qnames[i], ms(fb_hist_quantile(&a->hist, fb_quantiles[i])));
    printf("  max %.3f  mean %.3f  (%" PRIu64 " samples)\n", ms(a->hist.max),
           fb_hist_mean(&a->hist) / 1e6, a->hist.count);
    if (o->mode == FB_OPEN)
        printf("  send lag ms p50 %.3f p99 %.3f max %.3f (actual - intended send time)\n",
               ms(fb_hist_quantile(&a->lag, 0.5)), ms(fb_hist_quantile(&a->lag, 0.99)),
               ms(a->lag.max));
    printf("  errors      %" PRIu64 "  unanswered %" PRIu64 "  degraded:", a->errors, a->late);
    for (int i = 0; i < FB_NDEG; i++)
        printf(" %s %" PRIu64, fb_deg_names[i], a->degraded[i]);
    if (a->first_error[0])
        printf("\n  first error %s", a->first_error);
    printf("\n  decisions   allow %" PRIu64 " flag %" PRIu64 " block %" PRIu64 "  labels:",
           a->decisions[0], a->decisions[1], a->decisions[2]);
    for (int i = 0; i < a->nlabels; i++)
        printf(" %s %" PRIu64, a->labels[i].name, a->labels[i].n);
    printf("\n");
}

static void print_json(const fb_run *run, const fb_tally *a)
{
    const fb_opts *o = run->o;
    printf("{\"tag\":\"%s\",\"mode\":\"%s\",\"endpoint\":\"%s\",\"conns\":%d,\"inflight\":%d,"
           "\"rate\":%.1f,\"seconds\":%.3f,\"warmup\":%.3f,\"posts\":%zu,\"post_bytes\":%.1f,",
           o->tag, o->mode == FB_OPEN ? "open" : "closed", o->endpoint, o->conns,
           o->mode == FB_OPEN ? 0 : o->inflight, o->mode == FB_OPEN ? o->rate : 0.0, o->seconds,
           o->warmup, run->posts->n, (double)run->posts->bytes / (double)run->posts->n);
    printf("\"rps\":%.1f,\"sent\":%" PRIu64 ",\"replies\":%" PRIu64 ",\"samples\":%" PRIu64
           ",\"latency_ms\":{", (double)a->in_window / o->seconds, a->sent, a->done,
           a->hist.count);
    for (size_t i = 0; i < FB_NQ; i++)
        printf("\"%s\":%.4f,", fb_qnames[i], ms(fb_hist_quantile(&a->hist, fb_quantiles[i])));
    printf("\"max\":%.4f,\"mean\":%.4f},\"send_lag_ms\":{\"p50\":%.4f,\"p99\":%.4f,"
           "\"max\":%.4f},", ms(a->hist.max), fb_hist_mean(&a->hist) / 1e6,
           ms(fb_hist_quantile(&a->lag, 0.5)), ms(fb_hist_quantile(&a->lag, 0.99)), ms(a->lag.max));
    printf("\"errors\":%" PRIu64 ",\"unanswered\":%" PRIu64 ",\"degraded\":{", a->errors,
           a->late);
    for (int i = 0; i < FB_NDEG; i++)
        printf("%s\"%s\":%" PRIu64, i ? "," : "", fb_deg_names[i], a->degraded[i]);
    printf("},\"decisions\":{\"allow\":%" PRIu64 ",\"flag\":%" PRIu64 ",\"block\":%" PRIu64
           "},\"labels\":{", a->decisions[0], a->decisions[1], a->decisions[2]);
    for (int i = 0; i < a->nlabels; i++)
        printf("%s\"%s\":%" PRIu64, i ? "," : "", a->labels[i].name, a->labels[i].n);
    printf("}}\n");
}

/* ---- a daemon for the run ------------------------------------------------------ */

static pid_t daemon_spawn(const fb_opts *o, char *err)
{
    const char *argv[FB_MAX_ARGS + 8];
    int n = 0;
    argv[n++] = o->start_bin;
    if (o->config)
        argv[n++] = "--config", argv[n++] = o->config;
    if (o->endpoint_given)
        argv[n++] = "--listen", argv[n++] = o->endpoint;
    for (int i = 0; i < o->ndaemon_args; i++)
        argv[n++] = o->daemon_args[i];
    argv[n] = NULL;
    FILE *log = fopen(o->daemon_log, "w");
    if (!log) {
        snprintf(err, ERRLEN, "%s: cannot write", o->daemon_log);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fileno(log), 2);
        execv(o->start_bin, (char *const *)argv);
        _exit(127);
    }
    fclose(log);
    if (pid < 0)
        snprintf(err, ERRLEN, "fork: %s", strerror(errno));
    return pid;
}

static int log_says_ready(const char *path)
{
    char line[1024];
    int ready = 0;
    FILE *f = fopen(path, "r");
    while (f && !ready && fgets(line, sizeof line, f))
        ready = strstr(line, "event=ready") != NULL;
    if (f)
        fclose(f);
    return ready;
}

static int daemon_wait_ready(pid_t pid, const char *log, char *err)
{
    int64_t stop = now_ns() + (int64_t)(FB_READY_S * FB_NS);
    int st;
    while (now_ns() < stop) {
        if (log_says_ready(log))
            return 0;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            snprintf(err, ERRLEN, "the daemon exited before it was ready (see %s)", log);
            return -1;
        }
        usleep(20000);
    }
    snprintf(err, ERRLEN, "the daemon was not ready after %.0f s (see %s)", FB_READY_S, log);
    return -1;
}

/* SIGTERM, then SIGKILL if it has not exited in FB_STOP_S. Its exit status. */
static int daemon_stop(pid_t pid)
{
    int st = 0;
    kill(pid, SIGTERM);
    for (int64_t stop = now_ns() + (int64_t)(FB_STOP_S * FB_NS); now_ns() < stop;) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    fprintf(stderr, "filterbench: the daemon did not stop on SIGTERM; killed\n");
    return 137;
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static fb_run run;
    fb_opts o;
    fb_posts posts = {0};
    fb_tally *all = calloc(1, sizeof *all);
    char err[ERRLEN] = "";
    pid_t pid = 0;
    int rc = 1;

    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    run.o = &o, run.posts = &posts;
    if (!all || fb_posts_load(&posts, o.posts, err, ERRLEN) < 0)
        goto out;
    fb_hist_init(&all->hist);
    fb_hist_init(&all->lag);
    if (o.start_bin && ((pid = daemon_spawn(&o, err)) < 0 ||
                        daemon_wait_ready(pid, o.daemon_log, err) < 0))
        goto out;
    if (run_load(&run, err) < 0)
        goto out;
    for (int i = 0; i < o.conns; i++)
        merge(all, &run.conn[i].t);
    if (o.json)
        print_json(&run, all);
    else
        print_text(&run, all);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "filterbench: %s\n", err);
    conns_close(&run);
    if (pid > 0) {
        int st = daemon_stop(pid);
        if (st)
            fprintf(stderr, "filterbench: the daemon exited with status %d (see %s)\n", st,
                    o.daemon_log);
    }
    fb_posts_free(&posts);
    free(all);
    return rc;
}
