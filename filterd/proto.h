/* proto.h -- protocol v1 (docs/protocol.md): a bounded msgpack reader, request decoding, reply encoding.
 *
 * The reader never allocates and never recurses: it walks a buffer with
 * bounds checks, so any input is either decoded or refused with a message.
 * Replies are built with msgpack-c's packer into a caller-owned sbuffer.
 *
 *   fd_req r;
 *   int code = fd_req_decode(body, len, max_text, &r, err, sizeof err);
 *   if (code != FD_E_OK) fd_enc_error(&sb, r.id, r.idlen, code, err);
 */
#ifndef FD_PROTO_H
#define FD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define FD_PROTO_VERSION 1
#define FD_ID_MAX 128             /* bytes: longest id (str or bin payload) */
#define FD_FALLBACK_CODE 21000    /* label code of a fallback flag or block ("other") */

/* ---- the reader --------------------------------------------------------- */
enum fd_mp_type { FD_MP_NIL, FD_MP_BOOL, FD_MP_UINT, FD_MP_INT, FD_MP_FLOAT, FD_MP_STR,
                  FD_MP_BIN, FD_MP_ARRAY, FD_MP_MAP, FD_MP_EXT };

typedef struct fd_mpr {
    const uint8_t *p, *end;
} fd_mpr;

typedef struct fd_mpv {
    int type;                 /* enum fd_mp_type */
    uint64_t u;               /* UINT, BOOL */
    int64_t i;                /* INT (negative) */
    double f;                 /* FLOAT */
    const char *s;            /* STR, BIN, EXT payload (points into the buffer) */
    uint32_t len;             /* STR/BIN/EXT bytes; ARRAY items; MAP pairs */
} fd_mpv;

void fd_mp_init(fd_mpr *r, const void *buf, size_t len);
/* Read one value's header (a STR/BIN/EXT's payload too; an ARRAY's or MAP's
 * items stay to be read). 0, or -1 when truncated or invalid (0xc1). */
int fd_mp_read(fd_mpr *r, fd_mpv *v);
/* Skip one whole value, however nested (iteratively). 0 or -1. */
int fd_mp_skip(fd_mpr *r);

/* ---- requests ----------------------------------------------------------- */
enum fd_op { FD_OP_CHECK, FD_OP_PING, FD_OP_RELOAD, FD_OP_STATS, FD_OP_WORKERS,
             FD_OP_VERSION, FD_OP_UNKNOWN };

/* Error codes, as on the wire (fd_err_name). */
enum fd_err { FD_E_OK, FD_E_BAD_REQUEST, FD_E_TOO_LARGE, FD_E_UNKNOWN_OP, FD_E_FORBIDDEN,
              FD_E_INTERNAL, FD_E_RELOAD_FAILED };

typedef struct fd_req {
    int op;                   /* enum fd_op */
    const char *id;           /* the id value's msgpack bytes, echoed as they came */
    size_t idlen;             /* 0: no id */
    const char *text;         /* check: points into the body */
    size_t textlen;
    int has_text;
    int scene;                /* enum fe_scene */
    int64_t budget_ms;        /* -1: the server's default */
    int explain;
} fd_req;

/* Decode one request body. Returns FD_E_OK, or an error code with a message
 * in err; r->id is set whenever the id could be read, so that the error reply
 * can carry it. Strings in r point into buf. */
int fd_req_decode(const void *buf, size_t len, size_t max_text, fd_req *r, char *err,
                  size_t errlen);
const char *fd_err_name(int code);
const char *fd_op_name(int op);
int fd_op_admin(int op);      /* 1 for reload, stats, workers, version */

/* ---- replies ------------------------------------------------------------ */
/* Each starts a map of n pairs with "v": 1 and the id when idlen > 0, so the
 * caller adds n - 1 (- 1 with id) pairs. Returns the packer for chaining. */
void fd_enc_begin(msgpack_packer *pk, size_t n, const char *id, size_t idlen);
void fd_enc_str(msgpack_packer *pk, const char *s);
void fd_enc_kv_str(msgpack_packer *pk, const char *k, const char *v);
void fd_enc_kv_uint(msgpack_packer *pk, const char *k, uint64_t v);
/* The last pair of a decision reply: "elapsed_us" as a fixed 9-byte uint64,
 * patched later by fd_enc_patch_elapsed(). */
void fd_enc_elapsed(msgpack_packer *pk, uint64_t us);
int fd_enc_patch_elapsed(void *reply, size_t len, uint64_t us); /* 0, or -1 if no slot */

/* {v, id?, error:{code, message}} */
void fd_enc_error(msgpack_packer *pk, const char *id, size_t idlen, int code, const char *msg);
/* {v, id?, op:"pong", version} */
void fd_enc_pong(msgpack_packer *pk, const char *id, size_t idlen, const char *version);
/* A decision without matches: the fallback (degraded "deadline"/"overload",
 * one optional warning) or, with degraded NULL, the echo mode's allow. */
void fd_enc_plain(msgpack_packer *pk, const char *id, size_t idlen, int action,
                  const char *version, const char *degraded, const char *warning,
                  uint64_t elapsed_us);

#endif
