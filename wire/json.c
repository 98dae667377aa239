/* json.c -- replies as JSON: the decision object of filterctl (scan, check, eval)
 * and any other reader that wants JSON, and a generic msgpack -> JSON.
 *
 * A decision walks the field table of fields.h, as the msgpack encoder does,
 * so the two renderings agree. Keys are string literals
 * (cJSON_AddItemToObjectCS: no copy); values are copied, so an object
 * outlives the reply it was made from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

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

static int push(cJSON *arr, cJSON *item)
{
    if (!item)
        return -1;
    if (!cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

static cJSON *strv_json(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        if (push(a, cJSON_CreateString(v[i])) < 0) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

static cJSON *match_json(const fw_match *m, int explain)
{
    cJSON *o = cJSON_CreateObject();
    for (int f = 0; o && f < fw_mfield_count(explain); f++) {
        cJSON *v = f == M_CHAIN ? strv_json(m->chain, m->nchain)
                 : f == M_START || f == M_END || f == M_LINE
                       ? cJSON_CreateNumber(f == M_START ? m->start : f == M_END ? m->end : m->line)
                       : cJSON_CreateString(fw_mfield_str(m, f));
        if (add(o, fw_mfield_key[f], v) < 0) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static cJSON *matches_json(const fw_reply *r)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < r->nmatches; i++)
        if (push(a, match_json(&r->matches[i], r->nviews > 0)) < 0) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

/* A string of n bytes (views are not NUL-terminated on the encoding side). */
static cJSON *string_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    cJSON *j = cJSON_CreateString(c);
    free(c);
    return j;
}

static cJSON *views_json(const fw_reply *r)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < r->nviews; i++) {
        cJSON *v = string_n(r->views[i].text, r->views[i].len);
        if (!v || !cJSON_AddItemToObject(o, r->views[i].name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static cJSON *field_json(const fw_reply *r, int f)
{
    switch (f) {
    case F_DECISION: return cJSON_CreateStringReference(fw_decision_name(r->decision));
    case F_SUGGEST: return cJSON_CreateStringReference(fw_decision_suggest(r->decision));
    case F_LABEL: return cJSON_CreateNumber(r->label);
    case F_LABELS: return strv_json(r->labels, r->nlabels);
    case F_MATCHES: return matches_json(r);
    case F_WARNINGS: return strv_json(r->warnings, r->nwarnings);
    case F_VERSION: return cJSON_CreateString(r->version ? r->version : "");
    case F_DEGRADED: return r->degraded ? cJSON_CreateString(r->degraded) : cJSON_CreateNull();
    case F_VIEWS: return views_json(r);
    case F_ELAPSED: return cJSON_CreateNumber((double)r->elapsed_us);
    default: return NULL;
    }
}

cJSON *fw_reply_json(const fw_reply *r, const cJSON *id, int with_id)
{
    char msg[512];
    cJSON *o = cJSON_CreateObject();

    if (!o || (with_id && add(o, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull()) < 0))
        goto oom;
    if (r->error) {
        snprintf(msg, sizeof msg, "%s: %s", r->error, r->error_message ? r->error_message : "");
        if (add(o, "error", cJSON_CreateString(msg)) < 0)
            goto oom;
        return o;
    }
    for (int f = 0; f < F_NFIELDS; f++)
        if (fw_field_present(r, f, 1) && add(o, fw_field_key[f], field_json(r, f)) < 0)
            goto oom;
    return o;
oom:
    cJSON_Delete(o);
    return NULL;
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

