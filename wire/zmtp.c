/* zmtp.c -- ZMTP 3.0/3.1, NULL mechanism, both sides: the broker's ROUTER and the client library's DEALER (zmtp.h).
 *
 * A state machine over the bytes as they come, in any chunks: the
 * greeting (checked byte by byte as far as it can be, so that a ZMTP 1 or 2
 * peer, which waits for an answer after 1 or 11 bytes, is refused at once),
 * the client's READY, then frames. A frame's head is collected in z->head,
 * a command's body in z->cmd (FW_ZMTP_CMD_MAX at most), a message frame's
 * body in z->buf while the message is within its limits and skipped once it
 * is not. The buffer grows with the bytes that came, not with the size a
 * head announces, so a client that announces 16 MiB and sends nothing
 * holds nothing. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "zmtp.h"

enum { ST_GREETING, ST_READY, ST_TRAFFIC, ST_ERROR };
enum { F_MORE = 1, F_LONG = 2, F_COMMAND = 4 };

void fw_zmtp_init(fw_zmtp *z, size_t max_bytes, uint64_t max_frame, int max_frames)
{
    memset(z, 0, sizeof *z);
    z->max_bytes = max_bytes;
    z->max_frame = max_frame;
    z->max_frames = max_frames < FW_ZMTP_FRAMES ? max_frames : FW_ZMTP_FRAMES;
}

void fw_zmtp_free(fw_zmtp *z)
{
    free(z->buf);
    z->buf = NULL;
    z->cap = z->len = 0;
}

/* A greeting (3.1, NULL, as-server 0) and READY {Socket-Type: type}. */
static size_t hello(uint8_t out[FW_ZMTP_HELLO_MAX], const char *type)
{
    size_t tl = strlen(type), n = FW_ZMTP_GREETING;
    memset(out, 0, FW_ZMTP_GREETING);
    out[0] = 0xff;
    out[8] = 1;                   /* as libzmq: a ZMTP 1.0 peer reads a length of 1 */
    out[9] = 0x7f;
    out[10] = 3;                  /* version 3.1: PING and PONG */
    out[11] = 1;
    memcpy(out + 12, "NULL", 4);
    out[n++] = 0x04;              /* a short command: READY, one property */
    out[n++] = (uint8_t)(1 + 5 + 1 + 11 + 4 + tl);
    memcpy(out + n, "\x05READY\x0bSocket-Type\0\0\0", 21);
    n += 21;
    out[n++] = (uint8_t)tl;
    memcpy(out + n, type, tl);
    return n + tl;
}

size_t fw_zmtp_hello(uint8_t out[FW_ZMTP_HELLO_MAX])
{
    return hello(out, "ROUTER");
}

size_t fw_zmtp_hello_dealer(uint8_t out[FW_ZMTP_HELLO_MAX])
{
    return hello(out, "DEALER");
}

static int fail(fw_zmtp *z, const char *why)
{
    z->state = ST_ERROR;
    z->why = why;
    return FW_ZMTP_ERROR;
}

/* The greeting so far: -1 (z->why) when it cannot be ZMTP 3 with NULL. */
static int greeting(fw_zmtp *z)
{
    static const uint8_t null[20] = "NULL";
    size_t n = z->hlen;
    if (n >= 1 && z->head[0] != 0xff)
        return fail(z, "not a ZMTP greeting"), -1;
    if (n >= 10 && z->head[9] != 0x7f)
        return fail(z, "a ZMTP 1.0 peer"), -1;
    if (n >= 11 && z->head[10] < 3)
        return fail(z, "a ZMTP 2 peer or older (3.x is needed)"), -1;
    if (n >= 32 && memcmp(z->head + 12, null, sizeof null))
        return fail(z, "a security mechanism other than NULL"), -1;
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The client's READY (after its name): Socket-Type DEALER or REQ. */
static int ready(fw_zmtp *z, const uint8_t *p, size_t n)
{
    int type = -1;
    while (n) {
        size_t nl = p[0];
        if (n < 1 + nl + 4)
            return fail(z, "a malformed READY property");
        const uint8_t *name = p + 1;
        size_t vl = be32(p + 1 + nl);
        if (vl > n - 1 - nl - 4)
            return fail(z, "a malformed READY property");
        const uint8_t *v = p + 1 + nl + 4;
        if (nl == 11 && !strncasecmp((const char *)name, "Socket-Type", 11)) {
            if (z->client && (vl != 6 || memcmp(v, "ROUTER", 6)))
                return fail(z, "a server socket type other than ROUTER");
            if (z->client)        /* our side is a DEALER: the server is a ROUTER */
                type = 0;
            else if (vl == 6 && !memcmp(v, "DEALER", 6))
                type = 0;
            else if (vl == 3 && !memcmp(v, "REQ", 3))
                type = 1;
            else
                return fail(z, "a socket type other than DEALER or REQ");
        }
        p += 1 + nl + 4 + vl;
        n -= 1 + nl + 4 + vl;
    }
    if (type < 0)
        return fail(z, "READY without a Socket-Type");
    z->req = type;
    z->state = ST_TRAFFIC;
    return FW_ZMTP_NEED;
}

/* A complete command frame in z->cmd: an event, or FW_ZMTP_NEED. */
static int command(fw_zmtp *z)
{
    const uint8_t *p = z->cmd;
    size_t n = (size_t)z->size;
    if (n < 1 || (size_t)p[0] > n - 1)
        return fail(z, "a malformed command");
    size_t nl = p[0];
    const uint8_t *name = p + 1, *body = p + 1 + nl;
    size_t bl = n - 1 - nl;
#define IS(s) (nl == sizeof s - 1 && !memcmp(name, s, nl))
    if (z->state == ST_READY)
        return IS("READY") ? ready(z, body, bl) : fail(z, "a command before READY");
    if (IS("PING")) {
        if (bl < 2 || bl - 2 > FW_ZMTP_PING_CTX)
            return fail(z, "a malformed PING");
        z->pinglen = bl - 2;
        memcpy(z->ping, body + 2, z->pinglen);
        return FW_ZMTP_PING;
    }
    if (IS("READY"))
        return fail(z, "a second READY");
    if (IS("ERROR"))
        return fail(z, "the client sent ERROR");
#undef IS
    return FW_ZMTP_NEED;          /* PONG, SUBSCRIBE, ...: nothing to do */
}

/* A frame's head is complete: set up for its body. 0, or an event. */
static int frame_begin(fw_zmtp *z)
{
    z->flags = z->head[0];
    if (z->flags & F_LONG) {
        z->size = 0;
        for (int i = 1; i < 9; i++)
            z->size = z->size << 8 | z->head[i];
        if (z->size >> 63)
            return fail(z, "a frame size of 2^63 or more");
    } else
        z->size = z->head[1];
    z->got = 0;
    z->body = 1;
    z->keep = 0;
    z->hlen = 0;
    if (z->flags & F_COMMAND) {
        if (z->flags & F_MORE)
            return fail(z, "a command with MORE");
        if (z->size > FW_ZMTP_CMD_MAX)
            return fail(z, "a command over 1 KiB");
        return 0;
    }
    if (z->state != ST_TRAFFIC)
        return fail(z, "a message before the handshake");
    if (z->size > z->max_frame)
        return fail(z, "a frame over the size limit");
    uint64_t total = z->size > UINT64_MAX - z->total ? UINT64_MAX : z->total + z->size;
    if (!z->truncated && z->nframes >= z->max_frames)
        z->truncated = FW_ZMTP_TRUNC_FRAMES;
    else if (!z->truncated && total > z->max_bytes)
        z->truncated = FW_ZMTP_TRUNC_BYTES;
    z->total = total;
    if (!z->truncated) {
        z->keep = 1;
        z->off[z->nframes] = z->len;
        z->flen[z->nframes++] = (size_t)z->size;
    }
    return 0;
}

/* Room in buf for n more bytes of the frame being read (its end: at most). */
static int room(fw_zmtp *z, size_t n)
{
    if (z->len + n <= z->cap)
        return 0;
    size_t end = z->off[z->nframes - 1] + z->flen[z->nframes - 1];
    size_t cap = z->cap ? z->cap * 2 : 4096;
    if (cap < z->len + n)
        cap = z->len + n;
    if (cap > end)
        cap = end;
    uint8_t *p = realloc(z->buf, cap);
    if (!p)
        return -1;
    z->buf = p;
    z->cap = cap;
    return 0;
}

/* Bytes of the frame's body: taken, kept or skipped. 0, or an event at its end. */
static int frame_body(fw_zmtp *z, const uint8_t *p, size_t n, size_t *took)
{
    uint64_t left = z->size - z->got;
    size_t k = left < n ? (size_t)left : n;
    if (!k)
        ;                         /* an empty frame (z->buf may be NULL) */
    else if (z->flags & F_COMMAND)
        memcpy(z->cmd + z->got, p, k);
    else if (z->keep) {
        if (room(z, k) < 0)
            return fail(z, "out of memory");
        memcpy(z->buf + z->len, p, k);
        z->len += k;
    }
    z->got += k;
    *took = k;
    if (z->got < z->size)
        return 0;
    z->body = 0;
    if (z->flags & F_COMMAND)
        return command(z);
    if (z->flags & F_MORE)
        return 0;
    z->delivered = 1;
    return FW_ZMTP_MESSAGE;
}

int fw_zmtp_ready(const fw_zmtp *z)
{
    return z->state == ST_TRAFFIC;
}

int fw_zmtp_feed(fw_zmtp *z, const uint8_t *p, size_t n, size_t *used)
{
    size_t i = 0;
    int ev = FW_ZMTP_NEED;
    if (z->delivered) {           /* the last message was handled: a new one */
        z->len = 0;
        z->nframes = z->truncated = z->delivered = 0;
        z->total = 0;
    }
    while (ev == FW_ZMTP_NEED && z->state != ST_ERROR && (i < n || (z->body && z->got == z->size))) {
        if (z->state == ST_GREETING) {
            size_t k = FW_ZMTP_GREETING - z->hlen;
            k = k < n - i ? k : n - i;
            for (size_t j = 0; j < k; j++) {   /* byte by byte: refuse as early as can be */
                z->head[z->hlen++] = p[i++];
                if (greeting(z) < 0)
                    break;
            }
            if (z->state != ST_ERROR && z->hlen == FW_ZMTP_GREETING) {
                z->state = ST_READY;
                z->hlen = 0;
            }
            ev = z->state == ST_ERROR ? FW_ZMTP_ERROR : FW_ZMTP_NEED;
        } else if (!z->body) {
            z->head[z->hlen++] = p[i++];
            if (z->hlen == 1 && (z->head[0] & ~(F_MORE | F_LONG | F_COMMAND)))
                ev = fail(z, "reserved frame flags set");
            else if (z->hlen == ((z->head[0] & F_LONG) ? 9u : 2u))
                ev = frame_begin(z);
        } else {
            size_t k = 0;
            ev = frame_body(z, p + i, n - i, &k);
            i += k;
        }
    }
    *used = i;
    return z->state == ST_ERROR ? FW_ZMTP_ERROR : ev;
}

fw_zmtp_part fw_zmtp_part_at(const fw_zmtp *z, int i)
{
    fw_zmtp_part f = {z->buf ? z->buf + z->off[i] : (const uint8_t *)"", z->flen[i]};
    return f;
}

uint8_t *fw_zmtp_take(fw_zmtp *z, uint8_t *buf, size_t cap, size_t *oldcap)
{
    uint8_t *p = z->buf;
    *oldcap = z->cap;
    z->buf = buf;
    z->cap = cap;
    return p;
}

size_t fw_zmtp_pong(const fw_zmtp *z, uint8_t out[FW_ZMTP_PONG_MAX])
{
    out[0] = F_COMMAND;
    out[1] = (uint8_t)(5 + z->pinglen);
    out[2] = 4;
    memcpy(out + 3, "PONG", 4);
    memcpy(out + 7, z->ping, z->pinglen);
    return 7 + z->pinglen;
}

size_t fw_zmtp_head(uint8_t out[FW_ZMTP_HEAD_MAX], size_t len, int more)
{
    out[0] = more ? F_MORE : 0;
    if (len < 256) {
        out[1] = (uint8_t)len;
        return 2;
    }
    out[0] |= F_LONG;
    for (int i = 8; i >= 1; i--, len >>= 8)
        out[i] = (uint8_t)len;
    return 9;
}
