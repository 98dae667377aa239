/* bench_engine.c -- engine throughput (fold + match + decide) against raw hs_scan.
 *
 * Usage: bench_engine [--lists DIR] [--seconds S] [--rounds N] [--json] POSTS_FILE
 *
 * Loads the lists as the daemon does (fe_conf_defaults + lists), reads every
 * post (one per line) into memory, folds every post once into stored views,
 * then runs four passes over all posts, interleaved in rounds so that they
 * share the machine's noise:
 *   full - fe_scan() of each post: fold, the disguise views' passes, hs_scan
 *          per view, callback, decision;
 *   raw  - hs_scan() of the engine's own databases (fe_ruleset_hs_db) over
 *          every view built beforehand, with a callback that only counts: the
 *          ceiling the engine's matching can reach;
 *   fold - fe_fold_text() alone (the base views), to show where time goes;
 *   base - fe_scan() with the same lists and every disguise view off (issue 9:
 *          what the disguise views cost).
 * Then, once, raw hs_scan of each view's database alone (the cost of each view).
 * Throughput is counted in posts and in MB (10^6 bytes) of input text, for
 * every pass, so full/raw compares like with like. Figures are medians of the
 * rounds. Targets are printed with PASS or MISS; the exit status is 0 unless
 * something failed to run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <hs/hs.h>

#include "engine.h"
#include "posts.h"

#define DEFAULT_LISTS "wordlists"
#define DEFAULT_SECONDS 6.0      /* measured time per pass, over all rounds, s */
#define DEFAULT_ROUNDS 5         /* full/raw/fold interleaved this many times */
#define MAX_ROUNDS 101
#define TARGET_RATIO 0.40        /* full engine / raw hs_scan, every view on (issue 9), at least */
#define TARGET_TERMS 50000       /* the compile target applies from this many entries */
#define TARGET_COMPILE_S 10.0    /* load + compile of TARGET_TERMS, every view, s, below */
#define TARGET_MEMORY (300u << 20) /* fe_ruleset_memory, bytes, below */
#define MB 1e6                   /* bytes per MB in throughput figures */
#define ERRLEN 512

enum { PASS_FULL, PASS_RAW, PASS_FOLD, PASS_BASE, NPASS };
static const char *pass_names[NPASS] = {"full", "raw", "fold", "base"};

typedef struct fb_opts {
    const char *lists, *posts;
    double seconds;
    int rounds, json;
} fb_opts;

/* The posts folded once: view v of post i is buf[v] + off[v][i], len[v][i] bytes. */
typedef struct fb_folded {
    char *buf[FE_NVIEWS];
    size_t *off[FE_NVIEWS], *len[FE_NVIEWS];
} fb_folded;

/* What a pass saw, to check that full and raw do the same work. */
typedef struct fb_tally {
    size_t matches, flagged, blocked;
} fb_tally;

typedef struct fb_bench {
    const fe_ruleset *rs, *base;  /* the lists; the same with every disguise view off */
    fe_scratch *sc, *base_sc;
    hs_scratch_t *hs;
    fb_posts posts;
    fb_folded folded;
    fe_viewbuf views[FE_NVIEWS];  /* for the fold pass */
    int reps;                     /* passes over all posts per timed run */
    double secs[NPASS][MAX_ROUNDS];
    fb_tally tally[NPASS];
    double view_secs[FE_NVIEWS];  /* raw hs_scan of one view's database alone */
} fb_bench;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_engine [--lists DIR] [--seconds S] [--rounds N] [--json] "
                    "POSTS_FILE\n");
    exit(2);
}

static void parse_args(int argc, char **argv, fb_opts *o)
{
    *o = (fb_opts){DEFAULT_LISTS, NULL, DEFAULT_SECONDS, DEFAULT_ROUNDS, 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("bench_engine %s (%s)\n", FILTERD_VERSION, fe_build_info());
            exit(0);
        }
        if (!strcmp(argv[i], "--lists") && i + 1 < argc)
            o->lists = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            o->seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            o->rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            o->json = 1;
        else if (argv[i][0] == '-' || o->posts)
            usage();
        else
            o->posts = argv[i];
    }
    if (!o->posts || o->seconds <= 0 || o->rounds < 1 || o->rounds > MAX_ROUNDS)
        usage();
}

/* ---- input ---------------------------------------------------------------- */

/* ---- setup ---------------------------------------------------------------- */

static size_t longest_post(const fb_posts *p)
{
    size_t m = 0;
    for (size_t i = 0; i < p->n; i++)
        m = p->len[i] > m ? p->len[i] : m;
    return m;
}

/* Build every view of every post once (an fe_scan leaves them in the
 * scratch) and keep them back to back. */
static int fold_all(fb_bench *b, char *err)
{
    const fb_posts *p = &b->posts;
    fe_result res;
    size_t cap = p->bytes * 2 + 16, used[FE_NVIEWS] = {0};

    for (int v = 0; v < FE_NVIEWS; v++) {
        b->folded.buf[v] = malloc(cap);
        b->folded.off[v] = malloc(p->n * sizeof *b->folded.off[v]);
        b->folded.len[v] = malloc(p->n * sizeof *b->folded.len[v]);
        if (!b->folded.buf[v] || !b->folded.off[v] || !b->folded.len[v])
            goto oom;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (fe_scan(b->rs, b->sc, p->text + p->off[i], p->len[i], FE_S_COMMENT, &res, err,
                    ERRLEN) != FE_OK)
            return -1;
        for (int v = 0; v < FE_NVIEWS; v++) {
            const fe_viewbuf *vb = fe_scratch_view(b->sc, v);
            size_t n = v == FE_VIEW_INITIALS ? 0 : vb->len;   /* initials: in folded */
            if (used[v] + n > cap) {
                char *nb = realloc(b->folded.buf[v], cap = cap * 2 + n);
                if (!nb)
                    goto oom;
                b->folded.buf[v] = nb;
            }
            memcpy(b->folded.buf[v] + used[v], vb->buf, n);
            b->folded.off[v][i] = used[v];
            b->folded.len[v][i] = n;
            used[v] += n;
        }
    }
    return 0;
oom:
    snprintf(err, ERRLEN, "out of memory folding the posts");
    return -1;
}

static int bench_init(fb_bench *b, const fe_ruleset *rs, const fe_ruleset *base,
                      const fb_opts *o, char *err)
{
    memset(b, 0, sizeof *b);
    b->rs = rs;
    b->base = base;
    b->reps = 1;
    if (fb_posts_load(&b->posts, o->posts, err, ERRLEN) < 0)
        return -1;
    if (!(b->sc = fe_scratch_new(rs, err, ERRLEN)) ||
        !(b->base_sc = fe_scratch_new(base, err, ERRLEN)))
        return -1;
    for (int v = 0; v < FE_NVIEWS; v++) {
        hs_database_t *db = fe_ruleset_hs_db(rs, v);
        if (db && hs_alloc_scratch(db, &b->hs) != HS_SUCCESS) {
            snprintf(err, ERRLEN, "cannot allocate Hyperscan scratch");
            return -1;
        }
        if (fe_viewbuf_alloc(fe_ruleset_fold(rs), &b->views[v], longest_post(&b->posts)) < 0) {
            snprintf(err, ERRLEN, "out of memory");
            return -1;
        }
    }
    return fold_all(b, err);
}

static void bench_free(fb_bench *b)
{
    fe_scratch_free(b->sc);
    fe_scratch_free(b->base_sc);
    hs_free_scratch(b->hs);
    for (int v = 0; v < FE_NVIEWS; v++) {
        fe_viewbuf_free(&b->views[v]);
        free(b->folded.buf[v]);
        free(b->folded.off[v]);
        free(b->folded.len[v]);
    }
    fb_posts_free(&b->posts);
}

/* ---- the passes ----------------------------------------------------------- */

static int scan_all(const fe_ruleset *rs, fe_scratch *sc, const fb_posts *p, fb_tally *t,
                    char *err)
{
    fe_result r;
    for (size_t i = 0; i < p->n; i++) {
        int rc = fe_scan(rs, sc, p->text + p->off[i], p->len[i], FE_S_COMMENT, &r, err,
                         ERRLEN);
        if (rc != FE_OK)
            return -1;
        t->matches += r.nmatches;
        t->flagged += r.decision == FE_FLAG;
        t->blocked += r.decision == FE_BLOCK;
    }
    return 0;
}

static int pass_full(fb_bench *b, fb_tally *t, char *err)
{
    return scan_all(b->rs, b->sc, &b->posts, t, err);
}

static int pass_base(fb_bench *b, fb_tally *t, char *err)
{
    return scan_all(b->base, b->base_sc, &b->posts, t, err);
}

static int count_match(unsigned id, unsigned long long from, unsigned long long to,
                       unsigned flags, void *arg)
{
    (void)id, (void)from, (void)to, (void)flags;
    ++*(size_t *)arg;
    return 0;
}

/* hs_scan of the views from..to-1 of every post. */
static int raw_views(fb_bench *b, fb_tally *t, int from, int to, char *err)
{
    const fb_posts *p = &b->posts;
    for (size_t i = 0; i < p->n; i++)
        for (int v = from; v < to; v++) {
            hs_database_t *db = fe_ruleset_hs_db(b->rs, v);
            size_t len = b->folded.len[v][i];
            if (!db || !len)
                continue;
            if (hs_scan(db, b->folded.buf[v] + b->folded.off[v][i], (unsigned)len, 0, b->hs,
                        count_match, &t->matches) != HS_SUCCESS) {
                snprintf(err, ERRLEN, "hs_scan failed");
                return -1;
            }
        }
    return 0;
}

static int pass_raw(fb_bench *b, fb_tally *t, char *err)
{
    return raw_views(b, t, 0, FE_NVIEWS, err);
}

/* Each view's database alone over its view, once per rep (not in the rounds). */
static int time_views(fb_bench *b, char *err)
{
    for (int v = 0; v < FE_NVIEWS; v++) {
        fb_tally t = {0};
        double t0 = now();
        for (int r = 0; r < b->reps; r++)
            if (raw_views(b, &t, v, v + 1, err) < 0)
                return -1;
        b->view_secs[v] = (now() - t0) / b->reps;
    }
    return 0;
}

static int pass_fold(fb_bench *b, fb_tally *t, char *err)
{
    const fe_fold *fold = fe_ruleset_fold(b->rs);
    const fb_posts *p = &b->posts;
    (void)err;
    for (size_t i = 0; i < p->n; i++) {
        fe_fold_text(fold, p->text + p->off[i], p->len[i], b->views);
        t->matches += b->views[FE_VIEW_FOLDED].len;  /* keeps the work observable */
    }
    return 0;
}

typedef int (*fb_pass_fn)(fb_bench *, fb_tally *, char *);
static const fb_pass_fn pass_fns[NPASS] = {pass_full, pass_raw, pass_fold, pass_base};

/* Run pass k b->reps times over all posts; seconds into *secs. */
static int timed(fb_bench *b, int k, double *secs, char *err)
{
    fb_tally t = {0};
    double t0 = now();
    for (int r = 0; r < b->reps; r++) {
        t = (fb_tally){0};
        if (pass_fns[k](b, &t, err) < 0)
            return -1;
    }
    *secs = now() - t0;
    b->tally[k] = t;
    return 0;
}

/* Choose reps so that one round of the slowest pass (full) takes about
 * seconds / rounds; warms caches and pages in at the same time. */
static int calibrate(fb_bench *b, const fb_opts *o, char *err)
{
    double s = 0;
    for (int k = 0; k < NPASS; k++)
        if (timed(b, k, &s, err) < 0)
            return -1;
    if (timed(b, PASS_FULL, &s, err) < 0)
        return -1;
    double want = o->seconds / o->rounds;
    b->reps = s > 0 && want > s ? (int)(want / s + 0.5) : 1;
    return 0;
}

static int run_rounds(fb_bench *b, const fb_opts *o, char *err)
{
    for (int r = 0; r < o->rounds; r++)
        for (int k = 0; k < NPASS; k++)
            if (timed(b, k, &b->secs[k][r], err) < 0)
                return -1;
    return 0;
}

/* ---- report --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

typedef struct fb_report {
    size_t entries, db_size, memory;
    double compile_s, maxrss_mb, rss_mb;
    double posts_s[NPASS], mb_s[NPASS], us_post[NPASS];
    double view_mb_s[FE_NVIEWS];  /* 0: the view has no database of its own */
    double ratio, base_ratio;
    const char *t_ratio, *t_compile, *t_memory;
} fb_report;

static double peak_rss_mb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0;  /* KiB */
}

/* Resident memory now, from /proc (Linux); 0 when unknown. */
static double rss_now_mb(void)
{
    char line[256];
    double kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atof(line + 6);
    if (f)
        fclose(f);
    return kb / 1024.0;
}

static void make_report(const fb_bench *b, const fb_opts *o, fb_report *r)
{
    r->entries = fe_ruleset_entries(b->rs);
    r->db_size = fe_ruleset_db_size(b->rs);
    r->memory = fe_ruleset_memory(b->rs);
    r->compile_s = fe_ruleset_compile_seconds(b->rs);
    for (int k = 0; k < NPASS; k++) {
        double s = median(b->secs[k], o->rounds) / b->reps;
        r->posts_s[k] = (double)b->posts.n / s;
        r->mb_s[k] = (double)b->posts.bytes / MB / s;
        r->us_post[k] = s * 1e6 / (double)b->posts.n;
    }
    r->ratio = r->mb_s[PASS_FULL] / r->mb_s[PASS_RAW];
    r->base_ratio = r->mb_s[PASS_FULL] / r->mb_s[PASS_BASE];
    for (int v = 0; v < FE_NVIEWS; v++)   /* emoji: the compact database, on the few posts with emoji */
        r->view_mb_s[v] = v != FE_VIEW_EMOJI && fe_ruleset_hs_db(b->rs, v) && b->view_secs[v] > 0
                              ? (double)b->posts.bytes / MB / b->view_secs[v] : 0;
    r->t_ratio = r->ratio >= TARGET_RATIO ? "PASS" : "MISS";
    r->t_compile = r->entries < TARGET_TERMS ? "n/a" :
                   r->compile_s < TARGET_COMPILE_S ? "PASS" : "MISS";
    r->t_memory = r->memory < TARGET_MEMORY ? "PASS" : "MISS";
    r->maxrss_mb = peak_rss_mb();
    r->rss_mb = rss_now_mb();
}

static void print_text(const fb_bench *b, const fb_opts *o, const fb_report *r)
{
    printf("lists          %s: %zu entries, version %s\n", o->lists, r->entries,
           fe_ruleset_version(b->rs));
    printf("compile        %.3f s (load + fold tables + Hyperscan)   target < %.0f s "
           "for >= %d entries: %s\n", r->compile_s, TARGET_COMPILE_S, TARGET_TERMS,
           r->t_compile);
    printf("database       %.2f MB (Hyperscan, all views)\n", (double)r->db_size / MB);
    printf("rule set       %.2f MB (databases, fold tables, entries)   target < %u MB: %s\n",
           (double)r->memory / MB, TARGET_MEMORY >> 20, r->t_memory);
    printf("posts          %s: %zu posts, %.2f MB; %d rounds x %d passes each\n", o->posts,
           b->posts.n, (double)b->posts.bytes / MB, o->rounds, b->reps);
    for (int k = 0; k < NPASS; k++)
        printf("%-5s          %10.0f posts/s %8.1f MB/s %8.2f us/post   (%zu %s)\n",
               pass_names[k], r->posts_s[k], r->mb_s[k], r->us_post[k], b->tally[k].matches,
               k == PASS_FOLD ? "folded bytes" : "matches");
    printf("views          full with the disguise views / without them (base): %.1f%%\n",
           r->base_ratio * 100);
    printf("raw per view  ");
    for (int v = 0; v < FE_NVIEWS; v++)
        if (r->view_mb_s[v] > 0)
            printf(" %s %.0f MB/s", fe_view_name(v), r->view_mb_s[v]);
    printf("   (each database alone over its view)\n");
    printf("decisions      %zu flagged, %zu blocked of %zu posts\n", b->tally[PASS_FULL].flagged,
           b->tally[PASS_FULL].blocked, b->posts.n);
    printf("full/raw       %.1f%%   target >= %.0f%%: %s\n", r->ratio * 100, TARGET_RATIO * 100,
           r->t_ratio);
    printf("peak RSS       %.1f MB (ru_maxrss, includes Hyperscan compile); now %.1f MB\n",
           r->maxrss_mb, r->rss_mb);
}

static void print_json(const fb_bench *b, const fb_opts *o, const fb_report *r)
{
    printf("{\"lists\":\"%s\",\"entries\":%zu,\"compile_s\":%.3f,\"db_bytes\":%zu,"
           "\"ruleset_bytes\":%zu,\"posts\":%zu,\"post_bytes\":%zu,\"rounds\":%d,\"reps\":%d",
           o->lists, r->entries, r->compile_s, r->db_size, r->memory, b->posts.n,
           b->posts.bytes, o->rounds, b->reps);
    for (int k = 0; k < NPASS; k++)
        printf(",\"%s\":{\"posts_s\":%.0f,\"mb_s\":%.2f,\"us_post\":%.3f}", pass_names[k],
               r->posts_s[k], r->mb_s[k], r->us_post[k]);
    printf(",\"matches\":%zu,\"raw_matches\":%zu,\"flagged\":%zu,\"blocked\":%zu",
           b->tally[PASS_FULL].matches, b->tally[PASS_RAW].matches, b->tally[PASS_FULL].flagged,
           b->tally[PASS_FULL].blocked);
    printf(",\"base_ratio\":%.4f,\"views\":{", r->base_ratio);
    for (int v = 0, k = 0; v < FE_NVIEWS; v++)
        if (r->view_mb_s[v] > 0)
            printf("%s\"%s\":%.2f", k++ ? "," : "", fe_view_name(v), r->view_mb_s[v]);
    printf("}");
    printf(",\"ratio\":%.4f,\"maxrss_mb\":%.1f,\"rss_mb\":%.1f,\"targets\":{\"ratio\":\"%s\",\"compile\":\"%s\","
           "\"memory\":\"%s\"}}\n", r->ratio, r->maxrss_mb, r->rss_mb, r->t_ratio, r->t_compile,
           r->t_memory);
}

/* ---- main ----------------------------------------------------------------- */

/* The lists with every view (base: with the disguise views off). */
static fe_ruleset *load(const char *lists, int base)
{
    fe_options opt;
    fe_errors errs = FE_ERRORS_INIT;
    fe_options_init(&opt);
    snprintf(opt.lists, sizeof opt.lists, "%s", lists);
    if (base)
        memset(opt.views_off, FE_DISGUISE_VIEWS, sizeof opt.views_off);
    fe_ruleset *rs = fe_load(&opt, &errs);
    if (!rs)
        fprintf(stderr, "bench_engine: %s: cannot load the lists (%d errors):\n%s", lists,
                errs.count, errs.text ? errs.text : "");
    fe_errors_clear(&errs);
    return rs;
}

int main(int argc, char **argv)
{
    fb_opts o;
    fb_bench b;
    fb_report r;
    char err[ERRLEN] = "";
    int rc = 1;

    parse_args(argc, argv, &o);
    fe_ruleset *rs = load(o.lists, 0), *base = rs ? load(o.lists, 1) : NULL;
    if (!base) {
        fe_ruleset_free(rs);
        return 1;
    }
    if (bench_init(&b, rs, base, &o, err) < 0 || calibrate(&b, &o, err) < 0 ||
        run_rounds(&b, &o, err) < 0 || time_views(&b, err) < 0) {
        fprintf(stderr, "bench_engine: %s\n", err);
        goto out;
    }
    make_report(&b, &o, &r);
    if (o.json)
        print_json(&b, &o, &r);
    else
        print_text(&b, &o, &r);
    rc = 0;
out:
    bench_free(&b);
    fe_ruleset_free(rs);
    fe_ruleset_free(base);
    return rc;
}
