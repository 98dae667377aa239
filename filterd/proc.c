/* proc.c -- the process table: which processes filterd runs, and how each one starts.
 *
 * Like OpenBSD httpd's proc.c: one row per kind of process, with its name
 * (for logs), its entry point and what it keeps of the supervisor's state.
 * Every child starts the same way: default signal handling (the supervisor
 * drains, then stops it, so some kinds ignore SIGTERM), death with the
 * supervisor, every inherited descriptor closed but stdio and its own, logs
 * under its name, and privileges dropped before its main when the kind
 * serves unprivileged from the start. The broker drops them itself, after
 * binding and securing its sockets; the helper keeps the supervisor's user,
 * which owns the compiled-database cache. fd_ctx_init fills in the run
 * context every child gets (run id, shared counters, endpoint names). */
#define _GNU_SOURCE               /* setgroups, close_range */
#include <errno.h>
#include <grp.h>
#include <malloc.h>                /* malloc_trim */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "daemon.h"
#include "fclient.h"

static const struct proc {
    const char *name;
    int (*main)(const fd_proc_arg *a);
    int ignore_term;              /* SIGTERM ignored: the supervisor drains, then stops it */
    int drop_first;               /* privileges dropped before main */
    int slice_us;                 /* its time slice (Linux EEVDF); 0: the kernel's */
} procs[FD_NPROCS] = {
    /* The broker asks for the shortest slice: woken by a request or an answer,
     * it runs at once instead of waiting out a worker's slice on its core
     * (the p99 at half load, bench/README.md round 6); it runs for microseconds. */
    [FD_PROC_BROKER] = {"broker", fd_broker_main, 1, 0, FD_BROKER_SLICE_US},
    [FD_PROC_WORKER] = {"worker", fd_worker_main, 1, 1, 0},
    [FD_PROC_HELPER] = {"helper", fd_helper_main, 0, 0, 0},
    /* binds its port, then drops privileges; SIGTERM: answers what it holds, exits */
    [FD_PROC_HTTP] = {"http", fd_http_main, 0, 0, 0},
};

static pid_t supervisor_pid;      /* the parent of every child, for the death check */

const char *fd_proc_name(enum fd_proc kind)
{
    return (unsigned)kind < FD_NPROCS ? procs[kind].name : "?";
}

#define RUN_DIR_MAX 90            /* bytes: ipc socket paths (sun_path) hold about 107 */

int fd_ctx_init(fd_ctx *ctx, const char *version, char *err, size_t errlen)
{
    ctx->echo = !strcmp(ctx->cfg.mode, "echo");
    ctx->nworkers = ctx->cfg.workers ? ctx->cfg.workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (ctx->nworkers < 1)
        ctx->nworkers = 1;
    ctx->gen = 1;
    ctx->started_ns = fd_now_ns();
    if (getrandom(&ctx->run_id, sizeof ctx->run_id, 0) != sizeof ctx->run_id)
        ctx->run_id = (uint64_t)ctx->started_ns ^ ((uint64_t)getpid() << 32);
    ctx->stats = mmap(NULL, sizeof *ctx->stats, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ctx->stats == MAP_FAILED) {
        ctx->stats = NULL;
        snprintf(err, errlen, "shared memory for the counters: %s", strerror(errno));
        return -1;
    }
    snprintf(ctx->version, sizeof ctx->version, "%s", version);
    if (strlen(ctx->cfg.run_dir) > RUN_DIR_MAX) {
        snprintf(err, errlen, "run-dir is longer than %d bytes (ipc socket paths are limited)",
                 RUN_DIR_MAX);
        return -1;
    }
    snprintf(ctx->backend, sizeof ctx->backend, "%.*s/workers.sock", RUN_DIR_MAX,
             ctx->cfg.run_dir);
    fd_conf_admin(&ctx->cfg, ctx->admin, sizeof ctx->admin);
    if (fd_http_enabled(&ctx->cfg))
        snprintf(ctx->http_front, sizeof ctx->http_front, "ipc://%.*s/http.sock", RUN_DIR_MAX,
                 ctx->cfg.run_dir);
    return 0;
}

int64_t fd_proc_backoff(int *ms, int64_t age_ms)
{
    *ms = age_ms >= FD_YOUNG_MS ? 0 : *ms ? *ms * 2 : FD_RESTART_MIN_MS;
    if (*ms > FD_RESTART_MAX_MS)
        *ms = FD_RESTART_MAX_MS;
    return *ms;
}

int fd_privsep_user(const fd_config *cfg, uid_t *uid, gid_t *gid, char *err, size_t errlen)
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

int fd_admin_group(const fd_config *cfg, gid_t *gid, char *err, size_t errlen)
{
    gid_t groups[256];
    if (!cfg->admin_group[0])
        return 0;
    struct group *gr = getgrnam(cfg->admin_group);
    if (!gr) {
        snprintf(err, errlen, "admin-group '%s' does not exist (addgroup --system %s, or set "
                 "admin-group to \"\")", cfg->admin_group, cfg->admin_group);
        return -1;
    }
    *gid = gr->gr_gid;
    if (geteuid() == 0 || getegid() == gr->gr_gid)
        return 1;
    int n = getgroups(256, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == gr->gr_gid)
            return 1;
    snprintf(err, errlen, "admin-group '%s': filterd runs neither as root nor in that group, "
             "so it cannot give the admin socket to it", cfg->admin_group);
    return -1;
}

/* Die with the supervisor: SIGKILL when it goes, and at once if it is gone. */
static void die_with_parent(void)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (supervisor_pid && getppid() != supervisor_pid)
        _exit(1);
}

int fd_drop_privileges(const fd_config *cfg, char *err, size_t errlen)
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
    die_with_parent();            /* a change of credentials cleared the death signal */
    return 0;
}

/* Close every descriptor but stdio and keep (-1: none). */
static void close_inherited(int keep)
{
    unsigned k = keep >= 3 ? (unsigned)keep : 0;
    int ok = k ? (k == 3 || close_range(3, k - 1, 0) == 0) && close_range(k + 1, ~0u, 0) == 0
               : close_range(3, ~0u, 0) == 0;
    if (ok)
        return;
    long max = sysconf(_SC_OPEN_MAX);   /* kernels before 5.9: one by one */
    for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
        if (fd != keep)
            close((int)fd);
}

/* Ask for the process's time slice (fc_short_slice); a kernel that refuses
 * leaves the default, and nothing else changes. */
static void set_slice(int us)
{
    if (us && fc_short_slice((unsigned)us) < 0)
        fd_log(FD_DEBUG, "slice_refused", "message=\"%s\"", strerror(errno));
}

static void child_init(const struct proc *p, int keep)
{
    struct sigaction sa;
    sigset_t none;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = p->ignore_term ? SIG_IGN : SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    die_with_parent();
    close_inherited(keep);
}

pid_t fd_proc_start(enum fd_proc kind, const fd_proc_arg *a, char *err, size_t errlen)
{
    char msg[256];
    if ((unsigned)kind >= FD_NPROCS) {
        snprintf(err, errlen, "no such process kind");
        return -1;
    }
    const struct proc *p = &procs[kind];
    supervisor_pid = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork %s: %s", p->name, strerror(errno));
        return -1;
    }
    if (pid > 0)
        return pid;
    child_init(p, a->fd);
    if (a->inherited) {
        fe_ruleset_free(a->inherited);   /* ours only: the supervisor's stays */
#ifdef __GLIBC__
        malloc_trim(0);
#endif
    }
    if (kind != FD_PROC_BROKER && a->ctx && a->ctx->stats)
        munmap(a->ctx->stats, sizeof *a->ctx->stats);   /* the broker's to write, no one else's */
    fd_log_init(p->name, a->ctx ? a->ctx->cfg.log_text : a->cfg->log_text);
    set_slice(p->slice_us);
    if (p->drop_first && fd_drop_privileges(a->ctx ? &a->ctx->cfg : a->cfg, msg, sizeof msg) < 0) {
        char quoted[320];
        fd_log(FD_ERROR, "start_failed", "message=%s", fd_log_msg(msg, quoted, sizeof quoted));
        _exit(1);
    }
    _exit(p->main(a));
}
