/* csv.c -- a CSV record reader: quoted fields, doubled quotes, line breaks in quotes, BOM. */
#include <stdlib.h>
#include <string.h>

#include "csv.h"

void fc_csv_init(fc_csv *c, FILE *fp)
{
    memset(c, 0, sizeof *c);
    c->fp = fp;
    c->next_line = 1;
    c->at_start = 1;
}

void fc_csv_free(fc_csv *c)
{
    free(c->buf);
    free(c->start);
    memset(c, 0, sizeof *c);
}

static int put_byte(fc_csv *c, int ch)
{
    if (c->len + 1 >= c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        char *b = realloc(c->buf, cap);
        if (!b)
            return -1;
        c->buf = b;
        c->cap = cap;
    }
    c->buf[c->len++] = (char)ch;
    return 0;
}

/* Close the current field and open the next one. */
static int new_field(fc_csv *c)
{
    if (c->nfields && put_byte(c, '\0') < 0)
        return -1;
    if (c->nfields == c->fcap) {
        size_t cap = c->fcap ? c->fcap * 2 : 16;
        size_t *s = realloc(c->start, cap * sizeof *s);
        if (!s)
            return -1;
        c->start = s;
        c->fcap = cap;
    }
    c->start[c->nfields++] = c->len;
    return 0;
}

/* Skip a UTF-8 BOM at the start of the file. */
static void skip_bom(fc_csv *c)
{
    int a = getc(c->fp);
    if (a == 0xEF) {
        int b = getc(c->fp), d = b == 0xBB ? getc(c->fp) : EOF;
        if (b == 0xBB && d == 0xBF)
            return;
        /* Not a BOM: only a lone 0xEF can be pushed back portably; keep the rest. */
        if (d != EOF)
            ungetc(d, c->fp);
        if (b != EOF && b != 0xBB)
            ungetc(b, c->fp);
        put_byte(c, a);
        if (b == 0xBB)
            put_byte(c, b);
        return;
    }
    if (a != EOF)
        ungetc(a, c->fp);
}

/* Inside quotes: read up to the closing quote. Returns the character after
 * it (or EOF), or -2 when out of memory. */
static int quoted(fc_csv *c)
{
    int ch;
    for (;;) {
        ch = getc_unlocked(c->fp);
        if (ch == EOF) {
            c->bad_quote = 1;
            return EOF;
        }
        if (ch == '"') {
            ch = getc_unlocked(c->fp);
            if (ch != '"')
                return ch;
        } else if (ch == '\n')
            c->next_line++;
        if (put_byte(c, ch) < 0)
            return -2;
    }
}

int fc_csv_next(fc_csv *c)
{
    int ch, any = 0;

    c->len = c->nfields = 0;
    c->bad_quote = 0;
    if (new_field(c) < 0)
        return -1;
    if (c->at_start) {
        c->at_start = 0;
        skip_bom(c);
    }
    c->line = c->next_line;
    for (;;) {
        ch = getc_unlocked(c->fp);
        if (ch == '"' && c->len == c->start[c->nfields - 1]) {
            any = 1;
            ch = quoted(c);
            if (ch == -2)
                return -1;
            if (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF)
                c->bad_quote = 1;   /* "abc"def: keep def as part of the field */
        }
        if (ch == EOF)
            break;
        any = 1;
        if (ch == '\n') {
            c->next_line++;
            break;
        }
        if (ch == '\r') {
            int n = getc_unlocked(c->fp);
            if (n == '\n') {
                c->next_line++;
                break;
            }
            if (n != EOF)
                ungetc(n, c->fp);
        }
        if (ch == ',') {
            if (new_field(c) < 0)
                return -1;
        } else if (put_byte(c, ch) < 0)
            return -1;
    }
    if (put_byte(c, '\0') < 0)
        return -1;
    if (ferror(c->fp))
        return -1;
    return any || c->len > 1 ? (int)c->nfields : 0;
}

const char *fc_csv_field(const fc_csv *c, size_t i, size_t *len)
{
    if (i >= c->nfields) {
        *len = 0;
        return "";
    }
    size_t end = i + 1 < c->nfields ? c->start[i + 1] - 1 : c->len - 1;
    *len = end - c->start[i];
    return c->buf + c->start[i];
}
