/* daemon.h -- filterd's private header: the context, tunables and prototypes, grouped by file.
 *
 * The daemon is five kinds of process (proc.c has the table):
 *   filterd.c  supervisor: options, loads the rule set, forks and reaps the rest
 *   broker.c   the ZeroMQ broker (with front.c, replies.c, workers.c,
 *              dispatch.c, slots.c, admin.c; their private header is broker.h)
 *   worker.c   scans the texts the broker sends it, on the shared rule set
 *   link.c     the broker's link to each worker: frames on a unix socket
 *   helper.c   compiles new lists off the serving path for a reload
 *   http.c     the HTTP front door, a client of the broker (with httpreq.c,
 *              wxa.c, metrics.c, tokens.c; their private header is http.h)
 * with options.c (the command line), rundir.c (the run directory and its
 * files), notify.c (systemd's notify protocol), proc.c (the process table),
 * answer.c (an engine result in the wire's shape),
 * settings.c (filterd.conf), stats.c (the latency histogram) and log.c
 * (structured logs). The wire format is ../wire; the engine is ../engine.
 * Supervisor and broker talk over a SOCK_SEQPACKET socketpair, one text
 * message per packet (see "control messages" below). */
#ifndef FD_DAEMON_H
#define FD_DAEMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "settings.h"
#include "wire.h"

#define FD_NAME "filterd"

/* Tunables (not worth a config setting). */
#define FD_CTL_MAX 65536          /* bytes: largest control message */
#define FD_STOP_GRACE_MS 3000     /* msecs: workers get this long to exit, then SIGKILL */
#define FD_RESTART_MIN_MS 100     /* msecs: first delay when workers die young */
#define FD_RESTART_MAX_MS 5000    /* msecs: cap of that delay (doubles each time) */
#define FD_YOUNG_MS 1000          /* msecs: a worker or broker that dies younger counts as a crash loop */
#define FD_EXIT_START 3           /* a child's exit status: it could not start (bind, sockets) */
#define FD_LOG_BURST 10           /* per-request warnings logged per second; the rest counted */
#define FD_MAX_WORKERS 1024       /* worker processes (old and new generations) */
#define FD_MS 1000000LL           /* ns per ms */
#define FD_BROKER_SLICE_US 100    /* usecs: the broker's time slice (proc.c; the kernel's least) */

/* Control messages, one text packet each:
 *   broker -> supervisor  "reload"        an admin asked for a reload
 *                         "kill PID"      the worker missed its heartbeats
 *                         "ready"         every first worker said hello
 *                         "serving VERSION"  a reload's first new worker took over
 *                         "stopped"       the broker drained and is exiting
 *   supervisor -> broker  "changes ENTRIES LABEL:+ADDED:-REMOVED ..."  what the
 *                                         reload below changes (sent just before it)
 *                         "version GEN VERSION PREVIOUS"   a new rule set is live
 *                         "failed VERSION\nfile:line: reason\n..."
 *                         "dead PID REPLACED"               a worker was reaped
 *                         "stop"          drain and exit */

/* Everything the broker and the workers need from the supervisor. */
typedef struct fd_ctx {
    fd_config cfg;
    int echo;                 /* answer allow without scanning (benchmark baseline) */
    int nworkers;
    uint32_t gen;             /* generation of the rule set */
    char version[32];
    char backend[FD_CONF_ENDPOINT_LEN + 32]; /* <run_dir>/workers.sock, a unix socket */
    char admin[FD_CONF_ENDPOINT_LEN + 32];
    char http_front[FD_CONF_ENDPOINT_LEN + 32]; /* ipc://<run_dir>/http.sock: the HTTP
                                                    front door's way in; "" without it */
    int64_t started_ns;       /* supervisor start, monotonic */
    uint64_t run_id;          /* random, per supervisor start: in every worker's hello, so a
                                 worker of another run (an orphan) is never accepted */
    struct fd_stats *stats;   /* the broker's counters, in memory shared with the
                                 supervisor: they outlive a broker restart */
} fd_ctx;

/* proc.c: fill in what every child gets (worker count, run id, the shared
 * counters, endpoint names) from ctx->cfg. 0, or -1 with err. */
int fd_ctx_init(fd_ctx *ctx, const char *version, char *err, size_t errlen);

/* ---- options.c: the command line ----------------------------------------- */
#define FD_MAX_OVERRIDES 16       /* settings given on the command line */
#ifndef FILTERD_VERSION
#define FILTERD_VERSION "unknown" /* the Makefile passes the VERSION file's */
#endif

typedef struct fd_opts {
    char conf[PATH_MAX];          /* the configuration file (--config, else fd_conf_find) */
    char over[FD_MAX_OVERRIDES][FD_CONF_ENDPOINT_LEN * (FD_CONF_MAX_ENDPOINTS + 1)];
    int nover;                    /* settings lines applied after the file */
    int check;                    /* --check-config */
} fd_opts;

/* Parse argv into o; --help and --version print and exit 0. 0, or -1 after
 * a message (and the usage) on stderr, also when no configuration is found. */
int fd_opts_parse(fd_opts *o, int argc, char **argv);
/* The configuration o names: the file, then the command line's settings.
 * 0, or -1 with every "file:line: reason" in err. */
int fd_opts_config(const fd_opts *o, fd_config *c, fe_errors *err);
/* What the settings' table cannot check alone (mode, http-listen and
 * http-tokens, admin-group): 0, or -1 with "file: reason" in err. */
int fd_opts_check(const fd_opts *o, const fd_config *c, fe_errors *err);

/* ---- notify.c: the service manager (systemd Type=notify) ------------------ */
#define FD_RELOAD_LOG_MAX 100     /* error lines of one failed reload written to the log */
int fd_notify_init(void);         /* from $NOTIFY_SOCKET; 0 also when there is none */
/* One datagram of "KEY=VALUE" lines; a no-op without $NOTIFY_SOCKET. */
void fd_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t fd_notify_watchdog_ms(void);  /* how often to send WATCHDOG=1 (msecs); 0: never */

/* ---- log.c ---------------------------------------------------------------- */
enum fd_level { FD_DEBUG, FD_INFO, FD_WARN, FD_ERROR };
/* Per-request warnings, each rate-limited on its own. */
enum fd_log_kind { FD_LK_OVERLOAD, FD_LK_DEADLINE, FD_LK_BAD_REQUEST, FD_LK_REPLY_DROPPED,
                   FD_LK_CONN_REFUSED, FD_LK_PROTOCOL, FD_NLK };
void fd_log_init(const char *proc, int log_text);
/* One line: "ts=... level=... proc=... pid=... event=EVENT <fmt>" to stderr. */
void fd_log(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* At most FD_LOG_BURST warnings of one kind a second, then one line
 * counting those suppressed. */
void fd_log_limited(enum fd_log_kind kind, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Quote a value for a log line (escapes, cut at 64 bytes; binary as hex). */
const char *fd_log_quote(const void *p, size_t n, char *buf, size_t size);
/* Quote a message for a log line: "..." with '"', '\\' and control bytes
 * escaped, not shortened (only to fit buf). Every message that may hold what
 * a client sent or a list file says (an unknown op, a list's "file:line:
 * reason") goes through one of them: s[0..n), or the string msg. */
const char *fd_log_quote_all(const char *s, size_t n, char *buf, size_t size);
const char *fd_log_msg(const char *msg, char *buf, size_t size);
/* Each line of text (a failed reload's "file:line: reason" lines) as one
 * quoted message under event, up to max of them, then one line counting the
 * rest (event_not_logged). The number of lines. */
int fd_log_lines(int level, const char *event, const char *text, int max);
/* A msgpack-encoded id for a log line. */
const char *fd_log_id(const void *raw, size_t n, char *buf, size_t size);
int fd_log_text_enabled(void);
int64_t fd_now_ns(void);                 /* CLOCK_MONOTONIC */

/* ---- stats.c -------------------------------------------------------------- */
/* Latency histogram: log-bucketed, constant memory, about 6% resolution. */
#define FD_HIST_SUB 16            /* sub-buckets per power of two */
#define FD_HIST_BUCKETS (64 * FD_HIST_SUB)
typedef struct fd_hist {
    uint64_t n, max, sum;
    uint64_t b[FD_HIST_BUCKETS];
} fd_hist;
void fd_hist_add(fd_hist *h, uint64_t v);
uint64_t fd_hist_pct(const fd_hist *h, double q);  /* q in [0,1]; 0 when empty */
/* Fixed bounds for a cumulative histogram (Prometheus buckets): 25 us x 2^i,
 * i < FD_HIST_FIXED (25 us .. 3.3 s). Each is a bucket edge of the log
 * histogram, so the count of values below it is exact, not interpolated. */
#define FD_HIST_FIXED 18
uint64_t fd_hist_bound(int i);                     /* usecs */
uint64_t fd_hist_below(const fd_hist *h, uint64_t bound);  /* values < bound */

typedef struct fd_stats {
    uint64_t requests, errors;
    uint64_t errors_by[FW_E_RELOAD_FAILED + 1]; /* by enum fw_err */
    uint64_t scenes[FE_NSCENES];  /* texts admitted, by scene */
    uint64_t bulk;                /* bulk requests among them */
    uint64_t degraded[FW_NDEGRADED]; /* by enum fw_degraded: deadline, overload */
    uint64_t dropped;             /* replies whose client was gone or not reading */
    uint64_t decisions[3];        /* by fe_action */
    uint64_t labels[FE_NLABELS];
    uint64_t worker_restarts, reloads, reload_failures;
    uint64_t broker_restarts;     /* the broker died and was started again */
    uint64_t workers_refused;     /* hellos from another process or another run */
    uint64_t too_large;           /* client messages over their limit in all frames, refused */
    uint64_t connections_refused; /* client connections past max-connections, closed */
    uint64_t protocol_errors;     /* client connections closed for not speaking ZMTP 3 */
    uint64_t reply_queue_full;    /* replies dropped: reply-queue-bytes already queued */
    uint64_t reads_paused;        /* client connections paused: their replies piled up */
    fd_hist latency;              /* elapsed_us of every decision */
} fd_stats;
void fd_stats_error(fd_stats *st, int code);      /* one more error reply of code */

/* ---- proc.c: the process table -------------------------------------------- */
enum fd_proc { FD_PROC_BROKER, FD_PROC_WORKER, FD_PROC_HELPER, FD_PROC_HTTP, FD_NPROCS };

/* What a child process gets. */
typedef struct fd_proc_arg {
    const fd_ctx *ctx;
    const fe_ruleset *rs;         /* worker: the rule set it shares copy-on-write */
    fe_ruleset *inherited;        /* a child that does not scan: the supervisor's rule set,
                                     which its copy of the memory gives back at once */
    const fd_config *cfg;         /* helper: the configuration to compile */
    int fd;                       /* broker: its end of the control socket;
                                     helper: the result pipe; else -1 */
} fd_proc_arg;

/* Fork a process of the kind: in the child, default signals, death with the
 * supervisor, every descriptor but stdio and a->fd closed, a->inherited
 * freed (else the supervisor's rule set would live on in the child's copy
 * of its memory after a reload frees it: ~60 MB for the broker's whole life), logs under the
 * kind's name, privileges dropped if the kind starts unprivileged, then its
 * main; the child exits with main's status. Returns the child's pid, or -1
 * with a message in err. */
pid_t fd_proc_start(enum fd_proc kind, const fd_proc_arg *a, char *err, size_t errlen);
const char *fd_proc_name(enum fd_proc kind);
/* The delay (msecs) before restarting a process that lived age_ms: 0 when
 * it lived FD_YOUNG_MS or more, else *ms doubled from FD_RESTART_MIN_MS up
 * to FD_RESTART_MAX_MS (kept in *ms for the next time). */
int64_t fd_proc_backoff(int *ms, int64_t age_ms);
/* 1 when running as root with a user to drop to (its ids in *uid, *gid),
 * 0 when there is nothing to drop, -1 for an unknown user (message in err). */
int fd_privsep_user(const fd_config *cfg, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* 1 with the id of cfg->admin_group in *gid, 0 when it is "", -1 when the
 * group does not exist or this process may not give a file to it (message). */
int fd_admin_group(const fd_config *cfg, gid_t *gid, char *err, size_t errlen);
/* Drop to cfg->user when root (no-op otherwise or when user is ""); the
 * parent-death signal is set again afterwards (setuid clears it). */
int fd_drop_privileges(const fd_config *cfg, char *err, size_t errlen);

/* The processes' entry points (the table's rows). */
int fd_broker_main(const fd_proc_arg *a);   /* broker.c */
int fd_worker_main(const fd_proc_arg *a);   /* worker.c */
int fd_helper_main(const fd_proc_arg *a);   /* helper.c: "ok VERSION\n" or
                                               "failed\n<errors>" up a->fd */
int fd_http_main(const fd_proc_arg *a);     /* http.c: the HTTP front door */

/* ---- http.c: what the supervisor needs of the HTTP front door ------------- */
int fd_http_enabled(const fd_config *cfg);  /* http-listen is set (not "" or "off") */
/* http-listen and http-tokens can be used: 0, or -1 with a message in err. */
int fd_http_check(const fd_config *cfg, char *err, size_t errlen);

/* ---- rundir.c: the run directory ------------------------------------------ */
/* Create run-dir and make it ours alone (searchable by the unprivileged
 * user, writable by no one else); refuse when another live filterd's pid
 * file is there; write ours. */
int fd_rundir_prepare(const fd_config *cfg, char *err, size_t errlen);
void fd_rundir_ready(const fd_config *cfg, const char *version);  /* filterd.ready */
void fd_rundir_unready(const fd_config *cfg);
void fd_rundir_remove(const fd_config *cfg);                       /* pid and ready files */

/* ---- broker.c ------------------------------------------------------------- */
void fd_ctl_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
