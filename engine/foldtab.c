/* foldtab.c -- the folding table, built once from ICU when the lists load.
 *
 * Every code point is run through ICU: NFKC with case folding, then
 * Traditional -> Simplified (one transliteration of every Han code point),
 * diacritics stripped and look-alike letters of Latin-like scripts folded
 * to Latin through the confusable skeletons (of the letter as written, so
 * that capitals are compared with capitals), digit variants to ASCII digits,
 * invisible and format characters dropped. The result goes into the table of
 * foldtab.h, which the fold loop (fold.c) reads without calling ICU. Building
 * it takes about 0.1 s. */
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

#include "foldtab.h"

/* Load-time state: the ICU services used to build the table. */
typedef struct builder {
    const UNormalizer2 *nfkc, *nfkc_cf, *nfd;
    USpoofChecker *spoof;
    uint32_t *t2s;           /* Han code point -> simplified, 0 = unchanged */
} builder;

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
    int il = fe_utf8_encode((uint32_t)d, in);
    in[il] = '\0';
    e = U_ZERO_ERROR;
    int32_t sl = uspoof_getSkeletonUTF8(b->spoof, 0, in, il, sk, sizeof sk, &e);
    if (U_SUCCESS(e) && sl == 1 && ((sk[0] >= 'a' && sk[0] <= 'z') || (sk[0] >= 'A' && sk[0] <= 'Z'))) {
        *why |= FE_WHY_HOMOGLYPH;
        return sk[0] | 0x20;
    }
    return d;
}

/* The Latin letter that letter d of a Latin-like script looks like, as
 * written (upper or lower case), or -1. The skeleton of Latin I is l, so a
 * capital whose skeleton is l is an I. */
static UChar32 skeleton_letter(const builder *b, UChar32 d, unsigned *why)
{
    UChar s[4], out[32];
    int32_t n = 0, i = 0;
    UErrorCode e = U_ZERO_ERROR;
    unsigned w = FE_WHY_HOMOGLYPH;

    if (d < 0x80 || !homoglyph_script(d) || !u_isalpha(d))
        return -1;
    int upper = u_isupper(d) || u_istitle(d);
    U16_APPEND_UNSAFE(s, n, d);
    int32_t m = unorm2_normalize(b->nfd, s, n, out, 32, &e);
    UChar32 base = d;
    if (U_SUCCESS(e) && m > 0) {
        U16_NEXT(out, i, m, base);
        if (i < m)
            w |= FE_WHY_MARK;   /* the rest are combining marks */
    }
    if (base < 0x80)
        return -1;   /* a Latin letter with marks: fold_general strips them */
    char in[8], sk[32];
    int il = fe_utf8_encode((uint32_t)base, in);
    e = U_ZERO_ERROR;
    int32_t sl = uspoof_getSkeletonUTF8(b->spoof, 0, in, il, sk, sizeof sk, &e);
    char lower = (char)(sk[0] | 0x20);
    if (U_FAILURE(e) || sl != 1 || lower < 'a' || lower > 'z')
        return -1;
    if (sk[0] <= 'Z' || upper)
        w |= FE_WHY_CASE;
    *why |= w;
    return sk[0] == 'l' && upper ? 'i' : lower;
}

/* A letter that looks like a Latin one as written folds to it before case
 * folding does: Greek Η Ν Κ Τ and Cyrillic Н В К М Т case-fold to η ν κ τ
 * and н в к м т, which look like n, v or small capitals, and NFKC turns the
 * lunate sigmas Ϲ ϲ (which look like C c) into Σ σ. Letters whose
 * NFKC_Casefold is ASCII (full-width, mathematical, long s) keep that. The
 * letter itself is tried, then its NFKC form (mathematical capitals). -1:
 * not such a letter. */
static UChar32 written_lookalike(const builder *b, UChar32 c, unsigned *why)
{
    UChar s[4], nf[64];
    int32_t n = 0, i = 0;
    UErrorCode e = U_ZERO_ERROR;
    UChar32 d;

    U16_APPEND_UNSAFE(s, n, c);
    int32_t nn = unorm2_normalize(b->nfkc_cf, s, n, nf, 64, &e);
    if (U_FAILURE(e) || nn < 1)
        return -1;
    U16_NEXT(nf, i, nn, d);
    UChar nd[32];
    int32_t dn = i == nn ? unorm2_normalize(b->nfd, nf, nn, nd, 32, &e) : 0;
    if (U_SUCCESS(e) && dn > 0 && nd[0] < 0x80)
        return -1;   /* ASCII after NFKC_Casefold, marks stripped (ｆ is f, ẛ is s) */
    UChar32 r = skeleton_letter(b, c, why);
    if (r >= 0)
        return r;
    e = U_ZERO_ERROR;
    nn = unorm2_normalize(b->nfkc, s, n, nf, 64, &e);
    if (U_FAILURE(e) || nn < 1)
        return -1;
    i = 0;
    U16_NEXT(nf, i, nn, d);
    if (i != nn || d == c || (r = skeleton_letter(b, d, why)) < 0)
        return -1;
    *why |= FE_WHY_COMPAT;
    return r;
}

/* How one code point folds, before it becomes a table entry. */
typedef struct folded {
    int cls;                  /* enum fe_class */
    unsigned why;             /* FE_WHY_* */
    char out[OUT_MAX + 8];
    size_t len;
    int self;                 /* the output is the input's own bytes */
} folded;

static void as_sep(folded *o, UChar32 ch)
{
    o->cls = FE_C_SEP;
    o->why |= FE_WHY_SEP;
    o->out[0] = (ch > 0x20 && ch < 0x7f) ? (char)ch : ' ';
    o->len = 1;
}

static void fold_ascii(UChar32 c, folded *o)
{
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        o->cls = FE_C_WORD;
        o->self = 1;
    } else if (c >= 'A' && c <= 'Z') {
        o->cls = FE_C_WORD;
        o->why = FE_WHY_CASE;
        o->out[0] = (char)(c | 0x20);
        o->len = 1;
    } else
        as_sep(o, c);
}

/* Characters that their general category decides: invisible, marks,
 * controls and unassigned, digits. 1 when c is one of them. */
static int fold_by_category(UChar32 c, folded *o)
{
    int8_t gc = (int8_t)u_charType(c);
    int invisible = gc == U_FORMAT_CHAR ||
                    u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
    if (invisible || gc == U_NON_SPACING_MARK || gc == U_ENCLOSING_MARK) {
        o->cls = FE_C_DROP;
        o->why = invisible ? FE_WHY_INVISIBLE : FE_WHY_MARK;
        o->self = 1;
        return 1;
    }
    if (gc == U_CONTROL_CHAR || gc == U_UNASSIGNED || gc == U_PRIVATE_USE_CHAR ||
        gc == U_SURROGATE) {
        as_sep(o, ' ');
        return 1;
    }
    if (gc == U_DECIMAL_DIGIT_NUMBER || gc == U_OTHER_NUMBER || gc == U_LETTER_NUMBER) {
        double v = u_getNumericValue(c);
        if (v >= 0 && v <= 9 && v == (int)v) {
            o->cls = FE_C_WORD;
            o->why = FE_WHY_DIGIT;
            o->out[0] = (char)('0' + (int)v);
            o->len = 1;
            return 1;
        }
    }
    return 0;
}

/* NFKC_Casefold into nf (returns its length); the COMPAT and CASE bits. */
static int32_t normalise(const builder *b, UChar32 c, UChar nf[64], unsigned *why)
{
    UChar s[4], nk[64];
    int32_t sn = 0;
    UErrorCode e = U_ZERO_ERROR;
    U16_APPEND_UNSAFE(s, sn, c);
    int32_t nn = unorm2_normalize(b->nfkc_cf, s, sn, nf, 64, &e);
    if (U_FAILURE(e))
        nn = 0;
    e = U_ZERO_ERROR;
    int32_t kn = unorm2_normalize(b->nfkc, s, sn, nk, 64, &e);
    if (U_SUCCESS(e) && (kn != sn || memcmp(nk, s, (size_t)sn * sizeof *s)))
        *why |= FE_WHY_COMPAT;
    if (U_SUCCESS(e) && (kn != nn || memcmp(nk, nf, (size_t)nn * sizeof *nf)))
        *why |= FE_WHY_CASE;
    return nn;
}

/* Everything else: normalised, then each resulting character simplified,
 * stripped and folded; no letter or digit left makes it a separator. */
static void fold_general(const builder *b, UChar32 c, folded *o)
{
    UChar nf[64];
    UChar32 look = written_lookalike(b, c, &o->why);
    if (look >= 0) {
        o->cls = FE_C_WORD;
        o->out[0] = (char)look;
        o->len = 1;
        return;
    }
    int32_t nn = normalise(b, c, nf, &o->why);
    int han = 0, words = 0;
    UChar32 sep = -1;

    for (int32_t i = 0; i < nn;) {
        UChar32 d;
        U16_NEXT(nf, i, nn, d);
        int8_t dg = (int8_t)u_charType(d);
        if (b->t2s[d]) {
            d = (UChar32)b->t2s[d];
            o->why |= FE_WHY_T2S;
        }
        if (dg == U_NON_SPACING_MARK || dg == U_ENCLOSING_MARK || dg == U_FORMAT_CHAR)
            continue;
        if (!(u_isalnum(d) || dg == U_COMBINING_SPACING_MARK || dg == U_LETTER_NUMBER ||
              dg == U_OTHER_NUMBER)) {
            sep = sep == -1 ? d : ' ';
            continue;
        }
        if (is_han_like(d))
            han = 1;
        else
            d = fold_letter(b, d, &o->why);
        if (o->len + 4 > OUT_MAX)
            break;
        o->len += (size_t)fe_utf8_encode((uint32_t)d, o->out + o->len);
        words++;
    }
    if (!words) {
        as_sep(o, sep);
        return;
    }
    char self[4];
    o->cls = han ? FE_C_HAN : FE_C_WORD;
    o->self = (size_t)fe_utf8_encode((uint32_t)c, self) == o->len && !memcmp(self, o->out, o->len);
}

/* Punctuation that ends a clause or sentence, and line breaks (ENT_CLAUSE).
 * Not the colon, which introduces what follows (微信：abc). */
static int clause_mark(UChar32 c)
{
    switch (c) {
    case ',': case '.': case '!': case '?': case ';': case '\n': case '\r': case 0x85:
    case 0x2028: case 0x2029:                           /* line and paragraph separators */
    case 0x3001: case 0x3002: case 0xff61: case 0xff64: /* 、 。 and their half widths */
    case 0xff0c: case 0xff0e: case 0xff01: case 0xff1f: case 0xff1b:   /* ， ． ！ ？ ； */
    case 0x2026: case 0x22ef: case 0x203c: case 0x2047: case 0x2048: case 0x2049:
    case 0xfe50: case 0xfe51: case 0xfe52: case 0xfe54: case 0xfe56: case 0xfe57:
        return 1;
    default:
        return 0;
    }
}

/* The table entry of one code point; its output goes to the pool. */
static int fold_cp(fe_fold *f, const builder *b, UChar32 c, ent_t *ent)
{
    folded o = {0};
    size_t off = 0;

    if (c < 0x80)
        fold_ascii(c, &o);
    else if (!fold_by_category(c, &o))
        fold_general(b, c, &o);
    ent_t clause = o.cls == FE_C_SEP && clause_mark(c) ? ENT_F_CLAUSE : 0;
    if (o.self) {
        *ent = ENT(o.cls, 0, o.why, 0) | clause;
        return 0;
    }
    size_t inlen = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    while (o.len > OUT_RATIO * inlen) {   /* cut at a character boundary */
        o.len--;
        while (o.len && ((unsigned char)o.out[o.len] & 0xc0) == 0x80)
            o.len--;
    }
    if (pool_add(f, o.out, o.len, &off) < 0)
        return -1;
    *ent = ENT(o.cls, o.len, o.why, off) | clause;
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
static int han_letters(const fe_fold *f);

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
    f->han_bits = han_letters(f) ? FE_FOLD_WORD : 0;
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


/* Whether some Chinese character's output holds a letter that is not Chinese
 * (ASCII, or a two-byte character: Latin, Greek, Cyrillic). */
static int han_letters(const fe_fold *f)
{
    for (uint32_t cp = 0; cp < NCP; cp++) {
        ent_t e = fe_fold_page(f, cp);
        const unsigned char *o = (const unsigned char *)f->pool + ENT_OFF(e);
        for (size_t i = 0; ENT_CLASS(e) == FE_C_HAN && i < ENT_LEN(e); i++)
            if ((unsigned)((o[i] | 0x20) - 'a') < 26u || (o[i] >= 0xc0 && o[i] < 0xe0))
                return 1;
    }
    return 0;
}

/* The compact copy of the CJK block; an entry that is not Chinese (none in
 * this block today) is kept in cjk_ent too, so han_run can stop on it. */
static int build_cjk(fe_fold *f)
{
    size_t n = 0;
    for (uint32_t cp = CJK_START; cp < CJK_END; cp++)
        n += fe_fold_page(f, cp) != CJK_SELF;
    if (!(f->cjk_ent = malloc((n ? n : 1) * sizeof *f->cjk_ent)))
        return -1;
    n = 0;
    for (uint32_t cp = CJK_START; cp < CJK_END; cp++) {
        ent_t e = fe_fold_page(f, cp);
        if (e == CJK_SELF) {
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
    ent_t e = fe_fold_lookup(f, cp);
    *why = ENT_WHY(e);
    return ENT_CLASS(e);
}
