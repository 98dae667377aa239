/* fuzz_http.c -- libFuzzer harness: the HTTP front door's body parser (fd_json_parse).
 *
 * Every body of POST /v1/check and /wxa/msg_sec_check goes through
 * fd_json_parse before any field is read. What it accepts must be valid
 * UTF-8 without NUL (checked here independently of the parser, byte by
 * byte), and what it refuses must come with a NUL-terminated reason. An
 * accepted value is printed, parsed again and printed again: the same text.
 * Its fast path for flat bodies (fd_json_flat) must read what it takes as
 * fd_json_parse does, and leave what it does not take untouched. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF), no NUL. */
static int clean_utf8(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t c = p[i], k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!c || !k || i + k > n)
            return 0;
        c = k == 1 ? c : c & (0x7f >> k);
        for (uint32_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            c = c << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 2 && c < 0x80) || (k == 3 && c < 0x800) || (k == 4 && c < 0x10000) ||
            c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

/* cJSON prints a number out of double's range as null: no round trip then. */
static int finite_numbers(const cJSON *j)
{
    if (cJSON_IsNumber(j) && !isfinite(j->valuedouble))
        return 0;
    for (const cJSON *c = j->child; c; c = c->next)
        if (!finite_numbers(c))
            return 0;
    return 1;
}

/* The fast path (fd_json_flat) on a copy: what it takes, fd_json_parse
 * takes too, as the same tree (printed the same); what it does not take it
 * leaves untouched. */
static void flat_agrees(const uint8_t *data, size_t size)
{
    char err[256], *copy = malloc(size + 1);
    cJSON nodes[FD_JSON_FLAT_MAX];
    if (!copy)
        return;
    memcpy(copy, data, size);
    cJSON *f = fd_json_flat(copy, size, nodes, FD_JSON_FLAT_MAX);
    if (!f && memcmp(copy, data, size))
        abort();                  /* declined, yet wrote the body */
    if (f) {
        cJSON *j = fd_json_parse((const char *)data, size, err, sizeof err);
        char *a = j ? cJSON_PrintUnformatted(j) : NULL, *b = cJSON_PrintUnformatted(f);
        if (!j || !a || !b || strcmp(a, b))
            abort();              /* the fast path read another value */
        free(a);
        free(b);
        cJSON_Delete(j);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    flat_agrees(data, size);
    memset(err, 'x', sizeof err);
    cJSON *j = fd_json_parse((const char *)data, size, err, sizeof err);
    if (!j) {
        if (!memchr(err, '\0', sizeof err) || !err[0])
            abort();              /* a refusal says why */
        return 0;
    }
    if (!clean_utf8(data, size))
        abort();                  /* accepted what the front door must refuse */
    char *out = finite_numbers(j) ? cJSON_PrintUnformatted(j) : NULL;
    if (out) {
        cJSON *again = fd_json_parse(out, strlen(out), err, sizeof err);
        char *out2 = again ? cJSON_PrintUnformatted(again) : NULL;
        if (!again || (out2 && strcmp(out, out2)))
            abort();              /* what it printed reads back the same */
        free(out2);
        cJSON_Delete(again);
        free(out);
    }
    cJSON_Delete(j);
    return 0;
}
