/* errors.c -- accumulate error lines for the caller to print or send. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

void fe_errors_add(fe_errors *e, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    e->count++;
    if (e->count > FE_ERRORS_MAX)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t ln = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (e->len + ln + 2 > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 1024;
        while (cap < e->len + ln + 2)
            cap *= 2;
        char *t = realloc(e->text, cap);
        if (!t)
            return;
        e->text = t;
        e->cap = cap;
    }
    memcpy(e->text + e->len, line, ln);
    e->len += ln;
    e->text[e->len++] = '\n';
    e->text[e->len] = '\0';
}

void fe_errors_clear(fe_errors *e)
{
    free(e->text);
    memset(e, 0, sizeof *e);
}
