/* tu_msgpack.h -- a msgpack map builder for tests that write requests by hand. */
#ifndef TU_MSGPACK_H
#define TU_MSGPACK_H

#include <stddef.h>

#include <msgpack.h>

/* pk writes into sb; release with msgpack_sbuffer_destroy(&m->sb). */
typedef struct tu_mp {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} tu_mp;

void tu_mp_open(tu_mp *m);                   /* a new empty buffer */
void tu_mp_begin(tu_mp *m, size_t pairs);    /* a new buffer holding a map of pairs */
void tu_mp_str(tu_mp *m, const char *s);
void tu_mp_kv(tu_mp *m, const char *k, const char *v);   /* two strs */

#endif
