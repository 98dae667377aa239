/* request.c -- protocol v1 requests: names of ops and errors, decoding, encoding.
 *
 * The decoder walks the body with the bounded reader (mpread.c) and records
 * the first error while it keeps reading, so that the id can be echoed even
 * when another key was wrong. Strings point into the body; nothing is
 * allocated. A bulk request's items are checked for shape (every byte of
 * the array walked) by the decoder, and decoded one by one by
 * fw_items_next, each with its own error: one bad item spoils no other. */
#include <stdio.h>
#include <string.h>

#include "wire.h"

static const char *const op_names[] = {"check", "ping", "reload", "stats", "workers", "version"};
static const char *const err_names[] = {"ok", "bad_request", "too_large", "unknown_op",
                                        "forbidden", "internal", "reload_failed"};

const char *fw_err_name(int code)
{
    return code >= 0 && code <= FW_E_RELOAD_FAILED ? err_names[code] : "internal";
}

const char *fw_op_name(int op)
{
    return op >= 0 && op < FW_OP_UNKNOWN ? op_names[op] : "unknown";
}

int fw_op_admin(int op)
{
    return op == FW_OP_RELOAD || op == FW_OP_STATS || op == FW_OP_WORKERS || op == FW_OP_VERSION;
}

/* Record the first error; later ones only when none yet. */
static int fail(int *code, int c, char *err, size_t errlen, const char *fmt, const char *what)
{
    if (*code == FW_E_OK) {
        *code = c;
        snprintf(err, errlen, fmt, what);
    }
    return c;
}

static void read_id(const fw_mpv *v, const uint8_t *start, const fw_mpr *r, fw_request *q,
                    int *code, char *err, size_t errlen)
{
    if ((v->type == FW_MP_STR || v->type == FW_MP_BIN) && v->len > FW_ID_MAX)
        fail(code, FW_E_BAD_REQUEST, err, errlen, "%s is longer than 128 bytes", "id");
    else if (v->type != FW_MP_STR && v->type != FW_MP_BIN && v->type != FW_MP_UINT &&
             v->type != FW_MP_INT)
        fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be a str, int or bin", "id");
    else {
        q->id = (const char *)start;
        q->idlen = (size_t)(r->p - start);
    }
}

static void read_op(const fw_mpv *v, fw_request *q, int *code, char *err, size_t errlen)
{
    char name[32];
    if (v->type != FW_MP_STR) {
        fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be a str", "op");
        return;
    }
    for (int i = 0; i < FW_OP_UNKNOWN; i++)
        if (fw_mp_is(v, op_names[i])) {
            q->op = i;
            return;
        }
    q->op = FW_OP_UNKNOWN;
    snprintf(name, sizeof name, "%.*s", v->len > 24 ? 24 : (int)v->len, v->s);
    for (char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    fail(code, FW_E_UNKNOWN_OP, err, errlen, "unknown op '%s'", name);
}

/* The scene names of lim, for a message: "profile, comment, ...". */
static void scene_list(const fw_limits *lim, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < lim->nscenes && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", lim->scenes[i]);
}

static void read_scene(const fw_mpv *v, const fw_limits *lim, fw_request *q, int *code,
                       char *err, size_t errlen)
{
    char names[160];
    if (v->type != FW_MP_STR) {
        fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be a str", "scene");
        return;
    }
    for (int i = 0; i < lim->nscenes; i++)
        if (fw_mp_is(v, lim->scenes[i])) {
            q->scene = i;
            return;
        }
    scene_list(lim, names, sizeof names);
    if (*code == FW_E_OK) {
        *code = FW_E_BAD_REQUEST;
        snprintf(err, errlen, "unknown scene (%s)", names);
    }
}

/* The keys of a request; an item knows the first three only. */
static const char *const request_keys[] = {"id", "text", "scene", "v", "op", "budget_ms",
                                           "explain", "items"};
#define ITEM_KEYS 3

static int known_key(const fw_mpv *k, int item)
{
    size_t n = item ? ITEM_KEYS : sizeof request_keys / sizeof *request_keys;
    for (size_t i = 0; i < n; i++)
        if (fw_mp_is(k, request_keys[i]))
            return 1;
    return 0;
}

/* A value over its limit ("text is", 5000, "bytes", 4096, "max-text-bytes"):
 * too_large, unless an error came first. */
static void over(int *code, char *err, size_t errlen, const char *what, uint32_t n,
                 const char *unit, size_t limit, const char *setting)
{
    if (*code == FW_E_OK) {
        *code = FW_E_TOO_LARGE;
        snprintf(err, errlen, "%s %u %s, over the limit of %zu (%s)", what, n, unit, limit,
                 setting);
    }
}

static void read_text(const fw_mpv *v, const fw_limits *lim, fw_request *q, int *code,
                      char *err, size_t errlen)
{
    if (v->type != FW_MP_STR)
        fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be a str", "text");
    else if (v->len > lim->max_text)
        over(code, err, errlen, "text is", v->len, "bytes", lim->max_text, "max-text-bytes");
    else {
        q->text = v->s;
        q->textlen = v->len;
        q->has_text = 1;
    }
}

/* items: an array, at most max_items long, its shape walked by the caller. */
static void read_items(const fw_mpv *v, const uint8_t *first, const uint8_t *end,
                       const fw_limits *lim, fw_request *q, int *code, char *err,
                       size_t errlen)
{
    if (v->type != FW_MP_ARRAY)
        fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be an array", "items");
    else if (v->len > lim->max_items)
        over(code, err, errlen, "items holds", v->len, "texts", lim->max_items, "max-items");
    else {
        q->bulk = 1;
        q->items = first;
        q->items_len = (size_t)(end - first);
        q->nitems = v->len;
    }
}

/* One key/value pair of a request map (of an item's map when item is set).
 * -1 when the map cannot be walked further. */
static int read_pair(fw_mpr *r, const fw_limits *lim, fw_request *q, int *code, char *err,
                     size_t errlen, int item)
{
    fw_mpv k, v;
    const uint8_t *kstart = r->p;
    if (fw_mp_read(r, &k) < 0)
        return -1;
    if (k.type != FW_MP_STR) {          /* a non-string key: refuse, but keep walking */
        fail(code, FW_E_BAD_REQUEST, err, errlen, "%s", "map keys must be strings");
        r->p = kstart;
        return fw_mp_skip(r) < 0 ? -1 : fw_mp_skip(r);
    }
    const uint8_t *start = r->p, *first;
    if (known_key(&k, item)) {
        if (fw_mp_read(r, &v) < 0)
            return -1;
        first = r->p;
        if ((v.type == FW_MP_ARRAY || v.type == FW_MP_MAP) && v.len) {
            r->p = start;               /* step back and skip the whole value */
            if (fw_mp_skip(r) < 0)
                return -1;
        }
    } else
        return fw_mp_skip(r);          /* unknown keys are ignored */

    if (fw_mp_is(&k, "id"))
        read_id(&v, start, r, q, code, err, errlen);
    else if (fw_mp_is(&k, "v")) {
        if (v.type != FW_MP_UINT)
            fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be a uint", "v");
        else if (v.u != FW_VERSION)
            fail(code, FW_E_BAD_REQUEST, err, errlen, "%s", "unsupported protocol version: this server speaks v 1");
    } else if (fw_mp_is(&k, "op"))
        read_op(&v, q, code, err, errlen);
    else if (fw_mp_is(&k, "text"))
        read_text(&v, lim, q, code, err, errlen);
    else if (fw_mp_is(&k, "items"))
        read_items(&v, first, r->p, lim, q, code, err, errlen);
    else if (fw_mp_is(&k, "scene"))
        read_scene(&v, lim, q, code, err, errlen);
    else if (fw_mp_is(&k, "budget_ms")) {
        if (v.type != FW_MP_UINT)
            fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be a uint", "budget_ms");
        else
            q->budget_ms = v.u > INT32_MAX ? INT32_MAX : (int64_t)v.u;
    } else if (fw_mp_is(&k, "explain")) {
        if (v.type != FW_MP_BOOL)
            fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be a bool", "explain");
        else
            q->explain = (int)v.u;
    }
    return 0;
}

int fw_request_decode(const void *buf, size_t len, const fw_limits *lim, fw_request *q,
                      char *err, size_t errlen)
{
    fw_mpr r;
    fw_mpv m;
    int code = FW_E_OK;

    memset(q, 0, sizeof *q);
    q->scene = lim->default_scene;
    q->budget_ms = -1;
    err[0] = '\0';
    fw_mp_init(&r, buf, len);
    if (fw_mp_read(&r, &m) < 0)
        return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s", "not msgpack (truncated or invalid)");
    if (m.type != FW_MP_MAP)
        return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s", "the request is not a msgpack map");
    for (uint32_t i = 0; i < m.len; i++)
        if (read_pair(&r, lim, q, &code, err, errlen, 0) < 0) {
            code = FW_E_OK;             /* structural damage wins over type errors */
            return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s",
                        "not msgpack (truncated or invalid)");
        }
    if (r.p != r.end)
        return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s",
                    "trailing bytes after the request map");
    if (code == FW_E_OK && q->op == FW_OP_CHECK && q->has_text && q->bulk)
        fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s", "a check has text or items, not both");
    if (code == FW_E_OK && q->op == FW_OP_CHECK && !q->has_text && !q->bulk)
        fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s",
             "check needs text (a str) or items (an array)");
    return code;
}

void fw_items_begin(fw_items *it, const fw_request *q)
{
    fw_mp_init(&it->r, q->items, q->bulk ? q->items_len : 0);
    it->left = q->bulk ? q->nitems : 0;
}

int fw_items_next(fw_items *it, const fw_limits *lim, const fw_request *q, fw_item *out,
                  char *err, size_t errlen)
{
    fw_request one;
    fw_mpv m;
    int code = FW_E_OK;
    const uint8_t *start = it->r.p;

    if (!it->left)
        return -1;
    it->left--;
    memset(&one, 0, sizeof one);
    memset(out, 0, sizeof *out);
    one.scene = q->scene;
    err[0] = '\0';
    if (fw_mp_read(&it->r, &m) < 0) {
        it->left = 0;
        return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s", "not msgpack");
    }
    if (m.type != FW_MP_MAP) {
        it->r.p = start;
        if (fw_mp_skip(&it->r) < 0)
            it->left = 0;
        return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s", "an item must be a map");
    }
    for (uint32_t i = 0; i < m.len; i++)
        if (read_pair(&it->r, lim, &one, &code, err, errlen, 1) < 0) {
            it->left = 0;
            code = FW_E_OK;
            return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s", "not msgpack");
        }
    out->id = one.id;
    out->idlen = one.idlen;
    out->text = one.text;
    out->textlen = one.textlen;
    out->scene = one.scene;
    if (code == FW_E_OK && !one.has_text)
        fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s", "an item needs text (a str)");
    return code;
}


/* ---- encoding (clients) -------------------------------------------------- */

static int key(msgpack_packer *pk, const char *k)
{
    size_t n = strlen(k);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, k, n);
}

/* The optional pairs of r: scene, budget_ms, explain. */
static size_t noptions(const fw_request *r)
{
    return (r->scene_name != NULL) + (r->budget_ms > 0) + !!r->explain;
}

static int enc_options(msgpack_packer *pk, const fw_request *r)
{
    if (r->scene_name && (key(pk, "scene") || key(pk, r->scene_name)))
        return -1;
    if (r->budget_ms > 0 && (key(pk, "budget_ms") || msgpack_pack_uint64(pk, (uint64_t)r->budget_ms)))
        return -1;
    if (r->explain && (key(pk, "explain") || msgpack_pack_true(pk)))
        return -1;
    return 0;
}

/* A request map of 3 + more pairs, starting with v, op and id. */
static int enc_head(msgpack_packer *pk, int op, uint64_t id, size_t more)
{
    return msgpack_pack_map(pk, 3 + more) || key(pk, "v") ||
           msgpack_pack_unsigned_int(pk, FW_VERSION) || key(pk, "op") ||
           key(pk, fw_op_name(op)) || key(pk, "id") || msgpack_pack_uint64(pk, id) ? -1 : 0;
}

int fw_request_encode(msgpack_packer *pk, const fw_request *r, uint64_t id)
{
    if (r->op != FW_OP_CHECK)
        return enc_head(pk, r->op, id, 0);
    if (enc_head(pk, r->op, id, 1 + noptions(r)) || key(pk, "text") ||
        msgpack_pack_str(pk, r->textlen) || msgpack_pack_str_body(pk, r->text, r->textlen))
        return -1;
    return enc_options(pk, r);
}

int fw_request_encode_bulk(msgpack_packer *pk, const fw_request *r, const fw_request *items,
                           size_t n, uint64_t id)
{
    if (enc_head(pk, FW_OP_CHECK, id, 1 + noptions(r)) || enc_options(pk, r) ||
        key(pk, "items") || msgpack_pack_array(pk, n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const fw_request *t = &items[i];
        if (msgpack_pack_map(pk, 1 + (t->scene_name != NULL)) || key(pk, "text") ||
            msgpack_pack_str(pk, t->textlen) || msgpack_pack_str_body(pk, t->text, t->textlen))
            return -1;
        if (t->scene_name && (key(pk, "scene") || key(pk, t->scene_name)))
            return -1;
    }
    return 0;
}
