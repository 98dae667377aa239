/* settings.h -- filterd.conf: one table of settings read by one parser.
 *
 * The file is "name value..." per line, '#' comments. Every setting, its
 * bounds and its default live in the table in settings.c; config/filterd.conf
 * documents each one. Relative paths are taken from the config file's folder.
 * The engine's part (lists, max-text-bytes, cache-dir, policy) is an
 * fe_options inside; the rest is the daemon's. filterctl reads the same file
 * with the same code, so its offline commands and the daemon agree. */
#ifndef FD_SETTINGS_H
#define FD_SETTINGS_H

#include <limits.h>
#include <stddef.h>

#include "engine.h"

#define FD_CONF_MAX_ENDPOINTS 8
#define FD_CONF_ENDPOINT_LEN 256
#define FD_CONF_MAX_CORPORA 8     /* console-corpus lines */

/* Where the configuration is looked for when none is named (filterd and
 * filterctl alike): ./config/filterd.conf (a source tree), then the
 * installed one. make SYSCONFDIR=DIR changes the latter. */
#ifndef FD_SYSCONFDIR
#define FD_SYSCONFDIR "/etc"
#endif
#define FD_CONF_LOCAL "config/filterd.conf"
#define FD_CONF_SYSTEM FD_SYSCONFDIR "/filterd/filterd.conf"

typedef struct fd_config {
    char path[PATH_MAX];        /* the file read; "" when only defaults */
    fe_options engine;          /* lists, max-text-bytes, cache-dir, policy */
    char listen[FD_CONF_MAX_ENDPOINTS][FD_CONF_ENDPOINT_LEN];
    int nlisten;
    char admin[FD_CONF_ENDPOINT_LEN]; /* "" = ipc://<run_dir>/admin.sock */
    char admin_group[64];       /* "": the admin socket is 0600; else 0660 and this group */
    char run_dir[PATH_MAX];
    char user[64];              /* drop privileges to this user when root */
    int workers;                /* 0 = one per core */
    int budget_ms;              /* default per-request budget */
    int max_budget_ms;          /* cap on a request's budget_ms */
    int on_deadline;            /* fallback decision (enum fe_action) */
    int queue_max;              /* texts waiting in the broker */
    int max_items;              /* texts in one bulk request */
    int max_connections;        /* client connections to the request endpoints */
    int reply_queue_max;        /* replies waiting for one client that does not read */
    size_t reply_queue_bytes;   /* bytes of them, per TCP connection (conns.c) */
    int worker_window;          /* texts a worker may hold at once (its credit) */
    int heartbeat_ms;
    int heartbeat_liveness;     /* missed heartbeats before a worker is hung */
    int log_text;               /* debug only: log user text */
    int log_requests;           /* one log line per answered request */
    char mode[16];              /* "scan", or "echo": answer allow without scanning */
    /* the HTTP front door (filterd/http.c); http_listen "" = none */
    char http_listen[FD_CONF_ENDPOINT_LEN]; /* HOST:PORT */
    char http_tokens[PATH_MAX]; /* access tokens, one a line; "" = loopback only */
    size_t http_max_body;       /* bytes of a request body; more is 413 */
    int http_connections;       /* connections at once */
    int http_timeout_ms;        /* a request's headers and body, a response's sending */
    int http_idle_ms;           /* a kept-alive connection without a request */
    /* the moderators' console (filterd/console.c) */
    char http_admin_tokens[PATH_MAX]; /* "TOKEN NAME" a line; "" = no console */
    char console_state[PATH_MAX];     /* versions, audit, stage */
    int console_keep;                 /* versions kept */
    int console_job_timeout_ms;       /* a console job's time limit */
    char console_corpus[FD_CONF_MAX_CORPORA][PATH_MAX]; /* what-if corpora */
    int console_labelled[FD_CONF_MAX_CORPORA];          /* 1: labelled, 0: clean */
    int ncorpora;
} fd_config;

/* Fill c with the defaults of the table. */
void fd_conf_defaults(fd_config *c);
/* Defaults, then the file. Returns 0, or -1 with every "file:line: reason" in err. */
int fd_conf_load(fd_config *c, const char *path, fe_errors *err);
/* Apply one "name value..." line (as in the file); for command-line overrides. */
int fd_conf_set(fd_config *c, const char *line, const char *where, fe_errors *err);

/* The configuration file to read: given when not NULL; else the first of
 * FD_CONF_LOCAL (as an absolute path) and FD_CONF_SYSTEM that exists; NULL
 * when neither does. The string is given or static. */
const char *fd_conf_find(const char *given);
/* The admin endpoint of c: its admin setting, or ipc://<run-dir>/admin.sock. */
void fd_conf_admin(const fd_config *c, char *buf, size_t size);

#endif
