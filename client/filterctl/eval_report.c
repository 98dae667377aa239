/* eval_report.c -- filterctl eval's report: one JSON object (--json), or text for a terminal.
 *
 * Both show, per corpus, the share of texts not allowed, precision and
 * recall when labelled (overall, per action, per topic, per label: a text
 * counts under each label it was caught with), the entries of the new lists
 * that fire most on clean texts with examples, and, with a baseline, every
 * changed decision with the entries behind it on each side. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eval.h"

/* ---- the report: shared pieces ---------------------------------------------------- */

/* An entry of the new lists that fired, with what it is ranked by. */
typedef struct ranked {
    uint32_t entry, clean, pos;
} ranked;

/* Most clean texts first, then most label-1 texts, then list order. */
static int by_count(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->clean != y->clean)
        return x->clean < y->clean ? 1 : -1;
    if (x->pos != y->pos)
        return x->pos < y->pos ? 1 : -1;
    return x->entry < y->entry ? -1 : 1;
}

/* The entries that fired on clean texts, most first; *n of them, at most top (0: all).
 * Caller frees. */
static ranked *top_entries(const eval *ev, const corpus *cp, size_t *n)
{
    size_t total = fe_ruleset_entries(ev->s[NEW].rs), k = 0;
    ranked *top = malloc((total ? total : 1) * sizeof *top);
    if (!top)
        return NULL;
    for (size_t e = 0; e < total; e++) {
        const hit *h = &cp->hits[e];
        if (h->clean)
            top[k++] = (ranked){(uint32_t)e, h->clean, h->pos};
    }
    qsort(top, k, sizeof *top, by_count);
    *n = ev->top && k > ev->top ? ev->top : k;
    return top;
}

double fc_eval_ratio(unsigned long a, unsigned long b)
{
    return b ? (double)a / (double)b : -1.0;
}

unsigned long fc_eval_scanned(const counts *c)
{
    return c->texts - c->too_large;
}

const char *fc_eval_corpus_name(const corpus *cp)
{
    const char *s = strrchr(cp->path, '/');
    return s ? s + 1 : cp->path;
}

const char *fc_eval_entry_ref(const fe_ruleset *rs, uint32_t e, char *buf, size_t n)
{
    fe_entry_info ei;
    if (fe_entry_get(rs, e, &ei) == FE_OK)
        snprintf(buf, n, "%s:%u", ei.file, ei.line);
    else
        snprintf(buf, n, "?");
    return buf;
}

/* ---- the report: JSON ------------------------------------------------------------- */

static void add_ratio(cJSON *o, const char *key, unsigned long a, unsigned long b)
{
    if (b)
        cJSON_AddNumberToObject(o, key, fc_eval_ratio(a, b));
    else
        cJSON_AddNullToObject(o, key);
}

static const char *const act_names[NACTS] = {"block", "flag"};

/* What one action or label caught, out of positives label-1 texts. */
static cJSON *caught_json(const tally *k, unsigned long positives)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "tp", (double)k->tp);
    cJSON_AddNumberToObject(o, "fp", (double)k->fp);
    add_ratio(o, "precision", k->tp, k->tp + k->fp);
    add_ratio(o, "recall", k->tp, positives);
    return o;
}

static cJSON *counts_json(const counts *c, int labelled)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "texts", (double)c->texts);
    cJSON_AddNumberToObject(o, "flagged", (double)c->flag);
    cJSON_AddNumberToObject(o, "blocked", (double)c->block);
    cJSON_AddNumberToObject(o, "too_large", (double)c->too_large);
    add_ratio(o, "share", c->flag + c->block, fc_eval_scanned(c));
    add_ratio(o, "flag_share", c->flag, fc_eval_scanned(c));
    add_ratio(o, "block_share", c->block, fc_eval_scanned(c));
    if (!labelled)
        return o;
    cJSON_AddNumberToObject(o, "positives", (double)(c->tp + c->fn));
    cJSON_AddNumberToObject(o, "tp", (double)c->tp);
    cJSON_AddNumberToObject(o, "fp", (double)c->fp);
    cJSON_AddNumberToObject(o, "fn", (double)c->fn);
    cJSON_AddNumberToObject(o, "tn", (double)c->tn);
    add_ratio(o, "precision", c->tp, c->tp + c->fp);
    add_ratio(o, "recall", c->tp, c->tp + c->fn);
    for (int a = 0; a < NACTS; a++)
        cJSON_AddItemToObject(o, act_names[a], caught_json(&c->act[a], c->tp + c->fn));
    return o;
}

/* Per label, the labels that caught something, for one list version. */
static cJSON *labels_json(const corpus *cp, int version)
{
    cJSON *a = cJSON_CreateArray();
    for (int l = 0; l < FE_NLABELS; l++) {
        const tally *k = &cp->label[version][l];
        if (!k->tp && !k->fp)
            continue;
        cJSON *o = caught_json(k, cp->c[version].tp + cp->c[version].fn);
        cJSON_AddStringToObject(o, "label", fe_label_name(l));
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* Per label, the texts not allowed with it and their share of the texts
 * scanned, for one list version: {"porn": {"texts", "share"}, ...}. */
static cJSON *by_label_json(const corpus *cp, int version)
{
    cJSON *o = cJSON_CreateObject();
    for (int l = 0; l < FE_NLABELS; l++) {
        const tally *k = &cp->label[version][l];
        if (!k->tp && !k->fp)
            continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "texts", (double)(k->tp + k->fp));
        add_ratio(x, "share", k->tp + k->fp, fc_eval_scanned(&cp->c[version]));
        cJSON_AddItemToObject(o, fe_label_name(l), x);
    }
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
    ranked *top = top_entries(ev, cp, &n);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; top && i < n; i++) {
        const hit *h = &cp->hits[top[i].entry];
        cJSON *o = entry_json(ev->s[NEW].rs, top[i].entry), *ex = cJSON_CreateArray();
        cJSON_AddNumberToObject(o, "texts", h->clean);
        if (cp->labelled)
            cJSON_AddNumberToObject(o, "positive_texts", h->pos);
        for (uint32_t j = 0; j < h->nex; j++)
            cJSON_AddItemToArray(ex, cJSON_CreateString(h->ex[j]));
        cJSON_AddItemToObject(o, "examples", ex);
        cJSON_AddItemToArray(a, o);
    }
    free(top);
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

/* The matches that count in a changed text, on one side. */
static cJSON *spans_json(const fe_ruleset *rs, const span *s, int n)
{
    cJSON *a = cJSON_CreateArray();
    char ref[600];
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "start", s[i].start);
        cJSON_AddNumberToObject(o, "end", s[i].end);
        cJSON_AddStringToObject(o, "label", fe_label_name(s[i].label));
        cJSON_AddStringToObject(o, "entry", fc_eval_entry_ref(rs, s[i].entry, ref, sizeof ref));
        cJSON_AddBoolToObject(o, "decides", s[i].decides);
        cJSON_AddItemToArray(a, o);
    }
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
        for (int s = NEW; s <= OLD; s++)
            cJSON_AddItemToObject(x, s == NEW ? "new_spans" : "old_spans",
                                  spans_json(ev->s[s].rs, c->spans[s], c->nspans[s]));
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
        cJSON_AddItemToObject(o, "labels", labels_json(cp, NEW));
        if (cp->has_topic)
            cJSON_AddItemToObject(o, "topics", topics_json(ev, cp));
    }
    cJSON_AddItemToObject(o, "by_label", by_label_json(cp, NEW));
    cJSON_AddItemToObject(o, "top", top_json(ev, cp));
    cJSON_AddItemToObject(o, "disguise_views", fc_eval_views_json(ev, cp));
    if (ev->nsides > 1) {
        cJSON *b = counts_json(&cp->c[OLD], cp->labelled);
        if (cp->labelled)
            cJSON_AddItemToObject(b, "labels", labels_json(cp, OLD));
        cJSON_AddItemToObject(b, "by_label", by_label_json(cp, OLD));
        cJSON_AddItemToObject(o, "baseline", b);
        cJSON_AddItemToObject(o, "changes", changes_json(ev, cp));
    }
    return o;
}

/* The entries added and removed: totals, per label, the first DIFF_LISTED of each. */
static cJSON *diff_json(const eval *ev)
{
    const evdiff *d = &ev->diff;
    cJSON *o = cJSON_CreateObject(), *pa = cJSON_CreateObject(), *pr = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "added", (double)d->total_added);
    cJSON_AddNumberToObject(o, "removed", (double)d->total_removed);
    for (int l = 0; l <= FE_NLABELS; l++) {
        const char *name = l < FE_NLABELS ? fe_label_name(l) : "allow";
        if (d->d.added[l])
            cJSON_AddNumberToObject(pa, name, (double)d->d.added[l]);
        if (d->d.removed[l])
            cJSON_AddNumberToObject(pr, name, (double)d->d.removed[l]);
    }
    cJSON_AddItemToObject(o, "added_per_label", pa);
    cJSON_AddItemToObject(o, "removed_per_label", pr);
    cJSON_AddItemToObject(o, "added_entries", why_json(ev->s[NEW].rs, d->added, (int)d->nadded));
    cJSON_AddItemToObject(o, "removed_entries",
                          why_json(ev->s[OLD].rs, d->removed, (int)d->nremoved));
    return o;
}

int fc_eval_report_json(const eval *ev, FILE *f)
{
    cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "lists", ev->s[NEW].dir);
    cJSON_AddStringToObject(o, "version", fe_ruleset_version(ev->s[NEW].rs));
    cJSON_AddNumberToObject(o, "entries", (double)fe_ruleset_entries(ev->s[NEW].rs));
    if (ev->nsides > 1) {
        cJSON_AddStringToObject(o, "baseline", ev->s[OLD].dir);
        cJSON_AddStringToObject(o, "baseline_version", fe_ruleset_version(ev->s[OLD].rs));
        cJSON_AddItemToObject(o, "diff", diff_json(ev));
    }
    cJSON_AddStringToObject(o, "scene", fe_scene_name(ev->scene));
    cJSON_AddStringToObject(o, "config", ev->config_name);
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

void fc_eval_put_pct(FILE *f, unsigned long a, unsigned long b)
{
    if (b)
        fprintf(f, "%.2f%%", 100.0 * fc_eval_ratio(a, b));
    else
        fputs("n/a", f);
}

void fc_eval_put_ratio(FILE *f, unsigned long a, unsigned long b)
{
    if (b)
        fprintf(f, "%.3f", fc_eval_ratio(a, b));
    else
        fputs("n/a", f);
}

static void put_share(FILE *f, const counts *c)
{
    fc_eval_put_pct(f, c->flag + c->block, fc_eval_scanned(c));
    fputs(" not allowed (flag ", f);
    fc_eval_put_pct(f, c->flag, fc_eval_scanned(c));
    fputs(", block ", f);
    fc_eval_put_pct(f, c->block, fc_eval_scanned(c));
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
    ranked *top = top_entries(ev, cp, &n);
    if (!top || !n) {
        fprintf(f, "    no entry fired on %s texts\n", cp->labelled ? "label-0" : "these");
        free(top);
        return;
    }
    fprintf(f, "    entries that fire most%s:\n", cp->labelled ? " on label-0 texts" : "");
    for (size_t i = 0; i < n; i++) {
        const hit *h = &cp->hits[top[i].entry];
        fprintf(f, "    %6u  ", h->clean);
        put_entry(f, ev->s[NEW].rs, top[i].entry);
        if (cp->labelled)
            fprintf(f, "  [also on %u label-1 texts]", h->pos);
        fputc('\n', f);
        for (uint32_t j = 0; j < h->nex; j++) {
            fputs("            | ", f);
            put_text(f, h->ex[j], EXAMPLE_MAX);
            fputc('\n', f);
        }
    }
    free(top);
}

static void put_metrics(FILE *f, const counts *c)
{
    fputs("precision ", f);
    fc_eval_put_ratio(f, c->tp, c->tp + c->fp);
    fputs(", recall ", f);
    fc_eval_put_ratio(f, c->tp, c->tp + c->fn);
    fprintf(f, " (tp %lu, fp %lu, fn %lu, tn %lu)", c->tp, c->fp, c->fn, c->tn);
}

static void put_caught(FILE *f, const tally *k, unsigned long positives)
{
    fputs("precision ", f);
    fc_eval_put_ratio(f, k->tp, k->tp + k->fp);
    fputs(", recall ", f);
    fc_eval_put_ratio(f, k->tp, positives);
    fprintf(f, " (tp %lu, fp %lu)", k->tp, k->fp);
}

/* Block and flag apart: "    by action: block ...; flag ...". */
static void put_actions(FILE *f, const char *what, const counts *c)
{
    fprintf(f, "    %s", what);
    for (int a = 0; a < NACTS; a++) {
        fprintf(f, "%s%s ", a ? "; " : "", act_names[a]);
        put_caught(f, &c->act[a], c->tp + c->fn);
    }
    fputc('\n', f);
}

static void put_labels(FILE *f, const corpus *cp)
{
    fputs("    by label (a text counts under each label it was caught with):\n", f);
    for (int l = 0; l < FE_NLABELS; l++) {
        const tally *k = &cp->label[NEW][l];
        if (!k->tp && !k->fp)
            continue;
        fprintf(f, "      %-11s ", fe_label_name(l));
        put_caught(f, k, cp->c[NEW].tp + cp->c[NEW].fn);
        fputc('\n', f);
    }
}

static void put_labelled(FILE *f, const eval *ev, const corpus *cp)
{
    fprintf(f, "    %lu label-1 texts; ", cp->c[NEW].tp + cp->c[NEW].fn);
    put_metrics(f, &cp->c[NEW]);
    fputc('\n', f);
    put_actions(f, "by action: ", &cp->c[NEW]);
    if (ev->nsides > 1) {
        fputs("    baseline: ", f);
        put_metrics(f, &cp->c[OLD]);
        fputc('\n', f);
        put_actions(f, "baseline by action: ", &cp->c[OLD]);
    }
    for (size_t i = 0; i < cp->ntopics; i++) {
        const counts *c = &cp->topics[i].c[NEW];
        fprintf(f, "    topic %-10s %6lu texts, ", cp->topics[i].name, c->texts);
        put_metrics(f, c);
        fputc('\n', f);
    }
    put_labels(f, cp);
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
        fprintf(f, "    %s:%lu %s -> %s | ", fc_eval_corpus_name(cp), c->line, fe_action_name(c->from),
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
    fc_eval_views_text(ev, cp, f);
    if (ev->nsides > 1)
        put_changes(f, ev, cp);
}

int fc_eval_report_text(const eval *ev, FILE *f)
{
    fprintf(f, "lists %s: %zu entries, %s; scene %s\n", ev->s[NEW].dir,
            fe_ruleset_entries(ev->s[NEW].rs), fe_ruleset_version(ev->s[NEW].rs),
            fe_scene_name(ev->scene));
    fprintf(f, "config %s\n", ev->config_name);
    if (ev->nsides > 1)
        fprintf(f, "baseline %s: %zu entries, %s ('+' new lists, '-' baseline); "
                   "entries +%zu -%zu\n",
                ev->s[OLD].dir, fe_ruleset_entries(ev->s[OLD].rs),
                fe_ruleset_version(ev->s[OLD].rs), ev->diff.total_added,
                ev->diff.total_removed);
    for (size_t i = 0; i < ev->ncorp; i++)
        put_corpus(f, ev, &ev->corp[i]);
    fprintf(f, "\n%lu texts in %.2f s (%.0f texts/s, %d list version%s)\n", ev->texts,
            ev->seconds, ev->seconds > 0 ? (double)ev->texts / ev->seconds : 0.0, ev->nsides,
            ev->nsides > 1 ? "s" : "");
    return ferror(f) ? -1 : 0;
}
