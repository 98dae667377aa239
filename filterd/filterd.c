/* filterd.c -- the daemon's main process: options, the supervisor, privilege separation.
 *
 * The supervisor loads the rule set once and forks everything else, so the
 * workers share its compiled databases copy-on-write:
 *
 *   supervisor --fork--> broker        (broker.c; restarted if it dies)
 *              --fork--> worker x N    (worker.c; replaced at once when they die)
 *              --fork--> helper        (helper.c; one per reload)
 *
 * It never serves a request and holds no ZeroMQ context (ZeroMQ does not
 * survive fork). It talks to the broker over a SOCK_SEQPACKET socketpair
 * (daemon.h). Signals only write a byte to a self-pipe; everything happens
 * in the poll loop: SIGCHLD reaps, SIGHUP reloads, SIGTERM/SIGINT drain. */
#define _DEFAULT_SOURCE           /* setgroups */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "daemon.h"

#define DEFAULT_CONFIG "config/filterd.conf"
#define MAX_OVERRIDES 16
#define MAX_CHILDREN FD_MAX_WORKERS
#define RUN_DIR_MAX 90            /* bytes: ipc socket paths (sun_path) hold about 107 */

typedef struct child {
    pid_t pid;
    uint32_t gen;
    int64_t started;
} child;

static struct supervisor {
    fd_ctx ctx;
    fe_ruleset *rs;
    char conf[PATH_MAX];
    char over[MAX_OVERRIDES][FE_CONF_ENDPOINT_LEN * (FE_CONF_MAX_ENDPOINTS + 1)];
    int nover;
    child w[MAX_CHILDREN];
    pid_t broker;
    int ctl;                      /* our end of the control socketpair */
    pid_t helper;
    int helper_fd;
    char helper_out[FD_CTL_MAX];
    size_t helper_len;
    fe_config next;               /* the configuration being reloaded */
    int stopping;
    int64_t stop_by;
    int64_t restart_at;
    int backoff_ms;
    int sigpipe[2];
    char pidfile[PATH_MAX + 32], readyfile[PATH_MAX + 32];
} S;

/* ---- privileges and children ---------------------------------------------- */

int fd_privsep_user(const fe_config *cfg, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    if (geteuid() != 0 || !cfg->user[0])
        return 0;
    struct passwd *pw = getpwnam(cfg->user);
    if (!pw) {
        snprintf(err, errlen, "user '%s' does not exist (set user to \"\" to stay root)",
                 cfg->user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 1;
}

int fd_drop_privileges(const fe_config *cfg, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;
    int r = fd_privsep_user(cfg, &uid, &gid, err, errlen);
    if (r <= 0)
        return r;
    if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
        snprintf(err, errlen, "dropping privileges to %s: %s", cfg->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        snprintf(err, errlen, "dropping privileges to %s: still root", cfg->user);
        return -1;
    }
    return 0;
}

void fd_child_init(int ignore_term)
{
    struct sigaction sa;
    sigset_t none;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = ignore_term ? SIG_IGN : SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);  /* the supervisor drains, then stops them */
    sigaction(SIGINT, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (getppid() == 1)
        _exit(1);                   /* the supervisor is already gone */
    if (S.sigpipe[0] > 0) {
        close(S.sigpipe[0]);
        close(S.sigpipe[1]);
    }
    if (S.ctl > 0)
        close(S.ctl);
    if (S.helper_fd > 0)
        close(S.helper_fd);
}

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
    int i;
    for (i = 0; i < MAX_CHILDREN && S.w[i].pid > 0; i++)
        ;
    if (i == MAX_CHILDREN)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        fd_log(FD_ERROR, "fork_failed", "message=\"%s\"", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        fd_child_init(1);
        _exit(fd_worker_main(&S.ctx, S.rs));
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
    pid_t pid = fork();
    if (pid < 0) {
        fd_log(FD_ERROR, "fork_failed", "message=\"%s\"", strerror(errno));
        close(sp[1]);
        return -1;
    }
    if (pid == 0) {
        fd_child_init(1);
        _exit(fd_broker_main(&S.ctx, sp[1]));
    }
    close(sp[1]);
    S.broker = pid;
    return 0;
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
    fd_log(FD_WARN, "reload_failed", "version=%s", S.ctx.version);
}

/* The configuration file again, with the command line on top. */
static int read_config(fe_config *c, fe_errors *err)
{
    if (fe_conf_load(c, S.conf, err) < 0)
        return -1;
    for (int i = 0; i < S.nover; i++)
        if (fe_conf_set(c, S.over[i], "command line", err) < 0)
            return -1;
    return 0;
}

static void start_reload(const char *source)
{
    char err[256];
    fe_errors e = FE_ERRORS_INIT;
    fe_config parsed;

    if (S.helper > 0) {
        fd_log(FD_INFO, "reload_pending", "source=%s", source);
        return;
    }
    fd_log(FD_INFO, "reload", "source=%s version=%s", source, S.ctx.version);
    if (read_config(&parsed, &e) < 0) {
        reload_failed(e.text ? e.text : "configuration error");
        fe_errors_clear(&e);
        return;
    }
    /* Lists and scene policies reload; the rest needs a restart. */
    S.next = S.ctx.cfg;
    memcpy(S.next.lists, parsed.lists, sizeof S.next.lists);
    memcpy(S.next.policy, parsed.policy, sizeof S.next.policy);
    memcpy(S.next.cache_dir, parsed.cache_dir, sizeof S.next.cache_dir);
    if (memcmp(&S.next, &parsed, sizeof parsed))
        fd_log(FD_WARN, "restart_needed", "message=\"settings other than lists, policy and "
               "cache-dir take effect at the next start\"");
    S.helper_len = 0;
    S.helper = fd_helper_start(&S.next, &S.helper_fd, err, sizeof err);
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
    fe_ruleset *rs = fe_load(&S.next, &e);
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
    fd_log(FD_INFO, "loaded", "gen=%u version=%s previous=%s entries=%zu cached=%s ms=%lld",
           S.ctx.gen, S.ctx.version, prev, fe_ruleset_entries(rs),
           fe_ruleset_cached(rs) ? "yes" : "no", (long long)((fd_now_ns() - t0) / 1000000));
    fd_ctl_send(S.ctl, "version %u %s %s", S.ctx.gen, S.ctx.version, prev);
    S.restart_at = 0;
    S.backoff_ms = 0;
    spawn_missing();
    fe_ruleset_free(old);
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
    if (replace && age_ms < FD_YOUNG_MS) {   /* dying young: back off */
        S.backoff_ms = S.backoff_ms ? S.backoff_ms * 2 : FD_RESTART_MIN_MS;
        if (S.backoff_ms > FD_RESTART_MAX_MS)
            S.backoff_ms = FD_RESTART_MAX_MS;
        S.restart_at = fd_now_ns() + (int64_t)S.backoff_ms * 1000000;
    } else if (replace)
        S.backoff_ms = 0;
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == S.broker) {
            S.broker = 0;
            if (!S.stopping) {
                fd_log(FD_ERROR, "broker_exit", "%s=%d restarting=yes",
                       WIFSIGNALED(status) ? "signal" : "status",
                       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                spawn_broker();
            } else
                S.stop_by = fd_now_ns() + (int64_t)FD_STOP_GRACE_MS * 1000000;
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

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        fd_log(FD_WARN, "write_failed", "path=%s message=\"%s\"", path, strerror(errno));
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
        char text[128];
        snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), S.ctx.version);
        write_file(S.readyfile, text);
        fd_log(FD_INFO, "ready", "version=%s workers=%d listen=%s admin=%s mode=%s",
               S.ctx.version, S.ctx.nworkers, S.ctx.cfg.listen[0], S.ctx.admin,
               S.ctx.echo ? "echo" : "scan");
    }
}

static void begin_stop(int sig)
{
    if (S.stopping)
        return;
    S.stopping = 1;
    S.stop_by = fd_now_ns() + ((int64_t)S.ctx.cfg.max_budget_ms + FD_STOP_GRACE_MS) * 1000000;
    fd_log(FD_INFO, "stopping", "signal=%d", sig);
    unlink(S.readyfile);
    if (S.helper > 0)
        kill(S.helper, SIGKILL);
    if (S.broker > 0)
        fd_ctl_send(S.ctl, "stop");
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
    for (;;) {
        int64_t now = fd_now_ns();
        if (S.stopping && S.broker == 0 && alive_children() == 0)
            return 0;
        if (S.stopping && now > S.stop_by) {
            fd_log(FD_WARN, "stop_timeout", "killing=%d", alive_children() + (S.broker > 0));
            for (int i = 0; i < MAX_CHILDREN; i++)
                if (S.w[i].pid > 0)
                    kill(S.w[i].pid, SIGKILL);
            if (S.broker > 0)
                kill(S.broker, SIGKILL);
            S.stop_by = now + (int64_t)FD_STOP_GRACE_MS * 1000000;
        }
        int timeout = 1000;
        if (!S.stopping && current_workers() < S.ctx.nworkers && S.restart_at > now)
            timeout = (int)((S.restart_at - now) / 1000000) + 1;
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
    }
}

/* ---- startup -------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: filterd [--config FILE] [--check-config] [--foreground] [--echo]\n"
               "               [--workers N] [--listen EP]... [--admin EP] [--run-dir DIR]\n"
               "               [--set 'SETTING VALUE']...\n"
               "  --config FILE     configuration (default " DEFAULT_CONFIG ")\n"
               "  --check-config    check the configuration and load the lists, then exit\n"
               "  --foreground      stay in the foreground (the default; logs go to stderr)\n"
               "  --echo            answer allow without scanning (benchmark baseline)\n"
               "  --workers N       worker processes (0: one per core)\n"
               "  --listen EP       request endpoint; repeat for several\n"
               "  --admin EP        admin endpoint (default ipc://RUN_DIR/admin.sock)\n"
               "  --run-dir DIR     sockets, pid and ready files\n"
               "  --set LINE        any configuration line, after the file\n");
}

static int add_override(const char *fmt, const char *v)
{
    if (S.nover == MAX_OVERRIDES)
        return -1;
    snprintf(S.over[S.nover++], sizeof S.over[0], fmt, v);
    return 0;
}

/* Relative paths on the command line are taken from the current folder. */
static const char *absolute(const char *p, char *buf, size_t size)
{
    char cwd[PATH_MAX];
    if (p[0] == '/' || !getcwd(cwd, sizeof cwd))
        return p;
    snprintf(buf, size, "%s/%s", cwd, p);
    return buf;
}

static int options(int argc, char **argv, int *check)
{
    char listen[sizeof S.over[0]] = "listen", path[PATH_MAX * 2];
    const char *badarg = "";
    snprintf(S.conf, sizeof S.conf, "%s", DEFAULT_CONFIG);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        badarg = a;
        if (!strcmp(a, "--check-config") || !strcmp(a, "-n") || !strcmp(a, "-t"))
            *check = 1, takes = 0;
        else if (!strcmp(a, "--foreground") || !strcmp(a, "-f"))
            takes = 0;
        else if (!strcmp(a, "--echo"))
            takes = 0, add_override("%s", "mode echo");
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!v)
            goto bad;
        else if (!strcmp(a, "--config") || !strcmp(a, "-c"))
            snprintf(S.conf, sizeof S.conf, "%s", v);
        else if (!strcmp(a, "--workers"))
            add_override("workers %s", v);
        else if (!strcmp(a, "--listen")) {
            size_t len = strlen(listen);
            snprintf(listen + len, sizeof listen - len, " %s", v);
        } else if (!strcmp(a, "--admin"))
            add_override("admin %s", v);
        else if (!strcmp(a, "--run-dir"))
            add_override("run-dir %s", absolute(v, path, sizeof path));
        else if (!strcmp(a, "--set"))
            add_override("%s", v);
        else
            goto bad;
        i += takes;
    }
    if (strcmp(listen, "listen"))
        add_override("%s", listen);
    return 0;
bad:
    fprintf(stderr, "filterd: bad option or missing value: '%s'\n", badarg);
    usage(stderr);
    return -1;
}

static int check_mode(const fe_config *c, fe_errors *err)
{
    if (strcmp(c->mode, "scan") && strcmp(c->mode, "echo")) {
        fe_errors_add(err, "%s: mode: expected scan or echo, got '%s'", S.conf, c->mode);
        return -1;
    }
    return 0;
}

static int mkdirs(const char *dir, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; ; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "mkdir %.200s: %s", tmp, strerror(errno));
                return -1;
            }
            if (!(*p = c))
                break;
        }
    }
    return 0;
}

/* The run dir: created, owned by the unprivileged user, and ours alone. */
static int prepare_run_dir(char *err, size_t errlen)
{
    const fe_config *c = &S.ctx.cfg;
    uid_t uid;
    gid_t gid;
    char buf[64];
    if (mkdirs(c->run_dir, err, errlen) < 0)
        return -1;
    if (c->cache_dir[0] && mkdirs(c->cache_dir, err, errlen) < 0)
        return -1;
    int drop = fd_privsep_user(c, &uid, &gid, err, errlen);
    if (drop < 0 || (drop && chown(c->run_dir, uid, gid) < 0)) {
        if (drop > 0)
            snprintf(err, errlen, "chown %.200s: %s", c->run_dir, strerror(errno));
        return -1;
    }
    snprintf(S.pidfile, sizeof S.pidfile, "%s/filterd.pid", c->run_dir);
    snprintf(S.readyfile, sizeof S.readyfile, "%s/filterd.ready", c->run_dir);
    FILE *f = fopen(S.pidfile, "r");
    long other = 0;
    if (f && fgets(buf, sizeof buf, f) && (other = atol(buf)) > 0 && other != getpid() &&
        kill((pid_t)other, 0) == 0) {
        fclose(f);
        snprintf(err, errlen, "another filterd (pid %ld) uses %.200s", other, c->run_dir);
        return -1;
    }
    if (f)
        fclose(f);
    unlink(S.readyfile);
    snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    write_file(S.pidfile, buf);
    return 0;
}

static int start(fd_ctx *ctx, int check)
{
    fe_errors e = FE_ERRORS_INIT;
    char err[512];
    int rc = 1;

    if (read_config(&ctx->cfg, &e) < 0 || check_mode(&ctx->cfg, &e) < 0)
        goto errors;
    int64_t t0 = fd_now_ns();
    if (!(S.rs = fe_load(&ctx->cfg, &e)))
        goto errors;
    if (check) {
        printf("configuration OK (%s: %zu entries, version %s)\n", ctx->cfg.lists,
               fe_ruleset_entries(S.rs), fe_ruleset_version(S.rs));
        fe_ruleset_free(S.rs);
        exit(0);
    }
    ctx->echo = !strcmp(ctx->cfg.mode, "echo");
    ctx->nworkers = ctx->cfg.workers ? ctx->cfg.workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (ctx->nworkers < 1)
        ctx->nworkers = 1;
    ctx->gen = 1;
    ctx->started_ns = fd_now_ns();
    snprintf(ctx->version, sizeof ctx->version, "%s", fe_ruleset_version(S.rs));
    if (strlen(ctx->cfg.run_dir) > RUN_DIR_MAX) {
        fd_log(FD_ERROR, "start_failed", "message=\"run-dir is longer than %d bytes (ipc "
               "socket paths are limited)\"", RUN_DIR_MAX);
        return 1;
    }
    snprintf(ctx->backend, sizeof ctx->backend, "ipc://%.*s/workers.sock", RUN_DIR_MAX,
             ctx->cfg.run_dir);
    if (ctx->cfg.admin[0])
        snprintf(ctx->admin, sizeof ctx->admin, "%s", ctx->cfg.admin);
    else
        snprintf(ctx->admin, sizeof ctx->admin, "ipc://%.*s/admin.sock", RUN_DIR_MAX,
                 ctx->cfg.run_dir);
    if (prepare_run_dir(err, sizeof err) < 0) {
        fd_log(FD_ERROR, "start_failed", "message=\"%s\"", err);
        return 1;
    }
    fd_log(FD_INFO, "start", "version=%s entries=%zu cached=%s load_ms=%lld workers=%d "
           "config=%s mode=%s", ctx->version, fe_ruleset_entries(S.rs),
           fe_ruleset_cached(S.rs) ? "yes" : "no", (long long)((fd_now_ns() - t0) / 1000000),
           ctx->nworkers, S.conf, ctx->cfg.mode);
    if (ctx->cfg.log_text)
        fd_log(FD_WARN, "log_text", "message=\"user text is written to the log (log-text yes)\"");
    return 0;
errors:
    for (const char *p = e.text; p && *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        if (check)
            fprintf(stderr, "%.*s\n", len, p);
        else
            fd_log(FD_ERROR, "config_error", "message=\"%.*s\"", len, p);
        p += len + (nl != NULL);
    }
    if (e.count > FE_ERRORS_MAX)
        fprintf(stderr, "... %d errors in all\n", e.count);
    fe_errors_clear(&e);
    return rc;
}

int main(int argc, char **argv)
{
    int check = 0;
    S.helper_fd = -1;
    fd_log_init("supervisor", 0);
    if (options(argc, argv, &check) < 0)
        return 2;
    if (start(&S.ctx, check) != 0)
        return 1;
    fd_log_init("supervisor", S.ctx.cfg.log_text);
    if (pipe(S.sigpipe) < 0)
        return 1;
    fcntl(S.sigpipe[0], F_SETFL, O_NONBLOCK);
    fcntl(S.sigpipe[1], F_SETFL, O_NONBLOCK);
    signals();
    if (spawn_broker() < 0)
        return 1;
    spawn_missing();
    int rc = supervise();
    unlink(S.readyfile);
    unlink(S.pidfile);
    fe_ruleset_free(S.rs);
    fd_log(FD_INFO, "exit", "status=%d", rc);
    return rc;
}
