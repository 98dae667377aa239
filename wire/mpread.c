/* mpread.c -- a bounded msgpack reader for untrusted input.
 *
 * Requests come from anyone who can connect, so the reader is written for
 * hostile input: every length is checked against the bytes left before it
 * is used, nesting is walked with a counter instead of recursion, and a
 * container that claims more items than bytes remain is refused at once
 * (each item takes at least one byte). Nothing is allocated. */

#include "wire.h"

void fw_mp_init(fw_mpr *r, const void *buf, size_t len)
{
    r->p = buf;
    r->end = r->p + len;
}

static int need(const fw_mpr *r, size_t n)
{
    return (size_t)(r->end - r->p) >= n ? 0 : -1;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = x << 8 | p[i];
    return x;
}

/* Read an n-byte big-endian length or value after the type byte. */
static int take(fw_mpr *r, int n, uint64_t *x)
{
    if (need(r, (size_t)n) < 0)
        return -1;
    *x = be(r->p, n);
    r->p += n;
    return 0;
}

static int payload(fw_mpr *r, fw_mpv *v, uint64_t n)
{
    if (need(r, n) < 0)
        return -1;
    v->s = (const char *)r->p;
    v->len = (uint32_t)n;
    r->p += n;
    return 0;
}

static int container(fw_mpr *r, fw_mpv *v, int type, uint64_t n)
{
    v->type = type;
    v->len = (uint32_t)n;
    /* every item takes at least one byte: refuse impossible counts now */
    return need(r, type == FW_MP_MAP ? n * 2 : n);
}

static int read_ext(fw_mpr *r, fw_mpv *v, uint64_t n)
{
    v->type = FW_MP_EXT;
    if (need(r, 1) < 0)
        return -1;
    r->p++;                     /* the ext type byte */
    return payload(r, v, n);
}

int fw_mp_read(fw_mpr *r, fw_mpv *v)
{
    uint64_t x;
    memset(v, 0, sizeof *v);
    if (need(r, 1) < 0)
        return -1;
    uint8_t c = *r->p++;
    if (c <= 0x7f) {
        v->type = FW_MP_UINT;
        v->u = c;
        return 0;
    }
    if (c >= 0xe0) {
        v->type = FW_MP_INT;
        v->i = (int8_t)c;
        return 0;
    }
    if ((c & 0xf0) == 0x80)
        return container(r, v, FW_MP_MAP, c & 0x0f);
    if ((c & 0xf0) == 0x90)
        return container(r, v, FW_MP_ARRAY, c & 0x0f);
    if ((c & 0xe0) == 0xa0) {
        v->type = FW_MP_STR;
        return payload(r, v, c & 0x1f);
    }
    switch (c) {
    case 0xc0: v->type = FW_MP_NIL; return 0;
    case 0xc2: case 0xc3: v->type = FW_MP_BOOL; v->u = c == 0xc3; return 0;
    case 0xc4: case 0xc5: case 0xc6:
        v->type = FW_MP_BIN;
        return take(r, 1 << (c - 0xc4), &x) < 0 ? -1 : payload(r, v, x);
    case 0xc7: case 0xc8: case 0xc9:
        return take(r, 1 << (c - 0xc7), &x) < 0 ? -1 : read_ext(r, v, x);
    case 0xca: case 0xcb: {
        int n = c == 0xca ? 4 : 8;
        if (take(r, n, &x) < 0)
            return -1;
        v->type = FW_MP_FLOAT;
        if (n == 4) {
            uint32_t w = (uint32_t)x;
            float f;
            memcpy(&f, &w, 4);
            v->f = f;
        } else
            memcpy(&v->f, &x, 8);
        return 0;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        v->type = FW_MP_UINT;
        return take(r, 1 << (c - 0xcc), &v->u);
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        int n = 1 << (c - 0xd0);
        if (take(r, n, &x) < 0)
            return -1;
        int64_t s = n == 8 ? (int64_t)x : (int64_t)(x ^ (1ull << (n * 8 - 1))) - (1ll << (n * 8 - 1));
        v->type = s >= 0 ? FW_MP_UINT : FW_MP_INT;
        v->u = s >= 0 ? (uint64_t)s : 0;
        v->i = s;
        return 0;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        return read_ext(r, v, 1u << (c - 0xd4));
    case 0xd9: case 0xda: case 0xdb:
        v->type = FW_MP_STR;
        return take(r, 1 << (c - 0xd9), &x) < 0 ? -1 : payload(r, v, x);
    case 0xdc: case 0xdd:
        return take(r, c == 0xdc ? 2 : 4, &x) < 0 ? -1 : container(r, v, FW_MP_ARRAY, x);
    case 0xde: case 0xdf:
        return take(r, c == 0xde ? 2 : 4, &x) < 0 ? -1 : container(r, v, FW_MP_MAP, x);
    default:
        return -1;              /* 0xc1: never used */
    }
}

int fw_mp_skip(fw_mpr *r)
{
    uint64_t left = 1;          /* values still to skip */
    fw_mpv v;
    while (left > 0) {
        if (fw_mp_read(r, &v) < 0)
            return -1;
        left--;
        if (v.type == FW_MP_ARRAY)
            left += v.len;
        else if (v.type == FW_MP_MAP)
            left += 2ull * v.len;
        if (left > (uint64_t)(r->end - r->p))
            return -1;
    }
    return 0;
}

/* Byte by byte, stopping at the first difference: a decoder asks each key
 * against a table of names, and most differ in their first byte (no strlen
 * of every name). */
int fw_mp_is(const fw_mpv *v, const char *name)
{
    if (v->type != FW_MP_STR)
        return 0;
    size_t i = 0;
    for (; i < v->len; i++)
        if (!name[i] || name[i] != v->s[i])
            return 0;
    return name[i] == '\0';
}
