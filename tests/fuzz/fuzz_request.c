/* fuzz_request.c -- libFuzzer harness: the daemon's request decoder (fw_request_decode).
 *
 * Any bytes are a request body. The decoder must never read outside them,
 * and what it accepts must make sense: strings inside the body, the text
 * within max-text-bytes, the scene a real one. An accepted check is encoded
 * again (fw_request_encode) and decoded once more: the same text, scene,
 * budget and explain flag must come back. A bulk check (issue 11) is walked
 * item by item: each item's id and text inside the body, an accepted item's
 * text within the limit and its scene a real one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "wire.h"

#define MAX_TEXT 256   /* bytes: small, so that too_large is reachable */
#define MAX_ITEMS 8    /* texts in a bulk check: small, for the same reason */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
    const uint8_t *s = p;
    if (n && (s < data || s + n > data + size))
        abort();
}

static void round_trip(const fw_limits *lim, const fw_request *q)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    fw_request enc = *q, back;
    char err[256];

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    enc.scene_name = lim->scenes[q->scene];
    if (fw_request_encode(&pk, &enc, 7) < 0)
        abort();
    int code = fw_request_decode(sb.data, sb.size, lim, &back, err, sizeof err);
    if (code != FW_E_OK || back.op != q->op || back.textlen != q->textlen ||
        memcmp(back.text, q->text, q->textlen) || back.scene != q->scene ||
        back.budget_ms != (q->budget_ms > 0 ? q->budget_ms : -1) ||
        back.explain != !!q->explain)
        abort();
    msgpack_sbuffer_destroy(&sb);
}

static void walk_items(const fw_limits *lim, const fw_request *q, const uint8_t *data,
                       size_t size)
{
    fw_items it;
    fw_item item;
    char err[256] = "";
    uint32_t n = 0;
    int code;

    if (q->nitems > MAX_ITEMS)
        abort();
    fw_items_begin(&it, q);
    while ((code = fw_items_next(&it, lim, q, &item, err, sizeof err)) != -1) {
        if (++n > q->nitems || memchr(err, '\0', sizeof err) == NULL)
            abort();
        if (code != FW_E_OK) {
            if (!err[0])
                abort();
            continue;
        }
        check_inside(item.id, item.idlen, data, size);
        check_inside(item.text, item.textlen, data, size);
        if (item.textlen > MAX_TEXT || item.scene < 0 || item.scene >= lim->nscenes)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fw_limits lim = {MAX_TEXT, fe_scene_names(), FE_NSCENES, FE_SCENE_DEFAULT, MAX_ITEMS};
    fw_request q;
    char err[256];

    int code = fw_request_decode(data, size, &lim, &q, err, sizeof err);
    if (memchr(err, '\0', sizeof err) == NULL || (code != FW_E_OK && !err[0]))
        abort();
    check_inside(q.id, q.idlen, data, size);
    if (code != FW_E_OK)
        return 0;
    if (q.op < 0 || q.op >= FW_OP_UNKNOWN || q.scene < 0 || q.scene >= lim.nscenes)
        abort();
    if (q.op == FW_OP_CHECK && q.bulk) {
        walk_items(&lim, &q, data, size);
    } else if (q.op == FW_OP_CHECK) {
        if (!q.has_text || q.textlen > MAX_TEXT)
            abort();
        check_inside(q.text, q.textlen, data, size);
        round_trip(&lim, &q);
    }
    return 0;
}
