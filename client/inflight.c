/* inflight.c -- the client's requests in flight: slots, Lazy Pirate retries, completions.
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
 * request out of tries or past its call deadline completes with the fallback.
 * A bulk check always completes with one result per text it sent: the
 * server's, its error for the whole request, or the fallback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <zmq.h>

#include "inflight.h"

#define SLOT_MIN 16         /* slots allocated at first */

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

/* An error result: code and message copied. */
static int error_result(fc_result *r, const char *code, const char *msg)
{
    memset(r, 0, sizeof *r);
    r->error = strdup(code);
    r->error_message = strdup(msg ? msg : "");
    return r->error && r->error_message ? 0 : -1;
}

static fc_slot *slot_get(fc_client *c, uint32_t *idx)
{
    if (!c->nfree) {
        size_t ncap = c->cap ? c->cap * 2 : SLOT_MIN;
        fc_slot *s = realloc(c->slots, ncap * sizeof *s);
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
    fc_slot *s = &c->slots[idx];
    free(s->body);
    s->body = NULL;
    s->used = 0;
    s->gen++;
    c->freel[c->nfree++] = idx;
    c->inflight--;
    c->texts -= s->nitems ? s->nitems : 1;
}

void fc_slots_free(fc_client *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].body);
    free(c->slots);
    free(c->freel);
}

int fc_queue(fc_client *c, int ping, const fw_request *base, const fw_request *items,
             size_t n, int timeout_ms, size_t tag, uint64_t *id, char *err, size_t errlen)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint32_t idx;
    fc_slot *s = slot_get(c, &idx);

    if (!s) {
        fc_seterr(err, errlen, "out of memory");
        return -1;
    }
    uint64_t wid = (uint64_t)s->gen << 32 | idx;
    fw_request q = *base;
    q.op = ping ? FW_OP_PING : FW_OP_CHECK;
    q.explain = c->opt.explain;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if ((n ? fw_request_encode_bulk(&pk, &q, items, n, wid) : fw_request_encode(&pk, &q, wid)) < 0) {
        msgpack_sbuffer_destroy(&sb);
        c->freel[c->nfree++] = idx;
        fc_seterr(err, errlen, "out of memory");
        return -1;
    }
    int64_t now = now_ms();
    s->used = 1, s->ping = ping, s->tag = tag, s->tries = 1, s->nitems = n;
    s->len = sb.size;
    s->body = msgpack_sbuffer_release(&sb);
    s->try_ms = c->opt.try_ms;
    if (q.budget_ms > 0 && s->try_ms < q.budget_ms + FC_TRY_SLACK_MS)
        s->try_ms = (int)q.budget_ms + FC_TRY_SLACK_MS;
    s->deadline = now + (timeout_ms > 0 ? timeout_ms : c->opt.timeout_ms);
    s->try_end = now + s->try_ms;
    c->inflight++;
    c->texts += n ? n : 1;
    c->drained = 0;
    if (fc_link_send(c, s->body, s->len) < 0) {
        fc_seterr(err, errlen, "send: %s", zmq_strerror(errno));
        slot_put(c, idx);
        return -1;
    }
    *id = wid;
    return 0;
}

/* Lazy Pirate: the socket gave no answer in time. Drop it, connect a new
 * one to the next endpoint, send everything in flight again. */
static int reconnect(fc_client *c, int64_t now, char *err, size_t errlen)
{
    c->drained = 0;
    c->cur = (c->cur + 1) % c->neps;
    if (fc_link_open(c, c->eps[c->cur], err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < c->cap; i++) {
        fc_slot *s = &c->slots[i];
        if (!s->used)
            continue;
        if (s->tries >= c->opt.retries) {   /* out of tries: its fallback is due now */
            s->try_end = now;
            continue;
        }
        s->tries++;
        s->try_end = now + s->try_ms;
        if (fc_link_send(c, s->body, s->len) < 0) {
            fc_seterr(err, errlen, "send: %s", zmq_strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* r as the nitems results of a bulk check: the server's results (missing
 * ones and a mismatch said as errors), or r's error or fallback for each. */
static int shape_bulk(fc_result *r, size_t nitems, int fallback)
{
    fc_result *v = calloc(nitems, sizeof *v);
    int rc = v ? 0 : -1;
    char why[96] = "";
    for (size_t i = 0; rc == 0 && i < nitems; i++) {
        if (r->results && i < r->nresults) {
            v[i] = r->results[i];
            memset(&r->results[i], 0, sizeof r->results[i]);
        } else if (r->error)
            rc = error_result(&v[i], r->error, r->error_message);
        else if (fallback) {
            v[i] = *r;
            if (!(v[i].version = strdup(r->version)) || !(v[i].degraded = strdup(r->degraded)))
                rc = -1;
        } else {
            if (!why[0])          /* only when it is said: not for every bulk reply */
                snprintf(why, sizeof why, "the reply had %zu results for %zu texts",
                         r->nresults, nitems);
            rc = error_result(&v[i], "internal", r->results ? why : "not a bulk reply");
        }
    }
    fc_result top = {.id = r->id, .has_id = r->has_id, .tries = r->tries,
                     .elapsed_us = r->elapsed_us, .results = v, .nresults = v ? nitems : 0};
    fw_reply_free(r);
    *r = top;
    return rc;
}

/* The completion of slot idx with r (taken; fallback: the client's own).
 * -1: out of memory. */
static int complete(fc_client *c, uint32_t idx, fc_result *r, int fallback, fc_done *d)
{
    fc_slot *s = &c->slots[idx];
    d->id = (uint64_t)s->gen << 32 | idx;
    d->tag = s->tag;
    d->nitems = s->nitems;
    r->id = d->id;
    r->tries = s->tries;
    int rc = s->nitems ? shape_bulk(r, s->nitems, fallback) : 0;
    if (!s->nitems && r->results) {   /* a bulk reply to one text */
        fw_reply_free(r);
        rc = error_result(r, "internal", "a bulk reply to a single check");
        r->id = d->id;
    }
    for (size_t i = 0; i < r->nresults; i++)
        r->results[i].tries = s->tries;
    d->r = *r;
    slot_put(c, idx);
    return rc;
}

/* A reply frame: find its slot and complete it. 1 when it completed a
 * request of ours, 0 when it was dropped (unknown id, stale), -1 when out
 * of memory. */
static int take_reply(fc_client *c, const char *buf, size_t len, fc_done *d)
{
    fc_result r;
    fc_slot *s = NULL;
    char why[128];
    int kind = fw_reply_decode(buf, len, &r, why, sizeof why);
    if (r.has_id) {
        uint32_t idx = (uint32_t)r.id;
        if (idx < c->cap && c->slots[idx].used && c->slots[idx].gen == (uint32_t)(r.id >> 32))
            s = &c->slots[idx];
    } else if (kind == 1) {   /* a pong that does not echo the id answers the oldest ping */
        for (size_t i = 0; i < c->cap && !s; i++)
            if (c->slots[i].used && c->slots[i].ping)
                s = &c->slots[i];
    }
    if (!s) {
        fc_result_free(&r);
        return 0;
    }
    if (kind < 0 && error_result(&r, "internal", why) < 0)   /* not protocol v1 */
        return -1;
    if (r.version && r.version[0])
        snprintf(c->version, sizeof c->version, "%s", r.version);
    else if (r.nresults && r.results[0].version && r.results[0].version[0])
        snprintf(c->version, sizeof c->version, "%s", r.results[0].version);
    return complete(c, (uint32_t)(s - c->slots), &r, 0, d) < 0 ? -1 : 1;
}

/* The first request whose time is up, or -1. *next gets the nearest timer. */
static long expired(const fc_client *c, int64_t now, int *lazy, int64_t *next)
{
    *lazy = 0;
    *next = INT64_MAX;
    for (size_t i = 0; i < c->cap; i++) {
        const fc_slot *s = &c->slots[i];
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

int fc_next_timer(const fc_client *c)
{
    int64_t now = now_ms(), next;
    int lazy;
    if (!c->inflight)
        return -1;
    if (expired(c, now, &lazy, &next) >= 0 || lazy || next <= now)
        return 0;
    return next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

/* Slot i's time is up: its fallback (a ping just ends: 1). */
static int give_up(fc_client *c, long i, fc_done *d, char *err, size_t errlen)
{
    fc_result r;
    if (c->slots[i].ping) {
        memset(&r, 0, sizeof r);
        complete(c, (uint32_t)i, &r, 0, d);
        fc_seterr(err, errlen, "no answer from %d endpoint(s)", c->neps);
        return 1;   /* a ping that nobody answered */
    }
    if (fallback_result(c, &r) < 0 || complete(c, (uint32_t)i, &r, 1, d) < 0) {
        fc_seterr(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int fc_wait(fc_client *c, int timeout_ms, fc_done *d, char *err, size_t errlen)
{
    int64_t start = now_ms(), next;
    int lazy, polled = 0;

    memset(d, 0, sizeof *d);
    if (!c->inflight) {
        fc_seterr(err, errlen, "nothing in flight");
        return -1;
    }
    for (;;) {
        fc_msg msg;
        int got = fc_link_recv(c, &msg), took = 0;
        c->drained = got == 0;
        if (got == 1)
            took = take_reply(c, msg.p, msg.n, d);
        fc_msg_done(&msg);
        if (took)
            return took > 0 ? 0 : (fc_seterr(err, errlen, "out of memory"), -1);
        if (got < 0) {
            fc_seterr(err, errlen, "recv: %s", zmq_strerror(errno));
            return -1;
        }
        if (got != 0)
            continue;   /* dropped one: look for more before waiting */

        int64_t now = now_ms();
        long i = expired(c, now, &lazy, &next);
        if (i >= 0)
            return give_up(c, i, d, err, errlen);
        if (lazy) {
            if (reconnect(c, now, err, errlen) < 0)
                return -1;
            continue;
        }
        if (timeout_ms >= 0 && now - start >= timeout_ms) {
            if (c->tr.open && !c->caller_polls && !polled) {
                polled = 1;       /* a transport reads only when polled readable: */
                if (fc_link_wait(c, 0) < 0) {   /* look once, as libzmq's recv would */
                    fc_seterr(err, errlen, "poll: %s", strerror(errno));
                    return -1;
                }
                continue;
            }
            fc_seterr(err, errlen, "timeout");
            return -1;
        }
        int64_t wait = next - now;
        if (timeout_ms >= 0 && start + timeout_ms - now < wait)
            wait = start + timeout_ms - now;
        if (fc_link_wait(c, (long)(wait > 0 ? wait : 0)) < 0) {
            fc_seterr(err, errlen, "poll: %s", zmq_strerror(errno));
            return -1;
        }
    }
}
