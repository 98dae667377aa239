/* reply.c -- protocol v1 replies in msgpack: names and encoders (decode.c decodes).
 *
 * Encoders write through msgpack-c's packer. A decision walks the field
 * table of fields.h, as json.c does, so both renderings agree. A bulk reply
 * is a frame (fw_enc_bulk_begin / _end) around item results that the daemon
 * encodes one by one as they come (fw_enc_item, fw_enc_item_error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

static const char *const decisions[] = {"allow", "flag", "block"};
static const char *const suggests[] = {"pass", "review", "risky"};
static const char *const degraded_names[FW_NDEGRADED] = {NULL, "deadline", "overload",
                                                         "unavailable"};

const char *const fw_field_key[F_NFIELDS] = {
    [F_DECISION] = "decision", [F_SUGGEST] = "suggest", [F_LABEL] = "label",
    [F_LABELS] = "labels", [F_MATCHES] = "matches", [F_WARNINGS] = "warnings",
    [F_VERSION] = "version", [F_DEGRADED] = "degraded", [F_VIEWS] = "views",
    [F_ELAPSED] = "elapsed_us"};
const char *const fw_mfield_key[M_NFIELDS] = {
    [M_START] = "start", [M_END] = "end", [M_TERM] = "term", [M_LABEL] = "label",
    [M_ACTION] = "action", [M_LIST] = "list", [M_LINE] = "line", [M_VIA] = "via",
    [M_CHAIN] = "chain"};

const char *fw_decision_name(int d) { return d >= 0 && d <= FW_BLOCK ? decisions[d] : "?"; }
const char *fw_decision_suggest(int d) { return d >= 0 && d <= FW_BLOCK ? suggests[d] : "?"; }

int fw_decision_lookup(const char *name)
{
    for (int i = 0; i <= FW_BLOCK; i++)
        if (!strcmp(name, decisions[i]))
            return i;
    return -1;
}

const char *fw_degraded_name(int why)
{
    return why > 0 && why < FW_NDEGRADED ? degraded_names[why] : NULL;
}

int fw_field_present(const fw_reply *r, int f, int json)
{
    switch (f) {
    case F_VIEWS: return r->nviews > 0;
    case F_WARNINGS: return !json || r->nwarnings > 0;
    case F_DEGRADED: return !json || r->degraded != NULL;
    case F_ELAPSED: return !json;
    default: return 1;
    }
}

int fw_mfield_count(int explain)
{
    return explain ? M_NFIELDS : M_CHAIN;
}

const char *fw_mfield_str(const fw_match *m, int f)
{
    const char *s = f == M_TERM ? m->term : f == M_LABEL ? m->label : f == M_ACTION ? m->action
                  : f == M_LIST ? m->list : m->via;
    return s ? s : "";
}

/* ---- encoding ------------------------------------------------------------- */

void fw_enc_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

void fw_enc_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    fw_enc_str(pk, k);
    if (v)
        fw_enc_str(pk, v);
    else
        msgpack_pack_nil(pk);
}

void fw_enc_kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
    fw_enc_str(pk, k);
    msgpack_pack_uint64(pk, v);
}

void fw_enc_begin(msgpack_packer *pk, size_t n, const char *id, size_t idlen)
{
    msgpack_pack_map(pk, n);
    fw_enc_kv_uint(pk, "v", FW_VERSION);
    if (idlen) {
        fw_enc_str(pk, "id");
        pk->callback(pk->data, id, idlen);   /* the id's bytes as they came */
    }
}

static void enc_strv(msgpack_packer *pk, const char *const *v, size_t n)
{
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        fw_enc_str(pk, v[i]);
}

static void enc_match(msgpack_packer *pk, const fw_match *m, int explain)
{
    int n = fw_mfield_count(explain);
    msgpack_pack_map(pk, (size_t)n);
    for (int f = 0; f < n; f++) {
        fw_enc_str(pk, fw_mfield_key[f]);
        if (f == M_CHAIN)
            enc_strv(pk, m->chain, m->nchain);
        else if (f == M_START || f == M_END || f == M_LINE)
            msgpack_pack_uint32(pk, f == M_START ? m->start : f == M_END ? m->end : m->line);
        else
            fw_enc_str(pk, fw_mfield_str(m, f));
    }
}

static void enc_field(msgpack_packer *pk, const fw_reply *r, int f)
{
    switch (f) {
    case F_DECISION: fw_enc_str(pk, fw_decision_name(r->decision)); break;
    case F_SUGGEST: fw_enc_str(pk, fw_decision_suggest(r->decision)); break;
    case F_LABEL: msgpack_pack_uint64(pk, (uint64_t)r->label); break;
    case F_LABELS: enc_strv(pk, r->labels, r->nlabels); break;
    case F_MATCHES:
        msgpack_pack_array(pk, r->nmatches);
        for (size_t i = 0; i < r->nmatches; i++)
            enc_match(pk, &r->matches[i], r->nviews > 0);
        break;
    case F_WARNINGS: enc_strv(pk, r->warnings, r->nwarnings); break;
    case F_VERSION: fw_enc_str(pk, r->version ? r->version : ""); break;
    case F_DEGRADED:
        if (r->degraded)
            fw_enc_str(pk, r->degraded);
        else
            msgpack_pack_nil(pk);
        break;
    case F_VIEWS:
        msgpack_pack_map(pk, r->nviews);
        for (size_t i = 0; i < r->nviews; i++) {
            fw_enc_str(pk, r->views[i].name);
            msgpack_pack_str_with_body(pk, r->views[i].text, r->views[i].len);
        }
        break;
    case F_ELAPSED: msgpack_pack_fix_uint64(pk, r->elapsed_us); break;
    }
}

/* The fields of a decision; an item's leave out elapsed_us (the bulk reply has one). */
static void enc_fields(msgpack_packer *pk, const fw_reply *r, int item)
{
    for (int f = 0; f < F_NFIELDS; f++)
        if (fw_field_present(r, f, 0) && !(item && f == F_ELAPSED)) {
            fw_enc_str(pk, fw_field_key[f]);
            enc_field(pk, r, f);
        }
}

static size_t count_fields(const fw_reply *r)
{
    size_t n = 0;
    for (int f = 0; f < F_NFIELDS; f++)
        n += (size_t)fw_field_present(r, f, 0);
    return n;
}

void fw_enc_decision(msgpack_packer *pk, const char *id, size_t idlen, const fw_reply *r)
{
    fw_enc_begin(pk, 1 + (idlen > 0) + count_fields(r), id, idlen);
    enc_fields(pk, r, 0);
}

/* An item's map starts with its id, if it has one. */
static void item_begin(msgpack_packer *pk, size_t n, const char *id, size_t idlen)
{
    msgpack_pack_map(pk, n + (idlen > 0));
    if (idlen) {
        fw_enc_str(pk, "id");
        pk->callback(pk->data, id, idlen);
    }
}

void fw_enc_item(msgpack_packer *pk, const char *id, size_t idlen, const fw_reply *r)
{
    item_begin(pk, count_fields(r) - 1, id, idlen);
    enc_fields(pk, r, 1);
}

int fw_patch_elapsed(void *reply, size_t len, uint64_t us)
{
    uint8_t *p = reply;
    if (len < 9 || p[len - 9] != 0xcf)
        return -1;
    for (int i = 0; i < 8; i++)
        p[len - 8 + i] = (uint8_t)(us >> (56 - 8 * i));
    return 0;
}

static void enc_error_value(msgpack_packer *pk, int code, const char *msg)
{
    fw_enc_str(pk, "error");
    msgpack_pack_map(pk, 2);
    fw_enc_kv_str(pk, "code", fw_err_name(code));
    fw_enc_kv_str(pk, "message", msg);
}

void fw_enc_error(msgpack_packer *pk, const char *id, size_t idlen, int code, const char *msg)
{
    fw_enc_begin(pk, idlen ? 3 : 2, id, idlen);
    enc_error_value(pk, code, msg);
}

void fw_enc_item_error(msgpack_packer *pk, const char *id, size_t idlen, int code,
                       const char *msg)
{
    item_begin(pk, 1, id, idlen);
    enc_error_value(pk, code, msg);
}

void fw_enc_bulk_begin(msgpack_packer *pk, const char *id, size_t idlen, size_t n)
{
    fw_enc_begin(pk, idlen ? 4 : 3, id, idlen);
    fw_enc_str(pk, "results");
    msgpack_pack_array(pk, n);
}

void fw_enc_bulk_end(msgpack_packer *pk, uint64_t elapsed_us)
{
    fw_enc_str(pk, fw_field_key[F_ELAPSED]);
    msgpack_pack_fix_uint64(pk, elapsed_us);
}

void fw_enc_pong(msgpack_packer *pk, const char *id, size_t idlen, const char *version)
{
    fw_enc_begin(pk, idlen ? 4 : 3, id, idlen);
    fw_enc_kv_str(pk, "op", "pong");
    fw_enc_kv_str(pk, "version", version);
}

void fw_fallback(fw_reply *r, int decision, const char *version, int why)
{
    memset(r, 0, sizeof *r);
    r->decision = decision;
    r->label = decision == FW_ALLOW ? FW_CODE_PASS : FW_CODE_FALLBACK;
    r->version = version;
    r->degraded = fw_degraded_name(why);
}
