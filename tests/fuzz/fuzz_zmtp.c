/* fuzz_zmtp.c -- libFuzzer harness: the broker's ZMTP 3 codec (filterd/zmtp.c) in any chunking.
 *
 * Input: [mode u8][seed u8][stream...]. With mode bit 0 set, the stream is
 * preceded by a valid greeting and READY (so the fuzzer spends its time on
 * frames); bits 1-2 pick the message limit (64, 512 or 4096 bytes, or 1 MiB)
 * and bit 3 the frame limit (2 or 5); bit 4 runs the client side (the
 * HTTP process's link: z->client, its valid opening the server's hello,
 * READY {ROUTER}). The stream is fed whole, then in
 * chunks whose sizes come from the seed; both runs must produce the same
 * events and messages, and every message delivered must be within its
 * limits (frames, bytes kept, and the buffer's size). ASan sees any read
 * past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXEV 64

typedef struct trace {
    int ev[MAXEV], n;
    uint64_t hash[MAXEV];         /* a message's frames, or a PING's context */
} trace;

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void note(trace *t, const fw_zmtp *z, int ev)
{
    uint64_t h = 1469598103934665603ull, kept = 0;
    if (ev == FW_ZMTP_MESSAGE) {
        if (z->nframes > z->max_frames || z->cap > z->max_bytes)
            abort();
        for (int i = 0; i < z->nframes; i++) {
            fw_zmtp_part f = fw_zmtp_part_at(z, i);
            kept += f.len;
            h = fnv(h, (const uint8_t *)&f.len, sizeof f.len);
            h = fnv(h, f.p, f.len);
        }
        if (kept > z->max_bytes || (!z->truncated && kept != z->total))
            abort();
        h ^= (uint64_t)z->truncated;
    } else if (ev == FW_ZMTP_PING) {
        uint8_t pong[FW_ZMTP_PONG_MAX];
        size_t n = fw_zmtp_pong(z, pong);
        if (n > sizeof pong || z->pinglen > FW_ZMTP_PING_CTX)
            abort();
        h = fnv(h, pong, n);
    }
    if (t->n < MAXEV) {
        t->ev[t->n] = ev;
        t->hash[t->n++] = h;
    }
}

/* Feed p[0..n) in chunks (sizes from seed; 0: whole). */
static void run(const uint8_t *p, size_t n, unsigned seed, size_t max_bytes, int max_frames,
                int client, trace *t)
{
    fw_zmtp z;
    fw_zmtp_init(&z, max_bytes, max_bytes / 2, max_frames);
    z.client = client;
    memset(t, 0, sizeof *t);
    for (size_t at = 0; at < n && t->n < MAXEV;) {
        size_t len = n - at;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            size_t c = 1 + (seed >> 16) % 97;
            len = c < len ? c : len;
        }
        for (size_t off = 0, used; off < len && t->n < MAXEV;) {
            int ev = fw_zmtp_feed(&z, p + at + off, len - off, &used);
            if (used > len - off)
                abort();
            off += used;
            if (ev != FW_ZMTP_NEED)
                note(t, &z, ev);
            if (ev == FW_ZMTP_ERROR) {
                fw_zmtp_free(&z);
                return;
            }
        }
        at += len;
    }
    fw_zmtp_free(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t limits[4] = {64, 512, 4096, 1 << 20};
    uint8_t *stream;
    size_t n;
    trace whole, cut;

    if (size < 2)
        return 0;
    int mode = data[0];
    unsigned seed = data[1] | 0x100u;
    data += 2, size -= 2;
    int client = (mode >> 4) & 1;
    if ((mode & 1) && client) {   /* the server's opening, then the input */
        uint8_t hello[FW_ZMTP_HELLO_MAX];
        size_t hl = fw_zmtp_hello(hello);
        n = hl + size;
        if (!(stream = malloc(n)))
            return 0;
        memcpy(stream, hello, hl);
        memcpy(stream + hl, data, size);
    } else if (mode & 1) {        /* a valid opening, then the input */
        uint8_t hello[FW_ZMTP_HELLO_MAX];
        static const char ready[] = "\x04\x19\x05READY\x0bSocket-Type\0\0\0\x03REQ";
        fw_zmtp_hello(hello);    /* its greeting is a client's as well */
        n = FW_ZMTP_GREETING + sizeof ready - 1 + size;
        if (!(stream = malloc(n)))
            return 0;
        memcpy(stream, hello, FW_ZMTP_GREETING);
        memcpy(stream + FW_ZMTP_GREETING, ready, sizeof ready - 1);
        memcpy(stream + FW_ZMTP_GREETING + sizeof ready - 1, data, size);
    } else {
        n = size;
        if (!(stream = malloc(n ? n : 1)))
            return 0;
        memcpy(stream, data, n);
    }
    size_t max_bytes = limits[(mode >> 1) & 3];
    int max_frames = mode & 8 ? 5 : 2;
    run(stream, n, 0, max_bytes, max_frames, client, &whole);
    run(stream, n, seed, max_bytes, max_frames, client, &cut);
    if (whole.n != cut.n || memcmp(whole.ev, cut.ev, sizeof whole.ev) ||
        memcmp(whole.hash, cut.hash, sizeof whole.hash))
        abort();
    free(stream);
    return 0;
}
