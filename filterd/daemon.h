/* daemon.h -- filterd's private header: processes, tunables and prototypes, grouped by file.
 *
 * The daemon is four kinds of process, each in its own file:
 *   filterd.c  supervisor: options, loads the rule set, forks and reaps the rest
 *   broker.c   the ZeroMQ load-balancing broker: clients, workers, deadlines, admin
 *   worker.c   one scan at a time on the shared, copy-on-write rule set
 *   helper.c   compiles new lists off the serving path for a reload
 * with admin.c (the admin endpoint, inside the broker), stats.c (the latency
 * histogram), proto.c (protocol v1, proto.h) and log.c (structured logs).
 * Supervisor and broker talk over a SOCK_SEQPACKET socketpair, one text
 * message per packet (see "control messages" below). */
#ifndef FD_DAEMON_H
#define FD_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "proto.h"

#define FD_NAME "filterd"

/* Tunables (not worth a config setting). */
#define FD_MAX_ENV 4              /* routing frames before the empty delimiter */
#define FD_FRAME_SLACK (16 << 20) /* bytes: frames up to max-text-bytes + this get a
                                     too_large reply; larger ones are cut by ZeroMQ */
#define FD_CTL_MAX 65536          /* bytes: largest control message */
#define FD_BATCH 64               /* messages read from one socket per poll round */
#define FD_LINGER_MS 1000         /* msecs: flush replies when closing at shutdown */
#define FD_STOP_GRACE_MS 3000     /* msecs: workers get this long to exit, then SIGKILL */
#define FD_RESTART_MIN_MS 100     /* msecs: first delay when workers die young */
#define FD_RESTART_MAX_MS 5000    /* msecs: cap of that delay (doubles each time) */
#define FD_YOUNG_MS 1000          /* msecs: a worker that dies younger counts as a crash loop */
#define FD_LOG_BURST 10           /* per-request warnings logged per second; the rest counted */

/* Frames between broker and worker (backend ROUTER <-> worker DEALER):
 *   worker -> broker  [FD_W_HELLO][pid u32][gen u32][version]   ready / heartbeat
 *                     [FD_W_ANSWER][seq u64][summary][reply]     one answer
 *   broker -> worker  [FD_B_REQUEST][seq u64][request body]
 *                     [FD_B_RETIRE]                              finish and exit
 * summary = decision u8, 0/1 error u8, labels u32 (for the broker's stats).
 * A reply's last 9 bytes are elapsed_us as a msgpack uint64 (0xcf + 8 bytes):
 * the broker writes the time spent in filterd there just before sending. */
#define FD_W_HELLO 'H'
#define FD_W_ANSWER 'A'
#define FD_B_REQUEST 'Q'
#define FD_B_RETIRE 'X'
#define FD_SUMMARY_LEN 6

/* Control messages, one text packet each:
 *   broker -> supervisor  "reload"        an admin asked for a reload
 *                         "kill PID"      the worker missed its heartbeats
 *                         "ready"         every first worker said hello
 *                         "stopped"       the broker drained and is exiting
 *   supervisor -> broker  "version GEN VERSION PREVIOUS"   a new rule set is live
 *                         "failed VERSION\nfile:line: reason\n..."
 *                         "dead PID REPLACED"               a worker was reaped
 *                         "stop"          drain and exit */

/* Everything the broker and the workers need from the supervisor. */
typedef struct fd_ctx {
    fe_config cfg;
    int echo;                 /* answer allow without scanning (benchmark baseline) */
    int nworkers;
    uint32_t gen;             /* generation of the rule set */
    char version[32];
    char backend[FE_CONF_ENDPOINT_LEN + 32]; /* ipc://<run_dir>/workers.sock */
    char admin[FE_CONF_ENDPOINT_LEN + 32];
    int64_t started_ns;       /* supervisor start, monotonic */
} fd_ctx;

/* ---- log.c ---------------------------------------------------------------- */
enum fd_level { FD_DEBUG, FD_INFO, FD_WARN, FD_ERROR };
void fd_log_init(const char *proc, int log_text);
/* One line: "ts=... level=... proc=... pid=... event=EVENT <fmt>" to stderr. */
void fd_log(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Rate-limited per-request warnings: at most FD_LOG_BURST a second per event
 * kind (0..7), then one line counting those suppressed. */
void fd_log_limited(int kind, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Quote a value for a log line (escapes, cut at 64 bytes; binary as hex). */
const char *fd_log_quote(const void *p, size_t n, char *buf, size_t size);
/* A msgpack-encoded id for a log line. */
const char *fd_log_id(const void *raw, size_t n, char *buf, size_t size);
int fd_log_text_enabled(void);
int64_t fd_now_ns(void);                 /* CLOCK_MONOTONIC */

/* ---- stats.c -------------------------------------------------------------- */
/* Latency histogram: log-bucketed, constant memory, about 6% resolution. */
#define FD_HIST_SUB 16            /* sub-buckets per power of two */
#define FD_HIST_BUCKETS (64 * FD_HIST_SUB)
typedef struct fd_hist {
    uint64_t n, max;
    uint64_t b[FD_HIST_BUCKETS];
} fd_hist;
void fd_hist_add(fd_hist *h, uint64_t v);
uint64_t fd_hist_pct(const fd_hist *h, double q);  /* q in [0,1]; 0 when empty */

typedef struct fd_stats {
    uint64_t requests, errors, deadline, overload;
    uint64_t dropped;             /* replies whose client was gone or not reading */
    uint64_t decisions[3];        /* by fe_action */
    uint64_t labels[FE_NLABELS];
    uint64_t worker_restarts, reloads, reload_failures;
    fd_hist latency;              /* elapsed_us of every decision */
} fd_stats;

/* ---- broker.c, admin.c ---------------------------------------------------- */
#define FD_MAX_WORKERS 1024       /* worker slots in the broker (old and new generations) */
#define FD_MAX_WAITERS 256        /* admin reloads waiting for one result */

enum fd_wstate { FD_WS_FREE, FD_WS_IDLE, FD_WS_BUSY };

typedef struct fd_worker {
    int state;                    /* enum fd_wstate */
    int retiring;                 /* old generation: no new requests, exits when idle */
    int told;                     /* FD_B_RETIRE sent */
    uint8_t ident[256];           /* ZeroMQ routing id */
    size_t identlen;
    pid_t pid;
    uint32_t gen;
    char version[32];
    int slot;                     /* busy: the request slot, or -1 once it was answered */
    uint64_t seq;                 /* busy: the request's sequence number */
    int64_t last_seen, since, busy_since;
    uint64_t served;
} fd_worker;

/* A request inside the broker: queued, or in a worker. */
typedef struct fd_slot {
    int live;
    int queued;
    uint64_t seq;
    void *env[FD_MAX_ENV];        /* zmq_msg_t *: routing frames, delimiter excluded */
    int nenv;
    void *body;                   /* zmq_msg_t * */
    char id[FD_ID_MAX + 16];      /* msgpack bytes of the id */
    size_t idlen;
    int64_t arrival, deadline;
    int heap;                     /* position in the deadline heap */
    int prev, next;               /* FIFO links while queued */
    int tries;
} fd_slot;

typedef struct fd_broker {
    const fd_ctx *ctx;
    void *zctx, *front, *back, *admin;
    int ctl;
    int stopping;
    fd_worker w[FD_MAX_WORKERS];
    int nw;                       /* highest used index + 1 */
    fd_slot **slot;               /* grown on demand, never shrunk */
    int nslot, *freelist, nfree;
    int *heap, nheap;             /* live slots by deadline */
    int qhead, qtail, nqueued;
    uint64_t seq;
    uint32_t gen;                 /* generation requests go to */
    int switched;                 /* a worker of gen has said hello */
    char version[32], previous[32], pending[32], pending_prev[32];
    int64_t version_since, started;
    int ready_sent;
    void *waiter[FD_MAX_WAITERS]; /* zmq_msg_t *: admin reload callers' routing ids */
    int nwaiters, reloading;
    fd_stats st;
    void *sb, *pk;                /* msgpack_sbuffer *, msgpack_packer * */
} fd_broker;

/* broker.c */
/* The broker process's body: binds, drops privileges, serves, returns the
 * exit status. ctl is its end of the control socketpair. */
int fd_broker_main(const fd_ctx *ctx, int ctl);
/* Send [env...][""][data] without blocking: 0, or -1 when the peer is gone
 * or over its high-water mark (the reply is dropped). */
int fd_route(void *sock, void *const *env, int nenv, const void *data, size_t len);
void fd_ctl_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* slots.c: a request's slot from arrival to answer, the queue, the deadlines. */
int fd_slot_new(fd_broker *b);                 /* a zeroed live slot, or -1 */
void fd_slot_free(fd_broker *b, int s);        /* out of queue and heap, frames closed */
void fd_enqueue(fd_broker *b, int s, int front); /* front: a retried request */
void fd_unqueue(fd_broker *b, int s);
void fd_deadline_add(fd_broker *b, int s);     /* after slot[s]->deadline is set */
int fd_deadline_first(const fd_broker *b);     /* the slot that expires first, or -1 */

/* admin.c: one admin request [id][empty][body] on the admin ROUTER. */
void fd_admin_handle(fd_broker *b, void *ident, const void *body, size_t len);
/* The supervisor's answer to a reload: ok (the new version is serving) or
 * the errors ("file:line: reason" lines). Answers every waiting caller. */
void fd_admin_reloaded(fd_broker *b, int ok, const char *errors);

/* ---- worker.c ------------------------------------------------------------- */
/* A worker process's body: connects to the backend, serves until retired,
 * returns the exit status. rs is shared copy-on-write with the supervisor. */
int fd_worker_main(const fd_ctx *ctx, const fe_ruleset *rs);

/* ---- helper.c ------------------------------------------------------------- */
/* Fork a helper that loads (compiles, caches) cfg's lists and writes
 * "ok VERSION" or "failed\n<errors>" to the pipe it returns in *fd.
 * Returns the helper's pid or -1 with a message in err. */
pid_t fd_helper_start(const fe_config *cfg, int *fd, char *err, size_t errlen);

/* ---- filterd.c (shared process helpers) ----------------------------------- */
/* 1 when running as root with a user to drop to (its ids in *uid, *gid),
 * 0 when there is nothing to drop, -1 for an unknown user (message in err). */
int fd_privsep_user(const fe_config *cfg, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* Drop to cfg->user when root (no-op otherwise or when user is ""). */
int fd_drop_privileges(const fe_config *cfg, char *err, size_t errlen);
/* In a fresh child: die with the parent, default signal handling. */
void fd_child_init(int ignore_term);

#endif
