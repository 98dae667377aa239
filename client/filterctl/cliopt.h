/* cliopt.h -- option parsing shared by the filterctl commands. */
#ifndef FC_CLIOPT_H
#define FC_CLIOPT_H

/* "--name VALUE" or "--name=VALUE" at argv[*i]: 1 when it matched (*out set,
 * *i past the value), 0 when argv[*i] is another option, -1 when the value
 * is missing. */
int fc_opt_value(int argc, char **argv, int *i, const char *name, const char **out);

/* A whole decimal number in [min, max]: 0, or -1 when s is not one. */
int fc_opt_long(const char *s, long min, long max, long *out);

#endif
