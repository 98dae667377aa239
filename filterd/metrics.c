/* metrics.c -- GET /metrics (Prometheus text format 0.0.4) and /readyz, from the broker's stats.
 *
 * The counters live in the broker (fd_stats); this process asks for them on
 * the admin endpoint, as filterctl stats does, over its own DEALER with the
 * REQ envelope ([""][{op: "stats"}]) so that it never blocks: the requests
 * for /metrics and /readyz that come while a stats request is out wait for
 * its reply and are all answered from it. No reply within FD_HTTP_STATS_MS:
 * they get 503, and the socket is made anew (a late reply is never taken
 * for a later request's). fd_admin_ask and fd_admin_recv are the console's
 * way to the admin endpoint too (consjobs.c). The latency histogram is the broker's log-bucketed
 * one, given as cumulative counts at fixed bounds (fd_hist_below), so that
 * the histograms of several servers add up. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "http.h"

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (int tries = 0; tries < 2 && !b->failed; tries++) {
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            break;
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 8192;
        while (cap <= b->len + (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            break;
        b->p = p;
        b->cap = cap;
    }
    b->failed = 1;
}

/* ---- the admin socket ------------------------------------------------------ */

static void close_admin(fd_http *h)
{
    if (h->admin)
        zmq_close(h->admin);
    h->admin = NULL;
}

int fd_admin_ask(fd_http *h, void **sock, int op)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    fw_request q = {.op = (enum fw_op)op, .budget_ms = -1};
    int linger = 0, rc = -1;
    if (!h->zctx && !(h->zctx = zmq_ctx_new()))
        return -1;
    if (!*sock) {
        if (!(*sock = zmq_socket(h->zctx, ZMQ_DEALER)))
            return -1;
        zmq_setsockopt(*sock, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect(*sock, h->ctx->admin) < 0) {
            zmq_close(*sock);
            *sock = NULL;
            return -1;
        }
    }
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (fw_request_encode(&pk, &q, 1) == 0 &&
        zmq_send(*sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) == 0 &&
        zmq_send(*sock, sb.data, sb.size, ZMQ_DONTWAIT) >= 0)
        rc = 0;
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

int fd_admin_recv(void *sock, cJSON **reply)
{
    char err[128];
    int more = 1, parts = 0;
    *reply = NULL;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        if (parts++ == 1 && !*reply)
            *reply = fw_msgpack_to_json(zmq_msg_data(&m), zmq_msg_size(&m), err, sizeof err);
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return parts > 0;
}

static int ask(fd_http *h)
{
    if (fd_admin_ask(h, &h->admin, FW_OP_STATS) < 0)
        return -1;
    h->stats_sent = fd_now_ns();
    return 0;
}

/* Every waiter answered from stats (NULL: none came). */
static void answer(fd_http *h, const cJSON *stats)
{
    fd_hreq *r = h->waiters;
    h->waiters = NULL;
    h->stats_sent = 0;
    while (r) {
        fd_hreq *next = r->next_waiter;
        r->next_waiter = NULL;
        r->route->stats(h, r, stats);
        fd_http_resume(h, r);
        r = next;
    }
}

int fd_metrics_start(fd_http *h, fd_hreq *r)
{
    if (!h->stats_sent && ask(h) < 0) {
        r->route->stats(h, r, NULL);
        return 0;
    }
    r->waiting = 2;
    r->next_waiter = h->waiters;
    h->waiters = r;
    return 1;
}

void fd_metrics_drop(fd_http *h, fd_hreq *r)
{
    for (fd_hreq **p = &h->waiters; *p; p = &(*p)->next_waiter)
        if (*p == r) {
            *p = r->next_waiter;
            return;
        }
}

int fd_metrics_fd(fd_http *h, int *wait_ms)
{
    int fd = -1;
    size_t len = sizeof fd;
    *wait_ms = -1;
    int ev = 0;
    size_t evlen = sizeof ev;
    if (!h->admin || zmq_getsockopt(h->admin, ZMQ_FD, &fd, &len) < 0 ||
        zmq_getsockopt(h->admin, ZMQ_EVENTS, &ev, &evlen) < 0)
        return -1;
    if (ev & ZMQ_POLLIN) {        /* queued already: the edge-triggered fd would not say */
        *wait_ms = 0;
        return fd;
    }
    if (h->stats_sent) {
        int64_t left = h->stats_sent + (int64_t)FD_HTTP_STATS_MS * FD_MS - fd_now_ns();
        *wait_ms = left > 0 ? (int)(left / FD_MS) + 1 : 0;
    }
    return fd;
}

void fd_metrics_poll(fd_http *h)
{
    cJSON *stats;
    while (h->admin && fd_admin_recv(h->admin, &stats)) {
        if (h->stats_sent && cJSON_GetObjectItemCaseSensitive(stats, "requests"))
            answer(h, stats);
        cJSON_Delete(stats);
    }
    if (h->stats_sent && fd_now_ns() - h->stats_sent > (int64_t)FD_HTTP_STATS_MS * FD_MS) {
        fd_log_limited(FD_LK_BAD_REQUEST, "http_stats_timeout", "waited_ms=%d", FD_HTTP_STATS_MS);
        close_admin(h);
        answer(h, NULL);
    }
}

void fd_metrics_close(fd_http *h)
{
    close_admin(h);
    if (h->zctx)
        zmq_ctx_term(h->zctx);
    h->zctx = NULL;
}

void fd_http_count(fd_http *h, int route, int status)
{
    int i;
    for (i = 0; i < h->nstatus; i++)
        if (h->status[i].route == route && h->status[i].status == status)
            break;
    if (i == h->nstatus) {
        if (i == FD_HTTP_MAX_STATUS)
            return;
        h->status[h->nstatus++] = (fd_hcount){route, status, 0};
    }
    h->status[i].n++;
}

/* ---- rendering ------------------------------------------------------------- */

static unsigned long long num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? (unsigned long long)v->valuedouble : 0;
}

static void family(sbuf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(sbuf *b, const char *name, const char *type, const char *help,
                unsigned long long v)
{
    family(b, name, type, help);
    put(b, "%s %llu\n", name, v);
}

/* A family with one label: every name of names(0..n), its count in map o. */
static void labelled(sbuf *b, const char *name, const char *help, const char *label,
                     const cJSON *o, int n, const char *(*names)(int), int from)
{
    family(b, name, "counter", help);
    for (int i = from; i < n; i++)
        put(b, "%s{%s=\"%s\"} %llu\n", name, label, names(i), num(o, names(i)));
}

static const char *decision_name(int i) { return fw_decision_name(FW_BLOCK - i); }
static const char *degraded_name(int i) { return fw_degraded_name(i); }

static void latency(sbuf *b, const cJSON *hist)
{
    const char *n = "filterd_request_duration_seconds";
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(hist, "le_us");
    const cJSON *below = cJSON_GetObjectItemCaseSensitive(hist, "below");
    family(b, n, "histogram", "Time inside filterd per reply (a bulk check's whole reply), from "
           "the broker's receipt to its send, queueing included.");
    for (int i = 0; i < cJSON_GetArraySize(le) && i < cJSON_GetArraySize(below); i++)
        put(b, "%s_bucket{le=\"%g\"} %llu\n", n, cJSON_GetArrayItem(le, i)->valuedouble / 1e6,
            (unsigned long long)cJSON_GetArrayItem(below, i)->valuedouble);
    put(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", n, num(hist, "count"), n,
        (double)num(hist, "sum_us") / 1e6, n, num(hist, "count"));
}

static void http_counters(fd_http *h, sbuf *b)
{
    family(b, "filterd_http_requests_total", "counter",
           "HTTP requests answered by this front door process, by path and status.");
    for (int i = 0; i < h->nstatus; i++)
        put(b, "filterd_http_requests_total{path=\"%s\",code=\"%d\"} %llu\n",
            fd_route_path(h->status[i].route), h->status[i].status,
            (unsigned long long)h->status[i].n);
    one(b, "filterd_http_connections", "gauge", "HTTP connections open.", (unsigned)h->nconns);
    one(b, "filterd_http_connections_cut_total", "counter", "HTTP connections shut down for "
        "taking too long (http-timeout-ms, http-idle-ms).", (unsigned long long)h->cut);
    one(b, "filterd_http_at_broker", "gauge", "HTTP requests waiting for the broker.",
        (unsigned long long)h->inflight);
    one(b, "filterd_http_batched_total", "counter", "HTTP requests sent to the broker in one "
        "bulk check with others of the same poll round.", (unsigned long long)h->batched);
}

void fd_metrics_render(fd_http *h, fd_hreq *r, const cJSON *st)
{
    sbuf b = {0};
    if (!st) {
        fd_hreq_error(r, 503, NULL, "unavailable", "the broker gave no stats in time");
        return;
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(st, "version");
    one(&b, "filterd_requests_total", "counter", "Messages on the request endpoint (a bulk "
        "check counts once).", num(st, "requests"));
    one(&b, "filterd_bulk_requests_total", "counter", "Bulk checks among them.", num(st, "bulk"));
    labelled(&b, "filterd_decisions_total", "Texts decided (fallbacks included), by decision.",
             "decision", cJSON_GetObjectItemCaseSensitive(st, "decisions"), 3, decision_name, 0);
    labelled(&b, "filterd_labels_total", "Texts with a counting match of the label.", "label",
             cJSON_GetObjectItemCaseSensitive(st, "labels"), FE_NLABELS, fe_label_name, 0);
    labelled(&b, "filterd_scenes_total", "Texts admitted, by scene.", "scene",
             cJSON_GetObjectItemCaseSensitive(st, "scenes"), FE_NSCENES, fe_scene_name, 0);
    labelled(&b, "filterd_degraded_total", "Texts answered with the fallback, by reason.",
             "reason", st, FW_DEG_UNAVAILABLE, degraded_name, FW_DEG_DEADLINE);
    labelled(&b, "filterd_errors_total", "Error replies and bulk items answered with an "
             "error, by code.", "code", cJSON_GetObjectItemCaseSensitive(st, "errors_by"),
             FW_E_RELOAD_FAILED + 1, fw_err_name, FW_E_BAD_REQUEST);
    one(&b, "filterd_replies_dropped_total", "counter", "Replies whose client was gone or not "
        "reading.", num(st, "dropped"));
    one(&b, "filterd_reloads_total", "counter", "Reloads that took over.", num(st, "reloads"));
    one(&b, "filterd_reload_failures_total", "counter", "Reloads refused (the old lists serve "
        "on).", num(st, "reload_failures"));
    one(&b, "filterd_worker_restarts_total", "counter", "Workers replaced after dying.",
        num(st, "worker_restarts"));
    family(&b, "filterd_lists_info", "gauge", "The word-list version that serves.");
    put(&b, "filterd_lists_info{version=\"%s\"} 1\n", cJSON_IsString(ver) ? ver->valuestring : "");
    one(&b, "filterd_lists_age_seconds", "gauge", "Seconds since that version took over.",
        num(st, "version_age_s"));
    one(&b, "filterd_uptime_seconds", "gauge", "Seconds since filterd started.", num(st, "uptime_s"));
    one(&b, "filterd_workers", "gauge", "Worker processes known to the broker.", num(st, "workers"));
    one(&b, "filterd_workers_serving", "gauge", "Workers that take new texts.", num(st, "serving"));
    one(&b, "filterd_workers_busy", "gauge", "Workers holding texts.", num(st, "busy"));
    one(&b, "filterd_texts_held", "gauge", "Texts in workers.", num(st, "held"));
    one(&b, "filterd_texts_queued", "gauge", "Texts waiting in the broker.", num(st, "queue"));
    latency(&b, cJSON_GetObjectItemCaseSensitive(st, "latency_hist"));
    http_counters(h, &b);
    if (b.failed) {
        free(b.p);
        b.p = NULL;
    }
    fd_hreq_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
}

void fd_ready_render(fd_http *h, fd_hreq *r, const cJSON *st)
{
    cJSON *o = cJSON_CreateObject();
    unsigned long long serving = num(st, "serving");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(st, "version");
    int ready = st && serving > 0 && !h->stopping;
    cJSON_AddBoolToObject(o, "ready", ready);
    if (cJSON_IsString(ver))
        cJSON_AddStringToObject(o, "version", ver->valuestring);
    cJSON_AddNumberToObject(o, "workers_serving", (double)serving);
    if (!ready)
        cJSON_AddStringToObject(o, "reason", !st ? "the broker gave no stats in time"
                                : h->stopping ? "filterd is stopping" : "no worker serves yet");
    fd_hreq_json(r, ready ? 200 : 503, o);
}
