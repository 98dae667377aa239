/* fold.c -- the folding table, built from ICU once, and the one-pass fold.
 *
 * Table: one 64-bit entry per code point, in 256-entry pages behind a page
 * index; pages whose entries are all alike (unassigned planes, most of the
 * Han blocks, which map to themselves) are shared. An entry is
 *   bits 0-1 class, 2-7 output length (0 = the input bytes unchanged),
 *   8-15 FE_WHY_* bits, 32-63 offset of the output in the string pool.
 * The fold loop reads one entry per character and never calls ICU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>
#include <unicode/utf16.h>

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
    char *pool;
    size_t poollen, poolcap;
};

/* Load-time state: the ICU services used to build the table. */
typedef struct builder {
    const UNormalizer2 *nfkc, *nfkc_cf, *nfd;
    USpoofChecker *spoof;
    uint32_t *t2s;           /* Han code point -> simplified, 0 = unchanged */
} builder;

static const char *view_names[FE_NVIEWS] = {"folded", "compact"};

const char *fe_view_name(int v) { return v >= 0 && v < FE_NVIEWS ? view_names[v] : "?"; }

int fe_view_lookup(const char *name)
{
    for (int i = 0; i < FE_NVIEWS; i++)
        if (!strcmp(view_names[i], name))
            return i;
    return -1;
}

static inline int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
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

int fe_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    return utf8_decode(s, n, cp);
}

static int utf8_encode(uint32_t c, char *o)
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

/* ---- building the table ------------------------------------------------ */

static int is_han_like(UChar32 c)
{
    UErrorCode e = U_ZERO_ERROR;
    switch (uscript_getScript(c, &e)) {
    case USCRIPT_HAN: case USCRIPT_HIRAGANA: case USCRIPT_KATAKANA:
    case USCRIPT_HANGUL: case USCRIPT_BOPOMOFO: case USCRIPT_YI:
        return 1;
    default:
        return 0;
    }
}

static int homoglyph_script(UChar32 c)
{
    UErrorCode e = U_ZERO_ERROR;
    switch (uscript_getScript(c, &e)) {
    case USCRIPT_LATIN: case USCRIPT_CYRILLIC: case USCRIPT_GREEK:
    case USCRIPT_ARMENIAN: case USCRIPT_CHEROKEE: case USCRIPT_COPTIC:
        return 1;
    default:
        return 0;
    }
}

/* Traditional -> Simplified for every Han code point, in one ICU call over
 * "c\nc\n..." (one call is ~100x faster than one per code point). */
static int build_t2s(builder *b, char *err, size_t errlen)
{
    UErrorCode e = U_ZERO_ERROR;
    UParseError pe;
    UChar id[32];
    size_t cap = 1u << 20, n = 0, cnt = 0;

    u_uastrcpy(id, "Traditional-Simplified");
    UTransliterator *tr = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, &pe, &e);
    UChar *buf = malloc(cap * sizeof *buf);
    UChar32 *cps = malloc(200000 * sizeof *cps);
    b->t2s = calloc(NCP, sizeof *b->t2s);
    if (U_FAILURE(e) || !buf || !cps || !b->t2s) {
        snprintf(err, errlen, "ICU Traditional-Simplified: %s", u_errorName(e));
        goto fail;
    }
    for (UChar32 c = 0x2e80; c < 0x40000 && cnt < 200000; c++) {
        UErrorCode se = U_ZERO_ERROR;
        if (uscript_getScript(c, &se) != USCRIPT_HAN || !u_isalpha(c))
            continue;
        U16_APPEND_UNSAFE(buf, n, c);
        buf[n++] = '\n';
        cps[cnt++] = c;
    }
    int32_t len = (int32_t)n, lim = (int32_t)n;
    utrans_transUChars(tr, buf, &len, (int32_t)cap, 0, &lim, &e);
    if (U_FAILURE(e)) {
        snprintf(err, errlen, "ICU transliteration: %s", u_errorName(e));
        goto fail;
    }
    size_t i = 0, k = 0;
    while (i < (size_t)len && k < cnt) {
        size_t j = i;
        while (j < (size_t)len && buf[j] != '\n')
            j++;
        UChar32 out;
        size_t p = i;
        U16_NEXT(buf, p, j, out);
        if (p == j && out != cps[k])  /* one code point in, one out */
            b->t2s[cps[k]] = (uint32_t)out;
        k++;
        i = j + 1;
    }
    utrans_close(tr);
    free(buf);
    free(cps);
    return 0;
fail:
    if (tr)
        utrans_close(tr);
    free(buf);
    free(cps);
    return -1;
}

static int pool_add(fe_fold *f, const char *s, size_t n, size_t *off)
{
    if (f->poollen + n > f->poolcap) {
        size_t cap = f->poolcap ? f->poolcap * 2 : 65536;
        char *p = realloc(f->pool, cap);
        if (!p)
            return -1;
        f->pool = p;
        f->poolcap = cap;
    }
    memcpy(f->pool + f->poollen, s, n);
    *off = f->poollen;
    f->poollen += n;
    return 0;
}

/* Fold one letter of a Latin-like script: strip diacritics, fold look-alikes. */
static UChar32 fold_letter(const builder *b, UChar32 d, unsigned *why)
{
    UChar s[8], out[32];
    int32_t n = 0;
    UErrorCode e = U_ZERO_ERROR;

    if (d < 0x80 || !homoglyph_script(d))
        return d;
    U16_APPEND_UNSAFE(s, n, d);
    int32_t m = unorm2_normalize(b->nfd, s, n, out, 32, &e);
    if (U_SUCCESS(e) && m > 0) {
        UChar32 base;
        int32_t i = 0;
        U16_NEXT(out, i, m, base);
        if (i < m)
            *why |= FE_WHY_MARK;   /* the rest are combining marks */
        if (base != d && !(*why & FE_WHY_MARK))
            *why |= FE_WHY_COMPAT;
        d = base;
    }
    if (d < 0x80)
        return d;
    char sk[32];
    char in[8];
    int il = utf8_encode((uint32_t)d, in);
    in[il] = '\0';
    e = U_ZERO_ERROR;
    int32_t sl = uspoof_getSkeletonUTF8(b->spoof, 0, in, il, sk, sizeof sk, &e);
    if (U_SUCCESS(e) && sl == 1 && ((sk[0] >= 'a' && sk[0] <= 'z') || (sk[0] >= 'A' && sk[0] <= 'Z'))) {
        *why |= FE_WHY_HOMOGLYPH;
        return sk[0] | 0x20;
    }
    return d;
}

/* Compute the entry of one code point; output bytes go to the pool. */
static int fold_cp(fe_fold *f, const builder *b, UChar32 c, ent_t *ent)
{
    char out[OUT_MAX + 8], self[4];
    size_t olen = 0, off = 0;
    unsigned why = 0;
    int cls;

    int8_t gc = (int8_t)u_charType(c);
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            *ent = ENT(FE_C_WORD, 0, 0, 0);
            return 0;
        }
        if (c >= 'A' && c <= 'Z') {
            out[0] = (char)(c | 0x20);
            cls = FE_C_WORD, why = FE_WHY_CASE, olen = 1;
            goto store;
        }
        out[0] = (c > 0x20 && c < 0x7f) ? (char)c : ' ';
        cls = FE_C_SEP, why = FE_WHY_SEP, olen = 1;
        goto store;
    }
    if (gc == U_FORMAT_CHAR || u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
        *ent = ENT(FE_C_DROP, 0, FE_WHY_INVISIBLE, 0);
        return 0;
    }
    if (gc == U_NON_SPACING_MARK || gc == U_ENCLOSING_MARK) {
        *ent = ENT(FE_C_DROP, 0, FE_WHY_MARK, 0);
        return 0;
    }
    if (gc == U_CONTROL_CHAR || gc == U_UNASSIGNED || gc == U_PRIVATE_USE_CHAR ||
        gc == U_SURROGATE) {
        out[0] = ' ';
        cls = FE_C_SEP, why = FE_WHY_SEP, olen = 1;
        goto store;
    }
    if (gc == U_DECIMAL_DIGIT_NUMBER || gc == U_OTHER_NUMBER || gc == U_LETTER_NUMBER) {
        double v = u_getNumericValue(c);
        if (v >= 0 && v <= 9 && v == (int)v) {
            out[0] = (char)('0' + (int)v);
            cls = FE_C_WORD, why = FE_WHY_DIGIT, olen = 1;
            goto store;
        }
    }

    UChar s[4], nf[64], nk[64];
    int32_t sn = 0;
    UErrorCode e = U_ZERO_ERROR;
    U16_APPEND_UNSAFE(s, sn, c);
    int32_t nn = unorm2_normalize(b->nfkc_cf, s, sn, nf, 64, &e);
    if (U_FAILURE(e))
        nn = 0;
    e = U_ZERO_ERROR;
    int32_t kn = unorm2_normalize(b->nfkc, s, sn, nk, 64, &e);
    if (U_SUCCESS(e) && (kn != sn || memcmp(nk, s, (size_t)sn * sizeof *s)))
        why |= FE_WHY_COMPAT;
    if (U_SUCCESS(e) && (kn != nn || memcmp(nk, nf, (size_t)nn * sizeof *nf)))
        why |= FE_WHY_CASE;

    int han = 0, words = 0;
    UChar32 sep = -1;
    for (int32_t i = 0; i < nn;) {
        UChar32 d;
        U16_NEXT(nf, i, nn, d);
        int8_t dg = (int8_t)u_charType(d);
        if (b->t2s[d]) {
            d = (UChar32)b->t2s[d];
            why |= FE_WHY_T2S;
        }
        if (dg == U_NON_SPACING_MARK || dg == U_ENCLOSING_MARK || dg == U_FORMAT_CHAR)
            continue;
        int alnum = u_isalnum(d) || dg == U_COMBINING_SPACING_MARK || dg == U_LETTER_NUMBER ||
                    dg == U_OTHER_NUMBER;
        if (!alnum) {
            sep = sep == -1 ? d : ' ';
            continue;
        }
        if (is_han_like(d))
            han = 1;
        else
            d = fold_letter(b, d, &why);
        if (olen + 4 > OUT_MAX)
            break;
        olen += (size_t)utf8_encode((uint32_t)d, out + olen);
        words++;
    }
    if (words) {
        cls = han ? FE_C_HAN : FE_C_WORD;
        int sl = utf8_encode((uint32_t)c, self);
        if ((size_t)sl == olen && !memcmp(self, out, olen)) {
            *ent = ENT(cls, 0, why, 0);
            return 0;
        }
    } else {
        cls = FE_C_SEP;
        why |= FE_WHY_SEP;
        out[0] = (sep > 0x20 && sep < 0x7f) ? (char)sep : ' ';
        olen = 1;
    }
store:;
    size_t inlen = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    while (olen > OUT_RATIO * inlen) {   /* cut at a character boundary */
        olen--;
        while (olen && ((unsigned char)out[olen] & 0xc0) == 0x80)
            olen--;
    }
    if (pool_add(f, out, olen, &off) < 0)
        return -1;
    *ent = ENT(cls, olen, why, off);
    return 0;
}

/* Store a page, sharing it with an earlier one when all its entries are alike. */
static int add_page(fe_fold *f, const ent_t *page, uint32_t pageno)
{
    int uniform = 1;
    for (int i = 1; i < 256 && uniform; i++)
        uniform = page[i] == page[0];
    if (uniform)
        for (size_t p = 0; p < f->npages; p++)
            if (f->pages[p][0] == page[0] && f->pages[p][255] == page[0] &&
                !memcmp(f->pages[p], page, sizeof f->pages[p])) {
                f->index[pageno] = (uint16_t)p;
                return 0;
            }
    if ((f->npages & 255) == 0) {
        void *np = realloc(f->pages, (f->npages + 256) * sizeof *f->pages);
        if (!np)
            return -1;
        f->pages = np;
    }
    memcpy(f->pages[f->npages], page, sizeof f->pages[0]);
    f->index[pageno] = (uint16_t)f->npages++;
    return 0;
}

static int build_cjk(fe_fold *f);

fe_fold *fe_fold_build(char *err, size_t errlen)
{
    builder b = {0};
    UErrorCode e = U_ZERO_ERROR;
    fe_fold *f = calloc(1, sizeof *f);
    ent_t page[256];

    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b.nfkc = unorm2_getNFKCInstance(&e);
    b.nfkc_cf = unorm2_getNFKCCasefoldInstance(&e);
    b.nfd = unorm2_getNFDInstance(&e);
    b.spoof = uspoof_open(&e);
    if (U_FAILURE(e)) {
        snprintf(err, errlen, "ICU normalizers: %s", u_errorName(e));
        goto fail;
    }
    if (build_t2s(&b, err, errlen) < 0)
        goto fail;
    for (uint32_t p = 0; p < NPAGES; p++) {
        for (uint32_t i = 0; i < 256; i++)
            if (fold_cp(f, &b, (UChar32)(p << 8 | i), &page[i]) < 0) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
        if (add_page(f, page, p) < 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    f->ascii = f->pages[f->index[0]];
    if (build_cjk(f) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    uspoof_close(b.spoof);
    free(b.t2s);
    return f;
fail:
    if (b.spoof)
        uspoof_close(b.spoof);
    free(b.t2s);
    fe_fold_free(f);
    return NULL;
}

void fe_fold_free(fe_fold *f)
{
    if (!f)
        return;
    free(f->pages);
    free(f->pool);
    free(f->cjk_ent);
    free(f);
}

size_t fe_fold_memory(const fe_fold *f)
{
    size_t ncjk = 0;
    for (uint32_t cp = CJK_START; cp < CJK_END; cp++)
        ncjk += f->cjk[cp - CJK_START] != 0;
    return sizeof *f + f->npages * sizeof f->pages[0] + f->poolcap + ncjk * sizeof(ent_t);
}

static inline ent_t lookup(const fe_fold *f, uint32_t cp)
{
    return f->pages[f->index[cp >> 8]][cp & 255];
}

/* The compact copy of the CJK block; an entry that is not Chinese (none in
 * this block today) is kept in cjk_ent too, so han_run can stop on it. */
static int build_cjk(fe_fold *f)
{
    size_t n = 0;
    for (uint32_t cp = CJK_START; cp < CJK_END; cp++) {
        ent_t e = lookup(f, cp);
        n += !(ENT_CLASS(e) == FE_C_HAN && ENT_LEN(e) == 0);
    }
    if (!(f->cjk_ent = malloc((n ? n : 1) * sizeof *f->cjk_ent)))
        return -1;
    n = 0;
    for (uint32_t cp = CJK_START; cp < CJK_END; cp++) {
        ent_t e = lookup(f, cp);
        if (ENT_CLASS(e) == FE_C_HAN && ENT_LEN(e) == 0) {
            f->cjk[cp - CJK_START] = 0;
            continue;
        }
        f->cjk_ent[n] = e;
        f->cjk[cp - CJK_START] = (uint16_t)++n;
    }
    return 0;
}

int fe_fold_class(const fe_fold *f, uint32_t cp, unsigned *why)
{
    if (cp >= NCP) {
        *why = FE_WHY_SEP;
        return FE_C_SEP;
    }
    ent_t e = lookup(f, cp);
    *why = ENT_WHY(e);
    return ENT_CLASS(e);
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
    int n = utf8_decode((const unsigned char *)text + last, len - last, &cp);
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
 * runs between them (cheaper than writing every character twice). */
static inline void compact(const fe_viewbuf *vf, fe_viewbuf *vc, size_t nsep, const int with_src)
{
    size_t from = 0;
    vc->len = 0;
    for (size_t k = 0; k <= nsep; k++) {
        size_t to = k < nsep ? vf->mark[k] : vf->len;
        memcpy(vc->buf + vc->len, vf->buf + from, to - from);
        if (with_src)
            memcpy(vc->src + vc->len, vf->src + from, (to - from) * sizeof *vc->src);
        vc->len += to - from;
        from = to + 1;
    }
}

/* After a Chinese character: the following three-byte characters that are
 * Chinese too need none of the separator and word bookkeeping, only their
 * folded bytes. Returns where the run ends. */
static inline size_t han_run(const fe_fold *f, const unsigned char *s, size_t i, size_t len,
                             fe_viewbuf *vf, const int with_src)
{
    while (i + 2 < len && (s[i] & 0xf0) == 0xe0 && (s[i + 1] & 0xc0) == 0x80 &&
           (s[i + 2] & 0xc0) == 0x80) {
        uint32_t cp = (uint32_t)(s[i] & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
                      (s[i + 2] & 0x3f);
        ent_t e;
        if (cp >= CJK_START && cp < CJK_END) {
            uint16_t k = f->cjk[cp - CJK_START];
            if (!k) {   /* folds to itself */
                put(vf, (const char *)s + i, 3, (uint32_t)i, with_src);
                i += 3;
                continue;
            }
            e = f->cjk_ent[k - 1];
        } else if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
            break;
        else
            e = lookup(f, cp);
        if (ENT_CLASS(e) != FE_C_HAN)
            break;
        size_t olen = ENT_LEN(e);
        put(vf, olen ? f->pool + ENT_OFF(e) : (const char *)s + i, olen ? olen : 3,
            (uint32_t)i, with_src);
        i += 3;
    }
    return i;
}

static inline unsigned fold(const fe_fold *f, const char *text, size_t len,
                            fe_viewbuf views[FE_NVIEWS], const int with_src)
{
    const unsigned char *s = (const unsigned char *)text;
    fe_viewbuf *vf = &views[FE_VIEW_FOLDED], *vc = &views[FE_VIEW_COMPACT];
    joiner j = {0, 0, 0, NONE};
    unsigned bits = 0;
    size_t nsep = 0;      /* separator bytes of the folded view, at vf->mark[] */
    int sep_pending = 0;
    char sep_ch = ' ';
    uint32_t sep_from = 0;

    vf->len = vc->len = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n;
        ent_t e;
        unsigned char c = s[i];
        if (c < 0x80) {   /* ASCII: no decoding */
            n = 1;
            e = f->ascii[c];
            if (c == 0)
                bits |= FE_FOLD_NUL;
        } else if ((c & 0xf0) == 0xe0 && i + 2 < len && (s[i + 1] & 0xc0) == 0x80 &&
                   (s[i + 2] & 0xc0) == 0x80 &&
                   (cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
                         (s[i + 2] & 0x3f)) >= 0x800 &&
                   (cp < 0xd800 || cp > 0xdfff)) {   /* three bytes: CJK, the common case */
            n = 3;
            e = lookup(f, cp);
        } else if ((n = utf8_decode(s + i, len - i, &cp)) < 0) {
            bits |= FE_FOLD_INVALID_UTF8;
            n = 1;
            e = ENT(FE_C_SEP, 0, FE_WHY_SEP, 0);
        } else
            e = lookup(f, cp);
        uint32_t from = (uint32_t)i;
        int cls = ENT_CLASS(e);
        size_t olen = ENT_LEN(e);
        const char *out = olen ? f->pool + ENT_OFF(e) : text + i;
        if (!olen)
            olen = (size_t)n;
        i += (size_t)n;

        if (cls == FE_C_DROP)
            continue;
        if (cls == FE_C_SEP) {
            token_end(&j, vf, &nsep, &bits, with_src);
            if (!sep_pending) {
                sep_pending = 1;
                sep_ch = ENT_LEN(e) ? *out : ' ';
                sep_from = from;
            } else
                sep_ch = ' ';
            continue;
        }
        if (cls == FE_C_HAN) {
            token_end(&j, vf, &nsep, &bits, with_src);
            j.prev_single = NONE;
            bits |= FE_FOLD_HAS_HAN;
        }
        if (sep_pending) {
            vf->mark[nsep++] = (uint32_t)vf->len;
            put(vf, &sep_ch, 1, sep_from, with_src);
            sep_pending = 0;
        }
        if (cls == FE_C_WORD && j.tok_chars++ == 0) {
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
            }
        } else if (cls == FE_C_HAN)
            i = han_run(f, s, i, len, vf, with_src);
    }
    token_end(&j, vf, &nsep, &bits, with_src);
    compact(vf, vc, nsep, with_src);
    return bits;
}

unsigned fe_fold_text(const fe_fold *f, const char *text, size_t len,
                      fe_viewbuf views[FE_NVIEWS])
{
    return fold(f, text, len, views, 1);
}

unsigned fe_fold_text_nomap(const fe_fold *f, const char *text, size_t len,
                            fe_viewbuf views[FE_NVIEWS])
{
    return fold(f, text, len, views, 0);
}
