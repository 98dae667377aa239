/* inflight.h -- the client library's private header: the client and its requests in flight.
 *
 * fclient.c is the public API (fclient.h); inflight.c keeps the requests in
 * flight in slots, resends them (Lazy Pirate) and turns each reply, or the
 * lack of one, into a completion; fcsock.c holds the sockets. */
#ifndef FC_INFLIGHT_H
#define FC_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "fcsock.h"

typedef struct fc_slot {
    uint32_t gen;           /* bumped on every reuse: old replies cannot match */
    int used, ping;
    size_t nitems;          /* 0: one text; else a bulk check of this many */
    char *body;             /* encoded request, owned */
    size_t len;
    int64_t deadline;       /* msecs (monotonic): the call's limit */
    int64_t try_end;        /* msecs: end of the current try */
    int try_ms;
    int tries;
    size_t tag;             /* the caller's: fc_check_many's first index */
} fc_slot;

struct fc_client {
    void *ctx, *sock;       /* the ZeroMQ DEALER (none with a transport) */
    fc_transport tr;        /* the caller's transport or zd's: tr.open set (fcsock.c) */
    struct fc_zdealer *zd;  /* the library's own DEALER (fc_own_link; owned), or NULL */
    char *eps[FC_MAX_ENDPOINTS];
    int neps, cur;
    fc_options opt;
    fc_slot *slots;
    uint32_t *freel;        /* indexes of free slots */
    size_t cap, nfree, inflight;
    size_t texts;           /* texts in flight (a bulk check counts its items) */
    char version[128];      /* the last version seen, for fallback results */
    int caller_polls;       /* fc_polled was called: the caller polls the transport's
                             * descriptor and says what it found (fc_wait need not) */
    int drained;            /* the last use of sock was a recv that found nothing, so
                             * its ZMQ_FD will signal the next reply (fc_pollfd) */
};

/* A completed request. r is a decision, an error, a pong or the fallback;
 * for a bulk check r.results holds its nitems results, in order (each a
 * decision or an error), whatever the server said. The caller owns r. */
typedef struct fc_done {
    uint64_t id;
    size_t tag, nitems;
    fc_result r;
} fc_done;

/* Queue one request: a ping, a check of one (n == 0) or a bulk check of
 * items[0..n) (n >= 1), with base's scene, budget and explain. 0 with *id,
 * or -1 with a message in err. */
int fc_queue(fc_client *c, int ping, const fw_request *base, const fw_request *items,
             size_t n, int timeout_ms, size_t tag, uint64_t *id, char *err, size_t errlen);
/* Wait up to timeout_ms (-1: no limit) for one completion: 0 with d filled,
 * 1 for a ping nobody answered (err says so), -1 on timeout or error. */
int fc_wait(fc_client *c, int timeout_ms, fc_done *d, char *err, size_t errlen);
void fc_slots_free(fc_client *c);
/* Msecs until the first try or call limit of c ends (0: one is due), -1
 * when nothing is in flight. */
int fc_next_timer(const fc_client *c);

#endif
