/* http.c -- the HTTP front door process: libmicrohttpd in our own poll loop, a client of the broker.
 *
 *   HTTP client --> libmicrohttpd (its sockets in our poll) --> route (httpreq.c, wxa.c, ...)
 *                                       | queued; after the round, together (httpsend.c)
 *                   resume <-- fc_recv_many <-- broker (ZMTP on <run-dir>/http.sock: client/zdealer.c)
 *
 * libmicrohttpd runs without a thread of its own, in "external select" mode:
 * its sockets (MHD_get_fdset2) join one poll() with the broker link's,
 * the admin socket and a signal pipe, and what poll found ready is handed to
 * MHD_run_from_select. Not its epoll mode: that costs two epoll_ctl per
 * request (a suspended connection leaves the epoll set and comes back) and a
 * read that finds nothing, about a third of the process's system calls
 * (bench/README.md, issue 13d); the price is fd_sets, so at most
 * FD_HTTP_MAX_CONNS connections. A request whose body is in is queued for
 * the broker and its connection suspended; its answer, collected after each
 * round, resumes it, and its response is written at once (answer_resumed),
 * without waiting for a poll. Every connection is in a
 * phase (http.h) with a time limit, checked every FD_HTTP_REAP_MS: one over
 * its limit is shut down (libmicrohttpd then closes it), so a client that
 * trickles its headers or body, or never reads its response, holds only its
 * own connection, and only for http-timeout-ms. SIGHUP re-reads the token
 * file; SIGTERM stops accepting, answers what is at the broker, then exits. */
#define _GNU_SOURCE               /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "console.h"

static int sigpipe_fd[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    ssize_t w = write(sigpipe_fd[1], &c, 1);
    (void)w;
    errno = saved;
}

void fd_http_resume(fd_http *h, fd_hreq *r)
{
    r->waiting = 0;
    h->resumed = 1;
    if (r->conn->fd >= 0 && r->conn->fd < FD_SETSIZE)
        FD_SET(r->conn->fd, &h->resumed_fds);
    MHD_resume_connection(r->conn->mc);
}

/* ---- libmicrohttpd's callbacks ------------------------------------------- */

static void phase(fd_hconn *c, int p)
{
    c->phase = p;
    c->since = fd_now_ns();
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    fd_http *h = cls;
    fd_hconn *c = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fdi = MHD_get_connection_info(mc,
            MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ai = MHD_get_connection_info(mc,
            MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (!(c = calloc(1, sizeof *c)))
            return;               /* no bookkeeping: only libmicrohttpd's timeout */
        c->mc = mc;
        c->fd = fdi ? fdi->connect_fd : -1;
        c->loopback = ai && fd_addr_loopback(ai->client_addr);
        phase(c, FD_HP_IDLE);
        c->next = h->conns;
        if (h->conns)
            h->conns->prev = c;
        h->conns = c;
        h->nconns++;
        *socket_context = c;
    } else if (c) {
        if (c->prev)
            c->prev->next = c->next;
        else
            h->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        h->nconns--;
        free(c);
        *socket_context = NULL;
    }
}

/* The request line is in (before its headers): the request starts here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
    (void)cls, (void)uri;         /* the URI holds the token: never logged */
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(mc,
        MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    fd_hreq *r = calloc(1, sizeof *r);
    fd_hconn *c = i ? i->socket_context : NULL;
    if (!r || !c) {
        free(r);
        return NULL;              /* the handler refuses it */
    }
    r->conn = c;
    r->route_index = FD_HTTP_ROUTES;
    r->start = fd_now_ns();
    c->req = r;
    phase(c, FD_HP_HEAD);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    fd_http *h = cls;
    fd_hreq *r = *con_cls;
    (void)mc, (void)toe;
    if (!r)
        return;
    if (h->cfg->log_requests)
        fd_log(FD_INFO, "http_request", "path=%s status=%d elapsed_us=%lld peer=%s",
               fd_route_path(r->route_index), r->status,
               (long long)((fd_now_ns() - r->start) / 1000),
               r->conn && r->conn->loopback ? "loopback" : "remote");
    if (r->conn) {
        r->conn->req = NULL;
        phase(r->conn, FD_HP_IDLE);
    }
    fd_hreq_free(h, r);
    *con_cls = NULL;
}

static enum MHD_Result queue(fd_http *h, struct MHD_Connection *mc, fd_hreq *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->outlen, r->out,
                                                                MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    r->out = NULL;                /* libmicrohttpd's now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (h->stopping)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(mc, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    fd_http_count(h, r->route_index, r->status);
    phase(r->conn, FD_HP_SEND);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    fd_http *h = cls;
    fd_hreq *r = *con_cls;
    (void)version;
    if (!r)
        return MHD_NO;            /* out of memory at its start: close */
    if (!r->begun) {
        r->begun = 1;
        phase(r->conn, FD_HP_BODY);
        r->conn->since = r->start;  /* headers and body: one limit from the request line */
        if (fd_hreq_begin(h, r, url, method))
            return queue(h, mc, r);
        return MHD_YES;
    }
    if (*upload_size) {
        fd_hreq_body(h, r, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->status)
        return queue(h, mc, r);   /* answered (resumed, or at once below) */
    if (r->sent)
        return MHD_YES;           /* still waiting: spurious call */
    r->sent = 1;
    if (fd_hreq_run(h, r)) {
        phase(r->conn, FD_HP_WAIT);
        MHD_suspend_connection(mc);
        return MHD_YES;
    }
    return queue(h, mc, r);
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256], q[300];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    fd_log_limited(FD_LK_BAD_REQUEST, "http_error", "message=%s", fd_log_quote(msg, n, q, sizeof q));
}

/* ---- time limits ---------------------------------------------------------- */

/* Shut down every connection past its phase's limit; libmicrohttpd sees the
 * end of its stream and closes it (the descriptor stays its own to close). */
static void reap(fd_http *h)
{
    int64_t now = fd_now_ns();
    int64_t idle = (int64_t)h->cfg->http_idle_ms * FD_MS, busy = (int64_t)h->cfg->http_timeout_ms * FD_MS;
    for (fd_hconn *c = h->conns; c; c = c->next) {
        int64_t limit = c->phase == FD_HP_WAIT ? INT64_MAX : c->phase == FD_HP_IDLE ? idle : busy;
        if (c->cut || c->fd < 0 || now - c->since <= limit)
            continue;
        c->cut = 1;
        h->cut++;
        fd_log_limited(FD_LK_BAD_REQUEST, "http_timeout", "phase=%s peer=%s",
                       c->phase == FD_HP_IDLE ? "idle" : c->phase == FD_HP_SEND ? "response"
                       : "request", c->loopback ? "loopback" : "remote");
        shutdown(c->fd, SHUT_RDWR);
    }
}

/* ---- setup and the loop ------------------------------------------------- */

static int start_mhd(fd_http *h, char *err, size_t errlen)
{
    unsigned idle_s = (unsigned)(h->cfg->http_idle_ms + 999) / 1000;
    if ((h->listen_fd = fd_http_listen(h->cfg->http_listen, 0, err, errlen)) < 0)
        return -1;
    h->mhd = MHD_start_daemon(MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, h,      /* first: it logs the others' errors */
        MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->max_conns,
        MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "libmicrohttpd did not start on %s", h->cfg->http_listen);
        close(h->listen_fd);
        return -1;
    }
    h->mhd_listen = h->listen_fd;
    h->listen_fd = -1;            /* libmicrohttpd's now */
    return 0;
}

static int setup(fd_http *h, const fd_ctx *ctx, char *err, size_t errlen)
{
    struct sigaction sa;
    memset(h, 0, sizeof *h);
    h->ctx = ctx;
    h->cfg = &ctx->cfg;
    h->listen_fd = h->mhd_listen = -1;
    h->max_conns = h->cfg->http_connections < FD_HTTP_MAX_CONNS ? h->cfg->http_connections
                                                                 : FD_HTTP_MAX_CONNS;
    if (fd_http_wait_init(h) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->trace_pid = (uint32_t)getpid();
    h->trace_seed = (uint32_t)(fd_now_ns() ^ ((int64_t)h->trace_pid << 16));
    if (h->cfg->http_tokens[0] && fd_tokens_load(&h->tokens, h->cfg->http_tokens, err, errlen) < 0)
        return -1;
    h->has_tokens = h->cfg->http_tokens[0] != '\0';
    if (pipe2(sigpipe_fd, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);   /* the supervisor stops us (SIGTERM) */
    if (start_mhd(h, err, errlen) < 0 || fd_drop_privileges(h->cfg, err, errlen) < 0)
        return -1;
    fd_console_open(h);           /* as the dropped user: it writes the lists; off on error */
    return 0;
}

static void on_signals(fd_http *h)
{
    unsigned char sig[16];
    char err[512];
    ssize_t n = read(sigpipe_fd[0], sig, sizeof sig);
    for (ssize_t i = 0; i < n; i++) {
        if (sig[i] == SIGHUP)
            fd_console_reload_tokens(h);
        if (sig[i] == SIGHUP && h->has_tokens) {
            if (fd_tokens_load(&h->tokens, h->cfg->http_tokens, err, sizeof err) < 0)
                fd_log(FD_WARN, "http_tokens_kept", "message=\"%s\" tokens=%d", err, h->tokens.n);
            else
                fd_log(FD_INFO, "http_tokens", "tokens=%d", h->tokens.n);
        } else if (sig[i] == SIGTERM && !h->stopping) {
            h->stopping = 1;
            int lfd = MHD_quiesce_daemon(h->mhd);    /* no new connections */
            if (lfd >= 0)
                close(lfd);
            h->mhd_listen = -1;
            fd_log(FD_INFO, "http_stopping", "inflight=%zu", h->inflight);
        }
    }
}

/* The poll timeout: the nearest of libmicrohttpd's, the clients' and the
 * admin socket's timers, and the next check of time limits. */
static int timeout_ms(fd_http *h, struct pollfd *p, int *n)
{
    MHD_UNSIGNED_LONG_LONG mt;
    int t = h->nconns ? FD_HTTP_REAP_MS : 1000, w;
    if (MHD_get_timeout(h->mhd, &mt) == MHD_YES && mt < (MHD_UNSIGNED_LONG_LONG)t)
        t = (int)mt;
    for (int c = 0; c < 2; c++) {   /* the broker links, while they wait for replies */
        short ev = 0;
        int fd = h->fc[c] && fc_inflight(h->fc[c]) ? fc_pollfd_events(h->fc[c], &w, &ev) : -1;
        h->fc_at[c] = fd >= 0 ? *n : -1;
        if (fd >= 0)
            p[(*n)++] = (struct pollfd){fd, ev, 0};
        if (h->fc[c] && fc_inflight(h->fc[c]) && w >= 0 && w < t)
            t = w;
    }
    int afd = fd_metrics_fd(h, &w);
    if (afd >= 0)
        p[(*n)++] = (struct pollfd){afd, POLLIN, 0};
    if (afd >= 0 && w >= 0 && w < t)
        t = w;
    fd_console_pollfds(h, p, n, &w);
    if (w >= 0 && w < t)
        t = w;
    return t;
}

/* libmicrohttpd's sockets, as it wants them read or written, into p[*n..cap). */
static void mhd_pollfds(fd_http *h, struct pollfd *p, int *n, int cap)
{
    fd_set rs, ws, es;
    MHD_socket max = -1;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_ZERO(&es);
    if (MHD_get_fdset2(h->mhd, &rs, &ws, &es, &max, FD_SETSIZE) != MHD_YES)
        return;
    if (h->mhd_listen >= 0 && h->nconns >= h->max_conns)
        FD_CLR(h->mhd_listen, &rs);   /* at the limit: the next ones wait in the backlog
                                         (libmicrohttpd would accept and close them) */
    for (int fd = 0; fd <= max && *n < cap; fd++) {
        short ev = (short)((FD_ISSET(fd, &rs) ? POLLIN : 0) | (FD_ISSET(fd, &ws) ? POLLOUT : 0));
        if (ev)
            p[(*n)++] = (struct pollfd){fd, ev, 0};
    }
}

/* libmicrohttpd's turn: the sockets poll found ready in p[first..n). */
static void mhd_run(fd_http *h, const struct pollfd *p, int first, int n)
{
    fd_set rs, ws, es;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_ZERO(&es);
    for (int i = first; i < n; i++) {
        if ((p[i].events & POLLIN) && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
            FD_SET(p[i].fd, &rs);
        if ((p[i].events & POLLOUT) && (p[i].revents & (POLLOUT | POLLHUP | POLLERR)))
            FD_SET(p[i].fd, &ws);
    }
    MHD_run_from_select(h->mhd, &rs, &ws, &es);
}

/* The resumed connections' responses, at once: one run takes them back and
 * queues their responses, a second writes them (their sockets taken as
 * writable: a send that would block is left for poll), with no poll between. */
static void answer_resumed(fd_http *h)
{
    fd_set none;
    FD_ZERO(&none);
    MHD_run_from_select(h->mhd, &none, &none, &none);
    MHD_run_from_select(h->mhd, &none, &h->resumed_fds, &none);
    MHD_run_from_select(h->mhd, &none, &h->resumed_fds, &none);
    FD_ZERO(&h->resumed_fds);
    h->resumed = 0;
}

static void loop(fd_http *h)
{
    int64_t next_reap = 0;
    int cap = h->max_conns + 16;
    struct pollfd *p = calloc((size_t)cap + 8, sizeof *p);
    if (!p)
        return;
    FD_ZERO(&h->resumed_fds);
    MHD_run(h->mhd);
    for (;;) {
        fd_http_completions(h);
        fd_metrics_poll(h);
        fd_console_poll(h);
        if (h->resumed)
            answer_resumed(h);
        fd_http_flush(h);         /* the round's checks, together (httpsend.c) */
        int64_t now = fd_now_ns();
        if (now >= next_reap) {
            reap(h);
            next_reap = now + FD_HTTP_REAP_MS * FD_MS;
        }
        if (h->stopping && !h->inflight && !h->waiters) {
            if (!h->stop_at)
                h->stop_at = now + FD_HTTP_STOP_MS * FD_MS;   /* let the responses go */
            if (now >= h->stop_at || !h->nconns)
                break;
        }
        p[0] = (struct pollfd){sigpipe_fd[0], POLLIN, 0};
        int n = 1, t = timeout_ms(h, p, &n), first = n;
        mhd_pollfds(h, p, &n, cap + 8);
        if (h->stop_at && t > 50)
            t = 50;
        if (poll(p, (nfds_t)n, t) < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLIN)
            on_signals(h);
        for (int c = 0; c < 2; c++)
            if (h->fc_at[c] >= 0)
                fc_polled(h->fc[c], p[h->fc_at[c]].revents);
        mhd_run(h, p, first, n);
    }
    free(p);
}

int fd_http_main(const fd_proc_arg *a)
{
    static fd_http h;
    char err[512];
    int rc = 1;
    if (setup(&h, a->ctx, err, sizeof err) < 0) {
        fd_log(FD_ERROR, "http_failed", "message=\"%s\"", err);
        goto out;
    }
    fd_log(FD_INFO, "http_listening", "http=%s tokens=%s connections=%d max_body=%zu",
           h.cfg->http_listen, h.has_tokens ? "file" : "none (loopback only)",
           h.max_conns, h.cfg->http_max_body);
    loop(&h);
    rc = 0;
out:
    if (h.mhd)
        MHD_stop_daemon(h.mhd);
    for (int c = 0; c < 2; c++)
        fc_close(h.fc[c]);
    fd_console_close(&h);
    fd_metrics_close(&h);
    fd_http_wait_free(&h);
    return rc;
}
