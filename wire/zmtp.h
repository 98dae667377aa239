/* zmtp.h -- ZMTP 3.0/3.1 (NULL mechanism) as a ROUTER (the broker's) and as a DEALER (the client library's): a pure codec.
 *
 * The broker accepts its clients' connections itself and speaks ZeroMQ's
 * wire protocol on them (RFC 23 and 37), so that every byte a client makes
 * it hold is in a buffer it sized (issue 12). This file knows the bytes
 * only; zconn.c does the I/O. One connection, from the server's side:
 *
 *   server -> client  greeting (64 bytes: FF 00*7 01 7F, 3.1, "NULL", as-server 0)
 *                     READY {Socket-Type: ROUTER}            (fw_zmtp_hello, at once)
 *   client -> server  greeting (version 3.x: below 3 the connection is closed)
 *                     READY {Socket-Type: DEALER or REQ}     (Identity ignored)
 *   then              frames: [flags][size: 1 byte, or 8 big-endian with LONG][body]
 *                     flags MORE (1), LONG (2), COMMAND (4); other bits set: closed
 *                     PING [ttl u16][context] -> PONG [context]  (ZMTP 3.1 heartbeats)
 *
 * A message is counted as its frames arrive: once it passes max_bytes over
 * all its frames (FW_ZMTP_TRUNC_BYTES) or max_frames (FW_ZMTP_TRUNC_FRAMES),
 * the rest of it is skipped as it streams, never buffered; the frames kept
 * until then are delivered with the mark, so the broker can answer it. One
 * frame over max_frame is an error at its head (ZeroMQ's ZMQ_MAXMSGSIZE
 * closed the connection the same way).
 *
 * The client side (the client library's own DEALER, client/zdealer.c) is the
 * same codec with z->client set: it sends fw_zmtp_hello_dealer and wants
 * the server's READY {Socket-Type: ROUTER}; frames are read the same way. */
#ifndef FW_ZMTP_H
#define FW_ZMTP_H

#include <stddef.h>
#include <stdint.h>

#define FW_ZMTP_GREETING 64       /* bytes of a greeting */
#define FW_ZMTP_HELLO_MAX 128     /* bytes: greeting + READY that fw_zmtp_hello writes */
#define FW_ZMTP_CMD_MAX 1024      /* bytes: a longer command closes the connection */
#define FW_ZMTP_PING_CTX 16       /* bytes: a PING's context at most (RFC 37) */
#define FW_ZMTP_PONG_MAX (8 + FW_ZMTP_PING_CTX)
#define FW_ZMTP_FRAMES 8          /* frames of a message kept at most (max_frames <= this) */
#define FW_ZMTP_HEAD_MAX 9        /* bytes of a frame's flags and size */

/* What fw_zmtp_feed stopped for. */
enum {
    FW_ZMTP_NEED = 0,             /* every byte taken: more input please */
    FW_ZMTP_MESSAGE,              /* a message is complete (fw_zmtp_part), valid until the next feed */
    FW_ZMTP_PING,                 /* answer fw_zmtp_pong() */
    FW_ZMTP_ERROR                 /* not ZMTP 3 as we speak it: close (z->why says why) */
};
enum { FW_ZMTP_TRUNC_FRAMES = 1, FW_ZMTP_TRUNC_BYTES = 2 };   /* why a message was cut */

typedef struct fw_zmtp_part {
    const uint8_t *p;
    size_t len;
} fw_zmtp_part;

typedef struct fw_zmtp {
    size_t max_bytes;             /* a message in all its frames */
    uint64_t max_frame;           /* one frame: a longer one closes the connection */
    int max_frames;
    int state;                    /* greeting, ready, traffic, error (zmtp.c) */
    uint8_t head[FW_ZMTP_GREETING];   /* the greeting or a frame's head, as it comes */
    size_t hlen;
    int flags;                    /* the frame being read: its flags, size, bytes so far */
    uint64_t size, got;
    int body;                     /* its head is in: reading its bytes */
    int keep;                     /* its bytes go into buf */
    uint8_t cmd[FW_ZMTP_CMD_MAX];  /* a command frame's body */
    /* the message being read */
    uint8_t *buf;                 /* its kept frames, one after the other */
    size_t len, cap;
    size_t off[FW_ZMTP_FRAMES], flen[FW_ZMTP_FRAMES];
    int nframes, truncated, delivered;
    uint64_t total;               /* bytes of all its frames so far, skipped ones too */
    uint8_t ping[FW_ZMTP_PING_CTX];
    size_t pinglen;
    int req;                      /* the client is a REQ socket (else a DEALER) */
    int client;                   /* set after init: we are the DEALER, the peer a ROUTER */
    const char *why;              /* FW_ZMTP_ERROR: what was wrong */
} fw_zmtp;

void fw_zmtp_init(fw_zmtp *z, size_t max_bytes, uint64_t max_frame, int max_frames);
void fw_zmtp_free(fw_zmtp *z);   /* its buffer */

/* The server's greeting and READY, to send at once: their length. */
size_t fw_zmtp_hello(uint8_t out[FW_ZMTP_HELLO_MAX]);
/* The client's: greeting and READY {Socket-Type: DEALER}. */
size_t fw_zmtp_hello_dealer(uint8_t out[FW_ZMTP_HELLO_MAX]);
/* The handshake is done (greeting and READY in): messages may follow. */
int fw_zmtp_ready(const fw_zmtp *z);
/* Take bytes from p[0..n) until an event (FW_ZMTP_*): *used says how many. */
int fw_zmtp_feed(fw_zmtp *z, const uint8_t *p, size_t n, size_t *used);
/* Frame i of the message delivered (i < z->nframes). */
fw_zmtp_part fw_zmtp_part_at(const fw_zmtp *z, int i);
/* Hand the message's buffer (*cap bytes of room) to the caller, who owns it
 * now; take buf (cap bytes, or NULL and 0) in its place for the next one. */
uint8_t *fw_zmtp_take(fw_zmtp *z, uint8_t *buf, size_t cap, size_t *oldcap);
/* The PONG for the PING just delivered: its length. */
size_t fw_zmtp_pong(const fw_zmtp *z, uint8_t out[FW_ZMTP_PONG_MAX]);
/* A traffic frame's head for len bytes (more: another frame follows): its length. */
size_t fw_zmtp_head(uint8_t out[FW_ZMTP_HEAD_MAX], size_t len, int more);

#endif
