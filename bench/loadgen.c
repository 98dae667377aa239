/* loadgen.c -- filterbench's connections: closed and open loop, tracking, tallies.
 *
 * Each connection is a thread with its own fc_client (one DEALER socket).
 *   closed loop - every connection keeps K requests in flight: a reply frees
 *                 a slot and the next request goes out at once. Latency is
 *                 measured from the actual send: it shows service time, and
 *                 throughput is the most the service gives at that depth.
 *   open loop   - requests are due at a fixed rate (R / C per connection,
 *                 phases spread), whatever the replies do. Latency is
 *                 measured from each request's *intended* send time, so a
 *                 stall that delays sends is counted, not hidden (no
 *                 coordinated omission). When the service cannot keep up,
 *                 latency grows without bound, as it would for real users.
 * The first --warmup seconds are not recorded; requests sent in the measured
 * window are waited for (up to FB_DRAIN_S) after it ends, so slow ones count.
 * Throughput is replies received inside the window divided by its length.
 * With --bulk N each request is a bulk check of N posts (fc_send_many): the
 * latency is the request's, the tallies count every result. */
#define _DEFAULT_SOURCE           /* clock_nanosleep, prctl constants */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "loadgen.h"

#define FB_DRAIN_S 10.0           /* s: wait for replies to requests sent in the window */
#define FB_CALL_TIMEOUT_MS 10000  /* msecs: a request's limit in the client, one try */
#define FB_MAX_OUTSTANDING 8192   /* open loop: per connection; past it sends wait */
#define FB_POLL_NS 50000          /* ns: open loop, reply check period when a send is < 2 ms away */
#define FB_BLOCK_MS 2             /* msecs: from here on the open loop blocks in fc_recv */

int64_t fb_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * FB_NS + t.tv_nsec;
}

static void sleep_until(int64_t ns)
{
    struct timespec t = {(time_t)(ns / FB_NS), (long)(ns % FB_NS)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

/* ---- one connection --------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *pick_scene(fb_conn *k)
{
    const fb_opts *o = k->run->o;
    if (!o->nscenes)
        return NULL;
    int r = (int)(xorshift(&k->rng) % (uint64_t)o->wsum);
    for (int i = 0; i < o->nscenes; i++)
        if ((r -= o->weights[i]) < 0)
            return o->scenes[i];
    return o->scenes[0];
}

/* Remember when request id was due and sent; ids are (generation << 32 | slot). */
static int track(fb_conn *k, uint64_t id, int64_t due)
{
    size_t slot = (uint32_t)id;
    if (slot >= k->ndue) {
        size_t n = slot * 2 + 64;
        int64_t *d = realloc(k->due, n * sizeof *d);
        if (d)
            k->due = d;
        int64_t *s = d ? realloc(k->sent_at, n * sizeof *s) : NULL;
        if (!s)
            return -1;
        k->sent_at = s, k->ndue = n;
    }
    k->due[slot] = due;
    k->sent_at[slot] = fb_now_ns();
    return 0;
}

/* --timeline: keep one completed request of the window. */
static void keep_event(fb_conn *k, int64_t due, int64_t sent, int64_t done, uint64_t server_us)
{
    if (k->nev == k->evcap) {
        size_t n = k->evcap ? k->evcap * 2 : 4096;
        fb_event *e = realloc(k->ev, n * sizeof *e);
        if (!e)
            return;               /* out of memory: the timeline misses it, nothing else */
        k->ev = e, k->evcap = n;
    }
    int64_t w = k->run->win_start;
    k->ev[k->nev++] = (fb_event){due - w, sent - w, done - w, server_us};
}

int fb_write_timeline(const fb_run *run, const char *path, char *err)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, FB_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# conn due_us sent_us done_us server_us (from the window's start)\n");
    for (int i = 0; i < run->o->conns; i++)
        for (size_t j = 0; j < run->conn[i].nev; j++) {
            const fb_event *e = &run->conn[i].ev[j];
            fprintf(f, "%d %.1f %.1f %.1f %llu\n", i, e->due / 1e3, e->sent / 1e3,
                    e->done / 1e3, (unsigned long long)e->server_us);
        }
    if (fclose(f) != 0) {
        snprintf(err, FB_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* One request: a post, or --bulk posts in one bulk check. */
static int send_req(fb_conn *k, uint64_t *id)
{
    const fb_posts *p = k->run->posts;
    const fb_opts *o = k->run->o;
    if (o->bulk == 1) {
        size_t i = k->cursor++ % p->n;
        return fc_send(k->c, p->text + p->off[i], p->len[i], pick_scene(k), o->budget_ms,
                       FB_CALL_TIMEOUT_MS, id, k->err, sizeof k->err);
    }
    for (int b = 0; b < o->bulk; b++) {
        size_t i = k->cursor++ % p->n;
        k->q[b] = (fc_query){p->text + p->off[i], p->len[i], pick_scene(k), o->budget_ms};
    }
    return fc_send_many(k->c, k->q, (size_t)o->bulk, FB_CALL_TIMEOUT_MS, id, k->err,
                        sizeof k->err);
}

static int send_one(fb_conn *k, int64_t due)
{
    uint64_t id;
    if (send_req(k, &id) < 0 || track(k, id, due) < 0) {
        k->t.errors++;
        return -1;
    }
    k->t.sent++;
    if (due >= k->run->win_start)
        fb_hist_add(&k->t.lag, (uint64_t)(fb_now_ns() - due));
    return 0;
}

static void count_label(fb_tally *t, const char *name, uint64_t n)
{
    for (int i = 0; i < t->nlabels; i++)
        if (!strcmp(t->labels[i].name, name)) {
            t->labels[i].n += n;
            return;
        }
    if (t->nlabels < FB_MAX_LABELS) {
        snprintf(t->labels[t->nlabels].name, sizeof t->labels[0].name, "%s", name);
        t->labels[t->nlabels++].n = n;
    }
}

const char *fb_degraded_name(int why)
{
    return why == FB_DEG_OTHER ? "other" : fw_degraded_name(why);
}

static void count_degraded(fb_tally *t, const char *d)
{
    int k = FB_DEG_OTHER;
    for (int why = FB_DEG_FIRST; why < FB_DEG_OTHER; why++)
        if (!strcmp(d, fw_degraded_name(why)))
            k = why;
    t->degraded[k]++;
}

/* One result's tallies. */
static void record_result(fb_tally *t, const fc_result *r)
{
    if (r->error) {
        if (!t->errors++)
            snprintf(t->first_error, sizeof t->first_error, "%s: %s", r->error,
                     r->error_message ? r->error_message : "");
        return;
    }
    if (r->degraded)
        count_degraded(t, r->degraded);
    if (r->decision >= 0 && r->decision <= 2)
        t->decisions[r->decision]++;
    for (size_t i = 0; i < r->nlabels; i++)
        count_label(t, r->labels[i], 1);
}

/* A completed request of n results: latency from its due time, tallies. */
static void record(fb_conn *k, uint64_t id, const fc_result *r, size_t n)
{
    int64_t now = fb_now_ns(), due = k->due[(uint32_t)id];
    fb_tally *t = &k->t;
    t->done++;
    if (now >= k->run->win_start && now < k->run->win_end) {
        t->in_window++;
        t->texts_in_window += n;
    }
    if (due >= k->run->win_start && due < k->run->win_end) {
        fb_hist_add(&t->hist, (uint64_t)(now - due));
        if (k->run->o->timeline)
            keep_event(k, due, k->sent_at[(uint32_t)id], now, r->elapsed_us);
    }
    for (size_t i = 0; i < n; i++)
        record_result(t, &r[i]);
}

/* Take one reply, waiting up to timeout_ms. 1: got one, 0: none. */
static int take_one(fb_conn *k, int timeout_ms)
{
    uint64_t id;
    size_t n;
    if (fc_recv_many(k->c, timeout_ms, &id, k->res, (size_t)k->run->o->bulk, &n, k->err,
                     sizeof k->err) < 0 || !n)
        return 0;
    record(k, id, k->res, n);
    for (size_t i = 0; i < n; i++)
        fc_result_free(&k->res[i]);
    return 1;
}

static void drain(fb_conn *k)
{
    int64_t stop = k->run->win_end + (int64_t)(FB_DRAIN_S * FB_NS);
    while (fc_inflight(k->c) > 0 && fb_now_ns() < stop)
        take_one(k, 100);
    k->t.late += fc_inflight(k->c);
}

static void closed_loop(fb_conn *k)
{
    const fb_run *run = k->run;
    while (fb_now_ns() < run->win_end) {
        while (fc_inflight(k->c) < (size_t)run->o->inflight)
            if (send_one(k, fb_now_ns()) < 0)
                return;
        take_one(k, 100);
    }
}

/* Wait for a reply or for the next due time, whichever comes first. */
static void open_wait(fb_conn *k, int64_t next)
{
    int64_t rem = next - fb_now_ns();
    if (rem <= 0)
        return;
    if (!fc_inflight(k->c)) {
        sleep_until(next);
        return;
    }
    if (take_one(k, 0))
        return;
    if (rem > FB_BLOCK_MS * 1000000LL)
        take_one(k, (int)(rem / 1000000LL) - 1);
    else
        sleep_until(fb_now_ns() + (rem < FB_POLL_NS ? rem : FB_POLL_NS));
}

static void open_loop(fb_conn *k)
{
    const fb_run *run = k->run;
    int64_t gap = (int64_t)((double)FB_NS * run->o->conns / run->o->rate);
    int64_t next = run->t0 + gap * k->no / run->o->conns;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);   /* ns: wake on time, not 50 us late */
    while (next < run->win_end) {
        while (next <= fb_now_ns() && next < run->win_end) {
            if (fc_inflight(k->c) >= FB_MAX_OUTSTANDING) {
                take_one(k, 100);      /* the send is late; its latency still counts */
                continue;
            }
            if (send_one(k, next) < 0)
                return;
            next += gap;
        }
        while (take_one(k, 0))
            ;
        open_wait(k, next < run->win_end ? next : run->win_end);
    }
}

static void *conn_main(void *arg)
{
    fb_conn *k = arg;
    if (k->run->o->mode == FB_OPEN)
        open_loop(k);
    else
        closed_loop(k);
    drain(k);
    return NULL;
}

/* ---- the run ---------------------------------------------------------------- */

static int conns_open(fb_run *run, char *err)
{
    fc_options opt = {.timeout_ms = FB_CALL_TIMEOUT_MS, .try_ms = FB_CALL_TIMEOUT_MS,
                      .retries = 1, .libzmq = run->o->libzmq};
    const char *ep[1] = {run->o->endpoint};
    for (int i = 0; i < run->o->conns; i++) {
        fb_conn *k = &run->conn[i];
        k->run = run, k->no = i;
        k->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        k->cursor = run->posts->n * (size_t)i / (size_t)run->o->conns;
        fb_hist_init(&k->t.hist);
        fb_hist_init(&k->t.lag);
        k->q = calloc((size_t)run->o->bulk, sizeof *k->q);
        k->res = calloc((size_t)run->o->bulk, sizeof *k->res);
        if (!k->q || !k->res) {
            snprintf(err, FB_ERRLEN, "out of memory");
            return -1;
        }
        if (!(k->c = fc_connect(ep, 1, &opt, err, FB_ERRLEN)))
            return -1;
    }
    return 0;
}

/* Every connection pings once, so that sockets are connected before t0. */
static int conns_ping(fb_run *run, char *err)
{
    for (int i = 0; i < run->o->conns; i++)
        if (fc_ping(run->conn[i].c, NULL, 0, err, FB_ERRLEN) < 0)
            return -1;
    return 0;
}

void fb_conns_close(fb_run *run)
{
    for (int i = 0; i < run->o->conns; i++) {
        if (run->conn[i].c)
            fc_close(run->conn[i].c);
        free(run->conn[i].due);
        free(run->conn[i].sent_at);
        free(run->conn[i].ev);
        free(run->conn[i].q);
        free(run->conn[i].res);
    }
}

int fb_run_load(fb_run *run, char *err)
{
    const fb_opts *o = run->o;
    if (conns_open(run, err) < 0 || conns_ping(run, err) < 0)
        return -1;
    run->t0 = fb_now_ns();
    run->win_start = run->t0 + (int64_t)(o->warmup * FB_NS);
    run->win_end = run->win_start + (int64_t)(o->seconds * FB_NS);
    for (int i = 0; i < o->conns; i++)
        if (pthread_create(&run->conn[i].th, NULL, conn_main, &run->conn[i])) {
            snprintf(err, FB_ERRLEN, "pthread_create failed");
            return -1;
        }
    for (int i = 0; i < o->conns; i++)
        pthread_join(run->conn[i].th, NULL);
    return 0;
}

void fb_merge(fb_tally *all, const fb_tally *t)
{
    fb_hist_merge(&all->hist, &t->hist);
    fb_hist_merge(&all->lag, &t->lag);
    all->sent += t->sent, all->done += t->done, all->in_window += t->in_window;
    all->texts_in_window += t->texts_in_window;
    if (!all->first_error[0])
        memcpy(all->first_error, t->first_error, sizeof all->first_error);
    all->errors += t->errors, all->late += t->late;
    for (int i = 0; i < 3; i++)
        all->decisions[i] += t->decisions[i];
    for (int i = 0; i < FB_NDEG; i++)
        all->degraded[i] += t->degraded[i];
    for (int i = 0; i < t->nlabels; i++)
        count_label(all, t->labels[i].name, t->labels[i].n);
}
