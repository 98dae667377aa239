/* request.c -- protocol v1 requests: names of ops and errors, decoding, encoding.
 *
 * The decoder walks the body with the bounded reader (mpread.c) and records
 * the first error while it keeps reading, so that the id can be echoed even
 * when another key was wrong. Strings point into the body; nothing is
 * allocated. */
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

static const char *const request_keys[] = {"v", "id", "op", "text", "scene", "budget_ms",
                                           "explain"};

static int known_key(const fw_mpv *k)
{
    for (size_t i = 0; i < sizeof request_keys / sizeof *request_keys; i++)
        if (fw_mp_is(k, request_keys[i]))
            return 1;
    return 0;
}

/* One key/value pair of the request map. -1 when the map cannot be walked further. */
static int read_pair(fw_mpr *r, const fw_limits *lim, fw_request *q, int *code, char *err,
                     size_t errlen)
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
    const uint8_t *start = r->p;
    if (known_key(&k)) {
        if (fw_mp_read(r, &v) < 0)
            return -1;
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
    else if (fw_mp_is(&k, "text")) {
        if (v.type != FW_MP_STR)
            fail(code, FW_E_BAD_REQUEST, err, errlen, "%s must be a str", "text");
        else if (v.len > lim->max_text) {
            if (*code == FW_E_OK) {
                *code = FW_E_TOO_LARGE;
                snprintf(err, errlen, "text is %u bytes, over the limit of %zu (max-text-bytes)",
                         v.len, lim->max_text);
            }
        } else {
            q->text = v.s;
            q->textlen = v.len;
            q->has_text = 1;
        }
    } else if (fw_mp_is(&k, "scene"))
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
        if (read_pair(&r, lim, q, &code, err, errlen) < 0) {
            code = FW_E_OK;             /* structural damage wins over type errors */
            return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s",
                        "not msgpack (truncated or invalid)");
        }
    if (r.p != r.end)
        return fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s",
                    "trailing bytes after the request map");
    if (code == FW_E_OK && q->op == FW_OP_CHECK && !q->has_text)
        fail(&code, FW_E_BAD_REQUEST, err, errlen, "%s", "check needs text (a str)");
    return code;
}


/* ---- encoding (clients) -------------------------------------------------- */

static int key(msgpack_packer *pk, const char *k)
{
    size_t n = strlen(k);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, k, n);
}

int fw_request_encode(msgpack_packer *pk, const fw_request *r, uint64_t id)
{
    int check = r->op == FW_OP_CHECK;
    size_t n = 3 + (check ? 1 + (r->scene_name != NULL) + (r->budget_ms > 0) + !!r->explain : 0);

    if (msgpack_pack_map(pk, n) || key(pk, "v") || msgpack_pack_unsigned_int(pk, FW_VERSION) ||
        key(pk, "op") || key(pk, fw_op_name(r->op)) || key(pk, "id") ||
        msgpack_pack_uint64(pk, id))
        return -1;
    if (!check)
        return 0;
    if (key(pk, "text") || msgpack_pack_str(pk, r->textlen) ||
        msgpack_pack_str_body(pk, r->text, r->textlen))
        return -1;
    if (r->scene_name && (key(pk, "scene") || key(pk, r->scene_name)))
        return -1;
    if (r->budget_ms > 0 && (key(pk, "budget_ms") || msgpack_pack_uint64(pk, (uint64_t)r->budget_ms)))
        return -1;
    if (r->explain && (key(pk, "explain") || msgpack_pack_true(pk)))
        return -1;
    return 0;
}
