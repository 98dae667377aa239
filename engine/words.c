/* words.c -- the dictionary of real words of words.h. */
#include <stdlib.h>
#include <string.h>

#include "wordlist.h"
#include "words.h"

#define REC 5                 /* record header: length, weight */

static uint32_t *find(const fe_words *w, const char *s, size_t n)
{
    if (!w->hcap || n > 255)
        return NULL;
    for (size_t k = fe_hash(FE_HASH_INIT, s, n) & (w->hcap - 1); w->hash[k];
         k = (k + 1) & (w->hcap - 1)) {
        const char *r = w->pool + w->hash[k] - 1;
        if ((unsigned char)r[0] == n && !memcmp(r + REC, s, n))
            return &w->hash[k];
    }
    return NULL;
}

/* Double the table when it would pass half full. 0 or -1. */
static int rehash(fe_words *w, size_t records)
{
    if (records * 2 < w->hcap)
        return 0;
    size_t cap = w->hcap ? w->hcap * 2 : 1 << 15;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < w->hcap; i++)
        if (w->hash[i]) {
            const char *r = w->pool + w->hash[i] - 1;
            size_t k = fe_hash(FE_HASH_INIT, r + REC, (unsigned char)r[0]) & (cap - 1);
            while (t[k])
                k = (k + 1) & (cap - 1);
            t[k] = w->hash[i];
        }
    free(w->hash);
    w->hash = t;
    w->hcap = cap;
    return 0;
}

int fe_words_add(fe_words *w, const char *s, size_t n, uint32_t weight)
{
    if (n == 0 || n > 255)
        return 0;
    uint32_t *had = find(w, s, n), old;
    if (had) {
        memcpy(&old, w->pool + *had, 4);
        if (weight > old)
            memcpy(w->pool + *had, &weight, 4);
        return 0;
    }
    if (w->len + n + REC > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 1 << 18;
        char *p = realloc(w->pool, cap);
        if (!p)
            return -1;
        w->pool = p;
        w->cap = cap;
    }
    if (rehash(w, w->n + 1) < 0)
        return -1;
    size_t k = fe_hash(FE_HASH_INIT, s, n) & (w->hcap - 1);
    while (w->hash[k])
        k = (k + 1) & (w->hcap - 1);
    w->hash[k] = (uint32_t)w->len + 1;
    w->pool[w->len] = (char)n;
    memcpy(w->pool + w->len + 1, &weight, 4);
    memcpy(w->pool + w->len + REC, s, n);
    w->len += n + REC;
    w->n++;
    return 0;
}

uint32_t fe_words_weight(const fe_words *w, const char *s, size_t n)
{
    const uint32_t *slot = find(w, s, n);
    uint32_t v = 0;
    if (slot)
        memcpy(&v, w->pool + *slot, 4);
    return slot && !v ? 1 : v;
}

int fe_words_each(const fe_words *w, int (*fn)(void *ctx, const char *s, size_t n,
                                               uint32_t weight), void *ctx)
{
    for (size_t at = 0; at < w->len;) {
        const char *r = w->pool + at;
        size_t n = (unsigned char)r[0];
        uint32_t weight;
        memcpy(&weight, r + 1, 4);
        at += n + REC;
        int rc = fn(ctx, r + REC, n, weight);
        if (rc)
            return rc;
    }
    return 0;
}

void fe_words_free(fe_words *w)
{
    free(w->pool);
    free(w->hash);
    memset(w, 0, sizeof *w);
}

size_t fe_words_memory(const fe_words *w)
{
    return w->cap + w->hcap * sizeof *w->hash;
}
