/* loadgen.h -- filterbench's load generation: one thread and one fc_client per connection.
 *
 * Private to filterbench: filterbench.c fills an fb_opts, loads the posts,
 * calls fb_run_load() and merges every connection's fb_tally with fb_merge()
 * before it prints them. The loops themselves are described in loadgen.c. */
#ifndef FB_LOADGEN_H
#define FB_LOADGEN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "fclient.h"
#include "hist.h"
#include "posts.h"

#define FB_MAX_CONN 64
#define FB_MAX_SCENES 8
#define FB_MAX_LABELS 32
#define FB_MAX_ARGS 32
#define FB_MAX_BULK 1024          /* posts per bulk request */
#define FB_NS 1000000000LL        /* ns per s */
#define FB_ERRLEN 512

enum fb_mode { FB_CLOSED, FB_OPEN };

/* Degraded replies are counted by the wire's reason (enum fw_degraded:
 * FB_DEG_FIRST .. FW_NDEGRADED - 1), and in FB_DEG_OTHER when the reason is
 * one the wire module does not know; degraded[FW_DEG_NONE] stays 0. */
#define FB_DEG_FIRST (FW_DEG_NONE + 1)
#define FB_DEG_OTHER FW_NDEGRADED
#define FB_NDEG (FB_DEG_OTHER + 1)

typedef struct fb_opts {
    const char *endpoint, *posts, *tag;
    const char *timeline;         /* --timeline FILE: one line per request of the window */
    const char *start_bin, *config, *daemon_log;
    const char *daemon_args[FB_MAX_ARGS];
    int ndaemon_args, endpoint_given;
    enum fb_mode mode;
    int conns, inflight, budget_ms, json;
    int bulk;                     /* posts per request; 1: single checks */
    int libzmq;                   /* --libzmq: the client's libzmq DEALER on ipc:// too */
    double rate, seconds, warmup;
    const char *scenes[FB_MAX_SCENES];
    int weights[FB_MAX_SCENES], nscenes, wsum;
} fb_opts;

typedef struct fb_label {
    char name[24];
    uint64_t n;
} fb_label;

/* What one connection saw; merged over the threads at the end. */
typedef struct fb_tally {
    fb_hist hist;                 /* ns, requests sent in the window */
    fb_hist lag;                  /* ns, open loop: actual send - intended send */
    uint64_t sent, done, in_window, errors, late, decisions[3], degraded[FB_NDEG];
    uint64_t texts_in_window;     /* results (a bulk reply has several) inside the window */
    fb_label labels[FB_MAX_LABELS];
    int nlabels;
    char first_error[160];        /* the first error reply, to show what went wrong */
} fb_tally;

typedef struct fb_run fb_run;

/* One request of the measured window for --timeline: ns from the window's
 * start when it was due, sent and answered, and the server's elapsed_us. */
typedef struct fb_event {
    int64_t due, sent, done;
    uint64_t server_us;
} fb_event;

typedef struct fb_conn {
    fb_run *run;
    int no;
    pthread_t th;
    fc_client *c;
    int64_t *due;                 /* ns: intended send time, by the client's slot index */
    size_t ndue;
    size_t cursor;                /* next post */
    fc_query *q;                  /* bulk: the posts of one request */
    fc_result *res;               /* bulk: the results of one reply */
    uint64_t rng;
    int64_t *sent_at;             /* ns: actual send time, by the client's slot index */
    fb_event *ev;                 /* --timeline: the window's requests, as they complete */
    size_t nev, evcap;
    fb_tally t;
    char err[FB_ERRLEN];
} fb_conn;

struct fb_run {
    const fb_opts *o;
    const fb_posts *posts;
    int64_t t0, win_start, win_end;  /* ns, CLOCK_MONOTONIC */
    fb_conn conn[FB_MAX_CONN];
};

int64_t fb_now_ns(void);          /* CLOCK_MONOTONIC */

/* Connect run->o->conns clients, ping each, then run the warm-up and the
 * measured window on one thread per connection and drain. 0, or -1 with a
 * message in err (FB_ERRLEN bytes). Who closes: fb_conns_close(), in both cases. */
int fb_run_load(fb_run *run, char *err);
void fb_conns_close(fb_run *run);

/* --timeline: every connection's requests of the window, one line each
 * ("conn due_us sent_us done_us server_us"), sorted by due time by the
 * reader. 0, or -1 with err. */
int fb_write_timeline(const fb_run *run, const char *path, char *err);

/* Add connection tally t into all. */
void fb_merge(fb_tally *all, const fb_tally *t);

/* The name of degraded bucket why (FB_DEG_FIRST .. FB_DEG_OTHER): the wire's, or "other". */
const char *fb_degraded_name(int why);

#endif
