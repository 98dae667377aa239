/* cmd_eval.c -- filterctl eval: run word lists offline over corpora and measure them.
 *
 *   filterctl eval --lists DIR [--baseline DIR] [--clean FILE]... [--labelled FILE]...
 *                  [--config FILE] [--scene S] [--json] [--html FILE] [--examples N] [--top N]
 *
 * Clean corpora (one text per line) give the share of texts flagged or
 * blocked and the entries that fire most. Labelled corpora (CSV with a
 * header, or JSON Lines; columns text|content, label, topic found by name)
 * give precision and recall of "not allow" against label 1, overall and per
 * topic, and of block and flag apart, and per label. With a baseline, every text is also scanned with the old lists and
 * each change of decision is reported with the entries behind it and its
 * spans, and the entries added and removed are listed (fe_ruleset_diff_each).
 * --html FILE also writes the report as one page (eval_html.c).
 *
 * The hot loop scans with one scratch per list version and allocates only
 * for what it keeps: an example text (at most --examples per entry), a
 * change, a new topic. Entry counts use a stamp per entry, so an entry that
 * matches twice in a text counts once without clearing anything per text.
 *
 * This file has the options, the loading, the counting and the command;
 * eval_corpus.c reads the corpora, eval_report.c prints the report, and
 * eval.h holds what they share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cliopt.h"
#include "commands.h"
#include "eval.h"
#include "offline.h"

/* ---- options ---------------------------------------------------------------- */

static int parse_count(const char *s, unsigned *out)
{
    long v;
    if (fc_opt_long(s, 0, 1000000, &v) < 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int add_corpus(eval *ev, const char *path, int labelled)
{
    if (ev->ncorp == MAX_CORPORA) {
        fprintf(stderr, "filterctl eval: at most %d corpora\n", MAX_CORPORA);
        return -1;
    }
    corpus *c = &ev->corp[ev->ncorp++];
    c->path = path;
    c->labelled = labelled;
    return 0;
}

/* One option at argv[*i]. Returns 0, 1 for --help, or -1 (reported). */
static int parse_one(eval *ev, int argc, char **argv, int *i, const char **lists,
                     const char **scene)
{
    const char *v = NULL, *a = argv[*i];
    int r;

    if (!strcmp(a, "-h") || !strcmp(a, "--help"))
        return 1;
    if (!strcmp(a, "--json")) {
        ev->json = 1;
        return 0;
    }
    if ((r = fc_opt_value(argc, argv, i, "--lists", lists)) ||
        (r = fc_opt_value(argc, argv, i, "--baseline", &ev->s[OLD].dir)) ||
        (r = fc_opt_value(argc, argv, i, "--html", &ev->html)) ||
        (r = fc_opt_value(argc, argv, i, "--config", &ev->config)) ||
        (r = fc_opt_value(argc, argv, i, "--scene", scene)))
        goto value;
    if ((r = fc_opt_value(argc, argv, i, "--clean", &v)) > 0)
        return add_corpus(ev, v, 0);
    if (r == 0 && (r = fc_opt_value(argc, argv, i, "--labelled", &v)) > 0)
        return add_corpus(ev, v, 1);
    if (r == 0 && (r = fc_opt_value(argc, argv, i, "--examples", &v)) > 0) {
        if (parse_count(v, &ev->examples) == 0)
            return 0;
        fprintf(stderr, "filterctl eval: --examples needs a count, not '%s'\n", v);
        return -1;
    }
    if (r == 0 && (r = fc_opt_value(argc, argv, i, "--top", &v)) > 0) {
        if (parse_count(v, &ev->top) == 0)
            return 0;
        fprintf(stderr, "filterctl eval: --top needs a count, not '%s'\n", v);
        return -1;
    }
value:
    if (r > 0)
        return 0;
    if (r < 0)
        fprintf(stderr, "filterctl eval: %s needs a value\n", a);
    else
        fprintf(stderr, "filterctl eval: unknown argument '%s'\n", a);
    return -1;
}

static int parse_args(eval *ev, int argc, char **argv, const char **lists, const char **scene)
{
    for (int i = 1; i < argc; i++) {
        int r = parse_one(ev, argc, argv, &i, lists, scene);
        if (r)
            return r;
    }
    if (!ev->ncorp) {
        fprintf(stderr, "filterctl eval: give at least one --clean or --labelled corpus\n");
        return -1;
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------------ */

static void print_errors(const char *dir, const fe_errors *err)
{
    fprintf(stderr, "filterctl eval: the lists in %s did not load:\n", dir ? dir : "(config)");
    fc_print_errors(stderr, err);
}

/* The lists of s->dir (or the config's) with the config's policies. The
 * folder is put in here rather than through fc_offline_config, so that an
 * over-long --lists or --baseline keeps its own message. */
static int load_side(eval *ev, side *s)
{
    static fd_config cfg;         /* large (paths): not on the stack */
    fe_errors err = FE_ERRORS_INIT;
    char msg[ERR_LEN];

    if (fc_offline_config(ev->config, NULL, &cfg, &err) < 0) {
        print_errors(cfg.path[0] ? cfg.path : ev->config, &err);
        goto fail;
    }
    fc_offline_config_name(&cfg, ev->config_name, sizeof ev->config_name);
    if (s->dir && snprintf(cfg.engine.lists, sizeof cfg.engine.lists, "%s", s->dir) >=
                      (int)sizeof cfg.engine.lists) {
        fprintf(stderr, "filterctl eval: path too long: %s\n", s->dir);
        goto fail;
    }
    if (!s->dir) {
        memcpy(s->path, cfg.engine.lists, sizeof s->path);
        s->dir = s->path;
    }
    if (!(s->rs = fe_load(&cfg.engine, &err))) {
        print_errors(cfg.engine.lists, &err);
        goto fail;
    }
    if (!(s->sc = fe_scratch_new(s->rs, msg, sizeof msg))) {
        fprintf(stderr, "filterctl eval: %s\n", msg);
        goto fail;
    }
    fe_errors_clear(&err);
    return 0;
fail:
    fe_errors_clear(&err);
    return -1;
}

/* ---- counting ------------------------------------------------------------------ */

static void count(counts *c, int decision, int label)
{
    c->texts++;
    if (decision < 0) {
        c->too_large++;
        return;
    }
    c->flag += decision == FE_FLAG;
    c->block += decision == FE_BLOCK;
    if (label < 0)
        return;
    int caught = decision != FE_ALLOW;
    if (label)
        caught ? c->tp++ : c->fn++;
    else
        caught ? c->fp++ : c->tn++;
    if (caught)
        label ? c->act[decision == FE_BLOCK ? ACT_BLOCK : ACT_FLAG].tp++
              : c->act[decision == FE_BLOCK ? ACT_BLOCK : ACT_FLAG].fp++;
}

/* A text not allowed: count it under each of its labels (label 1: tp, else fp). */
static void count_labels(tally *per_label, const fe_result *r, int label)
{
    for (int l = 0; l < FE_NLABELS; l++)
        if (r->labels & (1u << l))
            label == 1 ? per_label[l].tp++ : per_label[l].fp++;
}

/* The topic named name (added when new; past MAX_TOPICS: "(other)"). NULL if out of memory. */
static topic *find_topic(corpus *cp, const char *name)
{
    for (size_t i = 0; i < cp->ntopics; i++)
        if (!strcmp(cp->topics[i].name, name))
            return &cp->topics[i];
    if (cp->ntopics == MAX_TOPICS)
        name = "(other)";
    topic *t = &cp->topics[cp->ntopics];
    if (!(t->name = strdup(name)))
        return NULL;
    cp->ntopics++;
    return t;
}

/* A copy of text for a report: at most max bytes, cut at a character boundary. */
static char *clip(const char *text, size_t len, size_t max)
{
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, text, len);
        s[len] = '\0';
    }
    return s;
}

static int keep_example(eval *ev, hit *h, const char *text, size_t len)
{
    if (h->nex >= ev->examples)
        return 0;
    if (!h->ex && !(h->ex = calloc(ev->examples, sizeof *h->ex)))
        return -1;
    if (!(h->ex[h->nex] = clip(text, len, EXAMPLE_MAX)))
        return -1;
    h->nex++;
    return 0;
}

/* Count each entry of the new lists that fired in this text, once. */
static int record_hits(eval *ev, corpus *cp, const fe_result *r, const char *text, size_t len,
                       int label)
{
    for (size_t i = 0; i < r->nmatches; i++) {
        const fe_match *m = &r->matches[i];
        hit *h = &cp->hits[m->entry];
        if (!fe_match_counts(m) || h->stamp == ev->stamp)
            continue;
        h->stamp = ev->stamp;
        if (label == 1)
            h->pos++;
        else if (h->clean++, keep_example(ev, h, text, len) < 0)
            return -1;
    }
    return 0;
}

/* The entries whose action is the decision: what decided, on one side. */
static uint8_t deciders(const fe_result *r, uint32_t *out)
{
    uint8_t n = 0;
    for (size_t i = 0; i < r->nmatches && n < MAX_WHY; i++) {
        const fe_match *m = &r->matches[i];
        if (!fe_match_counts(m) || m->action != r->decision)
            continue;
        int dup = 0;
        for (uint8_t j = 0; j < n; j++)
            dup |= out[j] == m->entry;
        if (!dup)
            out[n++] = m->entry;
    }
    return n;
}

/* The first MAX_SPANS matches that count: what the page highlights. */
static uint8_t spans_of(const fe_result *r, span *out)
{
    uint8_t n = 0;
    for (size_t i = 0; i < r->nmatches && n < MAX_SPANS; i++) {
        const fe_match *m = &r->matches[i];
        if (fe_match_counts(m))
            out[n++] = (span){m->start, m->end, m->entry, m->label, (int)i == r->decider};
    }
    return n;
}

static int record_change(corpus *cp, const fe_result r[2], const char *text, size_t len,
                         unsigned long line)
{
    if (cp->nchanges == cp->chcap) {
        size_t cap = cp->chcap ? cp->chcap * 2 : 64;
        change *c = realloc(cp->changes, cap * sizeof *c);
        if (!c)
            return -1;
        cp->changes = c;
        cp->chcap = cap;
    }
    change *c = &cp->changes[cp->nchanges];
    c->line = line;
    c->from = (uint8_t)r[OLD].decision;
    c->to = (uint8_t)r[NEW].decision;
    c->nwhy[NEW] = deciders(&r[NEW], c->why[NEW]);
    c->nwhy[OLD] = deciders(&r[OLD], c->why[OLD]);
    c->nspans[NEW] = spans_of(&r[NEW], c->spans[NEW]);
    c->nspans[OLD] = spans_of(&r[OLD], c->spans[OLD]);
    if (!(c->text = clip(text, len, len)))
        return -1;
    cp->nchanges++;
    return 0;
}

/* Scan one text with each list version and count it. label: 1, 0 or -1 (clean corpus). */
int fc_eval_text(eval *ev, corpus *cp, const char *text, size_t len, int label,
                 const char *topic_name, unsigned long line)
{
    char err[ERR_LEN];
    fe_result r[2];
    int dec[2] = {-1, -1};
    topic *t = NULL;

    if (topic_name && *topic_name && !(t = find_topic(cp, topic_name)))
        return -1;
    ev->stamp++;
    ev->texts++;
    for (int i = 0; i < ev->nsides; i++) {
        int rc = fe_scan(ev->s[i].rs, ev->s[i].sc, text, len, ev->scene, &r[i], err, sizeof err);
        if (rc != FE_OK && rc != FE_ETOOLARGE) {
            fprintf(stderr, "filterctl eval: %s:%lu: %s\n", cp->path, line, err);
            return -1;
        }
        dec[i] = rc == FE_OK ? (int)r[i].decision : -1;
        count(&cp->c[i], dec[i], label);
        if (dec[i] == FE_FLAG || dec[i] == FE_BLOCK)
            count_labels(cp->label[i], &r[i], label);
        if (t)
            count(&t->c[i], dec[i], label);
    }
    if (dec[NEW] >= 0 && (record_hits(ev, cp, &r[NEW], text, len, label) < 0 ||
                          fc_eval_views(ev, cp, &r[NEW], text, len, label) < 0))
        return -1;
    if (ev->nsides < 2 || dec[NEW] < 0 || dec[OLD] < 0 || dec[NEW] == dec[OLD])
        return 0;
    cp->kinds[dec[OLD]][dec[NEW]]++;
    return record_change(cp, r, text, len, line);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read and scan every corpus, timing it all. 0, or -1 (reported, or out of memory). */
static int run(eval *ev)
{
    size_t n = fe_ruleset_entries(ev->s[NEW].rs);
    double t0 = now();
    for (size_t i = 0; i < ev->ncorp; i++) {
        if (!(ev->corp[i].hits = calloc(n ? n : 1, sizeof(hit))))
            return -1;
        if (fc_eval_read_corpus(ev, &ev->corp[i]) < 0)
            return -1;
    }
    ev->seconds = now() - t0;
    return 0;
}

/* Keep an entry added or removed (fe_diff_fn): the first DIFF_LISTED of each. */
static void diff_one(void *arg, int added, uint32_t entry)
{
    evdiff *d = arg;
    if (added && d->nadded < DIFF_LISTED)
        d->added[d->nadded++] = entry;
    else if (!added && d->nremoved < DIFF_LISTED)
        d->removed[d->nremoved++] = entry;
    *(added ? &d->total_added : &d->total_removed) += 1;
}

/* The page (--html), written whole to a temporary file and renamed, so that
 * a reader never sees half of one. 0, or -1 after a message. */
static int write_html(const eval *ev)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", ev->html) >= (int)sizeof tmp) {
        fprintf(stderr, "filterctl eval: path too long: %s\n", ev->html);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    int rc = f ? fc_eval_report_html(ev, f) : -1;
    if (f && fclose(f) == EOF)
        rc = -1;
    if (rc == 0 && rename(tmp, ev->html) == 0)
        return 0;
    perror(f ? "filterctl eval: --html" : tmp);
    if (f)
        unlink(tmp);
    return -1;
}

/* ---- the command ------------------------------------------------------------------ */

static void eval_free(eval *ev)
{
    size_t n = ev->s[NEW].rs ? fe_ruleset_entries(ev->s[NEW].rs) : 0;
    for (size_t i = 0; i < ev->ncorp; i++) {
        corpus *cp = &ev->corp[i];
        for (size_t e = 0; cp->hits && e < n; e++) {
            for (uint32_t j = 0; j < cp->hits[e].nex; j++)
                free(cp->hits[e].ex[j]);
            free(cp->hits[e].ex);
        }
        free(cp->hits);
        fc_eval_views_free(ev, cp);
        for (size_t j = 0; j < cp->nchanges; j++)
            free(cp->changes[j].text);
        free(cp->changes);
        for (size_t j = 0; j < cp->ntopics; j++)
            free(cp->topics[j].name);
    }
    for (int s = 0; s < 2; s++) {
        fe_scratch_free(ev->s[s].sc);
        fe_ruleset_free(ev->s[s].rs);
    }
}

int fc_cmd_eval(int argc, char **argv)
{
    static eval ev;   /* large (corpora tables): not on the stack */
    const char *lists = NULL, *scene = NULL;
    int rc = FC_EXIT_USAGE, r;

    memset(&ev, 0, sizeof ev);
    ev.top = TOP_DEFAULT;
    ev.examples = EXAMPLES_DEFAULT;
    if ((r = parse_args(&ev, argc, argv, &lists, &scene))) {
        fc_usage(r > 0 ? stdout : stderr, "eval");
        return r > 0 ? FC_EXIT_OK : FC_EXIT_USAGE;
    }
    ev.scene = scene ? fe_scene_lookup(scene) : FE_SCENE_DEFAULT;
    if (ev.scene < 0) {
        fprintf(stderr, "filterctl eval: unknown scene '%s'\n", scene);
        return FC_EXIT_USAGE;
    }
    ev.s[NEW].dir = lists;
    ev.nsides = ev.s[OLD].dir ? 2 : 1;
    for (int s = 0; s < ev.nsides; s++)
        if (load_side(&ev, &ev.s[s]) < 0)
            goto out;
    rc = FC_EXIT_FAIL;
    if (ev.nsides > 1 &&
        fe_ruleset_diff_each(ev.s[OLD].rs, ev.s[NEW].rs, &ev.diff.d, diff_one, &ev.diff) != FE_OK)
        goto out;
    if (run(&ev) < 0)
        goto out;
    r = ev.json ? fc_eval_report_json(&ev, stdout) : fc_eval_report_text(&ev, stdout);
    if (r < 0 || fflush(stdout) == EOF)
        perror("filterctl eval: stdout");
    else if (!ev.html || write_html(&ev) == 0)
        rc = FC_EXIT_OK;
out:
    eval_free(&ev);
    return rc;
}
