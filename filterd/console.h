/* console.h -- the moderators' console inside the HTTP process: its state and its files' prototypes.
 *
 *   console.c    the routes of /console/ (the embedded pages) and /console/api/
 *   consjobs.c   the console's jobs: save, restore, what-if, reload; the live view
 *   conslists.c  the list store: staging, atomic replacement, versions, audit
 *   consdiff.c   what a version changed, as unified diff hunks
 *   jobs.c       a child process read in the HTTP poll loop: output cap, time limit, reap
 *   build/gen/console_assets.c: the pages of filterd/console as C arrays (scripts/embed.sh)
 *
 * The lists folder on disk is the truth. A change is made to a staged copy
 * (console-state/stage), linted by `filterctl lint` as a child process, then
 * each changed file is replaced atomically (a temporary file in the same
 * folder, fsync, rename, fsync of the folder), the whole folder is copied to
 * console-state/versions/N (N.tmp, then renamed) and one line is appended to
 * console-state/audit.jsonl. Everything slow is a job, one at a time, read
 * in the HTTP process's poll loop: nothing here waits. */
#ifndef FD_CONSOLE_H
#define FD_CONSOLE_H

#include <poll.h>
#include <sys/types.h>

#include "http.h"

#define FD_CONS_PAGE_MAX 1000      /* entries in one GET entries page */
#define FD_CONS_PAGE_DEF 100
#define FD_CONS_JOBS 16            /* finished jobs kept for GET jobs/ID */
#define FD_CONS_RELOADS 20         /* reloads kept for the live view */
#define FD_CONS_ADMIN_MS 5000      /* msecs: wait for the admin endpoint's workers reply */
#define FD_JOB_OUT_MAX (4u << 20)  /* bytes of a child's output kept (more: the job fails) */
#define FD_CONS_LINE_MAX 4096      /* bytes of a list line written through the console */
#define FD_CONS_DIR_MAX 1024       /* bytes of the lists' and console-state's paths */

typedef struct fd_asset {
    const char *name, *ctype;
    const unsigned char *data;
    size_t len;
} fd_asset;
extern const fd_asset fd_assets[];          /* build/gen/console_assets.c; NULL name ends */

/* snprintf that says when it cut: the length, or -1 when buf was too small. */
int fd_fmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- jobs.c: one child process ------------------------------------------- */
typedef struct fd_child {
    pid_t pid;                    /* 0: none */
    int fd;                       /* its stdout and stderr, non-blocking; -1: at end */
    char *out;                    /* what it wrote (NUL-terminated), up to FD_JOB_OUT_MAX */
    size_t len;
    int capped;                   /* it wrote more */
    int timed_out;                /* killed at its deadline */
    int status;                   /* waitpid's, once reaped */
    int64_t deadline;             /* ns */
} fd_child;

/* Start argv[0] (a path) with stdin /dev/null, stdout and stderr into c; it
 * dies with this process. 0, or -1 with why. */
int fd_child_start(fd_child *c, char *const argv[], int timeout_ms, char *err, size_t errlen);
/* Its descriptor for poll (or -1) and the msecs to its deadline. */
int fd_child_pollfd(const fd_child *c, int *wait_ms);
/* Read what came, kill it past its deadline, reap it: 1 when it is done. */
int fd_child_poll(fd_child *c);
int fd_child_ok(const fd_child *c);          /* done, exit 0, not capped or killed */
void fd_child_free(fd_child *c);             /* kills and reaps a running one */

/* ---- conslists.c: the list store ----------------------------------------- */
typedef struct fd_store {
    char lists[FD_CONS_DIR_MAX];  /* the lists folder */
    char state[FD_CONS_DIR_MAX];  /* console-state */
    int newest;                   /* the newest version; 0: none */
    int keep;                     /* versions kept */
} fd_store;

/* Make the folders, drop what an interrupted save left, and record the
 * lists as a version when they differ from the newest one. 0 or -1. */
int fd_store_open(fd_store *s, const fd_config *cfg, char *err, size_t errlen);
/* 1 when the lists folder differs from the newest version (or there is none). */
int fd_store_changed(const fd_store *s);
/* A new version from the lists as they are now, audited. Its number, or -1. */
int fd_store_record(fd_store *s, const char *who, const char *what, char *err, size_t errlen);
/* file is a list file of the lists folder: relative, no "..", "*.txt", exists. */
int fd_store_file_ok(const fd_store *s, const char *file, char *err, size_t errlen);
/* The stage made anew from the lists (version 0) or a version. 0 or -1. */
int fd_store_stage(fd_store *s, int version, char *err, size_t errlen);
const char *fd_store_stage_dir(const fd_store *s);    /* static */
/* One edit of the staged file: op "add" (at the end, or before line when
 * line > 0), "change" or "delete" of line. 0 or -1 with why. */
int fd_store_edit(fd_store *s, const char *file, const char *op, unsigned line,
                  const char *text, char *err, size_t errlen);
/* The stage made the lists (changed files replaced atomically, files it
 * does not have removed), then a new version and its audit record. The
 * version's number, or -1 with why. */
int fd_store_commit(fd_store *s, const char *who, const char *what, char *err, size_t errlen);
/* Every audit record, newest first; NULL when out of memory. */
cJSON *fd_store_audit(const fd_store *s);
/* Version n against n - 1: [{"file", "lines": ["@@ ...", "-old", "+new"]}]. */
cJSON *fd_store_diff(const fd_store *s, int n, char *err, size_t errlen);
/* A file's content, NUL-terminated (malloc'd), or NULL. */
char *fd_store_read(const char *path, size_t *len);
/* Every regular file under root (names without a leading '.'), relative. */
int fd_store_walk(const char *root, int (*fn)(const char *rel, void *arg), void *arg);

/* ---- consjobs.c: jobs and the live view ----------------------------------- */
typedef struct fd_cjob {
    unsigned id;
    const char *kind;             /* "save", "restore", "whatif", "reload" */
    int state;                    /* 0 running, 1 done, 2 failed */
    cJSON *result;
    char who[FD_HTTP_NAME_MAX];
    char what[512];               /* the audit's words for a save or restore */
    int step;
    fd_child child;
    int64_t sent;                 /* reload: ns it was asked; 0: not out */
} fd_cjob;

typedef struct fd_console {
    fd_store store;
    int ok;                       /* the store opened */
    fd_tokens admins;
    int has_admins;
    int live;                     /* the version serving: last console reload, else start */
    unsigned next_id;
    fd_cjob *job;                 /* the running job, or NULL */
    fd_cjob *done[FD_CONS_JOBS];  /* finished, newest at done[(ndone - 1) % FD_CONS_JOBS] */
    unsigned ndone;
    cJSON *reloads;               /* the last FD_CONS_RELOADS: {time, who, result} */
    char filterctl[PATH_MAX];
    void *admin;                  /* DEALER to the admin endpoint: reload, workers */
    fd_hreq *live_waiters;        /* GET live, waiting for the workers reply */
    int64_t workers_sent;         /* ns; 0: no workers request out */
} fd_console;

/* Start a job of kind (the console's one at a time): 202 {job} in r, or
 * 409 busy. Its steps then run in fd_console_poll. */
int fd_cjob_start(fd_http *h, fd_hreq *r, const char *kind, const char *who, const char *what);
cJSON *fd_cjob_json(const fd_cjob *j);
const fd_cjob *fd_cjob_find(const fd_console *c, unsigned id);
/* Where a what-if job writes its HTML report (filterctl eval --html). */
void fd_whatif_path(const fd_console *c, unsigned id, char *buf, size_t n);
int fd_live_start(fd_http *h, fd_hreq *r);   /* GET live: workers, then the stats */
void fd_live_stats(fd_http *h, fd_hreq *r, const cJSON *stats);

/* ---- console.c: for http.c and httpreq.c ---------------------------------- */
int fd_console_open(fd_http *h);              /* 0, or -1 (logged): the console is off */
void fd_console_close(fd_http *h);
void fd_console_poll(fd_http *h);             /* jobs and the admin socket */
int fd_console_pollfds(fd_http *h, struct pollfd *p, int *n, int *wait_ms); /* adds ≤ 2 */
void fd_console_reload_tokens(fd_http *h);    /* SIGHUP */
void fd_console_drop(fd_http *h, fd_hreq *r); /* r goes while it waits for live */
/* Routes: the pages (no token), and the API (an admin token). */
int fd_console_page(fd_http *h, fd_hreq *r);
int fd_console_api(fd_http *h, fd_hreq *r);
void fd_console_done(fd_http *h, fd_hreq *r, fc_result *res, size_t n);
/* The admin check at the headers: 0, or 1 with the response (401, 403) set. */
int fd_console_auth(fd_http *h, fd_hreq *r, const char *bearer);

#endif
