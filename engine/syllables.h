/* syllables.h -- the table of pinyin syllable names (for the readings of readings.c).
 *
 * Names of at most FE_SYL_LEN bytes, each a number (its length, then its
 * bytes) in an open-addressing table, and every prefix of a name in a second
 * one, so that segmenting typed pinyin stops at a string no syllable starts
 * with. Fixed size, no allocation: filled at load time, read on the scan path. */
#ifndef FE_SYLLABLES_H
#define FE_SYLLABLES_H

#include <stddef.h>
#include <stdint.h>

#define FE_SYL_MAX 512           /* distinct syllables (the dictionary has ~420) */
#define FE_SYL_LEN 7             /* longest syllable, bytes ("zhuang" is 6) */
#define FE_SYL_SLOTS 2048        /* syllables by name (open addressing) */
#define FE_PREFIX_SLOTS 8192     /* prefixes of syllables, >= 2 * FE_SYL_MAX * FE_SYL_LEN */

typedef struct fe_syllables {
    char name[FE_SYL_MAX][FE_SYL_LEN + 1];
    size_t n;
    uint16_t hash[FE_SYL_SLOTS];      /* syllable index + 1 by name */
    uint64_t key[FE_SYL_MAX];         /* each syllable's key */
    uint64_t prefix[FE_PREFIX_SLOTS]; /* key of every prefix of a syllable; 0 empty */
} fe_syllables;

/* The index of syllable s[0..n), or -1. */
int fe_syl_find(const fe_syllables *t, const char *s, size_t n);
/* Whether s[0..n) starts some syllable. */
int fe_syl_prefix(const fe_syllables *t, const char *s, size_t n);
/* The index of s[0..n), added if new; -1 when it is too long or the table full. */
int fe_syl_add(fe_syllables *t, const char *s, size_t n);

#endif
