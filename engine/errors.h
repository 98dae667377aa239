/* errors.h -- a growable list of error lines ("file:line: reason") owned by the caller. */
#ifndef FE_ERRORS_H
#define FE_ERRORS_H

#include <stddef.h>

#define FE_ERRORS_MAX 1000  /* lines kept; later ones are only counted */

typedef struct fe_errors {
    char *text;   /* "line\nline\n...", NUL-terminated; NULL while empty */
    size_t len, cap;
    int count;    /* lines added, kept or not */
} fe_errors;

#define FE_ERRORS_INIT {0}

/* Append one line (no trailing newline in fmt). Never fails loudly: on
 * out-of-memory the line is counted but not kept. */
void fe_errors_add(fe_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fe_errors_clear(fe_errors *e);   /* frees the text; the struct is reusable */

#endif
