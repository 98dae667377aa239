/* split.c -- the split view: characters written as their two components, put back together.
 *
 * Users write 强 as 弓虽, 娼 as 女昌, 法 as 氵去. When the lists load, every
 * character of an entry that has a split (shape.c: left + right or top +
 * bottom, from cjk-decomp) adds the pair of its components to a table; the
 * split view is the compact view with each such pair of adjacent characters
 * replaced by the character (弓虽奸 -> 强奸), built only for texts that hold a
 * pair (looked for in the fold's reading of the text, fe_hanseq), and
 * scanned with the compact database, so a recomposed character counts only
 * where it completes a list term. A pair that is a common word
 * (女子, 日月) is never in the table, and a match is refused when a
 * component makes a common word with the character next to it (女干部: 干部
 * is "cadre", not 奸 + 部). Offsets: the recomposed character's first byte
 * maps to its first component, its last byte to its second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foldtab.h"
#include "views.h"
#include "wordlist.h"

#define M_JOINED 1u           /* mark[]: a byte of a character put together */
#define PAIR_BITS 19          /* the pair filter: 2^19 bits, 64 KB */

struct fe_splits {
    struct pair { uint32_t c1, c2, ch; } *slot;   /* open addressing; c1 == 0 empty */
    size_t cap, n;
    uint8_t first[0x10000 / 8];   /* BMP characters that begin some pair */
    uint8_t second[0x10000 / 8];  /* ... that end some pair */
    uint8_t pairs[(1u << PAIR_BITS) / 8]; /* one bit per pair's hash (pair_bit): most
                                             adjacent characters of a text are no pair,
                                             and this small table says so without a
                                             probe into the big one */
};

static uint32_t pair_bit(uint32_t c1, uint32_t c2)
{
    return (uint32_t)((((uint64_t)c1 << 16 | c2) * 0x9E3779B97F4A7C15ull) >> (64 - PAIR_BITS));
}

fe_splits *fe_splits_new(void)
{
    return calloc(1, sizeof(fe_splits));
}

void fe_splits_free(fe_splits *sp)
{
    if (sp)
        free(sp->slot);
    free(sp);
}

size_t fe_splits_memory(const fe_splits *sp)
{
    return sizeof *sp + sp->cap * sizeof *sp->slot;
}

static size_t slot_of(const fe_splits *sp, uint32_t c1, uint32_t c2)
{
    size_t h = (size_t)(((uint64_t)c1 * 0x9e3779b1u ^ (uint64_t)c2 * 0x85ebca77u) >> 7) &
               (sp->cap - 1);
    while (sp->slot[h].c1 && (sp->slot[h].c1 != c1 || sp->slot[h].c2 != c2))
        h = (h + 1) & (sp->cap - 1);
    return h;
}

static int grow(fe_splits *sp)
{
    fe_splits old = *sp;
    sp->cap = sp->cap ? sp->cap * 2 : 1024;
    if (!(sp->slot = calloc(sp->cap, sizeof *sp->slot))) {
        *sp = old;
        return -1;
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.slot[i].c1)
            sp->slot[slot_of(sp, old.slot[i].c1, old.slot[i].c2)] = old.slot[i];
    free(old.slot);
    return 0;
}

int fe_splits_add(fe_splits *sp, const fe_shapes *s, const fe_fold *f, const fe_readings *r,
                  const char *term)
{
    const unsigned char *p = (const unsigned char *)term;
    size_t len = strlen(term);
    for (size_t i = 0; i < len;) {
        uint32_t cp, c, comps[2];
        int k = fe_utf8_decode(p + i, len - i, &cp);
        i += k > 0 ? (size_t)k : 1;
        if (k < 0 || !(c = fe_rd_fold_han(f, cp)) || !fe_shapes_split_of(s, f, r, c, comps) ||
            comps[0] >= 0x10000 || comps[1] >= 0x10000)
            continue;
        if ((sp->n + 1) * 2 > sp->cap && grow(sp) < 0)
            return -1;
        size_t h = slot_of(sp, comps[0], comps[1]);
        if (!sp->slot[h].c1) {   /* the first character with these components keeps them */
            sp->slot[h] = (struct pair){comps[0], comps[1], c};
            sp->n++;
            sp->first[comps[0] / 8] |= (uint8_t)(1u << (comps[0] % 8));
            sp->second[comps[1] / 8] |= (uint8_t)(1u << (comps[1] % 8));
            uint32_t b = pair_bit(comps[0], comps[1]);
            sp->pairs[b / 8] |= (uint8_t)(1u << (b % 8));
        }
    }
    return 0;
}

static inline uint32_t joined(const fe_splits *sp, uint32_t c1, uint32_t c2)
{
    if (c1 >= 0x10000 || c2 >= 0x10000 || !(sp->first[c1 / 8] & (1u << (c1 % 8))) ||
        !(sp->second[c2 / 8] & (1u << (c2 % 8))))
        return 0;
    uint32_t b = pair_bit(c1, c2);
    if (!(sp->pairs[b / 8] & (1u << (b % 8))))
        return 0;
    size_t h = slot_of(sp, c1, c2);
    return sp->slot[h].c1 ? sp->slot[h].ch : 0;
}

static void put(fe_viewbuf *v, const char *s, size_t n, uint32_t from, uint32_t last,
                uint32_t mark)
{
    memcpy(v->buf + v->len, s, n);
    for (size_t i = 0; i < n; i++) {
        v->src[v->len + i] = i + 1 < n ? from : last;
        v->mark[v->len + i] = mark;
    }
    v->len += n;
}

/* Whether the text holds a pair at all (the fold's reading of it, hq):
 * most texts do not, and pay only this. */
static int any_pair(const fe_splits *sp, const fe_hanseq *hq)
{
    for (size_t i = 1; i < hq->n; i++)
        if (hq->c[i - 1] && hq->c[i] && joined(sp, hq->c[i - 1], hq->c[i]))
            return 1;
    return 0;
}

size_t fe_split_view(const fe_fold *f, const fe_splits *sp, const char *text, size_t len,
                     const fe_hanseq *hq, fe_viewbuf *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t put_together = 0, prev_at = 0;   /* the previous character's first view byte */
    uint32_t prev = 0, prev_src = 0;        /* it, if Chinese and not put together */
    out->len = 0;
    if (!sp || !sp->n || !any_pair(sp, hq))
        return 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = fe_utf8_decode_inline(s + i, len - i, &cp);
        if (n < 0) {
            i++;
            continue;
        }
        ent_t e = cp < 0x80 ? f->ascii[cp] : fe_fold_lookup(f, cp);
        int cls = ENT_CLASS(e);
        size_t olen = ENT_LEN(e);
        const char *o = olen ? f->pool + ENT_OFF(e) : text + i;
        uint32_t at = (uint32_t)i, c = 0, ch;
        i += (size_t)n;
        if (cls != FE_C_HAN && cls != FE_C_WORD)
            continue;   /* the compact view has no separators */
        if (cls == FE_C_HAN)
            fe_utf8_decode_inline((const unsigned char *)o, olen ? olen : (size_t)n, &c);
        if (prev && c && (ch = joined(sp, prev, c))) {
            char b[4];
            out->len = prev_at;
            put(out, b, (size_t)fe_utf8_encode(ch, b), prev_src, at, M_JOINED);
            put_together++;
            prev = 0;
            continue;
        }
        prev = c;
        prev_src = at;
        prev_at = out->len;
        put(out, o, olen ? olen : (size_t)n, at, at, 0);
    }
    return put_together;
}

/* The folded character of the text at byte offset at. */
static uint32_t text_char(const fe_fold *f, const char *text, size_t len, uint32_t at)
{
    uint32_t cp;
    if (at >= len || fe_utf8_decode_inline((const unsigned char *)text + at, len - at, &cp) < 0)
        return 0;
    return fe_rd_fold_han(f, cp);
}

int fe_split_accept(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                    const char *text, size_t len, size_t start, size_t end)
{
    int any = 0;
    for (size_t i = start; i < end;) {
        size_t j = i + 1;
        while (j < end && ((unsigned char)v->buf[j] & 0xc0) == 0x80)
            j++;
        if (v->mark[i] & M_JOINED) {
            uint32_t c1 = text_char(f, text, len, v->src[i]);
            uint32_t c2 = text_char(f, text, len, v->src[j - 1]);
            if (fe_pair_weight(r, fe_char_before(v, i), c1) >= FE_SIDE_WORD ||
                fe_pair_weight(r, c2, fe_char_after(v, j)) >= FE_SIDE_WORD)
                return 0;
            any = 1;
        }
        i = j;
    }
    return any;
}

void fe_split_render(const fe_fold *f, const fe_viewbuf *v, size_t from, size_t to,
                     const char *text, size_t len, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = from; i < to && o + 1 < n;) {
        size_t j = i + 1;
        while (j < to && ((unsigned char)v->buf[j] & 0xc0) == 0x80)
            j++;
        if (v->mark[i] & M_JOINED) {
            char a[8], b[8];
            a[fe_utf8_encode(text_char(f, text, len, v->src[i]), a)] = '\0';
            b[fe_utf8_encode(text_char(f, text, len, v->src[j - 1]), b)] = '\0';
            o += (size_t)snprintf(buf + o, n - o, "%s%s%s put together: %.*s", o ? ", " : "", a,
                                  b, (int)(j - i), v->buf + i);
        }
        i = j;
    }
}
