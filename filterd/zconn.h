/* zconn.h -- the broker's client connections: accepted by the broker itself, spoken ZMTP on.
 *
 * The request endpoints (listen, and the HTTP front door's ipc socket) are
 * listening sockets of the broker's own; every connection is a descriptor
 * in one epoll set, with a ZMTP codec (zmtp.h) for what comes in and a
 * buffer for the replies going out. What a client can make the broker
 * hold is bounded per connection: the message being read (max-text-bytes
 * + 16 MiB + 4 KiB over all its frames, the rest skipped as it streams)
 * and the replies it has not taken. Those are held back, not dropped: a
 * connection is not read (paused) while its replies queued and its requests
 * not yet answered pass half of reply-queue-max, or its queued reply bytes
 * half of reply-queue-bytes, and is read again below a quarter of both; the
 * client is slowed, its requests wait in its own socket. Past the limits
 * themselves a reply is still dropped and counted, the last resort (only
 * when the replies to the requests already read are larger than the bytes
 * left, docs/protocol.md); connections are bounded by max-connections at
 * accept. A connection is named by its descriptor
 * and a generation (fd_zid), so a reply for a connection gone and a
 * descriptor reused goes nowhere. */
#ifndef FD_ZCONN_H
#define FD_ZCONN_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "zmtp.h"

#define FD_ZC_READ (64u << 10)    /* bytes: one read() of a connection */
#define FD_ZC_READS 16            /* reads of one connection per wake-up, at most */
#define FD_ZC_EVENTS 256          /* epoll events taken per round */
#define FD_ZC_ACCEPTS 64          /* connections accepted per listener per round */
#define FD_ZC_KEEP (64u << 10)    /* bytes: an idle connection's buffers larger are freed */
#define FD_ZC_LISTEN_MAX 16       /* listening sockets */
#define FD_ZC_PAUSE_MS 100        /* msecs: accepting waits after EMFILE */
#define FD_ZC_BACKLOG 1024        /* listen() backlog */
#define FD_HOLD_MAX 64            /* refused connections held open at once */
#define FD_HOLD_MS 1000           /* msecs a refused connection is held before it is closed */
#define FD_ZC_LISTENER (1ull << 32)  /* epoll data: a listener's index, with this bit */

typedef uint64_t fd_zid;          /* a connection: generation << 32 | descriptor */

typedef struct fd_zconn {
    int fd;                       /* -1: none */
    uint32_t gen;
    fw_zmtp z;
    fd_buf out;                   /* replies (and PONGs) not written yet */
    uint64_t put, sent;           /* bytes ever put in out, and written from it */
    uint64_t *ends;               /* ring: where each reply still in out ends (in put's count) */
    int qh, qn, qcap;             /* its head, the replies in it, its room */
    uint32_t events;              /* what epoll watches for it */
    int dirty;                    /* in the flush list */
    int inflight;                 /* requests read whose reply is not queued yet */
    int paused;                   /* not read until its replies drain (EPOLLIN off) */
    int resumed;                  /* in the resume list: held bytes to take, then read */
    fd_buf held;                  /* the rest of the read it paused in, not yet decoded */
} fd_zconn;

typedef struct fd_zconns {
    int ep;                       /* the epoll set: listeners and connections */
    int lfd[FD_ZC_LISTEN_MAX], nl;
    char lpath[FD_ZC_LISTEN_MAX][108];   /* an ipc listener's path (removed at close) */
    int64_t paused;               /* accepting resumes then (0: not paused) */
    fd_zconn *c;                  /* by descriptor */
    int cap;
    fd_zid *dirty;                /* connections with replies to write this round */
    int ndirty, dcap;
    fd_zid *resume;               /* paused connections whose replies drained */
    int nresume, rcap;
    int hold[FD_HOLD_MAX];        /* refused connections held open, until then */
    int64_t until[FD_HOLD_MAX];
    int nhold;
    uint8_t *rbuf;                /* FD_ZC_READ bytes: every read goes here first */
} fd_zconns;

enum { FD_ZC_SENT = 0, FD_ZC_GONE = -1, FD_ZC_FULL = -2 };

struct fd_broker;
/* Bind the endpoints, after checking RLIMIT_NOFILE: 0, or -1 with err. */
int fd_zconn_open(struct fd_broker *b, char *err, size_t errlen);
void fd_zconn_close(struct fd_broker *b);
/* Bind endpoint ep (tcp:// or ipc://) as a listener in the epoll set (zlisten.c). */
int fd_zlisten_bind(struct fd_broker *b, const char *ep, char *err, size_t errlen);
int fd_zconn_fd(const struct fd_broker *b);  /* the epoll set, for poll() */
/* Accept, read (every message to fd_front_request), write what is ready;
 * ready: poll() found the epoll set readable (else epoll is not asked: one
 * system call a round less when only a worker woke the broker). */
void fd_zconn_events(struct fd_broker *b, int ready);
/* Queue a message of n frames to connection id: FD_ZC_SENT, or FD_ZC_GONE or
 * FD_ZC_FULL (dropped). It is written by the next fd_zconn_flush. */
int fd_zconn_send(struct fd_broker *b, fd_zid id, const fw_zmtp_part *f, int n);
void fd_zconn_flush(struct fd_broker *b);    /* one write per connection with replies */
void fd_zconn_stop(struct fd_broker *b);     /* read no more (replies still go out) */
/* Write what is queued, for up to ms (at exit). */
void fd_zconn_linger(struct fd_broker *b, int ms);
/* Msecs until something here is due (a held connection, accepting again), or -1. */
int fd_zconn_due_ms(const struct fd_broker *b);

#endif
