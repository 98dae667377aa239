/* testutil.h -- helpers shared by the unit tests: temporary list folders and
 * one-call scans. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stddef.h>

#include "engine.h"

/* A list file to write: path relative to the folder, and its content. */
typedef struct tu_file {
    const char *path;
    const char *text;
} tu_file;

/* Write files (terminated by {NULL, NULL}) into a new temporary folder and
 * return its path (static buffer per call slot; remove with tu_rmdir). */
char *tu_listdir(const tu_file *files);
void tu_rmdir(char *dir);

/* Load a folder with default settings (and optional filterd.conf lines). NULL on
 * failure, with the errors in err (caller clears). */
fe_ruleset *tu_load(const char *dir, const char *const *conf_lines, fe_errors *err);

/* The same for a group setup: errors go to stderr. NULL on failure. */
fe_ruleset *tu_load_or_report(const char *dir, const char *const *conf_lines);

/* Scan text with a scratch made for rs (kept between calls). */
fe_result tu_scan(const fe_ruleset *rs, const char *text, int scene);
void tu_scan_done(void);   /* frees the kept scratch */

/* The term of the surviving deny match that decided, or "" when allowed. */
const char *tu_decider_term(const fe_ruleset *rs, const fe_result *r);
/* Fail the test unless text is allowed in scene. */
void tu_expect_allowed(const fe_ruleset *rs, const char *text, int scene);

/* 1 if some surviving deny match has this list term. */
int tu_matched(const fe_ruleset *rs, const fe_result *r, const char *term);

#endif
