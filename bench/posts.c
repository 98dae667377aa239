/* posts.c -- a post corpus in memory: one post per non-empty line of a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posts.h"

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
        goto fail;
    if (!(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n)
        goto fail;
    fclose(f);
    *len = (size_t)n;
    return buf;
fail:
    free(buf);
    if (f)
        fclose(f);
    return NULL;
}

int fb_posts_load(fb_posts *p, const char *path, char *err, size_t errlen)
{
    size_t len, cap = 1;   /* the last line may have no newline */

    memset(p, 0, sizeof *p);
    if (!(p->text = read_all(path, &len))) {
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        cap += p->text[i] == '\n';
    p->off = malloc(cap * sizeof *p->off);
    p->len = malloc(cap * sizeof *p->len);
    if (!p->off || !p->len) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < len;) {
        char *nl = memchr(p->text + i, '\n', len - i);
        size_t j = nl ? (size_t)(nl - p->text) : len;
        if (j > i) {
            p->off[p->n] = i;
            p->len[p->n++] = j - i;
            p->bytes += j - i;
        }
        i = j + 1;
    }
    if (p->n == 0) {
        snprintf(err, errlen, "%s: no posts", path);
        return -1;
    }
    return 0;
}

void fb_posts_free(fb_posts *p)
{
    free(p->text);
    free(p->off);
    free(p->len);
    memset(p, 0, sizeof *p);
}
