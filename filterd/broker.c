/* broker.c -- the broker process: clients' requests to workers with credit, plus deadlines.
 *
 *   clients (REQ / DEALER)          broker                      workers (unix stream, link.h)
 *   [""][request] --> ZMTP (zconn.c)        workers.sock <-- H [pid,gen][version]
 *                         queue, deadlines  --> Q [seq][scene,flags][id][text]  (x credit)
 *   [""][reply]   <--                       <-- A [seq][summary][reply]
 *
 * This file holds the sockets and the loop: one poll() over the client
 * connections' epoll set (zconn.c), the admin socket (a ZeroMQ ROUTER),
 * the workers' listening socket and links, and the control socket to the
 * supervisor. Each round reads everything ready -- every worker's answers,
 * every client's messages -- then pours the queue into the workers' credit,
 * writes each worker's share in one go and each client's replies in one
 * go. What happens to a client's request is front.c; its answers
 * and reply are replies.c; the worker table is workers.c; dispatch.c moves
 * texts; requests and texts live in slots.c. Every live request sits in a
 * min-heap by deadline; when its deadline passes the broker answers it with
 * the fallback (degraded "deadline") and a late worker answer for it is
 * dropped by its sequence number. Single-threaded. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "answer.h"
#include "broker.h"

int fd_route(void *sock, zmq_msg_t *env, int nenv, const void *data, size_t len)
{
    for (int i = 0; i < nenv; i++) {
        zmq_msg_t c;
        zmq_msg_init(&c);
        zmq_msg_copy(&c, &env[i]);
        if (zmq_msg_send(&c, sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&c);
            return -1;          /* peer gone or over its high-water mark: dropped */
        }
    }
    if (zmq_send(sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send(sock, data, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
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

msgpack_packer *fd_packer(fd_broker *b)
{
    msgpack_sbuffer_clear(&b->sb);
    return &b->pk;
}

/* Read up to max messages from a ROUTER; handle each with fn. 1 when it
 * read the socket dry (its ZMQ_FD is armed again), 0 when it stopped at max.
 * A message of too many frames (FD_TRUNC_FRAMES) or more than limit bytes in
 * all (FD_TRUNC_BYTES, issue 12: ZMQ_MAXMSGSIZE limits each frame only) has
 * its frames past that closed as they are read; fn answers it an error. */
static int drain(fd_broker *b, void *sock, int max, size_t limit,
                 void (*fn)(fd_broker *, zmq_msg_t *, int, int))
{
    for (int k = 0; k < max; k++) {
        zmq_msg_t f[FD_MAX_ENV + 3];
        int n = 0, more = 1, truncated = 0;
        size_t total = 0;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            total += zmq_msg_size(&m);
            if (total > limit)
                truncated = FD_TRUNC_BYTES;
            if (n < FD_MAX_ENV + 3 && !truncated)
                f[n++] = m;
            else {
                truncated = truncated ? truncated : FD_TRUNC_FRAMES;
                zmq_msg_close(&m);
            }
        }
        if (!n)
            return 1;
        fn(b, f, n, truncated);
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
    }
    return 0;
}

static void admin_request(fd_broker *b, zmq_msg_t *f, int n, int truncated)
{
    /* admin callers are REQ: [id][""][body], nothing else */
    if (truncated || n != 3 || zmq_msg_size(&f[1]) != 0)
        return;
    fd_admin_handle(b, &f[0], zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
}


/* ---- control messages from the supervisor --------------------------------- */

static void control(fd_broker *b)
{
    static char buf[FD_CTL_MAX + 1];
    ssize_t n = recv(b->ctl, buf, FD_CTL_MAX, MSG_DONTWAIT);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            fd_log(FD_ERROR, "supervisor_gone", NULL);
            b->ctl_lost = 1;
        }
        return;
    }
    buf[n] = '\0';
    long pid;
    int replaced;
    unsigned gen;
    char ver[32], prev[32];
    if (sscanf(buf, "dead %ld %d", &pid, &replaced) == 2) {
        fd_workers_dead(b, (pid_t)pid);
        if (replaced)
            b->st->worker_restarts++;
    } else if (!strncmp(buf, "changes ", 8)) {
        fd_admin_changes(b, buf + 8);
    } else if (sscanf(buf, "version %u %31s %31s", &gen, ver, prev) == 3) {
        b->st->reloads++;
        fd_workers_generation(b, gen, ver, prev);
    } else if (!strncmp(buf, "failed", 6)) {
        b->st->reload_failures++;
        fd_admin_reloaded(b, 0, strchr(buf, '\n') ? strchr(buf, '\n') + 1 : "");
    } else if (!strcmp(buf, "stop")) {
        /* Stop reading and accepting client connections, but keep them:
         * the in-flight replies go back on them. */
        b->stopping = 1;
        fd_zconn_stop(b);
        fd_log(FD_INFO, "draining", "live=%d", b->nheap);
    }
}

/* ---- setup and the loop --------------------------------------------------- */

/* The unix socket workers connect to (a stale one from an earlier broker is replaced). */
static int listen_workers(fd_broker *b, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%.100s", b->ctx->backend);
    unlink(a.sun_path);
    b->listen = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (b->listen < 0 || bind(b->listen, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(b->listen, FD_MAX_WORKERS) < 0) {
        snprintf(err, errlen, "listen %s: %s", a.sun_path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The request endpoints (zconn.c), the admin ROUTER, the workers' socket. */
static int bind_all(fd_broker *b, char *err, size_t errlen)
{
    int64_t adminmax = FD_ADMIN_MAX_MSG;
    int linger = FD_LINGER_MS;

    if (fd_zconn_open(b, err, errlen) < 0)
        return -1;
    b->admin = zmq_socket(b->zctx, ZMQ_ROUTER);
    if (!b->admin) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        return -1;
    }
    zmq_setsockopt(b->admin, ZMQ_MAXMSGSIZE, &adminmax, sizeof adminmax);
    zmq_setsockopt(b->admin, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(b->admin, b->ctx->admin) < 0) {
        snprintf(err, errlen, "bind %s: %s", b->ctx->admin, zmq_strerror(errno));
        return -1;
    }
    size_t len = sizeof b->admin_fd;
    zmq_getsockopt(b->admin, ZMQ_FD, &b->admin_fd, &len);
    return listen_workers(b, err, errlen);
}

/* The workers' unix socket and the HTTP front door's must be usable by the
 * unprivileged user only (mode 0600), the admin ipc socket by its owner
 * only, or also by the admin-group (mode 0660). The mode is set before the
 * owner, so root needs no CAP_FOWNER for it. */
static int secure_sockets(fd_broker *b, char *err, size_t errlen)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1, admin_gid = (gid_t)-1;
    const char *path[3] = {b->ctx->backend, b->ctx->admin,
                           b->ctx->http_front[0] ? b->ctx->http_front + 6 : NULL};
    int drop = fd_privsep_user(&b->ctx->cfg, &uid, &gid, err, errlen);
    int group = fd_admin_group(&b->ctx->cfg, &admin_gid, err, errlen);
    if (drop < 0 || group < 0)
        return -1;
    if (!strncmp(path[1], "ipc://", 6))
        path[1] += 6;
    else
        path[1] = NULL;
    for (int i = 0; i < 3; i++) {
        if (!path[i])
            continue;
        if (chmod(path[i], i == 1 && group ? 0660 : 0600) < 0) {
            snprintf(err, errlen, "chmod %s: %s", path[i], strerror(errno));
            return -1;
        }
        gid_t g = i == 1 && group ? admin_gid : drop ? gid : (gid_t)-1;
        if ((drop || g != (gid_t)-1) && chown(path[i], drop ? uid : (uid_t)-1, g) < 0) {
            snprintf(err, errlen, "chown %s: %s", path[i], strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* A ZeroMQ socket has a message waiting (ZMQ_EVENTS; this also takes the
 * socket's pending commands, which re-arms its ZMQ_FD). */
static int zmq_ready(void *sock)
{
    int ev = 0;
    size_t len = sizeof ev;
    return zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &len) == 0 && (ev & ZMQ_POLLIN);
}

/* The poll set: control, admin, the client connections' epoll set, the
 * workers' listening socket (FD_POLL_FIXED in all), then every worker's
 * link (also for writing when it has bytes waiting). The admin socket is
 * polled through its ZMQ_FD, which only says "look again": a socket read
 * dry and not used since (b->quiet) needs no asking, as a new message will
 * signal its ZMQ_FD; one that sent since may have taken that signal, so it
 * is asked (ZMQ_EVENTS) before the round sleeps, and is quiet again when
 * that found nothing (before, an admin socket never read stayed unquiet:
 * ZMQ_EVENTS, and libzmq's getpid with it, every round). Its size. */
static int poll_set(fd_broker *b)
{
    struct pollfd *p = b->pfd;
    int n = 0;
    p[n++] = (struct pollfd){b->ctl, POLLIN, 0};
    p[n++] = (struct pollfd){b->admin_fd, POLLIN, 0};
    p[n++] = (struct pollfd){fd_zconn_fd(b), POLLIN, 0};
    p[n++] = (struct pollfd){b->listen, POLLIN, 0};
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state != FD_WS_FREE) {
            b->pfd_worker[n] = i;
            p[n++] = (struct pollfd){b->w[i].link.fd,
                                     (short)(POLLIN | (fd_link_pending(&b->w[i].link) ? POLLOUT : 0)),
                                     0};
        }
    return n;
}

/* After a drain: a socket read dry is quiet (its ZMQ_FD will signal the next
 * message); one left with messages after a full batch is not, so that the
 * next round asks it again: it was never read dry, so nothing will signal. */
static void quiet(fd_broker *b, int which, int dry)
{
    if (dry)
        b->quiet |= which;
    else
        b->quiet &= ~which;
}

static int timeout_ms(fd_broker *b, int64_t next_hb)
{
    int64_t now = fd_now_ns(), wake = next_hb;
    int first = fd_deadline_first(b), due = fd_zconn_due_ms(b);
    if (first >= 0 && b->slot[first]->deadline < wake)
        wake = b->slot[first]->deadline;
    int ms = wake > now ? (int)((wake - now + FD_MS - 1) / FD_MS) : 0;
    return due >= 0 && due < ms ? due : ms;
}

static void broker_loop(fd_broker *b)
{
    int64_t hb = (int64_t)b->ctx->cfg.heartbeat_ms * FD_MS, next_hb = fd_now_ns() + hb;
    while (!b->ctl_lost && !(b->stopping && b->nheap == 0)) {
        int admin = 0;
        if (!(b->quiet & FD_QUIET_ADMIN) && !(admin = zmq_ready(b->admin)))
            b->quiet |= FD_QUIET_ADMIN;   /* asked and empty: its ZMQ_FD signals the next */
        int n = poll_set(b);
        struct pollfd *p = b->pfd;
        if (poll(p, (nfds_t)n, admin ? 0 : timeout_ms(b, next_hb)) < 0 && errno != EINTR)
            return;
        for (int k = FD_POLL_FIXED; k < n; k++) {
            int i = b->pfd_worker[k];
            if (b->w[i].state == FD_WS_FREE || b->w[i].link.fd != p[k].fd)
                continue;         /* lost while handling an earlier one */
            if (p[k].revents & (POLLIN | POLLERR | POLLHUP))
                fd_workers_read(b, i);
        }
        if (p[0].revents & (POLLIN | POLLHUP))
            control(b);
        if (admin || (p[1].revents & POLLIN))
            quiet(b, FD_QUIET_ADMIN,
                  drain(b, b->admin, FD_FRONT_BATCH, FD_ADMIN_MAX_MSG, admin_request));
        fd_zconn_events(b, p[2].revents != 0);   /* epoll_wait only when poll saw it ready */
        if (p[3].revents & POLLIN)
            fd_workers_accept(b);
        fd_reply_expire(b);
        if (fd_now_ns() >= next_hb) {
            fd_workers_heartbeats(b);
            next_hb = fd_now_ns() + hb;
        }
        fd_dispatch(b);
        fd_zconn_flush(b);        /* every client's replies of the round, one write each */
    }
}

/* The broker's state, set up from the supervisor's context. */
static void broker_init(fd_broker *b, const fd_ctx *ctx, int ctl)
{
    memset(b, 0, sizeof *b);
    b->ctx = ctx;
    b->ctl = ctl;
    b->listen = -1;
    b->zc.ep = -1;
    b->qhead = b->qtail = -1;
    for (int i = 0; i < FD_MAX_WORKERS; i++)
        b->w[i].link.fd = -1;
    b->gen = ctx->gen;
    b->st = ctx->stats;
    b->max_message = ctx->cfg.engine.max_text_bytes + FD_FRAME_SLACK + FD_ENV_SLACK;
    fd_answer_limits(&b->limits, ctx->cfg.engine.max_text_bytes);
    b->limits.max_items = (uint32_t)ctx->cfg.max_items;
    snprintf(b->version, sizeof b->version, "%s", ctx->version);
    snprintf(b->pending, sizeof b->pending, "%s", ctx->version);
    b->started = ctx->started_ns;
    b->version_since = fd_now_ns();
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

int fd_broker_main(const fd_proc_arg *a)
{
    static fd_broker b;           /* large (the worker table): not on the stack */
    const fd_ctx *ctx = a->ctx;
    char err[512];
    int rc = FD_EXIT_START;       /* until it serves: the supervisor reports it and stops */

    broker_init(&b, ctx, a->fd);
    b.pfd = calloc(FD_MAX_WORKERS + FD_POLL_FIXED, sizeof *b.pfd);
    b.pfd_worker = calloc(FD_MAX_WORKERS + FD_POLL_FIXED, sizeof *b.pfd_worker);
    if (!b.pfd || !b.pfd_worker) {
        snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    if (!(b.zctx = zmq_ctx_new())) {
        snprintf(err, sizeof err, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto out;
    }
    if (bind_all(&b, err, sizeof err) < 0 || secure_sockets(&b, err, sizeof err) < 0 ||
        fd_drop_privileges(&ctx->cfg, err, sizeof err) < 0)
        goto out;
    fd_log(FD_INFO, "listening", "listen=%s admin=%s queue_max=%d budget_ms=%d on_deadline=%s",
           ctx->cfg.listen[0], ctx->admin, ctx->cfg.queue_max, ctx->cfg.budget_ms,
           fe_action_name((fe_action)ctx->cfg.on_deadline));
    broker_loop(&b);
    fd_workers_retire_all(&b);
    fd_admin_reloaded(&b, -1, "filterd is stopping");
    fd_zconn_linger(&b, FD_LINGER_MS);
    fd_ctl_send(b.ctl, "stopped");
    rc = b.ctl_lost;
out:
    if (rc && !b.ctl_lost)
        fd_log(FD_ERROR, "broker_failed", "message=\"%s\"", err);
    fd_zconn_close(&b);
    if (b.listen >= 0)
        close(b.listen);
    if (b.admin)
        zmq_close(b.admin);
    if (b.zctx)
        zmq_ctx_term(b.zctx);
    fd_slots_release(&b);
    msgpack_sbuffer_destroy(&b.sb);
    free(b.pfd);
    free(b.pfd_worker);
    return rc;
}
