/* test_zmtp.c -- the ZMTP 3 codec (filterd/zmtp.c) on the bytes libzmq 4.3 sends; its client side against its server side.
 *
 * The client bytes below are what a libzmq 4.3.4 DEALER sent to a plain
 * TCP listener (captured once): greeting, READY, a message [""]["hi"], a
 * PING with its heartbeat TTL. Each input is fed whole and byte by byte;
 * the results must not depend on the chunking. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zmtp.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static const uint8_t greeting[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1, 'N', 'U', 'L', 'L'};
static const char ready_dealer[] =
    "\x04\x29\x05READY\x0bSocket-Type\0\0\0\x06" "DEALER\x08Identity\0\0\0\0";

/* What feeding n bytes (in chunks of step; 0: all at once) produced. */
typedef struct result {
    int events[32], nev;
    int nframes[32], truncated[32];
    size_t total[32];
    char frames[32][64];          /* the frames of each message, "|"-joined (short ones) */
    const char *why;
} result;

static void run(fw_zmtp *z, const uint8_t *p, size_t n, size_t step, result *r)
{
    memset(r, 0, sizeof *r);
    for (size_t at = 0; at < n;) {
        size_t len = step && n - at > step ? step : n - at, off = 0, used;
        while (off < len && r->nev < 32) {
            int ev = fw_zmtp_feed(z, p + at + off, len - off, &used);
            assert_true(used <= len - off);
            off += used;
            if (ev == FW_ZMTP_NEED)
                continue;
            r->events[r->nev] = ev;
            if (ev == FW_ZMTP_MESSAGE) {
                r->nframes[r->nev] = z->nframes;
                r->truncated[r->nev] = z->truncated;
                for (int i = 0; i < z->nframes; i++) {
                    fw_zmtp_part f = fw_zmtp_part_at(z, i);
                    r->total[r->nev] += f.len;
                    size_t k = strlen(r->frames[r->nev]);
                    if (f.len < 16 && k + f.len + 2 < sizeof r->frames[0])
                        snprintf(r->frames[r->nev] + k, sizeof r->frames[0] - k, "%.*s|",
                                 (int)f.len, (const char *)f.p);
                }
            }
            r->nev++;
            if (ev == FW_ZMTP_ERROR) {
                r->why = z->why;
                return;
            }
        }
        at += len;
    }
}

/* Input p fed whole and byte by byte gives the same; the whole run in *out. */
static void both(const uint8_t *p, size_t n, size_t max_bytes, int max_frames, result *out)
{
    fw_zmtp a, b;
    result rb;
    fw_zmtp_init(&a, max_bytes, max_bytes, max_frames);
    fw_zmtp_init(&b, max_bytes, max_bytes, max_frames);
    run(&a, p, n, 0, out);
    run(&b, p, n, 1, &rb);
    assert_int_equal(out->nev, rb.nev);
    assert_memory_equal(out->events, rb.events, sizeof rb.events);
    assert_memory_equal(out->frames, rb.frames, sizeof rb.frames);
    assert_memory_equal(out->truncated, rb.truncated, sizeof rb.truncated);
    fw_zmtp_free(&a);
    fw_zmtp_free(&b);
}

/* greeting + READY of type, then tail: the bytes in buf, their length. */
static size_t session(uint8_t *buf, const char *ready, size_t rlen, const void *tail, size_t tlen)
{
    memcpy(buf, greeting, 64);
    memcpy(buf + 64, ready, rlen);
    memcpy(buf + 64 + rlen, tail, tlen);
    return 64 + rlen + tlen;
}

static void test_hello(void **state)
{
    uint8_t h[FW_ZMTP_HELLO_MAX];
    (void)state;
    size_t n = fw_zmtp_hello(h);
    assert_int_equal(h[0], 0xff);
    assert_int_equal(h[9], 0x7f);
    assert_int_equal(h[10], 3);
    assert_memory_equal(h + 12, "NULL\0", 5);
    assert_int_equal(h[32], 0);                       /* as-server: 0 for NULL */
    assert_int_equal(n, 64 + 30);
    assert_int_equal(h[64], 4);                       /* a command */
    assert_int_equal(h[65], n - 66);
    assert_memory_equal(h + 66, "\x05READY\x0bSocket-Type\0\0\0\x06ROUTER", 28);
}

/* The client side (the HTTP process's link, zdealer.c): our DEALER's hello
 * is what the server side takes, and the client side takes the server's
 * hello and a reply, whole and byte by byte, and refuses a peer that is not
 * a ROUTER. */
static void test_client_side(void **state)
{
    uint8_t buf[256];
    fw_zmtp z;
    result r;
    (void)state;
    size_t n = fw_zmtp_hello_dealer(buf);
    assert_true(n <= FW_ZMTP_HELLO_MAX);
    assert_int_equal(buf[65], n - 66);
    assert_memory_equal(buf + 66, "\x05READY\x0bSocket-Type\0\0\0\x06" "DEALER", 28);
    memcpy(buf + n, "\x01\x00\x00\x02hi", 6);
    both(buf, n + 6, 1 << 20, 8, &r);              /* the broker's side */
    assert_int_equal(r.nev, 1);
    assert_int_equal(r.events[0], FW_ZMTP_MESSAGE);
    assert_string_equal(r.frames[0], "|hi|");
    n = fw_zmtp_hello(buf);                         /* the broker's hello, a reply */
    memcpy(buf + n, "\x01\x00\x00\x02ok", 6);
    for (size_t step = 0; step < 2; step++) {
        fw_zmtp_init(&z, 1 << 20, 1 << 20, 2);
        z.client = 1;
        run(&z, buf, n + 6, step, &r);
        assert_int_equal(r.nev, 1);
        assert_int_equal(r.events[0], FW_ZMTP_MESSAGE);
        assert_string_equal(r.frames[0], "|ok|");
        fw_zmtp_free(&z);
    }
    n = session(buf, ready_dealer, sizeof ready_dealer - 1, "", 0);   /* not a ROUTER */
    fw_zmtp_init(&z, 1 << 20, 1 << 20, 2);
    z.client = 1;
    run(&z, buf, n, 0, &r);
    assert_int_equal(r.events[r.nev - 1], FW_ZMTP_ERROR);
    assert_string_equal(r.why, "a server socket type other than ROUTER");
    fw_zmtp_free(&z);
}

static void test_dealer_message(void **state)
{
    uint8_t buf[256];
    result r;
    (void)state;
    size_t n = session(buf, ready_dealer, sizeof ready_dealer - 1, "\x01\x00\x00\x02hi", 6);
    both(buf, n, 1000, 5, &r);
    assert_int_equal(r.nev, 1);
    assert_int_equal(r.events[0], FW_ZMTP_MESSAGE);
    assert_int_equal(r.nframes[0], 2);
    assert_string_equal(r.frames[0], "|hi|");
    assert_int_equal(r.truncated[0], 0);
}

static void test_req_and_long_frames(void **state)
{
    static const char ready_req[] = "\x04\x19\x05READY\x0bsocket-type\0\0\0\x03REQ";
    /* a LONG frame of 3 bytes is legal; two messages back to back */
    static const char tail[] = "\x01\x00\x02\0\0\0\0\0\0\0\x03" "abc" "\x00\x01x";
    uint8_t buf[256];
    result r;
    fw_zmtp z;
    (void)state;
    size_t n = session(buf, ready_req, sizeof ready_req - 1, tail, sizeof tail - 1);
    both(buf, n, 1000, 5, &r);
    assert_int_equal(r.nev, 2);
    assert_string_equal(r.frames[0], "|abc|");
    assert_string_equal(r.frames[1], "x|");
    fw_zmtp_init(&z, 1000, 1000, 5);
    run(&z, buf, 64 + sizeof ready_req - 1, 0, &r);
    assert_int_equal(z.req, 1);
    fw_zmtp_free(&z);
}

static void refused(const uint8_t *p, size_t n, const char *why)
{
    result r;
    both(p, n, 1000, 5, &r);
    assert_true(r.nev >= 1);
    assert_int_equal(r.events[r.nev - 1], FW_ZMTP_ERROR);
    assert_non_null(strstr(r.why, why));
}

static void test_not_zmtp3(void **state)
{
    uint8_t buf[256];
    static const uint8_t zmtp2[11] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1};
    static const char pub[] = "\x04\x19\x05READY\x0bSocket-Type\0\0\0\x03PUB";
    static const char notype[] = "\x04\x06\x05READY";
    (void)state;
    refused(S("GET / HTTP/1.1\r\n\r\n"), "not a ZMTP greeting");
    refused(zmtp2, sizeof zmtp2, "ZMTP 2");                 /* refused at its 11th byte */
    refused(S("\xff\0\0\0\0\0\0\0\x01\x01"), "ZMTP 1.0");
    memcpy(buf, greeting, 64);
    memcpy(buf + 12, "CURVE", 5);
    refused(buf, 64, "NULL");
    refused(buf, session(buf, pub, sizeof pub - 1, "", 0), "DEALER or REQ");
    refused(buf, session(buf, notype, sizeof notype - 1, "", 0), "without a Socket-Type");
    refused(buf, session(buf, "", 0, "\x00\x02hi", 4), "before the handshake");
    refused(buf, session(buf, "", 0, "\x04\x05\x04PING", 7), "before READY");
    refused(buf, session(buf, ready_dealer, sizeof ready_dealer - 1,
                         "\x02\x80\0\0\0\0\0\0\0", 9), "2^63");
    refused(buf, session(buf, ready_dealer, sizeof ready_dealer - 1,
                         "\x02\0\0\0\0\0\0\x07\xd0", 9), "size limit");   /* 2000 > 1000 */
    refused(buf, session(buf, ready_dealer, sizeof ready_dealer - 1, "\x08\x00", 2),
            "reserved");
    refused(buf, session(buf, ready_dealer, sizeof ready_dealer - 1, "\x05\x00", 2),
            "command with MORE");
    refused(buf, session(buf, ready_dealer, sizeof ready_dealer - 1,
                         "\x06\0\0\0\0\0\0\x10\0", 9), "command over");
}

static void test_ping_pong(void **state)
{
    uint8_t buf[256], pong[FW_ZMTP_PONG_MAX];
    fw_zmtp z;
    result r;
    (void)state;
    size_t n = session(buf, ready_dealer, sizeof ready_dealer - 1,
                       "\x04\x0a\x04PING\x00\x64" "ctx" "\x04\x05\x04PONG", 19);
    both(buf, n, 1000, 5, &r);
    assert_int_equal(r.nev, 1);
    assert_int_equal(r.events[0], FW_ZMTP_PING);
    fw_zmtp_init(&z, 1000, 1000, 5);
    run(&z, buf, n, 0, &r);
    assert_int_equal(fw_zmtp_pong(&z, pong), 10);
    assert_memory_equal(pong, "\x04\x08\x04PONGctx", 10);
    fw_zmtp_free(&z);
}

/* Past max_bytes the rest streams by, never kept: the frames kept before
 * are delivered, marked; the next message is whole again. */
static void test_message_limits(void **state)
{
    enum { BIG = 3000 };
    uint8_t *buf = malloc(8 * (BIG + 16) + 256);
    size_t n, k;
    fw_zmtp z;
    result r;
    (void)state;
    assert_non_null(buf);
    n = session(buf, ready_dealer, sizeof ready_dealer - 1, "\x01\x00", 2);
    for (int i = 0; i < 6; i++) {              /* 6 frames of 3000 bytes: 18,000 in all */
        static const uint8_t head[9] = {3, 0, 0, 0, 0, 0, 0, BIG >> 8, BIG & 0xff};
        memcpy(buf + n, head, 9);
        if (i == 5)
            buf[n] = 2;
        memset(buf + n + 9, 'a' + i, BIG);
        n += 9 + BIG;
    }
    memcpy(buf + n, "\x01\x00\x00\x02ok", 6);
    n += 6;
    both(buf, n, 10000, 5, &r);
    assert_int_equal(r.nev, 2);
    assert_int_equal(r.truncated[0], FW_ZMTP_TRUNC_BYTES);
    assert_int_equal(r.nframes[0], 4);         /* "", then 3 x 3000 <= 10,000 */
    assert_int_equal(r.total[0], 3 * BIG);
    assert_int_equal(r.truncated[1], 0);
    assert_string_equal(r.frames[1], "|ok|");
    fw_zmtp_init(&z, 10000, 10000, 5);
    run(&z, buf, n - 6, 0, &r);
    assert_true(z.cap <= 10000);               /* what was kept, no more */
    fw_zmtp_free(&z);
    both(buf, n, 1 << 20, 3, &r);              /* 7 frames, 3 kept */
    assert_int_equal(r.truncated[0], FW_ZMTP_TRUNC_FRAMES);
    assert_int_equal(r.nframes[0], 3);
    /* a head announcing 16 MiB and 5 bytes of it: 5 bytes held, not 16 MiB */
    fw_zmtp_init(&z, 32 << 20, 32 << 20, 5);
    k = session(buf, ready_dealer, sizeof ready_dealer - 1, "\x02\0\0\0\0\x01\0\0\0hello", 14);
    run(&z, buf, k, 0, &r);
    assert_int_equal(r.nev, 0);
    assert_true(z.cap < 8192);
    fw_zmtp_free(&z);
    free(buf);
}

/* The buffer of a delivered message changes hands; the next one is read into the other. */
static void test_take(void **state)
{
    uint8_t buf[256], *mine = malloc(64), *got;
    size_t cap, n;
    fw_zmtp z;
    result r;
    (void)state;
    assert_non_null(mine);
    n = session(buf, ready_dealer, sizeof ready_dealer - 1, "\x01\x00\x00\x02hi\x01\x00\x00\x02yo",
                12);
    fw_zmtp_init(&z, 1000, 1000, 5);
    size_t used;
    assert_int_equal(fw_zmtp_feed(&z, buf, n, &used), FW_ZMTP_MESSAGE);
    fw_zmtp_part body = fw_zmtp_part_at(&z, 1);
    got = fw_zmtp_take(&z, mine, 64, &cap);
    assert_ptr_equal(body.p, got + 0);         /* the frames' bytes did not move */
    assert_memory_equal(body.p, "hi", 2);
    run(&z, buf + used, n - used, 0, &r);
    assert_string_equal(r.frames[0], "|yo|");
    assert_ptr_equal(z.buf, mine);
    assert_memory_equal(got, "hi", 2);         /* untouched by the next message */
    free(got);
    fw_zmtp_free(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),          cmocka_unit_test(test_dealer_message),
        cmocka_unit_test(test_req_and_long_frames), cmocka_unit_test(test_not_zmtp3),
        cmocka_unit_test(test_ping_pong),      cmocka_unit_test(test_message_limits),
        cmocka_unit_test(test_take),           cmocka_unit_test(test_client_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
