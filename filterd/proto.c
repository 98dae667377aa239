/* proto.c -- protocol v1: a bounded msgpack reader, request decoding, reply encoding.
 *
 * Requests come from anyone who can connect, so the reader is written for
 * hostile input: every length is checked against the bytes left before it
 * is used, nesting is walked with a counter instead of recursion, and a
 * container that claims more items than bytes remain is refused at once
 * (each item takes at least one byte). Nothing is allocated. */
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "taxonomy.h"

void fd_mp_init(fd_mpr *r, const void *buf, size_t len)
{
    r->p = buf;
    r->end = r->p + len;
}

static int need(const fd_mpr *r, size_t n)
{
    return (size_t)(r->end - r->p) >= n ? 0 : -1;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = x << 8 | p[i];
    return x;
}

/* Read an n-byte big-endian length or value after the type byte. */
static int take(fd_mpr *r, int n, uint64_t *x)
{
    if (need(r, (size_t)n) < 0)
        return -1;
    *x = be(r->p, n);
    r->p += n;
    return 0;
}

static int payload(fd_mpr *r, fd_mpv *v, uint64_t n)
{
    if (need(r, n) < 0)
        return -1;
    v->s = (const char *)r->p;
    v->len = (uint32_t)n;
    r->p += n;
    return 0;
}

static int container(fd_mpr *r, fd_mpv *v, int type, uint64_t n)
{
    v->type = type;
    v->len = (uint32_t)n;
    /* every item takes at least one byte: refuse impossible counts now */
    return need(r, type == FD_MP_MAP ? n * 2 : n);
}

static int read_ext(fd_mpr *r, fd_mpv *v, uint64_t n)
{
    v->type = FD_MP_EXT;
    if (need(r, 1) < 0)
        return -1;
    r->p++;                     /* the ext type byte */
    return payload(r, v, n);
}

int fd_mp_read(fd_mpr *r, fd_mpv *v)
{
    uint64_t x;
    memset(v, 0, sizeof *v);
    if (need(r, 1) < 0)
        return -1;
    uint8_t c = *r->p++;
    if (c <= 0x7f) {
        v->type = FD_MP_UINT;
        v->u = c;
        return 0;
    }
    if (c >= 0xe0) {
        v->type = FD_MP_INT;
        v->i = (int8_t)c;
        return 0;
    }
    if ((c & 0xf0) == 0x80)
        return container(r, v, FD_MP_MAP, c & 0x0f);
    if ((c & 0xf0) == 0x90)
        return container(r, v, FD_MP_ARRAY, c & 0x0f);
    if ((c & 0xe0) == 0xa0) {
        v->type = FD_MP_STR;
        return payload(r, v, c & 0x1f);
    }
    switch (c) {
    case 0xc0: v->type = FD_MP_NIL; return 0;
    case 0xc2: case 0xc3: v->type = FD_MP_BOOL; v->u = c == 0xc3; return 0;
    case 0xc4: case 0xc5: case 0xc6:
        v->type = FD_MP_BIN;
        return take(r, 1 << (c - 0xc4), &x) < 0 ? -1 : payload(r, v, x);
    case 0xc7: case 0xc8: case 0xc9:
        return take(r, 1 << (c - 0xc7), &x) < 0 ? -1 : read_ext(r, v, x);
    case 0xca: case 0xcb: {
        int n = c == 0xca ? 4 : 8;
        if (take(r, n, &x) < 0)
            return -1;
        v->type = FD_MP_FLOAT;
        if (n == 4) {
            uint32_t w = (uint32_t)x;
            float f;
            memcpy(&f, &w, 4);
            v->f = f;
        } else
            memcpy(&v->f, &x, 8);
        return 0;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        v->type = FD_MP_UINT;
        return take(r, 1 << (c - 0xcc), &v->u);
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        int n = 1 << (c - 0xd0);
        if (take(r, n, &x) < 0)
            return -1;
        int64_t s = n == 8 ? (int64_t)x : (int64_t)(x ^ (1ull << (n * 8 - 1))) - (1ll << (n * 8 - 1));
        v->type = s >= 0 ? FD_MP_UINT : FD_MP_INT;
        v->u = s >= 0 ? (uint64_t)s : 0;
        v->i = s;
        return 0;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        return read_ext(r, v, 1u << (c - 0xd4));
    case 0xd9: case 0xda: case 0xdb:
        v->type = FD_MP_STR;
        return take(r, 1 << (c - 0xd9), &x) < 0 ? -1 : payload(r, v, x);
    case 0xdc: case 0xdd:
        return take(r, c == 0xdc ? 2 : 4, &x) < 0 ? -1 : container(r, v, FD_MP_ARRAY, x);
    case 0xde: case 0xdf:
        return take(r, c == 0xde ? 2 : 4, &x) < 0 ? -1 : container(r, v, FD_MP_MAP, x);
    default:
        return -1;              /* 0xc1: never used */
    }
}

int fd_mp_skip(fd_mpr *r)
{
    uint64_t left = 1;          /* values still to skip */
    fd_mpv v;
    while (left > 0) {
        if (fd_mp_read(r, &v) < 0)
            return -1;
        left--;
        if (v.type == FD_MP_ARRAY)
            left += v.len;
        else if (v.type == FD_MP_MAP)
            left += 2ull * v.len;
        if (left > (uint64_t)(r->end - r->p))
            return -1;
    }
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

static const char *const op_names[] = {"check", "ping", "reload", "stats", "workers", "version"};
static const char *const err_names[] = {"ok", "bad_request", "too_large", "unknown_op",
                                        "forbidden", "internal", "reload_failed"};

const char *fd_err_name(int code)
{
    return code >= 0 && code <= FD_E_RELOAD_FAILED ? err_names[code] : "internal";
}

const char *fd_op_name(int op)
{
    return op >= 0 && op < FD_OP_UNKNOWN ? op_names[op] : "unknown";
}

int fd_op_admin(int op)
{
    return op == FD_OP_RELOAD || op == FD_OP_STATS || op == FD_OP_WORKERS || op == FD_OP_VERSION;
}

static int key_is(const fd_mpv *k, const char *name)
{
    return k->len == strlen(name) && !memcmp(k->s, name, k->len);
}

/* Record the first error; later ones only when none yet. */
static int fail(int *code, int c, char *err, size_t errlen, const char *fmt, const char *what)
{
    if (*code == FD_E_OK) {
        *code = c;
        snprintf(err, errlen, fmt, what);
    }
    return c;
}

static void read_id(const fd_mpv *v, const uint8_t *start, const fd_mpr *r, fd_req *q,
                    int *code, char *err, size_t errlen)
{
    if ((v->type == FD_MP_STR || v->type == FD_MP_BIN) && v->len > FD_ID_MAX)
        fail(code, FD_E_BAD_REQUEST, err, errlen, "%s is longer than 128 bytes", "id");
    else if (v->type != FD_MP_STR && v->type != FD_MP_BIN && v->type != FD_MP_UINT &&
             v->type != FD_MP_INT)
        fail(code, FD_E_BAD_REQUEST, err, errlen, "%s must be a str, int or bin", "id");
    else {
        q->id = (const char *)start;
        q->idlen = (size_t)(r->p - start);
    }
}

static void read_op(const fd_mpv *v, fd_req *q, int *code, char *err, size_t errlen)
{
    char name[32];
    if (v->type != FD_MP_STR) {
        fail(code, FD_E_BAD_REQUEST, err, errlen, "%s must be a str", "op");
        return;
    }
    for (int i = 0; i < FD_OP_UNKNOWN; i++)
        if (key_is(v, op_names[i])) {
            q->op = i;
            return;
        }
    q->op = FD_OP_UNKNOWN;
    snprintf(name, sizeof name, "%.*s", v->len > 24 ? 24 : (int)v->len, v->s);
    for (char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    fail(code, FD_E_UNKNOWN_OP, err, errlen, "unknown op '%s'", name);
}

static void read_scene(const fd_mpv *v, fd_req *q, int *code, char *err, size_t errlen)
{
    char name[32];
    if (v->type != FD_MP_STR) {
        fail(code, FD_E_BAD_REQUEST, err, errlen, "%s must be a str", "scene");
        return;
    }
    snprintf(name, sizeof name, "%.*s", v->len > 24 ? 24 : (int)v->len, v->s);
    if (v->len > 24 || (q->scene = fe_scene_lookup(name)) < 0) {
        q->scene = FE_SCENE_DEFAULT;
        fail(code, FD_E_BAD_REQUEST, err, errlen, "%s",
             "unknown scene (profile, comment, forum, social_log, nickname, title, chat)");
    }
}

/* One key/value pair of the request map. -1 when the map cannot be walked further. */
static int read_pair(fd_mpr *r, fd_req *q, size_t max_text, int *code, char *err, size_t errlen)
{
    fd_mpv k, v;
    const uint8_t *kstart = r->p;
    if (fd_mp_read(r, &k) < 0)
        return -1;
    if (k.type != FD_MP_STR) {          /* a non-string key: refuse, but keep walking */
        fail(code, FD_E_BAD_REQUEST, err, errlen, "%s", "map keys must be strings");
        r->p = kstart;
        return fd_mp_skip(r) < 0 ? -1 : fd_mp_skip(r);
    }
    const uint8_t *start = r->p;
    if (key_is(&k, "v") || key_is(&k, "id") || key_is(&k, "op") || key_is(&k, "text") ||
        key_is(&k, "scene") || key_is(&k, "budget_ms") || key_is(&k, "explain")) {
        if (fd_mp_read(r, &v) < 0)
            return -1;
        if ((v.type == FD_MP_ARRAY || v.type == FD_MP_MAP) && v.len) {
            r->p = start;               /* step back and skip the whole value */
            if (fd_mp_skip(r) < 0)
                return -1;
        }
    } else
        return fd_mp_skip(r);          /* unknown keys are ignored */

    if (key_is(&k, "id"))
        read_id(&v, start, r, q, code, err, errlen);
    else if (key_is(&k, "v")) {
        if (v.type != FD_MP_UINT)
            fail(code, FD_E_BAD_REQUEST, err, errlen, "%s must be a uint", "v");
        else if (v.u != FD_PROTO_VERSION)
            fail(code, FD_E_BAD_REQUEST, err, errlen, "%s", "unsupported protocol version: this server speaks v 1");
    } else if (key_is(&k, "op"))
        read_op(&v, q, code, err, errlen);
    else if (key_is(&k, "text")) {
        if (v.type != FD_MP_STR)
            fail(code, FD_E_BAD_REQUEST, err, errlen, "%s must be a str", "text");
        else if (v.len > max_text) {
            if (*code == FD_E_OK) {
                *code = FD_E_TOO_LARGE;
                snprintf(err, errlen, "text is %u bytes, over the limit of %zu (max-text-bytes)",
                         v.len, max_text);
            }
        } else {
            q->text = v.s;
            q->textlen = v.len;
            q->has_text = 1;
        }
    } else if (key_is(&k, "scene"))
        read_scene(&v, q, code, err, errlen);
    else if (key_is(&k, "budget_ms")) {
        if (v.type != FD_MP_UINT)
            fail(code, FD_E_BAD_REQUEST, err, errlen, "%s must be a uint", "budget_ms");
        else
            q->budget_ms = v.u > INT32_MAX ? INT32_MAX : (int64_t)v.u;
    } else if (key_is(&k, "explain")) {
        if (v.type != FD_MP_BOOL)
            fail(code, FD_E_BAD_REQUEST, err, errlen, "%s must be a bool", "explain");
        else
            q->explain = (int)v.u;
    }
    return 0;
}

int fd_req_decode(const void *buf, size_t len, size_t max_text, fd_req *q, char *err,
                  size_t errlen)
{
    fd_mpr r;
    fd_mpv m;
    int code = FD_E_OK;

    memset(q, 0, sizeof *q);
    q->scene = FE_SCENE_DEFAULT;
    q->budget_ms = -1;
    err[0] = '\0';
    fd_mp_init(&r, buf, len);
    if (fd_mp_read(&r, &m) < 0)
        return fail(&code, FD_E_BAD_REQUEST, err, errlen, "%s", "not msgpack (truncated or invalid)");
    if (m.type != FD_MP_MAP)
        return fail(&code, FD_E_BAD_REQUEST, err, errlen, "%s", "the request is not a msgpack map");
    for (uint32_t i = 0; i < m.len; i++)
        if (read_pair(&r, q, max_text, &code, err, errlen) < 0) {
            code = FD_E_OK;             /* structural damage wins over type errors */
            return fail(&code, FD_E_BAD_REQUEST, err, errlen, "%s",
                        "not msgpack (truncated or invalid)");
        }
    if (r.p != r.end)
        return fail(&code, FD_E_BAD_REQUEST, err, errlen, "%s",
                    "trailing bytes after the request map");
    if (code == FD_E_OK && q->op == FD_OP_CHECK && !q->has_text)
        fail(&code, FD_E_BAD_REQUEST, err, errlen, "%s", "check needs text (a str)");
    return code;
}

/* ---- replies ------------------------------------------------------------ */

void fd_enc_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

void fd_enc_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    fd_enc_str(pk, k);
    if (v)
        fd_enc_str(pk, v);
    else
        msgpack_pack_nil(pk);
}

void fd_enc_kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
    fd_enc_str(pk, k);
    msgpack_pack_uint64(pk, v);
}

void fd_enc_begin(msgpack_packer *pk, size_t n, const char *id, size_t idlen)
{
    msgpack_pack_map(pk, n);
    fd_enc_kv_uint(pk, "v", FD_PROTO_VERSION);
    if (idlen) {
        fd_enc_str(pk, "id");
        pk->callback(pk->data, id, idlen);   /* the id's bytes as they came */
    }
}

void fd_enc_elapsed(msgpack_packer *pk, uint64_t us)
{
    fd_enc_str(pk, "elapsed_us");
    msgpack_pack_fix_uint64(pk, us);
}

int fd_enc_patch_elapsed(void *reply, size_t len, uint64_t us)
{
    uint8_t *p = reply;
    if (len < 9 || p[len - 9] != 0xcf)
        return -1;
    for (int i = 0; i < 8; i++)
        p[len - 8 + i] = (uint8_t)(us >> (56 - 8 * i));
    return 0;
}

void fd_enc_error(msgpack_packer *pk, const char *id, size_t idlen, int code, const char *msg)
{
    fd_enc_begin(pk, idlen ? 3 : 2, id, idlen);
    fd_enc_str(pk, "error");
    msgpack_pack_map(pk, 2);
    fd_enc_kv_str(pk, "code", fd_err_name(code));
    fd_enc_kv_str(pk, "message", msg);
}

void fd_enc_pong(msgpack_packer *pk, const char *id, size_t idlen, const char *version)
{
    fd_enc_begin(pk, idlen ? 4 : 3, id, idlen);
    fd_enc_kv_str(pk, "op", "pong");
    fd_enc_kv_str(pk, "version", version);
}

void fd_enc_plain(msgpack_packer *pk, const char *id, size_t idlen, int action,
                  const char *version, const char *degraded, const char *warning,
                  uint64_t elapsed_us)
{
    fd_enc_begin(pk, idlen ? 11 : 10, id, idlen);
    fd_enc_kv_str(pk, "decision", fe_action_name((fe_action)action));
    fd_enc_kv_str(pk, "suggest", fe_action_suggest((fe_action)action));
    fd_enc_kv_uint(pk, "label", action == FE_ALLOW ? FE_CODE_PASS : FD_FALLBACK_CODE);
    fd_enc_str(pk, "labels");
    msgpack_pack_array(pk, 0);
    fd_enc_str(pk, "matches");
    msgpack_pack_array(pk, 0);
    fd_enc_kv_str(pk, "version", version);
    fd_enc_kv_str(pk, "degraded", degraded);
    fd_enc_str(pk, "warnings");
    msgpack_pack_array(pk, warning ? 1 : 0);
    if (warning)
        fd_enc_str(pk, warning);
    fd_enc_elapsed(pk, elapsed_us);
}
