/* workers.c -- the broker's worker table: links, hellos, heartbeats, generations, deaths.
 *
 * Workers connect to the broker's unix socket (link.h) and say hello with
 * their pid, generation and version; the socket's peer credentials must
 * name the same pid. A worker is alive while its link is open: its end of
 * stream (it died) is seen at once, and every text it held is retried
 * (dispatch.c). One that holds texts and stays silent for heartbeat x
 * liveness is hung: the supervisor kills it. When a worker of a new
 * generation says hello, the old ones retire as soon as they hold nothing. */
#define _GNU_SOURCE               /* struct ucred, accept4 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"

static int worker_by_pid(fd_broker *b, pid_t pid)
{
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state == FD_WS_READY && b->w[i].pid == pid)
            return i;
    return -1;
}

int fd_worker_eligible(const fd_broker *b, const fd_worker *w)
{
    return w->state == FD_WS_READY && !w->retiring && (w->gen == b->gen || !b->switched);
}

void fd_worker_retire(fd_worker *w)
{
    w->retiring = 1;
    if (w->state == FD_WS_READY && !w->held && !w->told) {
        fd_link_begin(&w->link, FD_LINK_RETIRE);
        fd_link_end(&w->link);
        fd_link_flush(&w->link);  /* a failure shows as its end of stream */
        w->told = 1;
        char q[4 * sizeof w->version];
        fd_log(FD_INFO, "worker_retire", "worker=%ld gen=%u version=%s", (long)w->pid, w->gen,
               fd_log_msg(w->version, q, sizeof q));
    }
}

void fd_workers_accept(fd_broker *b)
{
    for (;;) {
        int fd = accept4(b->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fd_log(FD_WARN, "accept_failed", "message=\"%s\"", strerror(errno));
            return;
        }
        int i;
        for (i = 0; i < FD_MAX_WORKERS && b->w[i].state != FD_WS_FREE; i++)
            ;
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (i == FD_MAX_WORKERS || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
            fd_log(FD_ERROR, "too_many_workers", "workers=%d", FD_MAX_WORKERS);
            close(fd);
            continue;
        }
        fd_worker *w = &b->w[i];
        memset(w, 0, sizeof *w);
        fd_link_init(&w->link, fd);
        w->state = FD_WS_NEW;
        w->peer = cred.pid;
        w->last_seen = w->since = fd_now_ns();
        if (i >= b->nw)
            b->nw = i + 1;
    }
}

static void switch_generation(fd_broker *b)
{
    b->switched = 1;
    snprintf(b->previous, sizeof b->previous, "%s", b->pending_prev);
    snprintf(b->version, sizeof b->version, "%s", b->pending);
    b->version_since = fd_now_ns();
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state == FD_WS_READY && b->w[i].gen != b->gen)
            fd_worker_retire(&b->w[i]);
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
        n += b->w[i].state == FD_WS_READY && b->w[i].gen == b->gen;
    if (n >= b->ctx->nworkers) {
        b->ready_sent = 1;
        fd_ctl_send(b->ctl, "ready");
    }
}

/* A hello: the first makes a connection a worker; later ones are heartbeats. */
static void hello(fd_broker *b, int i, const fd_frame *f)
{
    fd_worker *w = &b->w[i];
    uint32_t pid, gen;
    uint64_t run;
    char version[sizeof w->version];
    if (fd_link_get_hello(f, &pid, &gen, &run, version, sizeof version) < 0)
        return;
    if (w->state == FD_WS_READY)
        return;                   /* a heartbeat: last_seen is set */
    if ((pid_t)pid != w->peer || run != b->ctx->run_id) {
        /* issue 12: an orphan of an earlier run must never serve its old lists */
        fd_log(FD_WARN, "worker_refused", "pid=%u peer=%ld reason=\"%s\"", pid, (long)w->peer,
               (pid_t)pid != w->peer ? "hello from another process" : "a worker of another run");
        b->st->workers_refused++;
        fd_workers_lost(b, i, "refused");
        return;
    }
    w->state = FD_WS_READY;
    w->pid = (pid_t)pid;
    w->gen = gen;
    snprintf(w->version, sizeof w->version, "%s", version);
    char q[4 * sizeof w->version];   /* what a peer said: quoted (issue 12) */
    fd_log(FD_INFO, "worker_ready", "worker=%ld gen=%u version=%s", (long)w->pid, w->gen,
           fd_log_msg(w->version, q, sizeof q));
    if (w->gen == b->gen && !b->switched)
        switch_generation(b);
    else if (w->gen != b->gen && b->switched)
        fd_worker_retire(w);
    check_ready(b);
}

void fd_workers_read(fd_broker *b, int i)
{
    fd_worker *w = &b->w[i];
    fd_frame f;
    fd_answer_msg a;
    int got = fd_link_fill(&w->link), rc = 0;
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        fd_workers_lost(b, i, got == 0 ? "died" : "link_error");
        return;
    }
    w->last_seen = fd_now_ns();
    while (w->state != FD_WS_FREE && (rc = fd_link_next(&w->link, &f)) == 1) {
        if (f.type == FD_LINK_HELLO)
            hello(b, i, &f);
        else if (w->state == FD_WS_READY && fd_link_get_answer(&f, &a) == 0)
            fd_dispatch_answer(b, i, &a);
    }
    if (w->state != FD_WS_FREE && rc < 0)
        fd_workers_lost(b, i, "bad_frame");
}

void fd_workers_lost(fd_broker *b, int i, const char *why)
{
    fd_worker *w = &b->w[i];
    if (w->state == FD_WS_READY && !w->told)   /* a retired worker's exit is expected */
        fd_log(FD_WARN, "worker_lost", "worker=%ld reason=%s held=%d", (long)w->pid, why,
               w->held);
    fd_link_close(&w->link);
    fd_dispatch_requeue(b, i);
    memset(w, 0, sizeof *w);
    w->link.fd = -1;
    while (b->nw > 0 && b->w[b->nw - 1].state == FD_WS_FREE)
        b->nw--;
}

/* Workers holding texts and silent for heartbeat x liveness are hung (or
 * stopped): kill them. Connections that never said hello are closed. */
void fd_workers_heartbeats(fd_broker *b)
{
    int64_t limit = (int64_t)b->ctx->cfg.heartbeat_ms * b->ctx->cfg.heartbeat_liveness * FD_MS;
    int64_t now = fd_now_ns();
    for (int i = 0; i < b->nw; i++) {
        fd_worker *w = &b->w[i];
        if (w->state == FD_WS_FREE || now - w->last_seen <= limit)
            continue;
        fd_log(FD_WARN, "worker_hung", "worker=%ld silent_ms=%lld held=%d", (long)w->pid,
               (long long)((now - w->last_seen) / FD_MS), w->held);
        if (w->state == FD_WS_READY)
            fd_ctl_send(b->ctl, "kill %ld", (long)w->pid);
        fd_workers_lost(b, i, "hung");
    }
}

void fd_workers_dead(fd_broker *b, pid_t pid)
{
    int i = worker_by_pid(b, pid);
    if (i >= 0)
        fd_workers_lost(b, i, "died");
}

void fd_workers_generation(fd_broker *b, uint32_t gen, const char *version, const char *previous)
{
    b->gen = gen;
    b->switched = 0;
    snprintf(b->pending, sizeof b->pending, "%s", version);
    snprintf(b->pending_prev, sizeof b->pending_prev, "%s", previous);
    for (int i = 0; i < b->nw; i++)  /* a worker of gen may already be here */
        if (b->w[i].state == FD_WS_READY && b->w[i].gen == gen && !b->switched)
            switch_generation(b);
}

void fd_workers_retire_all(fd_broker *b)
{
    for (int i = 0; i < b->nw; i++) {
        fd_worker *w = &b->w[i];
        if (w->state == FD_WS_FREE)
            continue;
        fd_link_begin(&w->link, FD_LINK_RETIRE);
        fd_link_end(&w->link);
        for (int k = 0; k < 100 && fd_link_flush(&w->link) == 1; k++)
            usleep(1000);         /* its socket is full: give it a moment */
        fd_link_close(&w->link);
        w->state = FD_WS_FREE;
    }
    b->nw = 0;
}

int fd_workers_count(const fd_broker *b, int *busy)
{
    int n = 0;
    *busy = 0;
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state == FD_WS_READY) {
            n++;
            *busy += b->w[i].held > 0;
        }
    return n;
}
