/* workers.c -- the broker's worker table: who is there, who is busy, who gets the next request.
 *
 *   worker -> broker  [H][pid, gen][version]   a new worker, or a heartbeat
 *                     [A][seq][summary][reply] an answer, forwarded to its client
 *   broker -> worker  [Q][seq][request]        dispatch, to an idle worker
 *                     [X]                      retire (old generation, shutdown)
 *
 * Requests wait only in the broker's queue, never behind a busy worker: each
 * goes to an idle worker of the current generation, round robin. A worker
 * that dies or stays silent for heartbeat x liveness loses its request,
 * which is retried once within its deadline. When a worker of a new
 * generation says hello, the old ones retire as soon as they are idle. */
#include <stdio.h>
#include <string.h>

#include "broker.h"

static void log_request(const fd_slot *r, const char *what, uint64_t us, pid_t pid)
{
    char id[160];
    fd_log(FD_INFO, "request", "id=%s %s elapsed_us=%llu worker=%ld",
           fd_log_id(r->id, r->idlen, id, sizeof id), what, (unsigned long long)us, (long)pid);
}

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
        worker_send(b, w, FW_B_RETIRE, NULL, 0, NULL);
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
                fd_front_fallback(b, s, FW_DEG_DEADLINE, "worker_lost");
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
    if (b->previous[0])           /* a reload (admin or SIGHUP) took over */
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
    if (i < 0 || n != 5 || zmq_msg_size(&f[2]) != 8 || zmq_msg_size(&f[3]) != FW_SUMMARY_LEN)
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
            fw_patch_elapsed(zmq_msg_data(&f[4]), zmq_msg_size(&f[4]), us);
            fd_front_count(b, sum[0], labels, us);
        }
        fd_front_reply(b, r->env, r->nenv, zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
        if (b->ctx->cfg.log_requests) {
            char what[96];
            snprintf(what, sizeof what, "decision=%s labels=0x%x",
                     sum[1] ? "error" : fe_action_name((fe_action)sum[0]), labels);
            log_request(r, what, us, w->pid);
        }
        fd_slot_free(b, w->slot);
    }
    w->served++;
    w->state = FD_WS_IDLE;
    w->slot = -1;
    if (w->retiring)
        retire(b, w);
}

void fd_workers_msg(fd_broker *b)
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
        if (type == FW_W_HELLO)
            worker_hello(b, f, n);
        else if (type == FW_W_ANSWER)
            worker_answer(b, f, n);
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* Workers silent for heartbeat x liveness are hung (or stopped): kill them. */
void fd_workers_heartbeats(fd_broker *b)
{
    int64_t limit = (int64_t)b->ctx->cfg.heartbeat_ms * b->ctx->cfg.heartbeat_liveness * FD_MS;
    int64_t now = fd_now_ns();
    for (int i = 0; i < b->nw; i++) {
        fd_worker *w = &b->w[i];
        if (w->state == FD_WS_FREE || now - w->last_seen <= limit)
            continue;
        fd_log(FD_WARN, "worker_hung", "worker=%ld silent_ms=%lld busy=%s", (long)w->pid,
               (long long)((now - w->last_seen) / FD_MS), w->state == FD_WS_BUSY ? "yes" : "no");
        fd_ctl_send(b->ctl, "kill %ld", (long)w->pid);
        worker_lost(b, i, "hung");
    }
}

static int eligible(const fd_broker *b, const fd_worker *w)
{
    return w->state == FD_WS_IDLE && !w->retiring && (w->gen == b->gen || !b->switched);
}

void fd_workers_dispatch(fd_broker *b)
{
    while (b->qhead >= 0) {
        int found = -1;
        for (int k = 0; k < b->nw && found < 0; k++) {
            int i = (b->rr + k) % b->nw;
            if (eligible(b, &b->w[i]))
                found = i;
        }
        if (found < 0)
            return;
        b->rr = found + 1;
        int s = b->qhead;
        fd_slot *r = b->slot[s];
        fd_worker *w = &b->w[found];
        fd_unqueue(b, s);
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, &r->body);
        r->tries++;
        w->state = FD_WS_BUSY;
        w->slot = s;
        w->seq = r->seq;
        w->busy_since = fd_now_ns();
        w->last_seen = w->busy_since;   /* the hung clock starts now */
        if (worker_send(b, w, FW_B_REQUEST, &r->seq, 8, &copy) < 0)
            worker_lost(b, found, "unreachable");  /* retries the request once */
    }
}


void fd_workers_dead(fd_broker *b, pid_t pid)
{
    int i = worker_by_pid(b, pid);
    if (i >= 0)
        worker_lost(b, i, "died");
}

void fd_workers_generation(fd_broker *b, uint32_t gen, const char *version, const char *previous)
{
    b->gen = gen;
    b->switched = 0;
    snprintf(b->pending, sizeof b->pending, "%s", version);
    snprintf(b->pending_prev, sizeof b->pending_prev, "%s", previous);
    for (int i = 0; i < b->nw; i++)  /* a worker of gen may already be here */
        if (b->w[i].state != FD_WS_FREE && b->w[i].gen == gen && !b->switched)
            switch_generation(b);
}

void fd_workers_retire_all(fd_broker *b)
{
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state != FD_WS_FREE)
            worker_send(b, &b->w[i], FW_B_RETIRE, NULL, 0, NULL);
}

int fd_workers_count(const fd_broker *b, int *busy)
{
    int n = 0;
    *busy = 0;
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state != FD_WS_FREE) {
            n++;
            *busy += b->w[i].state == FD_WS_BUSY;
        }
    return n;
}
