/* syllables.c -- the table of pinyin syllable names (syllables.h). */
#include <string.h>

#include "syllables.h"

/* A name of at most FE_SYL_LEN bytes as one number (its length, then its bytes; never 0). */
static uint64_t syl_key(const char *s, size_t n)
{
    uint64_t k = n;
    for (size_t i = 0; i < n; i++)
        k |= (uint64_t)(unsigned char)s[i] << (8 * (i + 1));
    return k;
}

static size_t key_slot(uint64_t k, size_t slots)   /* slots: a power of two */
{
    return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 40) & (slots - 1);
}

int fe_syl_find(const fe_syllables *t, const char *s, size_t n)
{
    if (n == 0 || n > FE_SYL_LEN)
        return -1;
    uint64_t key = syl_key(s, n);
    for (size_t k = key_slot(key, FE_SYL_SLOTS);; k = (k + 1) & (FE_SYL_SLOTS - 1)) {
        uint16_t v = t->hash[k];
        if (!v || t->key[v - 1] == key)
            return (int)v - 1;
    }
}

static size_t prefix_slot(const fe_syllables *t, uint64_t key)   /* where it is, or would go */
{
    size_t k = key_slot(key, FE_PREFIX_SLOTS);
    while (t->prefix[k] && t->prefix[k] != key)
        k = (k + 1) & (FE_PREFIX_SLOTS - 1);
    return k;
}

int fe_syl_prefix(const fe_syllables *t, const char *s, size_t n)
{
    return n <= FE_SYL_LEN && t->prefix[prefix_slot(t, syl_key(s, n))] != 0;
}

int fe_syl_add(fe_syllables *t, const char *s, size_t n)
{
    int i = fe_syl_find(t, s, n);
    if (i >= 0)
        return i;
    if (n == 0 || n > FE_SYL_LEN || t->n == FE_SYL_MAX)
        return -1;
    memcpy(t->name[t->n], s, n);
    t->name[t->n][n] = '\0';
    t->key[t->n] = syl_key(s, n);
    size_t k = key_slot(t->key[t->n], FE_SYL_SLOTS);
    while (t->hash[k])
        k = (k + 1) & (FE_SYL_SLOTS - 1);
    t->hash[k] = (uint16_t)++t->n;
    for (size_t l = 1; l <= n; l++)
        t->prefix[prefix_slot(t, syl_key(s, l))] = syl_key(s, l);
    return (int)t->n - 1;
}
