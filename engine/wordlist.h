/* wordlist.h -- the word-list file format: parse list files into entries.
 *
 * Format (wordlists/README.md is the user's documentation):
 *   # comment                 a line whose first non-blank character is '#'
 *   @label NAME               defaults for the entries that follow
 *   @action block|flag|allow
 *   @word                     Latin terms match whole words only
 *   @view folded|compact
 *   @allow                    the file is an allow-list
 *   term                      one entry per line
 *   @sound @nosound ...       disguise views on or off for the entries that follow
 *   [opt,opt] term            action=, label=, word, noword, re, view=, check=,
 *                             sound, nosound, emoji, noemoji, initials, noinitials,
 *                             leet, noleet, nodisguise
 * A file named after a taxonomy label ("porn.txt") takes that label. */
#ifndef FE_WORDLIST_H
#define FE_WORDLIST_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#define FE_E_WORD  0x01u  /* whole word only */
#define FE_E_RE    0x02u  /* a regular expression (Hyperscan syntax) */
#define FE_E_ALLOW 0x04u  /* an allow-list entry */

enum fe_check { FE_CHECK_NONE, FE_CHECK_IDCARD };

typedef struct fe_entry {
    char *term;          /* as written (owned by the fe_wordlists) */
    uint32_t file;       /* index into files[] */
    uint32_t line;
    int8_t label;        /* enum fe_label; -1 for allow-list entries */
    uint8_t action;      /* fe_action */
    uint8_t flags;       /* FE_E_* */
    int8_t view;         /* enum fe_view, or -1: chosen from the term */
    uint8_t check;       /* enum fe_check */
    uint8_t views_on;    /* disguise views asked for ([sound], @leet ...): FE_VIEW_BIT()s */
    uint8_t views_off;   /* disguise views turned off ([nosound], @noleet ...) */
} fe_entry;

typedef struct fe_wordlists {
    fe_entry *entries;
    size_t n, cap;
    char **files;        /* paths relative to the list folder */
    size_t nfiles;
    uint64_t hash;       /* FNV-1a over every file's name and content */
} fe_wordlists;

/* Parse every *.txt under dir (recursively, in name order) into wl, which
 * must be zeroed. Returns 0, or -1 with each "file:line: reason" in err;
 * wl then holds the entries that parsed, so a caller can check them further
 * and report every error at once. Free with fe_wl_free() in both cases. */
int fe_wl_load_dir(fe_wordlists *wl, const char *dir, fe_errors *err);
/* Parse one file's text; name is the path shown in messages. */
/* The disguise view a switch names ("sound" -> phonetic, "leet" ...), with
 * *off set for its "no" form ("nosound"); "nodisguise" is every view off
 * (returns FE_DISGUISE_VIEWS). 0 when name is no switch. */
unsigned fe_wl_switch(const char *name, int *off);

int fe_wl_parse(fe_wordlists *wl, const char *name, const char *text, size_t len,
                fe_errors *err);
void fe_wl_free(fe_wordlists *wl);

uint64_t fe_hash(uint64_t h, const void *p, size_t n); /* FNV-1a; start with FE_HASH_INIT */
#define FE_HASH_INIT 0xcbf29ce484222325ull

#endif
