/* fclient.c -- libfilterclient: DEALER requests in flight, Lazy Pirate retries, fallback.
 *
 * Envelope on the DEALER (the REQ envelope, so the broker treats us as REQ):
 *
 *   send:  [empty][msgpack request]       recv:  [empty][msgpack reply]
 *
 * Each request in flight sits in a slot that keeps its encoded body (to send
 * it again), its call deadline and the end of its current try. The wire id is
 * (slot generation << 32 | slot index): a reply finds its slot in O(1), and a
 * late reply to a finished request finds a newer generation and is dropped.
 * When a try ends unanswered, the socket is presumed dead: close it, open a
 * new one to the next endpoint and send every request in flight again. A
 * request out of tries or past its call deadline completes with the fallback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <zmq.h>

#include "fcsock.h"

#define SLOT_MIN 16         /* slots allocated at first */

typedef struct slot {
    uint32_t gen;           /* bumped on every reuse: old replies cannot match */
    int used, ping;
    char *body;             /* encoded request, owned */
    size_t len;
    int64_t deadline;       /* msecs (monotonic): the call's limit */
    int64_t try_end;        /* msecs: end of the current try */
    int try_ms;
    int tries;
    size_t tag;             /* fc_check_many's index */
} slot;

struct fc_client {
    void *ctx, *sock;
    char *eps[FC_MAX_ENDPOINTS];
    int neps, cur;
    fc_options opt;
    slot *slots;
    uint32_t *freel;        /* indexes of free slots */
    size_t cap, nfree, inflight;
    char version[128];      /* the last version seen, for fallback results */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The fallback when no endpoint answered, labelled as filterd labels its own.
 * Owned like a decoded reply. */
static int fallback_result(const fc_client *c, fc_result *r)
{
    fw_fallback(r, c->opt.fallback, NULL, FW_DEG_UNAVAILABLE);
    r->version = strdup(c->version);
    r->degraded = strdup(fw_degraded_name(FW_DEG_UNAVAILABLE));
    return r->version && r->degraded ? 0 : -1;
}

const char *fc_decision_name(int d) { return fw_decision_name(d); }
const char *fc_decision_suggest(int d) { return fw_decision_suggest(d); }
int fc_decision_lookup(const char *name) { return fw_decision_lookup(name); }
void fc_result_free(fc_result *r) { fw_reply_free(r); }

static int encode(msgpack_sbuffer *sb, uint64_t id, int ping, const char *text, size_t len,
                  const char *scene, int budget_ms, int explain)
{
    msgpack_packer pk;
    fw_request q = {.op = ping ? FW_OP_PING : FW_OP_CHECK, .text = text, .textlen = len,
                    .scene_name = scene, .budget_ms = budget_ms, .explain = explain};
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    return fw_request_encode(&pk, &q, id);
}

/* ---- the client ---- */

fc_client *fc_connect(const char *const *endpoints, int n, const fc_options *opt, char *err,
                      size_t errlen)
{
    fc_client *c;

    if (n < 1 || n > FC_MAX_ENDPOINTS) {
        fc_seterr(err, errlen, "need 1 to %d endpoints", FC_MAX_ENDPOINTS);
        return NULL;
    }
    if (!(c = calloc(1, sizeof *c))) {
        fc_seterr(err, errlen, "out of memory");
        return NULL;
    }
    if (opt)
        c->opt = *opt;
    if (c->opt.timeout_ms <= 0)
        c->opt.timeout_ms = FC_TIMEOUT_MS;
    if (c->opt.try_ms <= 0)
        c->opt.try_ms = FC_TRY_MS;
    if (c->opt.retries <= 0)
        c->opt.retries = FC_RETRIES;
    if (!c->opt.has_fallback || c->opt.fallback < FC_ALLOW || c->opt.fallback > FC_BLOCK)
        c->opt.fallback = FC_FLAG;
    for (int i = 0; i < n; i++) {
        if (!(c->eps[i] = strdup(endpoints[i]))) {
            fc_seterr(err, errlen, "out of memory");
            goto err;
        }
        c->neps++;
    }
    if (!(c->ctx = zmq_ctx_new())) {
        fc_seterr(err, errlen, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto err;
    }
    if (!(c->sock = fc_sock_open(c->ctx, ZMQ_DEALER, c->eps[0], err, errlen)))
        goto err;
    return c;
err:
    fc_close(c);
    return NULL;
}

void fc_close(fc_client *c)
{
    if (!c)
        return;
    if (c->sock)
        zmq_close(c->sock);
    if (c->ctx)
        zmq_ctx_term(c->ctx);
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].body);
    for (int i = 0; i < c->neps; i++)
        free(c->eps[i]);
    free(c->slots);
    free(c->freel);
    free(c);
}

size_t fc_inflight(const fc_client *c) { return c->inflight; }

static slot *slot_get(fc_client *c, uint32_t *idx)
{
    if (!c->nfree) {
        size_t ncap = c->cap ? c->cap * 2 : SLOT_MIN;
        slot *s = realloc(c->slots, ncap * sizeof *s);
        if (!s)
            return NULL;
        c->slots = s;
        uint32_t *f = realloc(c->freel, ncap * sizeof *f);
        if (!f)
            return NULL;
        c->freel = f;
        memset(c->slots + c->cap, 0, (ncap - c->cap) * sizeof *s);
        for (size_t i = ncap; i > c->cap; i--)
            c->freel[c->nfree++] = (uint32_t)(i - 1);
        c->cap = ncap;
    }
    *idx = c->freel[--c->nfree];
    return &c->slots[*idx];
}

static void slot_put(fc_client *c, uint32_t idx)
{
    slot *s = &c->slots[idx];
    free(s->body);
    s->body = NULL;
    s->used = 0;
    s->gen++;
    c->freel[c->nfree++] = idx;
    c->inflight--;
}

static int queue_request(fc_client *c, int ping, const char *text, size_t len,
                         const char *scene, int budget_ms, int timeout_ms, size_t tag,
                         uint64_t *id, char *err, size_t errlen)
{
    msgpack_sbuffer sb;
    uint32_t idx;
    slot *s = slot_get(c, &idx);

    if (!s) {
        fc_seterr(err, errlen, "out of memory");
        return -1;
    }
    uint64_t wid = (uint64_t)s->gen << 32 | idx;
    msgpack_sbuffer_init(&sb);
    if (encode(&sb, wid, ping, text, len, scene, budget_ms, c->opt.explain) < 0) {
        msgpack_sbuffer_destroy(&sb);
        c->freel[c->nfree++] = idx;
        fc_seterr(err, errlen, "out of memory");
        return -1;
    }
    int64_t now = now_ms();
    s->used = 1, s->ping = ping, s->tag = tag, s->tries = 1;
    s->len = sb.size;
    s->body = msgpack_sbuffer_release(&sb);
    s->try_ms = c->opt.try_ms;
    if (budget_ms > 0 && s->try_ms < budget_ms + FC_TRY_SLACK_MS)
        s->try_ms = budget_ms + FC_TRY_SLACK_MS;
    s->deadline = now + (timeout_ms > 0 ? timeout_ms : c->opt.timeout_ms);
    s->try_end = now + s->try_ms;
    c->inflight++;
    if (fc_sock_send(c->sock, s->body, s->len) < 0) {
        fc_seterr(err, errlen, "send: %s", zmq_strerror(errno));
        slot_put(c, idx);
        return -1;
    }
    *id = wid;
    return 0;
}

int fc_send(fc_client *c, const char *text, size_t len, const char *scene, int budget_ms,
            int timeout_ms, uint64_t *id, char *err, size_t errlen)
{
    return queue_request(c, 0, text, len, scene, budget_ms, timeout_ms, 0, id, err, errlen);
}

/* Lazy Pirate: the socket gave no answer in time. Drop it, connect a new
 * one to the next endpoint, send everything in flight again. */
static int reconnect(fc_client *c, int64_t now, char *err, size_t errlen)
{
    zmq_close(c->sock);
    c->cur = (c->cur + 1) % c->neps;
    if (!(c->sock = fc_sock_open(c->ctx, ZMQ_DEALER, c->eps[c->cur], err, errlen)))
        return -1;
    for (size_t i = 0; i < c->cap; i++) {
        slot *s = &c->slots[i];
        if (!s->used)
            continue;
        if (s->tries >= c->opt.retries) {   /* out of tries: its fallback is due now */
            s->try_end = now;
            continue;
        }
        s->tries++;
        s->try_end = now + s->try_ms;
        if (fc_sock_send(c->sock, s->body, s->len) < 0) {
            fc_seterr(err, errlen, "send: %s", zmq_strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* A reply frame: find its slot and fill out. 1 when it completed a request
 * of ours, 0 when it was dropped (unknown id, stale, undecodable). */
static int take_reply(fc_client *c, const char *buf, size_t len, uint64_t *id, size_t *tag,
                      fc_result *out, char *err, size_t errlen)
{
    fc_result r;
    slot *s = NULL;
    uint64_t wid = 0;

    char why[128];
    int kind = fw_reply_decode(buf, len, &r, why, sizeof why);
    if (r.has_id) {
        uint32_t idx = (uint32_t)r.id;
        if (idx < c->cap && c->slots[idx].used && c->slots[idx].gen == (uint32_t)(r.id >> 32))
            s = &c->slots[idx], wid = r.id;
    } else if (kind == 1) {   /* a pong that does not echo the id answers the oldest ping */
        for (size_t i = 0; i < c->cap && !s; i++)
            if (c->slots[i].used && c->slots[i].ping)
                s = &c->slots[i], wid = (uint64_t)s->gen << 32 | i;
    }
    if (!s) {
        fc_result_free(&r);
        return 0;
    }
    if (kind < 0) {   /* answered, but not in protocol v1: say so at once */
        r.error = strdup("internal");
        r.error_message = strdup(why);
        if (!r.error || !r.error_message) {
            fc_result_free(&r);
            fc_seterr(err, errlen, "out of memory");
            return 0;
        }
    }
    if (r.version && r.version[0])
        snprintf(c->version, sizeof c->version, "%s", r.version);
    r.id = wid;
    r.tries = s->tries;
    *out = r;
    *id = wid;
    *tag = s->tag;
    slot_put(c, (uint32_t)wid);
    return 1;
}

/* The first request whose time is up, or -1. *next gets the nearest timer. */
static long expired(const fc_client *c, int64_t now, int *lazy, int64_t *next)
{
    *lazy = 0;
    *next = INT64_MAX;
    for (size_t i = 0; i < c->cap; i++) {
        const slot *s = &c->slots[i];
        if (!s->used)
            continue;
        if (now >= s->deadline || (now >= s->try_end && s->tries >= c->opt.retries))
            return (long)i;
        if (now >= s->try_end)
            *lazy = 1;
        int64_t t = s->try_end < s->deadline ? s->try_end : s->deadline;
        if (t < *next)
            *next = t;
    }
    return -1;
}

static int recv_one(fc_client *c, int timeout_ms, uint64_t *id, size_t *tag, fc_result *out,
                    char *err, size_t errlen)
{
    int64_t start = now_ms(), next;
    int lazy;

    memset(out, 0, sizeof *out);
    if (!c->inflight) {
        fc_seterr(err, errlen, "nothing in flight");
        return -1;
    }
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        int got = fc_sock_recv(c->sock, &msg);
        if (got == 1 && take_reply(c, zmq_msg_data(&msg), zmq_msg_size(&msg), id, tag, out,
                                   err, errlen)) {
            zmq_msg_close(&msg);
            return 0;
        }
        zmq_msg_close(&msg);
        if (got < 0) {
            fc_seterr(err, errlen, "recv: %s", zmq_strerror(errno));
            return -1;
        }
        if (got != 0)
            continue;   /* dropped one: look for more before waiting */

        int64_t now = now_ms();
        long i = expired(c, now, &lazy, &next);
        if (i >= 0) {
            slot *s = &c->slots[i];
            if (fallback_result(c, out) < 0) {
                fc_seterr(err, errlen, "out of memory");
                return -1;
            }
            *id = (uint64_t)s->gen << 32 | (uint64_t)i;
            *tag = s->tag;
            out->id = *id;
            out->tries = s->tries;
            if (s->ping) {
                fc_seterr(err, errlen, "no answer from %d endpoint(s)", c->neps);
                fc_result_free(out);
                out->id = *id;
                slot_put(c, (uint32_t)i);
                return 1;   /* a ping that nobody answered */
            }
            slot_put(c, (uint32_t)i);
            return 0;
        }
        if (lazy) {
            if (reconnect(c, now, err, errlen) < 0)
                return -1;
            continue;
        }
        if (timeout_ms >= 0 && now - start >= timeout_ms) {
            fc_seterr(err, errlen, "timeout");
            return -1;
        }
        int64_t wait = next - now;
        if (timeout_ms >= 0 && start + timeout_ms - now < wait)
            wait = start + timeout_ms - now;
        zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)(wait > 0 ? wait : 0)) < 0 && errno != EINTR) {
            fc_seterr(err, errlen, "poll: %s", zmq_strerror(errno));
            return -1;
        }
    }
}

int fc_recv(fc_client *c, int timeout_ms, uint64_t *id, fc_result *out, char *err,
            size_t errlen)
{
    size_t tag;
    int rc = recv_one(c, timeout_ms, id, &tag, out, err, errlen);
    return rc == 1 ? 0 : rc;   /* a lost ping still completes; out is empty */
}

int fc_check(fc_client *c, const char *text, size_t len, const char *scene, int budget_ms,
             fc_result *out, char *err, size_t errlen)
{
    uint64_t id, got;
    size_t tag;

    memset(out, 0, sizeof *out);
    if (c->inflight) {
        fc_seterr(err, errlen, "fc_check: %zu asynchronous requests in flight", c->inflight);
        return -1;
    }
    if (fc_send(c, text, len, scene, budget_ms, 0, &id, err, errlen) < 0)
        return -1;
    if (recv_one(c, -1, &got, &tag, out, err, errlen) != 0)
        return -1;
    if (out->error) {
        fc_seterr(err, errlen, "%s: %s", out->error, out->error_message);
        return -1;
    }
    return 0;
}

int fc_ping(fc_client *c, char *version, size_t vlen, char *err, size_t errlen)
{
    uint64_t id, got;
    size_t tag;
    fc_result r;

    if (c->inflight) {
        fc_seterr(err, errlen, "fc_ping: %zu asynchronous requests in flight", c->inflight);
        return -1;
    }
    if (queue_request(c, 1, NULL, 0, NULL, 0, 0, 0, &id, err, errlen) < 0)
        return -1;
    if (recv_one(c, -1, &got, &tag, &r, err, errlen) != 0)
        return -1;
    int rc = 0;
    if (r.error) {
        fc_seterr(err, errlen, "%s: %s", r.error, r.error_message);
        rc = -1;
    } else if (version && vlen)
        snprintf(version, vlen, "%s", r.version ? r.version : "");
    fc_result_free(&r);
    return rc;
}

int fc_check_many(fc_client *c, const fc_query *reqs, size_t n, int window, fc_result *out,
                  char *err, size_t errlen)
{
    size_t next = 0, done = 0, tag;
    uint64_t id;
    fc_result r;

    if (window <= 0)
        window = FC_WINDOW;
    memset(out, 0, n * sizeof *out);
    if (c->inflight) {
        fc_seterr(err, errlen, "fc_check_many: %zu asynchronous requests in flight", c->inflight);
        return -1;
    }
    while (done < n) {
        while (next < n && c->inflight < (size_t)window) {
            const fc_query *q = &reqs[next];
            if (queue_request(c, 0, q->text, q->len, q->scene, q->budget_ms, 0, next, &id,
                              err, errlen) < 0)
                return -1;
            next++;
        }
        if (recv_one(c, -1, &id, &tag, &r, err, errlen) != 0)
            return -1;
        out[tag] = r;
        done++;
    }
    return 0;
}
