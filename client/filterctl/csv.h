/* csv.h -- a CSV record reader (RFC 4180 and what spreadsheets write) for filterctl eval.
 *
 *   fc_csv c;
 *   fc_csv_init(&c, fp);
 *   while (fc_csv_next(&c) > 0)
 *       use c.nfields fields: fc_csv_field(&c, i, &len)
 *   fc_csv_free(&c);
 *
 * Fields may be quoted ("a, b"), hold doubled quotes ("say ""hi""") and line
 * breaks inside quotes; records end with LF or CRLF. A UTF-8 BOM at the very
 * start of the file is skipped. Fields are NUL-terminated copies in one
 * growing buffer that is reused for every record: no allocation per record
 * once the buffer is big enough. */
#ifndef FC_CSV_H
#define FC_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct fc_csv {
    FILE *fp;
    char *buf;            /* the fields of the current record, each NUL-terminated */
    size_t len, cap;
    size_t *start;        /* offset of each field in buf */
    size_t nfields, fcap;
    unsigned long line;   /* physical line where the current record starts (1-based) */
    unsigned long next_line;
    int at_start;         /* nothing read yet: a BOM may follow */
    int bad_quote;        /* the record had a stray quote or ended inside quotes */
} fc_csv;

void fc_csv_init(fc_csv *c, FILE *fp);
/* Read the next record. Returns its field count (>= 1), 0 at end of file, or
 * -1 when out of memory or on a read error. A blank line is a record of one
 * empty field. */
int fc_csv_next(fc_csv *c);
/* Field i of the current record ("" past the end); *len gets its length. */
const char *fc_csv_field(const fc_csv *c, size_t i, size_t *len);
void fc_csv_free(fc_csv *c);

#endif
