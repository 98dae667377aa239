/* link.h -- the broker's link to a worker: framed messages on a unix stream socket.
 *
 * Each worker connects to <run-dir>/workers.sock. On that stream both sides
 * write frames, [length u32][type u8][payload] in host byte order (the two
 * ends are the same binary on the same machine), length counting type and
 * payload:
 *
 *   worker -> broker  H [pid u32][gen u32][run u64][version]           hello; heartbeat when idle
 *                     A [seq u64][decision u8][error u8][labels u32][reply]   one answer
 *   broker -> worker  Q [seq u64][scene u8][flags u8][idlen u8][id][text]     one text to check
 *                     X                                                retire: finish, then exit
 *
 * A task (Q) is one text: a single check, or one item of a bulk request.
 * Its reply is the whole reply map (with the request's id) or, with
 * FD_TASK_ITEM, an item result (with the item's id). A link buffers both
 * ways, so batching is the stream's: the broker appends every frame of a
 * poll round and writes them in one call, and a reader takes every complete
 * frame one read() brought. Buffers grow to the largest frame and are kept. */
#ifndef FD_LINK_H
#define FD_LINK_H

#include <stddef.h>
#include <stdint.h>

#define FD_LINK_HELLO 'H'
#define FD_LINK_ANSWER 'A'
#define FD_LINK_TASK 'Q'
#define FD_LINK_RETIRE 'X'
#define FD_LINK_MAX (64u << 20)   /* bytes: a longer frame breaks the link */
#define FD_LINK_READ (64u << 10)  /* bytes: one read() takes up to this */
#define FD_LINK_KEEP (1u << 20)   /* bytes: an empty buffer larger than this is freed */
#define FD_TASK_EXPLAIN 1         /* flags: also return the views */
#define FD_TASK_ITEM 2            /* flags: answer as a bulk item result */
#define FD_TASK_HEAD 11           /* bytes before a task's id: seq, scene, flags, idlen */
#define FD_ANSWER_HEAD 14         /* bytes before an answer's reply: seq, summary */

typedef struct fd_buf {
    uint8_t *p;
    size_t off, len, cap;         /* bytes [off, len) are still to be read or written */
} fd_buf;

/* Room for n more bytes at the end of b (what was read moves to the front
 * first): 0, or -1 when out of memory. */
int fd_buf_reserve(fd_buf *b, size_t n);
/* b is read or written to its end: empty it, and give its memory back when
 * it grew past keep bytes. */
void fd_buf_empty(fd_buf *b, size_t keep);

typedef struct fd_link {
    int fd;
    fd_buf in, out;
    size_t frame;                 /* out: where the frame being built starts */
} fd_link;

/* One frame read: its type and payload (pointing into the link's buffer,
 * valid until the next fd_link_fill). */
typedef struct fd_frame {
    int type;
    const uint8_t *p;
    size_t len;
} fd_frame;

/* A task as carried in a Q frame. */
typedef struct fd_task_msg {
    uint64_t seq;
    int scene, flags;
    const char *id;               /* msgpack bytes of the request's or the item's id */
    size_t idlen;
    const char *text;
    size_t textlen;
} fd_task_msg;

/* An answer as carried in an A frame. */
typedef struct fd_answer_msg {
    uint64_t seq;
    int decision, error;
    uint32_t labels;
    const uint8_t *reply;
    size_t len;
} fd_answer_msg;

void fd_link_init(fd_link *l, int fd);
void fd_link_close(fd_link *l);           /* the socket and the buffers */

/* Read what the socket has (one read). 1 when bytes came, 0 on end of
 * stream, -1 on error (EAGAIN included: nothing there). */
int fd_link_fill(fd_link *l);
/* The next complete frame: 1 with f filled, 0 when none is complete, -1
 * when the stream is broken (a frame over FD_LINK_MAX). */
int fd_link_next(fd_link *l, fd_frame *f);
/* Write what is buffered: 0 when all went, 1 when some is left (EAGAIN),
 * -1 on error (the peer is gone). */
int fd_link_flush(fd_link *l);
int fd_link_pending(const fd_link *l);    /* bytes wait to be written */

/* Build a frame in the out buffer: begin, add its parts, end. add and end
 * return -1 when out of memory (the frame is then dropped). */
void fd_link_begin(fd_link *l, int type);
int fd_link_add(fd_link *l, const void *p, size_t n);
int fd_link_end(fd_link *l);
/* msgpack_packer write callback adding to the frame being built (data: the link). */
int fd_link_write(void *data, const char *buf, size_t len);

/* Frames of the table above. put: 0 or -1 (out of memory); get: 0 or -1
 * when the payload is not one. */
int fd_link_put_task(fd_link *l, const fd_task_msg *t);
int fd_link_get_task(const fd_frame *f, fd_task_msg *t);
int fd_link_get_answer(const fd_frame *f, fd_answer_msg *a);
int fd_link_put_hello(fd_link *l, uint32_t pid, uint32_t gen, uint64_t run,
                      const char *version);
int fd_link_get_hello(const fd_frame *f, uint32_t *pid, uint32_t *gen, uint64_t *run, char *version,
                      size_t vlen);

#endif
