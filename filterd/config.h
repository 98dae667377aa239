/* config.h -- filterd.conf: one table of settings read by one parser.
 *
 * The file is "name value..." per line, '#' comments. Every setting, its
 * bounds and its default live in the table in config.c; config/filterd.conf
 * documents each one. Relative paths are taken from the config file's folder. */
#ifndef FE_CONFIG_H
#define FE_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "errors.h"
#include "taxonomy.h"

#define FE_CONF_MAX_ENDPOINTS 8
#define FE_CONF_ENDPOINT_LEN 256

typedef struct fe_config {
    char path[PATH_MAX];        /* the file read; "" when only defaults */
    /* engine */
    char lists[PATH_MAX];       /* word-list folder */
    size_t max_text_bytes;      /* longer texts are refused, never truncated */
    signed char policy[FE_NSCENES][FE_NLABELS]; /* action per scene; -1: the list's */
    /* daemon */
    char listen[FE_CONF_MAX_ENDPOINTS][FE_CONF_ENDPOINT_LEN];
    int nlisten;
    char admin[FE_CONF_ENDPOINT_LEN]; /* "" = ipc://<run_dir>/admin.sock */
    char run_dir[PATH_MAX];
    char cache_dir[PATH_MAX];   /* "" = no compiled-database cache */
    char user[64];              /* drop privileges to this user when root */
    int workers;                /* 0 = one per core */
    int budget_ms;              /* default per-request budget */
    int max_budget_ms;          /* cap on a request's budget_ms */
    fe_action on_deadline;      /* fallback decision */
    int queue_max;              /* requests waiting in the broker */
    int heartbeat_ms;
    int heartbeat_liveness;     /* missed heartbeats before a worker is hung */
    int log_text;               /* debug only: log user text */
    int log_requests;           /* one log line per answered request */
    char mode[16];              /* "scan", or "echo": answer allow without scanning */
} fe_config;

/* Fill c with the defaults of the table. */
void fe_conf_defaults(fe_config *c);
/* Defaults, then the file. Returns 0, or -1 with every "file:line: reason" in err. */
int fe_conf_load(fe_config *c, const char *path, fe_errors *err);
/* Apply one "name value..." line (as in the file); for command-line overrides. */
int fe_conf_set(fe_config *c, const char *line, const char *where, fe_errors *err);

#endif
