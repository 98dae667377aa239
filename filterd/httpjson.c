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
 * and fuzzed on its own. A flat body (most of them) is read without a
 * tree by fd_json_flat, below; anything else by fd_json_parse. */
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

/* ---- the flat fast path ----------------------------------------------------- */
/* Most bodies are one flat object: {"text": "...", "scene": "comment"}, or
 * msgSecCheck's {"content", "version": 2, "scene": 2, "openid"}. Such a body
 * is read without a cJSON tree: nodes[] (the caller's, no allocation) become
 * the object and its members, their strings decoded in place in body. Only a
 * body of this narrow shape is taken, one that fd_json_parse accepts and
 * reads into the same values (tests/fuzz/fuzz_http.c compares the two trees
 * on every input it takes): one object, at most max - 1 members, keys
 * without a backslash or a control byte, each key once; values strings (no
 * raw control byte; escapes \" \\ \/ \b \f \n \r \t, \uXXXX of a character
 * or of a surrogate pair, never \u0000), whole numbers -?[1-9][0-9]{0,8} or
 * 0, true or false; whitespace space, tab, CR, LF; valid UTF-8 throughout.
 * Anything else -- nesting, other numbers, null, a BOM, an error of any kind
 * -- is NULL and body is untouched: the caller parses with fd_json_parse,
 * which gives the same answer or the error with its reason. */

typedef struct { size_t k, klen, v, vlen; int type, esc; double num; } flat_member;

static size_t ws(const unsigned char *p, size_t i, size_t n)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

static unsigned hexval(const unsigned char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 4 | (unsigned)(p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
    return v;
}

/* The \u escape at p[i] ('\\' 'u' XXXX, maybe a second for a pair): its code
 * point and *k the bytes it takes, or 0 when the fast path does not take it. */
static unsigned uescape(const unsigned char *p, size_t i, size_t n, size_t *k)
{
    if (n - i < 6 || !hex4(p + i + 2))
        return 0;
    unsigned c = hexval(p + i + 2);
    *k = 6;
    if (c >= 0xdc00 && c <= 0xdfff)
        return 0;
    if (c >= 0xd800 && c <= 0xdbff) {
        if (n - i < 12 || p[i + 6] != '\\' || p[i + 7] != 'u' || !hex4(p + i + 8))
            return 0;
        unsigned lo = hexval(p + i + 8);
        if (lo < 0xdc00 || lo > 0xdfff)
            return 0;
        *k = 12;
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
    }
    return c;
}

/* A string from p[i] (the opening quote): the index past its closing quote,
 * or 0; *esc set when it holds an escape. key: no escapes at all. */
static size_t flat_string(const unsigned char *p, size_t i, size_t n, int key, int *esc)
{
    for (i++; i < n; ) {
        unsigned char c = p[i];
        size_t k;
        if (c > 0x1f && c < 0x80 && c != '"' && c != '\\') {
            i++;                  /* ASCII: most of a body */
            continue;
        }
        if (c == '"')
            return i + 1;
        if (c < 0x20 || (c == '\\' && (key || i + 1 >= n)))
            return 0;
        if (c != '\\')
            k = utf8_len(p + i, n - i);
        else if (p[i + 1] == 'u') {
            if (!uescape(p, i, n, &k))
                k = 0;
        } else
            k = p[i + 1] && strchr("\"\\/bfnrt", p[i + 1]) ? 2 : 0;
        if (!k)
            return 0;
        *esc |= c == '\\';
        i += k;
    }
    return 0;
}

/* The string p[i..j) (quotes included, checked by flat_string) decoded in
 * place, NUL-terminated: its start. */
static char *decode_in_place(unsigned char *p, size_t i, size_t j)
{
    unsigned char *o = p + i, *start = o;
    size_t end = j - 1;
    for (i++; i < end; ) {
        if (p[i] != '\\') {
            *o++ = p[i++];
            continue;
        }
        size_t k = 2;
        unsigned c;
        switch (p[i + 1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            c = uescape(p, i, end, &k);
            if (c < 0x80) {
                *o++ = (unsigned char)c;
            } else if (c < 0x800) {
                *o++ = (unsigned char)(0xc0 | c >> 6), *o++ = (unsigned char)(0x80 | (c & 0x3f));
            } else if (c < 0x10000) {
                *o++ = (unsigned char)(0xe0 | c >> 12);
                *o++ = (unsigned char)(0x80 | (c >> 6 & 0x3f)), *o++ = (unsigned char)(0x80 | (c & 0x3f));
            } else {
                *o++ = (unsigned char)(0xf0 | c >> 18), *o++ = (unsigned char)(0x80 | (c >> 12 & 0x3f));
                *o++ = (unsigned char)(0x80 | (c >> 6 & 0x3f)), *o++ = (unsigned char)(0x80 | (c & 0x3f));
            }
            break;
        default: *o++ = p[i + 1];     /* " \ / */
        }
        i += k;
    }
    *o = '\0';
    return (char *)start;
}

/* A value from p[i]: the index past it, or 0; its type and number in m. */
static size_t flat_value(const unsigned char *p, size_t i, size_t n, flat_member *m)
{
    m->v = i;
    m->esc = 0;
    if (p[i] == '"') {
        m->type = cJSON_String;
        return flat_string(p, i, n, 0, &m->esc);
    }
    if (n - i >= 4 && !memcmp(p + i, "true", 4)) {
        m->type = cJSON_True;
        return i + 4;
    }
    if (n - i >= 5 && !memcmp(p + i, "false", 5)) {
        m->type = cJSON_False;
        return i + 5;
    }
    size_t j = i + (p[i] == '-');
    long v = 0;
    if (j >= n || p[j] < '0' || p[j] > '9' || (p[j] == '0' && j > i))
        return 0;                 /* no number, or -0... */
    if (p[j] == '0')
        j++;
    else
        for (size_t d = 0; j < n && p[j] >= '0' && p[j] <= '9'; j++, d++)
            if (d == 9)
                return 0;         /* ten digits or more */
            else
                v = v * 10 + (p[j] - '0');
    if (j < n && (p[j] == '.' || p[j] == 'e' || p[j] == 'E' || p[j] == '+' || p[j] == '-'))
        return 0;                 /* a fraction or an exponent: cJSON's strtod */
    m->type = cJSON_Number;
    m->num = p[i] == '-' ? -(double)v : (double)v;
    return j;
}

cJSON *fd_json_flat(char *body, size_t len, cJSON *nodes, int max)
{
    unsigned char *p = (unsigned char *)body;
    flat_member m[FD_JSON_FLAT_MAX];
    int n = 0;
    size_t i = ws(p, 0, len);
    if (max > FD_JSON_FLAT_MAX || i >= len || p[i] != '{')
        return NULL;
    i = ws(p, i + 1, len);
    if (i < len && p[i] == '}')
        i++;
    else
        for (;;) {
            if (n == max - 1 || i >= len || p[i] != '"')
                return NULL;
            m[n].k = i;
            if (!(i = flat_string(p, i, len, 1, &m[n].esc)))
                return NULL;
            m[n].klen = i - m[n].k;
            for (int d = 0; d < n; d++)
                if (m[d].klen == m[n].klen && !memcmp(p + m[d].k, p + m[n].k, m[n].klen))
                    return NULL;  /* a key twice: fd_json_parse says so */
            i = ws(p, i, len);
            if (i >= len || p[i] != ':')
                return NULL;
            i = ws(p, i + 1, len);
            if (i >= len || !(i = flat_value(p, i, len, &m[n])))
                return NULL;
            m[n].vlen = i - m[n].v;
            n++;
            i = ws(p, i, len);
            if (i < len && p[i] == ',') {
                i = ws(p, i + 1, len);
                continue;
            }
            if (i >= len || p[i] != '}')
                return NULL;
            i++;
            break;
        }
    if (ws(p, i, len) != len)
        return NULL;
    /* Taken: only now is body written (the strings decoded in place). */
    memset(nodes, 0, (size_t)(n + 1) * sizeof *nodes);
    nodes[0].type = cJSON_Object;
    nodes[0].child = n ? &nodes[1] : NULL;
    for (int k = 0; k < n; k++) {
        cJSON *c = &nodes[k + 1];
        c->type = m[k].type;
        c->prev = k ? &nodes[k] : &nodes[n];   /* cJSON's: the first's prev is the last */
        c->next = k + 1 < n ? &nodes[k + 2] : NULL;
        p[m[k].k + m[k].klen - 1] = '\0';      /* the key's closing quote */
        c->string = body + m[k].k + 1;
        if (c->type == cJSON_String && m[k].esc)
            c->valuestring = decode_in_place(p, m[k].v, m[k].v + m[k].vlen);
        else if (c->type == cJSON_String)   /* nothing to decode: end it in place */
            p[m[k].v + m[k].vlen - 1] = '\0', c->valuestring = body + m[k].v + 1;
        if (c->type == cJSON_Number)
            c->valuedouble = m[k].num, c->valueint = (int)m[k].num;
    }
    return &nodes[0];
}
