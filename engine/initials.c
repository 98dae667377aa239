/* initials.c -- pinyin initials of an entry ("nmsl" for 你妈死了), matched in the folded view.
 *
 * Initials collide: four letters name many words, and short abbreviations are
 * everyday English. So an entry gets them only when it has at least
 * INITIALS_MIN characters, every character has one initial whatever its
 * reading, and the initials hold no vowel (a zero-initial syllable makes
 * them English-like); an entry that asks ([initials]) needs two characters
 * and may hold a vowel. Initials of one letter repeated (扫射宿舍: ssss) are
 * typed as noise and laughter too, so only an entry that asks gets them. They
 * match as a whole word only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foldtab.h"
#include "views.h"

#define INITIALS_MIN 4        /* characters an entry needs for initials by default */
#define INITIALS_MAX 16

char *fe_initials_pattern(const fe_fold *f, const fe_readings *r, const char *term, int asked,
                          uint32_t *vlen)
{
    const unsigned char *s = (const unsigned char *)term;
    size_t len = strlen(term), k = 0;
    char ini[INITIALS_MAX];
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = fe_utf8_decode_inline(s + i, len - i, &cp);
        if (n < 0)
            return NULL;
        i += (size_t)n;
        int cls = ENT_CLASS(fe_fold_lookup(f, cp));
        if (cls == FE_C_DROP || cls == FE_C_SEP)
            continue;
        uint32_t c = cls == FE_C_HAN ? fe_rd_fold_han(f, cp) : 0;
        int ns;
        const uint16_t *syl = fe_rd_syllables(r, c ? fe_rd_token(r, c) : 0, &ns);
        if (!ns || k == INITIALS_MAX)
            return NULL;
        char first = fe_rd_syllable_name(r, syl[0])[0];
        for (int j = 1; j < ns; j++)
            if (fe_rd_syllable_name(r, syl[j])[0] != first)
                return NULL;   /* a polyphone with two initials */
        if (strchr("aeiou", first) && !asked)
            return NULL;
        ini[k++] = first;
    }
    if (k < (asked ? 2u : INITIALS_MIN))
        return NULL;
    size_t same = 1;
    while (same < k && ini[same] == ini[0])
        same++;
    if (same == k && !asked)
        return NULL;   /* one letter repeated (ssss, hhhh) is typed for noise or a laugh */
    char *p = malloc(k * 4 + 1), *o = p;
    if (!p)
        return NULL;
    for (size_t j = 0; j < k; j++)
        o += sprintf(o, "\\x%02x", (unsigned char)ini[j]);
    *vlen = (uint32_t)k;
    return p;
}
