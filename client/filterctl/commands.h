/* commands.h -- filterctl's subcommands: one entry point each, returning the exit status.
 *
 * argv[0] is the command's name ("scan"), argv[argc] is NULL. A new command is
 * a prototype here and one row in the table in filterctl.c. */
#ifndef FC_COMMANDS_H
#define FC_COMMANDS_H

#include <stdio.h>

#define FC_EXIT_OK 0
#define FC_EXIT_FAIL 1     /* the command ran and failed: lint found errors, a write failed */
#define FC_EXIT_USAGE 2    /* bad arguments, or the config or the lists did not load */

int fc_cmd_scan(int argc, char **argv);
int fc_cmd_explain(int argc, char **argv);
int fc_cmd_lint(int argc, char **argv);
int fc_cmd_eval(int argc, char **argv);   /* cmd_eval.c */
/* cmd_online.c: through a running filterd */
int fc_cmd_check(int argc, char **argv);
int fc_cmd_ping(int argc, char **argv);
int fc_cmd_reload(int argc, char **argv);
int fc_cmd_admin_json(int argc, char **argv);  /* stats, workers: the reply as JSON */

/* "usage: filterctl CMD ARGS" for cmd, from the command table, on f. */
void fc_usage(FILE *f, const char *cmd);

#endif
