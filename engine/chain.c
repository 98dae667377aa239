/* chain.c -- how a match was found, for people: the steps from the text to the entry.
 *
 * One place makes the steps, for filterctl explain and for the `chain` of
 * every match in an explained reply (filterd/answer.c): first what the fold
 * did to the span's characters (full-width forms, case, traditional ->
 * simplified, ...) and how its separators were read, then the span as the
 * base view read it ("Ｆ.u.c.k -> fuck"), or, for a disguise view, how the
 * disguise was seen through: 女全 -> nv quan = 女拳, 👩👊 -> 女拳, 5h1t ->
 * shit, nmsl -> the initials of 你妈死了, 弓虽奸 -> 强奸 (弓虽 put together:
 * 强), 未日 -> 末日 (未 looks like 末). The phonetic view is tokens, so it is
 * shown as syllables. A step quotes at most FE_CHAIN_QUOTE bytes of text, and
 * always valid UTF-8 (an invalid byte of the text is shown as U+FFFD). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ruleset.h"
#include "views.h"

#define FE_CHAIN_QUOTE 120     /* bytes of text quoted in a step; longer ends in "..." */

const char *fe_view_text(const fe_ruleset *rs, const fe_scratch *sc, int view, char *buf,
                         size_t n)
{
    const fe_viewbuf *v = fe_scratch_view(sc, view);
    buf[0] = '\0';
    if (!v || !v->buf || !n || view == FE_VIEW_SHAPE)
        return buf;   /* shape is patterns in the compact view */
    if (view == FE_VIEW_PHONETIC && rs->readings)
        fe_phonetic_render(rs->readings, v, 0, v->len, buf, n);
    else
        snprintf(buf, n, "%.*s", (int)(v->len < n ? v->len : n - 1), v->buf);
    return buf;
}

/* ---- the chain's buffer -------------------------------------------------------- */

/* The length of s[0..n) without a last character that is not whole. */
static size_t utf8_cut(const char *s, size_t n)
{
    size_t k = n;
    while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0)
        return 0;
    unsigned char lead = (unsigned char)s[k - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return n - (k - 1) >= need ? n : k - 1;
}

/* Append one step to c; a step that does not fit is cut at a character
 * boundary; none is added once the buffer or the step table is full. */
static void step(fe_chain *c, const char *fmt, ...)
{
    size_t used = 0;
    for (int i = 0; i < c->n; i++)
        used += strlen(c->step[i]) + 1;
    if (c->n == FE_CHAIN_STEPS || used + 2 > sizeof c->buf)
        return;
    char *p = c->buf + used;
    size_t room = sizeof c->buf - used;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(p, room, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    if ((size_t)w >= room)
        p[utf8_cut(p, room - 1)] = '\0';
    if (*p)
        c->step[c->n++] = p;
}

/* s[0..n) as valid UTF-8 in out (size cap): an invalid byte becomes U+FFFD,
 * a control character a space; past FE_CHAIN_QUOTE bytes, "...". Returns out. */
static const char *quote(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0, max = cap - 4 < FE_CHAIN_QUOTE ? cap - 4 : FE_CHAIN_QUOTE;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = fe_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        const char *put = s + i;
        size_t len = (size_t)k;
        if (k < 0)
            put = "\xEF\xBF\xBD", len = 3, k = 1;
        else if (cp < 0x20 || cp == 0x7f)
            put = " ", len = 1;
        if (o + len > max) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, put, len);
        o += len;
        i += (size_t)k;
    }
    out[o] = '\0';
    return out;
}

/* ---- normalisation ---------------------------------------------------------------- */

static const struct {
    unsigned bit;
    const char *name;
} whys[] = {
    {FE_WHY_COMPAT, "full-width/compatibility forms"},
    {FE_WHY_CASE, "case"},
    {FE_WHY_T2S, "traditional->simplified"},
    {FE_WHY_HOMOGLYPH, "look-alike letters"},
    {FE_WHY_DIGIT, "digit variants"},
    {FE_WHY_MARK, "diacritics dropped"},
    {FE_WHY_INVISIBLE, "invisible characters dropped"},
};

/* What the characters of a span went through: FE_WHY_* bits, and its
 * separator runs (a run is cut by a letter, not by a dropped character). */
typedef struct spanwhy {
    unsigned why;
    int runs;        /* separator runs */
    int plain;       /* every run is one ASCII space */
} spanwhy;

static spanwhy span_why(const fe_fold *fold, const char *text, const fe_match *m)
{
    const unsigned char *s = (const unsigned char *)text;
    spanwhy w = {0, 0, 1};
    int in_sep = 0;

    for (size_t i = m->start; i < m->end;) {
        uint32_t cp = 0;
        unsigned why = FE_WHY_SEP;
        int n = fe_utf8_decode(s + i, m->end - i, &cp);
        int cls = n < 0 ? FE_C_SEP : fe_fold_class(fold, cp, &why);
        if (n < 0)
            n = 1;
        w.why |= why;
        if (cls == FE_C_SEP) {
            w.plain &= !in_sep && cp == ' ';
            w.runs += !in_sep;
            in_sep = 1;
        } else if (cls != FE_C_DROP)
            in_sep = 0;
        i += (size_t)n;
    }
    return w;
}

/* Separator bytes of view v whose character (or run) starts inside m. */
static int view_seps(const fe_viewbuf *v, const fe_match *m)
{
    int n = 0;
    for (size_t i = 0; v && i < v->len; i++) {
        unsigned char c = (unsigned char)v->buf[i];
        if (v->src[i] >= m->start && v->src[i] < m->end && c < 0x80 &&
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            n++;
    }
    return n;
}

/* The steps of the fold: one per kind of change, then the separators. */
static void fold_steps(const fe_ruleset *rs, const fe_scratch *sc, const char *text,
                       const fe_match *m, fe_chain *c)
{
    spanwhy w = span_why(rs->fold, text, m);
    for (size_t i = 0; i < sizeof whys / sizeof whys[0]; i++)
        if (w.why & whys[i].bit)
            step(c, "%s", whys[i].name);
    if (w.runs && m->view == FE_VIEW_COMPACT)
        step(c, "separators skipped");
    else if (w.runs && view_seps(fe_scratch_view(sc, FE_VIEW_FOLDED), m) < w.runs)
        step(c, "separators between single letters joined");
    else if (w.runs && !w.plain)
        step(c, "separator runs read as one separator");
}

/* ---- the view's reading --------------------------------------------------------- */

/* The view bytes [*from, *to) behind input bytes [start, end). 0 when none. */
static int view_range(const fe_viewbuf *v, uint32_t start, uint32_t end, size_t *from,
                      size_t *to)
{
    *from = *to = 0;
    for (size_t i = 0; i < v->len; i++)
        if (v->src[i] >= start && v->src[i] < end) {
            if (*to == 0)
                *from = i;
            *to = i + 1;
        }
    return *to > *from;
}

/* The span as its view read it: "Ｆ.u.c.k -> fuck", or how a disguise was seen. */
static void view_step(const fe_ruleset *rs, const fe_viewbuf *v, const char *text,
                      size_t len, const fe_match *m, const fe_entry_info *e, fe_chain *c)
{
    char span[FE_CHAIN_QUOTE + 4], seen[512], read[FE_CHAIN_QUOTE + 4];
    size_t from, to;

    if (!view_range(v, m->start, m->end, &from, &to))
        return;
    quote(text + m->start, m->end - m->start, span, sizeof span);
    if (m->view < FE_NBASE_VIEWS) {
        if (to - from != m->end - m->start || memcmp(v->buf + from, text + m->start, to - from))
            step(c, "%s -> %s", span, quote(v->buf + from, to - from, read, sizeof read));
    } else if (m->view == FE_VIEW_PHONETIC && rs->readings) {
        fe_phonetic_render(rs->readings, v, from, to, seen, sizeof seen);
        step(c, "%s -> %s = %s (read by sound)", span, seen, e->term);
    } else if (m->view == FE_VIEW_SPLIT || m->view == FE_VIEW_SHAPE) {
        if (m->view == FE_VIEW_SPLIT)
            fe_split_render(rs->fold, v, from, to, text, len, seen, sizeof seen);
        else
            fe_shape_render(rs->fold, v, from, to, e->term, seen, sizeof seen);
        step(c, "%s -> %s (%s)", span, e->term, seen);
    } else if (m->view == FE_VIEW_INITIALS)
        step(c, "%s = the pinyin initials of %s", span, e->term);
    else
        step(c, "%s -> %s = %s (%s)", span, quote(v->buf + from, to - from, read, sizeof read),
             e->term,
             m->view == FE_VIEW_EMOJI ? "emoji read as characters"
                                      : "leetspeak, masks and stretching undone");
}

int fe_match_steps(const fe_ruleset *rs, const fe_scratch *sc, const char *text, size_t len,
                   const fe_match *m, fe_chain *c)
{
    const fe_viewbuf *v = fe_scratch_view(sc, m->view);
    fe_entry_info e;

    c->n = c->nfold = 0;
    if (!v || !v->buf || m->end > len || m->start > m->end ||
        fe_entry_get(rs, m->entry, &e) != FE_OK)
        return 0;
    fold_steps(rs, sc, text, m, c);
    c->nfold = c->n;
    view_step(rs, v, text, len, m, &e, c);
    return c->n;
}
