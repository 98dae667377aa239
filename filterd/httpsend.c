/* httpsend.c -- the HTTP front door's checks to the broker: one bulk check per poll round, fanned back out.
 *
 * A route hands its texts over with fd_http_send; they are not sent at once
 * but queued. After each run of libmicrohttpd (one poll round) fd_http_flush
 * sends every queued request of the round together, as one bulk check of the
 * client library (fc_send_many, each text under its own scene; over
 * its own ZMTP DEALER, client/zdealer.c): one message, one envelope and decode in the broker and one reply for the round
 * instead of one each (bench/README.md, issue 13d: what the HTTP process
 * spends per request is system calls and the broker's per-message work).
 * Nothing waits for company: a round with one request sends it alone, as
 * before, the same moment. Requests go together only when they have the same
 * budget (a bulk check has one budget), up to max-items texts and
 * FD_HTTP_BATCH_BYTES of text; the rest go in further checks of the same
 * round. The reply has one result per text, in order; each request gets its
 * own slice (an item's error -- a text over max-text-bytes, say -- is that
 * request's alone; an error of the whole check is every member's). The
 * explain client (the console's) sends at once, one check per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* ---- requests at the broker, by client and id -------------------------- */

static size_t wslot(const fd_http *h, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (h->nwait - 1);
}

static uint64_t wkey(uint64_t id, int client)
{
    return id ^ ((uint64_t)client << 63);
}

static void wait_put(fd_http *h, fd_hreq *r)
{
    uint64_t k = wkey(r->id, r->client);
    size_t i = wslot(h, k);
    while (h->wait[i].req)
        i = (i + 1) & (h->nwait - 1);
    h->wait[i] = (fd_hwait){k, r};
}

/* Take the request waiting for (client, id) out of the table (linear
 * probing, the gap closed by shifting back): it, or NULL. */
static fd_hreq *wait_take(fd_http *h, uint64_t id, int client)
{
    uint64_t k = wkey(id, client);
    size_t i = wslot(h, k), mask = h->nwait - 1;
    while (h->wait[i].req && h->wait[i].id != k)
        i = (i + 1) & mask;
    fd_hreq *r = h->wait[i].req;
    if (!r)
        return NULL;
    h->wait[i].req = NULL;
    for (size_t j = (i + 1) & mask; h->wait[j].req; j = (j + 1) & mask) {
        size_t home = wslot(h, h->wait[j].id);
        if (((j - home) & mask) >= ((j - i) & mask)) {   /* j may move back to i */
            h->wait[i] = h->wait[j];
            h->wait[j].req = NULL;
            i = j;
        }
    }
    return r;
}

int fd_http_wait_init(fd_http *h)
{
    for (h->nwait = 64; h->nwait < 2 * ((size_t)h->max_conns + 16); h->nwait *= 2)
        ;
    h->wait = calloc(h->nwait, sizeof *h->wait);
    h->res = calloc((size_t)h->cfg->max_items, sizeof *h->res);
    h->batchq = calloc((size_t)h->cfg->max_items, sizeof *h->batchq);
    h->pending_tail = &h->pending;
    return h->wait && h->res && h->batchq ? 0 : -1;
}

void fd_http_wait_free(fd_http *h)
{
    free(h->wait);
    free(h->res);
    free(h->batchq);
}

/* ---- sending ------------------------------------------------------------- */

static fc_client *client(fd_http *h, int explain)
{
    char ep[FD_CONF_ENDPOINT_LEN + 32], err[256];
    const char *eps[1] = {ep};
    if (h->fc[explain])
        return h->fc[explain];
    snprintf(ep, sizeof ep, "%s", h->ctx->http_front);
    fc_options o = {.timeout_ms = h->cfg->max_budget_ms + FC_TIMEOUT_MS, .explain = explain,
                    .fallback = h->cfg->on_deadline, .has_fallback = 1};  /* ipc://: the
                    client library's own ZMTP DEALER (no libzmq I/O thread) */
    if (!(h->fc[explain] = fc_connect(eps, 1, &o, err, sizeof err)))
        fd_log(FD_ERROR, "http_client", "message=\"%s\"", err);
    return h->fc[explain];
}

/* q[0..n) to the broker now: one check (bulk 0, n 1) or a bulk one. r (the
 * head of its batch) waits under the id. 0 or -1 (logged). */
static int send_now(fd_http *h, fd_hreq *r, const fc_query *q, size_t n, int bulk, int explain)
{
    char err[256];
    fc_client *c = client(h, explain);
    int rc = !c ? -1 : bulk ? fc_send_many(c, q, n, 0, &r->id, err, sizeof err)
           : fc_send(c, q->text, q->len, q->scene, q->budget_ms, 0, &r->id, err, sizeof err);
    if (rc < 0) {
        fd_log_limited(FD_LK_BAD_REQUEST, "http_send_failed", "message=\"%s\"",
                       c ? err : "no client");
        return -1;
    }
    r->client = explain;
    wait_put(h, r);
    return 0;
}

static void drop_q(fd_hreq *r)
{
    if (r->q != &r->q1)
        free(r->q);
    r->q = NULL;
}

int fd_http_send(fd_http *h, fd_hreq *r, const fc_query *q, size_t n, int bulk, int explain)
{
    r->batch = NULL;
    r->off = 0;
    r->nq = n;
    if (explain || !client(h, 0)) {   /* the console's: at once, as it is */
        if (send_now(h, r, q, n, bulk, explain) < 0)
            return -1;
        r->waiting = 1;
        h->inflight++;
        return 0;
    }
    r->q = n == 1 ? &r->q1 : malloc(n * sizeof *q);
    if (!r->q)
        return -1;
    memcpy(r->q, q, n * sizeof *q);   /* the texts are r->doc's: they live as long as r */
    r->bulk = bulk;
    r->budget = 0;
    for (size_t i = 0; i < n; i++)
        if (q[i].budget_ms > r->budget)
            r->budget = q[i].budget_ms;
    *h->pending_tail = r;
    h->pending_tail = &r->batch;
    r->waiting = 1;
    h->inflight++;
    return 0;
}

static size_t qbytes(const fd_hreq *r)
{
    size_t b = 0;
    for (size_t i = 0; i < r->nq; i++)
        b += r->q[i].len;
    return b;
}

/* r could not be sent: its route answers "the broker cannot be reached". */
static void fail(fd_http *h, fd_hreq *r)
{
    drop_q(r);
    r->batch = NULL;
    h->inflight--;
    r->route->done(h, r, NULL, 0);
    fd_http_resume(h, r);
}

/* The batch g (members linked by ->batch, count of them) to the broker. */
static void send_batch(fd_http *h, fd_hreq *g, size_t count)
{
    if (count == 1) {
        if (send_now(h, g, g->q, g->nq, g->bulk, 0) < 0)
            fail(h, g);
        else
            drop_q(g);
        return;
    }
    size_t n = 0;
    for (fd_hreq *m = g; m; m = m->batch) {
        m->off = n;
        memcpy(h->batchq + n, m->q, m->nq * sizeof *m->q);
        n += m->nq;
    }
    if (send_now(h, g, h->batchq, n, 1, 0) == 0) {
        h->batched += count;
        for (fd_hreq *m = g; m; m = m->batch)
            drop_q(m);
        return;
    }
    for (fd_hreq *m = g, *next; m; m = next) {   /* one by one, as without batching */
        next = m->batch;
        m->batch = NULL;
        m->off = 0;
        send_batch(h, m, 1);
    }
}

void fd_http_flush(fd_http *h)
{
    fd_hreq *list = h->pending;
    h->pending = NULL;
    h->pending_tail = &h->pending;
    while (list) {
        fd_hreq *g = list, **tail = &g->batch;
        size_t items = g->nq, bytes = qbytes(g), count = 1;
        list = g->batch;
        g->batch = NULL;
        for (fd_hreq **pp = &list; *pp;) {
            fd_hreq *m = *pp;
            size_t b = qbytes(m);
            if (m->budget != g->budget || items + m->nq > (size_t)h->cfg->max_items ||
                bytes + b > FD_HTTP_BATCH_BYTES) {
                pp = &m->batch;
                continue;
            }
            *pp = m->batch;       /* out of the list, onto the batch */
            m->batch = NULL;
            *tail = m;
            tail = &m->batch;
            items += m->nq, bytes += b, count++;
        }
        send_batch(h, g, count);
    }
}

/* ---- answers --------------------------------------------------------------- */

/* Every completion the clients hold: each request of it finished and resumed. */
void fd_http_completions(fd_http *h)
{
    char err[256];
    for (int c = 0; c < 2; c++) {
        uint64_t id;
        size_t n;
        while (h->fc[c] && fc_inflight(h->fc[c]) &&
               fc_recv_many(h->fc[c], 0, &id, h->res, (size_t)h->cfg->max_items, &n, err,
                            sizeof err) == 0) {
            fd_hreq *r = wait_take(h, id, c);
            int batched = r && r->batch;
            for (fd_hreq *next; r; r = next) {
                next = r->batch;
                r->batch = NULL;
                h->inflight--;
                if (!batched)
                    r->route->done(h, r, h->res, n);
                else if (r->off + r->nq <= n)
                    r->route->done(h, r, h->res + r->off, r->nq);
                else
                    r->route->done(h, r, NULL, 0);
                fd_http_resume(h, r);
            }
            for (size_t i = 0; i < n; i++)
                fc_result_free(&h->res[i]);
        }
    }
}
