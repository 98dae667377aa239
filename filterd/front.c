/* front.c -- the broker's request endpoint: what happens to a client's message.
 *
 *   [id...][""][body]  -> envelope -> decode -> admission -> slot, queue
 *                         (bad: error reply)    (ping: pong; budget 0, stopping:
 *                                                deadline fallback; queue full:
 *                                                overload fallback)
 *
 * The envelope and the body are checked here, so bad requests are answered
 * without costing a worker. An admitted request gets a slot, a deadline in
 * the heap and a place in the queue; workers.c takes it from there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"

void fd_front_reply(fd_broker *b, zmq_msg_t *env, int nenv, const void *data, size_t len)
{
    if (fd_route(b->front, env, nenv, data, len) == 0)
        return;
    b->st.dropped++;
    fd_log_limited(FD_LK_REPLY_DROPPED, "reply_dropped", "reason=\"%s\" dropped=%llu",
                   zmq_strerror(errno), (unsigned long long)b->st.dropped);
}

/* Send what fd_packer() holds to env. */
static void reply_packed(fd_broker *b, zmq_msg_t *env, int nenv)
{
    fd_front_reply(b, env, nenv, b->sb.data, b->sb.size);
}

void fd_front_count(fd_broker *b, int action, uint32_t labels, uint64_t us)
{
    b->st.decisions[action & 3]++;
    for (int l = 0; l < FE_NLABELS; l++)
        if (labels & (1u << l))
            b->st.labels[l]++;
    fd_hist_add(&b->st.latency, us);
}

void fd_front_fallback(fd_broker *b, int s, int why, const char *warning)
{
    fd_slot *r = b->slot[s];
    char id[160];
    uint64_t us = (uint64_t)(fd_now_ns() - r->arrival) / 1000;
    int action = b->ctx->cfg.on_deadline;
    const char *warned[1] = {warning};
    fw_reply plain;

    fw_fallback(&plain, action, b->version, why);
    if (warning) {
        plain.warnings = warned;
        plain.nwarnings = 1;
    }
    plain.elapsed_us = us;
    fw_enc_decision(fd_packer(b), r->id, r->idlen, &plain);
    reply_packed(b, r->env, r->nenv);
    fd_front_count(b, action, 0, us);
    b->st.degraded[why]++;
    fd_log_limited(why == FW_DEG_OVERLOAD ? FD_LK_OVERLOAD : FD_LK_DEADLINE,
                   fw_degraded_name(why), "id=%s decision=%s elapsed_us=%llu queue=%d%s%s",
                   fd_log_id(r->id, r->idlen, id, sizeof id), fe_action_name((fe_action)action),
                   (unsigned long long)us, b->nqueued, warning ? " warning=" : "",
                   warning ? warning : "");
    fd_slot_free(b, s);
}

static void error_reply(fd_broker *b, zmq_msg_t *env, int nenv, const fw_request *q, int code,
                        const char *msg)
{
    char id[160], quoted[320];
    fw_enc_error(fd_packer(b), q ? q->id : NULL, q ? q->idlen : 0, code, msg);
    reply_packed(b, env, nenv);
    b->st.errors++;
    fd_log_limited(FD_LK_BAD_REQUEST, "bad_request", "id=%s code=%s message=%s",
                   q ? fd_log_id(q->id, q->idlen, id, sizeof id) : "-", fw_err_name(code),
                   fd_log_msg(msg, quoted, sizeof quoted));
}

/* Split a client message into routing frames and body. -1: drop it. */
static int envelope(zmq_msg_t *f, int n, int *nenv, int *body, const char **why)
{
    int k;
    *why = NULL;
    for (k = 1; k < n && zmq_msg_size(&f[k]); k++)
        ;
    if (k >= n) {               /* no delimiter: answer a bare DEALER, else drop */
        *nenv = 1;
        *body = -1;
        *why = "missing empty delimiter frame before the request";
        return n == 2 ? 0 : -1;
    }
    if (k > FD_MAX_ENV)
        return -1;
    *nenv = k;
    *body = k + 1;
    if (k + 1 >= n)
        *why = "missing request frame after the delimiter";
    else if (k + 2 < n)
        *why = "extra frames after the request";
    return 0;
}

/* A DEALER that sent [body] without a delimiter gets [error] the same way. */
static void bare_error(fd_broker *b, zmq_msg_t *ident, const char *why)
{
    fw_enc_error(fd_packer(b), NULL, 0, FW_E_BAD_REQUEST, why);
    zmq_send(b->front, zmq_msg_data(ident), zmq_msg_size(ident), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(b->front, b->sb.data, b->sb.size, ZMQ_DONTWAIT);
    b->st.errors++;
}

/* The request decoded and allowed on this endpoint: FW_E_OK, or a code and err. */
static int decode(fd_broker *b, zmq_msg_t *body, fw_request *q, char *err, size_t errlen)
{
    int code = fw_request_decode(zmq_msg_data(body), zmq_msg_size(body), &b->limits, q, err,
                                 errlen);
    if (code == FW_E_OK && fw_op_admin(q->op)) {
        code = FW_E_FORBIDDEN;
        snprintf(err, errlen, "%s is an admin operation: use the admin endpoint",
                 fw_op_name(q->op));
    }
    return code;
}

/* A slot for the request: its frames moved in, its deadline set. -1: none. */
static int admit(fd_broker *b, zmq_msg_t *f, int nenv, int body, const fw_request *q)
{
    int s = fd_slot_new(b);
    if (s < 0)
        return -1;
    fd_slot *r = b->slot[s];
    const fd_config *cfg = &b->ctx->cfg;
    int64_t budget = q->budget_ms < 0 ? cfg->budget_ms : q->budget_ms;
    if (budget > cfg->max_budget_ms)
        budget = cfg->max_budget_ms;
    r->arrival = fd_now_ns();
    r->deadline = r->arrival + budget * FD_MS;
    memcpy(r->id, q->id, q->idlen);
    r->idlen = q->idlen;
    for (int i = 0; i < nenv; i++) {
        zmq_msg_init(&r->env[i]);
        zmq_msg_move(&r->env[i], &f[i]);
    }
    r->nenv = nenv;
    zmq_msg_init(&r->body);
    zmq_msg_move(&r->body, &f[body]);
    r->has_body = 1;
    return s;
}

void fd_front_request(fd_broker *b, zmq_msg_t *f, int n, int truncated)
{
    int nenv, body;
    const char *why;
    char err[256];
    fw_request q;

    b->st.requests++;
    if (envelope(f, n, &nenv, &body, &why) < 0)
        return;
    if (body < 0) {
        bare_error(b, &f[0], why);
        return;
    }
    if (why || truncated) {
        error_reply(b, f, nenv, NULL, FW_E_BAD_REQUEST, why ? why : "extra frames after the request");
        return;
    }
    int code = decode(b, &f[body], &q, err, sizeof err);
    if (code != FW_E_OK) {
        error_reply(b, f, nenv, &q, code, err);
        return;
    }
    if (q.op == FW_OP_PING) {
        fw_enc_pong(fd_packer(b), q.id, q.idlen, b->version);
        reply_packed(b, f, nenv);
        return;
    }
    int s = admit(b, f, nenv, body, &q);
    if (s < 0)
        error_reply(b, f, nenv, &q, FW_E_INTERNAL, "out of memory");
    else if (b->slot[s]->deadline == b->slot[s]->arrival || b->stopping)
        fd_front_fallback(b, s, FW_DEG_DEADLINE, NULL);
    else if (b->nqueued >= b->ctx->cfg.queue_max)
        fd_front_fallback(b, s, FW_DEG_OVERLOAD, NULL);
    else {
        fd_deadline_add(b, s);
        fd_enqueue(b, s, 0);
        fd_workers_dispatch(b);
    }
}

void fd_front_expire(fd_broker *b)
{
    int64_t now = fd_now_ns();
    int s;
    while ((s = fd_deadline_first(b)) >= 0 && b->slot[s]->deadline <= now)
        fd_front_fallback(b, s, FW_DEG_DEADLINE, NULL);
}
