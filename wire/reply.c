/* reply.c -- protocol v1 replies in msgpack: names, encoders, the client's decoder.
 *
 * Encoders write through msgpack-c's packer. A decision walks the field
 * table of fields.h, as json.c does, so both renderings agree. The decoder
 * uses the bounded reader (mpread.c) and copies what it keeps: a decoded
 * fw_reply owns its strings and arrays, and fw_reply_free() releases them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

static const char *const decisions[] = {"allow", "flag", "block"};
static const char *const suggests[] = {"pass", "review", "risky"};
static const char *const degraded_names[FW_NDEGRADED] = {NULL, "deadline", "overload",
                                                         "unavailable"};

const char *const fw_field_key[F_NFIELDS] = {
    [F_DECISION] = "decision", [F_SUGGEST] = "suggest", [F_LABEL] = "label",
    [F_LABELS] = "labels", [F_MATCHES] = "matches", [F_WARNINGS] = "warnings",
    [F_VERSION] = "version", [F_DEGRADED] = "degraded", [F_VIEWS] = "views",
    [F_ELAPSED] = "elapsed_us"};
const char *const fw_mfield_key[M_NFIELDS] = {
    [M_START] = "start", [M_END] = "end", [M_TERM] = "term", [M_LABEL] = "label",
    [M_ACTION] = "action", [M_LIST] = "list", [M_LINE] = "line", [M_VIA] = "via"};

const char *fw_decision_name(int d) { return d >= 0 && d <= FW_BLOCK ? decisions[d] : "?"; }
const char *fw_decision_suggest(int d) { return d >= 0 && d <= FW_BLOCK ? suggests[d] : "?"; }

int fw_decision_lookup(const char *name)
{
    for (int i = 0; i <= FW_BLOCK; i++)
        if (!strcmp(name, decisions[i]))
            return i;
    return -1;
}

const char *fw_degraded_name(int why)
{
    return why > 0 && why < FW_NDEGRADED ? degraded_names[why] : NULL;
}

int fw_field_present(const fw_reply *r, int f, int json)
{
    switch (f) {
    case F_VIEWS: return r->nviews > 0;
    case F_WARNINGS: return !json || r->nwarnings > 0;
    case F_DEGRADED: return !json || r->degraded != NULL;
    case F_ELAPSED: return !json;
    default: return 1;
    }
}

const char *fw_mfield_str(const fw_match *m, int f)
{
    const char *s = f == M_TERM ? m->term : f == M_LABEL ? m->label : f == M_ACTION ? m->action
                  : f == M_LIST ? m->list : m->via;
    return s ? s : "";
}

/* ---- encoding ------------------------------------------------------------- */

void fw_enc_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

void fw_enc_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    fw_enc_str(pk, k);
    if (v)
        fw_enc_str(pk, v);
    else
        msgpack_pack_nil(pk);
}

void fw_enc_kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
    fw_enc_str(pk, k);
    msgpack_pack_uint64(pk, v);
}

void fw_enc_begin(msgpack_packer *pk, size_t n, const char *id, size_t idlen)
{
    msgpack_pack_map(pk, n);
    fw_enc_kv_uint(pk, "v", FW_VERSION);
    if (idlen) {
        fw_enc_str(pk, "id");
        pk->callback(pk->data, id, idlen);   /* the id's bytes as they came */
    }
}

static void enc_strv(msgpack_packer *pk, const char *const *v, size_t n)
{
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        fw_enc_str(pk, v[i]);
}

static void enc_match(msgpack_packer *pk, const fw_match *m)
{
    msgpack_pack_map(pk, M_NFIELDS);
    for (int f = 0; f < M_NFIELDS; f++) {
        fw_enc_str(pk, fw_mfield_key[f]);
        if (f == M_START || f == M_END || f == M_LINE)
            msgpack_pack_uint32(pk, f == M_START ? m->start : f == M_END ? m->end : m->line);
        else
            fw_enc_str(pk, fw_mfield_str(m, f));
    }
}

static void enc_field(msgpack_packer *pk, const fw_reply *r, int f)
{
    switch (f) {
    case F_DECISION: fw_enc_str(pk, fw_decision_name(r->decision)); break;
    case F_SUGGEST: fw_enc_str(pk, fw_decision_suggest(r->decision)); break;
    case F_LABEL: msgpack_pack_uint64(pk, (uint64_t)r->label); break;
    case F_LABELS: enc_strv(pk, r->labels, r->nlabels); break;
    case F_MATCHES:
        msgpack_pack_array(pk, r->nmatches);
        for (size_t i = 0; i < r->nmatches; i++)
            enc_match(pk, &r->matches[i]);
        break;
    case F_WARNINGS: enc_strv(pk, r->warnings, r->nwarnings); break;
    case F_VERSION: fw_enc_str(pk, r->version ? r->version : ""); break;
    case F_DEGRADED:
        if (r->degraded)
            fw_enc_str(pk, r->degraded);
        else
            msgpack_pack_nil(pk);
        break;
    case F_VIEWS:
        msgpack_pack_map(pk, r->nviews);
        for (size_t i = 0; i < r->nviews; i++) {
            fw_enc_str(pk, r->views[i].name);
            msgpack_pack_str_with_body(pk, r->views[i].text, r->views[i].len);
        }
        break;
    case F_ELAPSED: msgpack_pack_fix_uint64(pk, r->elapsed_us); break;
    }
}

void fw_enc_decision(msgpack_packer *pk, const char *id, size_t idlen, const fw_reply *r)
{
    size_t n = 1 + (idlen > 0);
    for (int f = 0; f < F_NFIELDS; f++)
        n += (size_t)fw_field_present(r, f, 0);
    fw_enc_begin(pk, n, id, idlen);
    for (int f = 0; f < F_NFIELDS; f++)
        if (fw_field_present(r, f, 0)) {
            fw_enc_str(pk, fw_field_key[f]);
            enc_field(pk, r, f);
        }
}

int fw_patch_elapsed(void *reply, size_t len, uint64_t us)
{
    uint8_t *p = reply;
    if (len < 9 || p[len - 9] != 0xcf)
        return -1;
    for (int i = 0; i < 8; i++)
        p[len - 8 + i] = (uint8_t)(us >> (56 - 8 * i));
    return 0;
}

void fw_enc_error(msgpack_packer *pk, const char *id, size_t idlen, int code, const char *msg)
{
    fw_enc_begin(pk, idlen ? 3 : 2, id, idlen);
    fw_enc_str(pk, "error");
    msgpack_pack_map(pk, 2);
    fw_enc_kv_str(pk, "code", fw_err_name(code));
    fw_enc_kv_str(pk, "message", msg);
}

void fw_enc_pong(msgpack_packer *pk, const char *id, size_t idlen, const char *version)
{
    fw_enc_begin(pk, idlen ? 4 : 3, id, idlen);
    fw_enc_kv_str(pk, "op", "pong");
    fw_enc_kv_str(pk, "version", version);
}

void fw_fallback(fw_reply *r, int decision, const char *version, int why)
{
    memset(r, 0, sizeof *r);
    r->decision = decision;
    r->label = decision == FW_ALLOW ? FW_CODE_PASS : FW_CODE_FALLBACK;
    r->version = version;
    r->degraded = fw_degraded_name(why);
}

/* ---- decoding (clients) ----------------------------------------------------- */

static char *dup_str(const fw_mpv *v)
{
    if (v->type != FW_MP_STR && v->type != FW_MP_BIN)
        return NULL;
    char *s = malloc((size_t)v->len + 1);
    if (s) {
        memcpy(s, v->s, v->len);
        s[v->len] = '\0';
    }
    return s;
}

/* Read the value at r: a copy of it when it is a str or bin, else skip it.
 * *out keeps an earlier value if this one is not a string. -1: damaged or OOM. */
static int take_str(fw_mpr *r, const char **out)
{
    const uint8_t *at = r->p;
    fw_mpv v;
    if (fw_mp_read(r, &v) < 0)
        return -1;
    if (v.type != FW_MP_STR && v.type != FW_MP_BIN) {
        r->p = at;
        return fw_mp_skip(r);
    }
    char *s = dup_str(&v);
    if (!s)
        return -1;
    free((void *)*out);
    *out = s;
    return 0;
}

/* A uint into *out (kept when the value is another type). */
static int take_uint(fw_mpr *r, uint64_t *out, int *seen)
{
    const uint8_t *at = r->p;
    fw_mpv v;
    if (fw_mp_read(r, &v) < 0)
        return -1;
    if (v.type == FW_MP_UINT) {
        *out = v.u;
        if (seen)
            *seen = 1;
        return 0;
    }
    r->p = at;
    return fw_mp_skip(r);
}

/* The container header at r when it is of type t: 1 (its items follow), 0
 * after skipping a value of another type, -1 when damaged. */
static int take_container(fw_mpr *r, int t, uint32_t *n)
{
    const uint8_t *at = r->p;
    fw_mpv v;
    if (fw_mp_read(r, &v) < 0)
        return -1;
    if (v.type == t) {
        *n = v.len;
        return 1;
    }
    r->p = at;
    return fw_mp_skip(r) < 0 ? -1 : 0;
}

/* An array of strings (other items become ""). */
static int take_strv(fw_mpr *r, const char ***out, size_t *nout)
{
    uint32_t n;
    int c = take_container(r, FW_MP_ARRAY, &n);
    if (c <= 0)
        return c;
    const char **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return -1;
    *out = v;
    for (uint32_t i = 0; i < n; i++) {
        if (take_str(r, &v[i]) < 0)
            return -1;
        *nout = i + 1;
        if (!v[i] && !(v[i] = strdup("")))
            return -1;
    }
    return 0;
}

/* The key at r: its field index in keys[n], -1 for another key (its value
 * then skipped), -2 when damaged. */
static int take_key(fw_mpr *r, const char *const *keys, int n, fw_mpv *k)
{
    if (fw_mp_read(r, k) < 0)
        return -2;
    for (int i = 0; i < n; i++)
        if (fw_mp_is(k, keys[i]))
            return i;
    return -1;
}

static int take_match(fw_mpr *r, fw_match *m)
{
    static const char *empty = "";
    uint32_t n;
    int c = take_container(r, FW_MP_MAP, &n);
    for (uint32_t i = 0; c > 0 && i < n; i++) {
        fw_mpv k;
        uint64_t x = 0;
        int f = take_key(r, fw_mfield_key, M_NFIELDS, &k), rc;
        if (f == -2)
            return -1;
        if (f == M_START || f == M_END || f == M_LINE) {
            rc = take_uint(r, &x, NULL);
            *(f == M_START ? &m->start : f == M_END ? &m->end : &m->line) = (uint32_t)x;
        } else if (f >= 0)
            rc = take_str(r, f == M_TERM ? &m->term : f == M_LABEL ? &m->label
                           : f == M_ACTION ? &m->action : f == M_LIST ? &m->list : &m->via);
        else
            rc = fw_mp_skip(r);
        if (rc < 0)
            return -1;
    }
    const char **s[] = {&m->term, &m->label, &m->action, &m->list, &m->via};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        if (!*s[i] && !(*s[i] = strdup(empty)))
            return -1;
    return c < 0 ? -1 : 0;
}

static int take_matches(fw_mpr *r, fw_reply *out)
{
    uint32_t n;
    int c = take_container(r, FW_MP_ARRAY, &n);
    if (c <= 0)
        return c;
    if (!(out->matches = calloc(n ? n : 1, sizeof *out->matches)))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        out->nmatches = i + 1;
        if (take_match(r, &out->matches[i]) < 0)
            return -1;
    }
    return 0;
}

static int take_views(fw_mpr *r, fw_reply *out)
{
    uint32_t n;
    int c = take_container(r, FW_MP_MAP, &n);
    if (c <= 0)
        return c;
    if (!(out->views = calloc(n ? n : 1, sizeof *out->views)))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        fw_view *v = &out->views[out->nviews++];
        if (take_str(r, &v->name) < 0 || take_str(r, &v->text) < 0)
            return -1;
        if (!v->name || !v->text) {   /* not a str: drop the pair */
            free((void *)v->name);
            free((void *)v->text);
            memset(v, 0, sizeof *v);
            out->nviews--;
        } else
            v->len = strlen(v->text);
    }
    return 0;
}

/* {code, message} of an error reply. */
static int take_error(fw_mpr *r, fw_reply *out)
{
    static const char *const keys[] = {"code", "message"};
    uint32_t n;
    int c = take_container(r, FW_MP_MAP, &n);
    for (uint32_t i = 0; c > 0 && i < n; i++) {
        fw_mpv k;
        int f = take_key(r, keys, 2, &k);
        if (f == -2 || (f >= 0 ? take_str(r, f ? &out->error_message : &out->error)
                               : fw_mp_skip(r)) < 0)
            return -1;
    }
    if (c < 0)
        return -1;
    if (!out->error && !(out->error = strdup("internal")))
        return -1;
    if (!out->error_message && !(out->error_message = strdup("")))
        return -1;
    return 0;
}

/* One top-level pair; *decision gets the decision's name when present. A
 * field that comes twice makes the reply malformed (seen: the fields so far). */
static int take_pair(fw_mpr *r, fw_reply *out, const char **decision, int *pong, unsigned *seen)
{
    fw_mpv k;
    uint64_t x = 0;
    int f = take_key(r, fw_field_key, F_NFIELDS, &k);
    if (f == -2 || (f >= 0 && (*seen & (1u << f))))
        return -1;
    if (f >= 0)
        *seen |= 1u << f;
    switch (f) {
    case F_DECISION: return take_str(r, decision);
    case F_LABEL: if (take_uint(r, &x, NULL) < 0) return -1; out->label = (int)x; return 0;
    case F_LABELS: return take_strv(r, &out->labels, &out->nlabels);
    case F_MATCHES: return take_matches(r, out);
    case F_WARNINGS: return take_strv(r, &out->warnings, &out->nwarnings);
    case F_VERSION: return take_str(r, &out->version);
    case F_DEGRADED: return take_str(r, &out->degraded);   /* nil stays NULL */
    case F_VIEWS: return take_views(r, out);
    case F_ELAPSED: return take_uint(r, &out->elapsed_us, NULL);
    case F_SUGGEST: return fw_mp_skip(r);                   /* follows from decision */
    }
    if (fw_mp_is(&k, "id")) {
        if (take_uint(r, &x, &out->has_id) < 0)
            return -1;
        out->id = x;
        return 0;
    }
    if (fw_mp_is(&k, "error"))
        return take_error(r, out);
    if (fw_mp_is(&k, "op")) {
        const char *op = NULL;
        int rc = take_str(r, &op);
        *pong = op && !strcmp(op, "pong");
        free((void *)op);
        return rc;
    }
    return fw_mp_skip(r);
}

int fw_reply_decode(const void *buf, size_t len, fw_reply *out, char *err, size_t errlen)
{
    const char *decision = NULL;
    int pong = 0;
    unsigned seen = 0;
    fw_mpr r;
    fw_mpv m;

    memset(out, 0, sizeof *out);
    out->label = FW_CODE_PASS;
    fw_mp_init(&r, buf, len);
    int bad = fw_mp_read(&r, &m) < 0 || m.type != FW_MP_MAP;
    for (uint32_t i = 0; !bad && i < m.len; i++)
        bad = take_pair(&r, out, &decision, &pong, &seen) < 0;
    if (!bad && !out->error) {
        out->decision = decision ? fw_decision_lookup(decision) : -1;
        if (out->decision < 0 && !pong) {
            snprintf(err, errlen, "reply without a decision");
            bad = 2;
        }
        if (!out->version && !(out->version = strdup("")))
            bad = 1;
    }
    free((void *)decision);
    if (bad == 1)
        snprintf(err, errlen, "not a protocol v1 reply (or out of memory)");
    if (bad) {
        uint64_t id = out->id;
        int has_id = out->has_id;
        fw_reply_free(out);
        out->id = id;             /* so that the caller can tell whose reply it was */
        out->has_id = has_id;
    } else if (pong)
        out->decision = FW_ALLOW;
    return bad ? -1 : pong;
}

static void free_strv(const char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)v[i]);
    free(v);
}

void fw_reply_free(fw_reply *r)
{
    if (!r)
        return;
    free_strv(r->labels, r->nlabels);
    free_strv(r->warnings, r->nwarnings);
    for (size_t i = 0; i < r->nmatches; i++) {
        fw_match *m = &r->matches[i];
        free((void *)m->term), free((void *)m->label), free((void *)m->action);
        free((void *)m->list), free((void *)m->via);
    }
    free(r->matches);
    for (size_t i = 0; i < r->nviews; i++)
        free((void *)r->views[i].name), free((void *)r->views[i].text);
    free(r->views);
    free((void *)r->version), free((void *)r->degraded);
    free((void *)r->error), free((void *)r->error_message);
    memset(r, 0, sizeof *r);
}
