/* fuzz_wordlist.c -- libFuzzer harness: the word-list parser (fe_wl_parse).
 *
 * The first byte picks the file name (a label's name, an allow-list's, or a
 * name that is no label), the rest is the file. Whatever it accepts must be
 * well formed: every entry a term, a line of the file, a known label (or
 * none for allow-lists), an action; every error a "file:line: reason". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordlist.h"
#include "fold.h"
#include "taxonomy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"zh/porn.txt", "en/abuse.txt", "allow/common.txt",
                                    "x.allow.txt", "misc.txt", "ad.txt"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fe_wordlists wl = {0};
    fe_errors err = FE_ERRORS_INIT;

    if (size < 1)
        return 0;
    const char *name = names[data[0] % (sizeof names / sizeof *names)];
    const char *text = (const char *)data + 1;
    size_t len = size - 1, lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';

    int rc = fe_wl_parse(&wl, name, text, len, &err);
    if ((rc < 0) != (err.count > 0) || wl.nfiles != 1)
        abort();
    for (size_t i = 0; i < wl.n; i++) {
        const fe_entry *e = &wl.entries[i];
        int allow = !!(e->flags & FE_E_ALLOW);
        if (!e->term || !e->term[0] || e->file != 0 || e->line < 1 || e->line > lines ||
            e->action > FE_BLOCK || e->view >= FE_NVIEWS || e->view < -1 ||
            (allow ? e->label != -1 : (e->label < 0 || e->label >= FE_NLABELS)))
            abort();
    }
    for (const char *p = err.text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
        if (strncmp(p, name, strlen(name)) || p[strlen(name)] != ':')
            abort();
    fe_errors_clear(&err);
    fe_wl_free(&wl);
    return 0;
}
