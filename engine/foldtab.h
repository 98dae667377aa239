/* foldtab.h -- the folding table's layout, private to foldtab.c (which builds it
 * from ICU) and fold.c (which reads it per character).
 *
 * Table: one 64-bit entry per code point, in 256-entry pages behind a page
 * index; pages whose entries are all alike (unassigned planes, most of the
 * Han blocks, which map to themselves) are shared. An entry is
 *   bits 0-1 class, 2-7 output length (0 = the input bytes unchanged),
 *   8-15 FE_WHY_* bits, 16 a clause mark (ENT_CLAUSE), 32-63 offset of the
 *   output in the string pool. */
#ifndef FE_FOLDTAB_H
#define FE_FOLDTAB_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"

#define NCP 0x110000
#define CJK_START 0x4e00           /* CJK Unified Ideographs */
#define CJK_END 0xa000
#define NPAGES (NCP >> 8)
#define OUT_MAX 63            /* longest folded output of one code point, bytes */
#define OUT_RATIO 4           /* output bytes per input byte, at most: longer
                                 expansions (Arabic ligatures) are cut */

typedef uint64_t ent_t;

#define ENT(cls, len, why, off) \
    ((ent_t)(cls) | (ent_t)(len) << 2 | (ent_t)(why) << 8 | (ent_t)(off) << 32)
#define ENT_CLASS(e) ((int)((e) & 3))
#define ENT_LEN(e) ((size_t)(((e) >> 2) & 63))
#define ENT_WHY(e) ((unsigned)(((e) >> 8) & 0xff))
#define ENT_OFF(e) ((size_t)((e) >> 32))
/* A separator that ends a clause (, . ! ? ; 、 。 … and line breaks, in every
 * width): fe_clause_break decides whether it does where it stands. */
#define ENT_F_CLAUSE ((ent_t)1 << 16)
#define ENT_CLAUSE(e) ((unsigned)((e) >> 16) & 1u)
/* The entry of a Chinese character that folds to itself: f->cjk holds 0 for
 * it (its entry in the pages is exactly this; build_cjk checks). */
#define CJK_SELF ENT(FE_C_HAN, 0, 0, 0)

struct fe_fold {
    uint16_t index[NPAGES];
    ent_t (*pages)[256];
    size_t npages;
    const ent_t *ascii;      /* the page of U+0000..U+00FF, for the ASCII fast path */
    /* The CJK Unified Ideographs block in 2 bytes a character (42 KB, so it
     * stays in the L1 cache where the 8-byte pages would not): 0 for a
     * character that folds to itself, else 1 + its index in cjk_ent. */
    uint16_t cjk[CJK_END - CJK_START];
    ent_t *cjk_ent;
    /* FE_FOLD_WORD when some Chinese character folds to an output holding a
     * Latin letter (none does: the squared dates and times hold digits), so
     * that the fold's FE_FOLD_WORD bit says "no Latin letter" truthfully. */
    unsigned han_bits;
    char *pool;
    size_t poollen, poolcap;
};

/* The entry of cp in the pages (what build_cjk copies from). */
static inline ent_t fe_fold_page(const fe_fold *f, uint32_t cp)
{
    return f->pages[f->index[cp >> 8]][cp & 255];
}

/* The entry of cp; a character of the CJK block is read from its compact
 * copy (the 8-byte pages of that block would not stay in the cache: every
 * view's pass over a Chinese text looks each character up). */
static inline ent_t fe_fold_lookup(const fe_fold *f, uint32_t cp)
{
    if (cp - CJK_START < CJK_END - CJK_START) {
        uint16_t k = f->cjk[cp - CJK_START];
        return k ? f->cjk_ent[k - 1] : CJK_SELF;
    }
    return fe_fold_page(f, cp);
}

/* The code point of the three bytes at p (n available) when they are a
 * character of the CJK block that folds to itself (most of a Chinese text),
 * else 0: the view passes read it so, without the general decoder (no
 * overlong form or surrogate falls in the block). */
static inline uint32_t fe_cjk_self_at(const fe_fold *f, const unsigned char *p, size_t n)
{
    if (n < 3 || (p[0] & 0xf0) != 0xe0 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
        return 0;
    uint32_t cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
    return cp - CJK_START < CJK_END - CJK_START && !f->cjk[cp - CJK_START] ? cp : 0;
}

static inline int fe_utf8_decode_inline(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2; v = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; v = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; v = c & 0x07; min = 0x10000;
    } else
        return -1;
    if ((size_t)len > n)
        return -1;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return -1;
    *cp = v;
    return len;
}

#endif
