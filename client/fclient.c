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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <zmq.h>

#include "fclient.h"

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

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- names ---- */

static const char *const decisions[] = {"allow", "flag", "block"};
static const char *const suggests[] = {"pass", "review", "risky"};

const char *fc_decision_name(int d) { return d >= 0 && d <= 2 ? decisions[d] : "?"; }
const char *fc_decision_suggest(int d) { return d >= 0 && d <= 2 ? suggests[d] : "?"; }

int fc_decision_lookup(const char *name)
{
    for (int i = 0; i <= 2; i++)
        if (!strcmp(name, decisions[i]))
            return i;
    return -1;
}

/* ---- results ---- */

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void fc_result_free(fc_result *r)
{
    if (!r)
        return;
    free_strv(r->labels, r->nlabels);
    free_strv(r->warnings, r->nwarnings);
    for (size_t i = 0; i < r->nmatches; i++) {
        fc_match *m = &r->matches[i];
        free(m->label), free(m->action), free(m->term), free(m->list), free(m->via);
    }
    free(r->matches);
    free(r->version), free(r->degraded), free(r->folded), free(r->compact);
    free(r->error), free(r->error_message);
    memset(r, 0, sizeof *r);
}

/* The fallback when no endpoint answered, labelled as filterd labels its own. */
static int fallback_result(const fc_client *c, fc_result *r)
{
    memset(r, 0, sizeof *r);
    r->decision = c->opt.fallback;
    snprintf(r->suggest, sizeof r->suggest, "%s", fc_decision_suggest(r->decision));
    r->label = r->decision == FC_ALLOW ? FC_LABEL_PASS : FC_LABEL_FALLBACK;
    r->version = strdup(c->version);
    r->degraded = strdup("unavailable");
    return r->version && r->degraded ? 0 : -1;
}

/* ---- msgpack helpers ---- */

static const msgpack_object *mget(const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
            !memcmp(k->via.str.ptr, key, kl))
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static char *mstr(const msgpack_object *o)
{
    if (o && o->type == MSGPACK_OBJECT_STR)
        return xstrndup(o->via.str.ptr, o->via.str.size);
    if (o && o->type == MSGPACK_OBJECT_BIN)
        return xstrndup(o->via.bin.ptr, o->via.bin.size);
    return NULL;
}

static int muint(const msgpack_object *o, uint64_t *out)
{
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    *out = o->via.u64;
    return 0;
}

static int mstrv(const msgpack_object *o, char ***v, size_t *n)
{
    *v = NULL, *n = 0;
    if (!o || o->type != MSGPACK_OBJECT_ARRAY || !o->via.array.size)
        return 0;
    if (!(*v = calloc(o->via.array.size, sizeof **v)))
        return -1;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (((*v)[(*n)++] = mstr(&o->via.array.ptr[i])) == NULL)
            (*v)[*n - 1] = strdup("");
    return 0;
}

static int decode_match(const msgpack_object *o, fc_match *m)
{
    uint64_t x;
    m->label = mstr(mget(o, "label"));
    m->action = mstr(mget(o, "action"));
    m->term = mstr(mget(o, "term"));
    m->list = mstr(mget(o, "list"));
    m->via = mstr(mget(o, "via"));
    m->start = muint(mget(o, "start"), &x) ? 0 : (uint32_t)x;
    m->end = muint(mget(o, "end"), &x) ? 0 : (uint32_t)x;
    m->line = muint(mget(o, "line"), &x) ? 0 : (uint32_t)x;
    char **s[] = {&m->label, &m->action, &m->term, &m->list, &m->via};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (!*s[i] && !(*s[i] = strdup("")))
            return -1;
    return 0;
}

/* Fill r from a reply map. -1 when the reply is not a check reply. */
static int decode_reply(const msgpack_object *root, fc_result *r, char *err, size_t errlen)
{
    const msgpack_object *o;
    uint64_t x;

    if ((o = mget(root, "error")) != NULL) {
        r->error = mstr(mget(o, "code"));
        r->error_message = mstr(mget(o, "message"));
        if (!r->error)
            r->error = strdup("internal");
        if (!r->error_message)
            r->error_message = strdup("");
        return 0;
    }
    char *d = mstr(mget(root, "decision"));
    int dec = d ? fc_decision_lookup(d) : -1;
    free(d);
    if (dec < 0) {
        seterr(err, errlen, "reply without a decision");
        return -1;
    }
    r->decision = dec;
    char *s = mstr(mget(root, "suggest"));
    snprintf(r->suggest, sizeof r->suggest, "%s", s ? s : fc_decision_suggest(dec));
    free(s);
    r->label = muint(mget(root, "label"), &x) ? FC_LABEL_PASS : (int)x;
    r->elapsed_us = muint(mget(root, "elapsed_us"), &x) ? 0 : x;
    r->version = mstr(mget(root, "version"));
    r->degraded = mstr(mget(root, "degraded"));  /* nil stays NULL */
    if (mstrv(mget(root, "labels"), &r->labels, &r->nlabels) < 0 ||
        mstrv(mget(root, "warnings"), &r->warnings, &r->nwarnings) < 0)
        goto oom;
    if ((o = mget(root, "views")) != NULL) {
        r->folded = mstr(mget(o, "folded"));
        r->compact = mstr(mget(o, "compact"));
    }
    o = mget(root, "matches");
    if (o && o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size) {
        if (!(r->matches = calloc(o->via.array.size, sizeof *r->matches)))
            goto oom;
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (decode_match(&o->via.array.ptr[i], &r->matches[r->nmatches++]) < 0)
                goto oom;
    }
    if (!r->version && !(r->version = strdup("")))
        goto oom;
    return 0;
oom:
    seterr(err, errlen, "out of memory");
    return -1;
}

static int encode(msgpack_sbuffer *sb, uint64_t id, int ping, const char *text, size_t len,
                  const char *scene, int budget_ms, int explain)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    size_t n = 3 + (ping ? 0 : 1 + (scene != NULL) + (budget_ms > 0) + (explain != 0));
    const char *op = ping ? "ping" : "check";

#define KEY(k) (msgpack_pack_str(&pk, strlen(k)) || msgpack_pack_str_body(&pk, k, strlen(k)))
    if (msgpack_pack_map(&pk, n) || KEY("v") || msgpack_pack_unsigned_int(&pk, 1) ||
        KEY("op") || KEY(op) || KEY("id") || msgpack_pack_uint64(&pk, id))
        return -1;
    if (ping)
        return 0;
    if (KEY("text") || msgpack_pack_str(&pk, len) || msgpack_pack_str_body(&pk, text, len))
        return -1;
    if (scene && (KEY("scene") || KEY(scene)))
        return -1;
    if (budget_ms > 0 && (KEY("budget_ms") || msgpack_pack_unsigned_int(&pk, (unsigned)budget_ms)))
        return -1;
    if (explain && (KEY("explain") || msgpack_pack_true(&pk)))
        return -1;
#undef KEY
    return 0;
}

/* ---- sockets ---- */

static void *open_socket(void *ctx, int type, const char *ep, char *err, size_t errlen)
{
    int zero = 0;
    void *s = zmq_socket(ctx, type);
    if (!s) {
        seterr(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        return NULL;
    }
    /* No high-water mark: what is in flight is bounded by the caller. */
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof zero);
    if (zmq_connect(s, ep) < 0) {
        seterr(err, errlen, "connect %s: %s", ep, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

static int send_body(void *sock, const char *body, size_t len)
{
    if (zmq_send(sock, "", 0, ZMQ_SNDMORE) < 0)
        return -1;
    return zmq_send(sock, body, len, 0) < 0 ? -1 : 0;
}

/* Receive one message without waiting: 1 with the body frame of a
 * [empty][body] message in msg, 0 when none is waiting (or it had another
 * shape and was dropped), -1 on error. */
static int recv_body(void *sock, zmq_msg_t *msg)
{
    int more, parts = 0, good = 1;
    size_t ml = sizeof more;
    zmq_msg_t part;

    do {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return (errno == EAGAIN || errno == EINTR) && parts == 0 ? 0 : -1;
        }
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ml);
        if (parts == 0)
            good = zmq_msg_size(&part) == 0;
        else if (parts == 1)
            zmq_msg_move(msg, &part);
        else
            good = 0;
        parts++;
        zmq_msg_close(&part);
    } while (more);
    return good && parts == 2 ? 1 : 0;
}

/* ---- the client ---- */

fc_client *fc_connect(const char *const *endpoints, int n, const fc_options *opt, char *err,
                      size_t errlen)
{
    fc_client *c;

    if (n < 1 || n > FC_MAX_ENDPOINTS) {
        seterr(err, errlen, "need 1 to %d endpoints", FC_MAX_ENDPOINTS);
        return NULL;
    }
    if (!(c = calloc(1, sizeof *c))) {
        seterr(err, errlen, "out of memory");
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
            seterr(err, errlen, "out of memory");
            goto err;
        }
        c->neps++;
    }
    if (!(c->ctx = zmq_ctx_new())) {
        seterr(err, errlen, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto err;
    }
    if (!(c->sock = open_socket(c->ctx, ZMQ_DEALER, c->eps[0], err, errlen)))
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
        seterr(err, errlen, "out of memory");
        return -1;
    }
    uint64_t wid = (uint64_t)s->gen << 32 | idx;
    msgpack_sbuffer_init(&sb);
    if (encode(&sb, wid, ping, text, len, scene, budget_ms, c->opt.explain) < 0) {
        msgpack_sbuffer_destroy(&sb);
        c->freel[c->nfree++] = idx;
        seterr(err, errlen, "out of memory");
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
    if (send_body(c->sock, s->body, s->len) < 0) {
        seterr(err, errlen, "send: %s", zmq_strerror(errno));
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
    if (!(c->sock = open_socket(c->ctx, ZMQ_DEALER, c->eps[c->cur], err, errlen)))
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
        if (send_body(c->sock, s->body, s->len) < 0) {
            seterr(err, errlen, "send: %s", zmq_strerror(errno));
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
    msgpack_unpacked u;
    size_t off = 0;
    int done = 0;
    uint64_t wid;

    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS)
        goto out;
    const msgpack_object *root = &u.data;
    const msgpack_object *o = mget(root, "op");
    int pong = o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == 4 &&
               !memcmp(o->via.str.ptr, "pong", 4);
    slot *s = NULL;
    if (muint(mget(root, "id"), &wid) == 0) {
        uint32_t idx = (uint32_t)wid;
        if (idx < c->cap && c->slots[idx].used && c->slots[idx].gen == (uint32_t)(wid >> 32))
            s = &c->slots[idx];
    } else if (pong) {   /* a pong that does not echo the id answers the oldest ping */
        for (size_t i = 0; i < c->cap && !s; i++)
            if (c->slots[i].used && c->slots[i].ping)
                s = &c->slots[i], wid = (uint64_t)s->gen << 32 | i;
    }
    if (!s)
        goto out;
    memset(out, 0, sizeof *out);
    if (s->ping && !mget(root, "error")) {
        out->version = mstr(mget(root, "version"));
        if (!out->version)
            out->version = strdup("");
    } else if (decode_reply(root, out, err, errlen) < 0) {
        fc_result_free(out);    /* answered, but not in protocol v1: say so at once */
        out->error = strdup("internal");
        out->error_message = strdup("the reply has no decision");
        if (!out->error || !out->error_message) {
            fc_result_free(out);
            goto out;
        }
    }
    if (out->version && out->version[0])
        snprintf(c->version, sizeof c->version, "%s", out->version);
    out->id = wid;
    out->tries = s->tries;
    *id = wid;
    *tag = s->tag;
    slot_put(c, (uint32_t)wid);
    done = 1;
out:
    msgpack_unpacked_destroy(&u);
    return done;
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
        seterr(err, errlen, "nothing in flight");
        return -1;
    }
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        int got = recv_body(c->sock, &msg);
        if (got == 1 && take_reply(c, zmq_msg_data(&msg), zmq_msg_size(&msg), id, tag, out,
                                   err, errlen)) {
            zmq_msg_close(&msg);
            return 0;
        }
        zmq_msg_close(&msg);
        if (got < 0) {
            seterr(err, errlen, "recv: %s", zmq_strerror(errno));
            return -1;
        }
        if (got != 0)
            continue;   /* dropped one: look for more before waiting */

        int64_t now = now_ms();
        long i = expired(c, now, &lazy, &next);
        if (i >= 0) {
            slot *s = &c->slots[i];
            if (fallback_result(c, out) < 0) {
                seterr(err, errlen, "out of memory");
                return -1;
            }
            *id = (uint64_t)s->gen << 32 | (uint64_t)i;
            *tag = s->tag;
            out->id = *id;
            out->tries = s->tries;
            if (s->ping) {
                seterr(err, errlen, "no answer from %d endpoint(s)", c->neps);
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
            seterr(err, errlen, "timeout");
            return -1;
        }
        int64_t wait = next - now;
        if (timeout_ms >= 0 && start + timeout_ms - now < wait)
            wait = start + timeout_ms - now;
        zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)(wait > 0 ? wait : 0)) < 0 && errno != EINTR) {
            seterr(err, errlen, "poll: %s", zmq_strerror(errno));
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
        seterr(err, errlen, "fc_check: %zu asynchronous requests in flight", c->inflight);
        return -1;
    }
    if (fc_send(c, text, len, scene, budget_ms, 0, &id, err, errlen) < 0)
        return -1;
    if (recv_one(c, -1, &got, &tag, out, err, errlen) != 0)
        return -1;
    if (out->error) {
        seterr(err, errlen, "%s: %s", out->error, out->error_message);
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
        seterr(err, errlen, "fc_ping: %zu asynchronous requests in flight", c->inflight);
        return -1;
    }
    if (queue_request(c, 1, NULL, 0, NULL, 0, 0, 0, &id, err, errlen) < 0)
        return -1;
    if (recv_one(c, -1, &got, &tag, &r, err, errlen) != 0)
        return -1;
    int rc = 0;
    if (r.error) {
        seterr(err, errlen, "%s: %s", r.error, r.error_message);
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
        seterr(err, errlen, "fc_check_many: %zu asynchronous requests in flight", c->inflight);
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

/* ---- msgpack to JSON, admin ---- */

static cJSON *to_json(const msgpack_object *o)
{
    char buf[64];
    cJSON *j;

    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return cJSON_CreateNull();
    case MSGPACK_OBJECT_BOOLEAN:
        return cJSON_CreateBool(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return cJSON_CreateNumber((double)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return cJSON_CreateNumber((double)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return cJSON_CreateNumber(o->via.f64);
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN: {
        char *s = mstr(o);
        j = s ? cJSON_CreateString(s) : NULL;
        free(s);
        return j;
    }
    case MSGPACK_OBJECT_ARRAY:
        if (!(j = cJSON_CreateArray()))
            return NULL;
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            cJSON *e = to_json(&o->via.array.ptr[i]);
            if (!e) {
                cJSON_Delete(j);
                return NULL;
            }
            cJSON_AddItemToArray(j, e);
        }
        return j;
    case MSGPACK_OBJECT_MAP:
        if (!(j = cJSON_CreateObject()))
            return NULL;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            char *k = mstr(&kv->key);
            if (!k) {
                msgpack_object_print_buffer(buf, sizeof buf, kv->key);
                k = strdup(buf);
            }
            cJSON *e = k ? to_json(&kv->val) : NULL;
            if (!e) {
                free(k);
                cJSON_Delete(j);
                return NULL;
            }
            cJSON_AddItemToObject(j, k, e);
            free(k);
        }
        return j;
    default:
        return cJSON_CreateNull();
    }
}

cJSON *fc_msgpack_to_json(const void *buf, size_t len, char *err, size_t errlen)
{
    msgpack_unpacked u;
    size_t off = 0;
    cJSON *j = NULL;

    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
        seterr(err, errlen, "not one msgpack object");
    else if (!(j = to_json(&u.data)))
        seterr(err, errlen, "out of memory");
    msgpack_unpacked_destroy(&u);
    return j;
}

cJSON *fc_admin(const char *endpoint, const char *op, int timeout_ms, char *err, size_t errlen)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    cJSON *j = NULL;
    void *ctx, *s = NULL;
    zmq_msg_t msg;

    if (timeout_ms <= 0)
        timeout_ms = FC_ADMIN_TIMEOUT_MS;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "v", 1);
    msgpack_pack_unsigned_int(&pk, 1);
    msgpack_pack_str(&pk, 2), msgpack_pack_str_body(&pk, "op", 2);
    msgpack_pack_str(&pk, strlen(op)), msgpack_pack_str_body(&pk, op, strlen(op));
    zmq_msg_init(&msg);
    if (!(ctx = zmq_ctx_new())) {
        seterr(err, errlen, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto out;
    }
    if (!(s = open_socket(ctx, ZMQ_REQ, endpoint, err, errlen)))
        goto out;
    if (zmq_send(s, sb.data, sb.size, 0) < 0) {
        seterr(err, errlen, "send to %s: %s", endpoint, zmq_strerror(errno));
        goto out;
    }
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    int rc;
    while ((rc = zmq_poll(&item, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (rc <= 0) {
        seterr(err, errlen, "no reply from %s within %d ms", endpoint, timeout_ms);
        goto out;
    }
    if (zmq_msg_recv(&msg, s, 0) < 0) {
        seterr(err, errlen, "recv from %s: %s", endpoint, zmq_strerror(errno));
        goto out;
    }
    j = fc_msgpack_to_json(zmq_msg_data(&msg), zmq_msg_size(&msg), err, errlen);
out:
    zmq_msg_close(&msg);
    if (s)
        zmq_close(s);
    if (ctx)
        zmq_ctx_term(ctx);
    msgpack_sbuffer_destroy(&sb);
    return j;
}
