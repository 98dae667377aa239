/* zdealer.c -- the client library's ZMTP 3 DEALER on a plain unix or TCP socket, as an fc_transport (zdealer.h).
 *
 * A TCP connection is made without blocking: while it is on its way the
 * descriptor is polled for POLLOUT, and each call looks (poll, no wait)
 * whether it is done. Once connected, our greeting and READY go at once;
 * messages wait in out[] until the server's READY is in (as libzmq's
 * DEALER: a libzmq server closes a connection whose first message comes
 * before its own READY went out). A message is its two frames,
 * [empty][body]: one sendmsg of the heads and the body; what the kernel
 * does not take waits in out[] and goes before the next message, or at the
 * next recv (pollfd asks for POLLOUT meanwhile). Replies are read only when
 * the descriptor was polled readable (ready) or the last read filled the
 * buffer, so a round without a reply costs no read. */
#define _GNU_SOURCE               /* SOCK_NONBLOCK, SOCK_CLOEXEC */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "zdealer.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything in out[] was written: empty it, and give its memory back when
 * it grew past FC_ZD_KEEP. */
static void out_empty(fc_zdealer *d, size_t keep)
{
    d->outoff = d->outlen = 0;
    if (d->outcap > keep) {
        free(d->out);
        d->out = NULL;
        d->outcap = 0;
    }
}

static void drop(fc_zdealer *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    d->retry_at = now_ms() + FC_ZD_RETRY_MS;
    d->outoff = d->outlen = 0;    /* what was on the connection is lost */
    d->inlen = d->inoff = 0;
    d->readable = d->ready = d->connecting = 0;
    fw_zmtp_free(&d->z);
}

/* No connection now: again in FC_ZD_RETRY_MS, what was sent meanwhile
 * still waiting (none of it went on a connection). */
static void retry_later(fc_zdealer *d)
{
    size_t off = d->outoff, len = d->outlen;
    drop(d);
    d->outoff = off;
    d->outlen = len;
}

/* n bytes at the end of out: 0, or -1 (errno ENOMEM). */
static int out_add(fc_zdealer *d, const void *p, size_t n)
{
    if (!n)
        return 0;
    if (d->outlen + n > d->outcap && d->outoff) {   /* drop what was written first */
        memmove(d->out, d->out + d->outoff, d->outlen - d->outoff);
        d->outlen -= d->outoff;
        d->outoff = 0;
    }
    if (d->outlen + n > d->outcap) {
        size_t cap = d->outcap ? d->outcap : 4096;
        while (cap < d->outlen + n)
            cap *= 2;
        uint8_t *q = realloc(d->out, cap);
        if (!q)
            return errno = ENOMEM, -1;
        d->out = q;
        d->outcap = cap;
    }
    memcpy(d->out + d->outlen, p, n);
    d->outlen += n;
    return 0;
}

static void try_connect(fc_zdealer *d);

/* Write iov[0..n) (after out[], which goes first): what the kernel does
 * not take is kept in out[]. A connection found broken is dropped and a
 * new one made at once, iov's bytes waiting for it (none of them were
 * taken). 0, or -1 (errno ENOMEM: the connection is dropped). */
static int write_out(fc_zdealer *d, const struct iovec *iov, int n)
{
    struct iovec v[3];
    int k = 0;
    size_t sent = 0;
    if (d->outlen > d->outoff)
        v[k++] = (struct iovec){d->out + d->outoff, d->outlen - d->outoff};
    for (int i = 0; i < n; i++)
        v[k++] = iov[i];
    if (d->fd >= 0 && d->ready && k) {
        struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)k};
        ssize_t w = sendmsg(d->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            drop(d);              /* the broker went while we were idle */
            d->retry_at = 0;
            for (int i = 0; i < n; i++)
                if (out_add(d, iov[i].iov_base, iov[i].iov_len) < 0)
                    return -1;
            try_connect(d);
            return 0;
        }
        sent = w > 0 ? (size_t)w : 0;
    }
    size_t k0 = sent < d->outlen - d->outoff ? sent : d->outlen - d->outoff;
    d->outoff += k0;              /* out[]'s sent part, */
    sent -= k0;
    if (d->outoff == d->outlen)
        out_empty(d, FC_ZD_KEEP);
    for (int i = 0; i < n; i++) {  /* then the rest of iov, are kept */
        size_t l = iov[i].iov_len, k1 = sent < l ? sent : l;
        sent -= k1;
        if (out_add(d, (const uint8_t *)iov[i].iov_base + k1, l - k1) < 0) {
            drop(d);              /* a message cut short: the stream is lost */
            return -1;
        }
    }
    return 0;
}

/* Is the connection on its way done? 1 (connected), 0 (not yet), -1
 * (refused or broken). */
static int connected(fc_zdealer *d)
{
    struct pollfd p = {d->fd, POLLOUT, 0};
    int e = 0;
    socklen_t l = sizeof e;
    if (poll(&p, 1, 0) <= 0)
        return 0;
    return getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e ? -1 : 1;
}

/* Connect now (fd < 0 and its time come), or see whether a TCP connection
 * on its way is made; once it is, our hello goes before anything queued.
 * A failure waits FC_ZD_RETRY_MS. */
static void try_connect(fc_zdealer *d)
{
    uint8_t hello[FW_ZMTP_HELLO_MAX];
    int one = 1, done = 1;
    if (d->fd >= 0 && !d->connecting)
        return;
    if (d->fd < 0) {
        if (now_ms() < d->retry_at)
            return;
        d->fd = socket(d->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (d->fd >= 0 && d->addr.ss_family != AF_UNIX)   /* a message is one write: */
            setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* now */
        if (d->fd < 0 || connect(d->fd, (struct sockaddr *)&d->addr, d->addrlen) < 0)
            done = d->fd >= 0 && errno == EINPROGRESS ? 0 : -1;   /* TCP: on its way */
        d->connecting = done == 0;
    }
    if (d->connecting)
        done = connected(d);
    if (done > 0) {
        d->connecting = 0;
        fw_zmtp_init(&d->z, FC_ZD_MAX_REPLY, FC_ZD_MAX_REPLY, 2);
        d->z.client = 1;
        size_t n = fw_zmtp_hello_dealer(hello);
        if (send(d->fd, hello, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n)
            d->readable = 1;      /* the server's hello is (or will be) there */
        else
            done = -1;            /* a new socket that does not take 94 bytes */
    }
    if (done < 0)
        retry_later(d);           /* refused, or nothing there: again later */
}

int fc_zdealer_address(const char *ep, struct sockaddr_storage *a, socklen_t *len)
{
    memset(a, 0, sizeof *a);
    if (!strncmp(ep, "ipc://", 6)) {
        struct sockaddr_un *u = (struct sockaddr_un *)a;
        size_t n = strlen(ep + 6);
        if (!n || n >= sizeof u->sun_path)
            return -1;
        u->sun_family = AF_UNIX;
        memcpy(u->sun_path, ep + 6, n);
        *len = (socklen_t)sizeof *u;
        return 0;
    }
    char host[64];
    const char *colon = strrchr(ep, ':');
    if (strncmp(ep, "tcp://", 6) || !colon || colon <= ep + 6)
        return -1;
    const char *h = ep + 6, *port = colon + 1;
    size_t hl = (size_t)(colon - h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
        h++, hl -= 2;             /* [v6]:port */
    else if (memchr(h, ':', hl))
        return -1;                /* v6 without brackets: ambiguous, libzmq's to read */
    if (hl >= sizeof host || !*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
        return -1;
    long p = strtol(port, NULL, 10);
    if (p < 1 || p > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct sockaddr_in *v4 = (struct sockaddr_in *)a;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)a;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        *len = (socklen_t)sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        *len = (socklen_t)sizeof *v6;
        return 0;
    }
    return -1;                    /* a name (resolved by libzmq's DEALER), or not TCP */
}

static int zd_open(void *arg, const char *ep, char *err, size_t errlen)
{
    fc_zdealer *d = arg;
    struct sockaddr_storage a;
    socklen_t len;
    if (fc_zdealer_address(ep, &a, &len) < 0) {
        snprintf(err, errlen, "not an ipc endpoint of at most %zu bytes, nor tcp:// with "
                 "a numeric address and port: %s", sizeof ((struct sockaddr_un *)0)->sun_path - 1, ep);
        return -1;
    }
    drop(d);                      /* a new connection: the old one's bytes are lost */
    d->addr = a;
    d->addrlen = len;
    d->retry_at = 0;
    try_connect(d);
    return 0;
}

static void zd_close(void *arg)
{
    fc_zdealer *d = arg;
    drop(d);
    out_empty(d, 0);
}

static int zd_recv(void *arg, const char **body, size_t *len);

static int zd_send(void *arg, const char *body, size_t len)
{
    fc_zdealer *d = arg;
    uint8_t head[2 + FW_ZMTP_HEAD_MAX];
    size_t hl = fw_zmtp_head(head, 0, 1);
    hl += fw_zmtp_head(head + hl, len, 0);
    struct iovec v[2] = {{head, hl}, {(void *)body, len}};
    try_connect(d);
    if (d->fd >= 0 && !d->ready) {   /* the server's hello may be in: take it now */
        const char *b;            /* (no reply can come before our first message) */
        size_t l;
        zd_recv(d, &b, &l);
    }
    if (d->fd < 0 || !d->ready)   /* waits for the connection, or its handshake */
        return out_add(d, head, hl) < 0 || out_add(d, body, len) < 0 ? -1 : 0;
    return write_out(d, v, 2);
}

static int zd_recv(void *arg, const char **body, size_t *len)
{
    fc_zdealer *d = arg;
    uint8_t pong[FW_ZMTP_PONG_MAX];
    try_connect(d);
    if (d->fd >= 0 && d->ready && d->outlen > d->outoff)
        write_out(d, NULL, 0);
    while (d->fd >= 0) {
        if (d->inoff < d->inlen) {
            size_t used;
            int ev = fw_zmtp_feed(&d->z, d->in + d->inoff, d->inlen - d->inoff, &used);
            d->inoff += used;
            if (!d->ready && fw_zmtp_ready(&d->z)) {
                d->ready = 1;     /* the handshake is done: what waited goes */
                write_out(d, NULL, 0);
            }
            if (ev == FW_ZMTP_MESSAGE && !d->z.truncated && d->z.nframes == 2 &&
                d->z.flen[0] == 0) {
                fw_zmtp_part b = fw_zmtp_part_at(&d->z, 1);
                *body = (const char *)b.p;
                *len = b.len;
                return 1;
            }
            if (ev == FW_ZMTP_PING) {
                struct iovec v = {pong, fw_zmtp_pong(&d->z, pong)};
                write_out(d, &v, 1);
            } else if (ev == FW_ZMTP_ERROR) {
                drop(d);          /* not our ROUTER's ZMTP: again, as after a restart */
            }
            continue;             /* another shape of message: dropped */
        }
        if (!d->readable)
            return 0;
        ssize_t n = read(d->fd, d->in, sizeof d->in);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            d->readable = 0;
            return 0;
        }
        if (n <= 0) {             /* the broker went: connect again */
            drop(d);
            return 0;
        }
        d->inlen = (size_t)n;
        d->inoff = 0;
        d->readable = (size_t)n == sizeof d->in;
    }
    return 0;
}

short fc_zdealer_events(const fc_zdealer *d)
{
    if (d->connecting)
        return POLLOUT;           /* a TCP connection on its way: writable once made */
    return (short)(POLLIN | (d->ready && d->outlen > d->outoff ? POLLOUT : 0));
}

static int zd_pollfd(void *arg, int *wait_ms, short *events)
{
    fc_zdealer *d = arg;
    *wait_ms = -1;
    *events = fc_zdealer_events(d);
    if (d->fd < 0) {
        int64_t ms = d->retry_at - now_ms();
        *wait_ms = ms < 0 ? 0 : ms > FC_ZD_RETRY_MS ? FC_ZD_RETRY_MS : (int)ms;
        return -1;
    }
    if (d->readable || d->inoff < d->inlen)
        *wait_ms = 0;
    return d->fd;
}

void fc_zdealer_ready(fc_zdealer *d)
{
    d->readable = 1;
}

static void zd_ready(void *arg)
{
    fc_zdealer_ready(arg);
}

void fc_zdealer_transport(fc_zdealer *d, fc_transport *t)
{
    d->fd = -1;
    *t = (fc_transport){.arg = d, .open = zd_open, .close = zd_close, .send = zd_send,
                        .recv = zd_recv, .pollfd = zd_pollfd, .ready = zd_ready};
}
