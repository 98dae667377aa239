/* fuzz_csv.c -- libFuzzer harness: filterctl eval's CSV reader (fc_csv_next).
 *
 * Any bytes are a file. Every record has at least one field, every field is
 * NUL-terminated at the length it reports, and line numbers never go back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fc_csv c;
    unsigned long line = 0;
    int n;

    if (size == 0)
        return 0;
    FILE *fp = fmemopen((void *)data, size, "r");
    if (!fp)
        return 0;
    fc_csv_init(&c, fp);
    while ((n = fc_csv_next(&c)) > 0) {
        if ((size_t)n != c.nfields || c.line < line || c.line < 1 || c.next_line < c.line)
            abort();
        line = c.line;
        for (size_t i = 0; i <= c.nfields; i++) {   /* one past the end is "" */
            size_t len;
            const char *f = fc_csv_field(&c, i, &len);
            if (!f || strlen(f) > len || (i == c.nfields && len))
                abort();
        }
    }
    if (n < 0)
        abort();
    fc_csv_free(&c);
    fclose(fp);
    return 0;
}
