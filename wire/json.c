/* json.c -- replies as JSON: the decision object of filterctl (scan, check, eval)
 * and any other reader that wants JSON, and a generic msgpack -> JSON.
 *
 * A decision is rendered in one place, straight into a buffer
 * (fw_reply_json_to, below: the HTTP front door's answers), walking the
 * field table of fields.h as the msgpack encoder does, so the renderings
 * agree; fw_reply_json, the cJSON tree that filterctl and the console put
 * in larger objects, is that text read back (cJSON prints it again byte
 * for byte: tests/test_wire.c). The tree's values are copies, so it
 * outlives the reply it was made from. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

cJSON *fw_reply_json(const fw_reply *r, const cJSON *id, int with_id)
{
    fw_jbuf b = {0};
    fw_reply_json_to(&b, r, id, with_id);
    cJSON *o = b.oom ? NULL : cJSON_Parse(b.p);   /* NULL only when out of memory */
    free(b.p);
    return o;
}

/* Add item under a literal key; takes item (NULL: out of memory). */
static int add(cJSON *o, const char *key, cJSON *item)
{
    if (!item)
        return -1;
    if (!cJSON_AddItemToObjectCS(o, key, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

cJSON *fw_error_json(const cJSON *id, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if ((id && add(o, "id", cJSON_Duplicate(id, 1)) < 0) ||
        add(o, "error", cJSON_CreateString(msg)) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- any msgpack object ---------------------------------------------------- */

static char *mstr(const msgpack_object *o)
{
    const char *p = o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr
                  : o->type == MSGPACK_OBJECT_BIN ? o->via.bin.ptr : NULL;
    size_t n = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
    char *s = p ? malloc(n + 1) : NULL;
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

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

cJSON *fw_msgpack_to_json(const void *buf, size_t len, char *err, size_t errlen)
{
    msgpack_unpacked u;
    size_t off = 0;
    cJSON *j = NULL;

    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
        snprintf(err, errlen, "not one msgpack object");
    else if (!(j = to_json(&u.data)))
        snprintf(err, errlen, "out of memory");
    msgpack_unpacked_destroy(&u);
    return j;
}


/* ---- straight into a buffer ---------------------------------------------- */
/* The same bytes as cJSON_PrintUnformatted of the objects above, without
 * building them (the HTTP front door answers every check so): cJSON's
 * escapes (", \, \b \f \n \r \t, other bytes below 32 as \u00xx, the rest
 * as they are), strings up to a NUL, its numbers (below). */

static void jb_grow(fw_jbuf *b, size_t n)
{
    if (b->oom || b->len + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 512;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void fw_jb_raw(fw_jbuf *b, const char *s, size_t n)
{
    jb_grow(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void fw_jb_str(fw_jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    n = s ? strnlen(s, n) : 0;    /* cJSON's strings end at a NUL */
    jb_grow(b, 6 * n + 2);        /* the longest escape: \u00xx */
    if (b->oom)
        return;
    char *o = b->p + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 31 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u', *o++ = '0', *o++ = '0', *o++ = hex[c >> 4], *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->p);
}

void fw_jb_int(fw_jbuf *b, long long v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", v);
    fw_jb_raw(b, t, (size_t)n);
}

/* A number as cJSON 1.7 prints it: %1.15g when that reads back as the same
 * double, else %1.17g; NaN and infinities as null. A whole number of less
 * than 15 digits prints as its digits either way. */
static void jb_num(fw_jbuf *b, double d)
{
    char t[64];
    double back = 0;
    if (d != d || d - d != 0) {
        FW_JB_LIT(b, "null");
        return;
    }
    if (d > -1e15 && d < 1e15 && d == (double)(long long)d && (d != 0 || !signbit(d))) {
        fw_jb_int(b, (long long)d);
        return;
    }
    int n = snprintf(t, sizeof t, "%1.15g", d);
    if (sscanf(t, "%lg", &back) != 1 ||
        fabs(back - d) > (fabs(back) > fabs(d) ? fabs(back) : fabs(d)) * DBL_EPSILON)
        n = snprintf(t, sizeof t, "%1.17g", d);
    fw_jb_raw(b, t, (size_t)n);
}

void fw_jb_json(fw_jbuf *b, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        fw_jb_str(b, v->valuestring, SIZE_MAX);
    } else if (cJSON_IsNumber(v)) {
        jb_num(b, v->valuedouble);
    } else {                      /* rare: whatever else an id may be */
        char *s = v ? cJSON_PrintUnformatted(v) : NULL;
        if (s)
            fw_jb_raw(b, s, strlen(s));
        else
            b->oom = 1;
        free(s);
    }
}

/* "key": with the comma before it unless first. */
static void jb_key(fw_jbuf *b, const char *key, int *first)
{
    if (!*first)
        FW_JB_LIT(b, ",");
    *first = 0;
    fw_jb_str(b, key, SIZE_MAX);
    FW_JB_LIT(b, ":");
}

static void jb_strv(fw_jbuf *b, const char *const *v, size_t n)
{
    FW_JB_LIT(b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            FW_JB_LIT(b, ",");
        fw_jb_str(b, v[i], SIZE_MAX);
    }
    FW_JB_LIT(b, "]");
}

static void jb_match(fw_jbuf *b, const fw_match *m, int explain)
{
    int first = 1;
    FW_JB_LIT(b, "{");
    for (int f = 0; f < fw_mfield_count(explain); f++) {
        jb_key(b, fw_mfield_key[f], &first);
        if (f == M_CHAIN)
            jb_strv(b, m->chain, m->nchain);
        else if (f == M_START || f == M_END || f == M_LINE)
            jb_num(b, f == M_START ? m->start : f == M_END ? m->end : m->line);
        else
            fw_jb_str(b, fw_mfield_str(m, f), SIZE_MAX);
    }
    FW_JB_LIT(b, "}");
}

static void jb_field(fw_jbuf *b, const fw_reply *r, int f)
{
    int first = 1;
    switch (f) {
    case F_DECISION: fw_jb_str(b, fw_decision_name(r->decision), SIZE_MAX); break;
    case F_SUGGEST: fw_jb_str(b, fw_decision_suggest(r->decision), SIZE_MAX); break;
    case F_LABEL: jb_num(b, r->label); break;
    case F_LABELS: jb_strv(b, r->labels, r->nlabels); break;
    case F_WARNINGS: jb_strv(b, r->warnings, r->nwarnings); break;
    case F_VERSION: fw_jb_str(b, r->version ? r->version : "", SIZE_MAX); break;
    case F_DEGRADED:
        if (r->degraded)
            fw_jb_str(b, r->degraded, SIZE_MAX);
        else
            FW_JB_LIT(b, "null");
        break;
    case F_ELAPSED: jb_num(b, (double)r->elapsed_us); break;
    case F_MATCHES:
        FW_JB_LIT(b, "[");
        for (size_t i = 0; i < r->nmatches; i++) {
            if (i)
                FW_JB_LIT(b, ",");
            jb_match(b, &r->matches[i], r->nviews > 0);
        }
        FW_JB_LIT(b, "]");
        break;
    case F_VIEWS:
        FW_JB_LIT(b, "{");
        for (size_t i = 0; i < r->nviews; i++) {
            jb_key(b, r->views[i].name, &first);
            fw_jb_str(b, r->views[i].text, r->views[i].len);
        }
        FW_JB_LIT(b, "}");
        break;
    }
}

void fw_reply_json_to(fw_jbuf *b, const fw_reply *r, const cJSON *id, int with_id)
{
    char msg[512];
    int first = 1;
    FW_JB_LIT(b, "{");
    if (with_id) {
        jb_key(b, "id", &first);
        if (id)
            fw_jb_json(b, id);
        else
            FW_JB_LIT(b, "null");
    }
    if (r->error) {
        snprintf(msg, sizeof msg, "%s: %s", r->error, r->error_message ? r->error_message : "");
        jb_key(b, "error", &first);
        fw_jb_str(b, msg, SIZE_MAX);
    } else {
        for (int f = 0; f < F_NFIELDS; f++)
            if (fw_field_present(r, f, 1)) {
                jb_key(b, fw_field_key[f], &first);
                jb_field(b, r, f);
            }
    }
    FW_JB_LIT(b, "}");
}
