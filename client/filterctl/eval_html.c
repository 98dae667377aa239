/* eval_html.c -- filterctl eval --html: the what-if report as one self-contained HTML page.
 *
 * For people who would rather look than read: per corpus, the share of texts
 * not allowed per label before (the baseline) and after (the lists) as an
 * SVG bar chart, the totals (precision and recall of labelled sets, before
 * -> after), every text whose decision changed with its spans highlighted in
 * its labels' colours (the deciding one outlined) and the entries behind it,
 * and the entries added and removed. No script, no external resource: inline
 * CSS and SVG, so the page reads the same opened from a disk, mailed, or in
 * the console's <iframe srcdoc>. The numbers are the ones eval_report.c puts
 * in the JSON (the same counts, nothing computed a second way); the data-*
 * attributes carry them for tests. Every string from a corpus or a list is
 * escaped: a corpus text is hostile. The label colours are the console's. */
#include <stdio.h>
#include <string.h>

#include "eval.h"

#define CHART_W 960           /* px: the chart's width */
#define CHART_NAME_W 110      /* px: the label names' column */
#define CHART_VALUE_W 190     /* px: the values' column */
#define CHART_ROW_H 34        /* px: one label's two bars */

/* The console's palette, one colour per label (by name: the taxonomy's order
 * is the engine's business). */
static const struct {
    const char *label, *colour;
} palette[] = {
    {"politics", "#c0392b"}, {"porn", "#8e44ad"},       {"abuse", "#d35400"},
    {"vulgar", "#e67e22"},   {"violence", "#922b21"},   {"gambling", "#16a085"},
    {"contraband", "#2c3e50"}, {"fraud", "#b7950b"},    {"trademark", "#2874a6"},
    {"ad", "#27ae60"},       {"privacy", "#5d6d7e"},    {"cult", "#6c3483"},
    {"other", "#7f8c8d"},
};

static const char *colour_of(int label)
{
    const char *name = label >= 0 ? fe_label_name(label) : "";
    for (size_t i = 0; i < sizeof palette / sizeof *palette; i++)
        if (!strcmp(palette[i].label, name))
            return palette[i].colour;
    return "#7f8c8d";
}

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC',sans-serif;"
    "color:#1c2833;background:#f4f6f7;margin:0;padding:24px}"
    "main{max-width:1000px;margin:0 auto}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:0 0 8px}"
    "h3{font-size:16px;margin:18px 0 6px}"
    "section{background:#fff;border:1px solid #d5dbdb;border-radius:6px;padding:16px 20px;"
    "margin:16px 0}"
    ".meta{color:#566573;margin:0}.meta code{font-size:13px}"
    "table{border-collapse:collapse;width:100%}"
    "td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeded;vertical-align:top}"
    "th{font-weight:600;color:#566573}.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".chip{display:inline-block;padding:0 7px;border-radius:9px;color:#fff;font-size:12px;"
    "line-height:18px;white-space:nowrap}"
    ".dec{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:600;"
    "text-transform:uppercase}"
    ".allow{background:#d5f5e3;color:#1e8449}.flag{background:#fdebd0;color:#a04000}"
    ".block{background:#fadbd8;color:#922b21}"
    ".changes{list-style:none;padding:0;margin:0}"
    ".changes li{border-top:1px solid #eaeded;padding:10px 0}"
    ".text{font-size:16px;margin:6px 0;white-space:pre-wrap;word-break:break-word}"
    "mark{background:none;border-bottom:3px solid;padding:0 1px}"
    "mark.d{outline:2px solid #1c2833;outline-offset:1px;border-radius:2px}"
    ".why{font-size:13px;color:#566573}.why code{color:#1c2833}"
    ".added{color:#1e8449}.removed{color:#922b21}"
    ".legend{font-size:13px;color:#566573}.none{color:#566573;font-style:italic}";

/* ---- escaping ------------------------------------------------------------------ */

/* s[0..n) as HTML text or attribute value: & < > " ' escaped, control
 * characters but line breaks and tabs dropped, invalid UTF-8 as U+FFFD. */
static void esc_n(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        for (size_t j = 1; k && j < k; j++)
            if (i + j >= n || ((unsigned char)s[i + j] & 0xC0) != 0x80)
                k = 0;
        if (!k) {
            fputs("\xEF\xBF\xBD", f);
            i++;
            continue;
        }
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (c >= 0x20 || c == '\n' || c == '\t')
                fwrite(s + i, 1, k, f);
        }
        i += k;
    }
}

static void esc(FILE *f, const char *s)
{
    esc_n(f, s, strlen(s));
}

/* ---- small pieces ---------------------------------------------------------------- */

static void chip(FILE *f, int label)
{
    fprintf(f, "<span class=\"chip\" style=\"background:%s\">%s</span>", colour_of(label),
            label >= 0 ? fe_label_name(label) : "allow-list");
}

static void decision(FILE *f, int d)
{
    fprintf(f, "<span class=\"dec %s\">%s</span>", fe_action_name(d), fe_action_name(d));
}

/* "before → after", or "after" alone without a baseline. */
typedef void (*value_fn)(FILE *f, unsigned long a, unsigned long b);
static void before_after(FILE *f, const eval *ev, value_fn fn, unsigned long a0,
                         unsigned long b0, unsigned long a1, unsigned long b1)
{
    if (ev->nsides > 1) {
        fn(f, a0, b0);
        fputs(" &rarr; ", f);
    }
    fn(f, a1, b1);
}

/* An entry: file:line, its term, label and action. */
static void entry(FILE *f, const fe_ruleset *rs, uint32_t e)
{
    fe_entry_info ei;
    char ref[600];
    if (fe_entry_get(rs, e, &ei) != FE_OK)
        return;
    fputs("<code>", f);
    esc(f, fc_eval_entry_ref(rs, e, ref, sizeof ref));
    fputs("</code> ", f);
    esc(f, ei.term);
    fputc(' ', f);
    chip(f, ei.label);
    fprintf(f, " %s", fe_action_name(ei.action));
}

/* ---- the chart ---------------------------------------------------------------------- */

/* Texts not allowed with label l (-1: with any label) on one side. */
static unsigned long caught(const corpus *cp, int v, int l)
{
    if (l < 0)
        return cp->c[v].flag + cp->c[v].block;
    return cp->label[v][l].tp + cp->label[v][l].fp;
}

static double share(const corpus *cp, int v, int l)
{
    double r = fc_eval_ratio(caught(cp, v, l), fc_eval_scanned(&cp->c[v]));
    return r < 0 ? 0 : r;
}

/* One row: the label's name, a pale bar before, a full one after, the values. */
static void chart_row(FILE *f, const eval *ev, const corpus *cp, int l, int y, double max)
{
    const char *colour = l < 0 ? "#566573" : colour_of(l);
    double w = CHART_W - CHART_NAME_W - CHART_VALUE_W - 10;
    fprintf(f, "<g data-label=\"%s\" data-after=\"%lu\"", l < 0 ? "all" : fe_label_name(l),
            caught(cp, NEW, l));
    if (ev->nsides > 1)
        fprintf(f, " data-before=\"%lu\"", caught(cp, OLD, l));
    fprintf(f, "><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", CHART_NAME_W - 8,
            y + 21, l < 0 ? "all labels" : fe_label_name(l));
    for (int s = ev->nsides - 1; s >= 0; s--) {   /* before on top, then after */
        int top = ev->nsides > 1 && s == NEW ? y + 17 : y + 5;
        double bw = share(cp, s, l) / max * w;
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"12\" fill=\"%s\"%s>"
                   "<title>%s: ", CHART_NAME_W, top, bw > 0 && bw < 1 ? 1.0 : bw, colour,
                ev->nsides > 1 && s == OLD ? " fill-opacity=\"0.35\"" : "",
                s == OLD ? "before" : "after");
        fc_eval_put_pct(f, caught(cp, s, l), fc_eval_scanned(&cp->c[s]));
        fprintf(f, " (%lu texts)</title></rect>", caught(cp, s, l));
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\">", CHART_W - CHART_VALUE_W, y + 21);
    before_after(f, ev, fc_eval_put_pct, caught(cp, OLD, l), fc_eval_scanned(&cp->c[OLD]),
                 caught(cp, NEW, l), fc_eval_scanned(&cp->c[NEW]));
    fputs("</text></g>", f);
}

/* The share of texts not allowed, in all and per label, as bars. */
static void chart(FILE *f, const eval *ev, const corpus *cp)
{
    int rows[FE_NLABELS + 1], n = 0;
    double max = 0;
    rows[n++] = -1;
    for (int l = 0; l < FE_NLABELS; l++)
        if (caught(cp, NEW, l) || (ev->nsides > 1 && caught(cp, OLD, l)))
            rows[n++] = l;
    for (int i = 0; i < n; i++)
        for (int s = 0; s < ev->nsides; s++)
            if (share(cp, s, rows[i]) > max)
                max = share(cp, s, rows[i]);
    if (max <= 0) {
        fputs("<p class=\"none\">No text was flagged or blocked in this corpus.</p>", f);
        return;
    }
    fprintf(f, "<svg role=\"img\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" style=\"max-width:100%%;height:auto\" "
               "font-size=\"13\" fill=\"#1c2833\"><title>Share of texts not allowed, per label"
               "</title>", CHART_W, n * CHART_ROW_H + 8, CHART_W, n * CHART_ROW_H + 8);
    for (int i = 0; i < n; i++)
        chart_row(f, ev, cp, rows[i], 4 + i * CHART_ROW_H, max);
    fputs("</svg>", f);
    fprintf(f, "<p class=\"legend\">Share of the texts scanned that are flagged or blocked, "
               "per label (a text counts under each of its labels)%s.</p>",
            ev->nsides > 1 ? "; pale bar: before (baseline), full bar: after" : "");
}

/* ---- totals ---------------------------------------------------------------------- */

static void totals(FILE *f, const eval *ev, const corpus *cp)
{
    const counts *o = &cp->c[OLD], *c = &cp->c[NEW];
    fprintf(f, "<table><tr><th></th><th class=\"num\">%s</th></tr>",
            ev->nsides > 1 ? "before &rarr; after" : "with these lists");
    fputs("<tr><td>not allowed</td><td class=\"num\">", f);
    before_after(f, ev, fc_eval_put_pct, o->flag + o->block, fc_eval_scanned(o), c->flag + c->block,
                 fc_eval_scanned(c));
    fputs("</td></tr><tr><td>flagged (for review)</td><td class=\"num\">", f);
    before_after(f, ev, fc_eval_put_pct, o->flag, fc_eval_scanned(o), c->flag, fc_eval_scanned(c));
    fputs("</td></tr><tr><td>blocked</td><td class=\"num\">", f);
    before_after(f, ev, fc_eval_put_pct, o->block, fc_eval_scanned(o), c->block,
                 fc_eval_scanned(c));
    fputs("</td></tr>", f);
    if (cp->labelled) {
        fputs("<tr><td>precision (of the texts not allowed, the share labelled 1)</td>"
              "<td class=\"num\">", f);
        before_after(f, ev, fc_eval_put_ratio, o->tp, o->tp + o->fp, c->tp, c->tp + c->fp);
        fputs("</td></tr><tr><td>recall (of the texts labelled 1, the share not allowed)</td>"
              "<td class=\"num\">", f);
        before_after(f, ev, fc_eval_put_ratio, o->tp, o->tp + o->fn, c->tp, c->tp + c->fn);
        fputs("</td></tr>", f);
    }
    fputs("</table>", f);
    if (c->too_large)
        fprintf(f, "<p class=\"legend\">%lu texts longer than max-text-bytes were not "
                   "scanned.</p>", c->too_large);
}

/* ---- changed texts ---------------------------------------------------------------- */

/* The span of s[0..n) covering byte at that decides, or else the first: NULL when none. */
static const span *cover(const span *s, int n, size_t at)
{
    const span *h = NULL;
    for (int i = 0; i < n; i++)
        if (s[i].start <= at && at < s[i].end && (!h || (s[i].decides && !h->decides)))
            h = &s[i];
    return h;
}

/* The next offset after at where a span starts or ends, or len. */
static size_t next_edge(const span *s, int n, size_t at, size_t len)
{
    size_t next = len;
    for (int i = 0; i < n; i++) {
        if (s[i].start > at && s[i].start < next)
            next = s[i].start;
        if (s[i].end > at && s[i].end < next)
            next = s[i].end;
    }
    return next;
}

/* The text with the spans marked in their labels' colours, the deciding one outlined. */
static void highlighted(FILE *f, const fe_ruleset *rs, const char *text, const span *s, int n)
{
    size_t len = strlen(text);
    char ref[600];
    fputs("<div class=\"text\">", f);
    for (size_t at = 0, end; at < len; at = end) {
        const span *h = cover(s, n, at);
        end = next_edge(s, n, at, len);
        if (h)
            fprintf(f, "<mark%s style=\"border-color:%s;background:%s26\" title=\"%s %s\">",
                    h->decides ? " class=\"d\"" : "", colour_of(h->label), colour_of(h->label),
                    fe_label_name(h->label), fc_eval_entry_ref(rs, h->entry, ref, sizeof ref));
        esc_n(f, text + at, end - at);
        if (h)
            fputs("</mark>", f);
    }
    fputs("</div>", f);
}

static void change_item(FILE *f, const eval *ev, const corpus *cp, const change *c)
{
    int v = c->to != FE_ALLOW || !c->nspans[OLD] ? NEW : OLD;   /* the side shown */
    fputs("<li><div>", f);
    esc(f, fc_eval_corpus_name(cp));
    fprintf(f, ":%lu &nbsp;", c->line);
    decision(f, c->from);
    fputs(" &rarr; ", f);
    decision(f, c->to);
    fputs("</div>", f);
    highlighted(f, ev->s[v].rs, c->text, c->spans[v], c->nspans[v]);
    if (v == OLD)
        fputs("<div class=\"why\">(highlighted: what the baseline matched)</div>", f);
    for (int s = NEW; s <= OLD; s++)
        for (int j = 0; j < c->nwhy[s]; j++) {
            fprintf(f, "<div class=\"why\"><span class=\"%s\">%s</span> ",
                    s == NEW ? "added" : "removed",
                    s == NEW ? "decides after:" : "decided before:");
            entry(f, ev->s[s].rs, c->why[s][j]);
            fputs("</div>", f);
        }
    fputs("</li>", f);
}

static void changes(FILE *f, const eval *ev, const corpus *cp)
{
    fprintf(f, "<h3>%zu decision%s changed</h3>", cp->nchanges, cp->nchanges == 1 ? "" : "s");
    if (!cp->nchanges)
        return;
    fputs("<p class=\"legend\">", f);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            if (cp->kinds[a][b])
                fprintf(f, "%s &rarr; %s: %lu &nbsp; ", fe_action_name(a), fe_action_name(b),
                        cp->kinds[a][b]);
    fputs("Outlined: the match that decides.</p><ol class=\"changes\">", f);
    for (size_t i = 0; i < cp->nchanges; i++)
        change_item(f, ev, cp, &cp->changes[i]);
    fputs("</ol>", f);
}

/* ---- the page ---------------------------------------------------------------------- */

static void corpus_section(FILE *f, const eval *ev, const corpus *cp)
{
    fprintf(f, "<section class=\"corpus\" data-texts=\"%lu\" data-changes=\"%zu\"><h2>",
            cp->c[NEW].texts, ev->nsides > 1 ? cp->nchanges : 0);
    esc(f, fc_eval_corpus_name(cp));
    fprintf(f, " <span class=\"meta\">(%s, %lu texts)</span></h2><p class=\"meta\"><code>",
            cp->labelled ? "labelled" : "clean", cp->c[NEW].texts);
    esc(f, cp->path);
    fputs("</code></p>", f);
    chart(f, ev, cp);
    totals(f, ev, cp);
    if (ev->nsides > 1)
        changes(f, ev, cp);
    fputs("</section>", f);
}

static void entry_list(FILE *f, const eval *ev, int added)
{
    const evdiff *d = &ev->diff;
    size_t n = added ? d->nadded : d->nremoved, total = added ? d->total_added : d->total_removed;
    fprintf(f, "<h3 class=\"%s\">%zu entr%s %s</h3>", added ? "added" : "removed", total,
            total == 1 ? "y" : "ies", added ? "added" : "removed");
    if (!n)
        return;
    fprintf(f, "<table data-%s=\"%zu\">", added ? "added" : "removed", total);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        entry(f, ev->s[added ? NEW : OLD].rs, added ? d->added[i] : d->removed[i]);
        fputs("</td></tr>", f);
    }
    fputs("</table>", f);
    if (n < total)
        fprintf(f, "<p class=\"legend\">The first %zu of %zu.</p>", n, total);
}

static void header(FILE *f, const eval *ev)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<title>What-if report: ", f);
    esc(f, ev->s[NEW].dir);
    fprintf(f, "</title><style>%s</style></head><body><main><h1>What-if report</h1>"
               "<p class=\"meta\">Lists <code>", css);
    esc(f, ev->s[NEW].dir);
    fprintf(f, "</code> (%s, %zu entries)", fe_ruleset_version(ev->s[NEW].rs),
            fe_ruleset_entries(ev->s[NEW].rs));
    if (ev->nsides > 1) {
        fputs(" against the baseline <code>", f);
        esc(f, ev->s[OLD].dir);
        fprintf(f, "</code> (%s, %zu entries)", fe_ruleset_version(ev->s[OLD].rs),
                fe_ruleset_entries(ev->s[OLD].rs));
    }
    fprintf(f, "; scene %s; configuration <code>", fe_scene_name(ev->scene));
    esc(f, ev->config_name);
    fprintf(f, "</code>; %lu texts.</p>", ev->texts);
}

int fc_eval_report_html(const eval *ev, FILE *f)
{
    header(f, ev);
    if (ev->nsides > 1) {
        fprintf(f, "<section class=\"diff\" data-added=\"%zu\" data-removed=\"%zu\">"
                   "<h2>What changed in the lists</h2>",
                ev->diff.total_added, ev->diff.total_removed);
        entry_list(f, ev, 1);
        entry_list(f, ev, 0);
        fputs("</section>", f);
    }
    for (size_t i = 0; i < ev->ncorp; i++)
        corpus_section(f, ev, &ev->corp[i]);
    fputs("</main></body></html>\n", f);
    return ferror(f) ? -1 : 0;
}
