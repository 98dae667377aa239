/* readings.c -- the reading tables of readings.h, built from rime data at load time.
 *
 * The dictionary's single-character lines give (character, syllable, share);
 * characters are folded (traditional -> simplified) and the readings of every
 * source of one folded character merged, each syllable at its largest share.
 * Multi-character lines, and the words of rime's essay.txt (the vocabulary
 * with frequencies every rime schema uses), are the word dictionary. Reading sets are interned
 * into tokens; two 256-entry page tables give each code point its text-side
 * and entry-side token. Emoji get the readings of the characters they stand
 * for. Loading takes about 50 ms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foldtab.h"
#include "readings.h"
#include "syllables.h"
#include "views.h"
#include "words.h"
#include "wordlist.h"

#define ENTRY_SHARE 5         /* %: readings an entry's character matches */
#define WORD_MAX 64           /* letters of a typed word that is segmented */
#define WORD_MIN_WEIGHT 10    /* essay.txt words rarer than this are left out */
#define DICT_WORD_WEIGHT 1000 /* the weight of a word luna_pinyin lists and essay.txt does not */
#define FREQ_CPS 0x40000      /* code points whose frequency as a character is kept (CJK) */
#define ENDS_MIN_WEIGHT 100   /* words kept by the sound of their last character, at least */

typedef struct cptok { uint16_t text, entry; } cptok;
typedef struct reading { uint32_t cp, order, freq; uint16_t syl, share; } reading;
typedef struct emoji { uint32_t cp; int n; uint32_t ch[FE_EMOJI_CHARS]; } emoji;

struct fe_readings {
    uint16_t index[NPAGES];      /* page of each 256 code points; 0: the empty page */
    cptok (*pages)[256];
    size_t npages;
    uint16_t (*sets)[FE_SET_MAX + 1];   /* per token: [0] = count, then syllables */
    size_t nsets, setcap;
    uint32_t *sethash;           /* interning: token per slot, 0 empty */
    size_t sethcap;
    fe_syllables syl;            /* the syllables' names */
    uint16_t typed[FE_SYL_MAX];     /* token of the syllable typed in Latin letters */
    uint32_t *with_off;          /* tokens holding syllable s: with_tok[with_off[s] .. with_off[s+1]) */
    uint16_t *with_tok;
    uint8_t *text_tok;           /* 1: the token can occur in a text */
    fe_words words;              /* the dictionary of real words */
    fe_words ends;               /* its longer words by the sound of the last character */
    emoji *emoji;                /* sorted by cp */
    size_t nemoji;
    uint64_t hash;               /* of every line read: part of the lists' version */
};

void fe_rd_note(fe_readings *r, const char *line, size_t n)
{
    r->hash = fe_hash(r->hash, line, n);
}

uint64_t fe_rd_hash(const fe_readings *r)
{
    return r->hash;
}

/* ---- small helpers ------------------------------------------------------- */

static void *realloc_or_free(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        free(p);
    return q;
}

uint32_t fe_rd_fold_han(const fe_fold *f, uint32_t cp)
{
    ent_t e = fe_fold_lookup(f, cp);
    if (ENT_CLASS(e) != FE_C_HAN)
        return 0;
    if (!ENT_LEN(e))
        return cp;
    uint32_t out;
    int n = fe_utf8_decode((const unsigned char *)f->pool + ENT_OFF(e), ENT_LEN(e), &out);
    return n > 0 && (size_t)n == ENT_LEN(e) ? out : 0;
}

/* The token of the syllable set s[0..n) (sorted, no repeats); 0 when full or out of memory. */
static uint16_t intern(fe_readings *r, const uint16_t *s, int n)
{
    if (n <= 0)
        return 0;
    uint64_t h = fe_hash(FE_HASH_INIT, s, (size_t)n * sizeof *s);
    size_t k = h & (r->sethcap - 1);
    for (; r->sethash[k]; k = (k + 1) & (r->sethcap - 1)) {
        const uint16_t *t = r->sets[r->sethash[k]];
        if (t[0] == n && !memcmp(t + 1, s, (size_t)n * sizeof *s))
            return (uint16_t)r->sethash[k];
    }
    if (r->nsets >= FE_TOKENS_MAX || r->nsets * 2 >= r->sethcap)
        return 0;
    if (r->nsets == r->setcap) {
        size_t cap = r->setcap * 2;
        void *p = realloc(r->sets, cap * sizeof *r->sets);
        if (!p)
            return 0;
        r->sets = p;
        r->setcap = cap;
    }
    r->sets[r->nsets][0] = (uint16_t)n;
    memcpy(r->sets[r->nsets] + 1, s, (size_t)n * sizeof *s);
    r->sethash[k] = (uint32_t)r->nsets;
    return (uint16_t)r->nsets++;
}

/* Add syllable x to the sorted set s of *n. */
static void set_put(uint16_t *s, int *n, uint16_t x)
{
    int i = 0;
    while (i < *n && s[i] < x)
        i++;
    if ((i < *n && s[i] == x) || *n == FE_SET_MAX)
        return;
    memmove(s + i + 1, s + i, (size_t)(*n - i) * sizeof *s);
    s[i] = x;
    (*n)++;
}

static cptok *cp_slot(fe_readings *r, uint32_t cp)
{
    uint32_t p = cp >> 8;
    if (!r->index[p]) {
        if ((r->npages & 63) == 0) {
            void *np = realloc(r->pages, (r->npages + 64) * sizeof *r->pages);
            if (!np)
                return NULL;
            r->pages = np;
        }
        memset(r->pages[r->npages], 0, sizeof r->pages[0]);
        r->index[p] = (uint16_t)r->npages++;
    }
    return &r->pages[r->index[p]][cp & 255];
}

/* ---- the dictionary --------------------------------------------------------- */

typedef struct rvec { reading *v; size_t n, cap; } rvec;

static int rvec_push(rvec *rv, uint32_t cp, uint16_t syl, uint16_t share, uint32_t freq)
{
    if (rv->n == rv->cap) {
        size_t cap = rv->cap ? rv->cap * 2 : 1 << 16;
        reading *p = realloc(rv->v, cap * sizeof *p);
        if (!p)
            return -1;
        rv->v = p;
        rv->cap = cap;
    }
    rv->v[rv->n] = (reading){cp, (uint32_t)rv->n, freq, syl, share};
    rv->n++;
    return 0;
}

/* One dictionary line "chars\tsyllables[\tweight]": a character's reading into
 * rv, or a word into the word set. */
static int dict_line(fe_readings *r, const fe_fold *f, char *line, const uint32_t *freq,
                     rvec *rv)
{
    char *tab = strchr(line, '\t');
    if (!tab)
        return 0;
    *tab = '\0';
    char *code = tab + 1, *w = strchr(code, '\t');
    if (w)
        *w++ = '\0';
    const unsigned char *s = (const unsigned char *)line;
    size_t n = strlen(line), i = 0;
    char word[256];
    size_t wl = 0;
    uint32_t cp = 0, first = 0, raw = 0;
    int nch = 0;
    while (i < n) {
        int k = fe_utf8_decode(s + i, n - i, &raw);
        if (k < 0 || !(cp = fe_rd_fold_han(f, raw)) || wl + 4 > sizeof word)
            return 0;   /* not all Chinese: not for us */
        wl += (size_t)fe_utf8_encode(cp, word + wl);
        first = nch++ ? first : cp;
        i += (size_t)k;
    }
    if (nch > 1)
        return fe_words_add(&r->words, word, wl, DICT_WORD_WEIGHT);
    if (nch != 1 || strchr(code, ' '))
        return 0;
    double share = 100;
    if (w && *w && strchr(w, '%'))
        share = strtod(w, NULL);
    int syl = fe_syl_add(&r->syl, code, strlen(code));
    if (syl < 0)
        return 0;
    return rvec_push(rv, first, (uint16_t)syl, (uint16_t)(share + 0.5),
                     raw < FREQ_CPS && freq[raw] ? freq[raw] : 1);
}

static int by_cp(const void *a, const void *b)
{
    const reading *x = a, *y = b;
    return x->cp != y->cp ? (x->cp < y->cp ? -1 : 1) : (x->syl > y->syl) - (x->syl < y->syl);
}

/* Every folded character's text and entry tokens from its merged readings:
 * the text reads it with its most common reading, an entry matches each
 * reading of ENTRY_SHARE or more. The most common reading weighs each
 * character folding into it by how often it is written (essay.txt): 了 is le
 * (了 1,512,483 x 98.9%), not the liao of the rarer 瞭; 听 is ting (聽 32,132),
 * not the yin of the archaic 听 (200); 团 is tuan (團), not qiu. Ties go to the
 * larger share, then to the first listed. */
static int char_tokens(fe_readings *r, rvec *rv)
{
    qsort(rv->v, rv->n, sizeof *rv->v, by_cp);
    for (size_t i = 0; i < rv->n;) {
        uint16_t ts[1], es[FE_SET_MAX];
        int nt = 0, ne = 0;
        size_t j = i;
        double top = -1;
        uint16_t top_share = 0;
        uint32_t top_order = UINT32_MAX;
        for (; j < rv->n && rv->v[j].cp == rv->v[i].cp; j++) {
            uint16_t share = rv->v[j].share;   /* largest share of this syllable */
            uint32_t order = rv->v[j].order;
            double use = (double)rv->v[j].freq * share;   /* how often it is read so */
            size_t k = j + 1;
            for (; k < rv->n && rv->v[k].cp == rv->v[i].cp && rv->v[k].syl == rv->v[j].syl;
                 k++) {
                share = rv->v[k].share > share ? rv->v[k].share : share;
                order = rv->v[k].order < order ? rv->v[k].order : order;
                use += (double)rv->v[k].freq * rv->v[k].share;
            }
            if (use > top || (use == top && (share > top_share ||
                                             (share == top_share && order < top_order)))) {
                top = use;
                top_share = share;
                top_order = order;
                ts[0] = rv->v[j].syl;
                nt = 1;
            }
            if (share >= ENTRY_SHARE)
                set_put(es, &ne, rv->v[j].syl);
            j = k - 1;
        }
        cptok *c = cp_slot(r, rv->v[i].cp);
        if (!c)
            return -1;
        c->text = intern(r, ts, nt);
        c->entry = intern(r, es, ne);
        if (c->text)
            r->text_tok[c->text] = 1;
        i = j;
    }
    return 0;
}

/* essay.txt: "word\tweight" lines, rime's vocabulary with frequencies; the
 * words of WORD_MIN_WEIGHT or more join the word set, and each character's own
 * weight goes to freq[cp] (unfolded: how often 了 and 瞭 are written) and, folded,
 * to the word set as a word of one character. */
static int load_essay(fe_readings *r, const fe_fold *f, const char *path, uint32_t *freq,
                      char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[512], word[256];
    uint32_t cp;
    int rc = 0;
    if (!fp) {
        snprintf(err, errlen, "%s: %s (the real words a sound match must not be; install "
                 "rime-essay, or set sound-data, or turn the sound views off)", path,
                 strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        char *tab = strchr(line, '\t');
        if (!tab || atol(tab + 1) < WORD_MIN_WEIGHT)
            continue;
        fe_rd_note(r, line, strlen(line));
        size_t wl = 0, n = (size_t)(tab - line);
        int k1 = fe_utf8_decode((const unsigned char *)line, n, &cp);
        if (k1 > 0 && (size_t)k1 == n && cp < FREQ_CPS) {
            uint32_t fc = fe_rd_fold_han(f, cp);
            freq[cp] = (uint32_t)atol(tab + 1);
            if (fc)   /* a character as a word of its own: 的 and 了 attach to anything */
                rc = fe_words_add(&r->words, word, (size_t)fe_utf8_encode(fc, word), freq[cp]);
            continue;
        }
        for (size_t i = 0; i < n;) {
            int k = fe_utf8_decode((const unsigned char *)line + i, n - i, &cp);
            if (k < 0 || !(cp = fe_rd_fold_han(f, cp)) || wl + 4 > sizeof word) {
                wl = 0;
                break;
            }
            wl += (size_t)fe_utf8_encode(cp, word + wl);
            i += (size_t)k;
        }
        if (wl > 3)   /* two characters or more */
            rc = fe_words_add(&r->words, word, wl, (uint32_t)atol(tab + 1));
    }
    fclose(fp);
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

static int load_dict(fe_readings *r, const fe_fold *f, const char *path, const uint32_t *freq,
                     char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[1024];
    rvec rv = {0};
    int body = 0, rc = 0;

    if (!fp) {
        snprintf(err, errlen, "%s: %s (the phonetic view's readings; install "
                 "rime-data-luna-pinyin, or set sound-data, or turn the sound views off)",
                 path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!body) {
            body = !strcmp(line, "...");
            continue;
        }
        if (line[0] && line[0] != '#') {
            fe_rd_note(r, line, strlen(line));
            rc = dict_line(r, f, line, freq, &rv);
        }
    }
    fclose(fp);
    if (rc == 0 && !rv.n) {
        snprintf(err, errlen, "%s: no character readings found", path);
        rc = -1;
    } else if (rc == 0 && (rc = char_tokens(r, &rv)) < 0)
        snprintf(err, errlen, "out of memory");
    free(rv.v);
    return rc;
}

/* Typed syllables: each that has a vowel (nü is typed nv, as input methods want). */
static void typed_tokens(fe_readings *r)
{
    for (size_t s = 0; s < r->syl.n; s++) {
        uint16_t one = (uint16_t)s;
        if (!strpbrk(r->syl.name[s], "aeiouv"))
            continue;
        r->typed[s] = intern(r, &one, 1);
        r->text_tok[r->typed[s]] = 1;
    }
}

/* ---- emoji (loaded by emoji.c) ------------------------------------------------ */

int fe_rd_add_emoji(fe_readings *r, uint32_t cp, const uint32_t *ch, int n)
{
    if (n <= 0 || n > FE_EMOJI_CHARS)
        return 0;
    uint16_t tok = fe_rd_token(r, ch[0]);   /* read as its first character */
    cptok *c = tok ? cp_slot(r, cp) : NULL;
    if (!tok)
        return 0;
    if (!c || (r->nemoji % 256 == 0 &&
               !(r->emoji = realloc_or_free(r->emoji, (r->nemoji + 256) * sizeof *r->emoji))))
        return -1;
    c->text = c->entry = tok;
    r->text_tok[tok] = 1;
    emoji *e = &r->emoji[r->nemoji++];
    e->cp = cp;
    e->n = n;
    memcpy(e->ch, ch, (size_t)n * sizeof *ch);
    return 0;
}

static int by_emoji(const void *a, const void *b)
{
    const emoji *x = a, *y = b;
    return (x->cp > y->cp) - (x->cp < y->cp);
}

/* tokens_with: for every syllable, the text-side tokens holding it. */
static int index_tokens(fe_readings *r)
{
    size_t total = 0;
    if (!(r->with_off = calloc(r->syl.n + 1, sizeof *r->with_off)))
        return -1;
    for (size_t t = 1; t < r->nsets; t++)
        if (r->text_tok[t])
            for (int k = 1; k <= r->sets[t][0]; k++)
                r->with_off[r->sets[t][k] + 1]++, total++;
    for (size_t s = 0; s < r->syl.n; s++)
        r->with_off[s + 1] += r->with_off[s];
    if (!(r->with_tok = malloc((total ? total : 1) * sizeof *r->with_tok)))
        return -1;
    uint32_t *fill = calloc(r->syl.n + 1, sizeof *fill);
    if (!fill)
        return -1;
    for (size_t t = 1; t < r->nsets; t++)
        if (r->text_tok[t])
            for (int k = 1; k <= r->sets[t][0]; k++) {
                uint16_t s = r->sets[t][k];
                r->with_tok[r->with_off[s] + fill[s]++] = (uint16_t)t;
            }
    free(fill);
    return 0;
}

/* The key of ends: the characters s[0..n) then text token tok. Its length. */
static size_t end_key(char *key, const char *s, size_t n, uint16_t tok)
{
    memcpy(key, s, n);
    fe_tok_put(key + n, tok);
    return n + 2;
}

/* fe_words_each: a word of three or more characters (ENDS_MIN_WEIGHT or more)
 * into ends, keyed by all but its last character and the last one's text
 * token: 强奸 + fan finds 强奸犯 (fe_rd_word_by_sound). 0 or -1. */
static int add_end(void *ctx, const char *s, size_t n, uint32_t w)
{
    fe_readings *r = ctx;
    char key[256 + 2];
    size_t last = n;   /* where the last character starts */
    uint32_t cp;
    while (last > 0 && ((unsigned char)s[--last] & 0xC0) == 0x80)
        ;
    uint16_t tok = w >= ENDS_MIN_WEIGHT && last >= 6 &&
                           fe_utf8_decode((const unsigned char *)s + last, n - last, &cp) > 0
                       ? fe_rd_token(r, cp) : 0;
    return tok ? fe_words_add(&r->ends, key, end_key(key, s, last, tok), w) : 0;
}

fe_readings *fe_readings_load(const char *dir, const char *lists, const fe_fold *f,
                              char *err, size_t errlen)
{
    char path[4200];
    fe_readings *r = calloc(1, sizeof *r);
    uint32_t *freq = calloc(FREQ_CPS, sizeof *freq);   /* load time only */
    if (!r || !freq)
        goto oom;
    r->setcap = 4096;
    r->sethcap = 1u << 15;
    r->sets = malloc(r->setcap * sizeof *r->sets);
    r->sethash = calloc(r->sethcap, sizeof *r->sethash);
    r->text_tok = calloc(FE_TOKENS_MAX, 1);
    r->npages = 1;
    r->pages = calloc(64, sizeof *r->pages);   /* page 0: nothing */
    if (!r->sets || !r->sethash || !r->text_tok || !r->pages)
        goto oom;
    r->nsets = 1;   /* token 0: none */
    r->hash = FE_HASH_INIT;
    snprintf(path, sizeof path, "%s/essay.txt", dir);
    if (load_essay(r, f, path, freq, err, errlen) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/luna_pinyin.dict.yaml", dir);
    if (load_dict(r, f, path, freq, err, errlen) < 0)
        goto fail;
    free(freq);
    freq = NULL;
    typed_tokens(r);
    if (fe_emoji_load(r, f, dir, lists, err, errlen) < 0)
        goto fail;
    if (r->nemoji)
        qsort(r->emoji, r->nemoji, sizeof *r->emoji, by_emoji);
    if (index_tokens(r) < 0 || fe_words_each(&r->words, add_end, r) < 0)
        goto oom;
    return r;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(freq);
    fe_readings_free(r);
    return NULL;
}

void fe_readings_free(fe_readings *r)
{
    if (!r)
        return;
    free(r->pages);
    free(r->sets);
    free(r->sethash);
    free(r->with_off);
    free(r->with_tok);
    free(r->text_tok);
    fe_words_free(&r->words);
    fe_words_free(&r->ends);
    free(r->emoji);
    free(r);
}

size_t fe_readings_memory(const fe_readings *r)
{
    return sizeof *r + r->npages * sizeof r->pages[0] + r->setcap * sizeof r->sets[0] +
           r->sethcap * sizeof *r->sethash + fe_words_memory(&r->words) +
           fe_words_memory(&r->ends) +
           (r->syl.n + 1) * sizeof *r->with_off + r->with_off[r->syl.n] * sizeof *r->with_tok +
           FE_TOKENS_MAX + r->nemoji * sizeof *r->emoji;
}

/* ---- lookups ------------------------------------------------------------------ */

uint16_t fe_rd_token(const fe_readings *r, uint32_t cp)
{
    return cp < NCP ? r->pages[r->index[cp >> 8]][cp & 255].text : 0;
}

uint16_t fe_rd_entry_token(const fe_readings *r, uint32_t cp)
{
    return cp < NCP ? r->pages[r->index[cp >> 8]][cp & 255].entry : 0;
}

const uint16_t *fe_rd_syllables(const fe_readings *r, uint16_t tok, int *n)
{
    *n = tok && tok < r->nsets ? r->sets[tok][0] : 0;
    return *n ? r->sets[tok] + 1 : NULL;
}

const uint16_t *fe_rd_tokens_with(const fe_readings *r, uint16_t syl, size_t *n)
{
    *n = syl < r->syl.n ? r->with_off[syl + 1] - r->with_off[syl] : 0;
    return *n ? r->with_tok + r->with_off[syl] : NULL;
}

const char *fe_rd_syllable_name(const fe_readings *r, uint16_t syl)
{
    return syl < r->syl.n ? r->syl.name[syl] : "?";
}

int fe_rd_syllable(const fe_readings *r, const char *s)
{
    return fe_syl_find(&r->syl, s, strlen(s));
}

uint16_t fe_rd_typed(const fe_readings *r, const char *s, size_t n)
{
    int i = fe_syl_find(&r->syl, s, n);
    return i < 0 ? 0 : r->typed[i];
}

int fe_rd_segment(const fe_readings *r, const char *s, size_t n, uint16_t *toks, uint8_t *ends,
                  int max)
{
    uint8_t best[WORD_MAX + 1], from[WORD_MAX + 1];
    if (n == 0 || n > WORD_MAX)
        return 0;
    memset(best, 0xff, sizeof best);
    best[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (best[i] == 0xff)
            continue;
        for (size_t l = 1; l <= FE_SYL_LEN - 1 && i + l <= n && fe_syl_prefix(&r->syl, s + i, l); l++)
            if (best[i] + 1 < best[i + l] && fe_rd_typed(r, s + i, l)) {
                best[i + l] = (uint8_t)(best[i] + 1);
                from[i + l] = (uint8_t)i;
            }
    }
    if (best[n] == 0xff || best[n] > max)
        return 0;
    int k = best[n];
    for (size_t e = n; e > 0; e = from[e]) {
        k--;
        ends[k] = (uint8_t)e;
        toks[k] = fe_rd_typed(r, s + from[e], e - from[e]);
    }
    return best[n];
}

uint32_t fe_rd_word(const fe_readings *r, const char *s, size_t n)
{
    return fe_words_weight(&r->words, s, n);
}

uint32_t fe_rd_word_by_sound(const fe_readings *r, const char *s, size_t n, uint16_t tok)
{
    char key[256 + 2];
    return n <= 256 && tok ? fe_words_weight(&r->ends, key, end_key(key, s, n, tok)) : 0;
}

int fe_rd_emoji(const fe_readings *r, uint32_t cp, const uint32_t **chars)
{
    size_t lo = 0, hi = r->nemoji;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->emoji[mid].cp == cp) {
            *chars = r->emoji[mid].ch;
            return r->emoji[mid].n;
        }
        if (r->emoji[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}
