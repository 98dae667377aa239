/* broker.h -- the broker process's private header: its state, and its files' prototypes.
 *
 *   broker.c   sockets, the poll loop, control messages from the supervisor
 *   front.c    client requests: envelope, decoding, admission, answers, fallbacks
 *   workers.c  the worker table: hellos, answers, dispatch, heartbeats, generations
 *   slots.c    request slots, the queue and the deadline heap
 *   admin.c    the admin endpoint
 * Single-threaded: everything here runs in the broker's one loop. */
#ifndef FD_BROKER_H
#define FD_BROKER_H

#include <zmq.h>

#include "daemon.h"

#define FD_MAX_ENV 4              /* routing frames before the empty delimiter */
#define FD_FRAME_SLACK (16 << 20) /* bytes: frames up to max-text-bytes + this get a
                                     too_large reply; larger ones are cut by ZeroMQ */
#define FD_BATCH 64               /* messages read from one socket per poll round */
#define FD_LINGER_MS 1000         /* msecs: flush replies when closing at shutdown */
#define FD_FRONT_HWM 100000       /* replies queued to one client before sends fail */
#define FD_MAX_WAITERS 256        /* admin reloads waiting for one result */

enum fd_wstate { FD_WS_FREE, FD_WS_IDLE, FD_WS_BUSY };

/* What a reload changed, from the supervisor's "changes" message, for the
 * admin reply. Index FE_NLABELS counts allow-list entries. */
typedef struct fd_changes {
    int known;                    /* 0: no "changes" came for this reload */
    uint64_t entries;             /* in the new version */
    uint64_t added[FE_NLABELS + 1], removed[FE_NLABELS + 1];
} fd_changes;

typedef struct fd_worker {
    int state;                    /* enum fd_wstate */
    int retiring;                 /* old generation: no new requests, exits when idle */
    int told;                     /* FW_B_RETIRE sent */
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

/* A request inside the broker, from its arrival to its answer: queued, or
 * in a worker. Its frames live in the slot (slots are allocated once and
 * reused, so a request costs no allocation). */
typedef struct fd_slot {
    int live;
    int queued;
    uint64_t seq;
    zmq_msg_t env[FD_MAX_ENV];    /* routing frames, delimiter excluded */
    int nenv;
    zmq_msg_t body;
    int has_body;
    char id[FW_ID_MAX + 16];      /* msgpack bytes of the id */
    size_t idlen;
    int64_t arrival, deadline;
    int heap;                     /* position in the deadline heap */
    int prev, next;               /* FIFO links while queued */
    int tries;
} fd_slot;

typedef struct fd_broker {
    const fd_ctx *ctx;
    fw_limits limits;             /* what a request may be */
    void *zctx, *front, *back, *admin;
    int ctl;
    int stopping;
    int ctl_lost;                 /* the supervisor is gone: leave the loop */
    fd_worker w[FD_MAX_WORKERS];
    int nw;                       /* highest used index + 1 */
    int rr;                       /* where the next dispatch starts looking */
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
    zmq_msg_t waiter[FD_MAX_WAITERS]; /* admin reload callers' routing ids */
    int nwaiters, reloading;
    fd_changes changes;           /* of the reload about to take over */
    fd_stats st;
    msgpack_sbuffer sb;           /* replies the broker writes itself */
    msgpack_packer pk;
} fd_broker;

/* broker.c */
/* Send [env...][""][data] without blocking: 0, or -1 when the peer is gone
 * or over its high-water mark (the reply is dropped). */
int fd_route(void *sock, zmq_msg_t *env, int nenv, const void *data, size_t len);
msgpack_packer *fd_packer(fd_broker *b);   /* b->pk on an empty buffer */

/* front.c: the request endpoint */
void fd_front_request(fd_broker *b, zmq_msg_t *f, int n, int truncated);
/* Answer slot s with the fallback decision (why: FW_DEG_*) and free it. */
void fd_front_fallback(fd_broker *b, int s, int why, const char *warning);
/* A reply to the client of slot s (or to env); undeliverable ones are counted. */
void fd_front_reply(fd_broker *b, zmq_msg_t *env, int nenv, const void *data, size_t len);
void fd_front_count(fd_broker *b, int action, uint32_t labels, uint64_t us);
void fd_front_expire(fd_broker *b);        /* fall back every request past its deadline */

/* workers.c: the worker table */
void fd_workers_msg(fd_broker *b);         /* one message on the backend socket */
void fd_workers_dispatch(fd_broker *b);    /* queued requests to idle workers */
void fd_workers_heartbeats(fd_broker *b);  /* kill the silent ones */
void fd_workers_dead(fd_broker *b, pid_t pid);
void fd_workers_generation(fd_broker *b, uint32_t gen, const char *version,
                           const char *previous);
void fd_workers_retire_all(fd_broker *b);  /* at shutdown */
int fd_workers_count(const fd_broker *b, int *busy);

/* slots.c: a request's slot from arrival to answer, the queue, the deadlines. */
int fd_slot_new(fd_broker *b);                 /* a zeroed live slot, or -1 */
void fd_slot_free(fd_broker *b, int s);        /* out of queue and heap, frames closed */
void fd_slots_release(fd_broker *b);           /* everything, at exit */
void fd_enqueue(fd_broker *b, int s, int front); /* front: a retried request */
void fd_unqueue(fd_broker *b, int s);
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
