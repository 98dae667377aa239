/* engine.c -- a rule set: load the word lists, compile them (or read the cache), describe.
 *
 * fe_load parses every list file (wordlist.c), builds the folding table
 * (fold_table.c), then either reads the databases of this very content from
 * the cache (cache.c) or compiles them (compile.c). Scanning is scan.c. A
 * loaded rule set is never written again, so threads and forked workers
 * share it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unicode/uversion.h>

#include "hugemem.h"
#include "readings.h"
#include "ruleset.h"
#include "views.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void fe_options_init(fe_options *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->lists, sizeof o->lists, "%s", FE_DEFAULT_LISTS);
    snprintf(o->sound_data, sizeof o->sound_data, "%s", FE_DEFAULT_SOUND_DATA);
    snprintf(o->shape_data, sizeof o->shape_data, "%s", FE_DEFAULT_SHAPE_DATA);
    o->max_text_bytes = FE_DEFAULT_MAX_TEXT;
    o->cache_keep = FE_DEFAULT_CACHE_KEEP;
    memset(o->policy, -1, sizeof o->policy);
    memset(o->view_action, FE_DEFAULT_VIEW_ACTION, sizeof o->view_action);
}

/* Whether some label or some entry has one of the views in bits. */
static int views_used(const fe_ruleset *rs, unsigned bits)
{
    for (int l = 0; l < FE_NLABELS; l++)
        if ((bits & ~rs->views_off[l]) != 0)
            return 1;
    for (size_t i = 0; i < rs->wl.n; i++)
        if (rs->wl.entries[i].views_on & bits)
            return 1;
    return 0;
}

/* The readings and character structures (when a view needs them) and the hash
 * of what, besides the lists, shapes the databases. 0, or -1 with the file
 * that could not be read in err. Every view needs the readings' dictionary
 * of real words; split and shape also the structures. */
static int load_readings(fe_ruleset *rs, const fe_options *o, fe_errors *err)
{
    const unsigned shape = FE_VIEW_BIT(FE_VIEW_SPLIT) | FE_VIEW_BIT(FE_VIEW_SHAPE);
    const unsigned sound = FE_VIEW_BIT(FE_VIEW_PHONETIC) | FE_VIEW_BIT(FE_VIEW_INITIALS) |
                           FE_VIEW_BIT(FE_VIEW_EMOJI) | shape;
    char msg[600];
    rs->opt_hash = fe_hash(FE_HASH_INIT, rs->views_off, sizeof rs->views_off);
    rs->opt_hash = fe_hash(rs->opt_hash, &rs->sound_fuzzy, sizeof rs->sound_fuzzy);
    for (int v = FE_NBASE_VIEWS; v < FE_NVIEWS; v++)
        if (views_used(rs, FE_VIEW_BIT(v)))
            rs->views_used |= FE_VIEW_BIT(v);
    if (!(rs->views_used & sound))
        return 0;
    if (!(rs->readings = fe_readings_load(o->sound_data, o->lists, rs->fold, msg, sizeof msg))) {
        fe_errors_add(err, "%s", msg);
        return -1;
    }
    uint64_t h = fe_rd_hash(rs->readings);
    rs->opt_hash = fe_hash(rs->opt_hash, &h, sizeof h);
    if (!(rs->views_used & shape))
        return 0;
    if (!(rs->shapes = fe_shapes_load(o->shape_data, o->lists, rs->fold, msg, sizeof msg))) {
        fe_errors_add(err, "%s", msg);
        return -1;
    }
    h = fe_shapes_hash(rs->shapes);
    rs->opt_hash = fe_hash(rs->opt_hash, &h, sizeof h);
    if (!(rs->splits = fe_splits_new()))
        goto oom;
    for (size_t i = 0; i < rs->wl.n; i++)   /* the split view's pairs: from the entries */
        if ((fe_entry_views(rs, i) & FE_VIEW_BIT(FE_VIEW_SPLIT)) &&
            fe_splits_add(rs->splits, rs->shapes, rs->fold, rs->readings,
                          rs->wl.entries[i].term) < 0)
            goto oom;
    return 0;
oom:
    fe_errors_add(err, "out of memory");
    return -1;
}

fe_ruleset *fe_load(const fe_options *o, fe_errors *err)
{
    char msg[256];
    double t0 = now();
    int before = err->count;

    fe_hugemem_install();   /* before any database: each in 2 MB pages */
    fe_ruleset *rs = calloc(1, sizeof *rs);
    if (!rs) {
        fe_errors_add(err, "out of memory");
        return NULL;
    }
    memcpy(rs->policy, o->policy, sizeof rs->policy);
    memcpy(rs->views_off, o->views_off, sizeof rs->views_off);
    memcpy(rs->view_action, o->view_action, sizeof rs->view_action);
    rs->sound_fuzzy = o->sound_fuzzy;
    rs->max_text = o->max_text_bytes;
    int bad = fe_wl_load_dir(&rs->wl, o->lists, err) < 0;
    if (!(rs->fold = fe_fold_build(msg, sizeof msg))) {
        fe_errors_add(err, "normalisation tables: %s", msg);
        goto fail;
    }
    if (load_readings(rs, o, err) < 0)
        goto fail;
    /* each entry's pattern; compile.c grows it for the disguise patterns */
    rs->rcap = rs->wl.n ? 2 * rs->wl.n : 1;
    if (!(rs->rules = calloc(rs->rcap, sizeof *rs->rules))) {
        fe_errors_add(err, "out of memory");
        goto fail;
    }
    if (bad) {   /* still fold and check what parsed: report every error at once */
        fe_compile(rs, 1, err);
        goto fail;
    }
    if (!o->cache_dir[0])
        snprintf(rs->cache_note, sizeof rs->cache_note, "off");
    else
        rs->cached = fe_cache_read(rs, o->cache_dir) == 0;
    if (!rs->cached) {
        if (fe_compile(rs, 0, err) < 0)
            goto fail;
        if (o->cache_dir[0])
            fe_cache_write(rs, o->cache_dir, o->cache_keep);
    }
    snprintf(rs->version, sizeof rs->version, "wl-%016llx",
             (unsigned long long)fe_content_hash(rs));
    rs->compile_s = now() - t0;
#ifdef __GLIBC__
    malloc_trim(0);   /* give the compiler's garbage back before workers fork */
#endif
    return rs;
fail:
    if (err->count == before)
        fe_errors_add(err, "loading word lists failed");
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
    fe_readings_free(rs->readings);
    fe_shapes_free(rs->shapes);
    fe_splits_free(rs->splits);
    fe_wl_free(&rs->wl);
    fe_errors_clear(&rs->warnings);
    free(rs->rules);
    free(rs);
}

const char *fe_ruleset_version(const fe_ruleset *rs) { return rs->version; }
int fe_ruleset_cached(const fe_ruleset *rs) { return rs->cached; }
const char *fe_ruleset_cache_note(const fe_ruleset *rs) { return rs->cache_note; }
const fe_errors *fe_ruleset_warnings(const fe_ruleset *rs) { return &rs->warnings; }
size_t fe_ruleset_entries(const fe_ruleset *rs) { return rs->wl.n; }
double fe_ruleset_compile_seconds(const fe_ruleset *rs) { return rs->compile_s; }
const fe_fold *fe_ruleset_fold(const fe_ruleset *rs) { return rs->fold; }

struct hs_database *fe_ruleset_hs_db(const fe_ruleset *rs, int view)
{
    switch (view) {
    case FE_VIEW_FOLDED: case FE_VIEW_COMPACT: return rs->db[view];
    case FE_VIEW_EMOJI: return rs->readings ? rs->db[DB_COMPACT] : NULL;
    case FE_VIEW_PHONETIC: return rs->db[DB_PHONETIC];
    case FE_VIEW_LEET: return rs->db[DB_LEET];
    case FE_VIEW_SPLIT: return rs->splits ? rs->db[DB_COMPACT] : NULL;
    case FE_VIEW_SHAPE: return rs->db[DB_SHAPE];
    case FE_VIEW_INITIALS: return rs->db[DB_INITIALS];
    default: return NULL;
    }
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
    m += rs->wl.n * sizeof(fe_entry) + rs->rcap * sizeof(rule);
    if (rs->readings)
        m += fe_readings_memory(rs->readings);
    if (rs->shapes)
        m += fe_shapes_memory(rs->shapes);
    if (rs->splits)
        m += fe_splits_memory(rs->splits);
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
    out->views = rs->rules[i].views;
    out->regex = !!(e->flags & FE_E_RE);
    out->word = !!(e->flags & FE_E_WORD);
    out->allow = !!(e->flags & FE_E_ALLOW);
    return FE_OK;
}

const char *fe_build_info(void)
{
    static char info[128];
    if (!info[0])
        snprintf(info, sizeof info, "engine %s, Hyperscan %s, ICU %s", FE_ENGINE_BUILD,
                 hs_version(), U_ICU_VERSION);
    return info;
}

fe_action fe_policy_action(const fe_ruleset *rs, int scene, int label, fe_action listed)
{
    if (scene < 0 || scene >= FE_NSCENES || label < 0 || label >= FE_NLABELS)
        return listed;
    return rs->policy[scene][label] >= 0 ? (fe_action)rs->policy[scene][label] : listed;
}

/* ---- parsing without compiling (fe_listing) ------------------------------- */

struct fe_listing {
    fe_wordlists wl;
};

fe_listing *fe_listing_load(const char *dir, fe_errors *err)
{
    fe_errors none = FE_ERRORS_INIT;
    fe_listing *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    fe_wl_load_dir(&l->wl, dir, err ? err : &none);
    fe_errors_clear(&none);
    return l;
}

size_t fe_listing_count(const fe_listing *l)
{
    return l->wl.n;
}

int fe_listing_get(const fe_listing *l, size_t i, fe_entry_info *out)
{
    if (i >= l->wl.n)
        return FE_ERR;
    const fe_entry *e = &l->wl.entries[i];
    memset(out, 0, sizeof *out);
    out->term = e->term;
    out->file = l->wl.files[e->file];
    out->line = e->line;
    out->label = e->label;
    out->action = (fe_action)e->action;
    out->regex = !!(e->flags & FE_E_RE);
    out->word = !!(e->flags & FE_E_WORD);
    out->allow = !!(e->flags & FE_E_ALLOW);
    return FE_OK;
}

void fe_listing_free(fe_listing *l)
{
    if (!l)
        return;
    fe_wl_free(&l->wl);
    free(l);
}
