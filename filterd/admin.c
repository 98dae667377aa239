/* admin.c -- the admin endpoint, inside the broker: reload, stats, workers, version, ping.
 *
 * Callers are REQ sockets ([id][""][map]); each gets one map back. A reload
 * is asked of the supervisor over the control socket and answered only once
 * it finished: when a worker of the new generation said hello (ok, with the
 * entries added and removed per label) or when the compile failed (every
 * "file:line: reason"). Reloads asked while one runs wait for that one's
 * result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

static void reply(fd_broker *b, zmq_msg_t *ident)
{
    b->quiet &= ~FD_QUIET_ADMIN;
    fd_route(b->admin, ident, 1, b->sb.data, b->sb.size);
}

static uint64_t secs_since(int64_t t)
{
    return (uint64_t)((fd_now_ns() - t) / (1000 * FD_MS));
}

/* latency_hist: {le_us: [bounds], below: [values under each], count, sum_us},
 * the cumulative histogram a Prometheus exporter needs. */
static void hist(msgpack_packer *pk, const fd_hist *h)
{
    fw_enc_str(pk, "latency_hist");
    msgpack_pack_map(pk, 4);
    fw_enc_str(pk, "le_us");
    msgpack_pack_array(pk, FD_HIST_FIXED);
    for (int i = 0; i < FD_HIST_FIXED; i++)
        msgpack_pack_uint64(pk, fd_hist_bound(i));
    fw_enc_str(pk, "below");
    msgpack_pack_array(pk, FD_HIST_FIXED);
    for (int i = 0; i < FD_HIST_FIXED; i++)
        msgpack_pack_uint64(pk, fd_hist_below(h, fd_hist_bound(i)));
    fw_enc_kv_uint(pk, "count", h->n);
    fw_enc_kv_uint(pk, "sum_us", h->sum);
}

/* {NAME: count} of counters from..n-1, zeros included (a series that
 * appears late confuses rate()). */
static void counts(msgpack_packer *pk, const char *key, const uint64_t *c, int from, int n,
                   const char *(*name)(int))
{
    fw_enc_str(pk, key);
    msgpack_pack_map(pk, (size_t)(n - from));
    for (int i = from; i < n; i++)
        fw_enc_kv_uint(pk, name(i), c[i]);
}

static void stats(fd_broker *b, msgpack_packer *pk)
{
    const fd_stats *st = b->st;
    static const double pct[] = {0.5, 0.9, 0.99, 0.999};
    static const char *const pname[] = {"p50", "p90", "p99", "p999"};
    int busy, nw = fd_workers_count(b, &busy), nl = 0, serving = 0;

    for (int i = 0; i < b->nw; i++)
        serving += b->w[i].state == FD_WS_READY && fd_worker_eligible(b, &b->w[i]);
    fw_enc_begin(pk, 32, NULL, 0);
    fw_enc_kv_str(pk, "version", b->version);
    fw_enc_kv_uint(pk, "version_age_s", secs_since(b->version_since));
    fw_enc_kv_uint(pk, "uptime_s", secs_since(b->started));
    fw_enc_kv_uint(pk, "requests", st->requests);
    fw_enc_kv_uint(pk, "bulk", st->bulk);
    fw_enc_kv_uint(pk, "errors", st->errors);
    fw_enc_str(pk, "decisions");
    msgpack_pack_map(pk, 3);
    for (int a = FE_BLOCK; a >= FE_ALLOW; a--)
        fw_enc_kv_uint(pk, fe_action_name((fe_action)a), st->decisions[a]);
    for (int l = 0; l < FE_NLABELS; l++)
        nl += st->labels[l] > 0;
    fw_enc_str(pk, "labels");
    msgpack_pack_map(pk, (size_t)nl);
    for (int l = 0; l < FE_NLABELS; l++)
        if (st->labels[l])
            fw_enc_kv_uint(pk, fe_label_name(l), st->labels[l]);
    fw_enc_str(pk, "latency_us");
    msgpack_pack_map(pk, 5);
    for (int i = 0; i < 4; i++)
        fw_enc_kv_uint(pk, pname[i], fd_hist_pct(&st->latency, pct[i]));
    fw_enc_kv_uint(pk, "max", st->latency.max);
    hist(pk, &st->latency);
    counts(pk, "scenes", st->scenes, 0, FE_NSCENES, fe_scene_name);
    counts(pk, "errors_by", st->errors_by, FW_E_BAD_REQUEST, FW_E_RELOAD_FAILED + 1, fw_err_name);
    fw_enc_kv_uint(pk, "deadline", st->degraded[FW_DEG_DEADLINE]);
    fw_enc_kv_uint(pk, "overload", st->degraded[FW_DEG_OVERLOAD]);
    fw_enc_kv_uint(pk, "dropped", st->dropped);
    fw_enc_kv_uint(pk, "worker_restarts", st->worker_restarts);
    fw_enc_kv_uint(pk, "workers_refused", st->workers_refused);
    fw_enc_kv_uint(pk, "broker_restarts", st->broker_restarts);
    fw_enc_kv_uint(pk, "too_large", st->too_large);
    fw_enc_kv_uint(pk, "connections", (uint64_t)b->nconns);
    fw_enc_kv_uint(pk, "connections_refused", st->connections_refused);
    fw_enc_kv_uint(pk, "reply_queue_full", st->reply_queue_full);
    fw_enc_kv_uint(pk, "reads_paused", st->reads_paused);
    fw_enc_kv_uint(pk, "protocol_errors", st->protocol_errors);
    fw_enc_kv_uint(pk, "reloads", st->reloads);
    fw_enc_kv_uint(pk, "reload_failures", st->reload_failures);
    fw_enc_kv_uint(pk, "workers", (uint64_t)nw);
    fw_enc_kv_uint(pk, "serving", (uint64_t)serving);
    fw_enc_kv_uint(pk, "busy", (uint64_t)busy);
    fw_enc_kv_uint(pk, "held", (uint64_t)b->held);
    fw_enc_kv_uint(pk, "queue", (uint64_t)b->nqueued);
}

static void workers(fd_broker *b, msgpack_packer *pk)
{
    int busy, nw = fd_workers_count(b, &busy);
    fw_enc_begin(pk, 2, NULL, 0);
    fw_enc_str(pk, "workers");
    msgpack_pack_array(pk, (size_t)nw);
    for (int i = 0; i < b->nw; i++) {
        const fd_worker *w = &b->w[i];
        if (w->state != FD_WS_READY)
            continue;
        msgpack_pack_map(pk, 7);
        fw_enc_kv_uint(pk, "pid", (uint64_t)w->pid);
        fw_enc_kv_str(pk, "state", w->retiring ? "retiring" : w->held ? "busy" : "idle");
        fw_enc_kv_uint(pk, "held", (uint64_t)w->held);
        fw_enc_kv_str(pk, "version", w->version);
        fw_enc_kv_uint(pk, "gen", w->gen);
        fw_enc_kv_uint(pk, "served", w->served);
        fw_enc_kv_uint(pk, "age_s", secs_since(w->since));
    }
}

static void reload(fd_broker *b, zmq_msg_t *ident)
{
    if (b->nwaiters == FD_MAX_WAITERS || b->stopping) {
        fw_enc_error(fd_packer(b), NULL, 0, FW_E_INTERNAL,
                     b->stopping ? "filterd is stopping" : "too many reloads waiting");
        reply(b, ident);
        return;
    }
    zmq_msg_t *m = &b->waiter[b->nwaiters++];
    zmq_msg_init(m);
    zmq_msg_copy(m, ident);
    if (!b->reloading) {
        b->reloading = 1;
        fd_log(FD_INFO, "reload_requested", "source=admin");
        fd_ctl_send(b->ctl, "reload");
    }
}

void fd_admin_handle(fd_broker *b, zmq_msg_t *ident, const void *body, size_t len)
{
    char err[256];
    fw_request q;
    fw_limits lim = b->limits;
    lim.max_text = (size_t)-1;
    int code = fw_request_decode(body, len, &lim, &q, err, sizeof err);
    if ((code == FW_E_OK || code == FW_E_BAD_REQUEST) && q.op == FW_OP_CHECK) {
        code = FW_E_UNKNOWN_OP;     /* also when op is missing: check is the default */
        snprintf(err, sizeof err, "admin ops are reload, stats, workers, version and ping; "
                 "check is served on the request endpoint");
    }
    if (code != FW_E_OK) {
        fw_enc_error(fd_packer(b), q.id, q.idlen, code, err);
        reply(b, ident);
        return;
    }
    msgpack_packer *pk = fd_packer(b);
    switch (q.op) {
    case FW_OP_PING:
        fw_enc_pong(pk, q.id, q.idlen, b->version);
        break;
    case FW_OP_VERSION:
        fw_enc_begin(pk, 3, NULL, 0);
        fw_enc_kv_str(pk, "version", b->version);
        fw_enc_kv_uint(pk, "version_age_s", secs_since(b->version_since));
        break;
    case FW_OP_STATS:
        stats(b, pk);
        break;
    case FW_OP_WORKERS:
        workers(b, pk);
        break;
    case FW_OP_RELOAD:
        reload(b, ident);
        return;
    default:
        fw_enc_error(pk, q.id, q.idlen, FW_E_UNKNOWN_OP, "unknown op");
        break;
    }
    reply(b, ident);
}

/* {v, ok:false, version, error:{code, message}, errors:[...]} */
static void enc_failed(fd_broker *b, msgpack_packer *pk, int code, const char *errors)
{
    size_t n = 0;
    char first[512];
    for (const char *p = errors; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        n += len > 0;
        p += len + (e != NULL);
    }
    const char *nl = strchr(errors, '\n');
    snprintf(first, sizeof first, "%.*s", nl ? (int)(nl - errors) : (int)strlen(errors), errors);
    fw_enc_begin(pk, 5, NULL, 0);
    fw_enc_str(pk, "ok");
    msgpack_pack_false(pk);
    fw_enc_kv_str(pk, "version", b->version);
    fw_enc_str(pk, "error");
    msgpack_pack_map(pk, 2);
    fw_enc_kv_str(pk, "code", fw_err_name(code));
    fw_enc_kv_str(pk, "message", first[0] ? first : "reload failed");
    fw_enc_str(pk, "errors");
    msgpack_pack_array(pk, n);
    for (const char *p = errors; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len)
            msgpack_pack_str_with_body(pk, p, len);
        p += len + (e != NULL);
    }
}

void fd_admin_changes(fd_broker *b, const char *text)
{
    fd_changes *c = &b->changes;
    char name[32];
    unsigned long long entries, added, removed;
    int n;
    memset(c, 0, sizeof *c);
    if (sscanf(text, "%llu%n", &entries, &n) != 1)
        return;
    c->entries = entries;
    for (text += n; sscanf(text, " %31[a-z_]:+%llu:-%llu%n", name, &added, &removed, &n) == 3;
         text += n) {
        int l = strcmp(name, "allow") ? fe_label_lookup(name) : FE_NLABELS;
        if (l >= 0)
            c->added[l] = added, c->removed[l] = removed;
    }
    c->known = 1;
}

/* {LABEL: count} of the labels with a count (allow-list entries as "allow"). */
static void enc_counts(msgpack_packer *pk, const char *key, const uint64_t *count)
{
    size_t n = 0;
    for (int l = 0; l <= FE_NLABELS; l++)
        n += count[l] > 0;
    fw_enc_str(pk, key);
    msgpack_pack_map(pk, n);
    for (int l = 0; l <= FE_NLABELS; l++)
        if (count[l])
            fw_enc_kv_uint(pk, l < FE_NLABELS ? fe_label_name(l) : "allow", count[l]);
}

/* {v, ok:true, version, previous[, entries, added:{...}, removed:{...}]} */
static void enc_reloaded(fd_broker *b, msgpack_packer *pk)
{
    const fd_changes *c = &b->changes;
    fw_enc_begin(pk, c->known ? 7 : 4, NULL, 0);
    fw_enc_str(pk, "ok");
    msgpack_pack_true(pk);
    fw_enc_kv_str(pk, "version", b->version);
    fw_enc_kv_str(pk, "previous", b->previous);
    if (c->known) {
        fw_enc_kv_uint(pk, "entries", c->entries);
        enc_counts(pk, "added", c->added);
        enc_counts(pk, "removed", c->removed);
    }
}

void fd_admin_reloaded(fd_broker *b, int ok, const char *errors)
{
    msgpack_packer *pk = fd_packer(b);
    if (ok > 0) {
        enc_reloaded(b, pk);
        b->changes.known = 0;
        fd_log(FD_INFO, "reloaded", "version=%s previous=%s waiters=%d", b->version,
               b->previous, b->nwaiters);
        fd_ctl_send(b->ctl, "serving %s", b->version);
    } else {
        enc_failed(b, pk, ok == 0 ? FW_E_RELOAD_FAILED : FW_E_INTERNAL, errors ? errors : "");
        if (ok == 0)
            fd_log(FD_WARN, "reload_failed", "version=%s waiters=%d", b->version, b->nwaiters);
    }
    for (int i = 0; i < b->nwaiters; i++) {
        reply(b, &b->waiter[i]);
        zmq_msg_close(&b->waiter[i]);
    }
    b->nwaiters = 0;
    b->reloading = 0;
}
