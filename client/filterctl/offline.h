/* offline.h -- what filterctl's offline commands (scan, explain, lint, eval) share:
 * the configuration and the lists they load, as the daemon would. */
#ifndef FC_OFFLINE_H
#define FC_OFFLINE_H

#include <stdio.h>

#include "engine.h"
#include "settings.h"

/* The configuration (the file, or the defaults when config is NULL) with
 * lists, when not NULL, in place of its lists. 0, or -1 with the errors in err. */
int fc_offline_config(const char *config, const char *lists, fd_config *cfg, fe_errors *err);

/* Load the rule set the configuration and lists give; NULL after printing
 * the errors on f, under a line "filterctl CMD: the lists in DIR did not
 * load:" when cmd is not NULL. */
fe_ruleset *fc_offline_load(const char *config, const char *lists, const char *cmd, FILE *f);

/* Every kept error line, then a count of those that were not kept. */
void fc_print_errors(FILE *f, const fe_errors *err);

/* The scene named name (NULL: the default); -1 after a message naming them all. */
int fc_offline_scene(const char *name, const char *cmd);

#endif
