/* wire.h -- protocol v1 (docs/protocol.md): the one module that knows the wire format.
 *
 * The daemon decodes requests and encodes replies with it; the client library
 * encodes requests and decodes replies with it; filterctl (and anything else
 * that shows a reply to a person or a program) renders a reply as JSON with
 * it. Keys, codes, names and frame letters are defined here and nowhere else.
 *
 *   fw_request q;
 *   int code = fw_request_decode(body, len, &limits, &q, err, sizeof err);
 *   if (code != FW_E_OK) fw_enc_error(pk, q.id, q.idlen, code, err);
 *
 * The reader (fw_mp_*) faces untrusted input: it never allocates and never
 * recurses. Encoders write through msgpack-c's packer into a caller-owned
 * buffer. A decoded reply owns its strings: fw_reply_free(). */
#ifndef FW_WIRE_H
#define FW_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <msgpack.h>

#define FW_VERSION 1
#define FW_ID_MAX 128             /* bytes: longest id (str or bin payload) */
#define FW_CODE_PASS 100          /* msgSecCheck label code of an allowed text */
#define FW_CODE_FALLBACK 21000    /* label code of a fallback flag or block ("other") */
#define FW_MAX_VIEWS 8            /* views in an explained reply */

/* ---- vocabulary ---------------------------------------------------------- */
enum fw_op { FW_OP_CHECK, FW_OP_PING, FW_OP_RELOAD, FW_OP_STATS, FW_OP_WORKERS,
             FW_OP_VERSION, FW_OP_UNKNOWN };
/* Error codes, as on the wire (fw_err_name). */
enum fw_err { FW_E_OK, FW_E_BAD_REQUEST, FW_E_TOO_LARGE, FW_E_UNKNOWN_OP, FW_E_FORBIDDEN,
              FW_E_INTERNAL, FW_E_RELOAD_FAILED };
/* Decisions, in increasing severity (the engine's fe_action order). */
enum fw_decision { FW_ALLOW, FW_FLAG, FW_BLOCK };
/* Why a decision is the fallback, not a scan. */
enum fw_degraded { FW_DEG_NONE, FW_DEG_DEADLINE, FW_DEG_OVERLOAD, FW_DEG_UNAVAILABLE,
                   FW_NDEGRADED };

const char *fw_op_name(int op);
int fw_op_admin(int op);                 /* 1 for reload, stats, workers, version */
const char *fw_err_name(int code);
const char *fw_decision_name(int d);     /* block, flag, allow */
const char *fw_decision_suggest(int d);  /* risky, review, pass */
int fw_decision_lookup(const char *name);/* -1 if unknown */
const char *fw_degraded_name(int why);   /* NULL for FW_DEG_NONE */

/* ---- the bounded msgpack reader ----------------------------------------- */
enum fw_mp_type { FW_MP_NIL, FW_MP_BOOL, FW_MP_UINT, FW_MP_INT, FW_MP_FLOAT, FW_MP_STR,
                  FW_MP_BIN, FW_MP_ARRAY, FW_MP_MAP, FW_MP_EXT };

typedef struct fw_mpr {
    const uint8_t *p, *end;
} fw_mpr;

typedef struct fw_mpv {
    int type;                 /* enum fw_mp_type */
    uint64_t u;               /* UINT, BOOL */
    int64_t i;                /* INT (negative) */
    double f;                 /* FLOAT */
    const char *s;            /* STR, BIN, EXT payload (points into the buffer) */
    uint32_t len;             /* STR/BIN/EXT bytes; ARRAY items; MAP pairs */
} fw_mpv;

void fw_mp_init(fw_mpr *r, const void *buf, size_t len);
/* Read one value's header (a STR/BIN/EXT's payload too; an ARRAY's or MAP's
 * items stay to be read). 0, or -1 when truncated or invalid (0xc1). */
int fw_mp_read(fw_mpr *r, fw_mpv *v);
/* Skip one whole value, however nested (iteratively). 0 or -1. */
int fw_mp_skip(fw_mpr *r);
/* 1 when v is a STR equal to name. */
int fw_mp_is(const fw_mpv *v, const char *name);

/* ---- requests ------------------------------------------------------------ */
/* What a decoder accepts: the server's limits and its scene names. */
typedef struct fw_limits {
    size_t max_text;              /* bytes of text; longer is too_large */
    const char *const *scenes;    /* the scene names, by index */
    int nscenes;
    int default_scene;            /* when the request names none */
    uint32_t max_items;           /* texts in a bulk request; more is too_large */
} fw_limits;

typedef struct fw_request {
    int op;                   /* enum fw_op */
    const char *id;           /* decode: the id value's msgpack bytes, echoed as they came */
    size_t idlen;             /* 0: no id */
    const char *text;         /* check: points into the body */
    size_t textlen;
    int has_text;
    int scene;                /* index into fw_limits.scenes */
    const char *scene_name;   /* encode: NULL for the server's default */
    int64_t budget_ms;        /* -1: the server's default */
    int explain;
    int bulk;                 /* decode: the request carries items (a bulk check) */
    const uint8_t *items;     /* decode: the first item, in the body (fw_items_next) */
    size_t items_len;         /* bytes from there to the end of the array */
    uint32_t nitems;
} fw_request;

/* One text of a bulk request: its own id (msgpack bytes, 0: none), text and
 * scene (the request's when the item names none). Strings point into the body. */
typedef struct fw_item {
    const char *id;
    size_t idlen;
    const char *text;
    size_t textlen;
    int scene;
} fw_item;

typedef struct fw_items {     /* a walk over a decoded bulk request's items */
    fw_mpr r;
    uint32_t left;
} fw_items;

/* Decode one request body. Returns FW_E_OK, or an error code with a message
 * in err; r->id is set whenever the id could be read, so that the error reply
 * can carry it. Strings in r point into buf. */
int fw_request_decode(const void *buf, size_t len, const fw_limits *lim, fw_request *r,
                      char *err, size_t errlen);
/* Encode r (op, text, scene_name, budget_ms > 0, explain) with a uint id.
 * 0, or -1 when the packer failed (out of memory). */
int fw_request_encode(msgpack_packer *pk, const fw_request *r, uint64_t id);
/* A bulk check: r's scene_name, budget_ms and explain for the whole request,
 * then items[0..n) (their text and scene_name; no ids: results come in order). */
int fw_request_encode_bulk(msgpack_packer *pk, const fw_request *r, const fw_request *items,
                           size_t n, uint64_t id);

/* Walk the items of a request that fw_request_decode accepted with bulk set.
 * fw_items_next decodes the next one: FW_E_OK, or that item's own error code
 * with a message in err (the other items are still good); -1 when none is
 * left. The walk never reads outside the body (the decoder checked its shape). */
void fw_items_begin(fw_items *it, const fw_request *q);
int fw_items_next(fw_items *it, const fw_limits *lim, const fw_request *q, fw_item *out,
                  char *err, size_t errlen);

/* ---- replies ------------------------------------------------------------- */
typedef struct fw_match {
    uint32_t start, end;      /* byte offsets into the text as sent; end exclusive */
    const char *term;         /* the list entry as written */
    const char *label;        /* taxonomy label name ("porn") */
    const char *action;       /* block, flag or allow, after the scene policy */
    const char *list;         /* the entry's file, relative to the list folder */
    uint32_t line;            /* the entry's line */
    const char *via;          /* the view that matched: folded, compact, ... */
    const char **chain;       /* explain only: how it was found, step by step (may be 0) */
    size_t nchain;
} fw_match;

typedef struct fw_view {
    const char *name;         /* folded, compact, ... */
    const char *text;         /* the normalised text (NUL-terminated when decoded) */
    size_t len;
} fw_view;

/* A reply: a decision, or an error (error set). Encoders read it; the
 * decoder fills it and then owns every pointer in it (fw_reply_free). */
typedef struct fw_reply {
    int decision;             /* enum fw_decision */
    int label;                /* msgSecCheck code of the deciding match; FW_CODE_PASS */
    const char **labels;      /* labels of the reported matches that count */
    size_t nlabels;
    fw_match *matches;        /* the reported matches, by start (docs/protocol.md) */
    size_t nmatches;
    const char **warnings;    /* invalid_utf8, nul, truncated, worker_lost */
    size_t nwarnings;
    const char *version;      /* the lists that answered; "" when unknown */
    const char *degraded;     /* NULL, deadline, overload or (client side) unavailable */
    fw_view *views;           /* explain only */
    size_t nviews;
    uint64_t elapsed_us;      /* time inside filterd */
    const char *error;        /* an error reply's code (bad_request, ...), else NULL */
    const char *error_message;
    uint64_t id;              /* the client's request id */
    int has_id;               /* decoded: the reply carried a uint id */
    int tries;                /* client side: sends it took */
    struct fw_reply *results; /* decoded bulk reply: one reply per item, in order */
    size_t nresults;
} fw_reply;

/* Map helpers for replies the daemon builds field by field (admin). Each
 * reply map starts with fw_enc_begin: n pairs with "v": 1 and the id when
 * idlen > 0, so the caller adds n - 1 (- 1 with id) pairs. */
void fw_enc_begin(msgpack_packer *pk, size_t n, const char *id, size_t idlen);
void fw_enc_str(msgpack_packer *pk, const char *s);
void fw_enc_kv_str(msgpack_packer *pk, const char *k, const char *v);  /* NULL v: nil */
void fw_enc_kv_uint(msgpack_packer *pk, const char *k, uint64_t v);

/* {v, id?, decision, suggest, label, labels, matches, warnings, version,
 * degraded, views?, elapsed_us}: elapsed_us always last, as a fixed 9-byte
 * uint64 that fw_patch_elapsed() can rewrite in place. */
void fw_enc_decision(msgpack_packer *pk, const char *id, size_t idlen, const fw_reply *r);
int fw_patch_elapsed(void *reply, size_t len, uint64_t us);   /* 0, or -1 if no slot */
/* {v, id?, error: {code, message}} */
void fw_enc_error(msgpack_packer *pk, const char *id, size_t idlen, int code, const char *msg);

/* A bulk reply: {v, id?, results: [n item results], elapsed_us}. The caller
 * writes the n results between begin and end: each one fw_enc_item or
 * fw_enc_item_error (or bytes they wrote earlier). elapsed_us is the same
 * fixed 9-byte slot as a decision's, for fw_patch_elapsed(). */
void fw_enc_bulk_begin(msgpack_packer *pk, const char *id, size_t idlen, size_t n);
void fw_enc_bulk_end(msgpack_packer *pk, uint64_t elapsed_us);
/* One item's result: the decision's map without v and elapsed_us, with the
 * item's id when it had one; or {id?, error: {code, message}}. */
void fw_enc_item(msgpack_packer *pk, const char *id, size_t idlen, const fw_reply *r);
void fw_enc_item_error(msgpack_packer *pk, const char *id, size_t idlen, int code,
                       const char *msg);
/* {v, id?, op: "pong", version} */
void fw_enc_pong(msgpack_packer *pk, const char *id, size_t idlen, const char *version);
/* The fallback decision (r borrows version): FW_CODE_FALLBACK (FW_CODE_PASS
 * for allow), no labels, no matches, degraded why (FW_DEG_*). */
void fw_fallback(fw_reply *r, int decision, const char *version, int why);

/* Decode a reply into r, which then owns its strings: 0 for a decision or
 * an error reply (r->error set), 1 for a pong (r->version set), 2 for a bulk
 * reply (r->results[0..nresults): each a decision or an item error), -1 with
 * a message in err when it is none of them (r is left empty but for id and
 * has_id, when the id could be read). */
int fw_reply_decode(const void *buf, size_t len, fw_reply *r, char *err, size_t errlen);
void fw_reply_free(fw_reply *r);   /* a decoded reply (and its results); safe on a zeroed one */

/* ---- JSON ---------------------------------------------------------------- */
/* The JSON object of a reply, with the fields of fw_enc_decision in the same
 * order ("id" first when with_id: a copy of id, or null); empty warnings, a
 * nil degraded and elapsed_us are left out. An error reply is {"id"?,
 * "error": "code: message"}. Caller frees. NULL when out of memory. */
cJSON *fw_reply_json(const fw_reply *r, const cJSON *id, int with_id);
/* {"id": ..., "error": msg}; id copied, left out when NULL. Caller frees. */
cJSON *fw_error_json(const cJSON *id, const char *msg);
/* JSON straight into a growing buffer, byte for byte what cJSON_PrintUnformatted
 * prints for the same value (the HTTP front door's answers, without a tree;
 * fw_reply_json's tree, read from it, prints the same bytes again).
 * Start from {0}; p is malloc'd (NUL-terminated), the caller's; oom set when
 * memory ran out (p is then incomplete). */
typedef struct fw_jbuf {
    char *p;
    size_t len, cap;
    int oom;
} fw_jbuf;
void fw_jb_raw(fw_jbuf *b, const char *s, size_t n);
#define FW_JB_LIT(b, lit) fw_jb_raw((b), "" lit, sizeof(lit) - 1)   /* a string literal */
void fw_jb_str(fw_jbuf *b, const char *s, size_t n);   /* quoted; up to n bytes or a NUL */
void fw_jb_int(fw_jbuf *b, long long v);
void fw_jb_json(fw_jbuf *b, const cJSON *v);            /* any value (an id) */
/* The JSON text of a reply, appended to b: the one rendering of a decision
 * as JSON (fw_reply_json is it read back into a tree). */
void fw_reply_json_to(fw_jbuf *b, const fw_reply *r, const cJSON *id, int with_id);
/* Any msgpack object as JSON (bin becomes a string; non-string keys are
 * printed). NULL unless buf is exactly one object. Caller frees. */
cJSON *fw_msgpack_to_json(const void *buf, size_t len, char *err, size_t errlen);

#endif
