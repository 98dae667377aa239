/* slots.c -- the broker's requests and their texts: slots, tasks, the queue, the deadline heap.
 *
 * A slot holds one request from its arrival to its reply; a task holds one
 * of its texts from admission to its answer. Both live in pools that grow
 * on demand and are reused through free lists, so the request path
 * allocates nothing once the broker has seen its peak. Texts waiting for a
 * worker are a doubly linked list through the tasks (the queue; a retried
 * task goes back to its front); every live request is in a binary min-heap
 * by deadline, so the broker finds the next expiry in O(1) and removes an
 * answered request in O(log n). A task in a worker when its request is
 * answered (by the fallback) stays until the worker answers or dies: it is
 * the worker's credit. */
#include <stdlib.h>
#include <string.h>

#include "broker.h"

/* ---- the deadline heap ---------------------------------------------------- */

static int64_t dl(fd_broker *b, int i)
{
    return b->slot[b->heap[i]]->deadline;
}

static void heap_swap(fd_broker *b, int i, int j)
{
    int t = b->heap[i];
    b->heap[i] = b->heap[j];
    b->heap[j] = t;
    b->slot[b->heap[i]]->heap = i;
    b->slot[b->heap[j]]->heap = j;
}

static void heap_fix(fd_broker *b, int i)
{
    while (i > 0 && dl(b, (i - 1) / 2) > dl(b, i)) {
        heap_swap(b, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < b->nheap && dl(b, l) < dl(b, m))
            m = l;
        if (l + 1 < b->nheap && dl(b, l + 1) < dl(b, m))
            m = l + 1;
        if (m == i)
            return;
        heap_swap(b, i, m);
        i = m;
    }
}

static void heap_remove(fd_broker *b, int s)
{
    int i = b->slot[s]->heap;
    if (i < 0)
        return;
    b->nheap--;
    if (i != b->nheap) {
        heap_swap(b, i, b->nheap);
        heap_fix(b, i);
    }
    b->slot[s]->heap = -1;
}

void fd_deadline_add(fd_broker *b, int s)
{
    b->slot[s]->heap = b->nheap;
    b->heap[b->nheap++] = s;
    heap_fix(b, b->slot[s]->heap);
}

int fd_deadline_first(const fd_broker *b)
{
    return b->nheap > 0 ? b->heap[0] : -1;
}

/* ---- request slots ---------------------------------------------------------- */

static int slots_grow(fd_broker *b)
{
    int n = b->nslot ? b->nslot * 2 : 256;
    fd_slot **s = realloc(b->slot, (size_t)n * sizeof *s);
    if (s)
        b->slot = s;
    int *f = s ? realloc(b->freelist, (size_t)n * sizeof *f) : NULL;
    if (f)
        b->freelist = f;
    int *h = f ? realloc(b->heap, (size_t)n * sizeof *h) : NULL;
    if (!h)
        return -1;
    b->heap = h;
    for (int i = b->nslot; i < n; i++) {
        if (!(b->slot[i] = calloc(1, sizeof **b->slot)))
            return -1;
        msgpack_sbuffer_init(&b->slot[i]->res);
        b->nslot = i + 1;
        b->freelist[b->nfree++] = i;
    }
    return 0;
}

/* Room for n texts in r's arrays. */
static int slot_room(fd_slot *r, uint32_t n)
{
    if (n <= r->cap)
        return 0;
    int *t = realloc(r->task, n * sizeof *t);
    if (t)
        r->task = t;
    uint32_t *o = t ? realloc(r->roff, n * sizeof *o) : NULL;
    if (o)
        r->roff = o;
    uint32_t *l = o ? realloc(r->rlen, n * sizeof *l) : NULL;
    if (!l)
        return -1;
    r->rlen = l;
    r->cap = n;
    return 0;
}

int fd_slot_new(fd_broker *b, uint32_t nitems)
{
    if (!b->nfree && slots_grow(b) < 0)
        return -1;
    int s = b->freelist[b->nfree - 1];
    fd_slot *r = b->slot[s];
    if (slot_room(r, nitems ? nitems : 1) < 0)
        return -1;
    b->nfree--;
    r->live = 1;
    r->bulk = 0;
    r->nenv = 0;
    r->idlen = 0;
    r->heap = -1;
    r->nitems = r->nleft = nitems;
    r->worker = 0;
    memset(r->counts, 0, sizeof r->counts);
    for (uint32_t i = 0; i < nitems; i++)
        r->task[i] = -1;
    msgpack_sbuffer_clear(&r->res);
    return s;
}

void fd_slot_free(fd_broker *b, int s)
{
    fd_slot *r = b->slot[s];
    for (uint32_t i = 0; i < r->nitems; i++)
        if (r->task[i] >= 0) {
            fd_task_release(b, r->task[i]);
            r->task[i] = -1;
        }
    heap_remove(b, s);
    if (r->msgcap > FD_SLOT_KEEP) {     /* a big request's: not kept for every slot */
        free(r->msg);
        r->msg = NULL;
        r->msgcap = 0;
    }
    if (r->res.alloc > FD_SLOT_KEEP) {   /* a big bulk check's: not kept for every slot */
        msgpack_sbuffer_destroy(&r->res);
        msgpack_sbuffer_init(&r->res);
    }
    if (r->cap > FD_SLOT_KEEP_ITEMS) {
        free(r->task), free(r->roff), free(r->rlen);
        r->task = NULL;
        r->roff = r->rlen = NULL;
        r->cap = 0;
    }
    r->live = 0;
    r->nenv = 0;
    b->freelist[b->nfree++] = s;
}

void fd_slots_release(fd_broker *b)
{
    for (int i = 0; i < b->nslot; i++) {
        fd_slot *r = b->slot[i];
        if (r->live)
            fd_slot_free(b, i);
        msgpack_sbuffer_destroy(&r->res);
        free(r->task), free(r->roff), free(r->rlen);
        free(r->msg);
        free(r);
    }
    free(b->slot);
    free(b->freelist);
    free(b->heap);
    free(b->task);
    free(b->taskfree);
    b->slot = NULL;
    b->task = NULL;
    b->freelist = b->heap = b->taskfree = NULL;
    b->nslot = b->nfree = b->nheap = b->ntask = b->ntaskfree = 0;
}

/* ---- tasks ------------------------------------------------------------------- */

static int tasks_grow(fd_broker *b)
{
    int n = b->ntask ? b->ntask * 2 : 256;
    fd_task *t = realloc(b->task, (size_t)n * sizeof *t);
    if (!t)
        return -1;
    b->task = t;
    int *f = realloc(b->taskfree, (size_t)n * sizeof *f);
    if (!f)
        return -1;
    b->taskfree = f;
    memset(b->task + b->ntask, 0, (size_t)(n - b->ntask) * sizeof *t);
    for (int i = n - 1; i >= b->ntask; i--)
        b->taskfree[b->ntaskfree++] = i;
    b->ntask = n;
    return 0;
}

int fd_task_new(fd_broker *b, int s, uint32_t item)
{
    if (!b->ntaskfree && tasks_grow(b) < 0)
        return -1;
    int t = b->taskfree[--b->ntaskfree];
    fd_task *k = &b->task[t];
    uint32_t gen = k->gen + 1;
    memset(k, 0, sizeof *k);
    k->gen = gen;
    k->live = 1;
    k->slot = s;
    k->item = item;
    k->worker = -1;
    k->prev = k->next = -1;
    b->slot[s]->task[item] = t;
    return t;
}

void fd_task_free(fd_broker *b, int t)
{
    fd_task *k = &b->task[t];
    fd_unqueue(b, t);
    k->live = 0;
    k->slot = -1;
    b->taskfree[b->ntaskfree++] = t;
}

void fd_task_release(fd_broker *b, int t)
{
    if (b->task[t].worker >= 0)
        b->task[t].slot = -1;     /* the worker's answer will find no request */
    else
        fd_task_free(b, t);
}

void fd_unqueue(fd_broker *b, int t)
{
    fd_task *k = &b->task[t];
    if (!k->queued)
        return;
    if (k->prev >= 0)
        b->task[k->prev].next = k->next;
    else
        b->qhead = k->next;
    if (k->next >= 0)
        b->task[k->next].prev = k->prev;
    else
        b->qtail = k->prev;
    k->queued = 0;
    k->prev = k->next = -1;
    b->nqueued--;
}

void fd_enqueue(fd_broker *b, int t, int front)
{
    fd_task *k = &b->task[t];
    k->queued = 1;
    if (front) {
        k->next = b->qhead;
        if (b->qhead >= 0)
            b->task[b->qhead].prev = t;
        else
            b->qtail = t;
        b->qhead = t;
    } else {
        k->prev = b->qtail;
        if (b->qtail >= 0)
            b->task[b->qtail].next = t;
        else
            b->qhead = t;
        b->qtail = t;
    }
    b->nqueued++;
}
