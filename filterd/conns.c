/* conns.c -- the broker's client connections: counted, limited to max-connections, and
 * the bytes of replies queued to each limited to reply-queue-bytes.
 *
 * ZeroMQ accepts connections itself and offers no limit, and under a low
 * RLIMIT_NOFILE it runs out of descriptors: its TCP listener then spins and
 * its ipc listener aborts the process (issue 12). So the broker watches the
 * request socket's monitor (accepted, disconnected) and counts the
 * connections; one past max-connections is refused, counted in stats as
 * connections_refused, and shut down (shutdown(), not close(): ZeroMQ owns
 * the descriptor and cleans up when it sees the end). A client reconnects
 * 100 ms after that (ZeroMQ's default), so a refusal at once cost the broker
 * ten accepts and handshakes a second per client; so up to FD_HOLD_MAX
 * refused connections are held open for FD_HOLD_MS first, what they send
 * ignored, and the client comes back about once a second. The broker raises its soft
 * RLIMIT_NOFILE to the hard one, and refuses to start when max-connections
 * and what it needs besides (two generations of workers, the held refused
 * connections, FD_FD_RESERVE) do not fit in it, so that ZeroMQ does not
 * reach EMFILE.
 *
 * Replies queued to a client: ZeroMQ's high-water mark counts messages, and
 * an explain reply can be 0.5 MB (issue 12). So for each TCP connection the
 * broker counts the bytes of the replies it has handed to ZeroMQ, as ZMTP 3
 * frames them on the wire, and the kernel says how many the client has
 * acknowledged (TCP_INFO tcpi_bytes_acked); the difference is what waits in
 * ZeroMQ's pipe, its buffers and the kernel's send buffer. The kernel is
 * asked only when the count, against the last answer, reaches the limit (so
 * about once per reply-queue-bytes sent); at or past the limit a reply is
 * dropped. The connection is known by the descriptor ZeroMQ read its request
 * from (ZMQ_SRCFD, kept in the routing frame). What ZeroMQ sends of its own
 * (the greeting, heartbeat PONGs) is acknowledged but not counted: the count
 * is brought up to the acknowledged bytes when it falls behind, so it errs
 * toward letting a reply through, by those few bytes. ipc connections (the
 * HTTP front door's, local ones) have no such counter: reply-queue-max
 * bounds them. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <linux/tcp.h>

#include "broker.h"

#define MONITOR "inproc://filterd-front-monitor"

enum { PEER_TCP, PEER_OTHER };     /* PEER_OTHER: no TCP_INFO (ipc): not counted */

struct fd_peer {
    uint64_t sent;                 /* reply bytes handed to ZeroMQ, as on the wire */
    uint64_t acked;                /* tcpi_bytes_acked when last asked; <= sent */
    int kind;
    int refused;                   /* past max-connections: held, then shut down */
    int64_t until;                 /* held until then (fd_now_ns) */
    ino_t ino;                     /* its socket, so that a reused descriptor is left alone */
};

/* The entry of descriptor fd, or NULL (no descriptor, out of memory). */
static struct fd_peer *peer(fd_broker *b, int fd)
{
    if (fd < 0)
        return NULL;
    if (fd >= b->npeer) {
        int n = fd < 1024 ? 1024 : fd * 2;
        struct fd_peer *p = realloc(b->peer, (size_t)n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + b->npeer, 0, (size_t)(n - b->npeer) * sizeof *p);
        b->peer = p, b->npeer = n;
    }
    return &b->peer[fd];
}

/* A new connection, or one gone, on descriptor fd. */
static void peer_reset(fd_broker *b, int fd)
{
    if (fd >= 0 && fd < b->npeer)
        memset(&b->peer[fd], 0, sizeof b->peer[fd]);
}

int fd_conns_full(fd_broker *b, const zmq_msg_t *env)
{
    int fd = zmq_msg_get((zmq_msg_t *)env, ZMQ_SRCFD);
    struct fd_peer *p = peer(b, fd);
    uint64_t limit = b->ctx->cfg.reply_queue_bytes;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (!p || p->kind == PEER_OTHER || p->sent - p->acked < limit)
        return 0;               /* below the limit even if nothing was acknowledged since */
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked) {
        p->kind = PEER_OTHER;
        return 0;
    }
    if (ti.tcpi_bytes_acked < p->acked)   /* another connection on this descriptor */
        p->sent = ti.tcpi_bytes_acked;
    p->acked = ti.tcpi_bytes_acked;
    if (p->sent < p->acked)
        p->sent = p->acked;
    return p->sent - p->acked >= limit;
}

/* A ZMTP 3 frame of n bytes on the wire: a flags byte, then its size in one
 * byte or, past 255, in eight. */
static uint64_t wire(size_t n)
{
    return n + (n > 255 ? 9 : 2);
}

int fd_conns_refused(fd_broker *b, const zmq_msg_t *env)
{
    int fd = zmq_msg_get((zmq_msg_t *)env, ZMQ_SRCFD);
    return fd >= 0 && fd < b->npeer && b->peer[fd].refused;
}

/* The socket behind descriptor fd (0 when there is none). */
static ino_t inode(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* Refuse the connection on fd: held for FD_HOLD_MS while there is room, else shut down now. */
static void refuse(fd_broker *b, int fd)
{
    struct fd_peer *p = peer(b, fd);
    b->refusing++;
    b->st->connections_refused++;
    fd_log_limited(FD_LK_CONN_REFUSED, "connection_refused", "connections=%d max=%d "
                   "refused=%llu", b->nconns, b->ctx->cfg.max_connections,
                   (unsigned long long)b->st->connections_refused);
    if (p)
        p->refused = 1;
    if (!p || b->nhold >= FD_HOLD_MAX) {
        shutdown(fd, SHUT_RDWR);   /* ZeroMQ sees the end, closes it, says DISCONNECTED */
        return;
    }
    p->until = fd_now_ns() + FD_HOLD_MS * FD_MS;
    p->ino = inode(fd);
    b->hold[b->nhold++] = fd;
}

/* Shut down the held connections whose time is up (or, gone, drop them). */
static void release_held(fd_broker *b)
{
    int64_t now = fd_now_ns();
    for (int i = 0; i < b->nhold;) {
        int fd = b->hold[i];
        struct fd_peer *p = &b->peer[fd];
        if (p->refused && p->until > now) {
            i++;
            continue;
        }
        if (p->refused && p->ino && inode(fd) == p->ino)
            shutdown(fd, SHUT_RDWR);
        b->hold[i] = b->hold[--b->nhold];
    }
}

void fd_conns_sent(fd_broker *b, zmq_msg_t *env, int nenv, size_t len)
{
    struct fd_peer *p = peer(b, zmq_msg_get(&env[0], ZMQ_SRCFD));
    if (!p)
        return;
    for (int i = 1; i < nenv; i++)   /* env[0], the routing id, stays with ROUTER */
        p->sent += wire(zmq_msg_size(&env[i]));
    p->sent += wire(0) + wire(len);   /* the empty delimiter, the reply */
}

int fd_conns_open(fd_broker *b, char *err, size_t errlen)
{
    struct rlimit rl;
    long need = (long)b->ctx->cfg.max_connections + 2L * b->ctx->nworkers + FD_FD_RESERVE +
                FD_HOLD_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;             /* issue 12: it was never raised */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)need > rl.rlim_cur) {
        snprintf(err, errlen, "max-connections %d needs %ld descriptors, RLIMIT_NOFILE is %llu "
                 "(raise the limit, e.g. LimitNOFILE=, or lower max-connections)",
                 b->ctx->cfg.max_connections, need, (unsigned long long)rl.rlim_cur);
        return -1;
    }
    if (zmq_socket_monitor(b->front, MONITOR, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) < 0 ||
        !(b->monitor = zmq_socket(b->zctx, ZMQ_PAIR)) || zmq_connect(b->monitor, MONITOR) < 0) {
        snprintf(err, errlen, "socket monitor: %s", zmq_strerror(errno));
        return -1;
    }
    size_t len = sizeof b->monitor_fd;
    zmq_getsockopt(b->monitor, ZMQ_FD, &b->monitor_fd, &len);
    return 0;
}

void fd_conns_close(fd_broker *b)
{
    if (b->monitor)
        zmq_close(b->monitor);
    b->monitor = NULL;
    b->nhold = 0;
    free(b->peer);
    b->peer = NULL;
    b->npeer = 0;
}

/* Every event the monitor holds: [event u16, value u32][endpoint]. */
void fd_conns_events(fd_broker *b)
{
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, b->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            release_held(b);
            return;
        }
        zmq_msg_init(&addr);
        if (zmq_msg_more(&ev))
            zmq_msg_recv(&addr, b->monitor, 0);
        uint16_t event = 0;
        int32_t fd = -1;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&event, zmq_msg_data(&ev), 2);
            memcpy(&fd, (char *)zmq_msg_data(&ev) + 2, 4);
        }
        int was_refused = fd >= 0 && fd < b->npeer && b->peer[fd].refused;
        if (event == ZMQ_EVENT_ACCEPTED || event == ZMQ_EVENT_DISCONNECTED)
            peer_reset(b, fd);     /* (a held one leaves b->hold at its next release) */
        if (event == ZMQ_EVENT_ACCEPTED && b->nconns >= b->ctx->cfg.max_connections)
            refuse(b, fd);
        else if (event == ZMQ_EVENT_ACCEPTED)
            b->nconns++;
        else if (event == ZMQ_EVENT_DISCONNECTED && was_refused && b->refusing > 0)
            b->refusing--;
        else if (event == ZMQ_EVENT_DISCONNECTED && b->nconns > 0)
            b->nconns--;
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
    }
}
