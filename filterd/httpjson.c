/* httpjson.c -- an HTTP request body into JSON: valid UTF-8, no NUL, exactly one value.
 *
 * cJSON accepts bytes that are not UTF-8 and stops a string at \u0000, so the
 * body is checked first, byte by byte: every sequence valid UTF-8 (no
 * overlongs, no surrogates, at most U+10FFFF), no raw NUL, and no \u0000
 * escape inside a string (it would cut a text short and let the rest pass
 * unscanned), nor a \u without four hex digits (cJSON reads it as NUL). Then one value, with nothing but whitespace after it, and no
 * object with a key twice (cJSON would answer the first, a proxy or a log
 * reader in front of filterd may read the last: the text checked must be the
 * text everyone sees). Kept apart from the routes so that it can be tested
 * and fuzzed on its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Length of the valid UTF-8 sequence at p (no overlongs, no surrogates, at
 * most U+10FFFF, no NUL), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!k || k > n || c == 0 || c == 0xc0 || c == 0xc1 || c > 0xf4)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return k;
}

static int hex4(const unsigned char *p)
{
    for (int i = 0; i < 4; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
            return 0;
    return 1;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key found twice in one object of v (keys compared after their
 * escapes are read, so "te\u0078t" is "text"), or NULL; *oom set if the
 * scratch array could not be had. Sorted, not compared pairwise: a body of
 * http-max-body bytes can hold an object of tens of thousands of keys. */
static const char *dup_key(const cJSON *v, int *oom)
{
    if (cJSON_IsObject(v)) {
        size_t n = 0, i = 0;
        for (const cJSON *c = v->child; c; c = c->next)
            n++;
        const char **k = n > 1 ? malloc(n * sizeof *k) : NULL;
        if (n > 1 && !k) {
            *oom = 1;
            return NULL;
        }
        for (const cJSON *c = v->child; c && k; c = c->next)
            k[i++] = c->string;
        const char *d = NULL;
        if (k) {
            qsort(k, n, sizeof *k, key_cmp);
            for (i = 1; i < n && !d; i++)
                if (!strcmp(k[i - 1], k[i]))
                    d = k[i];
            free(k);
        }
        if (d)
            return d;
    }
    for (const cJSON *c = v->child; c && !*oom; c = c->next) {
        const char *d = dup_key(c, oom);
        if (d)
            return d;
    }
    return NULL;
}

cJSON *fd_json_parse(const char *body, size_t len, char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)body;
    int in_str = 0;
    if (!len) {
        snprintf(err, errlen, "the body is empty");
        return NULL;
    }
    for (size_t i = 0, k; i < len; i += k) {
        if (!(k = utf8_len(p + i, len - i))) {
            snprintf(err, errlen, "the body is not valid UTF-8 (byte %zu)", i);
            return NULL;
        }
        if (p[i] == '"')
            in_str = !in_str;
        else if (in_str && p[i] == '\\' && i + 1 < len) {
            if (p[i + 1] == 'u') {
                /* cJSON reads a \u without four hex digits as NUL: refused like \u0000 */
                if (len - i < 6 || !hex4(p + i + 2)) {
                    snprintf(err, errlen, "a \\u escape needs four hex digits (byte %zu)", i);
                    return NULL;
                }
                if (!memcmp(p + i + 2, "0000", 4)) {
                    snprintf(err, errlen, "NUL characters (\\u0000) are not accepted in texts");
                    return NULL;
                }
                k = 6;
            } else if (p[i + 1] < 0x80)
                k = 2;            /* an escaped quote or backslash does not end the string */
        }
    }
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    while (v && end && end < body + len && (*end == ' ' || *end == '\t' || *end == '\r' ||
                                            *end == '\n'))
        end++;
    if (!v || (end && end < body + len)) {
        snprintf(err, errlen, "the body is not one JSON value (at byte %zu)",
                 end ? (size_t)(end - body) : (size_t)0);
        cJSON_Delete(v);
        return NULL;
    }
    int oom = 0;
    const char *d = dup_key(v, &oom);
    if (d || oom) {
        if (oom)
            snprintf(err, errlen, "out of memory reading the body");
        else
            snprintf(err, errlen, "the key \"%.64s\" appears twice in one object", d);
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}
