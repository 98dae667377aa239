/* echod.c -- the transport's floor: a ROUTER that answers protocol v1 itself, no broker.
 *
 * Usage: echod EP
 *
 * One thread, one ROUTER socket bound on EP, no workers: every check is
 * answered "allow" at once, every ping with a pong. The reply is what a
 * filterd worker sends in echo mode (id echoed, empty labels and matches),
 * so that filterbench against echod measures the client, ZeroMQ and one
 * msgpack decode and encode: what is left when the broker hop and the
 * worker's scan are gone. It is a benchmark baseline, not a server:
 * requests it cannot decode are dropped. SIGTERM or SIGINT stops it.
 *
 *   [client id][""][request]  -->  ROUTER  -->  [client id][""][reply]  */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>
#include <zmq.h>

#include "fclient.h"


#define ED_VERSION "echod"
#define ED_MAX_FRAMES 8           /* envelope frames kept, body included */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static const msgpack_object *mget(const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            !memcmp(k->via.str.ptr, key, n))
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* The reply to one request body into sb; -1 when it is not a msgpack map. */
static int answer(msgpack_sbuffer *sb, const char *body, size_t len)
{
    msgpack_unpacked u;
    msgpack_packer pk;
    size_t off = 0;
    int rc = -1;

    msgpack_unpacked_init(&u);
    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (msgpack_unpack_next(&u, body, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP)
        goto out;
    const msgpack_object *id = mget(&u.data, "id"), *op = mget(&u.data, "op");
    int ping = op && op->type == MSGPACK_OBJECT_STR && op->via.str.size == 4 &&
               !memcmp(op->via.str.ptr, "ping", 4);
    msgpack_pack_map(&pk, ping ? 4 : 11);
    pack_str(&pk, "v"), msgpack_pack_uint8(&pk, 1);
    pack_str(&pk, "id");
    if (id)
        msgpack_pack_object(&pk, *id);
    else
        msgpack_pack_nil(&pk);
    pack_str(&pk, "version"), pack_str(&pk, ED_VERSION);
    if (ping) {
        pack_str(&pk, "op"), pack_str(&pk, "pong");
    } else {
        pack_str(&pk, "decision"), pack_str(&pk, "allow");
        pack_str(&pk, "suggest"), pack_str(&pk, "pass");
        pack_str(&pk, "label"), msgpack_pack_uint16(&pk, 100);
        pack_str(&pk, "labels"), msgpack_pack_array(&pk, 0);
        pack_str(&pk, "matches"), msgpack_pack_array(&pk, 0);
        pack_str(&pk, "elapsed_us"), msgpack_pack_uint8(&pk, 0);
        pack_str(&pk, "degraded"), msgpack_pack_nil(&pk);
        pack_str(&pk, "warnings"), msgpack_pack_array(&pk, 0);
    }
    rc = 0;
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Read one whole message; its frame count, or -1 on error or signal. */
static int recv_frames(void *sock, zmq_msg_t *f, int max)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t *m = &f[n < max ? n : max - 1];
        if (n >= max)
            zmq_msg_close(m);
        zmq_msg_init(m);
        if (zmq_msg_recv(m, sock, 0) < 0) {
            for (int i = 0; i <= (n < max ? n : max - 1); i++)
                zmq_msg_close(&f[i]);
            return -1;
        }
        more = zmq_msg_more(m);
        n += n < max;
    }
    return n;
}

/* Envelope frames back as they came, then the reply body. */
static void reply(void *sock, zmq_msg_t *f, int n, const msgpack_sbuffer *sb)
{
    for (int i = 0; i < n - 1; i++)
        zmq_msg_send(&f[i], sock, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(sock, sb->data, sb->size, ZMQ_DONTWAIT);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);   /* sent frames are empty now; closing is a no-op */
}

int main(int argc, char **argv)
{
    zmq_msg_t f[ED_MAX_FRAMES];
    msgpack_sbuffer sb;

    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("echod %s\n", FILTERD_VERSION);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: echod EP | --version\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    fc_short_slice(100);          /* as filterd's broker (fclient.h), before libzmq's thread */
    void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &zero, sizeof zero);  /* never drop a reply at the HWM */
    if (zmq_bind(sock, argv[1]) < 0) {
        fprintf(stderr, "echod: bind %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
        return 1;
    }
    fprintf(stderr, "event=ready endpoint=%s\n", argv[1]);
    msgpack_sbuffer_init(&sb);
    while (!stop) {
        int n = recv_frames(sock, f, ED_MAX_FRAMES);
        if (n >= 2 && answer(&sb, zmq_msg_data(&f[n - 1]), zmq_msg_size(&f[n - 1])) == 0)
            reply(sock, f, n, &sb);
        else
            for (int i = 0; i < n; i++)
                zmq_msg_close(&f[i]);
    }
    msgpack_sbuffer_destroy(&sb);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}
