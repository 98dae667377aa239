/* decode.c -- protocol v1 replies decoded, for clients: decision, error, pong, bulk.
 *
 * The decoder uses the bounded reader (mpread.c) and copies what it keeps: a
 * decoded fw_reply owns its strings and arrays, and fw_reply_free() releases
 * them. A bulk reply's results are decoded by the same code as a single
 * reply (an item result is a decision map without v and elapsed_us), one
 * level deep: results inside a result are skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

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
    if (c <= 0 || !n)
        return c < 0 ? -1 : 0;
    const char **v = calloc(n, sizeof *v);
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
        if (f == M_CHAIN)   /* twice: damaged (the first array would leak) */
            rc = m->chain ? -1 : take_strv(r, &m->chain, &m->nchain);
        else if (f == M_START || f == M_END || f == M_LINE) {
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
    if (c <= 0 || !n)
        return c < 0 ? -1 : 0;
    if (!(out->matches = calloc(n, sizeof *out->matches)))
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

/* What a map said besides the fields of out, and which fields it had. */
typedef struct seen {
    int decision;             /* enum fw_decision, or -1 */
    int pong, bulk;
    unsigned fields;          /* 1u << enum fw_field */
} seen;

/* A str value at r that is one of names[0..n): its index into *out (-1 when
 * it is another one, or not a str). Nothing is copied. -1 when damaged. */
static int take_name(fw_mpr *r, const char *const *names, int n, int *out)
{
    const uint8_t *at = r->p;
    fw_mpv v;
    if (fw_mp_read(r, &v) < 0)
        return -1;
    *out = -1;
    for (int i = 0; i < n && v.type == FW_MP_STR; i++)
        if (fw_mp_is(&v, names[i]))
            *out = i;
    if (v.type == FW_MP_ARRAY || v.type == FW_MP_MAP) {
        r->p = at;
        return fw_mp_skip(r);
    }
    return 0;
}

static int decode_map(fw_mpr *r, fw_reply *out, int nested, char *err, size_t errlen);

/* results: an array of maps, each decoded like a reply (one level deep). */
static int take_results(fw_mpr *r, fw_reply *out, char *err, size_t errlen)
{
    uint32_t n;
    int c = take_container(r, FW_MP_ARRAY, &n);
    if (c <= 0)
        return c;
    if (!(out->results = calloc(n ? n : 1, sizeof *out->results)))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        out->nresults = i + 1;
        if (decode_map(r, &out->results[i], 1, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* One pair of a reply's map. A field that comes twice makes the reply
 * malformed (issue 12: the first value's arrays leaked). */
static int take_pair(fw_mpr *r, fw_reply *out, seen *s, int nested, char *err, size_t errlen)
{
    fw_mpv k;
    uint64_t x = 0;
    int f = take_key(r, fw_field_key, F_NFIELDS, &k);
    if (f == -2 || (f >= 0 && (s->fields & (1u << f))))
        return -1;
    if (f >= 0)
        s->fields |= 1u << f;
    switch (f) {
    case F_DECISION: {
        static const char *const names[] = {"allow", "flag", "block"};   /* FW_ALLOW.. */
        return take_name(r, names, 3, &s->decision);
    }
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
    if (fw_mp_is(&k, "results") && !nested && !out->results) {
        s->bulk = 1;
        return take_results(r, out, err, errlen);
    }
    if (fw_mp_is(&k, "op")) {
        static const char *const pong[] = {"pong"};
        int rc = take_name(r, pong, 1, &s->pong);
        s->pong = s->pong == 0;
        return rc;
    }
    return fw_mp_skip(r);
}

/* The map at r into out: 0 decision or error, 1 pong, 2 bulk, or -1 with
 * err (out then holds what was read, for fw_reply_free). */
static int decode_map(fw_mpr *r, fw_reply *out, int nested, char *err, size_t errlen)
{
    seen s = {-1, 0, 0, 0};
    fw_mpv m;
    int rc = 0;

    out->label = FW_CODE_PASS;
    if (fw_mp_read(r, &m) < 0 || m.type != FW_MP_MAP)
        rc = -1;
    for (uint32_t i = 0; rc == 0 && i < m.len; i++)
        if (take_pair(r, out, &s, nested, err, errlen) < 0)
            rc = -1;
    if (rc < 0)
        snprintf(err, errlen, "not a protocol v1 reply (or out of memory)");
    else if (s.bulk && !out->error)
        rc = 2;
    else if (!out->error) {
        out->decision = s.decision;
        if (out->decision < 0 && !s.pong) {
            snprintf(err, errlen, "reply without a decision");
            rc = -1;
        } else if (!out->version && !(out->version = strdup(""))) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else if (s.pong) {
            out->decision = FW_ALLOW;
            rc = 1;
        }
    }
    return rc;
}

int fw_reply_decode(const void *buf, size_t len, fw_reply *out, char *err, size_t errlen)
{
    fw_mpr r;

    memset(out, 0, sizeof *out);
    fw_mp_init(&r, buf, len);
    int rc = decode_map(&r, out, 0, err, errlen);
    if (rc < 0) {
        uint64_t id = out->id;
        int has_id = out->has_id;
        fw_reply_free(out);
        out->id = id;             /* so that the caller can tell whose reply it was */
        out->has_id = has_id;
    }
    return rc;
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
        free_strv(m->chain, m->nchain);
    }
    free(r->matches);
    for (size_t i = 0; i < r->nviews; i++)
        free((void *)r->views[i].name), free((void *)r->views[i].text);
    free(r->views);
    free((void *)r->version), free((void *)r->degraded);
    free((void *)r->error), free((void *)r->error_message);
    for (size_t i = 0; i < r->nresults; i++)
        fw_reply_free(&r->results[i]);
    free(r->results);
    memset(r, 0, sizeof *r);
}
