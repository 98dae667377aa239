/* zconn.c -- the broker's client connections: listeners, epoll, reads, batched writes (zconn.h).
 *
 * Each round, fd_zconn_events takes what epoll reports: new connections
 * (up to max-connections; one past it is refused, counted, held open and
 * unread for FD_HOLD_MS while there is room, so that a ZeroMQ client, which
 * reconnects 100 ms after a close, comes back about once a second), and
 * bytes (up to FD_ZC_READS reads of FD_ZC_READ per connection, each fed to
 * its codec; every complete message goes to fd_front_request at once).
 * Replies are appended to their connection's buffer as the round makes
 * them, and fd_zconn_flush writes each buffer with one send() at the end of
 * the round; what the kernel does not take waits for EPOLLOUT. The soft
 * RLIMIT_NOFILE is raised to the hard one, and the broker refuses to start
 * when max-connections and what it needs besides (two generations of
 * workers, the held connections, FD_FD_RESERVE) do not fit in it; should
 * accept() still meet EMFILE, accepting pauses FD_ZC_PAUSE_MS. */
#define _GNU_SOURCE               /* accept4 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "broker.h"

static fd_zid zid(const fd_zconn *c)
{
    return (fd_zid)c->gen << 32 | (uint32_t)c->fd;
}

static fd_zconn *lookup(fd_broker *b, fd_zid id)
{
    int fd = (int)(uint32_t)id;
    fd_zconns *z = &b->zc;
    if (fd < 0 || fd >= z->cap || z->c[fd].fd != fd || z->c[fd].gen != (uint32_t)(id >> 32))
        return NULL;
    return &z->c[fd];
}

int fd_zconn_open(fd_broker *b, char *err, size_t errlen)
{
    const fd_config *cfg = &b->ctx->cfg;
    fd_zconns *z = &b->zc;
    struct rlimit rl;
    long need = (long)cfg->max_connections + 2L * b->ctx->nworkers + FD_FD_RESERVE + FD_HOLD_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;             /* issue 12: it was never raised */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)need > rl.rlim_cur) {
        snprintf(err, errlen, "max-connections %d needs %ld descriptors, RLIMIT_NOFILE is %llu "
                 "(raise the limit, e.g. LimitNOFILE=, or lower max-connections)",
                 cfg->max_connections, need, (unsigned long long)rl.rlim_cur);
        return -1;
    }
    if ((z->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || !(z->rbuf = malloc(FD_ZC_READ))) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < cfg->nlisten; i++)
        if (fd_zlisten_bind(b, cfg->listen[i], err, errlen) < 0)
            return -1;
    if (b->ctx->http_front[0] && fd_zlisten_bind(b, b->ctx->http_front, err, errlen) < 0)
        return -1;                /* the HTTP front door's own way in (http.c) */
    return 0;
}

int fd_zconn_fd(const fd_broker *b)
{
    return b->zc.ep;
}

/* ---- connections ------------------------------------------------------------ */

/* The events c needs watched: input unless stopping or paused, output when bytes wait. */
static void watch(fd_broker *b, fd_zconn *c)
{
    uint32_t want = (b->stopping || c->paused || c->resumed ? 0 : EPOLLIN) |
                    (c->out.len > c->out.off ? EPOLLOUT : 0);
    struct epoll_event ev = {.events = want, .data.u64 = (unsigned)c->fd};
    if (want != c->events && epoll_ctl(b->zc.ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->events = want;
}

static void drop(fd_broker *b, fd_zconn *c)
{
    close(c->fd);                 /* (out of the epoll set with it) */
    fw_zmtp_free(&c->z);
    free(c->out.p);
    memset(&c->out, 0, sizeof c->out);
    free(c->ends);
    c->ends = NULL;
    free(c->held.p);
    memset(&c->held, 0, sizeof c->held);
    c->qh = c->qn = c->qcap = 0;
    c->inflight = c->paused = c->resumed = 0;
    c->fd = -1;
    c->dirty = 0;
    b->nconns--;
}

/* Connection id to the list *l (*n in it, room for *cap): 0, or -1 when out of memory. */
static int list_add(fd_zid **l, int *n, int *cap, fd_zid id)
{
    if (*n == *cap) {
        int m = *cap ? *cap * 2 : 256;
        fd_zid *d = realloc(*l, (size_t)m * sizeof *d);
        if (!d)
            return -1;
        *l = d, *cap = m;
    }
    (*l)[(*n)++] = id;
    return 0;
}

static void mark(fd_broker *b, fd_zconn *c)
{
    fd_zconns *z = &b->zc;
    if (!c->dirty && list_add(&z->dirty, &z->ndirty, &z->dcap, zid(c)) == 0)
        c->dirty = 1;             /* (else written when its socket says it can be) */
}

/* Backpressure. What c's client has made the broker hold or owe: its
 * replies queued and its requests not answered yet, its bytes queued. Over
 * half of reply-queue-max or reply-queue-bytes c is not read (the requests
 * wait in the client's socket); under a quarter of both it is read again. */
static int over(const fd_broker *b, const fd_zconn *c, int div)
{
    const fd_config *cfg = &b->ctx->cfg;
    int max = cfg->reply_queue_max / div;
    return c->qn + c->inflight >= (max > 0 ? max : 1) ||
           c->out.len - c->out.off >= cfg->reply_queue_bytes / (size_t)div;
}

static void pause_conn(fd_broker *b, fd_zconn *c)
{
    c->paused = 1;
    b->st->reads_paused++;
    watch(b, c);
}

/* c paused and drained under the low-water mark: to the resume list, where
 * fd_zconn_events takes its held bytes, then reads it again. */
static void resume_conn(fd_broker *b, fd_zconn *c)
{
    fd_zconns *z = &b->zc;
    if (!c->paused || over(b, c, 4) || b->stopping)
        return;
    if (list_add(&z->resume, &z->nresume, &z->rcap, zid(c)) < 0)
        return;                   /* tried again at its next write */
    c->paused = 0;
    c->resumed = 1;
}

/* Write what c holds (one send). 0, or -1 when it was dropped. */
static int write_out(fd_broker *b, fd_zconn *c)
{
    fd_buf *o = &c->out;
    while (o->off < o->len) {
        ssize_t n = send(c->fd, o->p + o->off, o->len - o->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            drop(b, c);
            return -1;
        }
        o->off += (size_t)n;
        c->sent += (uint64_t)n;
        break;                    /* the rest (if any) when EPOLLOUT says so */
    }
    while (c->qn && c->ends[c->qh] <= c->sent) {   /* replies written whole */
        c->qh = (c->qh + 1) % c->qcap;
        c->qn--;
    }
    if (o->off == o->len)
        fd_buf_empty(o, FD_ZC_KEEP);
    resume_conn(b, c);
    watch(b, c);
    return 0;
}

/* Bytes to c's out buffer: 0, or -1 when out of memory. */
static int put(fd_zconn *c, const void *p, size_t n)
{
    if (fd_buf_reserve(&c->out, n) < 0)
        return -1;
    memcpy(c->out.p + c->out.len, p, n);
    c->out.len += n;
    c->put += n;
    return 0;
}

/* Room in c's ring of reply ends for one more (qn < max): 0, or -1 when out of memory. */
static int ring_room(fd_zconn *c, int max)
{
    if (c->qn < c->qcap)
        return 0;
    int n = c->qcap ? c->qcap * 2 : 16;
    n = n < max ? n : max;
    uint64_t *e = malloc((size_t)n * sizeof *e);
    if (!e)
        return -1;
    for (int i = 0; i < c->qn; i++)
        e[i] = c->ends[(c->qh + i) % c->qcap];
    free(c->ends);
    c->ends = e, c->qh = 0, c->qcap = n;
    return 0;
}

/* A connection accepted on fd: its codec, and the greeting and READY on their way. */
static void conn_new(fd_broker *b, int fd)
{
    fd_zconns *z = &b->zc;
    uint8_t hello[FW_ZMTP_HELLO_MAX];
    if (fd >= z->cap) {
        int n = fd < 1024 ? 1024 : fd * 2;
        fd_zconn *c = realloc(z->c, (size_t)n * sizeof *c);
        if (!c) {
            close(fd);
            return;
        }
        memset(c + z->cap, 0, (size_t)(n - z->cap) * sizeof *c);
        for (int i = z->cap; i < n; i++)
            c[i].fd = -1;
        z->c = c, z->cap = n;
    }
    fd_zconn *c = &z->c[fd];
    c->fd = fd;
    c->gen++;
    c->put = c->sent = 0;
    c->dirty = c->inflight = c->paused = c->resumed = 0;
    fw_zmtp_init(&c->z, b->max_message, b->max_message - FD_ENV_SLACK, FD_MAX_ENV + 2);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (unsigned)fd};
    c->events = EPOLLIN;
    b->nconns++;
    if (put(c, hello, fw_zmtp_hello(hello)) < 0 || epoll_ctl(z->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        drop(b, c);
        return;
    }
    mark(b, c);
}

/* Past max-connections: held open, unread, for FD_HOLD_MS while there is room. */
static void refuse(fd_broker *b, int fd)
{
    fd_zconns *z = &b->zc;
    b->st->connections_refused++;
    fd_log_limited(FD_LK_CONN_REFUSED, "connection_refused", "connections=%d max=%d "
                   "refused=%llu", b->nconns, b->ctx->cfg.max_connections,
                   (unsigned long long)b->st->connections_refused);
    if (z->nhold == FD_HOLD_MAX) {
        close(fd);
        return;
    }
    z->until[z->nhold] = fd_now_ns() + FD_HOLD_MS * FD_MS;
    z->hold[z->nhold++] = fd;
}

/* Listeners on or off (EPOLLIN). */
static void listening(fd_broker *b, int on)
{
    for (int i = 0; i < b->zc.nl; i++) {
        struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.u64 = FD_ZC_LISTENER | (unsigned)i};
        epoll_ctl(b->zc.ep, EPOLL_CTL_MOD, b->zc.lfd[i], &ev);
    }
}

static void accept_all(fd_broker *b, int l)
{
    for (int k = 0; k < FD_ZC_ACCEPTS; k++) {
        int fd = accept4(b->zc.lfd[l], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            fd_log_limited(FD_LK_CONN_REFUSED, "accept_failed", "message=\"%s\"", strerror(errno));
            b->zc.paused = fd_now_ns() + FD_ZC_PAUSE_MS * FD_MS;
            listening(b, 0);
            return;
        }
        if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (fd < 0)
            continue;             /* ECONNABORTED and the like: the next one */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* (fails on ipc) */
        if (b->nconns >= b->ctx->cfg.max_connections)
            refuse(b, fd);
        else
            conn_new(b, fd);
    }
}

/* Close the held connections whose time is up; accept again after a pause. */
static void release(fd_broker *b)
{
    fd_zconns *z = &b->zc;
    int64_t now = fd_now_ns();
    for (int i = 0; i < z->nhold;)
        if (z->until[i] <= now) {
            close(z->hold[i]);
            z->hold[i] = z->hold[--z->nhold];
            z->until[i] = z->until[z->nhold];
        } else
            i++;
    if (z->paused && z->paused <= now && !b->stopping) {
        z->paused = 0;
        listening(b, 1);
    }
}

int fd_zconn_due_ms(const fd_broker *b)
{
    const fd_zconns *z = &b->zc;
    int64_t due = z->paused, now = fd_now_ns();
    if (z->nresume)
        return 0;                 /* held requests to take */
    for (int i = 0; i < z->nhold; i++)
        if (!due || z->until[i] < due)
            due = z->until[i];
    if (!due)
        return -1;
    return due > now ? (int)((due - now + FD_MS - 1) / FD_MS) : 0;
}

/* Connection c broke the protocol: closed and counted. */
static void protocol_error(fd_broker *b, fd_zconn *c)
{
    b->st->protocol_errors++;
    fd_log_limited(FD_LK_PROTOCOL, "protocol_error", "reason=\"%s\" closed=%llu", c->z.why,
                   (unsigned long long)b->st->protocol_errors);
    drop(b, c);
}

/* c paused with bytes [p, p + n) not decoded: into c->held (p may be in it). 0, or -1. */
static int hold(fd_zconn *c, const uint8_t *p, size_t n)
{
    fd_buf *h = &c->held;
    if (h->p && p >= h->p && p <= h->p + h->len) {
        h->off = (size_t)(p - h->p);   /* the rest of the held bytes */
        return 0;
    }
    if (fd_buf_reserve(h, n) < 0)
        return -1;
    memcpy(h->p + h->len, p, n);
    h->len += n;
    return 0;
}

/* What c's codec made of the n bytes at p (read, or held). Stops where c
 * pauses, the rest held. 0, 1 when c paused, or -1 when c was dropped. */
static int take(fd_broker *b, fd_zconn *c, const uint8_t *p, size_t n)
{
    uint8_t pong[FW_ZMTP_PONG_MAX];
    for (size_t off = 0, used; off < n;) {
        if (over(b, c, 2) && !b->stopping) {
            pause_conn(b, c);
            if (hold(c, p + off, n - off) == 0)
                return 1;
            drop(b, c);           /* out of memory: a connection that cannot wait is closed */
            return -1;
        }
        int ev = fw_zmtp_feed(&c->z, p + off, n - off, &used);
        off += used;
        if (ev == FW_ZMTP_ERROR) {
            protocol_error(b, c);
            return -1;
        }
        if (ev == FW_ZMTP_NEED)
            return 0;
        if (ev == FW_ZMTP_PING && c->out.len - c->out.off < b->ctx->cfg.reply_queue_bytes &&
            put(c, pong, fw_zmtp_pong(&c->z, pong)) == 0)
            mark(b, c);           /* (a client that reads nothing gets no PONG either) */
        if (ev == FW_ZMTP_MESSAGE) {
            c->inflight++;        /* before: the reply may be sent at once */
            c->inflight -= !fd_front_request(b, zid(c), &c->z);
            if (c->z.cap > FD_ZC_KEEP)
                fw_zmtp_free(&c->z);   /* a large message's buffer is not kept idle */
        }
    }
    return 0;
}

static void conn_read(fd_broker *b, fd_zconn *c)
{
    for (int k = 0; k < FD_ZC_READS; k++) {
        ssize_t n = recv(c->fd, b->zc.rbuf, FD_ZC_READ, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {             /* the client closed, or the connection broke */
            drop(b, c);
            return;
        }
        if (take(b, c, b->zc.rbuf, (size_t)n) != 0 || (size_t)n < FD_ZC_READ)
            return;
    }
}

/* The connections resumed: what they held first, then read again. */
static void resume_all(fd_broker *b)
{
    fd_zconns *z = &b->zc;
    int n = z->nresume;
    z->nresume = 0;               /* (taking pauses, resumes come from writes only) */
    for (int i = 0; i < n; i++) {
        fd_zconn *c = lookup(b, z->resume[i]);
        if (!c || !c->resumed)
            continue;             /* closed meanwhile */
        c->resumed = 0;
        fd_buf *h = &c->held;
        if (h->off < h->len && !b->stopping && take(b, c, h->p + h->off, h->len - h->off))
            continue;             /* dropped, or paused again with the rest still held */
        fd_buf_empty(h, 0);
        watch(b, c);              /* read again: what came meanwhile raises EPOLLIN */
    }
}

void fd_zconn_events(fd_broker *b, int ready)
{
    struct epoll_event ev[FD_ZC_EVENTS];
    resume_all(b);
    int n = ready ? epoll_wait(b->zc.ep, ev, FD_ZC_EVENTS, 0) : 0;
    for (int i = 0; i < n; i++) {
        uint64_t d = ev[i].data.u64;
        if (d & FD_ZC_LISTENER) {
            if (!b->stopping)
                accept_all(b, (int)(uint32_t)d);
            continue;
        }
        int fd = (int)d;
        fd_zconn *c = fd < b->zc.cap && b->zc.c[fd].fd == fd ? &b->zc.c[fd] : NULL;
        if (c && (ev[i].events & EPOLLOUT) && write_out(b, c) < 0)
            continue;
        if (c && (c->paused || c->resumed) && (ev[i].events & (EPOLLHUP | EPOLLERR)))
            drop(b, c);           /* closed while paused: its replies cannot go anywhere */
        else if (c && !b->stopping && !c->paused && !c->resumed &&
                 (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            conn_read(b, c);
        else if (c && (ev[i].events & (EPOLLHUP | EPOLLERR)))
            drop(b, c);           /* stopping: not read, but epoll reports these always */
    }
    release(b);
}

int fd_zconn_send(fd_broker *b, fd_zid id, const fw_zmtp_part *f, int n)
{
    fd_zconn *c = lookup(b, id);
    uint8_t head[FW_ZMTP_HEAD_MAX];
    size_t bytes = 0, queued;
    if (!c)
        return FD_ZC_GONE;
    c->inflight -= c->inflight > 0;   /* a request answered (or its answer dropped) */
    for (int i = 0; i < n; i++)
        bytes += f[i].len + (f[i].len < 256 ? 2 : 9);
    queued = c->out.len - c->out.off;
    if (queued && (queued + bytes > b->ctx->cfg.reply_queue_bytes ||
                   c->qn >= b->ctx->cfg.reply_queue_max))
        return FD_ZC_FULL;        /* (an empty queue takes one reply, however large) */
    if (fd_buf_reserve(&c->out, bytes) < 0 || ring_room(c, b->ctx->cfg.reply_queue_max) < 0)
        return FD_ZC_FULL;
    for (int i = 0; i < n; i++) {
        put(c, head, fw_zmtp_head(head, f[i].len, i + 1 < n));
        put(c, f[i].p, f[i].len);
    }
    c->ends[(c->qh + c->qn++) % c->qcap] = c->put;
    mark(b, c);
    return FD_ZC_SENT;
}

void fd_zconn_flush(fd_broker *b)
{
    fd_zconns *z = &b->zc;
    for (int i = 0; i < z->ndirty; i++) {
        fd_zconn *c = lookup(b, z->dirty[i]);
        if (c) {
            c->dirty = 0;
            write_out(b, c);
        }
    }
    z->ndirty = 0;
}

void fd_zconn_stop(fd_broker *b)
{
    listening(b, 0);
    for (int i = 0; i < b->zc.cap; i++)
        if (b->zc.c[i].fd >= 0)
            watch(b, &b->zc.c[i]);
}

void fd_zconn_linger(fd_broker *b, int ms)
{
    int64_t end = fd_now_ns() + (int64_t)ms * FD_MS;
    fd_zconn_flush(b);
    for (;;) {
        int left = 0;
        for (int i = 0; i < b->zc.cap; i++)
            left += b->zc.c[i].fd >= 0 && b->zc.c[i].out.len > b->zc.c[i].out.off;
        int64_t now = fd_now_ns();
        if (!left || now >= end)
            return;
        struct epoll_event ev[FD_ZC_EVENTS];
        int n = epoll_wait(b->zc.ep, ev, FD_ZC_EVENTS, (int)((end - now) / FD_MS) + 1);
        for (int i = 0; i < n; i++) {
            int fd = (int)ev[i].data.u64;
            if (!(ev[i].data.u64 & FD_ZC_LISTENER) && fd < b->zc.cap && b->zc.c[fd].fd == fd &&
                (ev[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
                write_out(b, &b->zc.c[fd]);
        }
    }
}

void fd_zconn_close(fd_broker *b)
{
    fd_zconns *z = &b->zc;
    for (int i = 0; i < z->cap; i++)
        if (z->c[i].fd >= 0)
            drop(b, &z->c[i]);
    for (int i = 0; i < z->nhold; i++)
        close(z->hold[i]);
    for (int i = 0; i < z->nl; i++) {
        close(z->lfd[i]);
        if (z->lpath[i][0])
            unlink(z->lpath[i]);
    }
    if (z->ep >= 0)
        close(z->ep);
    free(z->c);
    free(z->dirty);
    free(z->resume);
    free(z->rbuf);
    memset(z, 0, sizeof *z);
    z->ep = -1;
}
