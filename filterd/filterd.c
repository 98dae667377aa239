/* filterd.c -- the daemon's main process: options, the supervisor, privilege separation.
 *
 * The supervisor loads the rule set once and forks everything else, so the
 * workers share its compiled databases copy-on-write:
 *
 *   supervisor --fork--> broker        (broker.c; restarted with backoff if it dies;
 *                                       filterd stops if it cannot start at all)
 *              --fork--> worker x N    (worker.c; replaced at once when they die)
 *              --fork--> helper        (helper.c; one per reload)
 *              --fork--> http          (http.c, with http-listen; restarted if it
 *                                       dies, with backoff; SIGHUP at each reload)
 *
 * It never serves a request and holds no ZeroMQ context (ZeroMQ does not
 * survive fork). It talks to the broker over a SOCK_SEQPACKET socketpair
 * (daemon.h). Signals only write a byte to a self-pipe; everything happens
 * in the poll loop: SIGCHLD reaps, SIGHUP reloads, SIGTERM/SIGINT drain.
 * It tells the service manager (notify.c) when it is ready, reloading,
 * ready again (the reload's new workers serve, or it failed) and stopping,
 * and rewrites filterd.ready with the version that serves. */
#define _DEFAULT_SOURCE           /* MAP_ANONYMOUS */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>                /* malloc_trim */
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

#define MAX_CHILDREN FD_MAX_WORKERS

typedef struct child {
    pid_t pid;
    uint32_t gen;
    int64_t started;
} child;

static struct supervisor {
    fd_ctx ctx;
    fe_ruleset *rs;
    fd_opts opts;                 /* the command line */
    child w[MAX_CHILDREN];
    pid_t broker;
    int64_t broker_started, broker_at;   /* its last start; when to start it again */
    int broker_backoff_ms;
    int rc;                       /* the exit status: 1 once the broker could not start */
    pid_t http;                   /* the HTTP front door, or 0 */
    int64_t http_started, http_at;  /* its start; no restart before http_at */
    int http_backoff_ms;
    int ctl;                      /* our end of the control socketpair */
    pid_t helper;
    int helper_fd;
    char helper_out[FD_CTL_MAX];
    size_t helper_len;
    fd_config next;               /* the configuration being reloaded */
    int stopping;
    int ready;                    /* READY=1 was sent: every first worker said hello */
    int64_t stop_by;
    int64_t restart_at;
    int backoff_ms;
    int sigpipe[2];
} S;

static void begin_stop(int sig);
/* ---- children ------------------------------------------------------------ */

static int alive_children(void)
{
    int n = 0;
    for (int i = 0; i < MAX_CHILDREN; i++)
        n += S.w[i].pid > 0;
    return n;
}

static int current_workers(void)
{
    int n = 0;
    for (int i = 0; i < MAX_CHILDREN; i++)
        n += S.w[i].pid > 0 && S.w[i].gen == S.ctx.gen;
    return n;
}

static int spawn_worker(void)
{
    char err[256];
    int i;
    for (i = 0; i < MAX_CHILDREN && S.w[i].pid > 0; i++)
        ;
    if (i == MAX_CHILDREN)
        return -1;
    fd_proc_arg a = {&S.ctx, S.rs, NULL, NULL, -1};
    pid_t pid = fd_proc_start(FD_PROC_WORKER, &a, err, sizeof err);
    if (pid < 0) {
        fd_log(FD_ERROR, "fork_failed", "message=\"%s\"", err);
        return -1;
    }
    S.w[i].pid = pid;
    S.w[i].gen = S.ctx.gen;
    S.w[i].started = fd_now_ns();
    return 0;
}

static void spawn_missing(void)
{
    if (S.stopping || fd_now_ns() < S.restart_at)
        return;
    for (int n = current_workers(); n < S.ctx.nworkers; n++)
        if (spawn_worker() < 0)
            break;
}

static int spawn_broker(void)
{
    char err[256];
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0) {
        fd_log(FD_ERROR, "socketpair_failed", "message=\"%s\"", strerror(errno));
        return -1;
    }
    int sndbuf = FD_CTL_MAX * 4;
    setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (S.ctl > 0)
        close(S.ctl);
    S.ctl = sp[0];
    fd_proc_arg a = {&S.ctx, NULL, S.rs, NULL, sp[1]};
    pid_t pid = fd_proc_start(FD_PROC_BROKER, &a, err, sizeof err);
    close(sp[1]);
    if (pid < 0) {
        fd_log(FD_ERROR, "fork_failed", "message=\"%s\"", err);
        return -1;
    }
    S.broker = pid;
    S.broker_started = fd_now_ns();
    return 0;
}

/* The HTTP front door, when configured and not backing off. */
static void spawn_http(void)
{
    char err[256];
    if (S.http || S.stopping || !fd_http_enabled(&S.ctx.cfg) || fd_now_ns() < S.http_at)
        return;
    fd_proc_arg a = {&S.ctx, NULL, S.rs, NULL, -1};
    S.http = fd_proc_start(FD_PROC_HTTP, &a, err, sizeof err);
    S.http_started = fd_now_ns();
    if (S.http < 0) {
        S.http = 0;
        fd_log(FD_ERROR, "fork_failed", "message=\"%s\"", err);
    }
}

/* It exited: again at once, or after a doubling delay when it died young. */
static void http_exited(int status)
{
    S.http = 0;
    if (S.stopping)
        return;
    S.http_at = fd_now_ns() + fd_proc_backoff(&S.http_backoff_ms,
                                              (fd_now_ns() - S.http_started) / FD_MS) * FD_MS;
    fd_log(FD_ERROR, "http_exit", "%s=%d restart_in_ms=%d", WIFSIGNALED(status) ? "signal" : "status",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), S.http_backoff_ms);
}

/* The compile helper, with a pipe for its result. Its pid, or -1. */
static pid_t spawn_helper(const fd_config *cfg, int *fd, char *err, size_t errlen)
{
    int p[2];
    if (pipe(p) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    fd_proc_arg a = {NULL, NULL, S.rs, cfg, p[1]};
    pid_t pid = fd_proc_start(FD_PROC_HELPER, &a, err, errlen);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    *fd = p[0];
    return pid;
}

/* ---- reload --------------------------------------------------------------- */

static void reload_failed(const char *errors)
{
    char msg[FD_CTL_MAX];
    int n = snprintf(msg, sizeof msg, "failed %s\n%s", S.ctx.version, errors);
    if (n >= (int)sizeof msg)
        n = sizeof msg - 1;
    if (send(S.ctl, msg, (size_t)n, MSG_NOSIGNAL) < 0)
        fd_log(FD_ERROR, "control_failed", "message=\"%s\"", strerror(errno));
    int count = fd_log_lines(FD_WARN, "reload_error", errors, FD_RELOAD_LOG_MAX);
    fd_log(FD_WARN, "reload_failed", "errors=%d version=%s", count, S.ctx.version);
    if (S.ready)
        fd_notify("READY=1\nSTATUS=reload failed (%d error%s, see the log); still serving %s",
                  count, count == 1 ? "" : "s", S.ctx.version);
}

/* "changes ENTRIES LABEL:+ADDED:-REMOVED ..." for the broker's reload reply. */
static void send_changes(const fe_ruleset *old, const fe_ruleset *rs)
{
    char msg[512];
    fe_diff d;
    if (fe_ruleset_diff(old, rs, &d) != FE_OK)
        return;                       /* out of memory: the reply says only the versions */
    int n = snprintf(msg, sizeof msg, "changes %zu", fe_ruleset_entries(rs));
    for (int l = 0; l <= FE_NLABELS && n > 0 && (size_t)n < sizeof msg; l++)
        if (d.added[l] || d.removed[l])
            n += snprintf(msg + n, sizeof msg - (size_t)n, " %s:+%zu:-%zu",
                          l < FE_NLABELS ? fe_label_name(l) : "allow", d.added[l], d.removed[l]);
    fd_ctl_send(S.ctl, "%s", msg);
}

static void start_reload(const char *source)
{
    char err[256];
    fe_errors e = FE_ERRORS_INIT;
    fd_config parsed;

    if (S.http > 0)               /* the HTTP front door reads its token file again */
        kill(S.http, SIGHUP);     /* (cheap, and apart from the lists: even mid-reload) */
    if (S.helper > 0) {
        fd_log(FD_INFO, "reload_pending", "source=%s", source);
        return;
    }
    fd_log(FD_INFO, "reload", "source=%s version=%s", source, S.ctx.version);
    if (S.ready)
        fd_notify("RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading (serving %s)",
                  (long long)(fd_now_ns() / 1000), S.ctx.version);
    if (fd_opts_config(&S.opts, &parsed, &e) < 0) {
        reload_failed(e.text ? e.text : "configuration error");
        fe_errors_clear(&e);
        return;
    }
    /* Lists and scene policies reload; the rest needs a restart. */
    S.next = S.ctx.cfg;
    S.next.engine = parsed.engine;
    if (memcmp(&S.next, &parsed, sizeof parsed))
        fd_log(FD_WARN, "restart_needed", "message=\"settings other than lists, policy, "
               "cache-dir and cache-keep take effect at the next start\"");
    S.helper_len = 0;
    S.helper = spawn_helper(&S.next, &S.helper_fd, err, sizeof err);
    if (S.helper < 0) {
        S.helper = 0;
        reload_failed(err);
    }
}

static void finish_reload(void)
{
    fe_errors e = FE_ERRORS_INIT;
    S.helper_out[S.helper_len < sizeof S.helper_out ? S.helper_len : sizeof S.helper_out - 1] = 0;
    close(S.helper_fd);
    S.helper_fd = -1;
    if (strncmp(S.helper_out, "ok ", 3)) {
        const char *nl = strchr(S.helper_out, '\n');
        reload_failed(nl && nl[1] ? nl + 1 : "the compile helper failed");
        return;
    }
    int64_t t0 = fd_now_ns();
    fe_ruleset *rs = fe_load(&S.next.engine, &e);
    if (!rs) {
        reload_failed(e.text ? e.text : "loading the compiled lists failed");
        fe_errors_clear(&e);
        return;
    }
    char prev[32];
    snprintf(prev, sizeof prev, "%s", S.ctx.version);
    fe_ruleset *old = S.rs;
    S.rs = rs;
    S.ctx.cfg = S.next;
    S.ctx.gen++;
    snprintf(S.ctx.version, sizeof S.ctx.version, "%s", fe_ruleset_version(rs));
    char note[400];
    fd_log(FD_INFO, "loaded", "gen=%u version=%s previous=%s entries=%zu cached=%s cache=%s "
           "ms=%lld", S.ctx.gen, S.ctx.version, prev, fe_ruleset_entries(rs),
           fe_ruleset_cached(rs) ? "yes" : "no",
           fd_log_msg(fe_ruleset_cache_note(rs), note, sizeof note),
           (long long)((fd_now_ns() - t0) / 1000000));
    send_changes(old, rs);
    fd_ctl_send(S.ctl, "version %u %s %s", S.ctx.gen, S.ctx.version, prev);
    S.restart_at = 0;
    S.backoff_ms = 0;
    /* The old set goes before the new workers fork, else each would keep its
     * pages in its copy of our memory: RSS flat across reloads. */
    fe_ruleset_free(old);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    spawn_missing();
}

static void read_helper(void)
{
    for (;;) {
        char buf[4096];
        ssize_t n = read(S.helper_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return;                 /* EAGAIN: more later */
        if (n == 0) {
            finish_reload();
            return;
        }
        size_t room = sizeof S.helper_out - 1 - S.helper_len;
        size_t k = (size_t)n < room ? (size_t)n : room;
        memcpy(S.helper_out + S.helper_len, buf, k);
        S.helper_len += k;
    }
}

/* ---- events --------------------------------------------------------------- */

static void worker_exited(int i, int status)
{
    child *c = &S.w[i];
    int64_t age_ms = (fd_now_ns() - c->started) / 1000000;
    int replace = !S.stopping && c->gen == S.ctx.gen;
    int crashed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    if (crashed || replace)
        fd_log(crashed ? FD_WARN : FD_INFO, "worker_exit", "worker=%ld gen=%u %s=%d age_ms=%lld "
               "replaced=%s", (long)c->pid, c->gen, WIFSIGNALED(status) ? "signal" : "status",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
               (long long)age_ms, replace ? "yes" : "no");
    if (S.broker > 0)
        fd_ctl_send(S.ctl, "dead %ld %d", (long)c->pid, replace);
    c->pid = 0;
    if (replace)                  /* dying young: back off */
        S.restart_at = fd_now_ns() + fd_proc_backoff(&S.backoff_ms, age_ms) * FD_MS;
}

/* A broker that cannot start (a port in use) before filterd ever served is a
 * startup error: said once, and filterd exits 1. Later, it is started again:
 * at once after a long life, else after a delay doubling up to a cap. */
static void broker_exited(int status)
{
    int64_t age_ms = (fd_now_ns() - S.broker_started) / FD_MS;
    S.broker = 0;
    if (S.stopping) {
        S.stop_by = fd_now_ns() + (int64_t)FD_STOP_GRACE_MS * FD_MS;
        return;
    }
    if (!S.ready && WIFEXITED(status) && WEXITSTATUS(status) == FD_EXIT_START) {
        fd_log(FD_ERROR, "start_failed", "message=\"the broker could not start (broker_failed "
               "says why); stopping\"");
        S.rc = 1;
        begin_stop(SIGTERM);
        return;
    }
    S.broker_at = fd_now_ns() + fd_proc_backoff(&S.broker_backoff_ms, age_ms) * FD_MS;
    S.ctx.stats->broker_restarts++;
    fd_log(FD_ERROR, "broker_exit", "%s=%d age_ms=%lld restart_in_ms=%d",
           WIFSIGNALED(status) ? "signal" : "status",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), (long long)age_ms,
           S.broker_backoff_ms);
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == S.broker) {
            broker_exited(status);
            continue;
        }
        if (pid == S.http) {
            http_exited(status);
            continue;
        }
        if (pid == S.helper) {
            S.helper = 0;
            if (S.helper_fd >= 0)
                read_helper();
            continue;
        }
        for (int i = 0; i < MAX_CHILDREN; i++)
            if (S.w[i].pid == pid)
                worker_exited(i, status);
    }
}

static void control(void)
{
    char buf[512];
    long pid;
    ssize_t n = recv(S.ctl, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n <= 0)
        return;                     /* the broker's exit is seen by waitpid */
    buf[n] = '\0';
    if (!strcmp(buf, "reload"))
        start_reload("admin");
    else if (sscanf(buf, "kill %ld", &pid) == 1) {
        for (int i = 0; i < MAX_CHILDREN; i++)
            if (S.w[i].pid == (pid_t)pid)
                kill(S.w[i].pid, SIGKILL);
    } else if (!strcmp(buf, "ready")) {
        fd_rundir_ready(&S.ctx.cfg, S.ctx.version);
        fd_log(FD_INFO, "ready", "version=%s workers=%d listen=%s admin=%s mode=%s",
               S.ctx.version, S.ctx.nworkers, S.ctx.cfg.listen[0], S.ctx.admin,
               S.ctx.echo ? "echo" : "scan");
        S.ready = 1;
        fd_notify("READY=1\nSTATUS=serving %s (%zu entries, %d workers)", S.ctx.version,
                  fe_ruleset_entries(S.rs), S.ctx.nworkers);
    } else if (!strncmp(buf, "serving ", 8) && !S.stopping) {
        /* a reload's new workers took over: readiness follows the version */
        fd_rundir_ready(&S.ctx.cfg, buf + 8);
        if (S.ready)
            fd_notify("READY=1\nSTATUS=serving %s (%zu entries, %d workers)", buf + 8,
                      fe_ruleset_entries(S.rs), S.ctx.nworkers);
    }
}

static void begin_stop(int sig)
{
    if (S.stopping)
        return;
    S.stopping = 1;
    S.stop_by = fd_now_ns() + ((int64_t)S.ctx.cfg.max_budget_ms + FD_STOP_GRACE_MS) * 1000000;
    fd_log(FD_INFO, "stopping", "signal=%d", sig);
    fd_notify("STOPPING=1\nSTATUS=stopping: answering the requests in flight");
    fd_rundir_unready(&S.ctx.cfg);
    if (S.helper > 0)
        kill(S.helper, SIGKILL);
    if (S.http > 0)
        kill(S.http, SIGTERM);    /* it answers what it holds, then exits */
    if (S.broker > 0)
        fd_ctl_send(S.ctl, "stop");
    for (int i = 0; i < MAX_CHILDREN && S.broker <= 0; i++)   /* no broker: nothing to drain */
        if (S.w[i].pid > 0)
            kill(S.w[i].pid, SIGKILL);
}

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    ssize_t w = write(S.sigpipe[1], &c, 1);
    (void)w;
    errno = saved;
}

static void signals(void)
{
    struct sigaction sa;
    int sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT};
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static int supervise(void)
{
    int64_t wd_ms = fd_notify_watchdog_ms(), next_wd = 0;
    for (;;) {
        int64_t now = fd_now_ns();
        if (wd_ms && now >= next_wd) {    /* the supervisor's loop is alive */
            fd_notify("WATCHDOG=1");
            next_wd = now + wd_ms * FD_MS;
        }
        if (S.stopping && S.broker == 0 && S.http == 0 && alive_children() == 0)
            return 0;
        if (S.stopping && now > S.stop_by) {
            fd_log(FD_WARN, "stop_timeout", "killing=%d", alive_children() + (S.broker > 0));
            for (int i = 0; i < MAX_CHILDREN; i++)
                if (S.w[i].pid > 0)
                    kill(S.w[i].pid, SIGKILL);
            if (S.broker > 0)
                kill(S.broker, SIGKILL);
            if (S.http > 0)
                kill(S.http, SIGKILL);
            S.stop_by = now + (int64_t)FD_STOP_GRACE_MS * 1000000;
        }
        if (!S.stopping && S.broker == 0 && now >= S.broker_at && spawn_broker() < 0)
            S.broker_at = now + (int64_t)FD_RESTART_MAX_MS * FD_MS;
        int timeout = 1000;
        if (!S.stopping && current_workers() < S.ctx.nworkers && S.restart_at > now)
            timeout = (int)((S.restart_at - now) / 1000000) + 1;
        if (!S.http && S.http_at > now && (S.http_at - now) / 1000000 + 1 < timeout)
            timeout = (int)((S.http_at - now) / 1000000) + 1;
        if (!S.stopping && !S.broker && S.broker_at > now && S.broker_at - now < timeout * FD_MS)
            timeout = (int)((S.broker_at - now) / FD_MS) + 1;
        if (wd_ms && timeout > wd_ms)
            timeout = (int)wd_ms;
        struct pollfd p[3] = {{S.sigpipe[0], POLLIN, 0}, {S.ctl, POLLIN, 0},
                              {S.helper_fd, POLLIN, 0}};
        if (poll(p, S.helper_fd >= 0 ? 3 : 2, timeout) < 0 && errno != EINTR)
            return 1;
        if (p[0].revents & POLLIN) {
            unsigned char sig[64];
            ssize_t n = read(S.sigpipe[0], sig, sizeof sig);
            for (ssize_t i = 0; i < n; i++) {
                if (sig[i] == SIGCHLD)
                    reap();
                else if (sig[i] == SIGHUP && !S.stopping)
                    start_reload("SIGHUP");
                else if (sig[i] == SIGTERM || sig[i] == SIGINT)
                    begin_stop(sig[i]);
            }
        }
        if (p[1].revents & POLLIN)
            control();
        if (S.helper_fd >= 0 && (p[2].revents & (POLLIN | POLLHUP)))
            read_helper();
        spawn_missing();
        spawn_http();
    }
}

/* ---- startup -------------------------------------------------------------- */

static int start(fd_ctx *ctx)
{
    fe_errors e = FE_ERRORS_INIT;
    char err[512];
    int rc = 1;

    if (fd_opts_config(&S.opts, &ctx->cfg, &e) < 0 || fd_opts_check(&S.opts, &ctx->cfg, &e) < 0)
        goto errors;
    int64_t t0 = fd_now_ns();
    if (!(S.rs = fe_load(&ctx->cfg.engine, &e)))
        goto errors;
    if (S.opts.check) {
        printf("configuration OK (%s: %zu entries, version %s)\n", ctx->cfg.engine.lists,
               fe_ruleset_entries(S.rs), fe_ruleset_version(S.rs));
        fe_ruleset_free(S.rs);
        exit(0);
    }
    char quoted[640];
    if (fd_ctx_init(ctx, fe_ruleset_version(S.rs), err, sizeof err) < 0 ||
        fd_rundir_prepare(&ctx->cfg, err, sizeof err) < 0) {
        fd_log(FD_ERROR, "start_failed", "message=%s", fd_log_msg(err, quoted, sizeof quoted));
        return 1;
    }
    fd_log(FD_INFO, "start", "version=%s entries=%zu cached=%s cache=%s load_ms=%lld workers=%d "
           "config=%s mode=%s", ctx->version, fe_ruleset_entries(S.rs),
           fe_ruleset_cached(S.rs) ? "yes" : "no",
           fd_log_msg(fe_ruleset_cache_note(S.rs), quoted, sizeof quoted),
           (long long)((fd_now_ns() - t0) / 1000000), ctx->nworkers, S.opts.conf, ctx->cfg.mode);
    if (ctx->cfg.log_text)
        fd_log(FD_WARN, "log_text", "message=\"user text is written to the log (log-text yes)\"");
    return 0;
errors:
    if (S.opts.check)
        fputs(e.text ? e.text : "", stderr);      /* its lines end with '\n' */
    else
        fd_log_lines(FD_ERROR, "config_error", e.text ? e.text : "", FE_ERRORS_MAX + 1);
    if (e.count > FE_ERRORS_MAX)
        fprintf(stderr, "... %d errors in all\n", e.count);
    fe_errors_clear(&e);
    return rc;
}

int main(int argc, char **argv)
{
    S.helper_fd = -1;
    fd_log_init("supervisor", 0);
    if (fd_opts_parse(&S.opts, argc, argv) < 0)
        return 2;
    if (start(&S.ctx) != 0)
        return 1;
    fd_log_init("supervisor", S.ctx.cfg.log_text);
    fd_notify_init();
    if (pipe(S.sigpipe) < 0)
        return 1;
    fcntl(S.sigpipe[0], F_SETFL, O_NONBLOCK);
    fcntl(S.sigpipe[1], F_SETFL, O_NONBLOCK);
    signals();
    if (spawn_broker() < 0)
        return 1;
    spawn_missing();
    spawn_http();
    int rc = supervise() || S.rc;
    fd_rundir_remove(&S.ctx.cfg);
    fe_ruleset_free(S.rs);
    fd_log(FD_INFO, "exit", "status=%d", rc);
    return rc;
}
