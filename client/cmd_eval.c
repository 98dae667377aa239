/* cmd_eval.c -- filterctl eval: run word lists offline over corpora and measure them.
 *
 *   filterctl eval --lists DIR [--baseline DIR] [--clean FILE]... [--labelled FILE]...
 *                  [--config FILE] [--scene S] [--json] [--examples N] [--top N]
 *
 * Clean corpora (one text per line) give the share of texts flagged or
 * blocked and the entries that fire most. Labelled corpora (CSV with a
 * header, or JSON Lines; columns text|content, label, topic found by name)
 * give precision and recall of "not allow" against label 1, overall and per
 * topic. With a baseline, every text is also scanned with the old lists and
 * each change of decision is reported with the entries behind it.
 *
 * The hot loop scans with one scratch per list version and allocates only
 * for what it keeps: an example text (at most --examples per entry), a
 * change, a new topic. Entry counts use a stamp per entry, so an entry that
 * matches twice in a text counts once without clearing anything per text. */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cliopt.h"
#include "commands.h"
#include "csv.h"
#include "engine.h"

#define TOP_DEFAULT 10        /* entries listed per corpus */
#define EXAMPLES_DEFAULT 3    /* example texts per listed entry */
#define EXAMPLE_MAX 240       /* bytes of a text kept as an example */
#define CHANGE_SHOWN_MAX 300  /* bytes of a changed text shown on the terminal */
#define MAX_CORPORA 64
#define MAX_TOPICS 64         /* further topics are counted under "(other)" */
#define MAX_WHY 8             /* entries kept per side of a change */
#define IO_BUF (1u << 20)     /* corpus read buffer, bytes */
#define ERR_LEN 512

enum { NEW, OLD };            /* the two list versions: --lists and --baseline */

typedef struct side {
    const char *dir;      /* --lists / --baseline, or path below */
    char path[PATH_MAX];  /* the config's lists, when no folder was given */
    fe_ruleset *rs;
    fe_scratch *sc;
} side;

/* Decisions of one list version over a corpus (or one topic of it). */
typedef struct counts {
    unsigned long texts, flag, block, too_large;
    unsigned long tp, fp, fn, tn;   /* labelled: "not allow" against label 1 */
} counts;

typedef struct topic {
    char *name;
    counts c[2];
} topic;

/* How often one entry of the new lists fired in a corpus. */
typedef struct hit {
    uint32_t clean, pos;  /* texts it fired in: clean (label 0 or unlabelled), label 1 */
    uint32_t stamp;       /* the last text counted */
    uint32_t nex;
    char **ex;            /* up to --examples clean texts, truncated copies */
} hit;

typedef struct change {
    unsigned long line;
    char *text;
    uint8_t from, to;                /* old and new decision */
    uint8_t nwhy[2];
    uint32_t why[2][MAX_WHY];        /* entries deciding on each side */
} change;

typedef struct corpus {
    const char *path;
    int labelled, has_topic;
    counts c[2];
    topic topics[MAX_TOPICS + 1];
    size_t ntopics;
    unsigned long unlabelled;        /* labelled rows without a readable label: skipped */
    hit *hits;                       /* per entry of the new lists */
    change *changes;
    size_t nchanges, chcap;
    unsigned long kinds[3][3];       /* [old][new] decision */
} corpus;

typedef struct eval {
    side s[2];
    int nsides, scene, json;
    unsigned top, examples;
    const char *config;
    uint32_t stamp;
    unsigned long texts;
    double seconds;
    corpus corp[MAX_CORPORA];
    size_t ncorp;
} eval;

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
    int kept = 0;
    fprintf(stderr, "filterctl eval: the lists in %s did not load:\n", dir ? dir : "(config)");
    if (err->text) {
        fputs(err->text, stderr);
        for (const char *p = err->text; (p = strchr(p, '\n')); p++)
            kept++;
    }
    if (err->count > kept)
        fprintf(stderr, "... and %d more errors\n", err->count - kept);
}

/* The lists of s->dir (or the config's) with the config's policies. */
static int load_side(eval *ev, side *s)
{
    fe_config cfg;
    fe_errors err = FE_ERRORS_INIT;
    char msg[ERR_LEN];

    if (ev->config ? fe_conf_load(&cfg, ev->config, &err) : (fe_conf_defaults(&cfg), 0)) {
        print_errors(ev->config, &err);
        goto fail;
    }
    if (s->dir && snprintf(cfg.lists, sizeof cfg.lists, "%s", s->dir) >= (int)sizeof cfg.lists) {
        fprintf(stderr, "filterctl eval: path too long: %s\n", s->dir);
        goto fail;
    }
    if (!s->dir) {
        memcpy(s->path, cfg.lists, sizeof s->path);
        s->dir = s->path;
    }
    if (!(s->rs = fe_load(&cfg, &err))) {
        print_errors(cfg.lists, &err);
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

/* A surviving match that pushes the decision away from allow. */
static int live(const fe_match *m)
{
    return !m->allow && m->allowed_by < 0 && m->action != FE_ALLOW;
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
        if (!live(m) || h->stamp == ev->stamp)
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
        if (!live(m) || m->action != r->decision)
            continue;
        int dup = 0;
        for (uint8_t j = 0; j < n; j++)
            dup |= out[j] == m->entry;
        if (!dup)
            out[n++] = m->entry;
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
    if (!(c->text = clip(text, len, len)))
        return -1;
    cp->nchanges++;
    return 0;
}

/* Scan one text with each list version and count it. label: 1, 0 or -1 (clean corpus). */
static int eval_text(eval *ev, corpus *cp, const char *text, size_t len, int label,
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
        if (t)
            count(&t->c[i], dec[i], label);
    }
    if (dec[NEW] >= 0 && record_hits(ev, cp, &r[NEW], text, len, label) < 0)
        return -1;
    if (ev->nsides < 2 || dec[NEW] < 0 || dec[OLD] < 0 || dec[NEW] == dec[OLD])
        return 0;
    cp->kinds[dec[OLD]][dec[NEW]]++;
    return record_change(cp, r, text, len, line);
}

/* ---- reading corpora ---------------------------------------------------------- */

static size_t chomp(char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    s[n] = '\0';
    return n;
}

typedef int (*line_fn)(eval *ev, corpus *cp, const char *line, size_t len, unsigned long no);

/* Call fn for each non-blank line of f (a leading BOM dropped), until it fails. */
static int each_line(eval *ev, corpus *cp, FILE *f, line_fn fn)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long no = 0;
    int rc = 0;

    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        size_t len = chomp(line, (size_t)n);
        const char *p = line;
        no++;
        if (no == 1 && len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
            p += 3, len -= 3;
        if (len)
            rc = fn(ev, cp, p, len, no);
    }
    free(line);
    return rc;
}

/* A clean corpus: one text per line. */
static int clean_line(eval *ev, corpus *cp, const char *line, size_t len, unsigned long no)
{
    return eval_text(ev, cp, line, len, -1, NULL, no);
}

/* A label: 1/0, true/false, yes/no, or a number (non-zero is 1). -1 if unreadable. */
static int parse_label(const char *s)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!strncasecmp(s, "true", 4) || !strncasecmp(s, "yes", 3))
        return 1;
    if (!strncasecmp(s, "false", 5) || !strncasecmp(s, "no", 2))
        return 0;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    return v != 0;
}

static int label_of_json(const cJSON *l)
{
    if (cJSON_IsBool(l))
        return cJSON_IsTrue(l);
    if (cJSON_IsNumber(l))
        return l->valuedouble != 0;
    if (cJSON_IsString(l))
        return parse_label(l->valuestring);
    return -1;
}

/* The first member named like one of names (case-insensitive), or NULL. */
static cJSON *member(const cJSON *o, const char *const *names)
{
    for (; *names; names++) {
        cJSON *m = cJSON_GetObjectItem(o, *names);   /* case-insensitive */
        if (m)
            return m;
    }
    return NULL;
}

static const char *const text_names[] = {"text", "content", NULL};
static const char *const label_names[] = {"label", NULL};
static const char *const topic_names[] = {"topic", NULL};

static int jsonl_line(eval *ev, corpus *cp, const char *line, size_t len, unsigned long no)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    cJSON *t = o ? member(o, text_names) : NULL, *tp = o ? member(o, topic_names) : NULL;
    int label = o ? label_of_json(member(o, label_names)) : -1, rc = 0;

    if (!cJSON_IsString(t) || label < 0)
        cp->unlabelled++;
    else {
        cp->has_topic |= cJSON_IsString(tp);
        rc = eval_text(ev, cp, t->valuestring, strlen(t->valuestring), label,
                       cJSON_IsString(tp) ? tp->valuestring : NULL, no);
    }
    cJSON_Delete(o);
    return rc;
}

/* Index of the header field named like one of names, or -1. */
static int column(const fc_csv *c, const char *const *names)
{
    for (; *names; names++)
        for (size_t i = 0; i < c->nfields; i++) {
            size_t len;
            const char *f = fc_csv_field(c, i, &len);
            while (len && isspace((unsigned char)*f))
                f++, len--;
            while (len && isspace((unsigned char)f[len - 1]))
                len--;
            if (len == strlen(*names) && !strncasecmp(f, *names, len))
                return (int)i;
        }
    return -1;
}

static int read_csv(eval *ev, corpus *cp, FILE *f)
{
    fc_csv c;
    int n, rc = -1, ct, cl, ctp;

    fc_csv_init(&c, f);
    if ((n = fc_csv_next(&c)) <= 0) {
        fprintf(stderr, "filterctl eval: %s: no header line\n", cp->path);
        goto out;
    }
    ct = column(&c, text_names), cl = column(&c, label_names), ctp = column(&c, topic_names);
    if (ct < 0 || cl < 0) {
        fprintf(stderr, "filterctl eval: %s: the header needs a text (or content) and a "
                        "label column\n", cp->path);
        goto out;
    }
    cp->has_topic = ctp >= 0;
    rc = 0;
    while (rc == 0 && (n = fc_csv_next(&c)) > 0) {
        size_t len, tl;
        const char *text = fc_csv_field(&c, (size_t)ct, &len);
        int label = parse_label(fc_csv_field(&c, (size_t)cl, &tl));
        if (n == 1 && !len)
            continue;   /* blank line */
        if (label < 0 || (size_t)ct >= c.nfields)
            cp->unlabelled++;
        else
            rc = eval_text(ev, cp, text, len, label,
                           ctp >= 0 ? fc_csv_field(&c, (size_t)ctp, &tl) : NULL, c.line);
    }
    if (n < 0) {
        fprintf(stderr, "filterctl eval: %s: read error or out of memory\n", cp->path);
        rc = -1;
    }
out:
    fc_csv_free(&c);
    return rc;
}

/* JSON Lines when the name says so or the first byte (after a BOM) is '{'. */
static int is_jsonl(const char *path, FILE *f)
{
    const char *dot = strrchr(path, '.');
    if (dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson") || !strcmp(dot, ".json")))
        return 1;
    if (dot && !strcmp(dot, ".csv"))
        return 0;
    unsigned char b[4] = {0};
    size_t n = fread(b, 1, sizeof b, f);
    rewind(f);
    size_t i = n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0;
    return i < n && b[i] == '{';
}

static int read_corpus(eval *ev, corpus *cp)
{
    static char buf[IO_BUF];
    FILE *f = fopen(cp->path, "rb");
    int rc;

    if (!f) {
        fprintf(stderr, "filterctl eval: %s: ", cp->path);
        perror(NULL);
        return -1;
    }
    setvbuf(f, buf, _IOFBF, sizeof buf);
    if (!cp->labelled)
        rc = each_line(ev, cp, f, clean_line);
    else
        rc = is_jsonl(cp->path, f) ? each_line(ev, cp, f, jsonl_line) : read_csv(ev, cp, f);
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "filterctl eval: %s: read error\n", cp->path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(eval *ev)
{
    size_t n = fe_ruleset_entries(ev->s[NEW].rs);
    double t0 = now();
    for (size_t i = 0; i < ev->ncorp; i++) {
        if (!(ev->corp[i].hits = calloc(n ? n : 1, sizeof(hit))))
            return -1;
        if (read_corpus(ev, &ev->corp[i]) < 0)
            return -1;
    }
    ev->seconds = now() - t0;
    return 0;
}

/* ---- the report: shared pieces ---------------------------------------------------- */

static const hit *sort_hits;

static int by_count(const void *a, const void *b)
{
    const hit *x = &sort_hits[*(const uint32_t *)a], *y = &sort_hits[*(const uint32_t *)b];
    if (x->clean != y->clean)
        return x->clean < y->clean ? 1 : -1;
    if (x->pos != y->pos)
        return x->pos < y->pos ? 1 : -1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* The entries that fired on clean texts, most first; at most top (0: all). Caller frees. */
static uint32_t *top_entries(const eval *ev, const corpus *cp, size_t *n)
{
    size_t total = fe_ruleset_entries(ev->s[NEW].rs), k = 0;
    uint32_t *idx = malloc((total ? total : 1) * sizeof *idx);
    if (!idx)
        return NULL;
    for (size_t e = 0; e < total; e++)
        if (cp->hits[e].clean)
            idx[k++] = (uint32_t)e;
    sort_hits = cp->hits;
    qsort(idx, k, sizeof *idx, by_count);
    *n = ev->top && k > ev->top ? ev->top : k;
    return idx;
}

static double ratio(unsigned long a, unsigned long b)
{
    return b ? (double)a / (double)b : -1.0;
}

static unsigned long scanned(const counts *c)
{
    return c->texts - c->too_large;
}

static const char *corpus_name(const corpus *cp)
{
    const char *s = strrchr(cp->path, '/');
    return s ? s + 1 : cp->path;
}

/* ---- the report: JSON ------------------------------------------------------------- */

static void add_ratio(cJSON *o, const char *key, unsigned long a, unsigned long b)
{
    if (b)
        cJSON_AddNumberToObject(o, key, ratio(a, b));
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *counts_json(const counts *c, int labelled)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "texts", (double)c->texts);
    cJSON_AddNumberToObject(o, "flagged", (double)c->flag);
    cJSON_AddNumberToObject(o, "blocked", (double)c->block);
    cJSON_AddNumberToObject(o, "too_large", (double)c->too_large);
    add_ratio(o, "share", c->flag + c->block, scanned(c));
    add_ratio(o, "flag_share", c->flag, scanned(c));
    add_ratio(o, "block_share", c->block, scanned(c));
    if (!labelled)
        return o;
    cJSON_AddNumberToObject(o, "positives", (double)(c->tp + c->fn));
    cJSON_AddNumberToObject(o, "tp", (double)c->tp);
    cJSON_AddNumberToObject(o, "fp", (double)c->fp);
    cJSON_AddNumberToObject(o, "fn", (double)c->fn);
    cJSON_AddNumberToObject(o, "tn", (double)c->tn);
    add_ratio(o, "precision", c->tp, c->tp + c->fp);
    add_ratio(o, "recall", c->tp, c->tp + c->fn);
    return o;
}

static cJSON *entry_json(const fe_ruleset *rs, uint32_t e)
{
    fe_entry_info ei;
    char ref[600];
    cJSON *o = cJSON_CreateObject();
    if (fe_entry_get(rs, e, &ei) != FE_OK)
        return o;
    snprintf(ref, sizeof ref, "%s:%u", ei.file, ei.line);
    cJSON_AddStringToObject(o, "entry", ref);
    cJSON_AddStringToObject(o, "file", ei.file);
    cJSON_AddNumberToObject(o, "line", ei.line);
    cJSON_AddStringToObject(o, "term", ei.term);
    cJSON_AddStringToObject(o, "label", ei.label >= 0 ? fe_label_name(ei.label) : "allow-list");
    cJSON_AddStringToObject(o, "action", fe_action_name(ei.action));
    return o;
}

static cJSON *top_json(const eval *ev, const corpus *cp)
{
    size_t n = 0;
    uint32_t *idx = top_entries(ev, cp, &n);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; idx && i < n; i++) {
        const hit *h = &cp->hits[idx[i]];
        cJSON *o = entry_json(ev->s[NEW].rs, idx[i]), *ex = cJSON_CreateArray();
        cJSON_AddNumberToObject(o, "texts", h->clean);
        if (cp->labelled)
            cJSON_AddNumberToObject(o, "positive_texts", h->pos);
        for (uint32_t j = 0; j < h->nex; j++)
            cJSON_AddItemToArray(ex, cJSON_CreateString(h->ex[j]));
        cJSON_AddItemToObject(o, "examples", ex);
        cJSON_AddItemToArray(a, o);
    }
    free(idx);
    return a;
}

static cJSON *topics_json(const eval *ev, const corpus *cp)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < cp->ntopics; i++) {
        cJSON *o = counts_json(&cp->topics[i].c[NEW], 1);
        cJSON_AddStringToObject(o, "topic", cp->topics[i].name);
        if (ev->nsides > 1)
            cJSON_AddItemToObject(o, "baseline", counts_json(&cp->topics[i].c[OLD], 1));
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *why_json(const fe_ruleset *rs, const uint32_t *why, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, entry_json(rs, why[i]));
    return a;
}

static cJSON *changes_json(const eval *ev, const corpus *cp)
{
    cJSON *o = cJSON_CreateObject(), *kinds = cJSON_CreateObject(), *a = cJSON_CreateArray();
    char key[32];
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++)
            if (f != t) {
                snprintf(key, sizeof key, "%s->%s", fe_action_name(f), fe_action_name(t));
                cJSON_AddNumberToObject(kinds, key, (double)cp->kinds[f][t]);
            }
    for (size_t i = 0; i < cp->nchanges; i++) {
        const change *c = &cp->changes[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "line", (double)c->line);
        cJSON_AddStringToObject(x, "text", c->text);
        cJSON_AddStringToObject(x, "old", fe_action_name(c->from));
        cJSON_AddStringToObject(x, "new", fe_action_name(c->to));
        cJSON_AddItemToObject(x, "old_entries", why_json(ev->s[OLD].rs, c->why[OLD], c->nwhy[OLD]));
        cJSON_AddItemToObject(x, "new_entries", why_json(ev->s[NEW].rs, c->why[NEW], c->nwhy[NEW]));
        cJSON_AddItemToArray(a, x);
    }
    cJSON_AddNumberToObject(o, "total", (double)cp->nchanges);
    cJSON_AddItemToObject(o, "kinds", kinds);
    cJSON_AddItemToObject(o, "texts", a);
    return o;
}

static cJSON *corpus_json(const eval *ev, const corpus *cp)
{
    cJSON *o = counts_json(&cp->c[NEW], cp->labelled);
    cJSON_AddStringToObject(o, "file", cp->path);
    cJSON_AddStringToObject(o, "kind", cp->labelled ? "labelled" : "clean");
    if (cp->labelled) {
        cJSON_AddNumberToObject(o, "unlabelled", (double)cp->unlabelled);
        if (cp->has_topic)
            cJSON_AddItemToObject(o, "topics", topics_json(ev, cp));
    }
    cJSON_AddItemToObject(o, "top", top_json(ev, cp));
    if (ev->nsides > 1) {
        cJSON_AddItemToObject(o, "baseline", counts_json(&cp->c[OLD], cp->labelled));
        cJSON_AddItemToObject(o, "changes", changes_json(ev, cp));
    }
    return o;
}

static int report_json(const eval *ev, FILE *f)
{
    cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "lists", ev->s[NEW].dir);
    cJSON_AddStringToObject(o, "version", fe_ruleset_version(ev->s[NEW].rs));
    cJSON_AddNumberToObject(o, "entries", (double)fe_ruleset_entries(ev->s[NEW].rs));
    if (ev->nsides > 1) {
        cJSON_AddStringToObject(o, "baseline", ev->s[OLD].dir);
        cJSON_AddStringToObject(o, "baseline_version", fe_ruleset_version(ev->s[OLD].rs));
    }
    cJSON_AddStringToObject(o, "scene", fe_scene_name(ev->scene));
    for (size_t i = 0; i < ev->ncorp; i++)
        cJSON_AddItemToArray(a, corpus_json(ev, &ev->corp[i]));
    cJSON_AddItemToObject(o, "corpora", a);
    cJSON_AddNumberToObject(o, "texts", (double)ev->texts);
    cJSON_AddNumberToObject(o, "seconds", ev->seconds);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return -1;
    int rc = fprintf(f, "%s\n", s) < 0 ? -1 : 0;
    free(s);
    return rc;
}

/* ---- the report: terminal --------------------------------------------------------- */

/* Text on one line: control characters (line breaks, tabs) shown as spaces. */
static void put_text(FILE *f, const char *s, size_t max)
{
    size_t len = strlen(s), n = len > max ? max : len;
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    for (size_t i = 0; i < n; i++)
        fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i], f);
    if (n < len)
        fputs("...", f);
}

static void put_pct(FILE *f, unsigned long a, unsigned long b)
{
    if (b)
        fprintf(f, "%.2f%%", 100.0 * ratio(a, b));
    else
        fputs("n/a", f);
}

static void put_ratio(FILE *f, unsigned long a, unsigned long b)
{
    if (b)
        fprintf(f, "%.3f", ratio(a, b));
    else
        fputs("n/a", f);
}

static void put_share(FILE *f, const counts *c)
{
    put_pct(f, c->flag + c->block, scanned(c));
    fputs(" not allowed (flag ", f);
    put_pct(f, c->flag, scanned(c));
    fputs(", block ", f);
    put_pct(f, c->block, scanned(c));
    fputc(')', f);
}

static void put_entry(FILE *f, const fe_ruleset *rs, uint32_t e)
{
    fe_entry_info ei;
    if (fe_entry_get(rs, e, &ei) != FE_OK)
        return;
    fprintf(f, "%s:%u %s (%s, %s)", ei.file, ei.line, ei.term,
            ei.label >= 0 ? fe_label_name(ei.label) : "allow-list", fe_action_name(ei.action));
}

static void put_top(FILE *f, const eval *ev, const corpus *cp)
{
    size_t n = 0;
    uint32_t *idx = top_entries(ev, cp, &n);
    if (!idx || !n) {
        fprintf(f, "    no entry fired on %s texts\n", cp->labelled ? "label-0" : "these");
        free(idx);
        return;
    }
    fprintf(f, "    entries that fire most%s:\n", cp->labelled ? " on label-0 texts" : "");
    for (size_t i = 0; i < n; i++) {
        const hit *h = &cp->hits[idx[i]];
        fprintf(f, "    %6u  ", h->clean);
        put_entry(f, ev->s[NEW].rs, idx[i]);
        if (cp->labelled)
            fprintf(f, "  [also on %u label-1 texts]", h->pos);
        fputc('\n', f);
        for (uint32_t j = 0; j < h->nex; j++) {
            fputs("            | ", f);
            put_text(f, h->ex[j], EXAMPLE_MAX);
            fputc('\n', f);
        }
    }
    free(idx);
}

static void put_metrics(FILE *f, const counts *c)
{
    fputs("precision ", f);
    put_ratio(f, c->tp, c->tp + c->fp);
    fputs(", recall ", f);
    put_ratio(f, c->tp, c->tp + c->fn);
    fprintf(f, " (tp %lu, fp %lu, fn %lu, tn %lu)", c->tp, c->fp, c->fn, c->tn);
}

static void put_labelled(FILE *f, const eval *ev, const corpus *cp)
{
    fprintf(f, "    %lu label-1 texts; ", cp->c[NEW].tp + cp->c[NEW].fn);
    put_metrics(f, &cp->c[NEW]);
    fputc('\n', f);
    if (ev->nsides > 1) {
        fputs("    baseline: ", f);
        put_metrics(f, &cp->c[OLD]);
        fputc('\n', f);
    }
    for (size_t i = 0; i < cp->ntopics; i++) {
        const counts *c = &cp->topics[i].c[NEW];
        fprintf(f, "    topic %-10s %6lu texts, ", cp->topics[i].name, c->texts);
        put_metrics(f, c);
        fputc('\n', f);
    }
    if (cp->unlabelled)
        fprintf(f, "    %lu rows without a text or a readable label were skipped\n",
                cp->unlabelled);
}

static void put_changes(FILE *f, const eval *ev, const corpus *cp)
{
    fprintf(f, "    %zu decisions changed from the baseline:", cp->nchanges);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            if (cp->kinds[a][b])
                fprintf(f, " %s->%s %lu", fe_action_name(a), fe_action_name(b), cp->kinds[a][b]);
    fputc('\n', f);
    for (size_t i = 0; i < cp->nchanges; i++) {
        const change *c = &cp->changes[i];
        fprintf(f, "    %s:%lu %s -> %s | ", corpus_name(cp), c->line, fe_action_name(c->from),
                fe_action_name(c->to));
        put_text(f, c->text, CHANGE_SHOWN_MAX);
        fputc('\n', f);
        for (int s = NEW; s <= OLD; s++)
            for (int j = 0; j < c->nwhy[s]; j++) {
                fputs(s == NEW ? "        + " : "        - ", f);
                put_entry(f, ev->s[s].rs, c->why[s][j]);
                fputc('\n', f);
            }
    }
}

static void put_corpus(FILE *f, const eval *ev, const corpus *cp)
{
    fprintf(f, "\n%s (%s): %lu texts, ", cp->path, cp->labelled ? "labelled" : "clean",
            cp->c[NEW].texts);
    put_share(f, &cp->c[NEW]);
    fputc('\n', f);
    if (cp->c[NEW].too_large)
        fprintf(f, "    %lu texts longer than max-text-bytes were not scanned\n",
                cp->c[NEW].too_large);
    if (ev->nsides > 1) {
        fputs("    baseline: ", f);
        put_share(f, &cp->c[OLD]);
        fputc('\n', f);
    }
    if (cp->labelled)
        put_labelled(f, ev, cp);
    put_top(f, ev, cp);
    if (ev->nsides > 1)
        put_changes(f, ev, cp);
}

static int report_text(const eval *ev, FILE *f)
{
    fprintf(f, "lists %s: %zu entries, %s; scene %s\n", ev->s[NEW].dir,
            fe_ruleset_entries(ev->s[NEW].rs), fe_ruleset_version(ev->s[NEW].rs),
            fe_scene_name(ev->scene));
    if (ev->nsides > 1)
        fprintf(f, "baseline %s: %zu entries, %s ('+' new lists, '-' baseline)\n",
                ev->s[OLD].dir, fe_ruleset_entries(ev->s[OLD].rs),
                fe_ruleset_version(ev->s[OLD].rs));
    for (size_t i = 0; i < ev->ncorp; i++)
        put_corpus(f, ev, &ev->corp[i]);
    fprintf(f, "\n%lu texts in %.2f s (%.0f texts/s, %d list version%s)\n", ev->texts,
            ev->seconds, ev->seconds > 0 ? (double)ev->texts / ev->seconds : 0.0, ev->nsides,
            ev->nsides > 1 ? "s" : "");
    return ferror(f) ? -1 : 0;
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
    if (run(&ev) < 0)
        goto out;
    r = ev.json ? report_json(&ev, stdout) : report_text(&ev, stdout);
    if (r < 0 || fflush(stdout) == EOF)
        perror("filterctl eval: stdout");
    else
        rc = FC_EXIT_OK;
out:
    eval_free(&ev);
    return rc;
}
