/* replies.c -- a request's answers and fallbacks, and the one reply its client gets.
 *
 * A single check's text is answered by the worker's reply as it is (the
 * broker patches elapsed_us in place and forwards it). A bulk check's texts
 * come back in any order: each item result is copied into the slot's
 * buffer, and when the last one is in, the reply is written in item order:
 *
 *   {v, id?, results: [item 0, item 1, ...], elapsed_us}
 *
 * Fallbacks take the place of answers that cannot come in time: the
 * deadline passed, the queue was full, or a worker died holding the text
 * and a retry is out of time. Every text is counted (decisions, labels,
 * degraded); the latency histogram gets one value per reply. */
#include <stdio.h>
#include <string.h>

#include "broker.h"

static void count(fd_broker *b, fd_slot *r, int action, uint32_t labels)
{
    b->st->decisions[action & 3]++;
    r->counts[action & 3]++;
    for (int l = 0; l < FE_NLABELS; l++)
        if (labels & (1u << l))
            b->st->labels[l]++;
}

static void log_request(const fd_broker *b, const fd_slot *r, uint64_t us)
{
    char id[160];
    if (!b->ctx->cfg.log_requests)
        return;
    if (r->bulk)
        fd_log(FD_INFO, "request", "id=%s items=%u block=%u flag=%u allow=%u elapsed_us=%llu "
               "worker=%ld", fd_log_id(r->id, r->idlen, id, sizeof id), r->nitems,
               r->counts[FE_BLOCK], r->counts[FE_FLAG], r->counts[FE_ALLOW],
               (unsigned long long)us, (long)r->worker);
    else
        fd_log(FD_INFO, "request", "id=%s decision=%s elapsed_us=%llu worker=%ld",
               fd_log_id(r->id, r->idlen, id, sizeof id),
               r->counts[FE_BLOCK] ? "block" : r->counts[FE_FLAG] ? "flag"
               : r->counts[FE_ALLOW] ? "allow" : "error", (unsigned long long)us, (long)r->worker);
}

static uint64_t elapsed(const fd_slot *r)
{
    return (uint64_t)(fd_now_ns() - r->arrival) / 1000;
}

/* Keep item's result (len bytes) in the slot until the reply is written. */
static void keep(fd_slot *r, uint32_t item, const void *p, size_t len)
{
    r->roff[item] = (uint32_t)r->res.size;
    r->rlen[item] = (uint32_t)len;
    if (msgpack_sbuffer_write(&r->res, p, len) < 0)
        r->rlen[item] = 0;        /* out of memory: an empty slot, the reply says internal */
}

/* Item is answered (single: its reply went out). */
static void done(fd_broker *b, int s, uint32_t item)
{
    fd_slot *r = b->slot[s];
    if (r->task[item] >= 0) {
        fd_task_release(b, r->task[item]);
        r->task[item] = -1;
    }
    r->nleft--;
    if (!r->nleft)
        fd_reply_finish(b, s);
}

void fd_reply_finish(fd_broker *b, int s)
{
    fd_slot *r = b->slot[s];
    if (r->bulk) {
        uint64_t us = elapsed(r);
        msgpack_packer *pk = fd_packer(b);
        fw_enc_bulk_begin(pk, r->id, r->idlen, r->nitems);
        for (uint32_t i = 0; i < r->nitems; i++)
            if (r->rlen[i])
                pk->callback(pk->data, r->res.data + r->roff[i], r->rlen[i]);
            else
                fw_enc_item_error(pk, NULL, 0, FW_E_INTERNAL, "out of memory");
        fw_enc_bulk_end(pk, us);
        fd_front_reply(b, r->conn, r->env, r->nenv, b->sb.data, b->sb.size);
        fd_hist_add(&b->st->latency, us);
        log_request(b, r, us);
    }
    fd_slot_free(b, s);
}

void fd_reply_answer(fd_broker *b, int s, uint32_t item, const fd_answer_msg *a, pid_t pid)
{
    fd_slot *r = b->slot[s];
    r->worker = pid;
    if (a->error)
        fd_stats_error(b->st, FW_E_INTERNAL);
    else
        count(b, r, a->decision, a->labels);
    if (r->bulk)
        keep(r, item, a->reply, a->len);
    else {
        uint64_t us = elapsed(r);
        if (!a->error) {
            fw_patch_elapsed((void *)a->reply, a->len, us);
            fd_hist_add(&b->st->latency, us);
        }
        fd_front_reply(b, r->conn, r->env, r->nenv, a->reply, a->len);
        log_request(b, r, us);
    }
    done(b, s, item);
}

void fd_reply_fallback(fd_broker *b, int s, uint32_t item, int why, const char *warning)
{
    fd_slot *r = b->slot[s];
    uint64_t us = elapsed(r);
    int action = b->ctx->cfg.on_deadline;
    const char *warned[1] = {warning};
    char id[160];
    fw_reply plain;

    fw_fallback(&plain, action, b->version, why);
    if (warning) {
        plain.warnings = warned;
        plain.nwarnings = 1;
    }
    plain.elapsed_us = us;
    count(b, r, action, 0);
    b->st->degraded[why]++;
    fd_log_limited(why == FW_DEG_OVERLOAD ? FD_LK_OVERLOAD : FD_LK_DEADLINE,
                   fw_degraded_name(why), "id=%s item=%u decision=%s elapsed_us=%llu queue=%d%s%s",
                   fd_log_id(r->id, r->idlen, id, sizeof id), item,
                   fe_action_name((fe_action)action), (unsigned long long)us, b->nqueued,
                   warning ? " warning=" : "", warning ? warning : "");
    if (r->bulk) {
        int t = r->task[item];
        fw_enc_item(fd_packer(b), t >= 0 ? b->task[t].id : NULL, t >= 0 ? b->task[t].idlen : 0,
                    &plain);
        keep(r, item, b->sb.data, b->sb.size);
    } else {
        fw_enc_decision(fd_packer(b), r->id, r->idlen, &plain);
        fd_front_reply(b, r->conn, r->env, r->nenv, b->sb.data, b->sb.size);
        fd_hist_add(&b->st->latency, us);
        log_request(b, r, us);
    }
    done(b, s, item);
}

void fd_reply_item_error(fd_broker *b, int s, uint32_t item, const fw_item *it, int code,
                         const char *msg)
{
    fd_slot *r = b->slot[s];
    fd_stats_error(b->st, code);
    fw_enc_item_error(fd_packer(b), it->id, it->idlen, code, msg);
    keep(r, item, b->sb.data, b->sb.size);
    r->nleft--;                   /* no task: finished by the caller when nothing is left */
}

void fd_reply_all_fallback(fd_broker *b, int s, int why)
{
    fd_slot *r = b->slot[s];
    uint32_t n = r->nitems;
    for (uint32_t i = 0; i < n && b->slot[s]->live && r->nleft; i++)
        if (r->task[i] >= 0)
            fd_reply_fallback(b, s, i, why, NULL);
    if (r->live && !r->nleft)     /* nothing was out (a bulk of refused items) */
        fd_reply_finish(b, s);
}

void fd_reply_expire(fd_broker *b)
{
    int64_t now = fd_now_ns();
    int s;
    while ((s = fd_deadline_first(b)) >= 0 && b->slot[s]->deadline <= now)
        fd_reply_all_fallback(b, s, FW_DEG_DEADLINE);
}
