/* eval_views.c -- filterctl eval: what the disguise views alone add, per view and per entry.
 *
 * A text counts for a disguise view (phonetic, emoji, leet ...) when it is not
 * allowed, no base-view match (folded, compact) counts in it, and a match of
 * that view does: the base views alone would have let it pass. Clean texts
 * give the views' cost in flag rate, with the entries responsible and an
 * example; label-1 texts give what they catch. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eval.h"


int fc_eval_views(eval *ev, corpus *cp, const fe_result *r, const char *text, size_t len,
                  int label)
{
    unsigned views = 0;
    (void)ev;
    if (r->decision == FE_ALLOW)
        return 0;
    for (size_t i = 0; i < r->nmatches; i++) {
        const fe_match *m = &r->matches[i];
        if (!fe_match_counts(m))
            continue;
        if (m->view < FE_NBASE_VIEWS)
            return 0;   /* the base views flag it anyway */
        views |= FE_VIEW_BIT(m->view);
    }
    unsigned long *add = label == 1 ? cp->vpos : cp->vadd;
    label == 1 ? cp->vpos_all++ : cp->vadd_all++;
    for (int v = FE_NBASE_VIEWS; v < FE_NVIEWS; v++)
        add[v] += (views >> v) & 1;
    if (label == 1)
        return 0;
    if (!cp->vhits && !(cp->vhits = calloc(fe_ruleset_entries(ev->s[NEW].rs) + 1,
                                           sizeof *cp->vhits)))
        return -1;
    for (size_t i = 0; i < r->nmatches; i++) {
        const fe_match *m = &r->matches[i];
        vhit *h = &cp->vhits[m->entry];
        if (!fe_match_counts(m))
            continue;
        h->n[m->view]++;
        if (!h->ex) {
            size_t n = len > EXAMPLE_MAX ? EXAMPLE_MAX : len;
            while (n > 0 && n < len && ((unsigned char)text[n] & 0xC0) == 0x80)
                n--;
            if (!(h->ex = malloc(n + 1)))
                return -1;
            memcpy(h->ex, text, n);
            h->ex[n] = '\0';
        }
    }
    return 0;
}

typedef struct vrank {
    uint32_t entry, n;
} vrank;

static int by_n(const void *a, const void *b)
{
    const vrank *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : (x->entry > y->entry) - (x->entry < y->entry);
}

/* The entries that fired through view v on clean texts, most first; *n of
 * them (at most --top, 0: all). Caller frees. */
static vrank *top(const eval *ev, const corpus *cp, int v, size_t *n)
{
    size_t total = fe_ruleset_entries(ev->s[NEW].rs), k = 0;
    vrank *t = malloc((total ? total : 1) * sizeof *t);
    for (size_t e = 0; t && cp->vhits && e < total; e++)
        if (cp->vhits[e].n[v])
            t[k++] = (vrank){(uint32_t)e, cp->vhits[e].n[v]};
    if (t)
        qsort(t, k, sizeof *t, by_n);
    *n = ev->top && k > ev->top ? ev->top : k;
    return t;
}

static unsigned long clean_texts(const corpus *cp)
{
    const counts *c = &cp->c[NEW];
    unsigned long n = c->texts - c->too_large;
    return cp->labelled ? c->fp + c->tn : n;
}

cJSON *fc_eval_views_json(const eval *ev, const corpus *cp)
{
    cJSON *o = cJSON_CreateObject();
    unsigned long clean = clean_texts(cp);
    cJSON_AddNumberToObject(o, "texts", (double)cp->vadd_all);
    cJSON_AddNumberToObject(o, "share", clean ? (double)cp->vadd_all / (double)clean : 0);
    if (cp->labelled)
        cJSON_AddNumberToObject(o, "positive_texts", (double)cp->vpos_all);
    for (int v = FE_NBASE_VIEWS; v < FE_NVIEWS; v++) {
        cJSON *x = cJSON_CreateObject(), *a = cJSON_CreateArray();
        size_t n = 0;
        vrank *t = top(ev, cp, v, &n);
        cJSON_AddNumberToObject(x, "texts", (double)cp->vadd[v]);
        cJSON_AddNumberToObject(x, "share", clean ? (double)cp->vadd[v] / (double)clean : 0);
        if (cp->labelled)
            cJSON_AddNumberToObject(x, "positive_texts", (double)cp->vpos[v]);
        for (size_t i = 0; t && i < n; i++) {
            fe_entry_info ei;
            char ref[600];
            cJSON *e = cJSON_CreateObject();
            if (fe_entry_get(ev->s[NEW].rs, t[i].entry, &ei) == FE_OK) {
                snprintf(ref, sizeof ref, "%s:%u", ei.file, ei.line);
                cJSON_AddStringToObject(e, "entry", ref);
                cJSON_AddStringToObject(e, "term", ei.term);
            }
            cJSON_AddNumberToObject(e, "texts", t[i].n);
            cJSON_AddStringToObject(e, "example", cp->vhits[t[i].entry].ex);
            cJSON_AddItemToArray(a, e);
        }
        free(t);
        cJSON_AddItemToObject(x, "top", a);
        cJSON_AddItemToObject(o, fe_view_name(v), x);
    }
    return o;
}

void fc_eval_views_text(const eval *ev, const corpus *cp, FILE *f)
{
    unsigned long clean = clean_texts(cp);
    fprintf(f, "    disguise views alone: %lu %s texts (%.2f%%)", cp->vadd_all,
            cp->labelled ? "label-0" : "", clean ? 100.0 * (double)cp->vadd_all / (double)clean : 0);
    if (cp->labelled)
        fprintf(f, "; %lu label-1 texts caught", cp->vpos_all);
    fputc('\n', f);
    for (int v = FE_NBASE_VIEWS; v < FE_NVIEWS; v++) {
        if (!cp->vadd[v] && !cp->vpos[v])
            continue;
        fprintf(f, "      %-9s %6lu (%.2f%%)", fe_view_name(v), cp->vadd[v],
                clean ? 100.0 * (double)cp->vadd[v] / (double)clean : 0);
        if (cp->labelled)
            fprintf(f, "  [%lu label-1]", cp->vpos[v]);
        fputc('\n', f);
        size_t n = 0;
        vrank *t = top(ev, cp, v, &n);
        for (size_t i = 0; t && i < n; i++) {
            fe_entry_info ei;
            if (fe_entry_get(ev->s[NEW].rs, t[i].entry, &ei) != FE_OK)
                continue;
            fprintf(f, "        %5u  %s:%u %s | ", t[i].n, ei.file, ei.line, ei.term);
            const char *ex = cp->vhits[t[i].entry].ex;
            for (size_t k = 0; ex && ex[k] && k < 120; k++)
                fputc((unsigned char)ex[k] < 0x20 ? ' ' : ex[k], f);
            fputc('\n', f);
        }
        free(t);
    }
}

void fc_eval_views_free(const eval *ev, corpus *cp)
{
    size_t n = ev->s[NEW].rs ? fe_ruleset_entries(ev->s[NEW].rs) : 0;
    for (size_t e = 0; cp->vhits && e < n; e++)
        free(cp->vhits[e].ex);
    free(cp->vhits);
    cp->vhits = NULL;
}
