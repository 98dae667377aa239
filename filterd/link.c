/* link.c -- framed messages on a unix stream socket, buffered both ways (link.h).
 *
 * The in buffer holds what read() brought: complete frames are handed out
 * in place, and a frame cut at the end of a read waits there for the rest
 * (moved to the front first, so the buffer never grows past the largest
 * frame plus one read). The out buffer collects frames until a flush writes
 * as much as the socket takes; the broker's sockets are non-blocking and
 * keep the rest for the next round, the worker's block. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link.h"

void fd_link_init(fd_link *l, int fd)
{
    memset(l, 0, sizeof *l);
    l->fd = fd;
}

void fd_link_close(fd_link *l)
{
    if (l->fd >= 0)
        close(l->fd);
    free(l->in.p);
    free(l->out.p);
    memset(l, 0, sizeof *l);
    l->fd = -1;
}

int fd_buf_reserve(fd_buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return 0;
    if (b->off) {                 /* drop what was consumed first */
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + n <= b->cap)
            return 0;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

void fd_buf_empty(fd_buf *b, size_t keep)
{
    b->off = b->len = 0;
    if (b->cap > keep) {
        free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
}

int fd_link_fill(fd_link *l)
{
    fd_buf *b = &l->in;
    if (b->off == b->len)
        fd_buf_empty(b, FD_LINK_KEEP);
    if (fd_buf_reserve(b, FD_LINK_READ) < 0) {
        errno = ENOMEM;
        return -1;
    }
    ssize_t n;
    while ((n = read(l->fd, b->p + b->len, b->cap - b->len)) < 0 && errno == EINTR)
        ;
    if (n <= 0)
        return n == 0 ? 0 : -1;
    b->len += (size_t)n;
    return 1;
}

int fd_link_next(fd_link *l, fd_frame *f)
{
    fd_buf *b = &l->in;
    uint32_t len;
    if (b->len - b->off < 4)
        return 0;
    memcpy(&len, b->p + b->off, 4);
    if (len < 1 || len > FD_LINK_MAX)
        return -1;
    if (b->len - b->off - 4 < len)
        return 0;
    f->type = b->p[b->off + 4];
    f->p = b->p + b->off + 5;
    f->len = len - 1;
    b->off += 4 + (size_t)len;
    return 1;
}

int fd_link_flush(fd_link *l)
{
    fd_buf *b = &l->out;
    while (b->off < b->len) {
        ssize_t n = send(l->fd, b->p + b->off, b->len - b->off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
        b->off += (size_t)n;
    }
    fd_buf_empty(b, FD_LINK_KEEP);
    return 0;
}

int fd_link_pending(const fd_link *l)
{
    return l->out.len > l->out.off;
}

void fd_link_begin(fd_link *l, int type)
{
    uint8_t head[5] = {0, 0, 0, 0, (uint8_t)type};
    l->frame = l->out.len;
    if (fd_link_add(l, head, sizeof head) < 0)
        l->frame = SIZE_MAX;
}

int fd_link_add(fd_link *l, const void *p, size_t n)
{
    if (l->frame == SIZE_MAX)
        return -1;
    if (!n)
        return 0;
    size_t at = l->frame - l->out.off;   /* fd_buf_reserve may move the unsent bytes */
    if (fd_buf_reserve(&l->out, n) < 0) {
        l->out.len = l->out.off + at;    /* drop the frame begun */
        l->frame = SIZE_MAX;
        return -1;
    }
    l->frame = l->out.off + at;
    memcpy(l->out.p + l->out.len, p, n);
    l->out.len += n;
    return 0;
}

int fd_link_end(fd_link *l)
{
    if (l->frame == SIZE_MAX)
        return -1;
    size_t n = l->out.len - l->frame - 4;
    if (n > FD_LINK_MAX) {
        l->out.len = l->frame;
        return -1;
    }
    uint32_t len = (uint32_t)n;
    memcpy(l->out.p + l->frame, &len, 4);
    return 0;
}

int fd_link_write(void *data, const char *buf, size_t len)
{
    return fd_link_add(data, buf, len);
}

/* ---- the frames ------------------------------------------------------------ */

int fd_link_put_task(fd_link *l, const fd_task_msg *t)
{
    uint8_t head[FD_TASK_HEAD];
    memcpy(head, &t->seq, 8);
    head[8] = (uint8_t)t->scene;
    head[9] = (uint8_t)t->flags;
    head[10] = (uint8_t)t->idlen;
    fd_link_begin(l, FD_LINK_TASK);
    fd_link_add(l, head, sizeof head);
    fd_link_add(l, t->id, t->idlen);
    fd_link_add(l, t->text, t->textlen);
    return fd_link_end(l);
}

int fd_link_get_task(const fd_frame *f, fd_task_msg *t)
{
    if (f->type != FD_LINK_TASK || f->len < FD_TASK_HEAD ||
        f->len < FD_TASK_HEAD + (size_t)f->p[10])
        return -1;
    memcpy(&t->seq, f->p, 8);
    t->scene = f->p[8];
    t->flags = f->p[9];
    t->idlen = f->p[10];
    t->id = (const char *)f->p + FD_TASK_HEAD;
    t->text = t->id + t->idlen;
    t->textlen = f->len - FD_TASK_HEAD - t->idlen;
    return 0;
}

int fd_link_get_answer(const fd_frame *f, fd_answer_msg *a)
{
    if (f->type != FD_LINK_ANSWER || f->len < FD_ANSWER_HEAD)
        return -1;
    memcpy(&a->seq, f->p, 8);
    a->decision = f->p[8];
    a->error = f->p[9];
    memcpy(&a->labels, f->p + 10, 4);
    a->reply = f->p + FD_ANSWER_HEAD;
    a->len = f->len - FD_ANSWER_HEAD;
    return 0;
}

int fd_link_put_hello(fd_link *l, uint32_t pid, uint32_t gen, uint64_t run,
                      const char *version)
{
    fd_link_begin(l, FD_LINK_HELLO);
    fd_link_add(l, &pid, 4);
    fd_link_add(l, &gen, 4);
    fd_link_add(l, &run, 8);
    fd_link_add(l, version, strlen(version));
    return fd_link_end(l);
}

int fd_link_get_hello(const fd_frame *f, uint32_t *pid, uint32_t *gen, uint64_t *run,
                      char *version, size_t vlen)
{
    if (f->type != FD_LINK_HELLO || f->len < 16 || f->len - 16 >= vlen)
        return -1;
    memcpy(pid, f->p, 4);
    memcpy(gen, f->p + 4, 4);
    memcpy(run, f->p + 8, 8);
    memcpy(version, f->p + 16, f->len - 16);
    version[f->len - 16] = '\0';
    return 0;
}
