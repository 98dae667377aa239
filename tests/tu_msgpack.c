/* tu_msgpack.c -- a msgpack map builder for tests that write requests by hand. */
#include <string.h>

#include "tu_msgpack.h"

void tu_mp_open(tu_mp *m)
{
    msgpack_sbuffer_init(&m->sb);
    msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
}

void tu_mp_begin(tu_mp *m, size_t pairs)
{
    tu_mp_open(m);
    msgpack_pack_map(&m->pk, pairs);
}

void tu_mp_str(tu_mp *m, const char *s)
{
    msgpack_pack_str_with_body(&m->pk, s, strlen(s));
}

void tu_mp_kv(tu_mp *m, const char *k, const char *v)
{
    tu_mp_str(m, k);
    tu_mp_str(m, v);
}
