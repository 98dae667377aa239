/* broker.h -- the broker process's private header: its state, and its files' prototypes.
 *
 *   broker.c   sockets, the poll loop, control messages from the supervisor
 *   front.c    a client's message: envelope, decoding, admission (checks and bulk checks)
 *   replies.c  a request's answers and fallbacks, and the one reply its client gets
 *   workers.c  the worker table: links, hellos, heartbeats, generations, deaths
 *   dispatch.c texts to workers under their credit, answers back to requests
 *   slots.c    request slots, tasks (one per text), the queue and the deadline heap
 *   admin.c    the admin endpoint
 *   zconn.c    client connections: accepted, read and written by the broker itself
 *   zmtp.c     ZeroMQ's wire protocol (ZMTP 3), server side: a pure codec
 * Single-threaded: everything here runs in the broker's one loop.
 *
 * A request (a slot) holds one text or, for a bulk check, many; each text
 * is a task. Tasks wait in one FIFO queue and go to workers, several per
 * worker (its credit, worker-window), so that a worker never idles while
 * texts wait. The request is answered when its last text is, or at its
 * deadline with the fallback for the texts still out. */
#ifndef FD_BROKER_H
#define FD_BROKER_H

#include <poll.h>

#include <zmq.h>

#include "daemon.h"
#include "link.h"
#include "zconn.h"

#define FD_MAX_ENV 3              /* frames a client may send before the empty delimiter */
#define FD_FRAME_SLACK (16 << 20) /* bytes: a client message may be max-text-bytes + this */
#define FD_ENV_SLACK 4096         /* + this (its envelope), in all its frames */
#define FD_ADMIN_MAX_MSG (1 << 16) /* bytes: an admin message, each frame and in all */
#define FD_FRONT_BATCH 256        /* admin messages read per poll round */
#define FD_LINGER_MS 1000         /* msecs: flush replies when closing at shutdown */
#define FD_POLL_FIXED 4           /* poll set entries before the workers' links */
#define FD_FD_RESERVE 64          /* descriptors the broker needs besides connections and workers */
#define FD_MAX_WAITERS 256        /* admin reloads waiting for one result */
#define FD_SLOT_KEEP (64u << 10)  /* bytes: a bulk result buffer larger is freed after use */
#define FD_SLOT_KEEP_ITEMS 256    /* texts: a slot's arrays for more are freed after use */
#ifndef FD_WORKER_LATE_NS
#define FD_WORKER_LATE_NS 200000LL /* ns: a worker silent this long while it holds texts gets
                                      more only when no other takes them (dispatch.c) */
#endif

enum fd_wstate { FD_WS_FREE, FD_WS_NEW, FD_WS_READY };   /* NEW: connected, no hello yet */
enum { FD_QUIET_ADMIN = 2 };
enum { FD_TRUNC_FRAMES = 1, FD_TRUNC_BYTES = 2 };   /* why drain() cut a message */

/* What a reload changed, from the supervisor's "changes" message, for the
 * admin reply. Index FE_NLABELS counts allow-list entries. */
typedef struct fd_changes {
    int known;                    /* 0: no "changes" came for this reload */
    uint64_t entries;             /* in the new version */
    uint64_t added[FE_NLABELS + 1], removed[FE_NLABELS + 1];
} fd_changes;

typedef struct fd_worker {
    int state;                    /* enum fd_wstate */
    int retiring;                 /* old generation: no new texts, exits when it holds none */
    int told;                     /* retire frame sent */
    fd_link link;
    pid_t pid, peer;              /* from its hello; from the socket (SO_PEERCRED) */
    uint32_t gen;
    char version[32];
    int held;                     /* tasks sent to it and not answered yet */
    int64_t last_seen, since;
    uint64_t served;
} fd_worker;

/* One text to check, from admission to its answer. seq = gen << 32 | index:
 * an answer finds its task in O(1), and a late one finds a newer gen. */
typedef struct fd_task {
    uint32_t gen;
    int live;
    int slot;                     /* its request, or -1 once that was answered without it */
    uint32_t item;                /* its place in the request */
    int worker;                   /* the worker holding it, or -1 */
    int queued, prev, next;       /* FIFO links while queued */
    int tries;
    int scene, flags;             /* FD_TASK_* */
    const char *id;               /* msgpack bytes of its id (the request's, or the item's) */
    size_t idlen;
    const char *text;             /* in the request's body */
    size_t textlen;
} fd_task;

/* A request inside the broker, from its arrival to its reply. Its frames
 * and arrays live in the slot (slots are allocated once and reused, so a
 * request costs no allocation once the broker has seen one that large). */
typedef struct fd_slot {
    int live, bulk;
    fd_zid conn;                  /* the client's connection */
    fw_zmtp_part env[FD_MAX_ENV]; /* its envelope frames (delimiter excluded), in msg */
    int nenv;
    uint8_t *msg;                 /* the request's frames, taken from the connection */
    size_t msgcap;
    char id[FW_ID_MAX + 16];      /* msgpack bytes of the id */
    size_t idlen;
    int64_t arrival, deadline;
    int heap;                     /* position in the deadline heap */
    uint32_t nitems, nleft;       /* texts, and those not answered yet */
    uint32_t cap;                 /* room in the arrays below */
    int *task;                    /* per text: its task, or -1 once answered */
    uint32_t *roff, *rlen;        /* bulk: per text, its result's bytes in res */
    msgpack_sbuffer res;          /* bulk: the item results, as they come */
    uint32_t counts[3];           /* decisions by fe_action, for the request log */
    pid_t worker;                 /* the last worker that answered, for the log */
} fd_slot;

typedef struct fd_broker {
    const fd_ctx *ctx;
    fw_limits limits;             /* what a request may be */
    size_t max_message;           /* bytes of a client message, all its frames */
    void *zctx, *admin;
    int admin_fd;                 /* its ZMQ_FD, for poll() */
    int quiet;                    /* FD_QUIET_*: read dry and not used since */
    fd_zconns zc;                 /* the client connections (zconn.c) */
    int nconns;
    int listen;                   /* the workers' unix socket */
    int ctl;
    int stopping;
    int ctl_lost;                 /* the supervisor is gone: leave the loop */
    fd_worker w[FD_MAX_WORKERS];
    int nw;                       /* highest used index + 1 */
    struct pollfd *pfd;           /* the poll set, rebuilt each round */
    int *pfd_worker;              /* poll set entry -> worker index */
    fd_slot **slot;               /* grown on demand, never shrunk */
    int nslot, *freelist, nfree;
    int *heap, nheap;             /* live slots by deadline */
    fd_task *task;                /* grown on demand, never shrunk */
    int ntask, *taskfree, ntaskfree;
    int qhead, qtail, nqueued;    /* the queue of tasks */
    int held;                     /* tasks in workers */
    uint32_t gen;                 /* generation requests go to */
    int switched;                 /* a worker of gen has said hello */
    char version[32], previous[32], pending[32], pending_prev[32];
    int64_t version_since, started;
    int ready_sent;
    zmq_msg_t waiter[FD_MAX_WAITERS]; /* admin reload callers' routing ids */
    int nwaiters, reloading;
    fd_changes changes;           /* of the reload about to take over */
    fd_stats *st;                 /* ctx->stats: shared with the supervisor */
    msgpack_sbuffer sb;           /* replies the broker writes itself */
    msgpack_packer pk;
} fd_broker;

/* broker.c */
/* Send [env...][""][data] without blocking: 0, or -1 when the peer is gone
 * or over its high-water mark (the reply is dropped). */
int fd_route(void *sock, zmq_msg_t *env, int nenv, const void *data, size_t len);
msgpack_packer *fd_packer(fd_broker *b);   /* b->pk on an empty buffer */

/* front.c: the request endpoint */
/* The message z just delivered, from connection id (its buffer may be taken):
 * 1, it is answered (now or later, exactly once), or 0, dropped unanswered. */
int fd_front_request(fd_broker *b, fd_zid id, fw_zmtp *z);
/* [env...][""][data] to connection id; undeliverable ones are counted and logged. */
void fd_front_reply(fd_broker *b, fd_zid id, const fw_zmtp_part *env, int nenv, const void *data,
                    size_t len);

/* replies.c: what a request's texts get, and its reply */
/* Text item of request s answered by a worker (a: its A frame). */
void fd_reply_answer(fd_broker *b, int s, uint32_t item, const fd_answer_msg *a, pid_t pid);
/* Text item of s gets the fallback (why: FW_DEG_*, warning or NULL). */
void fd_reply_fallback(fd_broker *b, int s, uint32_t item, int why, const char *warning);
/* Bulk: text item of s was refused at admission (its own error). */
void fd_reply_item_error(fd_broker *b, int s, uint32_t item, const fw_item *it, int code,
                         const char *msg);
/* Every text of s still out gets the fallback; the reply goes, s is freed. */
void fd_reply_all_fallback(fd_broker *b, int s, int why);
/* s is answered when no text is left: send its reply and free it. */
void fd_reply_finish(fd_broker *b, int s);
void fd_reply_expire(fd_broker *b);      /* fall back every request past its deadline */

/* workers.c: the worker table */
void fd_workers_accept(fd_broker *b);      /* new connections on the listening socket */
void fd_workers_read(fd_broker *b, int i); /* frames from worker i */
void fd_workers_lost(fd_broker *b, int i, const char *why);   /* its tasks retried */
void fd_workers_heartbeats(fd_broker *b);  /* kill the silent ones */
void fd_workers_dead(fd_broker *b, pid_t pid);
void fd_workers_generation(fd_broker *b, uint32_t gen, const char *version,
                           const char *previous);
void fd_workers_retire_all(fd_broker *b);  /* at shutdown */
int fd_workers_count(const fd_broker *b, int *busy);
int fd_worker_eligible(const fd_broker *b, const fd_worker *w);  /* may get new texts */
void fd_worker_retire(fd_worker *w);

/* dispatch.c: queued texts to workers, answers to requests */
void fd_dispatch(fd_broker *b);            /* the queue into workers' credit, then flush */
void fd_dispatch_answer(fd_broker *b, int i, const fd_answer_msg *a);
void fd_dispatch_requeue(fd_broker *b, int i);   /* worker i is gone: its tasks again */

/* slots.c: requests, their tasks, the queue, the deadlines. */
int fd_slot_new(fd_broker *b, uint32_t nitems);  /* a live slot for n texts, or -1 */
void fd_slot_free(fd_broker *b, int s);        /* its tasks let go, frames closed */
void fd_slots_release(fd_broker *b);           /* everything, at exit */
int fd_task_new(fd_broker *b, int s, uint32_t item);   /* a task of s, or -1 */
void fd_task_free(fd_broker *b, int t);
void fd_task_release(fd_broker *b, int t);     /* its request is done: free or orphan it */
void fd_enqueue(fd_broker *b, int t, int front); /* front: a retried task */
void fd_unqueue(fd_broker *b, int t);
void fd_deadline_add(fd_broker *b, int s);     /* after slot[s]->deadline is set */
int fd_deadline_first(const fd_broker *b);     /* the slot that expires first, or -1 */

/* admin.c: one admin request [id][empty][body] on the admin ROUTER. */
void fd_admin_handle(fd_broker *b, zmq_msg_t *ident, const void *body, size_t len);
/* The supervisor's answer to a reload: ok (the new version is serving) or
 * the errors ("file:line: reason" lines). Answers every waiting caller; on
 * ok, also tells the supervisor which version serves now. */
void fd_admin_reloaded(fd_broker *b, int ok, const char *errors);
/* The supervisor's "changes ENTRIES LABEL:+A:-R ..." (text after "changes "). */
void fd_admin_changes(fd_broker *b, const char *text);

#endif
