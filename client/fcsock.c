/* fcsock.c -- the client library's sockets: opening them, the REQ envelope on a
 * DEALER, the link to the broker (the library's own ZMTP DEALER on ipc://
 * and numeric tcp://, a libzmq DEALER, or the caller's transport),
 * and the one-shot admin call over REQ. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "inflight.h"
#include "zdealer.h"

void fc_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void *fc_sock_open(void *ctx, int type, const char *ep, char *err, size_t errlen)
{
    int zero = 0;
    void *s = zmq_socket(ctx, type);
    if (!s) {
        fc_seterr(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        return NULL;
    }
    /* No high-water mark: what is in flight is bounded by the caller. */
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof zero);
    if (zmq_connect(s, ep) < 0) {
        fc_seterr(err, errlen, "connect %s: %s", ep, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

int fc_sock_send(void *sock, const char *body, size_t len)
{
    if (zmq_send(sock, "", 0, ZMQ_SNDMORE) < 0)
        return -1;
    return zmq_send(sock, body, len, 0) < 0 ? -1 : 0;
}

int fc_sock_recv(void *sock, zmq_msg_t *msg)
{
    int more, parts = 0, good = 1;
    size_t ml = sizeof more;
    zmq_msg_t part;

    do {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return (errno == EAGAIN || errno == EINTR) && parts == 0 ? 0 : -1;
        }
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ml);
        if (parts == 0)
            good = zmq_msg_size(&part) == 0;
        else if (parts == 1)
            zmq_msg_move(msg, &part);
        else
            good = 0;
        parts++;
        zmq_msg_close(&part);
    } while (more);
    return good && parts == 2 ? 1 : 0;
}

/* ---- the link: a DEALER or the caller's transport ------------------------ */

int fc_link_open(fc_client *c, const char *ep, char *err, size_t errlen)
{
    if (c->tr.open)
        return c->tr.open(c->tr.arg, ep, err, errlen);
    if (!c->ctx && !(c->ctx = zmq_ctx_new())) {
        fc_seterr(err, errlen, "zmq_ctx_new: %s", zmq_strerror(errno));
        return -1;
    }
    if (c->sock)
        zmq_close(c->sock);
    c->sock = fc_sock_open(c->ctx, ZMQ_DEALER, ep, err, errlen);
    return c->sock ? 0 : -1;
}

int fc_own_link(const char *endpoint)
{
    struct sockaddr_storage a;
    socklen_t len;
    return fc_zdealer_address(endpoint, &a, &len) == 0;
}

int fc_link_own(fc_client *c, char *err, size_t errlen)
{
    for (int i = 0; i < c->neps; i++)
        if (!fc_own_link(c->eps[i]))
            return 0;             /* a host name (or a path too long): libzmq's */
    if (!(c->zd = calloc(1, sizeof *c->zd))) {
        fc_seterr(err, errlen, "out of memory");
        return -1;
    }
    fc_zdealer_transport(c->zd, &c->tr);
    return 0;
}

void fc_link_close(fc_client *c)
{
    if (c->tr.open)
        c->tr.close(c->tr.arg);
    free(c->zd);
    c->zd = NULL;
    if (c->sock)
        zmq_close(c->sock);
    if (c->ctx)
        zmq_ctx_term(c->ctx);
    c->sock = c->ctx = NULL;
}

int fc_link_send(fc_client *c, const char *body, size_t len)
{
    return c->tr.open ? c->tr.send(c->tr.arg, body, len) : fc_sock_send(c->sock, body, len);
}

int fc_link_recv(fc_client *c, fc_msg *m)
{
    zmq_msg_init(&m->z);
    if (c->tr.open)
        return c->tr.recv(c->tr.arg, &m->p, &m->n);
    int got = fc_sock_recv(c->sock, &m->z);
    m->p = zmq_msg_data(&m->z);
    m->n = zmq_msg_size(&m->z);
    return got;
}

void fc_msg_done(fc_msg *m)
{
    zmq_msg_close(&m->z);
}

int fc_link_wait(fc_client *c, long ms)
{
    if (!c->tr.open) {
        zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
        return zmq_poll(&item, 1, ms) < 0 && errno != EINTR ? -1 : 0;
    }
    short ev;
    int w, fd = c->tr.pollfd(c->tr.arg, &w, &ev);
    if (w >= 0 && w < ms)
        ms = w;
    struct pollfd p = {fd, ev, 0};
    if (poll(&p, fd >= 0, (int)ms) < 0 && errno != EINTR)
        return -1;
    if (p.revents)
        c->tr.ready(c->tr.arg);
    return 0;
}

int fc_link_pollfd(fc_client *c, int *wait_ms, short *events)
{
    int fd = -1, ev = 0;
    size_t len = sizeof fd, evlen = sizeof ev;
    *wait_ms = -1;
    *events = POLLIN;
    if (c->tr.open)
        return c->tr.pollfd(c->tr.arg, wait_ms, events);
    if (zmq_getsockopt(c->sock, ZMQ_FD, &fd, &len) < 0)
        return -1;
    if (c->drained)               /* a recv found nothing since the last send: the */
        return fd;                /* descriptor signals the next reply (no syscalls) */
    if (zmq_getsockopt(c->sock, ZMQ_EVENTS, &ev, &evlen) < 0)
        return -1;
    if (ev & ZMQ_POLLIN)
        *wait_ms = 0;             /* already queued: ZMQ_FD would not signal it */
    return fd;
}

cJSON *fc_admin(const char *endpoint, const char *op, int timeout_ms, char *err, size_t errlen)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    cJSON *j = NULL;
    void *ctx, *s = NULL;
    zmq_msg_t msg;

    if (timeout_ms <= 0)
        timeout_ms = FC_ADMIN_TIMEOUT_MS;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    fw_request q = {.op = FW_OP_UNKNOWN};
    for (int i = 0; i < FW_OP_UNKNOWN; i++)
        if (!strcmp(op, fw_op_name(i)))
            q.op = i;
    if (q.op == FW_OP_UNKNOWN || q.op == FW_OP_CHECK) {
        fc_seterr(err, errlen, "unknown admin operation '%s'", op);
        msgpack_sbuffer_destroy(&sb);
        return NULL;
    }
    fw_request_encode(&pk, &q, 0);
    zmq_msg_init(&msg);
    if (fc_probe(endpoint, FC_PROBE_MS, err, errlen) < 0) {
        msgpack_sbuffer_destroy(&sb);
        zmq_msg_close(&msg);
        return NULL;
    }
    if (!(ctx = zmq_ctx_new())) {
        fc_seterr(err, errlen, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto out;
    }
    if (!(s = fc_sock_open(ctx, ZMQ_REQ, endpoint, err, errlen)))
        goto out;
    if (zmq_send(s, sb.data, sb.size, 0) < 0) {
        fc_seterr(err, errlen, "send to %s: %s", endpoint, zmq_strerror(errno));
        goto out;
    }
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    int rc;
    while ((rc = zmq_poll(&item, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (rc <= 0) {
        fc_seterr(err, errlen, "no reply from %s within %d ms", endpoint, timeout_ms);
        goto out;
    }
    if (zmq_msg_recv(&msg, s, 0) < 0) {
        fc_seterr(err, errlen, "recv from %s: %s", endpoint, zmq_strerror(errno));
        goto out;
    }
    j = fw_msgpack_to_json(zmq_msg_data(&msg), zmq_msg_size(&msg), err, errlen);
out:
    zmq_msg_close(&msg);
    if (s)
        zmq_close(s);
    if (ctx)
        zmq_ctx_term(ctx);
    msgpack_sbuffer_destroy(&sb);
    return j;
}
