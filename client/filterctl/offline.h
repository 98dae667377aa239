/* offline.h -- filterctl and filterd.conf: the configuration and lists the offline
 * commands (scan, explain, lint, eval) load as the daemon would, and the
 * endpoints where the online commands find the daemon. */
#ifndef FC_OFFLINE_H
#define FC_OFFLINE_H

#include <stdio.h>

#include "engine.h"
#include "settings.h"

/* The configuration the daemon would read (fd_conf_find: config when not
 * NULL, else ./config/filterd.conf, else the installed one; "" or none
 * found: the built-in defaults), with lists, when not NULL, in place of its
 * lists. cfg->path says which file was read ("" for none). 0, or -1 with the
 * errors in err. */
int fc_offline_config(const char *config, const char *lists, fd_config *cfg, fe_errors *err);

/* Which configuration cfg came from, for people: its path, or why none. */
const char *fc_offline_config_name(const fd_config *cfg, char *buf, size_t size);

/* Load the rule set of fc_offline_config(config, lists) into *rs, with the
 * configuration in cfg; NULL after printing the errors on f, under a line
 * "filterctl CMD: the lists in DIR did not load:" when cmd is not NULL. */
fe_ruleset *fc_offline_load(const char *config, const char *lists, fd_config *cfg,
                            const char *cmd, FILE *f);

/* Every kept error line, then a count of those that were not kept. */
void fc_print_errors(FILE *f, const fe_errors *err);

/* The scene named name (NULL: the default); -1 after a message naming them all. */
int fc_offline_scene(const char *name, const char *cmd);

/* The admin endpoint of the configuration filterd reads (fd_conf_find(config);
 * the defaults when there is none): 0, or -1 after a message for cmd. */
int fc_config_admin(const char *config, const char *cmd, char *buf, size_t size);
/* Its request endpoints, as a client connects to them (a wildcard address,
 * "*", 0.0.0.0 or [::], becomes loopback): how many, or -1 after a message. */
int fc_config_listen(const char *config, const char *cmd, char eps[][FD_CONF_ENDPOINT_LEN],
                     int max);

#endif
