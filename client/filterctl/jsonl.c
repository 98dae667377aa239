/* jsonl.c -- request lines in and result lines out, through cJSON.
 *
 * NUL bytes: cJSON keeps strings NUL-terminated, so a text holding "\u0000"
 * would be cut there and everything after it would go unscanned. Before the
 * parse each \u0000 escape is rewritten in place to \uFFFF (a noncharacter,
 * escape of the same length); afterwards each U+FFFF of the text becomes a
 * NUL byte again, so the engine sees the bytes that were sent and warns
 * "nul". A line holding both \u0000 and a genuine U+FFFF reads the latter as
 * NUL too; both are separators to the engine.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "jsonl.h"

#define ID_EXACT_MAX 9007199254740992.0  /* 2^53: larger numbers lose digits in a double */

/* ---- requests ------------------------------------------------------------ */

static int hex4(const char *p)
{
    for (int i = 0; i < 4; i++)
        if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
            return 0;
    return 1;
}

/* Rewrite every \u0000 escape of s[0..len) to \uFFFF. Returns how many, or
 * -1 for a \u without four hex digits (cJSON would read it as NUL and cut
 * the text short there). */
static int mark_nuls(char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && (len - i < 6 || !hex4(s + i + 2)))
            return -1;
        if (s[i + 1] == 'u' && !memcmp(s + i + 2, "0000", 4)) {
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
    if (nuls < 0)
        return bad(err, errlen, "a \\u escape needs four hex digits");
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

/* ---- output -------------------------------------------------------------- */

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
