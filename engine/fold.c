/* fold.c -- the one-pass fold of a text into its views, by the table of foldtab.h.
 *
 * One pass over the text builds the folded view (separator runs as one byte,
 * runs of single letters joined) and from it the compact view (no
 * separators), each with an offset map back to the input. The loop reads one
 * table entry per character and never calls ICU; ASCII words, three-byte
 * characters and runs of Chinese characters take fast paths. */
#include <stdlib.h>
#include <string.h>

#include "foldtab.h"

static const char *view_names[FE_NVIEWS] = {"folded", "compact", "emoji", "phonetic",
                                             "initials", "leet", "split", "shape"};

const char *fe_view_name(int v) { return v >= 0 && v < FE_NVIEWS ? view_names[v] : "?"; }

int fe_view_lookup(const char *name)
{
    for (int i = 0; i < FE_NVIEWS; i++)
        if (!strcmp(view_names[i], name))
            return i;
    return -1;
}

int fe_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    return fe_utf8_decode_inline(s, n, cp);
}

int fe_utf8_encode(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xc0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12);
        o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18);
    o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* ---- clause breaks --------------------------------------------------------- */

/* Separators between two characters of one term are seen through (法·轮·功,
 * 发＊票); punctuation that ends a clause (a comma, a full stop) between two
 * clauses is not, or the end of one clause and the start of the next make a
 * term (被地域黑，同样地 is not 黑同). As for Latin letters, where single
 * letters are joined and words are not: a clause mark between two Chinese
 * characters is a break unless both stand alone between separators (法，轮，功
 * is one term spelled out). Latin words keep the folded view's rule. */

static int is_char(int cls)
{
    return cls == FE_C_WORD || cls == FE_C_HAN;
}

/* The class of the last character before s[at] that is not dropped, and
 * where it starts; -1 at the start of the text. An invalid byte is a
 * separator, as in the fold. */
static int class_before(const fe_fold *f, const unsigned char *s, size_t at, size_t *start)
{
    while (at > 0) {
        size_t i = at - 1;
        uint32_t cp = 0;
        while (i > 0 && at - i < 4 && (s[i] & 0xc0) == 0x80)
            i--;
        int n = fe_utf8_decode_inline(s + i, at - i, &cp), cls = FE_C_SEP;
        if (n == (int)(at - i))
            cls = ENT_CLASS(fe_fold_lookup(f, cp));
        else
            i = at - 1;
        if (cls != FE_C_DROP) {
            *start = i;
            return cls;
        }
        at = i;
    }
    return -1;
}

/* The class of the first character at or after s[at] that is not dropped,
 * and where it ends; -1 at the end of the text. */
static int class_after(const fe_fold *f, const unsigned char *s, size_t len, size_t at,
                       size_t *end)
{
    while (at < len) {
        uint32_t cp = 0;
        int n = fe_utf8_decode_inline(s + at, len - at, &cp), cls = FE_C_SEP;
        if (n > 0)
            cls = ENT_CLASS(fe_fold_lookup(f, cp));
        at += n > 0 ? (size_t)n : 1;
        if (cls != FE_C_DROP) {
            *end = at;
            return cls;
        }
    }
    return -1;
}

int fe_clause_break(const fe_fold *f, const char *text, size_t len, size_t at)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t l = at, r = at, x;
    int cl, cr;
    while ((cl = class_before(f, s, l, &l)) == FE_C_SEP)   /* the run of separators */
        ;
    if (cl != FE_C_HAN)   /* most clause marks of Latin text: no need to look right */
        return 0;
    while ((cr = class_after(f, s, len, r, &r)) == FE_C_SEP)
        ;
    if (cr != FE_C_HAN)
        return 0;
    return is_char(class_before(f, s, l, &x)) || is_char(class_after(f, s, len, r, &x));
}

int fe_clause_break_at(const fe_fold *f, const fe_clauses *cl, size_t *k, const char *text,
                       size_t len, size_t at)
{
    if (cl) {
        while (*k < cl->n && cl->at[*k] < at)
            (*k)++;
        if (*k < cl->n && cl->at[*k] == at)
            return cl->brk[*k];
    }
    return fe_clause_break(f, text, len, at);
}

/* ---- the fold ------------------------------------------------------------ */

int fe_viewbuf_alloc(const fe_fold *f, fe_viewbuf *v, size_t maxlen)
{
    size_t cap = maxlen * OUT_RATIO + 16;
    (void)f;
    v->buf = malloc(cap);
    v->src = malloc(cap * sizeof *v->src);
    v->mark = malloc(cap * sizeof *v->mark);
    v->len = 0;
    v->cap = cap;
    if (!v->buf || !v->src || !v->mark) {
        fe_viewbuf_free(v);
        return -1;
    }
    return 0;
}

void fe_viewbuf_free(fe_viewbuf *v)
{
    free(v->buf);
    free(v->src);
    free(v->mark);
    memset(v, 0, sizeof *v);
}

void fe_view_span(const fe_viewbuf *v, size_t from, size_t to, const char *text, size_t len,
                  uint32_t *start, uint32_t *end)
{
    uint32_t cp, last = v->src[to - 1];
    int n = fe_utf8_decode_inline((const unsigned char *)text + last, len - last, &cp);
    *start = v->src[from];
    *end = last + (uint32_t)(n > 0 ? n : 1);
}

/* Append n bytes to a view; with_src is a constant at each call site, so the
 * compiler makes one loop that fills the offset map and one that does not. */
static inline void put(fe_viewbuf *v, const char *s, size_t n, uint32_t from, const int with_src)
{
    char *b = v->buf + v->len;
    switch (n) {   /* fixed-size copies for the common lengths */
    case 1: b[0] = s[0]; break;
    case 2: memcpy(b, s, 2); break;
    case 3: memcpy(b, s, 3); break;
    case 4: memcpy(b, s, 4); break;
    default: memcpy(b, s, n);
    }
    if (with_src)
        for (size_t i = 0; i < n; i++)
            v->src[v->len + i] = from;
    v->len += n;
}

#define NONE ((size_t)-1)
#define MARK_BREAK 0x80000000u   /* mark[]: this separator ends a clause (views are
                                    shorter than 2 GB: max-text-bytes is at most 16 MB) */

/* The state of the single-letter joiner over the folded view. */
typedef struct joiner {
    size_t tok_chars;     /* characters in the current word token */
    size_t tok_pos;       /* its first byte in the folded view */
    int tok_single;       /* its first character folded to one ASCII letter/digit */
    size_t prev_single;   /* view length right after the last single-letter token */
} joiner;

/* A word token ended: if it is a single letter that follows another single
 * letter across exactly one separator byte, pull it over that separator. */
static inline void token_end(joiner *j, fe_viewbuf *v, size_t *nsep, unsigned *bits,
                             const int with_src)
{
    if (!j->tok_chars)
        return;
    if (j->tok_chars == 1 && j->tok_single && v->len == j->tok_pos + 1) {
        if (j->prev_single != NONE && j->tok_pos == j->prev_single + 1) {
            size_t d = j->tok_pos - 1;
            v->buf[d] = v->buf[j->tok_pos];
            if (with_src)
                v->src[d] = v->src[j->tok_pos];
            v->len = d + 1;
            (*nsep)--;   /* the separator byte was the last one */
            *bits |= FE_FOLD_JOINED;
        }
        j->prev_single = v->len;
    } else
        j->prev_single = NONE;
    j->tok_chars = 0;
}

/* The compact view is the folded one without its separator bytes: copy the
 * runs between them (cheaper than writing every character twice). A
 * separator that ends a clause stays, as one space. */
static inline void compact(const fe_viewbuf *vf, fe_viewbuf *vc, size_t nsep, const int with_src)
{
    size_t from = 0;
    vc->len = 0;
    for (size_t k = 0; k <= nsep; k++) {
        uint32_t mk = k < nsep ? vf->mark[k] : 0;
        size_t to = k < nsep ? (mk & ~MARK_BREAK) : vf->len;
        memcpy(vc->buf + vc->len, vf->buf + from, to - from);
        if (with_src)
            memcpy(vc->src + vc->len, vf->src + from, (to - from) * sizeof *vc->src);
        vc->len += to - from;
        if (mk & MARK_BREAK) {
            vc->buf[vc->len] = ' ';
            if (with_src)
                vc->src[vc->len] = vf->src[to];
            vc->len++;
        }
        from = to + 1;
    }
}

/* The clause mark at input offset at ends a clause (brk) or not: into the
 * separator run's mark and the memo for the phonetic pass.
 *
 * The fold finds fe_clause_break's answer on its way instead of asking it
 * (which reads the text around the mark again, 5% of a scan): the left side
 * is the last letter or Chinese character it saw, and whether a separator
 * came right before it; the right side is the next one it meets. Only when
 * the left one stands alone (法，轮，功) is fe_clause_break asked, at the
 * right side; and whenever an invalid byte came before the mark, since
 * fe_clause_break reads the left side backwards. */
static inline void clause_done(fe_clauses *cl, uint32_t at, uint32_t *sep_break, int brk)
{
    *sep_break = brk ? MARK_BREAK : 0;
    if (cl && cl->n < FE_CLAUSE_MEMO) {
        cl->at[cl->n] = at;
        cl->brk[cl->n++] = brk != 0;
    }
}

/* One character of the split pass's reading (fe_hanseq): c, its folded
 * Chinese character, or 0, which parts a pair (a run of them is one). */
static inline void han_put(fe_hanseq *hq, uint32_t c)
{
    if (c || !hq->n || hq->c[hq->n - 1])
        hq->c[hq->n++] = c;
}

/* The first code point of a Chinese character cp's folded form (entry e). */
static inline uint32_t han_first(const fe_fold *f, ent_t e, uint32_t cp)
{
    uint32_t c = 0;
    if (!ENT_LEN(e))
        return cp;
    fe_utf8_decode_inline((const unsigned char *)f->pool + ENT_OFF(e), ENT_LEN(e), &c);
    return c;
}

/* After a Chinese character: the following three-byte characters that are
 * Chinese too need none of the separator and word bookkeeping, only their
 * folded bytes. Returns where the run ends. */
static inline size_t han_run(const fe_fold *f, const unsigned char *s, size_t i, size_t len,
                             fe_viewbuf *vf, fe_hanseq *hq, const int with_src)
{
    while (i + 2 < len && (s[i] & 0xf0) == 0xe0 && (s[i + 1] & 0xc0) == 0x80 &&
           (s[i + 2] & 0xc0) == 0x80) {
        uint32_t cp = (uint32_t)(s[i] & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
                      (s[i + 2] & 0x3f);
        ent_t e;
        if (cp >= CJK_START && cp < CJK_END) {
            uint16_t k = f->cjk[cp - CJK_START];
            if (!k) {   /* folds to itself */
                if (hq)
                    hq->c[hq->n++] = cp;   /* never 0: no run to join */
                put(vf, (const char *)s + i, 3, (uint32_t)i, with_src);
                i += 3;
                continue;
            }
            e = f->cjk_ent[k - 1];
        } else if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
            break;
        else
            e = fe_fold_lookup(f, cp);
        if (ENT_CLASS(e) != FE_C_HAN)
            break;
        if (hq)
            han_put(hq, han_first(f, e, cp));
        size_t olen = ENT_LEN(e);
        put(vf, olen ? f->pool + ENT_OFF(e) : (const char *)s + i, olen ? olen : 3,
            (uint32_t)i, with_src);
        i += 3;
    }
    return i;
}

static inline unsigned fold(const fe_fold *f, const char *text, size_t len,
                            fe_viewbuf views[FE_NVIEWS], fe_clauses *cl, fe_hanseq *hq,
                            const int with_src)
{
    const unsigned char *s = (const unsigned char *)text;
    fe_viewbuf *vf = &views[FE_VIEW_FOLDED], *vc = &views[FE_VIEW_COMPACT];
    joiner j = {0, 0, 0, NONE};
    unsigned bits = 0;
    size_t nsep = 0;      /* separator bytes of the folded view, at vf->mark[] */
    int sep_pending = 0, sep_clause = 0;   /* a separator run; it holds a clause mark */
    uint32_t sep_break = 0;
    char sep_ch = ' ';
    uint32_t sep_from = 0;
    /* fe_clause_break's answer, found on the way (see clause_right): the class
     * of the last letter or Chinese character (-1: none), whether a separator
     * (or the start) was right before it, whether one was the last thing seen */
    int last_cls = -1, last_alone = 0, after_sep = 1;
    int clause_wait = 0;   /* the run's clause mark waits for its right side: 1, 2 */
    uint32_t clause_at = 0;

    vf->len = vc->len = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n;
        ent_t e;
        unsigned char c = s[i];
        if (c < 0x80) {   /* ASCII: no decoding */
            n = 1;
            cp = c;
            e = f->ascii[c];
            if (c == 0)
                bits |= FE_FOLD_NUL;
        } else if ((c & 0xf0) == 0xe0 && i + 2 < len && (s[i + 1] & 0xc0) == 0x80 &&
                   (s[i + 2] & 0xc0) == 0x80 &&
                   (cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
                         (s[i + 2] & 0x3f)) >= 0x800 &&
                   (cp < 0xd800 || cp > 0xdfff)) {   /* three bytes: CJK, the common case */
            n = 3;
            e = fe_fold_lookup(f, cp);
        } else if ((n = fe_utf8_decode_inline(s + i, len - i, &cp)) < 0) {
            bits |= FE_FOLD_INVALID_UTF8;
            n = 1;
            e = ENT(FE_C_SEP, 0, FE_WHY_SEP, 0);
            if (hq)
                han_put(hq, 0);
        } else
            e = fe_fold_lookup(f, cp);
        uint32_t from = (uint32_t)i;
        int cls = ENT_CLASS(e);
        size_t olen = ENT_LEN(e);
        const char *out = olen ? f->pool + ENT_OFF(e) : text + i;
        if (!olen)
            olen = (size_t)n;
        i += (size_t)n;
        if (hq && (c < 0x80 || cls >= FE_C_WORD))
            han_put(hq, c < 0x80 || cls == FE_C_WORD ? 0 : han_first(f, e, cp));

        if (cls == FE_C_DROP)
            continue;
        if (cls == FE_C_SEP) {
            after_sep = 1;
            token_end(&j, vf, &nsep, &bits, with_src);
            if (!sep_pending) {
                sep_pending = 1;
                sep_ch = ENT_LEN(e) ? *out : ' ';
                sep_from = from;
                sep_clause = 0;
                sep_break = 0;
            } else
                sep_ch = ' ';
            if (ENT_CLAUSE(e) && !sep_clause) {   /* once per run */
                sep_clause = 1;
                clause_at = from;
                if (bits & FE_FOLD_INVALID_UTF8)   /* read backwards, invalid bytes may differ */
                    clause_done(cl, from, &sep_break, fe_clause_break(f, text, len, from));
                else if (last_cls != FE_C_HAN)
                    clause_done(cl, from, &sep_break, 0);
                else
                    clause_wait = last_alone ? 2 : 1;
            }
            continue;
        }
        if (clause_wait) {   /* the character on the clause mark's right side */
            clause_done(cl, clause_at, &sep_break,
                        cls == FE_C_HAN && (clause_wait == 1 ||
                                            fe_clause_break(f, text, len, clause_at)));
            clause_wait = 0;
        }
        last_alone = after_sep;
        after_sep = 0;
        last_cls = cls;
        if (cls == FE_C_HAN) {
            token_end(&j, vf, &nsep, &bits, with_src);
            j.prev_single = NONE;
            bits |= FE_FOLD_HAS_HAN | f->han_bits;
        }
        if (sep_pending) {
            vf->mark[nsep++] = (uint32_t)vf->len | sep_break;
            put(vf, &sep_ch, 1, sep_from, with_src);
            sep_pending = 0;
        }
        if (cls == FE_C_WORD && j.tok_chars++ == 0) {
            bits |= FE_FOLD_WORD;
            j.tok_pos = vf->len;
            j.tok_single = olen == 1 && ((*out >= 'a' && *out <= 'z') || (*out >= '0' && *out <= '9'));
        }
        put(vf, out, olen, from, with_src);
        if (cls == FE_C_WORD && out == text + from && c < 0x80) {
            /* the rest of an ASCII word: lower-case letters and digits fold to themselves */
            size_t r = i;
            while (r < len && ((s[r] >= 'a' && s[r] <= 'z') || (s[r] >= '0' && s[r] <= '9')))
                r++;
            if (r > i) {
                memcpy(vf->buf + vf->len, text + i, r - i);
                if (with_src)
                    for (size_t k = i; k < r; k++)
                        vf->src[vf->len + k - i] = (uint32_t)k;
                vf->len += r - i;
                j.tok_chars += r - i;
                i = r;
                last_alone = 0;
            }
        } else if (cls == FE_C_HAN) {
            size_t r = han_run(f, s, i, len, vf, hq, with_src);
            if (r > i)
                last_alone = 0;
            i = r;
        }
    }
    if (clause_wait)   /* nothing on its right */
        clause_done(cl, clause_at, &sep_break, 0);
    token_end(&j, vf, &nsep, &bits, with_src);
    compact(vf, vc, nsep, with_src);
    return bits;
}

unsigned fe_fold_text(const fe_fold *f, const char *text, size_t len,
                      fe_viewbuf views[FE_NVIEWS])
{
    return fold(f, text, len, views, NULL, NULL, 1);
}

unsigned fe_fold_text_nomap(const fe_fold *f, const char *text, size_t len,
                            fe_viewbuf views[FE_NVIEWS], fe_clauses *cl, fe_hanseq *hq)
{
    if (cl)
        cl->n = 0;
    if (hq)
        hq->n = 0;
    return fold(f, text, len, views, cl, hq, 0);
}
