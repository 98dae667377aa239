/* http.h -- the HTTP front door's private header: its state, routes, and its files' prototypes.
 *
 *   http.c     the process: libmicrohttpd driven from our own poll loop, the
 *              connections and their time limits
 *   httpsend.c checks to the broker, batched per poll round; their answers
 *   httpreq.c  the route table, request bodies, JSON out, /v1/check
 *   httpjson.c a body into JSON: UTF-8, NUL and one-value checks; flat ones without a tree
 *   wxa.c      /wxa/msg_sec_check, a drop-in for WeChat's msgSecCheck v2
 *   metrics.c  the broker's stats over the admin endpoint: /metrics, /readyz
 *   tokens.c   the access-token file, compared in constant time; loopback
 *   console.c  the moderators' console: /console/ and /console/api/ (console.h)
 *
 * One thread. libmicrohttpd runs "external select": its sockets join our
 * poll() with the client library's socket and the admin socket. A request
 * whose body is in is queued and its connection suspended; after the round
 * the queued ones go to the broker together as one bulk check with
 * libfilterclient (fc_send_many: the same deadlines, fallbacks and Lazy
 * Pirate retries as any client), over ZMTP spoken on a plain unix socket
 * (the client library's own DEALER on ipc://, client/zdealer.c: no libzmq on this path); the answer resumes each. Nothing here waits on anything, so a slow client or a
 * slow broker holds only its own connection. No user text is logged. */
#ifndef FD_HTTP_H
#define FD_HTTP_H

#include <sys/select.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "daemon.h"
#include "fclient.h"

#define FD_HTTP_REAP_MS 100       /* msecs: how often connections are checked for time */
#define FD_HTTP_STATS_MS 2000     /* msecs: wait for the broker's stats, then 503 */
#define FD_HTTP_TOKEN_MAX 256     /* bytes: longest access token */
#define FD_HTTP_TOKENS 64         /* tokens in the token file */
#define FD_HTTP_NAME_MAX 64       /* bytes: an admin token's name */
#define FD_HTTP_STOP_MS 1000      /* msecs: after the last answer, for the responses to go */
#define FD_JSON_FLAT_MAX 10      /* nodes of a flat body: the object and 9 members */
#define FD_HTTP_MAX_STATUS 48     /* (route, status) pairs counted for /metrics */
#define FD_HTTP_MAX_CONNS (FD_SETSIZE - 64) /* connections at once, whatever
                                     http-connections says: libmicrohttpd's sockets go
                                     through fd_sets (http.c), the process's others fit below */

/* Where a connection is: each phase has its time limit (http.c, reap). */
enum fd_hphase {
    FD_HP_IDLE,                   /* no request yet, or kept alive: http-idle-ms */
    FD_HP_HEAD,                   /* request line seen, headers coming: http-timeout-ms */
    FD_HP_BODY,                   /* headers in, body coming: http-timeout-ms (from HEAD) */
    FD_HP_WAIT,                   /* at the broker: the client library's call limit */
    FD_HP_SEND                    /* response queued: http-timeout-ms */
};

typedef struct fd_http fd_http;
typedef struct fd_hreq fd_hreq;

typedef struct fd_hconn {
    struct MHD_Connection *mc;
    int fd;
    int loopback;                 /* the peer is 127.0.0.0/8 or ::1 */
    int phase;                    /* enum fd_hphase */
    int64_t since;                /* ns: start of the phase's limit */
    int cut;                      /* shut down for its time: counted once */
    fd_hreq *req;
    struct fd_hconn *prev, *next;
} fd_hconn;

/* What a route does. start: the request is in (body too); it sets the
 * response (fd_hreq_json, fd_hreq_error...) and returns 0, or sends the
 * request on and returns 1, to be finished by done (the broker's results,
 * owned by the caller) or stats (the broker's stats, or NULL: none came). */
typedef struct fd_route {
    const char *path;             /* FD_RT_PREFIX: every path that starts so */
    const char *method;           /* GET (HEAD too) or POST; NULL: any of them (start checks) */
    int flags;                    /* FD_RT_* */
    int (*start)(fd_http *h, fd_hreq *r);
    void (*done)(fd_http *h, fd_hreq *r, fc_result *res, size_t n);
    void (*stats)(fd_http *h, fd_hreq *r, const cJSON *stats);
} fd_route;

enum { FD_RT_BODY = 1,            /* takes a JSON body */
       FD_RT_AUTH = 2,            /* a token (or loopback without a token file) */
       FD_RT_WXA = 4,             /* errors in msgSecCheck's shape (wxa.c checks for itself) */
       FD_RT_PREFIX = 8,          /* path is a prefix; the request's own is r->url */
       FD_RT_ADMIN = 16 };        /* an admin token (console.c), before anything else */

struct fd_hreq {
    fd_hconn *conn;
    const fd_route *route;
    int route_index;              /* for the counters; FD_HTTP_ROUTES: none */
    int64_t start;                /* ns: request line seen */
    int begun;                    /* the handler saw the headers */
    int sent;                     /* start() ran */
    char *body;
    size_t len, cap;
    int too_large;                /* the body passed http-max-body: read and dropped */
    int status;                   /* the response: 0 until there is one */
    char *out;                    /* its body (malloc'd; libmicrohttpd frees it) */
    size_t outlen;
    const char *ctype;
    const char *allow;            /* an Allow header (405) */
    int waiting;                  /* 1: at the broker (id, client); 2: for stats; 3: the
                                     console's workers (live) */
    uint64_t id;
    int client;                   /* 0: plain, 1: explain */
    fc_query *q, q1;              /* its texts until sent (q1: one text; httpsend.c) */
    size_t nq, off;               /* how many; where its results start in the batch's */
    int bulk, budget;             /* sent as a bulk check; its budget_ms */
    struct fd_hreq *batch;        /* the next request queued, or sent in the same check */
    struct fd_hreq *next_waiter;  /* stats waiters */
    cJSON *doc;                   /* the parsed body, kept for its ids until done */
    cJSON flat[FD_JSON_FLAT_MAX]; /* doc when the body was flat (fd_json_flat: no tree) */
    int nitems;                   /* msgSecCheck: which fields went, in order */
    unsigned char field[4];
    char *url;                    /* FD_RT_PREFIX routes: the path asked for */
    char method[8];
    int who;                      /* the console: which admin token */
    const char *location;         /* a Location header (redirects) */
};

typedef struct fd_tokens {
    int n;
    char tok[FD_HTTP_TOKENS][FD_HTTP_TOKEN_MAX];
    char name[FD_HTTP_TOKENS][FD_HTTP_NAME_MAX];   /* admin tokens: who */
    size_t len[FD_HTTP_TOKENS];
} fd_tokens;

typedef struct fd_hcount {        /* HTTP responses of one (route, status) */
    int route, status;
    uint64_t n;
} fd_hcount;

typedef struct fd_hwait {         /* a request at the broker, by (client, id) */
    uint64_t id;
    fd_hreq *req;                 /* NULL: free */
} fd_hwait;

struct fd_http {
    const fd_ctx *ctx;
    const fd_config *cfg;
    struct MHD_Daemon *mhd;
    int listen_fd;                /* until libmicrohttpd has it */
    int mhd_listen;               /* then: libmicrohttpd's (-1 once quiesced) */
    fc_client *fc[2];             /* plain, explain (made when first needed) */
    int fc_at[2];                 /* their descriptors' places in the poll set, or -1 */
    fc_result *res;               /* max-items results, for fc_recv_many */
    fd_hwait *wait;               /* open addressing, nwait a power of two */
    size_t nwait, inflight;       /* inflight: requests queued or at the broker */
    fd_hreq *pending, **pending_tail; /* queued this round (httpsend.c) */
    fc_query *batchq;             /* max-items: one batch's texts */
    uint64_t batched;             /* requests sent in a batch of several */
    fd_hconn *conns;
    int nconns, max_conns;        /* max_conns: http-connections, at most FD_HTTP_MAX_CONNS */
    fd_tokens tokens;
    int has_tokens;
    /* stats from the admin endpoint (metrics.c) */
    void *zctx, *admin;
    fd_hreq *waiters;
    int64_t stats_sent;           /* ns; 0: no stats request out */
    /* the HTTP counters (/metrics) */
    fd_hcount status[FD_HTTP_MAX_STATUS];
    int nstatus;
    uint64_t cut, refused;        /* connections cut for time; over the limit */
    uint64_t trace;               /* msgSecCheck trace_id counter */
    uint32_t trace_seed;
    uint32_t trace_pid;           /* getpid() once: it is a system call each time */
    int resumed;                  /* a connection was resumed: run libmicrohttpd again now */
    fd_set resumed_fds;           /* their sockets */
    struct fd_console *cons;      /* the moderators' console (console.h) */
    int stopping;
    int64_t stop_at;
};

/* http.c */
void fd_http_resume(fd_http *h, fd_hreq *r);     /* r has its response now */

/* httpsend.c: checks to the broker */
#define FD_HTTP_BATCH_BYTES (4u << 20)  /* bytes of text in one batch of requests, at most */
int fd_http_wait_init(fd_http *h);               /* 0, or -1: out of memory */
void fd_http_wait_free(fd_http *h);
/* q[0..n) to the broker, as one check (bulk 0, n 1) or a bulk check; r
 * waits for it: its route's done gets its n results, or none (NULL, 0) when
 * it could not be sent. The texts are queued until fd_http_flush, after
 * the round; explain checks go at once. 0, or -1 (logged) when it cannot
 * be sent. */
int fd_http_send(fd_http *h, fd_hreq *r, const fc_query *q, size_t n, int bulk, int explain);
void fd_http_flush(fd_http *h);                  /* the round's queued checks, batched */
void fd_http_completions(fd_http *h);            /* answers in: done and resume */

/* httpreq.c: routes, bodies, responses */
#define FD_HTTP_ROUTES 7
const fd_route *fd_route_find(const char *path, int *index);
const char *fd_route_path(int index);            /* "other" for FD_HTTP_ROUTES */
/* A request's first call (headers in): the route, method, type, size and
 * token checks; 0 to read its body, or 1 when r has its response already. */
int fd_hreq_begin(fd_http *h, fd_hreq *r, const char *url, const char *method);
void fd_hreq_body(fd_http *h, fd_hreq *r, const char *data, size_t n);
/* The body is in: too large, or the route's start. 1: r waits. */
int fd_hreq_run(fd_http *h, fd_hreq *r);
void fd_hreq_free(fd_http *h, fd_hreq *r);
/* Responses: o is taken (NULL: out of memory, a 500). */
void fd_hreq_json(fd_hreq *r, int status, cJSON *o);
void fd_hreq_text(fd_hreq *r, int status, const char *ctype, char *text, size_t len);
void fd_hreq_jbuf(fd_hreq *r, int status, fw_jbuf *b);  /* b's JSON taken (b emptied) */
/* {"error": {"code", "message"}} (id first when given) */
void fd_hreq_error(fd_hreq *r, int status, const cJSON *id, const char *code, const char *msg);
int fd_hreq_authorised(const fd_http *h, const fd_hreq *r, const char *token);  /* 1 or 0 */
/* r's body as JSON into r->doc (flat ones without a tree): it, or NULL with why. */
cJSON *fd_hreq_doc(fd_hreq *r, char *err, size_t errlen);
int fd_check_start(fd_http *h, fd_hreq *r);
void fd_check_done(fd_http *h, fd_hreq *r, fc_result *res, size_t n);

/* httpjson.c: the body as one JSON value, valid UTF-8, without NUL: the
 * value, or NULL with why in err. */
cJSON *fd_json_parse(const char *body, size_t len, char *err, size_t errlen);
/* The fast path of the same: a flat object ({"key": string, whole number or
 * bool, ...}, at most max - 1 members) read into nodes[0..max) without an
 * allocation, its strings decoded in place in body. The object (nodes[0];
 * not to be freed), or NULL with body untouched when the body is not of that
 * shape: then fd_json_parse, which reads it the same or says why not. */
cJSON *fd_json_flat(char *body, size_t len, cJSON *nodes, int max);

/* wxa.c */
int fd_wxa_start(fd_http *h, fd_hreq *r);
void fd_wxa_done(fd_http *h, fd_hreq *r, fc_result *res, size_t n);
void fd_wxa_error(fd_hreq *r, int status, int errcode, const char *errmsg);

/* metrics.c */
int fd_metrics_start(fd_http *h, fd_hreq *r);    /* GET /metrics and /readyz: ask for stats */
void fd_metrics_render(fd_http *h, fd_hreq *r, const cJSON *stats);
void fd_ready_render(fd_http *h, fd_hreq *r, const cJSON *stats);
int fd_metrics_fd(fd_http *h, int *wait_ms);     /* the admin socket's ZMQ_FD, or -1 */
void fd_metrics_poll(fd_http *h);                /* replies and time-outs */
void fd_metrics_drop(fd_http *h, fd_hreq *r);    /* r goes: no longer a waiter */
void fd_metrics_close(fd_http *h);
void fd_http_count(fd_http *h, int route, int status);
/* An admin op (enum fw_op) on a DEALER of the caller's (*sock made when
 * NULL), with the REQ envelope: 0 or -1. */
int fd_admin_ask(fd_http *h, void **sock, int op);
/* One reply waiting on sock: 1 with *reply its JSON (NULL when it did not
 * decode; the caller frees it), or 0 when none is there. */
int fd_admin_recv(void *sock, cJSON **reply);

/* tokens.c */
/* Read the token file: one token a line, '#' comments. 0, or -1 with
 * "file:line: reason" in err (t is then unchanged). */
int fd_tokens_load(fd_tokens *t, const char *path, char *err, size_t errlen);
/* The same for the file of setting (for messages); named: "TOKEN NAME" lines. */
int fd_tokens_read(fd_tokens *t, const char *path, const char *setting, int named, char *err,
                   size_t errlen);
/* Which of t's tokens tok is (an index), or -1; in constant time as below. */
int fd_tokens_which(const fd_tokens *t, const char *tok, size_t len);
/* 1 when tok is one of t's; the time taken does not depend on which, nor on
 * how much of one matches. */
int fd_tokens_match(const fd_tokens *t, const char *tok, size_t len);
int fd_addr_loopback(const struct sockaddr *sa);
/* "HOST:PORT" ("[v6]:PORT", "*:PORT") into a bound, listening, non-blocking
 * socket: its fd, or -1 with a message in err. check: parse only (0 or -1). */
int fd_http_listen(const char *spec, int check, char *err, size_t errlen);

#endif
