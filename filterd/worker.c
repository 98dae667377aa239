/* worker.c -- a worker process: one request at a time from the broker, scanned on the shared rule set.
 *
 * The rule set was loaded by the supervisor before fork(), so every worker
 * of a generation reads the same pages (copy-on-write, never written); only
 * the scratch is the worker's own. The worker is the Guide's ppworker: a
 * DEALER that says hello with its pid, generation and version, then again
 * every heartbeat while idle; while it scans it is silent, which is how the
 * broker tells a hung worker from a busy one. Frames: see wire.h.
 *
 *   broker -> worker  [Q][seq][request]        -> worker -> broker [A][seq][summary][reply]
 *   broker -> worker  [X]                       -> exit 0 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "answer.h"
#include "daemon.h"

typedef struct worker {
    const fd_ctx *ctx;
    const fe_ruleset *rs;
    fe_scratch *sc;
    fd_answer answer;
    fw_limits limits;
    void *zctx, *sock;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int64_t last_sent;
    uint8_t summary[FW_SUMMARY_LEN];
} worker;

static int send_hello(worker *w)
{
    uint32_t hello[2] = {(uint32_t)getpid(), w->ctx->gen};
    char type = FW_W_HELLO;
    w->last_sent = fd_now_ns();
    if (zmq_send(w->sock, &type, 1, ZMQ_SNDMORE) < 0 ||
        zmq_send(w->sock, hello, sizeof hello, ZMQ_SNDMORE) < 0 ||
        zmq_send(w->sock, w->ctx->version, strlen(w->ctx->version), 0) < 0)
        return -1;
    return 0;
}

static void set_summary(worker *w, int decision, int error, uint32_t labels)
{
    w->summary[0] = (uint8_t)decision;
    w->summary[1] = (uint8_t)error;
    memcpy(w->summary + 2, &labels, 4);
}

static void log_text(const fw_request *q, const fe_result *res)
{
    char id[160], text[160];
    fd_log(FD_DEBUG, "text", "id=%s decision=%s label=%s text=%s",
           fd_log_id(q->id, q->idlen, id, sizeof id), fe_action_name(res->decision),
           res->label >= 0 ? fe_label_name(res->label) : "-",
           fd_log_quote(q->text, q->textlen, text, sizeof text));
}

/* Answer one request body into w->sb and w->summary. */
static void handle(worker *w, const void *body, size_t len)
{
    char err[256];
    fw_request q;
    fe_result res;
    fw_reply plain;

    msgpack_sbuffer_clear(&w->sb);
    int code = fw_request_decode(body, len, &w->limits, &q, err, sizeof err);
    if (code == FW_E_OK && q.op != FW_OP_CHECK) {
        code = FW_E_INTERNAL;
        snprintf(err, sizeof err, "a worker only checks");
    }
    if (code == FW_E_OK && w->ctx->echo) {
        fw_fallback(&plain, FW_ALLOW, w->ctx->version, FW_DEG_NONE);
        fw_enc_decision(&w->pk, q.id, q.idlen, &plain);
        set_summary(w, FE_ALLOW, 0, 0);
        return;
    }
    if (code == FW_E_OK) {
        int rc = fe_scan(w->rs, w->sc, q.text, q.textlen, q.scene, &res, err, sizeof err);
        code = rc == FE_OK ? FW_E_OK : rc == FE_ETOOLARGE ? FW_E_TOO_LARGE : FW_E_INTERNAL;
    }
    if (code != FW_E_OK) {
        if (code == FW_E_INTERNAL)
            fd_log(FD_ERROR, "scan_failed", "message=\"%s\"", err);
        fw_enc_error(&w->pk, q.id, q.idlen, code, err);
        set_summary(w, 0, 1, 0);
        return;
    }
    fw_enc_decision(&w->pk, q.id, q.idlen, fd_answer_make(&w->answer, w->rs, w->sc, &res, q.explain));
    set_summary(w, res.decision, 0, res.labels);
    if (fd_log_text_enabled())
        log_text(&q, &res);
}

static int send_answer(worker *w, const void *seq)
{
    char type = FW_W_ANSWER;
    w->last_sent = fd_now_ns();
    if (zmq_send(w->sock, &type, 1, ZMQ_SNDMORE) < 0 ||
        zmq_send(w->sock, seq, 8, ZMQ_SNDMORE) < 0 ||
        zmq_send(w->sock, w->summary, FW_SUMMARY_LEN, ZMQ_SNDMORE) < 0 ||
        zmq_send(w->sock, w->sb.data, w->sb.size, 0) < 0)
        return -1;
    return 0;
}

/* Read one message from the broker: 1 to go on, 0 when retired, -1 on error. */
static int serve_one(worker *w)
{
    zmq_msg_t f[3];
    int n = 0, more = 1, rc = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, w->sock, 0) < 0) {
            zmq_msg_close(&m);
            rc = errno == EINTR ? 1 : -1;
            goto out;
        }
        more = zmq_msg_more(&m);
        if (n < 3)
            f[n++] = m;
        else
            zmq_msg_close(&m);
    }
    if (n >= 1 && zmq_msg_size(&f[0]) == 1) {
        char type = *(char *)zmq_msg_data(&f[0]);
        if (type == FW_B_RETIRE)
            rc = 0;
        else if (type == FW_B_REQUEST && n == 3 && zmq_msg_size(&f[1]) == 8) {
            handle(w, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
            if (send_answer(w, zmq_msg_data(&f[1])) < 0)
                rc = -1;
        }
    }
out:
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
    return rc;
}

static int worker_open(worker *w, char *err, size_t errlen)
{
    int zero = 0;
    fd_answer_limits(&w->limits, w->ctx->cfg.engine.max_text_bytes);
    if (!w->ctx->echo && !(w->sc = fe_scratch_new(w->rs, err, errlen)))
        return -1;
    if (fd_answer_init(&w->answer) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!(w->zctx = zmq_ctx_new()) || !(w->sock = zmq_socket(w->zctx, ZMQ_DEALER))) {
        snprintf(err, errlen, "zmq: %s", zmq_strerror(errno));
        return -1;
    }
    zmq_setsockopt(w->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(w->sock, w->ctx->backend) < 0) {
        snprintf(err, errlen, "connect %.200s: %s", w->ctx->backend, zmq_strerror(errno));
        return -1;
    }
    msgpack_sbuffer_init(&w->sb);
    msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
    return send_hello(w);
}

int fd_worker_main(const fd_proc_arg *a)
{
    const fd_ctx *ctx = a->ctx;
    char err[256];
    worker w = {ctx, a->rs};
    int rc = 1;

    if (worker_open(&w, err, sizeof err) < 0) {
        fd_log(FD_ERROR, "worker_failed", "message=\"%s\"", err);
        goto out;
    }
    for (;;) {
        int64_t hb = (int64_t)ctx->cfg.heartbeat_ms * FD_MS;
        int64_t wait = w.last_sent + hb - fd_now_ns();
        zmq_pollitem_t it = {w.sock, 0, ZMQ_POLLIN, 0};
        if (wait > 0 && zmq_poll(&it, 1, (long)(wait / FD_MS) + 1) < 0 && errno != EINTR)
            break;
        while (it.revents & ZMQ_POLLIN) {
            int r = serve_one(&w);
            if (r <= 0) {
                rc = r < 0;
                goto out;
            }
            int ev = 0;
            size_t evlen = sizeof ev;
            zmq_getsockopt(w.sock, ZMQ_EVENTS, &ev, &evlen);
            it.revents = (short)(ev & ZMQ_POLLIN);
        }
        if (fd_now_ns() - w.last_sent >= hb && send_hello(&w) < 0)
            break;
    }
out:
    if (w.sb.data)
        msgpack_sbuffer_destroy(&w.sb);
    if (w.sock)
        zmq_close(w.sock);
    if (w.zctx)
        zmq_ctx_term(w.zctx);
    fe_scratch_free(w.sc);
    fd_answer_free(&w.answer);
    return rc;
}
