/* fclient.h -- libfilterclient: ask filterd for decisions over ZeroMQ (protocol v1).
 *
 *   fc_client *c = fc_connect(eps, 1, NULL, err, sizeof err);   // NULL: defaults
 *   fc_result r;
 *   if (fc_check(c, text, len, "comment", 0, &r, err, sizeof err) == 0)
 *       printf("%s\n", fc_decision_name(r.decision));
 *   fc_result_free(&r);
 *   fc_close(c);
 *
 * A client holds one DEALER, connected to one endpoint at a time, and may
 * keep many requests in flight on it (fc_send / fc_recv, fc_check_many);
 * replies are matched by id. On ipc:// endpoints the DEALER is the
 * library's own (ZMTP 3 spoken on a plain unix socket: one sendmsg a
 * message, one read for every reply that is there, no I/O thread); on
 * tcp:// ones, or with fc_options.libzmq, libzmq's. Either talks to any
 * ZMTP 3 ROUTER. Several texts can go in one bulk check (one
 * request, one reply with a result per text, in order): fc_send_many /
 * fc_recv_many, and fc_check_many, which sends its texts that way. A request that gets no reply within its try time
 * is sent again on a fresh socket to the next endpoint (the Guide's Lazy
 * Pirate: close the socket, reopen it, resend), as long as its call timeout
 * and its tries allow; when none answers, the call still ends with a result:
 * the configured fallback decision with degraded "unavailable".
 *
 * Results are the wire module's decoded replies (fw_reply in wire.h, which
 * also renders them as JSON: fw_reply_json).
 *
 * Threads: an fc_client and its results belong to one thread at a time (use
 * one client per thread). fc_admin, fc_result_free and the name functions
 * are safe from any thread. */
#ifndef FC_CLIENT_H
#define FC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "wire.h"

#define FC_OK 0
#define FC_ERR -1

#define FC_TIMEOUT_MS 2500      /* msecs: default limit of one call, all tries */
#define FC_TRY_MS 1000          /* msecs: default wait for one try before Lazy Pirate */
#define FC_TRY_SLACK_MS 250     /* msecs: a try waits at least budget_ms plus this */
#define FC_RETRIES 3            /* default tries per request, 1-10 is reasonable */
#define FC_WINDOW 128           /* default texts in flight in fc_check_many */
#define FC_BULK_ITEMS 32        /* texts per bulk check in fc_check_many (the server's
                                   max-items is at least this by default) */
#define FC_ADMIN_TIMEOUT_MS 30000 /* msecs: default wait for an admin reply (reload compiles) */
#define FC_PROBE_MS 500         /* msecs: wait for a TCP connect before an admin call */
#define FC_MAX_ENDPOINTS 16
#define FC_LABEL_PASS FW_CODE_PASS         /* msgSecCheck label code of an allowed text */
#define FC_LABEL_FALLBACK FW_CODE_FALLBACK /* label code of a fallback flag or block */

/* Decisions, in increasing severity (the wire's, which are the engine's). */
enum fc_decision { FC_ALLOW = FW_ALLOW, FC_FLAG = FW_FLAG, FC_BLOCK = FW_BLOCK };

/* A connection of the caller's in place of the DEALER (the library's own,
 * client/zdealer.c, is one).
 * It carries the same messages ([empty][body] both ways) with the same
 * promises as a DEALER: open connects (or keeps trying) in the background,
 * what is sent meanwhile waits; a message is lost only with its connection
 * (the requests' tries resend it). Each call gets arg. */
typedef struct fc_transport {
    void *arg;
    /* (Re)open towards ep, dropping any earlier connection: 0, or -1 with err. */
    int (*open)(void *arg, const char *ep, char *err, size_t errlen);
    void (*close)(void *arg);
    int (*send)(void *arg, const char *body, size_t len);   /* 0, or -1 (errno) */
    /* One message's body without waiting: 1 (valid until the next call), 0
     * when none is there, -1 on error (errno). */
    int (*recv)(void *arg, const char **body, size_t *len);
    /* The descriptor to poll (-1: none now) and for what (*events: POLLIN,
     * and POLLOUT while bytes wait for the socket), and in *wait_ms when to
     * call recv regardless (-1: no need; 0: at once). recv reads, and writes
     * what waits. */
    int (*pollfd)(void *arg, int *wait_ms, short *events);
    /* The descriptor polled readable: recv reads it again (a transport
     * reads only then, so a round without a reply costs no system call;
     * a caller polling the descriptor itself tells the transport too). */
    void (*ready)(void *arg);
} fc_transport;

typedef struct fc_options {
    int timeout_ms;     /* limit of one call (all its tries); 0: FC_TIMEOUT_MS */
    int try_ms;         /* wait for one try; 0: FC_TRY_MS. Never below budget + FC_TRY_SLACK_MS */
    int retries;        /* tries per request; 0: FC_RETRIES */
    int fallback;       /* decision when no endpoint answers; default FC_FLAG */
    int has_fallback;   /* 0: fallback is ignored and FC_FLAG is used */
    int explain;        /* ask for the normalised views (fc_result.views) */
    const fc_transport *transport;  /* NULL: the library's DEALER (copied at fc_connect) */
    int libzmq;         /* 1: a libzmq DEALER even where the library's own ZMTP DEALER
                           would serve (every endpoint fc_own_link's) */
} fc_options;

/* One answer: decision, label code, labels, matches (label, action, start,
 * end, term, list, line, via), version, elapsed_us, degraded, warnings, views
 * (explain), or error and error_message; plus id and tries. The result owns
 * every pointer in it: fc_result_free() frees them (safe on a zeroed or
 * already freed result). */
typedef fw_reply fc_result;
typedef fw_match fc_match;

/* One request of a batch. */
typedef struct fc_query {
    const char *text;
    size_t len;
    const char *scene;  /* NULL: the server's default (comment) */
    int budget_ms;      /* 0: the server's default */
} fc_query;

typedef struct fc_client fc_client;

/* Connect to n endpoints (tried in turn); opt may be NULL for the defaults.
 * NULL on failure with a message in err. Free with fc_close(). */
fc_client *fc_connect(const char *const *endpoints, int n, const fc_options *opt,
                      char *err, size_t errlen);
void fc_close(fc_client *c);

/* One check, waiting for its answer. 0: out holds a decision (the server's,
 * or the fallback with degraded "unavailable"). -1: no decision, err says why
 * (e.g. "too_large: ..." when the server answered with an error; out->error
 * is then set too). Either way release out with fc_result_free(). Needs no
 * other request of c in flight. */
int fc_check(fc_client *c, const char *text, size_t len, const char *scene, int budget_ms,
             fc_result *out, char *err, size_t errlen);

/* Asynchronous: fc_send queues a request and gives its id; fc_recv waits up
 * to timeout_ms (-1: until one completes) and hands back one completed
 * request, in any order: 0 with *id and out filled (out->error set when the
 * server refused it; the fallback when nothing answered in time), -1 when
 * none completed (timeout, or nothing in flight). Release out with
 * fc_result_free(). timeout_ms in fc_send is this request's call limit (0:
 * the options'). */
int fc_send(fc_client *c, const char *text, size_t len, const char *scene, int budget_ms,
            int timeout_ms, uint64_t *id, char *err, size_t errlen);
int fc_recv(fc_client *c, int timeout_ms, uint64_t *id, fc_result *out, char *err,
            size_t errlen);
size_t fc_inflight(const fc_client *c);   /* requests (a bulk check is one) */

/* Asynchronous bulk check: fc_send_many queues one request carrying q[0..n)
 * (n at most the server's max-items; its budget is the largest budget_ms of
 * q, for all its texts). fc_recv_many hands back one completed request of
 * either kind: 0 with *id, and *n results in out[0..*n) -- 1 for fc_send, n
 * in the order sent for fc_send_many; each a decision (the server's, or the
 * fallback) or an error. -1 when none completed, or when they would not fit
 * in cap (they are dropped). fc_recv takes only one-result completions. */
int fc_send_many(fc_client *c, const fc_query *q, size_t n, int timeout_ms, uint64_t *id,
                 char *err, size_t errlen);
int fc_recv_many(fc_client *c, int timeout_ms, uint64_t *id, fc_result *out, size_t cap,
                 size_t *n, char *err, size_t errlen);

/* n texts in bulk checks of up to FC_BULK_ITEMS, with at most window (0:
 * FC_WINDOW) texts in flight; out[i] answers reqs[i]. 0 when each out[i]
 * holds a decision or a server error; -1 on a local failure (message in
 * err). The caller frees each out[i]. */
int fc_check_many(fc_client *c, const fc_query *reqs, size_t n, int window,
                  fc_result *out, char *err, size_t errlen);

/* For the caller's own event loop: the descriptor to poll for reading (the
 * own DEALER's socket, or libzmq's ZMQ_FD; it changes when the client
 * reconnects, so ask again each round, right before polling: ZMQ_FD is
 * edge-triggered, and a reply already queued makes *wait_ms 0) and, in *wait_ms, the msecs until the
 * client's next timer (a try or a call limit ends; -1: nothing in flight,
 * 0: take what is there now; with a transport, poll the descriptor for
 * the events its pollfd gives). When the descriptor is readable
 * or the time is up, take completions with fc_recv_many(c, 0, ...) until it
 * returns -1 (which also resends or falls back what is due). -1 on error. */
int fc_pollfd(fc_client *c, int *wait_ms);
/* The same for a loop that says what its poll found (no read when nothing
 * came): poll the descriptor for *events (POLLIN, and POLLOUT while bytes
 * wait for the socket), then call fc_polled with its revents before taking
 * completions; from the first fc_polled on, fc_recv_many(c, 0, ...) trusts
 * it and looks at the socket only when told so. (Without fc_polled, an
 * fc_recv_many that finds nothing polls the socket once before it gives
 * up, as libzmq's recv looks at its queue.) */
int fc_pollfd_events(fc_client *c, int *wait_ms, short *events);
void fc_polled(fc_client *c, short revents);

/* Ping: 0 with the server's version copied into version (may be NULL). */
int fc_ping(fc_client *c, char *version, size_t vlen, char *err, size_t errlen);

/* One admin operation ("reload", "stats", "workers", ...) on the admin
 * endpoint over a REQ socket, waiting up to timeout_ms (0:
 * FC_ADMIN_TIMEOUT_MS). Fails at once (fc_probe) when nothing listens there
 * or the socket is not ours to use. Returns the reply as a cJSON object that
 * the caller frees with cJSON_Delete(), or NULL with a message in err. */
cJSON *fc_admin(const char *endpoint, const char *op, int timeout_ms, char *err, size_t errlen);

/* Whether anything accepts a connection at an ipc:// or tcp:// endpoint
 * (TCP: within timeout_ms): 0, or -1 with why in err ("no filterd at EP: no
 * such socket", "... permission denied ..."). 0 for other transports. */
int fc_probe(const char *endpoint, int timeout_ms, char *err, size_t errlen);
/* 1: the library's own ZMTP DEALER can serve endpoint (ipc://PATH,
 * tcp://A.B.C.D:PORT, tcp://[V6]:PORT), 0: libzmq's does (a host name,
 * which libzmq resolves in its I/O thread and again at each reconnection,
 * or another transport). fc_connect takes the own one when every endpoint
 * is such and fc_options.libzmq is 0. */
int fc_own_link(const char *endpoint);

/* Ask Linux for a time slice of us microseconds for the calling thread (and
 * the threads it starts after): a process woken by a message on cores shared
 * with busy ones then runs sooner (slice.c). Linux 6.12 and later; 0, or -1
 * with errno when the kernel refuses (the process keeps the default). */
int fc_short_slice(unsigned us);

void fc_result_free(fc_result *r);
const char *fc_decision_name(int decision);   /* block, flag, allow */
const char *fc_decision_suggest(int decision);/* risky, review, pass */
int fc_decision_lookup(const char *name);     /* -1 if unknown */

#endif
