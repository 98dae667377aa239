/* phonetic.c -- the phonetic view: a text read as Mandarin syllables, and an entry's patterns.
 *
 * Each Chinese character becomes the token of its readings (readings.h), each
 * Latin word that splits into pinyin syllables one token per syllable
 * ("falungong", "Fa Lun Gong", the "gong" of "fa轮gong"), a lone digit the
 * token of its Chinese name (4 -> si) and an emoji the readings of the
 * characters it stands for (⌚ -> biao). Separators are skipped, as in the
 * compact view, but one that ends a clause is a break (fe_clause_break), as
 * is anything without a reading. An entry becomes one
 * position per character, each matching any of the character's readings, so
 * an entry's polyphones match by any of their sounds; with sound-fuzzy, one
 * syllable may be a near one (普信率 for 普信女). Which matches are disguises
 * rather than real words is sounds.c's concern. The syllable split of a Latin
 * word is kept in the scratch's Latin memo (fe_sylmemo), so the common words
 * of English texts are split once, not in every text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "foldtab.h"
#include "views.h"

#define WORD_LETTERS 64       /* a longer Latin word is a break */
#define FUZZY_MAX 8           /* a syllable and its fuzzy variants, at most */
#define FUZZY_MIN 2           /* characters an entry needs for fuzzy syllables by default */

#define MEMO_SLOTS 1024       /* words the Latin memo keeps (a power of two) */
#define MEMO_LETTERS 12       /* longer words are split every time */

static const char *const digit_syl[10] = {"ling", "yi", "er", "san", "si",
                                          "wu", "liu", "qi", "ba", "jiu"};

/* ---- the view --------------------------------------------------------------- */

static inline void emit(fe_viewbuf *v, uint16_t tok, uint32_t from, uint32_t last, uint32_t mark)
{
    fe_tok_put(v->buf + v->len, tok);
    v->src[v->len] = from;
    v->src[v->len + 1] = last;
    v->mark[v->len] = v->mark[v->len + 1] = mark;
    v->len += 2;
}

static inline void brk(fe_viewbuf *v, uint32_t from)
{
    if (!v->len || v->buf[v->len - 1] == FE_TOK_BREAK)
        return;
    v->buf[v->len] = FE_TOK_BREAK;
    v->src[v->len] = from;
    v->mark[v->len] = 0;
    v->len++;
}

/* The Latin memo: the last answer of fe_rd_segment for each slot's word. An
 * English text is mostly words no syllable split fits, and a post's words are
 * mostly the few hundred common ones: the DP per word was a sixth of the scan
 * of an English post; a hit costs a hash and a compare. */
struct fe_sylmemo {
    const fe_readings *r;     /* the readings the answers are of */
    struct memo_slot {
        char c[MEMO_LETTERS];
        uint8_t n;            /* letters; 0: an empty slot */
        uint8_t k;            /* fe_rd_segment's answer (0: no split) */
        uint8_t ends[MEMO_LETTERS];
        uint16_t toks[MEMO_LETTERS];
    } slot[MEMO_SLOTS];
};

fe_sylmemo *fe_sylmemo_new(void)
{
    return calloc(1, sizeof(fe_sylmemo));
}

void fe_sylmemo_free(fe_sylmemo *m)
{
    free(m);
}

/* fe_rd_segment of the n letters at c, through the memo m (may be NULL). */
static int segment(const fe_readings *r, fe_sylmemo *m, const char *c, size_t n, uint16_t *toks,
                   uint8_t *ends, int max)
{
    if (!m || n > MEMO_LETTERS || max < MEMO_LETTERS)
        return fe_rd_segment(r, c, n, toks, ends, max);
    if (m->r != r) {   /* answers of other readings */
        memset(m->slot, 0, sizeof m->slot);
        m->r = r;
    }
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)c[i]) * 16777619u;
    struct memo_slot *sl = &m->slot[(h ^ h >> 15) & (MEMO_SLOTS - 1)];
    if (sl->n != n || memcmp(sl->c, c, n)) {
        int k = fe_rd_segment(r, c, n, sl->toks, sl->ends, MEMO_LETTERS);
        memcpy(sl->c, c, n);
        sl->n = (uint8_t)n;
        sl->k = (uint8_t)(k > 0 ? k : 0);
    }
    memcpy(toks, sl->toks, sl->k * sizeof *toks);
    memcpy(ends, sl->ends, sl->k);
    return sl->k;
}

typedef struct word {
    char c[WORD_LETTERS];
    uint32_t at[WORD_LETTERS];    /* input offset of each letter */
    size_t n;
    int bad;                      /* too long, or a letter that is not ASCII */
} word;

static void flush_word(const fe_readings *r, fe_sylmemo *m, word *w, fe_viewbuf *v)
{
    uint16_t toks[WORD_LETTERS];
    uint8_t ends[WORD_LETTERS];
    int k = 0, digit = w->n == 1 && w->c[0] >= '0' && w->c[0] <= '9';
    if (digit) {
        const char *s = digit_syl[w->c[0] - '0'];
        uint16_t t = fe_rd_typed(r, s, strlen(s));
        if (t)
            emit(v, t, w->at[0], w->at[0], FE_PM_DIGIT);
        else
            brk(v, w->at[0]);
    } else if (!w->bad && (k = segment(r, m, w->c, w->n, toks, ends, WORD_LETTERS)) > 0) {
        for (int i = 0, from = 0; i < k; from = ends[i++])
            emit(v, toks[i], w->at[from], w->at[ends[i] - 1],
                 FE_PM_LATIN | (i == 0 ? FE_PM_WSTART : 0) | (i == k - 1 ? FE_PM_WEND : 0));
    } else
        brk(v, w->n ? w->at[0] : 0);
    w->n = 0;
    w->bad = 0;
}

/* The Latin word read so far, if any, into the view (most calls find none). */
static inline void flush(const fe_readings *r, fe_sylmemo *m, word *w, fe_viewbuf *v)
{
    if (w->n || w->bad)
        flush_word(r, m, w, v);
}

size_t fe_phonetic_view(const fe_fold *f, const fe_readings *r, const char *text, size_t len,
                        const fe_clauses *cl, fe_sylmemo *memo, fe_viewbuf *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t emoji = 0, k = 0;   /* k: cursor into cl */
    int clause = 0;   /* this separator run's clause mark was seen */
    word w;
    w.n = 0;
    w.bad = 0;
    out->len = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80 && ENT_CLASS(f->ascii[s[i]]) == FE_C_WORD && !ENT_LEN(f->ascii[s[i]])) {
            clause = 0;   /* an ASCII letter or digit that folds to itself: the word branch below */
            if (w.n == WORD_LETTERS)
                w.bad = 1;
            else {
                w.c[w.n] = (char)s[i];
                w.at[w.n++] = (uint32_t)i;
            }
            i++;
            continue;
        }
        uint32_t cp = fe_cjk_self_at(f, s + i, len - i);
        if (cp) {   /* Chinese characters that fold to themselves: the Chinese branch below */
            clause = 0;
            flush(r, memo, &w, out);
            do {
                uint16_t tok = fe_rd_token(r, cp);
                if (!tok)
                    brk(out, (uint32_t)i);
                else
                    emit(out, tok, (uint32_t)i, (uint32_t)i, 0);
                i += 3;
            } while ((cp = fe_cjk_self_at(f, s + i, len - i)));
            continue;
        }
        int n = fe_utf8_decode_inline(s + i, len - i, &cp);
        if (n < 0) {
            flush(r, memo, &w, out);
            brk(out, (uint32_t)i++);
            continue;
        }
        ent_t e = cp < 0x80 ? f->ascii[cp] : fe_fold_lookup(f, cp);
        int cls = ENT_CLASS(e);
        uint32_t at = (uint32_t)i;
        size_t olen = ENT_LEN(e);
        const unsigned char *o = olen ? (const unsigned char *)f->pool + ENT_OFF(e) : s + i;
        i += (size_t)n;
        if (cls == FE_C_DROP)
            continue;
        if (cls != FE_C_SEP)
            clause = 0;
        if (cls == FE_C_WORD) {
            if ((olen ? olen : (size_t)n) != 1 || o[0] >= 0x80 || w.n == WORD_LETTERS)
                w.bad = 1;
            else {
                w.c[w.n] = (char)o[0];
                w.at[w.n++] = at;
            }
            continue;
        }
        flush(r, memo, &w, out);
        uint16_t tok = 0;
        if (cls == FE_C_HAN) {
            uint32_t c = cp;
            if (olen)
                fe_utf8_decode_inline(o, olen, &c);
            if (!(tok = fe_rd_token(r, c)))
                brk(out, at);
            else
                emit(out, tok, at, at, 0);
        } else if (cp >= 0x2000 && (tok = fe_rd_token(r, cp))) {
            emit(out, tok, at, at, FE_PM_EMOJI);
            emoji++;
        } else if (ENT_CLAUSE(e) && !clause) {   /* as in the compact view */
            clause = 1;
            if (fe_clause_break_at(f, cl, &k, text, len, at))
                brk(out, at);
        }
    }
    flush(r, memo, &w, out);
    return emoji;
}

/* ---- entries ---------------------------------------------------------------- */

int fe_phonetic_positions(const fe_fold *f, const fe_readings *r, const char *term, uint32_t *ch,
                          uint16_t *tok)
{
    const unsigned char *s = (const unsigned char *)term;
    size_t len = strlen(term);
    int k = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = fe_utf8_decode_inline(s + i, len - i, &cp);
        if (n < 0)
            return -1;
        i += (size_t)n;
        ent_t e = fe_fold_lookup(f, cp);
        int cls = ENT_CLASS(e);
        uint32_t c = 0;
        uint16_t t;
        if (cls == FE_C_DROP || (cls == FE_C_SEP && !fe_rd_token(r, cp)))
            continue;
        if (cls == FE_C_WORD || k == FE_SOUND_POS)
            return -1;
        if (cls == FE_C_HAN) {
            if (!(c = fe_rd_fold_han(f, cp)) || !(t = fe_rd_entry_token(r, c)))
                return -1;
        } else
            t = fe_rd_token(r, cp);
        ch[k] = c;
        tok[k++] = t;
    }
    return k;
}

/* Add the syllable spelled s (if it exists and is new) to out. */
static void fuzzy_add(const fe_readings *r, const char *s, uint16_t *out, int *n, int max)
{
    int k = fe_rd_syllable(r, s);
    for (int i = 0; i < *n && k >= 0; i++)
        if (out[i] == k)
            k = -1;
    if (k >= 0 && *n < max)
        out[(*n)++] = (uint16_t)k;
}

/* Syllable syl and the syllables the input methods' fuzzy options take for it
 * (zh/z, ch/c, sh/s, n/l, f/h; ang/an, eng/en, ing/in): into out, how many. */
static int fuzzy_of(const fe_readings *r, uint16_t syl, uint16_t *out, int max)
{
    static const char *const tails[][2] = {{"ang", "an"}, {"eng", "en"}, {"ing", "in"}};
    char head[16], b[16];
    const char *s = fe_rd_syllable_name(r, syl);
    int n = 0;
    if (max <= 0)
        return 0;
    out[n++] = syl;
    head[0] = '\0';   /* the head swapped: zh <-> z, ch <-> c, sh <-> s, n <-> l, f <-> h */
    if (strchr("zcs", s[0]) && s[1] == 'h')
        snprintf(head, sizeof head, "%c%s", s[0], s + 2);
    else if (strchr("zcs", s[0]))
        snprintf(head, sizeof head, "%ch%s", s[0], s + 1);
    else if (s[0] == 'n' || s[0] == 'l')
        snprintf(head, sizeof head, "%c%s", s[0] == 'n' ? 'l' : 'n', s + 1);
    else if (s[0] == 'f' || s[0] == 'h')
        snprintf(head, sizeof head, "%c%s", s[0] == 'f' ? 'h' : 'f', s + 1);
    if (head[0])
        fuzzy_add(r, head, out, &n, max);
    const char *v[2] = {s, head};
    for (int j = 0; j < 2; j++)   /* the tail swapped, on both: an <-> ang ... */
        for (size_t t = 0; t < 3 && v[j][0]; t++) {
            size_t lv = strlen(v[j]), lx = strlen(tails[t][0]), ly = strlen(tails[t][1]);
            if (lv > lx && !strcmp(v[j] + lv - lx, tails[t][0]))
                snprintf(b, sizeof b, "%.*s%s", (int)(lv - lx), v[j], tails[t][1]);
            else if (lv > ly && !strcmp(v[j] + lv - ly, tails[t][1]))
                snprintf(b, sizeof b, "%.*s%s", (int)(lv - ly), v[j], tails[t][0]);
            else
                continue;
            fuzzy_add(r, b, out, &n, max);
        }
    return n;
}

/* The text tokens a character of entry token tok matches: one per reading (and
 * per fuzzy variant of it), those a text can hold. Returns how many (<= max). */
static int options(const fe_readings *r, uint16_t tok, int fuzzy, uint16_t *opt, int max)
{
    int ns, no = 0;
    const uint16_t *syl = fe_rd_syllables(r, tok, &ns);
    for (int k = 0; k < ns; k++) {
        uint16_t var[FUZZY_MAX];
        int nv = fuzzy ? fuzzy_of(r, syl[k], var, FUZZY_MAX) : (var[0] = syl[k], 1);
        for (int j = 0; j < nv && no < max; j++) {
            size_t nt;
            const uint16_t *t = fe_rd_tokens_with(r, var[j], &nt);
            int dup = !nt;
            for (int i = 0; i < no && !dup; i++)
                dup = opt[i] == t[0];
            if (!dup)
                opt[no++] = t[0];
        }
    }
    return no;
}

/* Append to out[*k] one literal per choice of option at each position (an
 * odometer over opt[i][0..no[i])), until FE_SOUND_VARIANTS. */
static void odometer(int n, uint16_t (*opt)[FE_SET_MAX], const int *no, char **out, int *k)
{
    int pick[FE_SOUND_POS] = {0};
    while (*k < FE_SOUND_VARIANTS) {
        char *p = malloc((size_t)n * 2);
        if (!p)
            return;
        for (int i = 0; i < n; i++) {
            fe_tok_put(p + 2 * i, opt[i][pick[i]]);
        }
        out[(*k)++] = p;
        int i = n - 1;
        while (i >= 0 && ++pick[i] == no[i])
            pick[i--] = 0;
        if (i < 0)
            return;
    }
}

int fe_phonetic_patterns(const fe_fold *f, const fe_readings *r, const char *term, int fuzzy,
                         char **out, uint32_t *vlen)
{
    uint32_t ch[FE_SOUND_POS];
    uint16_t tok[FE_SOUND_POS], opt[FE_SOUND_POS][FE_SET_MAX], fz[FE_SET_MAX];
    int no[FE_SOUND_POS], n = fe_phonetic_positions(f, r, term, ch, tok), k = 0;
    if (n < 2)
        return 0;
    for (int i = 0; i < n; i++)
        if (!(no[i] = options(r, tok[i], 0, opt[i], FE_SET_MAX)))
            return 0;
    *vlen = (uint32_t)n * 2;
    odometer(n, opt, no, out, &k);   /* every reading of each polyphone */
    if (fuzzy == FE_FUZZY_OFF || (fuzzy == FE_FUZZY_LONG && n < FUZZY_MIN))
        return k;
    for (int i = 0; i < n; i++) {    /* one syllable fuzzy (普信率), the others exact */
        int nf = options(r, tok[i], 1, fz, FE_SET_MAX), keep = no[i], m = 0;
        uint16_t exact[FE_SET_MAX];
        memcpy(exact, opt[i], sizeof exact);
        for (int j = 0; j < nf; j++) {
            int dup = 0;
            for (int x = 0; x < keep; x++)
                dup |= exact[x] == fz[j];
            if (!dup)
                opt[i][m++] = fz[j];
        }
        if (m) {
            no[i] = m;
            odometer(n, opt, no, out, &k);
        }
        memcpy(opt[i], exact, sizeof exact);
        no[i] = keep;
    }
    return k;
}

void fe_phonetic_render(const fe_readings *r, const fe_viewbuf *v, size_t from, size_t to,
                        char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = from; i < to && o + 1 < n;) {
        unsigned char b = (unsigned char)v->buf[i];
        if (b < 0x80) {
            o += (size_t)snprintf(buf + o, n - o, "%s|", o ? " " : "");
            i++;
            continue;
        }
        uint16_t tok = fe_tok_get(v->buf + i);
        int ns;
        const uint16_t *s = fe_rd_syllables(r, tok, &ns);
        for (int k = 0; k < ns && o + 1 < n; k++)
            o += (size_t)snprintf(buf + o, n - o, "%s%s", k ? "/" : o ? " " : "",
                                  fe_rd_syllable_name(r, s[k]));
        i += 2;
    }
}
