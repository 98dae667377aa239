/* broker.c -- the broker process: the ZeroMQ Guide's load-balancing broker, plus deadlines.
 *
 *   clients (REQ / DEALER)          broker                      workers (DEALER)
 *   [id][""][request] --> ROUTER front      ROUTER back <-- [H][pid,gen][version]
 *                         queue, deadlines  --> [Q][seq][request]
 *   [id][""][reply]   <--                   <-- [A][seq][summary][reply]
 *
 * Requests wait only here, never behind a busy worker: each goes to an idle
 * worker of the current generation. Every live request sits in a min-heap by
 * deadline; when its deadline passes the broker answers it with the fallback
 * (degraded "deadline") and a late worker answer for it is dropped by its
 * sequence number. The queue is bounded by queue-max: past it requests are
 * shed at once (degraded "overload"). The envelope is parsed here, so bad
 * requests are answered without costing a worker. Single-threaded: one
 * zmq_poll over the front, back and admin sockets and the control socket. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "daemon.h"
#include "proto.h"

#define MS (1000000LL)            /* ns per ms */
#define FD_FRONT_HWM 100000       /* replies queued to one client before sends fail */

static void dispatch(fd_broker *b);

/* ---- small helpers -------------------------------------------------------- */

int fd_route(void *sock, void *const *env, int nenv, const void *data, size_t len)
{
    for (int i = 0; i < nenv; i++) {
        zmq_msg_t c;
        zmq_msg_init(&c);
        zmq_msg_copy(&c, env[i]);
        if (zmq_msg_send(&c, sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&c);
            return -1;          /* peer gone or over its high-water mark: dropped */
        }
    }
    if (zmq_send(sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send(sock, data, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/* A reply to a client. One that cannot be delivered (the client is gone, or
 * has FD_FRONT_HWM replies it does not read) is counted and logged. */
static void reply(fd_broker *b, void *const *env, int nenv, const void *data, size_t len)
{
    if (fd_route(b->front, env, nenv, data, len) == 0)
        return;
    b->st.dropped++;
    fd_log_limited(4, "reply_dropped", "reason=\"%s\" dropped=%llu", zmq_strerror(errno),
                   (unsigned long long)b->st.dropped);
}

void fd_ctl_send(int fd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0 && send(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, MSG_NOSIGNAL) < 0 &&
        errno != EPIPE && errno != ECONNRESET)   /* the other side exited: seen elsewhere */
        fd_log(FD_ERROR, "control_failed", "message=\"%s\"", strerror(errno));
}

static msgpack_packer *packer(fd_broker *b)
{
    msgpack_sbuffer_clear(b->sb);
    return b->pk;
}

static const char *sbuf_data(fd_broker *b, size_t *len)
{
    msgpack_sbuffer *sb = b->sb;
    *len = sb->size;
    return sb->data;
}

/* ---- answering ------------------------------------------------------------ */

static void count_decision(fd_broker *b, int action, uint32_t labels, uint64_t us)
{
    b->st.decisions[action & 3]++;
    for (int l = 0; l < FE_NLABELS; l++)
        if (labels & (1u << l))
            b->st.labels[l]++;
    fd_hist_add(&b->st.latency, us);
}

static void log_request(fd_broker *b, const fd_slot *r, const char *what, uint64_t us, pid_t pid)
{
    char id[160];
    if (b->ctx->cfg.log_requests)
        fd_log(FD_INFO, "request", "id=%s %s elapsed_us=%llu worker=%ld",
               fd_log_id(r->id, r->idlen, id, sizeof id), what, (unsigned long long)us,
               (long)pid);
}

/* Answer slot s with the fallback decision and free it. */
static void fallback(fd_broker *b, int s, const char *degraded, const char *warning)
{
    fd_slot *r = b->slot[s];
    char id[160];
    size_t len;
    uint64_t us = (uint64_t)(fd_now_ns() - r->arrival) / 1000;
    int action = b->ctx->cfg.on_deadline;

    fd_enc_plain(packer(b), r->id, r->idlen, action, b->version, degraded, warning, us);
    const char *data = sbuf_data(b, &len);
    reply(b, r->env, r->nenv, data, len);
    count_decision(b, action, 0, us);
    if (!strcmp(degraded, "overload"))
        b->st.overload++;
    else
        b->st.deadline++;
    fd_log_limited(!strcmp(degraded, "overload") ? 1 : 2, degraded,
                   "id=%s decision=%s elapsed_us=%llu queue=%d%s%s",
                   fd_log_id(r->id, r->idlen, id, sizeof id), fe_action_name((fe_action)action),
                   (unsigned long long)us, b->nqueued, warning ? " warning=" : "",
                   warning ? warning : "");
    fd_slot_free(b, s);
}

static void error_reply(fd_broker *b, void *const *env, int nenv, const fd_req *q, int code,
                        const char *msg)
{
    size_t len;
    char id[160];
    fd_enc_error(packer(b), q ? q->id : NULL, q ? q->idlen : 0, code, msg);
    const char *data = sbuf_data(b, &len);
    reply(b, env, nenv, data, len);
    b->st.errors++;
    fd_log_limited(3, "bad_request", "id=%s code=%s message=\"%s\"",
                   q ? fd_log_id(q->id, q->idlen, id, sizeof id) : "-", fd_err_name(code), msg);
}

/* ---- workers -------------------------------------------------------------- */

static int worker_find(fd_broker *b, const void *ident, size_t len)
{
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state != FD_WS_FREE && b->w[i].identlen == len &&
            !memcmp(b->w[i].ident, ident, len))
            return i;
    return -1;
}

static int worker_by_pid(fd_broker *b, pid_t pid)
{
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state != FD_WS_FREE && b->w[i].pid == pid)
            return i;
    return -1;
}

/* -1 when the worker is gone (ROUTER_MANDATORY says so before we wait on it). */
static int worker_send(fd_broker *b, fd_worker *w, char type, const void *a, size_t alen,
                       zmq_msg_t *body)
{
    if (zmq_send(b->back, w->ident, w->identlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        if (body)
            zmq_msg_close(body);
        return -1;
    }
    zmq_send(b->back, &type, 1, (a ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    if (a)
        zmq_send(b->back, a, alen, (body ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    if (body && zmq_msg_send(body, b->back, ZMQ_DONTWAIT) < 0)
        zmq_msg_close(body);
    return 0;
}

static void retire(fd_broker *b, fd_worker *w)
{
    w->retiring = 1;
    if (w->state == FD_WS_IDLE && !w->told) {
        worker_send(b, w, FD_B_RETIRE, NULL, 0, NULL);
        w->told = 1;
        fd_log(FD_INFO, "worker_retire", "worker=%ld gen=%u version=%s", (long)w->pid, w->gen,
               w->version);
    }
}

/* The request worker w held is lost (it died or hung): retry it once, or fall back. */
static void worker_lost(fd_broker *b, int i, const char *why)
{
    fd_worker *w = &b->w[i];
    if (!w->told)               /* a retired worker's exit is expected */
        fd_log(FD_WARN, "worker_lost", "worker=%ld reason=%s busy=%s", (long)w->pid, why,
               w->state == FD_WS_BUSY && w->slot >= 0 ? "yes" : "no");
    if (w->state == FD_WS_BUSY && w->slot >= 0) {
        int s = w->slot;
        fd_slot *r = b->slot[s];
        if (r->live && r->seq == w->seq) {
            if (r->tries < 2 && r->deadline > fd_now_ns() && !b->stopping)
                fd_enqueue(b, s, 1);
            else
                fallback(b, s, "deadline", "worker_lost");
        }
    }
    memset(w, 0, sizeof *w);
    while (b->nw > 0 && b->w[b->nw - 1].state == FD_WS_FREE)
        b->nw--;
}

static void switch_generation(fd_broker *b)
{
    b->switched = 1;
    snprintf(b->previous, sizeof b->previous, "%s", b->pending_prev);
    snprintf(b->version, sizeof b->version, "%s", b->pending);
    b->version_since = fd_now_ns();
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state != FD_WS_FREE && b->w[i].gen != b->gen)
            retire(b, &b->w[i]);
    if (b->previous[0])
        fd_log(FD_INFO, "switch", "gen=%u version=%s previous=%s", b->gen, b->version,
               b->previous);
    if (b->reloading)
        fd_admin_reloaded(b, 1, NULL);
}

static void check_ready(fd_broker *b)
{
    int n = 0;
    if (b->ready_sent)
        return;
    for (int i = 0; i < b->nw; i++)
        n += b->w[i].state != FD_WS_FREE && b->w[i].gen == b->gen;
    if (n >= b->ctx->nworkers) {
        b->ready_sent = 1;
        fd_ctl_send(b->ctl, "ready");
    }
}

/* [H][pid u32, gen u32][version]: a new worker, or a heartbeat. */
static void worker_hello(fd_broker *b, zmq_msg_t *f, int n)
{
    uint32_t hello[2];
    if (n != 4 || zmq_msg_size(&f[2]) != sizeof hello || zmq_msg_size(&f[0]) > 255)
        return;
    memcpy(hello, zmq_msg_data(&f[2]), sizeof hello);
    int i = worker_find(b, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
    if (i >= 0) {
        b->w[i].last_seen = fd_now_ns();
        return;
    }
    for (i = 0; i < FD_MAX_WORKERS && b->w[i].state != FD_WS_FREE; i++)
        ;
    if (i == FD_MAX_WORKERS) {
        fd_log(FD_ERROR, "too_many_workers", "worker=%u", hello[0]);
        return;
    }
    fd_worker *w = &b->w[i];
    memset(w, 0, sizeof *w);
    w->identlen = zmq_msg_size(&f[0]);
    memcpy(w->ident, zmq_msg_data(&f[0]), w->identlen);
    w->pid = (pid_t)hello[0];
    w->gen = hello[1];
    snprintf(w->version, sizeof w->version, "%.*s", (int)zmq_msg_size(&f[3]),
             (const char *)zmq_msg_data(&f[3]));
    w->state = FD_WS_IDLE;
    w->slot = -1;
    w->last_seen = w->since = fd_now_ns();
    if (i >= b->nw)
        b->nw = i + 1;
    fd_log(FD_INFO, "worker_ready", "worker=%ld gen=%u version=%s", (long)w->pid, w->gen,
           w->version);
    if (w->gen == b->gen && !b->switched)
        switch_generation(b);
    else if (w->gen != b->gen && b->switched)
        retire(b, w);
    check_ready(b);
}

/* [A][seq][summary][reply]: forward the reply if its request still waits. */
static void worker_answer(fd_broker *b, zmq_msg_t *f, int n)
{
    uint64_t seq;
    uint32_t labels;
    int i = worker_find(b, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
    if (i < 0 || n != 5 || zmq_msg_size(&f[2]) != 8 || zmq_msg_size(&f[3]) != FD_SUMMARY_LEN)
        return;
    fd_worker *w = &b->w[i];
    memcpy(&seq, zmq_msg_data(&f[2]), 8);
    w->last_seen = fd_now_ns();
    if (w->state != FD_WS_BUSY || w->seq != seq)
        return;
    const uint8_t *sum = zmq_msg_data(&f[3]);
    memcpy(&labels, sum + 2, 4);
    if (w->slot >= 0 && b->slot[w->slot]->live && b->slot[w->slot]->seq == seq) {
        fd_slot *r = b->slot[w->slot];
        uint64_t us = (uint64_t)(fd_now_ns() - r->arrival) / 1000;
        if (sum[1])
            b->st.errors++;
        else {
            fd_enc_patch_elapsed(zmq_msg_data(&f[4]), zmq_msg_size(&f[4]), us);
            count_decision(b, sum[0], labels, us);
        }
        reply(b, r->env, r->nenv, zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
        if (b->ctx->cfg.log_requests) {
            char what[96];
            snprintf(what, sizeof what, "decision=%s labels=0x%x",
                     sum[1] ? "error" : fe_action_name((fe_action)sum[0]), labels);
            log_request(b, r, what, us, w->pid);
        }
        fd_slot_free(b, w->slot);
    }
    w->served++;
    w->state = FD_WS_IDLE;
    w->slot = -1;
    if (w->retiring)
        retire(b, w);
}

static void worker_msg(fd_broker *b)
{
    zmq_msg_t f[6];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, b->back, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < 6)
            f[n++] = m;
        else
            zmq_msg_close(&m);
    }
    if (n >= 2 && zmq_msg_size(&f[1]) == 1) {
        char type = *(char *)zmq_msg_data(&f[1]);
        if (type == FD_W_HELLO)
            worker_hello(b, f, n);
        else if (type == FD_W_ANSWER)
            worker_answer(b, f, n);
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* Workers silent for heartbeat x liveness are hung (or stopped): kill them. */
static void check_heartbeats(fd_broker *b)
{
    int64_t limit = (int64_t)b->ctx->cfg.heartbeat_ms * b->ctx->cfg.heartbeat_liveness * MS;
    int64_t now = fd_now_ns();
    for (int i = 0; i < b->nw; i++) {
        fd_worker *w = &b->w[i];
        if (w->state == FD_WS_FREE || now - w->last_seen <= limit)
            continue;
        fd_log(FD_WARN, "worker_hung", "worker=%ld silent_ms=%lld busy=%s", (long)w->pid,
               (long long)((now - w->last_seen) / MS), w->state == FD_WS_BUSY ? "yes" : "no");
        fd_ctl_send(b->ctl, "kill %ld", (long)w->pid);
        worker_lost(b, i, "hung");
    }
}

/* ---- clients -------------------------------------------------------------- */

static int eligible(const fd_broker *b, const fd_worker *w)
{
    return w->state == FD_WS_IDLE && !w->retiring && (w->gen == b->gen || !b->switched);
}

static void dispatch(fd_broker *b)
{
    static int rr;
    while (b->qhead >= 0) {
        int found = -1;
        for (int k = 0; k < b->nw && found < 0; k++) {
            int i = (rr + k) % b->nw;
            if (eligible(b, &b->w[i]))
                found = i;
        }
        if (found < 0)
            return;
        rr = found + 1;
        int s = b->qhead;
        fd_slot *r = b->slot[s];
        fd_worker *w = &b->w[found];
        fd_unqueue(b, s);
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, r->body);
        r->tries++;
        w->state = FD_WS_BUSY;
        w->slot = s;
        w->seq = r->seq;
        w->busy_since = fd_now_ns();
        w->last_seen = w->busy_since;   /* the hung clock starts now */
        if (worker_send(b, w, FD_B_REQUEST, &r->seq, 8, &copy) < 0)
            worker_lost(b, found, "unreachable");  /* retries the request once */
    }
}

/* Split a client message into routing frames and body. -1: drop it. */
static int envelope(zmq_msg_t *f, int n, int *nenv, int *body, const char **why)
{
    int k;
    *why = NULL;
    for (k = 1; k < n && zmq_msg_size(&f[k]); k++)
        ;
    if (k >= n) {               /* no delimiter: answer a bare DEALER, else drop */
        *nenv = 1;
        *body = -1;
        *why = "missing empty delimiter frame before the request";
        return n == 2 ? 0 : -1;
    }
    if (k > FD_MAX_ENV)
        return -1;
    *nenv = k;
    *body = k + 1;
    if (k + 1 >= n)
        *why = "missing request frame after the delimiter";
    else if (k + 2 < n)
        *why = "extra frames after the request";
    return 0;
}

static void client_request(fd_broker *b, zmq_msg_t *f, int n, int truncated)
{
    void *env[FD_MAX_ENV];
    int nenv, body;
    const char *why;
    char err[256];
    fd_req q;

    b->st.requests++;
    if (envelope(f, n, &nenv, &body, &why) < 0)
        return;
    for (int i = 0; i < nenv; i++)
        env[i] = &f[i];
    if (why || truncated) {
        if (body < 0) {          /* reply without a delimiter, as it came */
            size_t len;
            fd_enc_error(packer(b), NULL, 0, FD_E_BAD_REQUEST, why);
            const char *data = sbuf_data(b, &len);
            zmq_send(b->front, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(b->front, data, len, ZMQ_DONTWAIT);
            b->st.errors++;
            return;
        }
        error_reply(b, env, nenv, NULL, FD_E_BAD_REQUEST, why ? why : "extra frames after the request");
        return;
    }
    int code = fd_req_decode(zmq_msg_data(&f[body]), zmq_msg_size(&f[body]),
                             b->ctx->cfg.max_text_bytes, &q, err, sizeof err);
    if (code == FD_E_OK && fd_op_admin(q.op)) {
        code = FD_E_FORBIDDEN;
        snprintf(err, sizeof err, "%s is an admin operation: use the admin endpoint",
                 fd_op_name(q.op));
    }
    if (code != FD_E_OK) {
        error_reply(b, env, nenv, &q, code, err);
        return;
    }
    if (q.op == FD_OP_PING) {
        size_t len;
        fd_enc_pong(packer(b), q.id, q.idlen, b->version);
        const char *data = sbuf_data(b, &len);
        reply(b, env, nenv, data, len);
        return;
    }
    int s = fd_slot_new(b);
    if (s < 0) {
        error_reply(b, env, nenv, &q, FD_E_INTERNAL, "out of memory");
        return;
    }
    fd_slot *r = b->slot[s];
    const fe_config *cfg = &b->ctx->cfg;
    int64_t budget = q.budget_ms < 0 ? cfg->budget_ms : q.budget_ms;
    if (budget > cfg->max_budget_ms)
        budget = cfg->max_budget_ms;
    r->arrival = fd_now_ns();
    r->deadline = r->arrival + budget * MS;
    memcpy(r->id, q.id, q.idlen);
    r->idlen = q.idlen;
    for (int i = 0; i < nenv; i++) {
        r->env[i] = malloc(sizeof(zmq_msg_t));
        zmq_msg_init(r->env[i]);
        zmq_msg_move(r->env[i], &f[i]);
        r->nenv++;
    }
    r->body = malloc(sizeof(zmq_msg_t));
    zmq_msg_init(r->body);
    zmq_msg_move(r->body, &f[body]);
    if (budget == 0 || b->stopping) {
        fallback(b, s, "deadline", NULL);
        return;
    }
    if (b->nqueued >= cfg->queue_max) {
        fallback(b, s, "overload", NULL);
        return;
    }
    fd_deadline_add(b, s);
    fd_enqueue(b, s, 0);
    dispatch(b);
}

/* Read up to FD_BATCH messages from a ROUTER; handle each with fn. */
static void drain(fd_broker *b, void *sock, void (*fn)(fd_broker *, zmq_msg_t *, int, int))
{
    for (int k = 0; k < FD_BATCH; k++) {
        zmq_msg_t f[FD_MAX_ENV + 3];
        int n = 0, more = 1, truncated = 0;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            if (n < FD_MAX_ENV + 3)
                f[n++] = m;
            else {
                truncated = 1;  /* too many frames: keep reading, answer an error */
                zmq_msg_close(&m);
            }
        }
        if (!n)
            return;
        fn(b, f, n, truncated);
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
    }
}

static void admin_request(fd_broker *b, zmq_msg_t *f, int n, int truncated)
{
    /* admin callers are REQ: [id][""][body], nothing else */
    if (truncated || n != 3 || zmq_msg_size(&f[1]) != 0)
        return;
    fd_admin_handle(b, &f[0], zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
}

static void expire(fd_broker *b)
{
    int64_t now = fd_now_ns();
    int s;
    while ((s = fd_deadline_first(b)) >= 0 && b->slot[s]->deadline <= now)
        fallback(b, s, "deadline", NULL);
}

/* ---- control messages from the supervisor --------------------------------- */

static void control(fd_broker *b)
{
    static char buf[FD_CTL_MAX + 1];
    ssize_t n = recv(b->ctl, buf, FD_CTL_MAX, MSG_DONTWAIT);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            fd_log(FD_ERROR, "supervisor_gone", NULL);
            exit(1);
        }
        return;
    }
    buf[n] = '\0';
    long pid;
    int replaced;
    unsigned gen;
    char ver[32], prev[32];
    if (sscanf(buf, "dead %ld %d", &pid, &replaced) == 2) {
        int i = worker_by_pid(b, (pid_t)pid);
        if (i >= 0)
            worker_lost(b, i, "died");
        if (replaced)
            b->st.worker_restarts++;
    } else if (sscanf(buf, "version %u %31s %31s", &gen, ver, prev) == 3) {
        b->gen = gen;
        b->switched = 0;
        snprintf(b->pending, sizeof b->pending, "%s", ver);
        snprintf(b->pending_prev, sizeof b->pending_prev, "%s", prev);
        b->st.reloads++;
        for (int i = 0; i < b->nw; i++)  /* a worker of gen may already be here */
            if (b->w[i].state != FD_WS_FREE && b->w[i].gen == gen && !b->switched)
                switch_generation(b);
    } else if (!strncmp(buf, "failed", 6)) {
        b->st.reload_failures++;
        fd_admin_reloaded(b, 0, strchr(buf, '\n') ? strchr(buf, '\n') + 1 : "");
    } else if (!strcmp(buf, "stop")) {
        /* Stop reading the front socket, but keep it bound: zmq_unbind would
         * also cut the connections the in-flight replies must go back on. */
        b->stopping = 1;
        fd_log(FD_INFO, "draining", "live=%d", b->nheap);
    }
}

/* ---- setup and the loop --------------------------------------------------- */

static int bind_all(fd_broker *b, char *err, size_t errlen)
{
    const fe_config *cfg = &b->ctx->cfg;
    int64_t maxmsg = (int64_t)cfg->max_text_bytes + FD_FRAME_SLACK, adminmax = 1 << 16;
    int linger = FD_LINGER_MS, one = 1, hwm = FD_FRONT_HWM;
    const char *where;

    b->front = zmq_socket(b->zctx, ZMQ_ROUTER);
    b->back = zmq_socket(b->zctx, ZMQ_ROUTER);
    b->admin = zmq_socket(b->zctx, ZMQ_ROUTER);
    if (!b->front || !b->back || !b->admin) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        return -1;
    }
    zmq_setsockopt(b->front, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(b->admin, ZMQ_MAXMSGSIZE, &adminmax, sizeof adminmax);
    zmq_setsockopt(b->back, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    /* Replies wait in a client's pipe up to FD_FRONT_HWM; past it (a client
     * that does not read) a send fails instead of dropping in silence. */
    zmq_setsockopt(b->front, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(b->front, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(b->front, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(b->admin, ZMQ_LINGER, &linger, sizeof linger);
    for (int i = 0; i < cfg->nlisten; i++)
        if (zmq_bind(b->front, where = cfg->listen[i]) < 0)
            goto fail;
    if (zmq_bind(b->back, where = b->ctx->backend) < 0 ||
        zmq_bind(b->admin, where = b->ctx->admin) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "bind %s: %s", where, zmq_strerror(errno));
    return -1;
}

/* ipc sockets: the workers' must be usable by the unprivileged user, the
 * admin one by its owner only. */
static int secure_sockets(fd_broker *b, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;
    const char *ipc[2] = {b->ctx->backend, b->ctx->admin};
    int drop = fd_privsep_user(&b->ctx->cfg, &uid, &gid, err, errlen);
    if (drop < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (strncmp(ipc[i], "ipc://", 6))
            continue;
        const char *path = ipc[i] + 6;
        if (drop && chown(path, uid, gid) < 0) {
            snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
            return -1;
        }
        if (i == 1 && chmod(path, 0600) < 0) {
            snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int live_requests(const fd_broker *b)
{
    return b->nheap;
}

static void broker_loop(fd_broker *b)
{
    int64_t hb = (int64_t)b->ctx->cfg.heartbeat_ms * MS, next_hb = fd_now_ns() + hb;
    for (;;) {
        if (b->stopping && !live_requests(b))
            return;
        int64_t now = fd_now_ns(), wake = next_hb;
        int first = fd_deadline_first(b);
        if (first >= 0 && b->slot[first]->deadline < wake)
            wake = b->slot[first]->deadline;
        long timeout = wake > now ? (long)((wake - now + MS - 1) / MS) : 0;
        zmq_pollitem_t it[4] = {
            {b->back, 0, ZMQ_POLLIN, 0}, {NULL, b->ctl, ZMQ_POLLIN, 0},
            {b->admin, 0, ZMQ_POLLIN, 0}, {b->front, 0, ZMQ_POLLIN, 0}};
        int nit = b->stopping ? 3 : 4;
        if (zmq_poll(it, nit, timeout) < 0 && errno != EINTR)
            return;
        if (it[0].revents & ZMQ_POLLIN)
            for (int k = 0; k < FD_BATCH; k++)
                worker_msg(b);
        if (it[1].revents & ZMQ_POLLIN)
            control(b);
        if (it[2].revents & ZMQ_POLLIN)
            drain(b, b->admin, admin_request);
        if (nit == 4 && (it[3].revents & ZMQ_POLLIN))
            drain(b, b->front, client_request);
        expire(b);
        if (fd_now_ns() >= next_hb) {
            check_heartbeats(b);
            next_hb = fd_now_ns() + hb;
        }
        dispatch(b);
    }
}

int fd_broker_main(const fd_ctx *ctx, int ctl)
{
    static fd_broker b;
    char err[512];
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int rc = 1;

    fd_log_init("broker", ctx->cfg.log_text);
    memset(&b, 0, sizeof b);
    b.ctx = ctx;
    b.ctl = ctl;
    b.qhead = b.qtail = -1;
    b.gen = ctx->gen;
    snprintf(b.version, sizeof b.version, "%s", ctx->version);
    snprintf(b.pending, sizeof b.pending, "%s", ctx->version);
    snprintf(b.previous, sizeof b.previous, "%s", "");
    b.started = ctx->started_ns;
    b.version_since = fd_now_ns();
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    b.sb = &sb;
    b.pk = &pk;
    if (!(b.zctx = zmq_ctx_new())) {
        snprintf(err, sizeof err, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto out;
    }
    if (bind_all(&b, err, sizeof err) < 0 || secure_sockets(&b, err, sizeof err) < 0 ||
        fd_drop_privileges(&ctx->cfg, err, sizeof err) < 0)
        goto out;
    fd_log(FD_INFO, "listening", "listen=%s admin=%s queue_max=%d budget_ms=%d on_deadline=%s",
           ctx->cfg.listen[0], ctx->admin, ctx->cfg.queue_max, ctx->cfg.budget_ms,
           fe_action_name(ctx->cfg.on_deadline));
    broker_loop(&b);
    for (int i = 0; i < b.nw; i++)
        if (b.w[i].state != FD_WS_FREE)
            worker_send(&b, &b.w[i], FD_B_RETIRE, NULL, 0, NULL);
    fd_admin_reloaded(&b, -1, "filterd is stopping");
    fd_ctl_send(ctl, "stopped");
    rc = 0;
out:
    if (rc)
        fd_log(FD_ERROR, "broker_failed", "message=\"%s\"", err);
    if (b.front)
        zmq_close(b.front);
    if (b.back)
        zmq_close(b.back);
    if (b.admin)
        zmq_close(b.admin);
    if (b.zctx)
        zmq_ctx_term(b.zctx);
    for (int i = 0; i < b.nslot; i++) {
        if (b.slot[i]->live)
            fd_slot_free(&b, i);
        free(b.slot[i]);
    }
    free(b.slot);
    free(b.freelist);
    free(b.heap);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}
