/* leet.c -- the leet view: Latin words read past leetspeak, masked and stretched letters.
 *
 * Per character: letters fold as in the folded view (so 𝐟, Cyrillic е, ƒ are
 * letters), digits and symbols that stand for letters become them when a
 * letter or digit follows (5h1t, sh!t, @ss, $hit, fu©k), masks (* # % _)
 * between letters become '*', and a run of one letter is written once with
 * its length in mark[] (fuuuuck -> fuck, run 4; fe_leet_span maps it back to
 * the whole run). Everything else separates.
 * An entry (Latin letters only) is read the same way; its patterns are that
 * and, for one word of up to MASK_MAX letters, each spelling with one or two
 * neighbouring middle letters masked (f*ck, fu*k, f**k, a**hole): literals,
 * which Hyperscan compiles a hundred times faster than the same as classes. fe_leet_accept then asks that each letter of the
 * text be at least as long as the entry's (ass is not as) and that at least
 * a third of the characters be real letters (455 is a number). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foldtab.h"
#include "views.h"

#define LEET_MAX 256          /* letters of an entry read by the leet view */
#define MASK_MAX 7            /* a one-word entry up to this long is also matched masked
                                 (swearwords are short; longer ones multiply patterns) */
#define M_RUN 0x7fffu         /* mark[]: the run's length, */
#define M_REAL 0x8000u        /* whether its first character was a letter, */
#define M_DIST_SHIFT 16       /* and from its first character to its last, bytes */

/* What a digit or symbol stands for, when it stands for a letter. */
static char leet_of(uint32_t cp)
{
    switch (cp) {
    case '0': return 'o';
    case '1': case '!': return 'i';
    case '3': case 0x20ac: return 'e';          /* € */
    case '4': case '@': return 'a';
    case '5': case '$': return 's';
    case '7': case '+': return 't';
    case '8': return 'b';
    case '9': return 'g';
    case '|': return 'l';
    case '(': case 0xa9: case 0xa2: return 'c'; /* © ¢ */
    case 0xae: return 'r';                      /* ® */
    default: return 0;
    }
}

static int is_mask(uint32_t cp)
{
    return cp == '*' || cp == '#' || cp == '%' || cp == '_';
}

/* Whether a character (cp, its letter l) is a letter, digit, leet symbol or
 * mask: what lets the character before it be read as a letter. ASCII by a
 * bitmap of those (letters, digits, ! # $ % ( * + @ _ |), the rest by letter
 * and leet_of. */
static inline int alnum_like(uint32_t cp, char l)
{
    static const uint64_t ascii[2] = {0x03ff0d3a00000000ull, 0x17fffffe87ffffffull};
    if (cp < 0x80)
        return (int)(ascii[cp >> 6] >> (cp & 63) & 1);
    return l || leet_of(cp);
}

/* The letter a character folds to (a-z), or 0. */
static char letter_of(const fe_fold *f, uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') ? (char)cp : (cp >= 'A' && cp <= 'Z') ? (char)(cp | 0x20) : 0;
    ent_t e = fe_fold_lookup(f, cp);
    if (ENT_CLASS(e) != FE_C_WORD || ENT_LEN(e) != 1)
        return cp == 0x192 ? 'f' : 0;   /* ƒ, which NFKC leaves alone */
    char c = f->pool[ENT_OFF(e)];
    return c >= 'a' && c <= 'z' ? c : 0;
}

/* 1 when the character starting at byte i of s (or continuing there) is a letter. */
static int letter_of_at(const fe_fold *f, const char *s, size_t n, size_t i)
{
    uint32_t cp;
    while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
        i--;
    int k = fe_utf8_decode_inline((const unsigned char *)s + i, n - i, &cp);
    return k > 0 && (letter_of(f, cp) || ENT_CLASS(fe_fold_lookup(f, cp)) == FE_C_DROP);
}

/* The character at byte i of s: its length (0 past the end), *cp. */
static int next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    int n;
    *cp = 0;
    if (i >= len)
        return 0;
    if ((n = fe_utf8_decode_inline(s + i, len - i, cp)) < 0)
        n = 1, *cp = 0xfffd;
    return n;
}

/* A separator at input offset at: one space for a run of them. */
static inline void leet_sep(fe_viewbuf *out, uint32_t at)
{
    if (out->len && out->buf[out->len - 1] != ' ') {
        out->buf[out->len] = ' ';
        out->src[out->len] = at;
        out->mark[out->len++] = 1;
    }
}

/* Read text the leet way into out; mark[] holds run lengths (see above).
 * Each character is decoded and its letter looked up once: it is the next
 * one (d) of one round and the current one (c) of the next. A Chinese
 * character that folds to itself is no letter, digit, mask or dropped
 * character: it separates, and so do those right after it, which are
 * skipped without a look (a Chinese text with one Latin word pays little). */
static void read_leet(const fe_fold *f, const char *text, size_t len, fe_viewbuf *out)
{
    const unsigned char *s = (const unsigned char *)text;
    int prev_alnum = 0;
    uint32_t c, d;
    int cn = next(s, len, 0, &c), dn;
    char cl = letter_of(f, c), dl;
    out->len = 0;
    for (size_t i = 0; i < len; i += (size_t)cn, c = d, cn = dn, cl = dl) {
        uint32_t at = (uint32_t)i;
        if (c - CJK_START < CJK_END - CJK_START && !f->cjk[c - CJK_START]) {
            size_t j = i + (size_t)cn;
            while (fe_cjk_self_at(f, s + j, len - j))
                j += 3;
            leet_sep(out, at);
            prev_alnum = 0;
            dn = next(s, len, j, &d);
            dl = letter_of(f, d);
            cn = (int)(j - i);
            continue;
        }
        dn = next(s, len, i + (size_t)cn, &d);
        dl = letter_of(f, d);
        char ch = cl, real = ch != 0;
        int next_alnum = dn && alnum_like(d, dl);
        if (!ch && c >= '0' && c <= '9')
            ch = leet_of(c) ? leet_of(c) : (char)c;
        else if (!ch && leet_of(c) && next_alnum && (prev_alnum || dl))
            ch = leet_of(c);
        else if (!ch && is_mask(c) && prev_alnum && next_alnum)
            ch = '*';
        else if (!ch && c >= 0x80 && ENT_CLASS(fe_fold_lookup(f, c)) == FE_C_DROP)
            continue;
        if (!ch) {
            prev_alnum = 0;
            leet_sep(out, at);
            continue;
        }
        prev_alnum = 1;
        if (ch != '*' && out->len && out->buf[out->len - 1] == ch) {
            uint32_t *m = &out->mark[out->len - 1], dist = at - out->src[out->len - 1];
            if ((*m & M_RUN) < M_RUN && dist <= 0xffff)   /* src: where the run starts */
                *m = (*m & (M_RUN | M_REAL)) + 1 + (dist << M_DIST_SHIFT);
            continue;
        }
        out->buf[out->len] = ch;
        out->src[out->len] = at;
        out->mark[out->len++] = 1 | (real ? M_REAL : 0);
    }
}

void fe_leet_view(const fe_fold *f, const char *text, size_t len, fe_viewbuf *out)
{
    read_leet(f, text, len, out);
}

/* The entry read the leet way (into v, which the caller allocates). Its
 * letters must be a-z only, at least 3 of them. Returns the view length or 0. */
static size_t read_entry(const fe_fold *f, const char *term, fe_viewbuf *v)
{
    size_t n = strlen(term), letters = 0;
    if (n > LEET_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)   /* Latin only: a Chinese character is no separator here */
        if ((unsigned char)term[i] >= 0x80 && !letter_of_at(f, term, n, i))
            return 0;
    read_leet(f, term, n, v);
    while (v->len && v->buf[v->len - 1] == ' ')
        v->len--;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->buf[i];
        if (c != ' ' && (c < 'a' || c > 'z' || !(v->mark[i] & M_REAL)))
            return 0;
        letters += c == ' ' ? 0 : v->mark[i] & M_RUN;
    }
    return letters >= 3 && v->buf[0] != ' ' ? v->len : 0;
}

typedef struct ebuf {
    char buf[LEET_MAX * 4 + 16];
    uint32_t src[LEET_MAX * 4 + 16], mark[LEET_MAX * 4 + 16];
    fe_viewbuf v;
} ebuf;

static ebuf *ebuf_init(ebuf *e)
{
    e->v.buf = e->buf;
    e->v.src = e->src;
    e->v.mark = e->mark;
    e->v.cap = sizeof e->buf;
    return e;
}

/* The entry's letters written out (runs expanded), into out; their count. */
static size_t letters(const ebuf *e, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < (e->mark[i] & M_RUN) && k < LEET_MAX; r++)
            out[k++] = e->buf[i];
    return k;
}

/* Letters l[0..n) with [m, m + w) masked, as the leet view writes them (runs of
 * one letter once): a literal; *vlen its length. NULL when out of memory. */
static char *variant(const char *l, size_t n, size_t m, size_t w, uint32_t *vlen)
{
    char *p = malloc(n + 1), prev = 0;
    *vlen = 0;
    for (size_t i = 0; p && i < n; i++) {
        char c = i >= m && i < m + w ? '*' : l[i];
        if (c != '*' && c == prev)
            continue;
        p[(*vlen)++] = c;
        prev = c;
    }
    return p;
}

int fe_leet_patterns(const fe_fold *f, const char *term, char **out, uint32_t *vlen)
{
    ebuf eb, *e = ebuf_init(&eb);
    char l[LEET_MAX];
    size_t n = read_entry(f, term, &e->v), nl;
    int k = 0;
    if (!n || !(out[k] = variant(e->buf, n, n, 0, &vlen[k])))
        return 0;
    k++;
    if (memchr(e->buf, ' ', n) || (nl = letters(e, n, l)) > MASK_MAX)
        return k;
    for (size_t m = 1; m + 1 < nl; m++)   /* one or two middle letters masked */
        for (size_t w = 1; w <= 2 && m + w < nl && k < FE_LEET_VARIANTS; w++)
            if (!(out[k] = variant(l, nl, m, w, &vlen[k])))
                return k;
            else
                k++;
    return k;
}

void fe_leet_span(const fe_viewbuf *v, size_t from, size_t to, const char *text, size_t len,
                  uint32_t *start, uint32_t *end)
{
    uint32_t cp, last = v->src[to - 1] + (v->mark[to - 1] >> M_DIST_SHIFT);
    int n = last < len ? fe_utf8_decode_inline((const unsigned char *)text + last, len - last, &cp)
                       : 1;
    *start = v->src[from];
    *end = last + (uint32_t)(n > 0 ? n : 1);
}

int fe_leet_accept(const fe_fold *f, const fe_viewbuf *v, size_t start, size_t end,
                   const char *term)
{
    ebuf eb, *e = ebuf_init(&eb);   /* on the stack: the scan path does not allocate */
    size_t n = read_entry(f, term, &e->v), real = 0, all = 0;
    int masked = memchr(v->buf + start, '*', end - start) != NULL, ok = 1;
    for (size_t i = 0; i < end - start; i++) {
        uint32_t t = v->mark[start + i];
        if (v->buf[start + i] == '*')
            continue;
        if (!masked)   /* each letter at least as long as the entry's (ass is not as) */
            ok &= i < n && (t & M_RUN) >= (e->mark[i] & M_RUN);
        all += t & M_RUN;
        real += t & M_REAL ? t & M_RUN : 0;
    }
    return ok && real * 3 >= all;
}
