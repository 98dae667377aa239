/* words.h -- a dictionary of real words with their frequencies (for the phonetic view).
 *
 * A pool of [length][weight][bytes] records behind an open-addressing table;
 * filled at load time (readings.c), read by the phonetic view's tests. */
#ifndef FE_WORDS_H
#define FE_WORDS_H

#include <stddef.h>
#include <stdint.h>

typedef struct fe_words {
    char *pool;          /* [len: 1 byte][weight: 4 bytes][bytes]... */
    size_t len, cap, n;  /* bytes used, allocated; words */
    uint32_t *hash;      /* offset + 1 into pool, 0 empty */
    size_t hcap;
} fe_words;

/* Add word s[0..n) (at most 255 bytes) with weight; a word added twice keeps
 * its largest weight. 0, or -1 when out of memory. */
int fe_words_add(fe_words *w, const char *s, size_t n, uint32_t weight);
/* Its weight; 0 when it is no word (a word of weight 0 reads as 1). */
uint32_t fe_words_weight(const fe_words *w, const char *s, size_t n);
/* Call fn for every word, in the order added (fn must not add to w); stops at
 * and returns fn's first nonzero return, else 0. */
int fe_words_each(const fe_words *w, int (*fn)(void *ctx, const char *s, size_t n,
                                               uint32_t weight), void *ctx);
void fe_words_free(fe_words *w);
size_t fe_words_memory(const fe_words *w);

#endif
