/* conns.c -- the broker's client connections: counted, and limited to max-connections.
 *
 * ZeroMQ accepts connections itself and offers no limit, and under a low
 * RLIMIT_NOFILE it runs out of descriptors: its TCP listener then spins and
 * its ipc listener aborts the process (issue 12). So the broker watches the
 * request socket's monitor (accepted, disconnected) and counts the
 * connections; one past max-connections is shut down at once (shutdown(),
 * not close(): ZeroMQ owns the descriptor and cleans up when it sees the
 * end), counted in stats as connections_refused. The broker raises its soft
 * RLIMIT_NOFILE to the hard one, and refuses to start when max-connections
 * and what it needs besides (two generations of workers, FD_FD_RESERVE) do
 * not fit in it, so that ZeroMQ does not reach EMFILE. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "broker.h"

#define MONITOR "inproc://filterd-front-monitor"

int fd_conns_open(fd_broker *b, char *err, size_t errlen)
{
    struct rlimit rl;
    long need = (long)b->ctx->cfg.max_connections + 2L * b->ctx->nworkers + FD_FD_RESERVE;
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
}

/* Every event the monitor holds: [event u16, value u32][endpoint]. */
void fd_conns_events(fd_broker *b)
{
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, b->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
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
        if (event == ZMQ_EVENT_ACCEPTED && b->nconns >= b->ctx->cfg.max_connections) {
            shutdown(fd, SHUT_RDWR);   /* ZeroMQ sees the end, closes it, says DISCONNECTED */
            b->refusing++;
            b->st->connections_refused++;
            fd_log_limited(FD_LK_CONN_REFUSED, "connection_refused", "connections=%d max=%d "
                           "refused=%llu", b->nconns, b->ctx->cfg.max_connections,
                           (unsigned long long)b->st->connections_refused);
        } else if (event == ZMQ_EVENT_ACCEPTED)
            b->nconns++;
        else if (event == ZMQ_EVENT_DISCONNECTED && b->refusing > 0)
            b->refusing--;             /* (one we shut down; the order does not matter) */
        else if (event == ZMQ_EVENT_DISCONNECTED && b->nconns > 0)
            b->nconns--;
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
    }
}
