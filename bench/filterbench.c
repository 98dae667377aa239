/* filterbench.c -- load generator for filterd: options, the daemon for --start, the report.
 *
 * Usage: filterbench [options] POSTS_FILE   (filterbench --help for the list)
 *
 * The connections, closed and open loop, and what they count are loadgen.c's;
 * this file reads the options and the posts, runs the load, merges the
 * connections' tallies and prints them as text or as one JSON object.
 *
 * With --start BIN the daemon is started for the run (stderr to a log file),
 * awaited until it logs event=ready, and stopped with SIGTERM afterwards. */
#define _DEFAULT_SOURCE           /* usleep */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loadgen.h"

#define FB_DEFAULT_EP "tcp://127.0.0.1:7700"
#define FB_SECONDS 5.0            /* s: measured window */
#define FB_WARMUP 1.0             /* s: not recorded, before the window */
#define FB_INFLIGHT 16            /* closed loop: requests in flight per connection */
#define FB_READY_S 180.0          /* s: wait for a started daemon's event=ready */
#define FB_STOP_S 15.0            /* s: wait for it to exit after SIGTERM */

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
        "  --bulk N            N posts per request: bulk checks (default 1: single checks)\n"
        "  --libzmq            the client library's libzmq DEALER (default on ipc:// and numeric\n"
        "                      tcp://: its own)\n"
        "  --timeline FILE     write every request of the window: due, sent, answered, server\n"
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
    o->conns = 1, o->inflight = FB_INFLIGHT, o->bulk = 1;
    o->seconds = FB_SECONDS, o->warmup = FB_WARMUP;
    o->tag = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            usage(0);
        else if (!strcmp(a, "--version")) {
            printf("filterbench %s (protocol %d)\n", FILTERD_VERSION, FW_VERSION);
            exit(0);
        }
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
        else if (!strcmp(a, "--libzmq"))
            o->libzmq = 1;
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
        else if (arg_is(a, "--bulk", i, argc))
            o->bulk = atoi(argv[++i]);
        else if (arg_is(a, "--tag", i, argc))
            o->tag = argv[++i];
        else if (arg_is(a, "--timeline", i, argc))
            o->timeline = argv[++i];
        else if (!strcmp(a, "--json"))
            o->json = 1;
        else if (a[0] == '-' || o->posts)
            usage(2);
        else
            o->posts = a;
    }
    if (!o->posts || o->conns < 1 || o->conns > FB_MAX_CONN || o->inflight < 1 ||
        o->bulk < 1 || o->bulk > FB_MAX_BULK ||
        o->seconds <= 0 || o->warmup < 0 || (o->mode == FB_OPEN && o->rate <= 0) ||
        (o->config && !o->start_bin))
        usage(2);
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
    if (o->bulk > 1)
        printf("  posts       %.0f posts/s (%d per request)\n",
               (double)a->texts_in_window / o->seconds, o->bulk);
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
    for (int why = FB_DEG_FIRST; why <= FB_DEG_OTHER; why++)
        printf(" %s %" PRIu64, fb_degraded_name(why), a->degraded[why]);
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
    printf("{\"tag\":\"%s\",\"mode\":\"%s\",\"endpoint\":\"%s\",\"link\":\"%s\",\"conns\":%d,"
           "\"inflight\":%d,\"rate\":%.1f,\"seconds\":%.3f,\"warmup\":%.3f,\"posts\":%zu,\"post_bytes\":%.1f,",
           o->tag, o->mode == FB_OPEN ? "open" : "closed", o->endpoint,
           o->libzmq || !fc_own_link(o->endpoint) ? "libzmq" : "own", o->conns,
           o->mode == FB_OPEN ? 0 : o->inflight, o->mode == FB_OPEN ? o->rate : 0.0, o->seconds,
           o->warmup, run->posts->n, (double)run->posts->bytes / (double)run->posts->n);
    printf("\"rps\":%.1f,\"bulk\":%d,\"texts_s\":%.1f,\"sent\":%" PRIu64 ",\"replies\":%" PRIu64
           ",\"samples\":%" PRIu64 ",\"latency_ms\":{", (double)a->in_window / o->seconds, o->bulk,
           (double)a->texts_in_window / o->seconds, a->sent, a->done, a->hist.count);
    for (size_t i = 0; i < FB_NQ; i++)
        printf("\"%s\":%.4f,", fb_qnames[i], ms(fb_hist_quantile(&a->hist, fb_quantiles[i])));
    printf("\"max\":%.4f,\"mean\":%.4f},\"send_lag_ms\":{\"p50\":%.4f,\"p99\":%.4f,"
           "\"max\":%.4f},", ms(a->hist.max), fb_hist_mean(&a->hist) / 1e6,
           ms(fb_hist_quantile(&a->lag, 0.5)), ms(fb_hist_quantile(&a->lag, 0.99)), ms(a->lag.max));
    printf("\"errors\":%" PRIu64 ",\"unanswered\":%" PRIu64 ",\"degraded\":{", a->errors,
           a->late);
    for (int why = FB_DEG_FIRST; why <= FB_DEG_OTHER; why++)
        printf("%s\"%s\":%" PRIu64, why > FB_DEG_FIRST ? "," : "", fb_degraded_name(why),
               a->degraded[why]);
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
        snprintf(err, FB_ERRLEN, "%s: cannot write", o->daemon_log);
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
        snprintf(err, FB_ERRLEN, "fork: %s", strerror(errno));
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

/* 0 once the log says ready; -1 on timeout, or when the daemon exited
 * (*pid is then 0: it was reaped, there is nothing to stop). */
static int daemon_wait_ready(pid_t *pid, const char *log, char *err)
{
    int64_t stop = fb_now_ns() + (int64_t)(FB_READY_S * FB_NS);
    int st;
    while (fb_now_ns() < stop) {
        if (log_says_ready(log))
            return 0;
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *pid = 0;
            snprintf(err, FB_ERRLEN, "the daemon exited before it was ready (see %s)", log);
            return -1;
        }
        usleep(20000);
    }
    snprintf(err, FB_ERRLEN, "the daemon was not ready after %.0f s (see %s)", FB_READY_S, log);
    return -1;
}

/* SIGTERM, then SIGKILL if it has not exited in FB_STOP_S. Its exit status. */
static int daemon_stop(pid_t pid)
{
    int st = 0;
    kill(pid, SIGTERM);
    for (int64_t stop = fb_now_ns() + (int64_t)(FB_STOP_S * FB_NS); fb_now_ns() < stop;) {
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
    char err[FB_ERRLEN] = "";
    pid_t pid = 0;
    int rc = 1;

    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    fc_short_slice(100);          /* before any thread: they inherit it (fclient.h) */
    run.o = &o, run.posts = &posts;
    if (!all || fb_posts_load(&posts, o.posts, err, FB_ERRLEN) < 0)
        goto out;
    fb_hist_init(&all->hist);
    fb_hist_init(&all->lag);
    if (o.start_bin && ((pid = daemon_spawn(&o, err)) < 0 ||
                        daemon_wait_ready(&pid, o.daemon_log, err) < 0))
        goto out;
    if (fb_run_load(&run, err) < 0)
        goto out;
    for (int i = 0; i < o.conns; i++)
        fb_merge(all, &run.conn[i].t);
    if (o.timeline && fb_write_timeline(&run, o.timeline, err) < 0)
        goto out;
    if (o.json)
        print_json(&run, all);
    else
        print_text(&run, all);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "filterbench: %s\n", err);
    fb_conns_close(&run);
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
