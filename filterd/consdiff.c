/* consdiff.c -- what a console version changed: version N against N-1, as unified diff hunks per file.
 *
 * One hunk per changed file: the lines the two sides share at the start and
 * at the end are left out, and what lies between is shown as removed and
 * added, with up to FD_DIFF_CONTEXT lines of context on each side. A save
 * changes one line, so its hunk is exact; a restore over many changes shows
 * one larger hunk. A side that does not exist (a file added or removed, or
 * version 1) is empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

#define FD_DIFF_CONTEXT 3
#define FD_DIFF_LINES 5000        /* lines shown per file; the rest is counted */

typedef struct lines {
    char *text;
    char **l;
    size_t n;
} lines;

static void split(const char *path, lines *x)
{
    size_t len = 0;
    memset(x, 0, sizeof *x);
    if (!(x->text = fd_store_read(path, &len)))
        return;
    size_t cap = 16;
    x->l = malloc(cap * sizeof *x->l);
    for (char *p = x->text; x->l && p < x->text + len;) {
        char *nl = strchr(p, '\n');
        if (x->n == cap) {
            char **m = realloc(x->l, (cap *= 2) * sizeof *m);
            if (!m)
                break;
            x->l = m;
        }
        x->l[x->n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
}

static void add_line(cJSON *a, char mark, const char *s, size_t *shown)
{
    char buf[FD_CONS_LINE_MAX + 2];
    if (++*shown > FD_DIFF_LINES)
        return;
    fd_fmt(buf, sizeof buf, "%c%s", mark, s);
    cJSON_AddItemToArray(a, cJSON_CreateString(buf));
}

typedef struct dctx {
    const char *a, *b;            /* the old and the new folder */
    cJSON *out;
    int second;                   /* walking b: only the files a lacks */
} dctx;

static int diff_one(const char *rel, void *arg)
{
    dctx *d = arg;
    char pa[PATH_MAX], pb[PATH_MAX], head[96];
    lines x, y;
    fd_fmt(pa, sizeof pa, "%s/%s", d->a, rel);
    fd_fmt(pb, sizeof pb, "%s/%s", d->b, rel);
    split(pa, &x);
    if (d->second && x.text) {
        free(x.text);
        free(x.l);
        return 0;
    }
    split(pb, &y);
    size_t p = 0, q = 0, shown = 0;
    while (p < x.n && p < y.n && !strcmp(x.l[p], y.l[p]))
        p++;
    while (q < x.n - p && q < y.n - p && !strcmp(x.l[x.n - 1 - q], y.l[y.n - 1 - q]))
        q++;
    if (p + q < x.n || p + q < y.n || !x.text != !y.text) {
        size_t c0 = p > FD_DIFF_CONTEXT ? p - FD_DIFF_CONTEXT : 0;
        size_t c1 = q > FD_DIFF_CONTEXT ? FD_DIFF_CONTEXT : q;
        cJSON *f = cJSON_CreateObject(), *a = cJSON_CreateArray();
        cJSON_AddStringToObject(f, "file", rel);
        fd_fmt(head, sizeof head, "@@ -%zu,%zu +%zu,%zu @@", c0 + (x.n > 0),
                 x.n - q + c1 - c0, c0 + (y.n > 0), y.n - q + c1 - c0);
        cJSON_AddItemToArray(a, cJSON_CreateString(head));
        for (size_t i = c0; i < p; i++)
            add_line(a, ' ', x.l[i], &shown);
        for (size_t i = p; i < x.n - q; i++)
            add_line(a, '-', x.l[i], &shown);
        for (size_t i = p; i < y.n - q; i++)
            add_line(a, '+', y.l[i], &shown);
        for (size_t i = y.n - q; i < y.n - q + c1; i++)
            add_line(a, ' ', y.l[i], &shown);
        cJSON_AddItemToObject(f, "lines", a);
        if (shown > FD_DIFF_LINES)
            cJSON_AddNumberToObject(f, "not_shown", (double)(shown - FD_DIFF_LINES));
        cJSON_AddItemToArray(d->out, f);
    }
    free(x.text);
    free(x.l);
    free(y.text);
    free(y.l);
    return 0;
}

cJSON *fd_store_diff(const fd_store *s, int n, char *err, size_t errlen)
{
    char a[PATH_MAX], b[PATH_MAX];
    fd_fmt(a, sizeof a, "%s/versions/%d", s->state, n - 1);
    fd_fmt(b, sizeof b, "%s/versions/%d", s->state, n);
    if (n < 1 || n > s->newest || access(b, F_OK) < 0) {
        fd_fmt(err, errlen, "version %d is not kept (the newest is %d, console-keep %d)", n,
                 s->newest, s->keep);
        return NULL;
    }
    dctx d = {a, b, cJSON_CreateArray(), 0};
    fd_store_walk(a, diff_one, &d);              /* changed and removed files */
    dctx e = {a, b, d.out, 1};
    fd_store_walk(b, diff_one, &e);              /* added files */
    return d.out;
}
