/* dispatch.c -- texts to workers under their credit, and their answers back to requests.
 *
 * Credit-based flow control (the ZeroMQ Guide, chapter 7): a worker may
 * hold up to worker-window texts. Each round the queue is poured into the
 * workers that have credit, the least loaded first (one text to each worker
 * at the lowest level, then the next level), so that texts spread evenly
 * and no worker idles while texts wait. A worker that holds texts and has
 * been silent for FD_WORKER_LATE_NS (descheduled by the machine, stopped)
 * gets more only when no other worker takes them: a check then waits in a
 * worker that runs instead of behind a stalled one's queue (round 8).
 * Everything a round gives a worker
 * goes out in one write (its link's buffer), and a worker answers what it
 * read in one write too: one wake-up carries as much work as is ready.
 *
 * An answer finds its task by seq; a task whose request was already
 * answered (its deadline passed) only returns the worker's credit. When a
 * worker is lost, every text it held is retried once at the front of the
 * queue while its deadline allows, or gets the fallback (worker_lost). */
#include <string.h>

#include "broker.h"

static uint64_t seq_of(const fd_broker *b, int t)
{
    return (uint64_t)b->task[t].gen << 32 | (uint32_t)t;
}

/* Give the task at the head of the queue to worker i. -1 when out of memory. */
static int give(fd_broker *b, int i)
{
    int t = b->qhead;
    fd_task *k = &b->task[t];
    fd_worker *w = &b->w[i];
    fd_task_msg m = {seq_of(b, t), k->scene, k->flags, k->id, k->idlen, k->text, k->textlen};
    if (fd_link_put_task(&w->link, &m) < 0)
        return -1;
    fd_unqueue(b, t);
    k->worker = i;
    k->tries++;
    if (!w->held++)
        w->last_seen = fd_now_ns();   /* idle until now: the hung clock starts here */
    b->held++;
    return 0;
}

/* Worker w may take a text now: it serves, has credit, and unless
 * answering is 0, it answers: it holds nothing, or was heard from (an answer,
 * a heartbeat) or given its first text less than FD_WORKER_LATE_NS ago. */
static int takes(const fd_broker *b, const fd_worker *w, int window, int64_t answering)
{
    return fd_worker_eligible(b, w) && w->held < window &&
           (!answering || !w->held || w->last_seen >= answering);
}

/* The lowest number of texts held by a worker that takes one, or -1. */
static int lowest(const fd_broker *b, int window, int64_t answering)
{
    int low = -1;
    for (int i = 0; i < b->nw; i++)
        if (takes(b, &b->w[i], window, answering) && (low < 0 || b->w[i].held < low))
            low = b->w[i].held;
    return low;
}

/* Pour the queue into the workers that take a text, the least loaded first. */
static int pour(fd_broker *b, int window, int64_t answering)
{
    int low;
    while (b->qhead >= 0 && (low = lowest(b, window, answering)) >= 0)
        for (int i = 0; i < b->nw && b->qhead >= 0; i++)
            if (b->w[i].held == low && takes(b, &b->w[i], window, answering) && give(b, i) < 0)
                return -1;
    return 0;
}

/* First into the workers that answer, then, while texts are left, into
 * every worker with credit: a text never waits behind a worker that has
 * gone silent (descheduled, stopped) while another would take it at once. */
void fd_dispatch(fd_broker *b)
{
    int window = b->ctx->cfg.worker_window;
    if (b->qhead >= 0 && pour(b, window, fd_now_ns() - FD_WORKER_LATE_NS) == 0)
        pour(b, window, 0);
    for (int i = 0; i < b->nw; i++)
        if (b->w[i].state != FD_WS_FREE && fd_link_pending(&b->w[i].link) &&
            fd_link_flush(&b->w[i].link) < 0)
            fd_workers_lost(b, i, "unreachable");
}

void fd_dispatch_answer(fd_broker *b, int i, const fd_answer_msg *a)
{
    fd_worker *w = &b->w[i];
    uint32_t t = (uint32_t)a->seq;
    if (t >= (uint32_t)b->ntask || !b->task[t].live || b->task[t].gen != (uint32_t)(a->seq >> 32) ||
        b->task[t].worker != i)
        return;                   /* not a text this worker holds */
    fd_task *k = &b->task[t];
    k->worker = -1;
    w->held--;
    b->held--;
    w->served++;
    if (k->slot < 0)
        fd_task_free(b, (int)t);  /* its request was answered by the fallback */
    else
        fd_reply_answer(b, k->slot, k->item, a, w->pid);
    if (w->retiring && !w->held)
        fd_worker_retire(w);
}

void fd_dispatch_requeue(fd_broker *b, int i)
{
    int64_t now = fd_now_ns();
    for (int t = 0; t < b->ntask && b->w[i].held > 0; t++) {
        fd_task *k = &b->task[t];
        if (!k->live || k->worker != i)
            continue;
        k->worker = -1;
        b->w[i].held--;
        b->held--;
        if (k->slot < 0)
            fd_task_free(b, t);
        else if (k->tries < 2 && b->slot[k->slot]->deadline > now && !b->stopping)
            fd_enqueue(b, t, 1);
        else
            fd_reply_fallback(b, k->slot, k->item, FW_DEG_DEADLINE, "worker_lost");
    }
}
