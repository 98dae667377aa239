/* scan.c -- scan a text with a rule set and decide.
 *
 * A scan is one fold pass (without offset maps), the passes of the disguise
 * views the rule set has (views.h; they write their offset maps as they go),
 * and one hs_scan per view. The callback checks whole-word, validators and
 * each disguise view's own test on the view and keeps the match in view
 * offsets; a text that matched is folded again with the offset maps to turn
 * those into input offsets. A disguise match of an entry that a base view
 * matched at the same place is dropped; the others are the disguise-only
 * matches, with the configured action. The decision is made afterwards:
 * allow-lists first, then the strongest action. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"
#include "views.h"
#include "validate.h"

struct fe_scratch {
    const fe_ruleset *rs;
    hs_scratch_t *hs;
    fe_viewbuf views[FE_NVIEWS];
    fe_match *m;
    size_t n;
    unsigned warn;
    fe_clauses clauses;   /* the fold's clause breaks of the text, for the phonetic pass */
    fe_hanseq hans;       /* the fold's reading of the text, for the split pass */
    fe_sylmemo *memo;     /* the phonetic pass's Latin words seen before */
};

fe_scratch *fe_scratch_new(const fe_ruleset *rs, char *err, size_t errlen)
{
    fe_scratch *sc = calloc(1, sizeof *sc);
    if (!sc)
        goto oom;
    sc->rs = rs;
    for (int d = 0; d < NDB; d++)
        if (rs->db[d] && hs_alloc_scratch(rs->db[d], &sc->hs) != HS_SUCCESS) {
            snprintf(err, errlen, "cannot allocate Hyperscan scratch");
            fe_scratch_free(sc);
            return NULL;
        }
    for (int v = 0; v < FE_NVIEWS; v++) {   /* initials, split, shape: in a base view */
        if (v != FE_VIEW_INITIALS && v != FE_VIEW_SHAPE &&
            fe_viewbuf_alloc(rs->fold, &sc->views[v], rs->max_text) < 0)
            goto oom;
    }
    if (!(sc->m = malloc(FE_MAX_MATCHES * sizeof *sc->m)))
        goto oom;
    if (rs->db[DB_PHONETIC] && !(sc->memo = fe_sylmemo_new()))
        goto oom;
    if (rs->splits && !(sc->hans.c = malloc((rs->max_text + 1) * sizeof *sc->hans.c)))
        goto oom;
    return sc;
oom:
    snprintf(err, errlen, "out of memory");
    fe_scratch_free(sc);
    return NULL;
}

void fe_scratch_free(fe_scratch *sc)
{
    if (!sc)
        return;
    hs_free_scratch(sc->hs);
    for (int v = 0; v < FE_NVIEWS; v++)
        fe_viewbuf_free(&sc->views[v]);
    free(sc->m);
    free(sc->hans.c);
    fe_sylmemo_free(sc->memo);
    free(sc);
}

const fe_viewbuf *fe_scratch_view(const fe_scratch *sc, int view)
{
    if (view == FE_VIEW_INITIALS)
        view = FE_VIEW_FOLDED;
    if (view == FE_VIEW_SHAPE)
        view = FE_VIEW_COMPACT;
    return view >= 0 && view < FE_NVIEWS ? &sc->views[view] : NULL;
}

typedef struct scan_ctx {
    fe_scratch *sc;
    const fe_viewbuf *v;
    int view, scene;
    int som_pass;        /* 0: main database; 1: the SOM rescan */
    int regex_hit;       /* the main pass saw a regex: rescan with SOM */
    const char *text;    /* the input, for the disguise views' tests */
    size_t len;
} scan_ctx;

/* A disguise view's own test of a match through view at view bytes [start, end). */
static int disguise_ok(const scan_ctx *c, const rule *r, const fe_entry *e, int view,
                       size_t start, size_t end)
{
    const fe_ruleset *rs = c->sc->rs;
    switch (view) {
    case FE_VIEW_EMOJI:
        return (r->views & FE_VIEW_BIT(view)) != 0;
    case FE_VIEW_SPLIT:
        return (r->views & FE_VIEW_BIT(view)) &&
               fe_split_accept(rs->fold, rs->readings, c->v, c->text, c->len, start, end);
    case FE_VIEW_SHAPE:
        return fe_shape_accept(rs->fold, rs->readings, c->v, start, end, e->term);
    case FE_VIEW_PHONETIC:
        return fe_phonetic_accept(rs->fold, rs->readings, c->v, c->text, c->len, start, end,
                                  e->term, fe_entry_numbers(rs, r->entry)
                                               ? -1 : !!(e->views_on & FE_VIEW_BIT(FE_VIEW_PHONETIC)));
    case FE_VIEW_LEET:
        return fe_leet_accept(rs->fold, c->v, start, end, e->term);
    default:
        return 1;
    }
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *arg)
{
    scan_ctx *c = arg;
    const fe_ruleset *rs = c->sc->rs;
    const rule *r = &rs->rules[id];
    const fe_entry *e = &rs->wl.entries[r->entry];
    const fe_viewbuf *v = c->v;
    size_t end = (size_t)to;
    size_t start = r->vlen ? end - r->vlen : (size_t)from;
    (void)flags;

    if ((e->flags & FE_E_RE) && !c->som_pass) {
        c->regex_hit = 1;
        return 0;
    }
    if (start >= end)
        return 0;
    if (((e->flags & FE_E_WORD) || r->word) && c->view != FE_VIEW_PHONETIC &&
        ((start > 0 && fe_is_alnum((unsigned char)v->buf[start - 1])) ||
         (end < v->len && fe_is_alnum((unsigned char)v->buf[end]))))
        return 0;
    if (e->check == FE_CHECK_IDCARD && !fe_check_idcard(v->buf + start, end - start))
        return 0;
    /* a base view's buffer also holds the patterns of views matched in it */
    int view = c->view < FE_NBASE_VIEWS ? r->view : c->view;
    if (view >= FE_NBASE_VIEWS && !disguise_ok(c, r, e, view, start, end))
        return 0;
    if (c->sc->n == FE_MAX_MATCHES) {
        c->sc->warn |= FE_WARN_TRUNCATED;
        return 1;  /* stop this scan */
    }
    fe_match *m = &c->sc->m[c->sc->n++];
    m->start = (uint32_t)start;   /* view offsets until map_offsets() */
    m->end = (uint32_t)end;
    m->entry = r->entry;
    m->label = e->label;
    m->allow = !!(e->flags & FE_E_ALLOW);
    m->action = (uint8_t)(m->allow ? FE_ALLOW
                                   : fe_policy_action(rs, c->scene, e->label, (fe_action)e->action));
    m->view = (uint8_t)view;
    m->allowed_by = -1;
    return 0;
}

/* Matches hold view offsets; fold again, this time with the offset maps,
 * and turn them into input offsets. Only texts that matched pay for this. */
static void map_offsets(const fe_ruleset *rs, fe_scratch *sc, const char *text, size_t len)
{
    fe_fold_text(rs->fold, text, len, sc->views);
    for (size_t i = 0; i < sc->n; i++) {
        fe_match *m = &sc->m[i];
        if (m->view == FE_VIEW_LEET)
            fe_leet_span(&sc->views[FE_VIEW_LEET], m->start, m->end, text, len, &m->start,
                         &m->end);
        else
            fe_view_span(fe_scratch_view(sc, m->view), m->start, m->end, text, len, &m->start,
                         &m->end);
    }
}

static int cmp_match(const void *a, const void *b)
{
    const fe_match *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1;   /* longer first */
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* A regex reports every end it can reach from one start ("vx" + 3 to 8
 * characters gives six matches): keep the longest, which sorts first. */
static void dedupe(fe_scratch *sc)
{
    size_t k = 0;
    for (size_t i = 0; i < sc->n; i++)
        if (k == 0 || sc->m[i].entry != sc->m[k - 1].entry || sc->m[i].start != sc->m[k - 1].start)
            sc->m[k++] = sc->m[i];
    sc->n = k;
}

/* A disguise match of an entry that a base view (or an earlier disguise view)
 * matched at an overlapping place adds nothing: drop it; so does one of the
 * same span, view and label as an earlier one (spelling variants of a term
 * sound alike). The rest were found only through a disguise view and take
 * the configured action. */
static void disguise_only(const fe_ruleset *rs, fe_scratch *sc)
{
    size_t k = 0;
    for (size_t i = 0; i < sc->n; i++) {
        fe_match *m = &sc->m[i];
        int dup = 0;
        for (size_t j = 0; j < sc->n && !dup && m->view >= FE_NBASE_VIEWS; j++) {
            const fe_match *o = &sc->m[j];
            dup = j != i && ((o->entry == m->entry && o->view < m->view && o->start < m->end &&
                              m->start < o->end) ||   /* a base view found it there */
                             (j < i && o->view == m->view && o->label == m->label &&
                              o->start == m->start && o->end == m->end)); /* 法轮功, 法伦功 */
        }
        if (dup)
            continue;
        if (m->view >= FE_NBASE_VIEWS && !m->allow && m->action != FE_ALLOW && m->label >= 0 &&
            rs->view_action[m->label] >= 0)
            m->action = (uint8_t)rs->view_action[m->label];
        sc->m[k++] = *m;
    }
    sc->n = k;
}

const char *fe_warning_name(int i)
{
    static const char *const names[FE_NWARN] = {"invalid_utf8", "nul", "truncated"};
    return i >= 0 && i < FE_NWARN ? names[i] : "?";
}

/* Allow-lists first, then the strongest action; ties go to the earliest match
 * (matches are sorted by start). */
static void decide(fe_scratch *sc, fe_result *r)
{
    r->decider = -1;
    r->labels = 0;
    for (size_t i = 0; i < sc->n; i++) {
        fe_match *m = &sc->m[i];
        if (m->allow)
            continue;
        for (size_t k = 0; k < sc->n && m->allowed_by < 0; k++)
            if (sc->m[k].allow && sc->m[k].start <= m->start && m->end <= sc->m[k].end)
                m->allowed_by = (int32_t)k;
        if (!fe_match_reported(m))
            continue;
        if (fe_match_counts(m))   /* a label the scene policy allows is not among labels */
            r->labels |= 1u << m->label;
        if (r->decider < 0 || m->action > sc->m[r->decider].action)
            r->decider = (int)i;
    }
    r->decision = r->decider < 0 ? FE_ALLOW : (fe_action)sc->m[r->decider].action;
    if (r->decision == FE_ALLOW)   /* an allowed text has no deciding label */
        r->decider = -1;
    r->label = r->decider < 0 ? -1 : sc->m[r->decider].label;
}

/* Which buffer each database scans (initials are patterns of the folded
 * database; the emoji and split views use the compact one; shape patterns
 * have their own database over the compact view). */
static const struct {
    int view, db;
} scans[] = {
    {FE_VIEW_FOLDED, DB_FOLDED}, {FE_VIEW_COMPACT, DB_COMPACT},
    {FE_VIEW_EMOJI, DB_COMPACT}, {FE_VIEW_PHONETIC, DB_PHONETIC},
    {FE_VIEW_LEET, DB_LEET},     {FE_VIEW_COMPACT, DB_SHAPE},
    {FE_VIEW_SPLIT, DB_COMPACT}, {FE_VIEW_FOLDED, DB_INITIALS},
};

/* Whether the folded view holds a word of two or more letters without a
 * vowel (nmsl, cnm): the only words the initials database can match. */
static int vowelless_word(const fe_viewbuf *v)
{
    size_t run = 0;
    int vowel = 0;
    for (size_t i = 0; i <= v->len; i++) {
        unsigned char c = i < v->len ? (unsigned char)v->buf[i] : ' ';
        if (c >= 'a' && c <= 'z') {
            run++;
            vowel |= (int)(0x104111u >> (c - 'a') & 1);   /* a e i o u */
            continue;
        }
        if (run >= 2 && !vowel && !(c >= '0' && c <= '9'))
            return 1;
        run = 0;
        vowel = 0;
    }
    return 0;
}

/* Whether the folded view holds a Latin letter (or the lead byte of U+0180-
 * U+01BF: the leet view reads NFKC's unfolded ƒ as f). Without one, no
 * character of the text is a letter, and fe_leet_accept wants a third of a
 * match's characters to be real letters: the leet pass can be skipped (most
 * Chinese texts; it is the costliest pass on them after the sound view). */
static int has_letter(const fe_viewbuf *v)
{
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->buf[i];
        if ((c >= 'a' && c <= 'z') || c == 0xc6)
            return 1;
    }
    return 0;
}

/* Whether the phonetic view holds two tokens in a row: every pattern of the
 * phonetic database is two or more tokens without a break (views.h), so a
 * view without such a pair cannot match and is not scanned (an English text
 * of few pinyin-like words). */
static int token_pair(const fe_viewbuf *v)
{
    int run = 0;
    for (size_t i = 0; i < v->len;) {
        if (v->buf[i] == FE_TOK_BREAK) {
            run = 0;
            i++;
        } else if (++run == 2)
            return 1;
        else
            i += 2;
    }
    return 0;
}

/* The disguise views' passes, each only when the rule set uses its view; the
 * emoji view only when the text has an emoji we read, the split view only
 * when it has components to put together (Chinese characters); bits: the
 * fold's FE_FOLD_* (a text without a letter or digit needs no look for
 * Latin letters). */
static void disguise_passes(const fe_ruleset *rs, fe_scratch *sc, const char *text, size_t len,
                            unsigned bits)
{
    size_t emoji = 1;   /* unknown without the phonetic pass */
    if (rs->db[DB_PHONETIC])
        emoji = fe_phonetic_view(rs->fold, rs->readings, text, len, &sc->clauses,
                                 sc->memo, &sc->views[FE_VIEW_PHONETIC]);
    if (!(rs->views_used & FE_VIEW_BIT(FE_VIEW_EMOJI)))
        emoji = 0;   /* no entry has the emoji view */
    if (emoji && rs->readings && rs->db[DB_COMPACT] &&
        fe_emoji_view(rs->fold, rs->readings, text, len, &sc->views[FE_VIEW_EMOJI]) == 0)
        sc->views[FE_VIEW_EMOJI].len = 0;
    if (rs->db[DB_LEET] && (bits & FE_FOLD_WORD) && has_letter(&sc->views[FE_VIEW_FOLDED]))
        fe_leet_view(rs->fold, text, len, &sc->views[FE_VIEW_LEET]);
    if (rs->splits && rs->db[DB_COMPACT] && (bits & FE_FOLD_HAS_HAN) &&
        fe_split_view(rs->fold, rs->splits, text, len, &sc->hans, &sc->views[FE_VIEW_SPLIT]) == 0)
        sc->views[FE_VIEW_SPLIT].len = 0;
}

int fe_scan(const fe_ruleset *rs, fe_scratch *sc, const char *text, size_t len, int scene,
            fe_result *out, char *err, size_t errlen)
{
    if (len > rs->max_text) {
        snprintf(err, errlen, "text is %zu bytes, over the limit of %zu (max-text-bytes)", len,
                 rs->max_text);
        return FE_ETOOLARGE;
    }
    if (scene < 0 || scene >= FE_NSCENES || sc->rs != rs) {
        snprintf(err, errlen, scene < 0 || scene >= FE_NSCENES ? "unknown scene"
                                                               : "scratch made for another ruleset");
        return FE_ERR;
    }
    unsigned bits = len ? fe_fold_text_nomap(rs->fold, text, len, sc->views, &sc->clauses,
                                                sc->hans.c ? &sc->hans : NULL) : 0;
    for (int v = FE_NBASE_VIEWS; v < FE_NVIEWS; v++)
        if (sc->views[v].buf)
            sc->views[v].len = 0;
    if (!len)
        for (int v = 0; v < FE_NBASE_VIEWS; v++)
            sc->views[v].len = 0;
    else
        disguise_passes(rs, sc, text, len, bits);
    sc->n = 0;
    sc->warn = (bits & FE_FOLD_INVALID_UTF8 ? FE_WARN_INVALID_UTF8 : 0) |
               (bits & FE_FOLD_NUL ? FE_WARN_NUL : 0);
    for (size_t k = 0; k < sizeof scans / sizeof scans[0]; k++) {
        int v = scans[k].view, db = scans[k].db;
        if (!rs->db[db] || !sc->views[v].len || (db == DB_INITIALS && (!(bits & FE_FOLD_WORD) || !vowelless_word(&sc->views[v]))) ||
            (db == DB_SHAPE && !(bits & FE_FOLD_HAS_HAN)) ||   /* look-alikes are Chinese */
            (db == DB_PHONETIC && !token_pair(&sc->views[v])))
            continue;
        scan_ctx c = {sc, &sc->views[v], v, scene, 0, 0, text, len};
        hs_error_t he = hs_scan(rs->db[db], sc->views[v].buf, (unsigned)sc->views[v].len, 0,
                                sc->hs, on_match, &c);
        if (he == HS_SUCCESS && c.regex_hit && db < DB_PHONETIC && rs->db[SOM_DB(db)]) {
            c.som_pass = 1;
            he = hs_scan(rs->db[SOM_DB(db)], sc->views[v].buf, (unsigned)sc->views[v].len, 0,
                         sc->hs, on_match, &c);
        }
        if (he != HS_SUCCESS && he != HS_SCAN_TERMINATED) {
            snprintf(err, errlen, "hs_scan failed (%d)", he);
            return FE_ERR;
        }
    }
    if (sc->n)
        map_offsets(rs, sc, text, len);
    qsort(sc->m, sc->n, sizeof *sc->m, cmp_match);
    dedupe(sc);
    disguise_only(rs, sc);
    decide(sc, out);
    out->warnings = sc->warn;
    out->matches = sc->m;
    out->nmatches = sc->n;
    return FE_OK;
}
