/* engine.c -- compile word lists into Hyperscan databases; scan and decide.
 *
 * Each entry is matched in one view (folded or compact, see fold.h), so each
 * view has its own database and a scan is one fold pass plus one hs_scan per
 * view. Literal terms are compiled as exact byte sequences (their start is
 * end - length); regexes run as a prefilter, and a hit sends the text through
 * their start-of-match database too. The callback checks whole-word and
 * validators on the view and keeps the match in view offsets; a text that
 * matched is folded again with the offset maps to turn those into input
 * offsets. The decision is made afterwards: allow-lists first, then the
 * strongest action. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <hs/hs.h>
#include <unicode/uversion.h>

#include "engine.h"
#include "validate.h"
#include "wordlist.h"

#define FE_ENGINE_BUILD "filterd-engine-1"
#define TERM_MAX 4096     /* longest list term, bytes (lines are shorter) */

/* Regexes are compiled twice: without start-of-match into each view's main
 * database (cheap, a prefilter), and with it into a second database that is
 * scanned only when the prefilter saw a regex hit. SOM makes Hyperscan's
 * automata several times slower, and most texts hit no regex at all. */
#define NDB (2 * FE_NVIEWS)
#define SOM_DB(view) (FE_NVIEWS + (view))

typedef struct rule {
    uint32_t vlen;        /* literal: its length in the view; regex: 0 */
    uint8_t view;
} rule;

struct fe_ruleset {
    fe_fold *fold;
    fe_wordlists wl;
    rule *rules;
    hs_database_t *db[NDB];   /* per view: every entry; then per view: regexes with SOM */
    signed char policy[FE_NSCENES][FE_NLABELS];
    size_t max_text;
    char version[32];
    double compile_s;
    fe_errors warnings;   /* what lint should mention but is not an error */
    int cached;           /* the databases came from the on-disk cache */
};

struct fe_scratch {
    const fe_ruleset *rs;
    hs_scratch_t *hs;
    fe_viewbuf views[FE_NVIEWS];
    fe_match *m;
    size_t n;
    unsigned warn;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- compiling ---------------------------------------------------------- */

typedef struct patset {
    char **expr;
    unsigned *flags, *ids;
    size_t n;
} patset;

static int is_alnum(unsigned char c)
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
        if (view == FE_VIEW_FOLDED && c < 0x80 && !is_alnum(c))
            o += sprintf(o, "[\\x00-\\x2f\\x3a-\\x60\\x7b-\\x7f]");
        else
            o += sprintf(o, "\\x%02x", c);
    }
    *o = '\0';
    return p;
}

static void where(const fe_wordlists *wl, size_t i, char *buf, size_t n)
{
    snprintf(buf, n, "%s:%u", wl->files[wl->entries[i].file], wl->entries[i].line);
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
        fe_errors_add(err, "%s: regex refused by Hyperscan: %s", at, ce->message);
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
    if (tv[view].len == 0) {
        fe_errors_add(err, "%s: term folds to nothing (only separators or invisible "
                      "characters)", at);
        return NULL;
    }
    rs->rules[i].view = (uint8_t)view;
    rs->rules[i].vlen = (uint32_t)tv[view].len;
    return literal_pattern(&tv[view], view);
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
        where(&rs->wl, i, here, sizeof here);
        where(&rs->wl, d->slot[k].entry, there, sizeof there);
        int same = e->label == f->label && e->action == f->action && e->flags == f->flags &&
                   e->check == f->check;
        fe_errors_add(&rs->warnings, "%s: '%s' is the same as %s after normalisation%s", here,
                      e->term, there, same ? "; ignored" : ", with other options; both kept");
        return same ? (int)d->slot[k].entry : -1;
    }
}

/* Turn every entry into a pattern of the view it is matched in. */
static int make_patterns(fe_ruleset *rs, patset ps[NDB], fe_errors *err)
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
        where(&rs->wl, i, at, sizeof at);
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
        p->expr[p->n] = expr;
        p->flags[p->n] = flags;
        p->ids[p->n++] = (unsigned)i;
    }
out:
    free(dups.slot);
    for (int v = 0; v < FE_NVIEWS; v++)
        fe_viewbuf_free(&tv[v]);
    return rc;
}

static int compile_db(fe_ruleset *rs, patset *p, int db, fe_errors *err)
{
    hs_compile_error_t *ce = NULL;
    char at[4200];

    if (p->n == 0)
        return 0;
    unsigned mode = HS_MODE_BLOCK;  /* SOM needs no horizon flag in block mode */
    if (hs_compile_multi((const char *const *)p->expr, p->flags, p->ids, (unsigned)p->n, mode,
                         NULL, &rs->db[db], &ce) == HS_SUCCESS)
        return 0;
    if (ce->expression >= 0) {
        where(&rs->wl, p->ids[ce->expression], at, sizeof at);
        fe_errors_add(err, "%s: refused by Hyperscan: %s", at, ce->message);
    } else
        fe_errors_add(err, "%s view: Hyperscan compile failed: %s",
                      fe_view_name(db % FE_NVIEWS), ce->message);
    hs_free_compile_error(ce);
    return -1;
}

static void patset_free(patset *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->expr[i]);
    free(p->expr);
    free(p->flags);
    free(p->ids);
}

/* ---- the compiled-database cache ----------------------------------------
 *
 * <cache-dir>/<key>.fdb holds the serialised databases and the per-entry
 * rules of one compile. The key hashes the lists' content, the engine build,
 * the Hyperscan and ICU versions and the CPU platform Hyperscan tuned for, so
 * a hit is always a database this process could have compiled itself. Files
 * are written to a temporary name and renamed: readers never see half a file. */

#define CACHE_MAGIC "FDB2"

/* The lists' content and what turns it into databases: the version string
 * hashes this; the cache key adds the CPU platform. */
static uint64_t content_hash(const fe_ruleset *rs)
{
    uint64_t h = fe_hash(rs->wl.hash, FE_ENGINE_BUILD, strlen(FE_ENGINE_BUILD));
    h = fe_hash(h, hs_version(), strlen(hs_version()));
    return fe_hash(h, U_ICU_VERSION, strlen(U_ICU_VERSION));
}

static void cache_path(const fe_ruleset *rs, const char *dir, char *buf, size_t n)
{
    hs_platform_info_t plat = {0};
    hs_populate_platform(&plat);
    uint64_t h = fe_hash(content_hash(rs), &plat, sizeof plat);
    h = fe_hash(h, &rs->wl.n, sizeof rs->wl.n);
    snprintf(buf, n, "%s/%016llx.fdb", dir, (unsigned long long)h);
}

static int cache_read(fe_ruleset *rs, const char *path)
{
    FILE *f = fopen(path, "rb");
    char magic[4];
    uint64_t n, size;
    int ok = 0;

    if (!f)
        return -1;
    if (fread(magic, 1, 4, f) != 4 || memcmp(magic, CACHE_MAGIC, 4) ||
        fread(&n, sizeof n, 1, f) != 1 || n != rs->wl.n ||
        fread(rs->rules, sizeof *rs->rules, n, f) != n)
        goto out;
    for (int v = 0; v < NDB; v++) {
        if (fread(&size, sizeof size, 1, f) != 1 || size > (1ull << 32))
            goto out;
        if (!size)
            continue;
        char *buf = malloc(size);
        if (!buf || fread(buf, 1, size, f) != size ||
            hs_deserialize_database(buf, size, &rs->db[v]) != HS_SUCCESS) {
            free(buf);
            goto out;
        }
        free(buf);
    }
    ok = 1;
out:
    fclose(f);
    if (!ok)
        for (int v = 0; v < NDB; v++) {
            hs_free_database(rs->db[v]);
            rs->db[v] = NULL;
        }
    return ok ? 0 : -1;
}

/* Best effort: a cache that cannot be written only costs a compile later. */
static void cache_write(const fe_ruleset *rs, const char *dir, const char *path)
{
    char tmp[PATH_MAX + 96];
    uint64_t n = rs->wl.n;

    mkdir(dir, 0755);
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    int ok = fwrite(CACHE_MAGIC, 1, 4, f) == 4 && fwrite(&n, sizeof n, 1, f) == 1 &&
             fwrite(rs->rules, sizeof *rs->rules, n, f) == n;
    for (int v = 0; v < NDB && ok; v++) {
        char *buf = NULL;
        size_t len = 0;
        if (rs->db[v] && hs_serialize_database(rs->db[v], &buf, &len) != HS_SUCCESS)
            ok = 0;
        uint64_t size = len;
        ok = ok && fwrite(&size, sizeof size, 1, f) == 1 && (!len || fwrite(buf, 1, len, f) == len);
        free(buf);
    }
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
        unlink(tmp);
}

fe_ruleset *fe_load(const fe_config *cfg, fe_errors *err)
{
    patset ps[NDB] = {{0}};
    char msg[256];
    double t0 = now();
    int before = err->count;

    fe_ruleset *rs = calloc(1, sizeof *rs);
    if (!rs) {
        fe_errors_add(err, "out of memory");
        return NULL;
    }
    memcpy(rs->policy, cfg->policy, sizeof rs->policy);
    rs->max_text = cfg->max_text_bytes;
    int bad = fe_wl_load_dir(&rs->wl, cfg->lists, err) < 0;
    if (!(rs->fold = fe_fold_build(msg, sizeof msg))) {
        fe_errors_add(err, "normalisation tables: %s", msg);
        goto fail;
    }
    rs->rules = calloc(rs->wl.n ? rs->wl.n : 1, sizeof *rs->rules);
    for (int v = 0; v < NDB; v++) {
        ps[v].expr = calloc(rs->wl.n + 1, sizeof *ps[v].expr);
        ps[v].flags = calloc(rs->wl.n + 1, sizeof *ps[v].flags);
        ps[v].ids = calloc(rs->wl.n + 1, sizeof *ps[v].ids);
        if (!ps[v].expr || !ps[v].flags || !ps[v].ids || !rs->rules) {
            fe_errors_add(err, "out of memory");
            goto fail;
        }
    }
    if (bad) {   /* still fold and check what parsed: report every error at once */
        make_patterns(rs, ps, err);
        goto fail;
    }
    char cpath[PATH_MAX + 64];
    if (cfg->cache_dir[0]) {
        cache_path(rs, cfg->cache_dir, cpath, sizeof cpath);
        rs->cached = cache_read(rs, cpath) == 0;
    }
    if (!rs->cached) {
        if (make_patterns(rs, ps, err) < 0)
            goto fail;
        for (int d = 0; d < NDB; d++)
            if (compile_db(rs, &ps[d], d, err) < 0)
                goto fail;
        if (cfg->cache_dir[0])
            cache_write(rs, cfg->cache_dir, cpath);
    }
    for (int d = 0; d < NDB; d++)
        patset_free(&ps[d]);

    snprintf(rs->version, sizeof rs->version, "wl-%016llx",
             (unsigned long long)content_hash(rs));
    rs->compile_s = now() - t0;
#ifdef __GLIBC__
    malloc_trim(0);   /* give the compiler's garbage back before workers fork */
#endif
    return rs;
fail:
    if (err->count == before)
        fe_errors_add(err, "loading word lists failed");
    for (int d = 0; d < NDB; d++)
        patset_free(&ps[d]);
    fe_ruleset_free(rs);
    return NULL;
}

void fe_ruleset_free(fe_ruleset *rs)
{
    if (!rs)
        return;
    for (int d = 0; d < NDB; d++)
        hs_free_database(rs->db[d]);
    fe_fold_free(rs->fold);
    fe_wl_free(&rs->wl);
    fe_errors_clear(&rs->warnings);
    free(rs->rules);
    free(rs);
}

const char *fe_ruleset_version(const fe_ruleset *rs) { return rs->version; }
int fe_ruleset_cached(const fe_ruleset *rs) { return rs->cached; }
const fe_errors *fe_ruleset_warnings(const fe_ruleset *rs) { return &rs->warnings; }
size_t fe_ruleset_entries(const fe_ruleset *rs) { return rs->wl.n; }
double fe_ruleset_compile_seconds(const fe_ruleset *rs) { return rs->compile_s; }
const fe_fold *fe_ruleset_fold(const fe_ruleset *rs) { return rs->fold; }

struct hs_database *fe_ruleset_hs_db(const fe_ruleset *rs, int view)
{
    return view >= 0 && view < FE_NVIEWS ? rs->db[view] : NULL;
}

size_t fe_ruleset_db_size(const fe_ruleset *rs)
{
    size_t total = 0, n;
    for (int d = 0; d < NDB; d++)
        if (rs->db[d] && hs_database_size(rs->db[d], &n) == HS_SUCCESS)
            total += n;
    return total;
}

size_t fe_ruleset_memory(const fe_ruleset *rs)
{
    size_t m = sizeof *rs + fe_ruleset_db_size(rs) + fe_fold_memory(rs->fold);
    m += rs->wl.n * (sizeof(fe_entry) + sizeof(rule));
    for (size_t i = 0; i < rs->wl.n; i++)
        m += strlen(rs->wl.entries[i].term) + 1;
    return m;
}

int fe_entry_get(const fe_ruleset *rs, uint32_t i, fe_entry_info *out)
{
    if (i >= rs->wl.n)
        return FE_ERR;
    const fe_entry *e = &rs->wl.entries[i];
    out->term = e->term;
    out->file = rs->wl.files[e->file];
    out->line = e->line;
    out->label = e->label;
    out->action = (fe_action)e->action;
    out->view = rs->rules[i].view;
    out->regex = !!(e->flags & FE_E_RE);
    out->word = !!(e->flags & FE_E_WORD);
    out->allow = !!(e->flags & FE_E_ALLOW);
    return FE_OK;
}

fe_action fe_policy_action(const fe_ruleset *rs, int scene, int label, fe_action listed)
{
    if (scene < 0 || scene >= FE_NSCENES || label < 0 || label >= FE_NLABELS)
        return listed;
    return rs->policy[scene][label] >= 0 ? (fe_action)rs->policy[scene][label] : listed;
}

/* ---- scanning ----------------------------------------------------------- */

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
    for (int v = 0; v < FE_NVIEWS; v++) {
        if (fe_viewbuf_alloc(rs->fold, &sc->views[v], rs->max_text) < 0)
            goto oom;
    }
    if (!(sc->m = malloc(FE_MAX_MATCHES * sizeof *sc->m)))
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
    free(sc);
}

const fe_viewbuf *fe_scratch_view(const fe_scratch *sc, int view)
{
    return view >= 0 && view < FE_NVIEWS ? &sc->views[view] : NULL;
}

typedef struct scan_ctx {
    fe_scratch *sc;
    const fe_viewbuf *v;
    int view, scene;
    int som_pass;        /* 0: main database; 1: the SOM rescan */
    int regex_hit;       /* the main pass saw a regex: rescan with SOM */
} scan_ctx;

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *arg)
{
    scan_ctx *c = arg;
    const fe_ruleset *rs = c->sc->rs;
    const fe_entry *e = &rs->wl.entries[id];
    const fe_viewbuf *v = c->v;
    size_t end = (size_t)to;
    size_t start = rs->rules[id].vlen ? end - rs->rules[id].vlen : (size_t)from;
    (void)flags;

    if ((e->flags & FE_E_RE) && !c->som_pass) {
        c->regex_hit = 1;
        return 0;
    }
    if (start >= end)
        return 0;
    if ((e->flags & FE_E_WORD) &&
        ((start > 0 && is_alnum((unsigned char)v->buf[start - 1])) ||
         (end < v->len && is_alnum((unsigned char)v->buf[end]))))
        return 0;
    if (e->check == FE_CHECK_IDCARD && !fe_check_idcard(v->buf + start, end - start))
        return 0;
    if (c->sc->n == FE_MAX_MATCHES) {
        c->sc->warn |= FE_WARN_TRUNCATED;
        return 1;  /* stop this scan */
    }
    fe_match *m = &c->sc->m[c->sc->n++];
    m->start = (uint32_t)start;   /* view offsets until map_offsets() */
    m->end = (uint32_t)end;
    m->entry = id;
    m->label = e->label;
    m->allow = !!(e->flags & FE_E_ALLOW);
    m->action = (uint8_t)(m->allow ? FE_ALLOW
                                   : fe_policy_action(rs, c->scene, e->label, (fe_action)e->action));
    m->view = (uint8_t)c->view;
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
        fe_view_span(&sc->views[m->view], m->start, m->end, text, len, &m->start, &m->end);
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
        if (m->allowed_by >= 0)
            continue;
        if (m->action > FE_ALLOW)   /* a label a scene policy allows is not reported */
            r->labels |= 1u << m->label;
        if (r->decider < 0 || m->action > sc->m[r->decider].action)
            r->decider = (int)i;
    }
    r->decision = r->decider < 0 ? FE_ALLOW : (fe_action)sc->m[r->decider].action;
    if (r->decision == FE_ALLOW)   /* an allowed text has no deciding label */
        r->decider = -1;
    r->label = r->decider < 0 ? -1 : sc->m[r->decider].label;
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
    unsigned bits = len ? fe_fold_text_nomap(rs->fold, text, len, sc->views) : 0;
    if (!len)
        for (int v = 0; v < FE_NVIEWS; v++)
            sc->views[v].len = 0;
    sc->n = 0;
    sc->warn = (bits & FE_FOLD_INVALID_UTF8 ? FE_WARN_INVALID_UTF8 : 0) |
               (bits & FE_FOLD_NUL ? FE_WARN_NUL : 0);
    for (int v = 0; v < FE_NVIEWS; v++) {
        if (!rs->db[v] || !sc->views[v].len)
            continue;
        scan_ctx c = {sc, &sc->views[v], v, scene, 0, 0};
        hs_error_t he = hs_scan(rs->db[v], sc->views[v].buf, (unsigned)sc->views[v].len, 0,
                                sc->hs, on_match, &c);
        if (he == HS_SUCCESS && c.regex_hit && rs->db[SOM_DB(v)]) {
            c.som_pass = 1;
            he = hs_scan(rs->db[SOM_DB(v)], sc->views[v].buf, (unsigned)sc->views[v].len, 0,
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
    decide(sc, out);
    out->warnings = sc->warn;
    out->matches = sc->m;
    out->nmatches = sc->n;
    return FE_OK;
}
