/* compile.c -- word-list entries into Hyperscan databases, one per view.
 *
 * Each entry also gets a pattern in every disguise view it qualifies for
 * (views.h): phonetic, leet, initials (in the folded database), shape; the
 * emoji and split views are scanned with the compact database. Which views an entry
 * gets: its own switches ([sound], [noleet] ...), else its label's default
 * (fe_options.views_off), within each view's limits.
 *
 * Each entry is matched in one view (folded or compact, see fold.h). Literal
 * terms are folded like a text and compiled as exact byte sequences (their
 * start is end - length); regexes go into their view's database as a
 * prefilter (no start-of-match) and into a second, start-of-match database
 * that the scan consults only after a regex hit. Entries that normalise to
 * the same pattern are compiled once, with a warning for lint.
 *
 * Hyperscan compiles one database per call on one thread, and with every
 * disguise view on there are five big ones: they are compiled by up to one
 * thread per core (COMPILE_THREADS at most), the biggest first. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ruleset.h"
#include "views.h"

#define TERM_MAX 4096     /* longest list term, bytes (lines are shorter) */
#define LEET_SHORT 3      /* lint: a leet pattern shorter than this, not [word] */
#define INITIALS_SHORT 4  /* lint: initials shorter than this (asked for) */
#define COMPILE_THREADS 4 /* databases compiled at once, at most (and at most one per core) */

typedef struct patset {
    char **expr;
    unsigned *flags, *ids;
    size_t *lens;         /* the phonetic and leet sets: literals of these lengths */
    size_t n, cap;
} patset;

/* The databases whose patterns are plain literals (hs_compile_lit_multi). */
static int literal_db(int db)
{
    return db == DB_PHONETIC || db == DB_LEET || db == DB_SHAPE;
}

/* Room for one more pattern in p and one more rule in rs. 0 or -1. */
static int grow(fe_ruleset *rs, patset *p)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        char **e = realloc(p->expr, cap * sizeof *e);
        if (e)
            p->expr = e;
        unsigned *fl = e ? realloc(p->flags, cap * sizeof *fl) : NULL;
        if (fl)
            p->flags = fl;
        unsigned *id = fl ? realloc(p->ids, cap * sizeof *id) : NULL;
        if (id)
            p->ids = id;
        size_t *ln = id ? realloc(p->lens, cap * sizeof *ln) : NULL;
        if (!ln)
            return -1;
        p->lens = ln;
        p->cap = cap;
    }
    if (rs->nrules == rs->rcap) {
        rule *r = realloc(rs->rules, rs->rcap * 2 * sizeof *r);
        if (!r)
            return -1;
        rs->rules = r;
        rs->rcap *= 2;
    }
    return 0;
}

int fe_is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A folded term as an exact-bytes pattern. In the folded view a separator
 * byte in the term matches any separator byte of the text. */
static char *literal_pattern(const fe_viewbuf *t, int view)
{
    char *p = malloc(t->len * 40 + 1), *o = p;
    if (!p)
        return NULL;
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->buf[i];
        if (view == FE_VIEW_FOLDED && c < 0x80 && !fe_is_alnum(c))
            o += sprintf(o, "[\\x00-\\x2f\\x3a-\\x60\\x7b-\\x7f]");
        else
            o += sprintf(o, "\\x%02x", c);
    }
    *o = '\0';
    return p;
}

void fe_entry_where(const fe_wordlists *wl, size_t i, char *buf, size_t n)
{
    snprintf(buf, n, "%s:%u", wl->files[wl->entries[i].file], wl->entries[i].line);
}

/* Hyperscan's message about a regex, with its "index N" (a byte offset into
 * the expression) told as a person counts: "character 3 ('[')". */
static const char *regex_message(const char *re, const char *msg, char *out, size_t size)
{
    const char *at = strstr(msg, "index ");
    char *end;
    if (!at || at[6] < '0' || at[6] > '9')
        return msg;
    unsigned long byte = strtoul(at + 6, &end, 10);
    size_t len = strlen(re), chars = 1;
    if (byte > len)
        return msg;
    for (size_t i = 0; i < byte; chars++) {
        uint32_t cp;
        int k = fe_utf8_decode((const unsigned char *)re + i, len - i, &cp);
        i += k > 0 ? (size_t)k : 1;
    }
    uint32_t cp;
    int k = byte < len ? fe_utf8_decode((const unsigned char *)re + byte, len - byte, &cp) : 0;
    if (k > 0)
        snprintf(out, size, "%.*scharacter %zu ('%.*s')%s", (int)(at - msg), msg, chars, k,
                 re + byte, end);
    else
        snprintf(out, size, "%.*scharacter %zu (%s)%s", (int)(at - msg), msg, chars,
                 byte < len ? "an invalid byte" : "the end of the expression", end);
    return out;
}

/* The pattern of a regex entry, for its main database (as a prefilter) and
 * its SOM database. NULL on error (reported). */
static char *regex_pattern(fe_ruleset *rs, size_t i, patset ps[NDB], unsigned *flags,
                           const char *at, fe_errors *err)
{
    const fe_entry *e = &rs->wl.entries[i];
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *ce = NULL;
    int view = rs->rules[i].view;

    *flags = HS_FLAG_UTF8 | HS_FLAG_CASELESS;
    if (hs_expression_info(e->term, *flags | HS_FLAG_SOM_LEFTMOST, &info, &ce) != HS_SUCCESS) {
        char msg[512];
        fe_errors_add(err, "%s: regex refused by Hyperscan: %s", at,
                      regex_message(e->term, ce->message, msg, sizeof msg));
        hs_free_compile_error(ce);
        return NULL;
    }
    int empty = info->min_width == 0;
    free(info);
    if (empty) {
        fe_errors_add(err, "%s: regex can match empty text", at);
        return NULL;
    }
    patset *q = &ps[SOM_DB(view)];
    if (!(q->expr[q->n] = strdup(e->term)))
        return NULL;
    q->flags[q->n] = *flags | HS_FLAG_SOM_LEFTMOST;
    q->ids[q->n++] = (unsigned)i;
    *flags |= HS_FLAG_SINGLEMATCH;
    return strdup(e->term);
}

/* An entry that normalises to one character, or to less than half of the
 * characters written (spaces and invisibles aside), matches far more than
 * was meant (**子 is 子, and one such entry flagged 423 of 2,696 innocent
 * comments), unless it says so ([short]). 1 when refused (reported). */
static int too_short(const fe_ruleset *rs, size_t i, const fe_viewbuf *t, const char *at,
                     fe_errors *err)
{
    const fe_entry *e = &rs->wl.entries[i];
    size_t kept = 0, written = 0, n = strlen(e->term);
    unsigned why;

    if (e->flags & FE_E_SHORT)
        return 0;
    for (size_t k = 0; k < t->len; k++)
        kept += ((unsigned char)t->buf[k] & 0xc0) != 0x80;
    for (size_t k = 0; k < n;) {
        uint32_t cp;
        int len = fe_utf8_decode((const unsigned char *)e->term + k, n - k, &cp);
        k += len > 0 ? (size_t)len : 1;
        written += cp != ' ' && cp != '\t' && cp != 0x3000 &&
                   fe_fold_class(rs->fold, cp, &why) != FE_C_DROP;
    }
    if (kept > 1 && kept * 2 >= written)
        return 0;
    if (kept == 1)
        fe_errors_add(err, "%s: '%s' normalises to one character, '%.*s', which matches "
                      "far more than was meant: write out what it stands for, or add [short] "
                      "if one character is meant", at, e->term, (int)t->len, t->buf);
    else
        fe_errors_add(err, "%s: '%s' keeps %zu of its %zu characters once normalised ('%.*s'): "
                      "symbols and emoji without a reading are dropped; write out what they "
                      "stand for, or add [short] if this is meant", at, e->term, kept, written,
                      (int)t->len, t->buf);
    return 1;
}

/* The pattern of a literal entry: its folded form in its view. */
static char *literal_entry(fe_ruleset *rs, size_t i, fe_viewbuf tv[FE_NVIEWS], const char *at,
                           fe_errors *err)
{
    const fe_entry *e = &rs->wl.entries[i];
    size_t n = strlen(e->term);

    if (n > TERM_MAX) {
        fe_errors_add(err, "%s: term longer than %d bytes", at, TERM_MAX);
        return NULL;
    }
    unsigned bits = fe_fold_text(rs->fold, e->term, n, tv);
    int view = e->view >= 0 ? e->view : (bits & FE_FOLD_HAS_HAN) ? FE_VIEW_COMPACT : FE_VIEW_FOLDED;
    /* an entry written with an emoji (你🐴) keeps what the emoji stands for */
    if (rs->readings && (fe_entry_views(rs, i) & FE_VIEW_BIT(FE_VIEW_EMOJI)) &&
        fe_emoji_view(rs->fold, rs->readings, e->term, n, &tv[FE_VIEW_EMOJI]) > 0) {
        view = FE_VIEW_COMPACT;
        tv[FE_VIEW_COMPACT].len = tv[FE_VIEW_EMOJI].len;
        memcpy(tv[FE_VIEW_COMPACT].buf, tv[FE_VIEW_EMOJI].buf, tv[FE_VIEW_EMOJI].len);
    }
    if (tv[view].len == 0) {
        fe_errors_add(err, "%s: term folds to nothing (only separators or invisible "
                      "characters)", at);
        return NULL;
    }
    if (too_short(rs, i, &tv[view], at, err))
        return NULL;
    rs->rules[i].view = (uint8_t)view;
    rs->rules[i].vlen = (uint32_t)tv[view].len;
    return literal_pattern(&tv[view], view);
}

unsigned fe_entry_views(const fe_ruleset *rs, size_t i)
{
    const fe_entry *e = &rs->wl.entries[i];
    unsigned off = e->label >= 0 ? rs->views_off[e->label] : 0;
    if (e->flags & FE_E_RE)
        return 0;
    return (e->views_on | (FE_DISGUISE_VIEWS & ~off & ~e->views_off)) & FE_DISGUISE_VIEWS;
}

int fe_entry_numbers(const fe_ruleset *rs, size_t i)
{
    const fe_entry *e = &rs->wl.entries[i];
    unsigned off = e->label >= 0 ? rs->views_off[e->label] : 0;
    return rs->readings && !(e->flags & (FE_E_RE | FE_E_ALLOW)) && !e->check &&
           !(fe_entry_views(rs, i) & FE_VIEW_BIT(FE_VIEW_PHONETIC)) &&
           !(off & FE_VIEW_BIT(FE_VIEW_PHONETIC));
}

/* A disguise pattern of entry i into database db, reported as view (expr is
 * taken over, freed when it cannot be added). */
static int add_rule(fe_ruleset *rs, patset *ps, int db, char *expr, size_t i, int view,
                    uint32_t vlen, int word)
{
    patset *p = &ps[db];
    if (grow(rs, p) < 0) {
        free(expr);
        return -1;
    }
    rule *r = &rs->rules[rs->nrules];
    *r = (rule){vlen, (uint32_t)i, (uint8_t)view, (uint8_t)word, 0, 0};
    p->expr[p->n] = expr;
    p->lens[p->n] = vlen;
    p->flags[p->n] = 0;
    p->ids[p->n++] = (unsigned)rs->nrules++;
    return 0;
}

/* Entry i's patterns in the disguise views it gets and qualifies for. */
static void disguise_patterns(fe_ruleset *rs, patset *ps, size_t i)
{
    const fe_entry *e = &rs->wl.entries[i];
    unsigned views = fe_entry_views(rs, i);
    uint32_t vlen = 0, lens[FE_LEET_VARIANTS], slens[FE_SHAPE_VARIANTS];
    char *x, *leet[FE_LEET_VARIANTS], *sound[FE_SOUND_VARIANTS], *shape[FE_SHAPE_VARIANTS];
    rs->rules[i].views = (uint8_t)views;
    if ((e->flags & FE_E_RE) || e->check)
        return;
    char at[4200];
    fe_entry_where(&rs->wl, i, at, sizeof at);
    int nl = views & FE_VIEW_BIT(FE_VIEW_LEET) ? fe_leet_patterns(rs->fold, e->term, leet, lens) : 0;
    if (nl && lens[0] < LEET_SHORT && !(e->flags & FE_E_WORD))
        fe_errors_add(&rs->warnings, "%s: '%s' is %u letters in the leet view (doubled letters "
                      "once): [word] keeps it from matching inside words", at, e->term, lens[0]);
    for (int k = 0; k < nl; k++)
        add_rule(rs, ps, DB_LEET, leet[k], i, FE_VIEW_LEET, lens[k], !!(e->flags & FE_E_WORD));
    if (!rs->readings || (e->flags & FE_E_ALLOW))
        return;
    /* "long" fuzzy: only entries that ask for sound (the insults of @sound files):
     * near syllables for every entry double the phonetic view's literals */
    int fz = rs->sound_fuzzy == FE_FUZZY_LONG && !(e->views_on & FE_VIEW_BIT(FE_VIEW_PHONETIC))
                 ? FE_FUZZY_OFF : rs->sound_fuzzy;
    if (fe_entry_numbers(rs, i))   /* [nosound]: numbers written for a sound only, near ones too */
        fz = rs->sound_fuzzy == FE_FUZZY_OFF ? FE_FUZZY_OFF : FE_FUZZY_ALL;
    int np = views & FE_VIEW_BIT(FE_VIEW_PHONETIC) || fe_entry_numbers(rs, i)
                 ? fe_phonetic_patterns(rs->fold, rs->readings, e->term, fz, sound, &vlen) : 0;
    for (int k = 0; k < np; k++)
        add_rule(rs, ps, DB_PHONETIC, sound[k], i, FE_VIEW_PHONETIC, vlen, 0);
    if ((views & FE_VIEW_BIT(FE_VIEW_INITIALS)) &&
        (x = fe_initials_pattern(rs->fold, rs->readings, e->term,
                                 !!(e->views_on & FE_VIEW_BIT(FE_VIEW_INITIALS)), &vlen))) {
        if (vlen < INITIALS_SHORT)
            fe_errors_add(&rs->warnings, "%s: '%s' has %u-letter initials: English "
                          "abbreviations may be read as it", at, e->term, vlen);
        /* most initials hold no vowel: their own database, scanned only for
         * texts with such a word (a few asked-for ones go with the folded) */
        add_rule(rs, ps, strpbrk(x, "aeiou") ? DB_FOLDED : DB_INITIALS, x, i, FE_VIEW_INITIALS,
                 vlen, 1);
    }
    if (!rs->shapes)
        return;
    int ns = views & FE_VIEW_BIT(FE_VIEW_SHAPE)
             ? fe_shape_patterns(rs->shapes, rs->fold, e->term,
                                 !!(e->views_on & FE_VIEW_BIT(FE_VIEW_SHAPE)), shape, slens) : 0;
    for (int k = 0; k < ns; k++)
        add_rule(rs, ps, DB_SHAPE, shape[k], i, FE_VIEW_SHAPE, slens[k], 0);
}

/* Entries that normalise to the same pattern: the first one is compiled,
 * later ones with the same label, action and options only earn a warning
 * (they could never add a match); ones that differ are kept and warned about. */
typedef struct dupset {
    struct { const char *expr; uint32_t entry; } *slot;
    size_t cap;
} dupset;

static int dup_of(fe_ruleset *rs, dupset *d, const char *expr, size_t i)
{
    const fe_entry *e = &rs->wl.entries[i];
    uint64_t h = fe_hash(FE_HASH_INIT, expr, strlen(expr));
    h = fe_hash(h, &rs->rules[i].view, 1);
    for (size_t k = h & (d->cap - 1);; k = (k + 1) & (d->cap - 1)) {
        if (!d->slot[k].expr) {
            d->slot[k].expr = expr;
            d->slot[k].entry = (uint32_t)i;
            return -1;
        }
        const fe_entry *f = &rs->wl.entries[d->slot[k].entry];
        if (strcmp(d->slot[k].expr, expr) || rs->rules[d->slot[k].entry].view != rs->rules[i].view)
            continue;
        char here[4200], there[4200];
        fe_entry_where(&rs->wl, i, here, sizeof here);
        fe_entry_where(&rs->wl, d->slot[k].entry, there, sizeof there);
        int same = e->label == f->label && e->action == f->action && e->flags == f->flags &&
                   e->check == f->check;
        fe_errors_add(&rs->warnings, "%s: '%s' is the same as %s after normalisation%s", here,
                      e->term, there, same ? "; ignored" : ", with other options; both kept");
        return same ? (int)d->slot[k].entry : -1;
    }
}

/* Turn every entry into a pattern of the view it is matched in. */
static int make_patterns(fe_ruleset *rs, patset ps[NDB], int report_only, fe_errors *err)
{
    fe_viewbuf tv[FE_NVIEWS] = {{0}};
    dupset dups = {NULL, 16};
    char at[4200];
    int rc = 0;

    while (dups.cap < rs->wl.n * 2)
        dups.cap *= 2;
    dups.slot = calloc(dups.cap, sizeof *dups.slot);
    int oom = !dups.slot;
    for (int v = 0; v < FE_NVIEWS; v++)
        oom |= fe_viewbuf_alloc(rs->fold, &tv[v], TERM_MAX) < 0;
    if (oom) {
        fe_errors_add(err, "out of memory");
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < rs->wl.n; i++) {
        const fe_entry *e = &rs->wl.entries[i];
        unsigned flags = 0;
        char *expr;
        int before = err->count;
        fe_entry_where(&rs->wl, i, at, sizeof at);
        rs->rules[i].entry = (uint32_t)i;
        if (e->flags & FE_E_RE) {
            rs->rules[i].view = (uint8_t)(e->view >= 0 ? e->view : FE_VIEW_FOLDED);
            expr = regex_pattern(rs, i, ps, &flags, at, err);
        } else
            expr = literal_entry(rs, i, tv, at, err);
        if (!expr) {
            if (err->count == before)
                fe_errors_add(err, "out of memory");
            rc = -1;
            continue;
        }
        if (!(e->flags & FE_E_RE) && dup_of(rs, &dups, expr, i) >= 0) {
            free(expr);
            continue;
        }
        patset *p = &ps[rs->rules[i].view];
        if (grow(rs, p) < 0) {
            free(expr);
            fe_errors_add(err, "out of memory");
            rc = -1;
            break;
        }
        p->expr[p->n] = expr;
        p->flags[p->n] = flags;
        p->ids[p->n++] = (unsigned)i;
        if (!report_only)
            disguise_patterns(rs, ps, i);
    }
out:
    free(dups.slot);
    for (int v = 0; v < FE_NVIEWS; v++)
        fe_viewbuf_free(&tv[v]);
    return rc;
}

static const char *const db_names[NDB] = {"folded", "compact", "phonetic", "leet", "shape",
                                          "initials", "folded regex", "compact regex"};

/* One database to compile: Hyperscan's answer is kept for the caller, which
 * reports errors after every thread is done (fe_errors is not shared). */
typedef struct job {
    const patset *p;
    int db;
    hs_database_t *out;
    hs_compile_error_t *ce;
    hs_error_t he;
} job;

typedef struct pool {
    job *jobs;
    size_t n, next;
    pthread_mutex_t lock;
} pool;

static void compile_one(job *j)
{
    const patset *p = j->p;
    unsigned mode = HS_MODE_BLOCK;  /* SOM needs no horizon flag in block mode */
    j->he = literal_db(j->db)
        ? hs_compile_lit_multi((const char *const *)p->expr, p->flags, p->ids, p->lens,
                               (unsigned)p->n, mode, NULL, &j->out, &j->ce)
        : hs_compile_multi((const char *const *)p->expr, p->flags, p->ids, (unsigned)p->n, mode,
                           NULL, &j->out, &j->ce);
}

static void *compile_thread(void *arg)
{
    pool *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->lock);
        size_t k = pl->next++;
        pthread_mutex_unlock(&pl->lock);
        if (k >= pl->n)
            return NULL;
        compile_one(&pl->jobs[k]);
    }
}

/* Report a failed compile as the entry's file:line when Hyperscan names the pattern. */
static void compile_error(fe_ruleset *rs, const job *j, fe_errors *err)
{
    hs_compile_error_t *ce = j->ce;
    char at[4200];
    if (ce && ce->expression >= 0) {
        const fe_entry *e = &rs->wl.entries[rs->rules[j->p->ids[ce->expression]].entry];
        char msg[512];
        fe_entry_where(&rs->wl, rs->rules[j->p->ids[ce->expression]].entry, at, sizeof at);
        fe_errors_add(err, "%s: refused by Hyperscan: %s", at, e->flags & FE_E_RE ?
                      regex_message(e->term, ce->message, msg, sizeof msg) : ce->message);
    } else
        fe_errors_add(err, "%s database: Hyperscan compile failed: %s", db_names[j->db],
                      ce ? ce->message : "no message");
}

static int cmp_job(const void *a, const void *b)
{
    size_t x = ((const job *)a)->p->n, y = ((const job *)b)->p->n;
    return x > y ? -1 : x < y;
}

/* Every non-empty database of ps into rs->db, on up to COMPILE_THREADS threads. */
static int compile_all(fe_ruleset *rs, patset ps[NDB], fe_errors *err)
{
    job jobs[NDB];
    pthread_t th[COMPILE_THREADS];
    pool pl = {jobs, 0, 0, PTHREAD_MUTEX_INITIALIZER};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int nth = 0, rc = 0;

    for (int d = 0; d < NDB; d++)
        if (ps[d].n)
            jobs[pl.n++] = (job){&ps[d], d, NULL, NULL, HS_SUCCESS};
    qsort(jobs, pl.n, sizeof *jobs, cmp_job);   /* the biggest first */
    while (nth < COMPILE_THREADS && nth < cores - 1 && (size_t)nth + 1 < pl.n &&
           pthread_create(&th[nth], NULL, compile_thread, &pl) == 0)
        nth++;
    compile_thread(&pl);   /* this thread works too */
    for (int t = 0; t < nth; t++)
        pthread_join(th[t], NULL);
    for (size_t k = 0; k < pl.n; k++) {
        rs->db[jobs[k].db] = jobs[k].out;
        if (jobs[k].he != HS_SUCCESS && rc == 0) {
            compile_error(rs, &jobs[k], err);
            rc = -1;
        }
        hs_free_compile_error(jobs[k].ce);
    }
    return rc;
}

static void patset_free(patset *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->expr[i]);
    free(p->expr);
    free(p->flags);
    free(p->ids);
    free(p->lens);
}

int fe_compile(fe_ruleset *rs, int report_only, fe_errors *err)
{
    patset ps[NDB] = {{0}};
    int rc = -1;

    for (int v = 0; v < NDB; v++) {   /* entries; disguise patterns grow them */
        ps[v].cap = rs->wl.n + 1;
        ps[v].expr = calloc(ps[v].cap, sizeof *ps[v].expr);
        ps[v].flags = calloc(ps[v].cap, sizeof *ps[v].flags);
        ps[v].ids = calloc(ps[v].cap, sizeof *ps[v].ids);
        ps[v].lens = calloc(ps[v].cap, sizeof *ps[v].lens);
        if (!ps[v].expr || !ps[v].flags || !ps[v].ids || !ps[v].lens) {
            fe_errors_add(err, "out of memory");
            goto out;
        }
    }
    rs->nrules = rs->wl.n;
    if (make_patterns(rs, ps, report_only, err) < 0 || report_only)
        goto out;
    if (compile_all(rs, ps, err) < 0)
        goto out;
    rc = 0;
out:
    for (int d = 0; d < NDB; d++)
        patset_free(&ps[d]);
    return rc;
}
