/* eval.h -- filterctl eval's private header: its state and what its files share.
 *
 * cmd_eval.c parses the options, loads the list versions, scans and counts
 * (fc_eval_text); eval_corpus.c reads the corpora and hands each text to
 * fc_eval_text; eval_report.c prints what was counted, as JSON or for a
 * terminal, and eval_html.c as one HTML page (--html). Nothing here is used
 * outside these files. */
#ifndef FC_EVAL_H
#define FC_EVAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

#define TOP_DEFAULT 10        /* entries listed per corpus */
#define EXAMPLES_DEFAULT 3    /* example texts per listed entry */
#define EXAMPLE_MAX 240       /* bytes of a text kept as an example */
#define CHANGE_SHOWN_MAX 300  /* bytes of a changed text shown on the terminal */
#define MAX_CORPORA 64
#define MAX_TOPICS 64         /* further topics are counted under "(other)" */
#define MAX_WHY 8             /* entries kept per side of a change */
#define MAX_SPANS 16          /* matches kept per side of a change, to highlight */
#define DIFF_LISTED 1000      /* entries added (and removed) listed in a report */
#define IO_BUF (1u << 20)     /* corpus read buffer, bytes */
#define ERR_LEN 512

enum { NEW, OLD };            /* the two list versions: --lists and --baseline */

typedef struct side {
    const char *dir;      /* --lists / --baseline, or path below */
    char path[PATH_MAX];  /* the config's lists, when no folder was given */
    fe_ruleset *rs;
    fe_scratch *sc;
} side;

enum { ACT_BLOCK, ACT_FLAG, NACTS };   /* the deny actions, as measured apart */

/* Labelled texts one action or label caught: label 1 (tp) and label 0 (fp). */
typedef struct tally {
    unsigned long tp, fp;
} tally;

/* Decisions of one list version over a corpus (or one topic of it). */
typedef struct counts {
    unsigned long texts, flag, block, too_large;
    unsigned long tp, fp, fn, tn;   /* labelled: "not allow" against label 1 */
    tally act[NACTS];                /* labelled: per decision, block and flag */
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

/* A match that counts, in a changed text: where, which entry, and whether it decides. */
typedef struct span {
    uint32_t start, end, entry;
    int8_t label;
    uint8_t decides;
} span;

typedef struct change {
    unsigned long line;
    char *text;
    uint8_t from, to;                /* old and new decision */
    uint8_t nwhy[2];
    uint32_t why[2][MAX_WHY];        /* entries deciding on each side */
    uint8_t nspans[2];
    span spans[2][MAX_SPANS];        /* the first matches that count, on each side */
} change;

/* How one entry fired through the disguise views on texts the base views let pass. */
typedef struct vhit {
    uint32_t n[FE_NVIEWS];   /* clean texts, per view */
    char *ex;                /* the first such text, truncated copy */
} vhit;

typedef struct corpus {
    const char *path;
    int labelled, has_topic;
    counts c[2];
    topic topics[MAX_TOPICS + 1];
    size_t ntopics;
    unsigned long unlabelled;        /* labelled rows without a readable label: skipped */
    tally label[2][FE_NLABELS];      /* per list version: texts not allowed with each
                                        label among their labels (clean texts: fp) */
    hit *hits;                       /* per entry of the new lists */
    change *changes;
    size_t nchanges, chcap;
    unsigned long kinds[3][3];       /* [old][new] decision */
    /* disguise views: texts not allowed only through them (the base views
     * alone would allow), per view (a text may count under two views), and
     * in all; clean texts (label 0 or unlabelled) and label-1 texts apart */
    unsigned long vadd[FE_NVIEWS], vpos[FE_NVIEWS], vadd_all, vpos_all;
    vhit *vhits;                     /* per entry of the new lists; NULL until one fires */
} corpus;

/* The entries added to and removed from the baseline (fe_ruleset_diff_each):
 * counts per label, and the first DIFF_LISTED of each. */
typedef struct evdiff {
    fe_diff d;
    uint32_t added[DIFF_LISTED], removed[DIFF_LISTED];
    size_t nadded, nremoved;          /* listed */
    size_t total_added, total_removed;
} evdiff;

typedef struct eval {
    side s[2];
    int nsides, scene, json;
    const char *html;                 /* --html FILE, or NULL */
    evdiff diff;                      /* with a baseline */
    unsigned top, examples;
    const char *config;
    char config_name[PATH_MAX + 128]; /* the configuration read (fc_offline_config_name) */
    uint32_t stamp;
    unsigned long texts;
    double seconds;
    corpus corp[MAX_CORPORA];
    size_t ncorp;
} eval;

/* cmd_eval.c: scan one text of cp (line: where it starts, for messages)
 * with each list version and count it. label: 1, 0, or -1 (clean corpus);
 * topic_name: NULL or "" when none. 0, or -1 after a message (or when out
 * of memory). */
int fc_eval_text(eval *ev, corpus *cp, const char *text, size_t len, int label,
                 const char *topic_name, unsigned long line);

/* eval_corpus.c: read cp->path (one text per line, or labelled CSV or JSON
 * Lines) and pass every text to fc_eval_text. 0, or -1 after a message. */
int fc_eval_read_corpus(eval *ev, corpus *cp);

/* eval_views.c: count what the disguise views alone add in one text (new
 * lists); 0, or -1 when out of memory. The report's part on them, and freeing. */
int fc_eval_views(eval *ev, corpus *cp, const fe_result *r, const char *text, size_t len,
                  int label);
struct cJSON *fc_eval_views_json(const eval *ev, const corpus *cp);
void fc_eval_views_text(const eval *ev, const corpus *cp, FILE *f);
void fc_eval_views_free(const eval *ev, corpus *cp);

/* eval_report.c: the report on f. 0, or -1 when it could not be written. */
int fc_eval_report_json(const eval *ev, FILE *f);
int fc_eval_report_text(const eval *ev, FILE *f);
/* eval_report.c: what both reports and the page show: a over b (-1 when b
 * is 0), the texts scanned (not too large), a corpus's file name, an entry
 * as "file:line". */
double fc_eval_ratio(unsigned long a, unsigned long b);
unsigned long fc_eval_scanned(const counts *c);
const char *fc_eval_corpus_name(const corpus *cp);
const char *fc_eval_entry_ref(const fe_ruleset *rs, uint32_t e, char *buf, size_t n);
/* a/b on f as "12.50%" or "0.125", "n/a" when b is 0. */
void fc_eval_put_pct(FILE *f, unsigned long a, unsigned long b);
void fc_eval_put_ratio(FILE *f, unsigned long a, unsigned long b);

/* eval_html.c: the report as one self-contained HTML page on f. 0 or -1. */
int fc_eval_report_html(const eval *ev, FILE *f);

#endif
