/* slots.c -- the broker's requests: slots on a free list, the FIFO queue of
 * requests waiting for a worker, and the heap of their deadlines.
 *
 * A slot holds one request from its arrival to its answer. Waiting requests
 * are a doubly linked list through the slots (the queue; a retried request
 * goes back to its front); every live request is in a binary min-heap by
 * deadline, so the broker finds the next expiry in O(1) and removes an
 * answered request in O(log n). */
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

/* ---- request slots and the queue ------------------------------------------ */

int fd_slot_new(fd_broker *b)
{
    if (!b->nfree) {
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
            b->nslot = i + 1;
            b->freelist[b->nfree++] = i;
        }
    }
    int s = b->freelist[--b->nfree];
    fd_slot *r = b->slot[s];
    memset(r, 0, sizeof *r);
    r->live = 1;
    r->heap = r->prev = r->next = -1;
    r->seq = ++b->seq;
    return s;
}

void fd_unqueue(fd_broker *b, int s)
{
    fd_slot *r = b->slot[s];
    if (!r->queued)
        return;
    if (r->prev >= 0)
        b->slot[r->prev]->next = r->next;
    else
        b->qhead = r->next;
    if (r->next >= 0)
        b->slot[r->next]->prev = r->prev;
    else
        b->qtail = r->prev;
    r->queued = 0;
    r->prev = r->next = -1;
    b->nqueued--;
}

void fd_enqueue(fd_broker *b, int s, int front)
{
    fd_slot *r = b->slot[s];
    r->queued = 1;
    if (front) {
        r->next = b->qhead;
        if (b->qhead >= 0)
            b->slot[b->qhead]->prev = s;
        else
            b->qtail = s;
        b->qhead = s;
    } else {
        r->prev = b->qtail;
        if (b->qtail >= 0)
            b->slot[b->qtail]->next = s;
        else
            b->qhead = s;
        b->qtail = s;
    }
    b->nqueued++;
}

void fd_slot_free(fd_broker *b, int s)
{
    fd_slot *r = b->slot[s];
    fd_unqueue(b, s);
    heap_remove(b, s);
    for (int i = 0; i < r->nenv; i++)
        zmq_msg_close(&r->env[i]);
    if (r->has_body)
        zmq_msg_close(&r->body);
    r->live = 0;
    r->nenv = 0;
    r->has_body = 0;
    b->freelist[b->nfree++] = s;
}

void fd_slots_release(fd_broker *b)
{
    for (int i = 0; i < b->nslot; i++) {
        if (b->slot[i]->live)
            fd_slot_free(b, i);
        free(b->slot[i]);
    }
    free(b->slot);
    free(b->freelist);
    free(b->heap);
    b->slot = NULL;
    b->freelist = b->heap = NULL;
    b->nslot = b->nfree = b->nheap = 0;
}
