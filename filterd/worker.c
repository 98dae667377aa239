/* worker.c -- a worker process: texts from the broker in batches, scanned on the shared rule set.
 *
 * The rule set was loaded by the supervisor before fork(), so every worker
 * of a generation reads the same pages (copy-on-write, never written); only
 * the scratch is the worker's own. The worker connects to the broker's
 * unix socket (link.h), says hello with its pid, generation and version,
 * then again every heartbeat while idle. The broker keeps up to
 * worker-window texts in it (credit-based flow control), so the next text
 * is already here when one is done: each wake-up reads every frame that
 * arrived, answers them in order and writes the answers back together
 * (when the input runs dry, and in between every FD_WORKER_BATCH answers
 * when a single check is among them, every half window of bulk items). While it
 * scans it is silent, which is how the broker tells a hung worker from a
 * busy one. No ZeroMQ here: one socket, one thread, blocking writes.
 *
 *   broker -> worker  Q tasks          -> worker -> broker  A answers (replies encoded here)
 *   broker -> worker  X                -> exit 0 (after the tasks before it)
 * When the broker goes away (it is restarted), the worker connects again. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "daemon.h"
#include "link.h"

#ifndef FD_WORKER_BATCH
#define FD_WORKER_BATCH 8         /* answers written together at most when one is a single check */
#endif
#define FD_RECONNECT_MS 50        /* msecs: between tries to reach the broker */

typedef struct worker {
    const fd_ctx *ctx;
    const fe_ruleset *rs;
    fe_scratch *sc;
    fd_answer answer;
    fd_link link;
    msgpack_packer pk;            /* writes into the frame being built */
    int batch, batch_single;      /* answers written together at most: items, with a single check */
    int64_t last_sent;
    int retire;
} worker;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connect to the broker and say hello. 0, or -1 (try again later). */
static int link_up(worker *w)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%.100s", w->ctx->backend);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    /* Reads wait at most a heartbeat: an idle worker then says hello. */
    struct timeval hb = {w->ctx->cfg.heartbeat_ms / 1000, (w->ctx->cfg.heartbeat_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &hb, sizeof hb);
    fd_link_init(&w->link, fd);
    msgpack_packer_init(&w->pk, &w->link, fd_link_write);
    w->last_sent = fd_now_ns();
    if (fd_link_put_hello(&w->link, (uint32_t)getpid(), w->ctx->gen, w->ctx->run_id,
                          w->ctx->version) < 0 ||
        fd_link_flush(&w->link) != 0) {
        fd_link_close(&w->link);
        return -1;
    }
    return 0;
}

static void log_text(const fd_task_msg *t, const fe_result *res)
{
    char id[160], text[160];
    fd_log(FD_DEBUG, "text", "id=%s decision=%s label=%s text=%s",
           fd_log_id(t->id, t->idlen, id, sizeof id), fe_action_name(res->decision),
           res->label >= 0 ? fe_label_name(res->label) : "-",
           fd_log_quote(t->text, t->textlen, text, sizeof text));
}

/* The A frame's head: the task's seq and the summary the broker counts. */
static void answer_begin(worker *w, uint64_t seq, int decision, int error, uint32_t labels)
{
    uint8_t head[FD_ANSWER_HEAD];
    memcpy(head, &seq, 8);
    head[8] = (uint8_t)decision;
    head[9] = (uint8_t)error;
    memcpy(head + 10, &labels, 4);
    fd_link_begin(&w->link, FD_LINK_ANSWER);
    fd_link_add(&w->link, head, sizeof head);
}

static void answer_decision(worker *w, const fd_task_msg *t, int decision, uint32_t labels,
                            const fw_reply *r)
{
    answer_begin(w, t->seq, decision, 0, labels);
    if (t->flags & FD_TASK_ITEM)
        fw_enc_item(&w->pk, t->id, t->idlen, r);
    else
        fw_enc_decision(&w->pk, t->id, t->idlen, r);
    fd_link_end(&w->link);
}

/* Answer one text into the link's out buffer. */
static void handle(worker *w, const fd_task_msg *t)
{
    char err[256];
    fe_result res;
    fw_reply plain;

    if (w->ctx->echo) {
        fw_fallback(&plain, FW_ALLOW, w->ctx->version, FW_DEG_NONE);
        answer_decision(w, t, FE_ALLOW, 0, &plain);
        return;
    }
    int rc = fe_scan(w->rs, w->sc, t->text, t->textlen, t->scene, &res, err, sizeof err);
    if (rc != FE_OK) {
        int code = rc == FE_ETOOLARGE ? FW_E_TOO_LARGE : FW_E_INTERNAL;
        if (code == FW_E_INTERNAL)
            fd_log(FD_ERROR, "scan_failed", "message=\"%s\"", err);
        answer_begin(w, t->seq, 0, 1, 0);
        if (t->flags & FD_TASK_ITEM)
            fw_enc_item_error(&w->pk, t->id, t->idlen, code, err);
        else
            fw_enc_error(&w->pk, t->id, t->idlen, code, err);
        fd_link_end(&w->link);
        return;
    }
    answer_decision(w, t, res.decision, res.labels,
                    fd_answer_make(&w->answer, w->rs, w->sc, &res, t->text, t->textlen,
                                   t->flags & FD_TASK_EXPLAIN));
    if (fd_log_text_enabled())
        log_text(t, &res);
}

/* Answer every complete frame that came, and write the answers when the
 * input runs dry, after FD_WORKER_BATCH answers when a single check is among
 * them (its client waits for it alone), and after half the window of bulk
 * items (their request waits for its last item anyway: the broker, woken
 * once per half window instead of every 8, refills the other half while
 * this one is scanned). 0, or -1 when the link broke. */
static int serve(worker *w)
{
    fd_frame f;
    fd_task_msg t;
    int rc, n = 0, held = 0, single = 0;
    while ((rc = fd_link_next(&w->link, &f)) == 1) {
        if (f.type == FD_LINK_RETIRE)
            w->retire = 1;
        else if (fd_link_get_task(&f, &t) == 0) {
            handle(w, &t);
            n++, held++;
            single |= !(t.flags & FD_TASK_ITEM);
            if (held >= (single ? w->batch_single : w->batch)) {
                if (fd_link_flush(&w->link) != 0)
                    return -1;
                held = single = 0;
            }
        }
    }
    if (rc < 0 || fd_link_flush(&w->link) != 0)
        return -1;
    if (n)
        w->last_sent = fd_now_ns();
    return 0;
}

static int worker_open(worker *w, char *err, size_t errlen)
{
    if (!w->ctx->echo && !(w->sc = fe_scratch_new(w->rs, err, errlen)))
        return -1;
    if (fd_answer_init(&w->answer) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fd_link_init(&w->link, -1);
    w->batch = w->ctx->cfg.worker_window > 1 ? w->ctx->cfg.worker_window / 2 : 1;
    w->batch_single = w->batch < FD_WORKER_BATCH ? w->batch : FD_WORKER_BATCH;
    return 0;
}

/* One round: wait for frames (a blocking read, at most a heartbeat), answer
 * them. 1 to go on, 0 when retired. */
static int worker_round(worker *w)
{
    int64_t hb = (int64_t)w->ctx->cfg.heartbeat_ms * FD_MS;
    if (w->link.fd < 0) {
        if (link_up(w) < 0)
            sleep_ms(FD_RECONNECT_MS);
        return 1;
    }
    int got = fd_link_fill(&w->link);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        got = 2;                      /* a heartbeat passed in silence */
    if (got <= 0 || (got == 1 && serve(w) < 0)) {
        if (got < 0)
            fd_log(FD_WARN, "link_lost", "message=\"%s\"", strerror(errno));
        fd_link_close(&w->link);       /* the broker is gone: connect again */
        return 1;
    }
    if (w->retire)
        return 0;
    if (fd_now_ns() - w->last_sent >= hb) {
        w->last_sent = fd_now_ns();
        if (fd_link_put_hello(&w->link, (uint32_t)getpid(), w->ctx->gen, w->ctx->run_id,
                          w->ctx->version) < 0 ||
            fd_link_flush(&w->link) != 0)
            fd_link_close(&w->link);
    }
    return 1;
}

int fd_worker_main(const fd_proc_arg *a)
{
    char err[256];
    worker w = {a->ctx, a->rs};
    int rc = 1;

    if (worker_open(&w, err, sizeof err) < 0)
        fd_log(FD_ERROR, "worker_failed", "message=\"%s\"", err);
    else {
        while (worker_round(&w))
            ;
        rc = !w.retire;
    }
    fd_link_close(&w.link);
    fe_scratch_free(w.sc);
    fd_answer_free(&w.answer);
    return rc;
}
