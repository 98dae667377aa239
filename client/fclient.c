/* fclient.c -- libfilterclient's API: connect, check one text or many, asynchronous calls, ping.
 *
 * The requests in flight, their retries and their completions are
 * inflight.c's; this file turns calls into requests and completions into
 * results. Several texts at hand go as bulk checks (one request, one reply
 * with a result per text, in order): fc_check_many cuts its texts into bulk
 * checks of FC_BULK_ITEMS and keeps up to its window of texts in flight. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "inflight.h"

const char *fc_decision_name(int d) { return fw_decision_name(d); }
const char *fc_decision_suggest(int d) { return fw_decision_suggest(d); }
int fc_decision_lookup(const char *name) { return fw_decision_lookup(name); }
void fc_result_free(fc_result *r) { fw_reply_free(r); }

fc_client *fc_connect(const char *const *endpoints, int n, const fc_options *opt, char *err,
                      size_t errlen)
{
    fc_client *c;

    if (n < 1 || n > FC_MAX_ENDPOINTS) {
        fc_seterr(err, errlen, "need 1 to %d endpoints", FC_MAX_ENDPOINTS);
        return NULL;
    }
    if (!(c = calloc(1, sizeof *c))) {
        fc_seterr(err, errlen, "out of memory");
        return NULL;
    }
    if (opt)
        c->opt = *opt;
    if (c->opt.timeout_ms <= 0)
        c->opt.timeout_ms = FC_TIMEOUT_MS;
    if (c->opt.try_ms <= 0)
        c->opt.try_ms = FC_TRY_MS;
    if (c->opt.retries <= 0)
        c->opt.retries = FC_RETRIES;
    if (!c->opt.has_fallback || c->opt.fallback < FC_ALLOW || c->opt.fallback > FC_BLOCK)
        c->opt.fallback = FC_FLAG;
    for (int i = 0; i < n; i++) {
        if (!(c->eps[i] = strdup(endpoints[i]))) {
            fc_seterr(err, errlen, "out of memory");
            goto err;
        }
        c->neps++;
    }
    if (c->opt.transport)
        c->tr = *c->opt.transport;
    else if (!c->opt.libzmq && fc_link_own(c, err, errlen) < 0)
        goto err;
    c->opt.transport = NULL;      /* copied: the caller's may go */
    if (fc_link_open(c, c->eps[0], err, errlen) < 0)
        goto err;
    return c;
err:
    fc_close(c);
    return NULL;
}

void fc_close(fc_client *c)
{
    if (!c)
        return;
    fc_link_close(c);
    fc_slots_free(c);
    for (int i = 0; i < c->neps; i++)
        free(c->eps[i]);
    free(c);
}

size_t fc_inflight(const fc_client *c) { return c->inflight; }

int fc_send(fc_client *c, const char *text, size_t len, const char *scene, int budget_ms,
            int timeout_ms, uint64_t *id, char *err, size_t errlen)
{
    fw_request q = {.text = text, .textlen = len, .scene_name = scene, .budget_ms = budget_ms};
    return fc_queue(c, 0, &q, NULL, 0, timeout_ms, 0, id, err, errlen);
}

/* A bulk check of q[0..n): each text with its scene, the largest budget for all. */
static int send_bulk(fc_client *c, const fc_query *q, size_t n, int timeout_ms, size_t tag,
                     uint64_t *id, char *err, size_t errlen)
{
    fw_request base = {.budget_ms = 0}, *items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        fc_seterr(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = (fw_request){.text = q[i].text, .textlen = q[i].len, .scene_name = q[i].scene};
        if (q[i].budget_ms > base.budget_ms)
            base.budget_ms = q[i].budget_ms;
    }
    int rc = fc_queue(c, 0, &base, items, n, timeout_ms, tag, id, err, errlen);
    free(items);
    return rc;
}

int fc_send_many(fc_client *c, const fc_query *q, size_t n, int timeout_ms, uint64_t *id,
                 char *err, size_t errlen)
{
    if (n < 1) {
        fc_seterr(err, errlen, "fc_send_many: no texts");
        return -1;
    }
    return send_bulk(c, q, n, timeout_ms, 0, id, err, errlen);
}

/* d's results into out[0..cap): their number, or -1 when they do not fit
 * (they are freed). */
static long unpack(fc_done *d, fc_result *out, size_t cap, char *err, size_t errlen)
{
    if (!d->nitems) {
        if (cap < 1)
            goto small;
        out[0] = d->r;
        return 1;
    }
    if (d->r.nresults > cap)
        goto small;
    for (size_t i = 0; i < d->r.nresults; i++)
        out[i] = d->r.results[i];
    long n = (long)d->r.nresults;
    free(d->r.results);
    return n;
small:
    fc_seterr(err, errlen, "a reply of %zu results does not fit in %zu", d->r.nresults, cap);
    fw_reply_free(&d->r);
    return -1;
}

int fc_recv_many(fc_client *c, int timeout_ms, uint64_t *id, fc_result *out, size_t cap,
                 size_t *n, char *err, size_t errlen)
{
    fc_done d;
    *n = 0;
    int rc = fc_wait(c, timeout_ms, &d, err, errlen);
    *id = d.id;
    if (rc != 0) {
        fw_reply_free(&d.r);
        return rc == 1 ? 0 : -1;   /* a lost ping still completes, with nothing */
    }
    long k = unpack(&d, out, cap, err, errlen);
    if (k < 0)
        return -1;
    *n = (size_t)k;
    return 0;
}

int fc_recv(fc_client *c, int timeout_ms, uint64_t *id, fc_result *out, char *err,
            size_t errlen)
{
    size_t n;
    memset(out, 0, sizeof *out);
    return fc_recv_many(c, timeout_ms, id, out, 1, &n, err, errlen);
}

int fc_check(fc_client *c, const char *text, size_t len, const char *scene, int budget_ms,
             fc_result *out, char *err, size_t errlen)
{
    uint64_t id, got;

    memset(out, 0, sizeof *out);
    if (c->inflight) {
        fc_seterr(err, errlen, "fc_check: %zu asynchronous requests in flight", c->inflight);
        return -1;
    }
    if (fc_send(c, text, len, scene, budget_ms, 0, &id, err, errlen) < 0 ||
        fc_recv(c, -1, &got, out, err, errlen) < 0)
        return -1;
    if (out->error) {
        fc_seterr(err, errlen, "%s: %s", out->error, out->error_message);
        return -1;
    }
    return 0;
}

int fc_pollfd_events(fc_client *c, int *wait_ms, short *events)
{
    int link_ms, fd = fc_link_pollfd(c, &link_ms, events);
    *wait_ms = fc_next_timer(c);
    if (link_ms >= 0 && (*wait_ms < 0 || link_ms < *wait_ms))
        *wait_ms = link_ms;
    return fd;
}

int fc_pollfd(fc_client *c, int *wait_ms)
{
    short ev;
    int fd = fc_pollfd_events(c, wait_ms, &ev);
    if (c->zd)                    /* the caller will not say what its poll found */
        c->tr.ready(c->tr.arg);
    return fd;
}

void fc_polled(fc_client *c, short revents)
{
    c->caller_polls = 1;
    if (revents && c->tr.open)
        c->tr.ready(c->tr.arg);
}

int fc_ping(fc_client *c, char *version, size_t vlen, char *err, size_t errlen)
{
    uint64_t id;
    fc_done d;
    fw_request q = {.op = FW_OP_PING};

    if (c->inflight) {
        fc_seterr(err, errlen, "fc_ping: %zu asynchronous requests in flight", c->inflight);
        return -1;
    }
    if (fc_queue(c, 1, &q, NULL, 0, 0, 0, &id, err, errlen) < 0)
        return -1;
    int rc = fc_wait(c, -1, &d, err, errlen);
    if (rc == 0 && d.r.error) {
        fc_seterr(err, errlen, "%s: %s", d.r.error, d.r.error_message);
        rc = -1;
    } else if (rc == 0 && version && vlen)
        snprintf(version, vlen, "%s", d.r.version ? d.r.version : "");
    fw_reply_free(&d.r);
    return rc == 0 ? 0 : -1;
}

int fc_check_many(fc_client *c, const fc_query *reqs, size_t n, int window, fc_result *out,
                  char *err, size_t errlen)
{
    size_t next = 0, done = 0;
    uint64_t id;
    fc_done d;

    if (window <= 0)
        window = FC_WINDOW;
    size_t chunk = window < FC_BULK_ITEMS ? (size_t)window : FC_BULK_ITEMS;
    memset(out, 0, n * sizeof *out);
    if (c->inflight) {
        fc_seterr(err, errlen, "fc_check_many: %zu asynchronous requests in flight", c->inflight);
        return -1;
    }
    while (done < n) {
        while (next < n && c->texts + chunk <= (size_t)window) {
            size_t k = n - next < chunk ? n - next : chunk;
            const fc_query *q = &reqs[next];
            int rc = k == 1 ? fc_queue(c, 0, &(fw_request){.text = q->text, .textlen = q->len,
                                       .scene_name = q->scene, .budget_ms = q->budget_ms},
                                       NULL, 0, 0, next, &id, err, errlen)
                            : send_bulk(c, q, k, 0, next, &id, err, errlen);
            if (rc < 0)
                return -1;
            next += k;
        }
        if (fc_wait(c, -1, &d, err, errlen) != 0)
            return -1;
        long k = unpack(&d, out + d.tag, n - d.tag, err, errlen);
        if (k < 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}
