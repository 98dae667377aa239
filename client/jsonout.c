/* jsonout.c -- request lines in, decision objects out, through cJSON.
 *
 * NUL bytes: cJSON keeps strings NUL-terminated, so a text holding "\u0000"
 * would be cut there and everything after it would go unscanned. Before the
 * parse each \u0000 escape is rewritten in place to \uFFFF (a noncharacter,
 * escape of the same length); afterwards each U+FFFF of the text becomes a
 * NUL byte again, so the engine sees the bytes that were sent and warns
 * "nul". A line holding both \u0000 and a genuine U+FFFF reads the latter as
 * NUL too; both are separators to the engine.
 *
 * Keys are string literals added with cJSON_AddItemToObjectCS (no copy);
 * taxonomy names are static and added as references; strings owned by the
 * ruleset are copied, so an object outlives the ruleset it was made from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

#define ID_EXACT_MAX 9007199254740992.0  /* 2^53: larger numbers lose digits in a double */

/* ---- requests ------------------------------------------------------------ */

/* Rewrite every \u0000 escape of s[0..len) to \uFFFF. Returns how many. */
static int mark_nuls(char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && len - i >= 6 && !memcmp(s + i + 2, "0000", 4)) {
            memcpy(s + i + 2, "FFFF", 4);
            n++;
        }
        i++;   /* the escaped character: "\\u0000" is no escape */
    }
    return n;
}

/* Turn each U+FFFF (EF BF BF) of s back into a NUL byte. Returns the length. */
static size_t restore_nuls(char *s)
{
    size_t len = strlen(s), o = 0;
    for (size_t i = 0; i < len; i++) {
        if (i + 3 <= len && !memcmp(s + i, "\xef\xbf\xbf", 3)) {
            s[o++] = '\0';
            i += 2;
        } else
            s[o++] = s[i];
    }
    s[o] = '\0';
    return o;
}

static int bad(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

static int read_scene(const cJSON *root, int *scene, char *err, size_t errlen)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "scene");
    if (!s || cJSON_IsNull(s))
        return 0;
    if (!cJSON_IsString(s))
        return bad(err, errlen, "\"scene\" is not a string");
    if ((*scene = fe_scene_lookup(s->valuestring)) < 0) {
        snprintf(err, errlen, "unknown scene '%.64s'", s->valuestring);
        return -1;
    }
    return 0;
}

int fc_request_parse(char *line, size_t len, int scene, fc_request *rq, char *err,
                     size_t errlen)
{
    const char *end = NULL;
    int nuls = mark_nuls(line, len);

    memset(rq, 0, sizeof *rq);
    rq->scene = scene;
    if (len == 0)
        return bad(err, errlen, "empty line");
    if (memchr(line, '\0', len))   /* cJSON would stop reading there */
        return bad(err, errlen, "NUL byte in the line (write it as \\u0000)");
    rq->root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    while (rq->root && end < line + len && strchr(" \t\r\n", *end))
        end++;
    if (!rq->root || end != line + len) {
        size_t at = end && end >= line && end <= line + len ? (size_t)(end - line) : 0;
        snprintf(err, errlen, "not JSON (at byte %zu)", at);
        return -1;
    }
    if (!cJSON_IsObject(rq->root))
        return bad(err, errlen, "not a JSON object");
    rq->id = cJSON_GetObjectItemCaseSensitive(rq->root, "id");
    if (rq->id && cJSON_IsNumber(rq->id) && fabs(rq->id->valuedouble) > ID_EXACT_MAX) {
        rq->id = NULL;
        return bad(err, errlen,
                   "\"id\" is a number too large to echo exactly: send it as a string");
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(rq->root, "text");
    if (!t)
        return bad(err, errlen, "\"text\" is missing");
    if (!cJSON_IsString(t))
        return bad(err, errlen, "\"text\" is not a string");
    if (read_scene(rq->root, &rq->scene, err, errlen) < 0)
        return -1;
    rq->text = t->valuestring;
    rq->len = nuls ? restore_nuls(t->valuestring) : strlen(t->valuestring);
    return 0;
}

void fc_request_free(fc_request *rq)
{
    cJSON_Delete(rq->root);
    memset(rq, 0, sizeof *rq);
}

/* ---- decisions ----------------------------------------------------------- */

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

static cJSON *id_copy(const cJSON *id)
{
    return id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull();
}

static cJSON *match_json(const fe_ruleset *rs, const fe_match *m)
{
    fe_entry_info e;
    cJSON *o;

    if (fe_entry_get(rs, m->entry, &e) != FE_OK || !(o = cJSON_CreateObject()))
        return NULL;
    if (add(o, "start", cJSON_CreateNumber(m->start)) < 0 ||
        add(o, "end", cJSON_CreateNumber(m->end)) < 0 ||
        add(o, "term", cJSON_CreateString(e.term)) < 0 ||
        add(o, "label", cJSON_CreateStringReference(fe_label_name(m->label))) < 0 ||
        add(o, "action", cJSON_CreateStringReference(fe_action_name(m->action))) < 0 ||
        add(o, "list", cJSON_CreateString(e.file)) < 0 ||
        add(o, "line", cJSON_CreateNumber(e.line)) < 0 ||
        add(o, "via", cJSON_CreateStringReference(fe_view_name(m->view))) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The surviving deny matches: allow-list matches and suppressed ones are left out. */
static cJSON *matches_json(const fe_ruleset *rs, const fe_result *r, size_t len)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < r->nmatches; i++) {
        const fe_match *m = &r->matches[i];
        if (m->start > m->end || m->end > len) {  /* not a result of this text */
            cJSON_Delete(a);
            return NULL;
        }
        if (m->allow || m->allowed_by >= 0)
            continue;
        if (push(a, match_json(rs, m)) < 0) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *labels_json(uint32_t labels)
{
    cJSON *a = cJSON_CreateArray();
    for (int l = 0; a && l < FE_NLABELS; l++)
        if ((labels & (1u << l)) && push(a, cJSON_CreateStringReference(fe_label_name(l))) < 0) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

static cJSON *warnings_json(unsigned w)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {FE_WARN_INVALID_UTF8, "invalid_utf8"}, {FE_WARN_NUL, "nul"},
        {FE_WARN_TRUNCATED, "truncated"},
    };
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < sizeof names / sizeof names[0]; i++)
        if ((w & names[i].bit) && push(a, cJSON_CreateStringReference(names[i].name)) < 0) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

cJSON *fc_result_json(const fe_ruleset *rs, const fe_result *r, const char *text, size_t len,
                      cJSON *id)
{
    cJSON *o = cJSON_CreateObject();

    (void)text;  /* the offsets are checked against len; the text itself is not echoed */
    if (!o)
        return NULL;
    if (add(o, "id", id_copy(id)) < 0 ||
        add(o, "decision", cJSON_CreateStringReference(fe_action_name(r->decision))) < 0 ||
        add(o, "suggest", cJSON_CreateStringReference(fe_action_suggest(r->decision))) < 0 ||
        add(o, "label", cJSON_CreateNumber(fe_label_code(r->label))) < 0 ||
        add(o, "labels", labels_json(r->labels)) < 0 ||
        add(o, "matches", matches_json(rs, r, len)) < 0 ||
        (r->warnings && add(o, "warnings", warnings_json(r->warnings)) < 0) ||
        add(o, "version", cJSON_CreateString(fe_ruleset_version(rs))) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *fc_error_json(const cJSON *id, const char *msg)
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

int fc_json_print_line(FILE *f, cJSON *obj, char *buf, size_t size)
{
    char *heap = NULL;
    const char *s = buf;

    /* cJSON may need a few bytes more than it prints: keep 5 spare. */
    if (size < 6 || size > (size_t)INT32_MAX ||
        !cJSON_PrintPreallocated(obj, buf, (int)size - 5, 0)) {
        if (!(heap = cJSON_PrintUnformatted(obj)))
            return -1;
        s = heap;
    }
    int rc = fputs(s, f) == EOF || putc('\n', f) == EOF ? -1 : 0;
    free(heap);
    return rc;
}
