/* front.c -- the broker's request endpoint: what happens to a client's message.
 *
 *   [env...][""][body] -> envelope -> decode -> admission -> slot, tasks, queue
 *                         (bad: error reply)    (ping: pong; budget 0, stopping:
 *                                                deadline fallback; queue full:
 *                                                overload fallback)
 *
 * The envelope and the body are checked here, so bad requests are answered
 * without costing a worker. An admitted request gets a slot and a deadline
 * in the heap, and each of its texts a task in the queue (a bulk check's
 * bad items get their own error at once); dispatch.c takes them from there.
 * The queue holds at most queue-max texts: a request whose texts do not all
 * fit is shed whole. */
#include <stdio.h>
#include <string.h>

#include "broker.h"

/* The frames of f (nf of them) to connection id, counted and logged when dropped. */
static void send_frames(fd_broker *b, fd_zid id, const fw_zmtp_part *f, int nf)
{
    int rc = fd_zconn_send(b, id, f, nf);
    if (rc == FD_ZC_SENT)
        return;
    const char *why = rc == FD_ZC_FULL ? "reply queue full (reply-queue-bytes or reply-queue-max)" : "the client is gone";
    if (rc == FD_ZC_FULL)
        b->st->reply_queue_full++;
    b->st->dropped++;
    fd_log_limited(FD_LK_REPLY_DROPPED, "reply_dropped", "reason=\"%s\" dropped=%llu",
                   why, (unsigned long long)b->st->dropped);
}

void fd_front_reply(fd_broker *b, fd_zid id, const fw_zmtp_part *env, int nenv, const void *data,
                    size_t len)
{
    fw_zmtp_part f[FD_MAX_ENV + 2];
    for (int i = 0; i < nenv; i++)
        f[i] = env[i];
    f[nenv] = (fw_zmtp_part){(const uint8_t *)"", 0};
    f[nenv + 1] = (fw_zmtp_part){data, len};
    send_frames(b, id, f, nenv + 2);
}

/* Send what fd_packer() holds to env. */
static void reply_packed(fd_broker *b, fd_zid conn, const fw_zmtp_part *env, int nenv)
{
    fd_front_reply(b, conn, env, nenv, b->sb.data, b->sb.size);
}

static void error_reply(fd_broker *b, fd_zid conn, const fw_zmtp_part *env, int nenv,
                        const fw_request *q, int code, const char *msg)
{
    char id[160], quoted[320];
    fw_enc_error(fd_packer(b), q ? q->id : NULL, q ? q->idlen : 0, code, msg);
    reply_packed(b, conn, env, nenv);
    fd_stats_error(b->st, code);
    fd_log_limited(FD_LK_BAD_REQUEST, "bad_request", "id=%s code=%s message=%s",
                   q ? fd_log_id(q->id, q->idlen, id, sizeof id) : "-", fw_err_name(code),
                   fd_log_msg(msg, quoted, sizeof quoted));
}

/* Split a client message into envelope frames and body. -1: drop it. */
static int envelope(const fw_zmtp_part *f, int n, int *nenv, int *body, const char **why)
{
    int k;
    *why = NULL;
    for (k = 0; k < n && f[k].len; k++)
        ;
    if (k >= n) {               /* no delimiter: answer a bare DEALER, else drop */
        *nenv = 0;
        *body = -1;
        *why = "missing empty delimiter frame before the request";
        return n == 1 ? 0 : -1;
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

/* A DEALER that sent [body] without a delimiter gets [error] the same way,
 * with the body's id when it can be read (the body is decoded only for it). */
static void bare_error(fd_broker *b, fd_zid conn, const fw_zmtp_part *f, const char *why)
{
    char err[256];
    fw_request q;
    fw_request_decode(f[0].p, f[0].len, &b->limits, &q, err, sizeof err);
    fw_enc_error(fd_packer(b), q.id, q.idlen, FW_E_BAD_REQUEST, why);
    send_frames(b, conn, &(fw_zmtp_part){(const uint8_t *)b->sb.data, b->sb.size}, 1);
    fd_stats_error(b->st, FW_E_BAD_REQUEST);
}

/* The request decoded and allowed on this endpoint: FW_E_OK, or a code and err. */
static int decode(fd_broker *b, const fw_zmtp_part *body, fw_request *q, char *err, size_t errlen)
{
    int code = fw_request_decode(body->p, body->len, &b->limits, q, err, errlen);
    if (code == FW_E_OK && fw_op_admin(q->op)) {
        code = FW_E_FORBIDDEN;
        snprintf(err, errlen, "%s is an admin operation: use the admin endpoint",
                 fw_op_name(q->op));
    }
    return code;
}

/* The request's deadline, and its frames' buffer taken by slot s (the
 * pointers into it, q's and env's, stay good: the bytes do not move). */
static void admit(fd_broker *b, int s, fd_zid conn, fw_zmtp *z, const fw_zmtp_part *env, int nenv,
                  const fw_request *q)
{
    fd_slot *r = b->slot[s];
    const fd_config *cfg = &b->ctx->cfg;
    int64_t budget = q->budget_ms < 0 ? cfg->budget_ms : q->budget_ms;
    if (budget > cfg->max_budget_ms)
        budget = cfg->max_budget_ms;
    r->arrival = fd_now_ns();
    r->deadline = r->arrival + budget * FD_MS;
    if (q->idlen)                 /* a request without an id has q->id NULL */
        memcpy(r->id, q->id, q->idlen);
    r->idlen = q->idlen;
    for (int i = 0; i < nenv; i++)
        r->env[i] = env[i];
    r->nenv = nenv;
    r->conn = conn;
    r->msg = fw_zmtp_take(z, r->msg, r->msgcap, &r->msgcap);
}

/* A task for text item of s. -1: out of memory. */
static int task(fd_broker *b, int s, uint32_t item, int scene, int flags, const char *id,
                size_t idlen, const char *text, size_t textlen)
{
    int t = fd_task_new(b, s, item);
    if (t < 0)
        return -1;
    fd_task *k = &b->task[t];
    if (scene >= 0 && scene < FE_NSCENES)
        b->st->scenes[scene]++;
    k->scene = scene;
    k->flags = flags;
    k->id = id;
    k->idlen = idlen;
    k->text = text;
    k->textlen = textlen;
    return 0;
}

/* The texts of s as tasks (a bulk's refused items answered at once). The
 * number of tasks, or -1 when out of memory. The body lives in the slot now,
 * so q's pointers into it stay good. */
static int tasks(fd_broker *b, int s, const fw_request *q)
{
    char err[256];
    fw_items it;
    fw_item item;
    int flags = q->explain ? FD_TASK_EXPLAIN : 0, n = 0, code;

    if (!q->bulk)
        return task(b, s, 0, q->scene, flags, q->id, q->idlen, q->text, q->textlen) < 0 ? -1 : 1;
    b->slot[s]->bulk = 1;
    fw_items_begin(&it, q);
    for (uint32_t i = 0; (code = fw_items_next(&it, &b->limits, q, &item, err, sizeof err)) >= 0;
         i++) {
        if (code != FW_E_OK)
            fd_reply_item_error(b, s, i, &item, code, err);
        else if (task(b, s, i, item.scene, flags | FD_TASK_ITEM, item.id, item.idlen, item.text,
                      item.textlen) < 0)
            return -1;
        else
            n++;
    }
    return n;
}

int fd_front_request(fd_broker *b, fd_zid conn, fw_zmtp *z)
{
    int nenv, body, n = z->nframes;
    const char *why;
    char err[256];
    fw_request q;
    fw_zmtp_part f[FW_ZMTP_FRAMES];

    for (int i = 0; i < n; i++)
        f[i] = fw_zmtp_part_at(z, i);
    b->st->requests++;
    if (envelope(f, n, &nenv, &body, &why) < 0)
        return 0;
    if (body < 0) {
        bare_error(b, conn, f, why);
        return 1;
    }
    if (z->truncated == FW_ZMTP_TRUNC_BYTES) {
        snprintf(err, sizeof err, "message over %zu bytes in all its frames", b->max_message);
        b->st->too_large++;
        error_reply(b, conn, f, nenv, NULL, FW_E_TOO_LARGE, err);
        return 1;
    }
    if (why || z->truncated) {
        error_reply(b, conn, f, nenv, NULL, FW_E_BAD_REQUEST,
                    why ? why : "extra frames after the request");
        return 1;
    }
    int code = decode(b, &f[body], &q, err, sizeof err);
    if (code != FW_E_OK) {
        error_reply(b, conn, f, nenv, &q, code, err);
        return 1;
    }
    if (q.op == FW_OP_PING) {
        fw_enc_pong(fd_packer(b), q.id, q.idlen, b->version);
        reply_packed(b, conn, f, nenv);
        return 1;
    }
    int s = fd_slot_new(b, q.bulk ? q.nitems : 1);
    if (s < 0) {
        error_reply(b, conn, f, nenv, &q, FW_E_INTERNAL, "out of memory");
        return 1;
    }
    admit(b, s, conn, z, f, nenv, &q);
    fd_slot *r = b->slot[s];
    b->st->bulk += q.bulk;
    int k = tasks(b, s, &q);
    if (k < 0) {
        error_reply(b, r->conn, r->env, r->nenv, NULL, FW_E_INTERNAL, "out of memory");
        fd_slot_free(b, s);
    } else if (r->deadline == r->arrival || b->stopping)
        fd_reply_all_fallback(b, s, FW_DEG_DEADLINE);
    else if (b->nqueued + k > b->ctx->cfg.queue_max)
        fd_reply_all_fallback(b, s, FW_DEG_OVERLOAD);
    else {
        fd_deadline_add(b, s);
        for (uint32_t i = 0; i < r->nitems; i++)
            if (r->task[i] >= 0)
                fd_enqueue(b, r->task[i], 0);
        if (!r->nleft)             /* a bulk of refused items only, or none */
            fd_reply_finish(b, s);
    }
    return 1;
}
