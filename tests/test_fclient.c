/* test_fclient.c -- libfilterclient against a scripted ROUTER, no daemon needed.
 *
 * The mock server runs in a thread on an ipc:// endpoint in a temporary
 * folder. It answers by the request's text: "drop-once" is ignored the first
 * time its id is seen (the client must resend it on a new socket), "drop" is
 * never answered, "big" gets a too_large error, anything else a block
 * decision with one match. A bulk check gets a result per item the same
 * way (the first item's text decides drop and drop-once for the request);
 * one whose first text is "short" gets a result too few. Replies to a burst
 * go back in reverse order.
 *
 * Every test of the client runs twice against the same libzmq ROUTER: on
 * the library's own DEALER (client/zdealer.c: ZMTP spoken on a plain unix
 * socket, the default on ipc://), and on libzmq's (fc_options.libzmq), so
 * the own one keeps every promise of libzmq's (tries, fallbacks, bulk
 * checks) and speaks ZMTP as libzmq does. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>
#include <zmq.h>

#include "fclient.h"
#include "zdealer.h"        /* fc_zdealer_address: which endpoints the own DEALER takes */

#define BURST 64        /* messages gathered before answering them in reverse */
#define SEEN_MAX 4096

typedef struct mock {
    char ep[128], dir[64];
    void *ctx;
    pthread_t thread;
    volatile int stop;
    volatile int bound;   /* 1: the ROUTER is bound; -1: it could not be */
    uint64_t seen[SEEN_MAX];
    int nseen, requests;
} mock;

typedef struct pending {
    zmq_msg_t ident;
    char *reply;
    size_t len;
} pending;

static void kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str(pk, strlen(k)), msgpack_pack_str_body(pk, k, strlen(k));
    msgpack_pack_str(pk, strlen(v)), msgpack_pack_str_body(pk, v, strlen(v));
}

static void key(msgpack_packer *pk, const char *k)
{
    msgpack_pack_str(pk, strlen(k)), msgpack_pack_str_body(pk, k, strlen(k));
}

/* A map of n pairs, v and id first unless it is an item's. */
static void begin(msgpack_packer *pk, size_t n, const msgpack_object *id, int item)
{
    msgpack_pack_map(pk, n + (item ? 0 : 2));
    if (!item) {
        key(pk, "v"), msgpack_pack_unsigned_int(pk, 1);
        key(pk, "id"), msgpack_pack_object(pk, *id);
    }
}

/* The decision (or error) for text: a reply, or an item's result. */
static void result(msgpack_packer *pk, const char *text, const msgpack_object *id, int item)
{
    if (!strcmp(text, "big")) {
        begin(pk, 1, id, item);
        key(pk, "error"), msgpack_pack_map(pk, 2);
        kv_str(pk, "code", "too_large"), kv_str(pk, "message", "text over 16 bytes");
        return;
    }
    begin(pk, 9 + !item, id, item);
    if (!item)
        key(pk, "elapsed_us"), msgpack_pack_uint64(pk, 42);
    kv_str(pk, "decision", "block"), kv_str(pk, "suggest", "risky");
    key(pk, "label"), msgpack_pack_unsigned_int(pk, 20002);
    key(pk, "labels"), msgpack_pack_array(pk, 1), msgpack_pack_str(pk, 4);
    msgpack_pack_str_body(pk, "porn", 4);
    key(pk, "matches"), msgpack_pack_array(pk, 1), msgpack_pack_map(pk, 8);
    kv_str(pk, "label", "porn"), kv_str(pk, "action", "block");
    key(pk, "start"), msgpack_pack_unsigned_int(pk, 0);
    key(pk, "end"), msgpack_pack_unsigned_int(pk, (unsigned)strlen(text));
    kv_str(pk, "term", text), kv_str(pk, "list", "zh/porn.txt");
    key(pk, "line"), msgpack_pack_unsigned_int(pk, 12);
    kv_str(pk, "via", "folded");
    kv_str(pk, "version", "mock-1");
    key(pk, "degraded"), msgpack_pack_nil(pk);
    key(pk, "warnings"), msgpack_pack_array(pk, 1);
    msgpack_pack_str(pk, 12), msgpack_pack_str_body(pk, "invalid_utf8", 12);
    key(pk, "unknown_key"), msgpack_pack_true(pk);
}

static void str_of(const msgpack_object *o, char *buf, size_t n)
{
    snprintf(buf, n, "%.*s", o->type == MSGPACK_OBJECT_STR ? (int)o->via.str.size : 0,
             o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : "");
}

/* The text of a request map or an item map. */
static void text_of(const msgpack_object *map, char *text, size_t n)
{
    text[0] = '\0';
    for (uint32_t i = 0; map->type == MSGPACK_OBJECT_MAP && i < map->via.map.size; i++) {
        char k[16];
        str_of(&map->via.map.ptr[i].key, k, sizeof k);
        if (!strcmp(k, "text"))
            str_of(&map->via.map.ptr[i].val, text, n);
    }
}

/* The reply to body, or NULL to stay silent. */
static char *answer(mock *m, const char *body, size_t len, size_t *outlen)
{
    msgpack_unpacked u;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    const msgpack_object *id = NULL, *items = NULL;
    char text[64] = "", op[16] = "check";

    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, body, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy(&u);
        return NULL;
    }
    text_of(&u.data, text, sizeof text);
    for (uint32_t i = 0; i < u.data.via.map.size; i++) {
        const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
        char k[16];
        str_of(&kv->key, k, sizeof k);
        if (!strcmp(k, "id"))
            id = &kv->val;
        else if (!strcmp(k, "op"))
            str_of(&kv->val, op, sizeof op);
        else if (!strcmp(k, "items") && kv->val.type == MSGPACK_OBJECT_ARRAY)
            items = &kv->val;
    }
    if (items && items->via.array.size)
        text_of(&items->via.array.ptr[0], text, sizeof text);
    m->requests++;
    static const msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    if (!id)
        id = &nil;   /* an admin request: answered with "id": nil */
    int seen = 0;
    for (int i = 0; id && i < m->nseen; i++)
        seen |= m->seen[i] == id->via.u64;
    if (id && !seen && m->nseen < SEEN_MAX && !strcmp(text, "drop-once"))
        m->seen[m->nseen++] = id->via.u64;
    if (!strcmp(text, "drop") || (!strcmp(text, "drop-once") && !seen)) {
        msgpack_unpacked_destroy(&u);
        return NULL;
    }
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (!strcmp(op, "ping")) {
        begin(&pk, 2, id, 0);
        kv_str(&pk, "op", "pong"), kv_str(&pk, "version", "mock-1");
    } else if (items) {
        uint32_t n = items->via.array.size;
        if (n && !strcmp(text, "short"))
            n--;
        begin(&pk, 2, id, 0);
        key(&pk, "results"), msgpack_pack_array(&pk, n);
        for (uint32_t i = 0; i < n; i++) {
            text_of(&items->via.array.ptr[i], text, sizeof text);
            result(&pk, text, NULL, 1);
        }
        key(&pk, "elapsed_us"), msgpack_pack_uint64(&pk, 42);
    } else
        result(&pk, text, id, 0);
    msgpack_unpacked_destroy(&u);
    *outlen = sb.size;
    return msgpack_sbuffer_release(&sb);
}

static void *serve(void *p)
{
    mock *m = p;
    void *s = zmq_socket(m->ctx, ZMQ_ROUTER);
    int zero = 0, timeout = 20, more;
    size_t ml = sizeof more;
    static pending q[BURST];

    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    size_t epl = sizeof m->ep;
    if (zmq_bind(s, m->ep) < 0 || zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, m->ep, &epl) < 0) {
        m->bound = -1;            /* (tcp://127.0.0.1:*: the port bound is read back) */
        return NULL;
    }
    m->bound = 1;
    while (!m->stop) {
        int n = 0;
        while (n < BURST) {   /* [ident][empty][body] */
            zmq_msg_t f[3];
            int k = 0;
            zmq_msg_init(&f[0]);
            if (zmq_msg_recv(&f[0], s, 0) < 0) {
                zmq_msg_close(&f[0]);
                break;
            }
            for (k = 1; k < 3; k++) {
                zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml);
                if (!more)
                    break;
                zmq_msg_init(&f[k]);
                zmq_msg_recv(&f[k], s, 0);
            }
            if (k == 3 && (q[n].reply = answer(m, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]),
                                               &q[n].len)) != NULL) {
                zmq_msg_init(&q[n].ident);
                zmq_msg_copy(&q[n].ident, &f[0]);
                n++;
            }
            for (int i = 0; i < k; i++)
                zmq_msg_close(&f[i]);
        }
        while (n-- > 0) {   /* newest first: out of order on purpose */
            zmq_msg_send(&q[n].ident, s, ZMQ_SNDMORE);
            zmq_send(s, "", 0, ZMQ_SNDMORE);
            zmq_send(s, q[n].reply, q[n].len, 0);
            free(q[n].reply);
        }
    }
    zmq_close(s);
    return NULL;
}

static int use_tcp;               /* this round's mock: on a loopback TCP port */

static int start(void **state)
{
    mock *m = calloc(1, sizeof *m);
    snprintf(m->dir, sizeof m->dir, "/tmp/fctest.XXXXXX");
    if (!m || !mkdtemp(m->dir))
        return -1;
    if (use_tcp)
        snprintf(m->ep, sizeof m->ep, "tcp://127.0.0.1:*");
    else
        snprintf(m->ep, sizeof m->ep, "ipc://%s/mock.sock", m->dir);
    m->ctx = zmq_ctx_new();
    *state = m;
    if (pthread_create(&m->thread, NULL, serve, m) != 0)
        return -1;
    while (!m->bound)     /* a server is there before a test asks (fc_admin probes first) */
        usleep(1000);
    return m->bound > 0 ? 0 : -1;
}

static int stop(void **state)
{
    mock *m = *state;
    char path[128];
    m->stop = 1;
    pthread_join(m->thread, NULL);
    zmq_ctx_term(m->ctx);
    snprintf(path, sizeof path, "%s/mock.sock", m->dir);
    unlink(path);
    rmdir(m->dir);
    free(m);
    return 0;
}

static int use_libzmq;            /* this round's clients: on libzmq's DEALER */

static fc_client *connect_try(const char *const *eps, int n, int try_ms)
{
    char err[256];
    fc_options o = {.timeout_ms = 10 * try_ms, .try_ms = try_ms, .retries = 3,
                    .libzmq = use_libzmq};
    fc_client *c = fc_connect(eps, n, &o, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    return c;
}

/* Which DEALER c has: the library's own polls its unix or TCP socket,
 * libzmq's its mailbox's eventfd (ZMQ_FD). */
static int on_own_socket(fc_client *c)
{
    struct stat st;
    int w;
    short ev;
    int fd = fc_pollfd_events(c, &w, &ev);
    assert_true(fd >= 0 && fstat(fd, &st) == 0);
    return S_ISSOCK(st.st_mode);
}

static fc_client *connect_to(const char *const *eps, int n)
{
    return connect_try(eps, n, 300);
}

static void test_check_decodes(void **state)
{
    mock *m = *state;
    const char *eps[1] = {m->ep};
    char err[256], v[32];
    fc_result r;
    fc_client *c = connect_to(eps, 1);

    assert_int_equal(on_own_socket(c), !use_libzmq);
    assert_int_equal(fc_ping(c, v, sizeof v, err, sizeof err), 0);
    assert_string_equal(v, "mock-1");
    assert_int_equal(fc_check(c, "badword", 7, "chat", 30, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_BLOCK);
    assert_int_equal(r.label, 20002);
    assert_int_equal(r.nlabels, 1);
    assert_string_equal(r.labels[0], "porn");
    assert_int_equal(r.nmatches, 1);
    assert_string_equal(r.matches[0].term, "badword");
    assert_int_equal(r.matches[0].end, 7);
    assert_int_equal(r.matches[0].line, 12);
    assert_string_equal(r.matches[0].via, "folded");
    assert_string_equal(r.version, "mock-1");
    assert_int_equal(r.elapsed_us, 42);
    assert_null(r.degraded);
    assert_int_equal(r.nwarnings, 1);
    assert_int_equal(r.tries, 1);
    fc_result_free(&r);
    fc_result_free(&r);   /* safe twice */

    assert_int_equal(fc_check(c, "big", 3, NULL, 0, &r, err, sizeof err), -1);
    assert_string_equal(r.error, "too_large");
    assert_non_null(strstr(err, "too_large"));
    fc_result_free(&r);
    fc_close(c);
}

static void test_many_out_of_order(void **state)
{
    mock *m = *state;
    const char *eps[1] = {m->ep};
    char err[256], texts[500][16];
    fc_query q[500];
    fc_result r[500];
    fc_client *c = connect_to(eps, 1);

    for (int i = 0; i < 500; i++) {
        snprintf(texts[i], sizeof texts[i], "t%d", i);
        q[i] = (fc_query){texts[i], strlen(texts[i]), NULL, 0};
    }
    assert_int_equal(fc_check_many(c, q, 500, 100, r, err, sizeof err), 0);
    for (int i = 0; i < 500; i++) {
        assert_string_equal(r[i].matches[0].term, texts[i]);   /* each answer in its place */
        fc_result_free(&r[i]);
    }
    assert_int_equal(fc_inflight(c), 0);
    fc_close(c);
}

/* A caller's own loop: fc_recv(c, 0) takes a reply that came while nobody
 * waited (the own DEALER reads its socket only when it knows it readable:
 * it looks once before it gives up), and a caller that polls the descriptor
 * for fc_pollfd_events's events and says so with fc_polled gets it too. */
static void test_recv_without_waiting(void **state)
{
    mock *m = *state;
    const char *eps[1] = {m->ep};
    char err[256];
    uint64_t id, got;
    fc_result r;
    fc_client *c = connect_to(eps, 1);

    assert_int_equal(fc_ping(c, NULL, 0, err, sizeof err), 0);   /* connected */
    assert_int_equal(fc_send(c, "early", 5, NULL, 0, 0, &id, err, sizeof err), 0);
    usleep(200 * 1000);           /* the reply is in the socket by now */
    assert_int_equal(fc_recv(c, 0, &got, &r, err, sizeof err), 0);
    assert_true(got == id);
    assert_string_equal(r.matches[0].term, "early");
    fc_result_free(&r);
    assert_int_equal(fc_recv(c, 0, &got, &r, err, sizeof err), -1);   /* nothing in flight */

    assert_int_equal(fc_send(c, "polled", 6, NULL, 0, 0, &id, err, sizeof err), 0);
    int taken = 0;
    for (int round = 0; round < 100 && !taken; round++) {
        int w;
        short ev;
        int fd = fc_pollfd_events(c, &w, &ev);
        struct pollfd p = {fd, ev, 0};
        assert_true(poll(&p, fd >= 0, w < 0 || w > 100 ? 100 : w) >= 0);
        fc_polled(c, p.revents);
        taken = fc_recv(c, 0, &got, &r, err, sizeof err) == 0;
    }
    assert_true(taken && got == id);
    assert_string_equal(r.matches[0].term, "polled");
    fc_result_free(&r);
    fc_close(c);
}

/* fc_send_many / fc_recv_many: results in order, an error item in its place,
 * a short reply said as errors for the missing texts, a plain fc_send beside. */
static void test_bulk_async(void **state)
{
    mock *m = *state;
    const char *eps[1] = {m->ep};
    char err[256];
    fc_query q[3] = {{"one", 3, NULL, 0}, {"big", 3, "chat", 20}, {"three", 5, NULL, 0}};
    fc_query s[2] = {{"short", 5, NULL, 0}, {"two", 3, NULL, 0}};
    fc_result r[4];
    uint64_t a, b, c1, id;
    size_t n;
    fc_client *c = connect_to(eps, 1);

    assert_int_equal(fc_send_many(c, q, 3, 0, &a, err, sizeof err), 0);
    assert_int_equal(fc_send(c, "solo", 4, NULL, 0, 0, &b, err, sizeof err), 0);
    assert_int_equal(fc_send_many(c, s, 2, 0, &c1, err, sizeof err), 0);
    assert_int_equal(fc_inflight(c), 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(fc_recv_many(c, 3000, &id, r, 4, &n, err, sizeof err), 0);
        if (id == a) {
            assert_int_equal(n, 3);
            assert_string_equal(r[0].matches[0].term, "one");
            assert_string_equal(r[1].error, "too_large");
            assert_string_equal(r[2].matches[0].term, "three");
        } else if (id == b) {
            assert_int_equal(n, 1);
            assert_string_equal(r[0].matches[0].term, "solo");
        } else {
            assert_true(id == c1);
            assert_int_equal(n, 2);
            assert_string_equal(r[0].matches[0].term, "short");
            assert_string_equal(r[1].error, "internal");
            assert_non_null(strstr(r[1].error_message, "1 results for 2 texts"));
        }
        for (size_t i = 0; i < n; i++)
            fc_result_free(&r[i]);
    }
    /* a bulk check that nobody answers: the fallback for each of its texts */
    fc_query d[2] = {{"drop", 4, NULL, 0}, {"x", 1, NULL, 0}};
    assert_int_equal(fc_send_many(c, d, 2, 700, &a, err, sizeof err), 0);
    assert_int_equal(fc_recv_many(c, 5000, &id, r, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r[i].degraded, "unavailable");
        assert_int_equal(r[i].decision, FC_FLAG);
        fc_result_free(&r[i]);
    }
    /* too many results for the room given: an error, nothing kept */
    assert_int_equal(fc_send_many(c, q, 3, 0, &a, err, sizeof err), 0);
    assert_int_equal(fc_recv_many(c, 3000, &id, r, 2, &n, err, sizeof err), -1);
    assert_int_equal(fc_inflight(c), 0);
    fc_close(c);
}

/* A loopback port that refuses connections: bound, then closed. */
static int refused_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, l), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_lazy_pirate(void **state)
{
    mock *m = *state;
    char err[256], dead[160];
    fc_result r;
    uint64_t id[3], got;

    if (use_tcp)                  /* a port nobody listens on: refused */
        snprintf(dead, sizeof dead, "tcp://127.0.0.1:%d", refused_port());
    else
        snprintf(dead, sizeof dead, "ipc://%s/nobody.sock", m->dir);
    const char *eps[2] = {dead, m->ep};
    fc_client *c = connect_to(eps, 2);
    /* the first endpoint is silent: the second answers the resend */
    assert_int_equal(fc_check(c, "x", 1, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.tries, 2);
    fc_result_free(&r);
    /* dropped once by the server itself: resent on a new socket */
    const char *one[1] = {m->ep};
    fc_close(c);
    c = connect_to(one, 1);
    assert_int_equal(fc_check(c, "drop-once", 9, NULL, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.decision, FC_BLOCK);
    assert_int_equal(r.tries, 2);
    fc_result_free(&r);
    /* never answered: the fallback, while the others are answered */
    assert_int_equal(fc_send(c, "drop", 4, NULL, 0, 1000, &id[0], err, sizeof err), 0);
    assert_int_equal(fc_send(c, "a", 1, NULL, 0, 0, &id[1], err, sizeof err), 0);
    assert_int_equal(fc_send(c, "b", 1, NULL, 0, 0, &id[2], err, sizeof err), 0);
    int fallback = 0, answered = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fc_recv(c, -1, &got, &r, err, sizeof err), 0);
        if (got == id[0]) {
            assert_string_equal(r.degraded, "unavailable");
            assert_int_equal(r.decision, FC_FLAG);
            assert_int_equal(r.label, 21000);
            assert_string_equal(r.version, "mock-1");   /* the last one seen */
            fallback++;
        } else {
            assert_null(r.degraded);
            answered++;
        }
        fc_result_free(&r);
    }
    assert_int_equal(fallback, 1);
    assert_int_equal(answered, 2);
    assert_int_equal(fc_recv(c, 10, &got, &r, err, sizeof err), -1);   /* nothing in flight */
    fc_close(c);
}

/* A request larger than a socket's buffers (4 MiB; the transport keeps
 * what the kernel did not take and sends it as the socket drains), with
 * small ones around it: each answered, on the first try (of 3 s: on a
 * loaded machine 4 MiB through the mock can take longer than 300 ms). */
static void test_big_request(void **state)
{
    mock *m = *state;
    const char *eps[1] = {m->ep};
    char err[256];
    size_t big = 4u << 20;
    char *text = malloc(big);
    fc_result r;
    uint64_t id[3], got;
    fc_client *c = connect_try(eps, 1, 3000);
    assert_non_null(text);
    memset(text, 'w', big);
    assert_int_equal(fc_send(c, "a", 1, NULL, 0, 0, &id[0], err, sizeof err), 0);
    assert_int_equal(fc_send(c, text, big, NULL, 0, 0, &id[1], err, sizeof err), 0);
    assert_int_equal(fc_send(c, "b", 1, NULL, 0, 0, &id[2], err, sizeof err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fc_recv(c, 5000, &got, &r, err, sizeof err), 0);
        assert_null(r.degraded);
        assert_int_equal(r.tries, 1);
        assert_string_equal(r.matches[0].term, got == id[0] ? "a" : got == id[2] ? "b"
                            : "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww");
        fc_result_free(&r);
    }
    free(text);
    fc_close(c);
}

static void test_admin_json(void **state)
{
    mock *m = *state;
    char err[256];
    /* the mock answers anything with a decision: this checks the REQ round trip */
    cJSON *j = fc_admin(m->ep, "stats", 2000, err, sizeof err);
    if (!j)
        fail_msg("fc_admin: %s", err);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "decision")->valuestring, "block");
    cJSON_Delete(j);
    static const char mp[] = "\x82\xa1" "a" "\x01\xa1" "b" "\x92\xc0\xc3";
    j = fw_msgpack_to_json(mp, sizeof mp - 1, err, sizeof err);
    assert_non_null(j);
    char *s = cJSON_PrintUnformatted(j);
    assert_string_equal(s, "{\"a\":1,\"b\":[null,true]}");
    free(s);
    cJSON_Delete(j);
    assert_null(fw_msgpack_to_json("\x92\x01", 2, err, sizeof err));   /* truncated */

    /* nothing there: a message at once, not after the timeout (ten minutes) */
    char dead[256];
    snprintf(dead, sizeof dead, "ipc://%s/nobody.sock", m->dir);
    assert_null(fc_admin(dead, "stats", 600000, err, sizeof err));
    assert_non_null(strstr(err, "no filterd at ipc://"));
    assert_non_null(strstr(err, "nobody.sock: no such socket"));
    assert_int_equal(fc_probe(m->ep, FC_PROBE_MS, err, sizeof err), 0);
    assert_int_equal(fc_probe("inproc://x", FC_PROBE_MS, err, sizeof err), 0);
}

static int libzmq_on(void **state)
{
    (void)state;
    use_libzmq = 1;
    return 0;
}

static int tcp_on(void **state)
{
    (void)state;
    use_tcp = 1;
    use_libzmq = 0;
    return 0;
}

/* Which endpoints the own DEALER takes: ipc:// paths, tcp:// with a numeric
 * address; a host name stays libzmq's (it resolves it, again at each
 * reconnection), and a client on one is on libzmq's socket. */
static void test_own_addresses(void **state)
{
    mock *m = *state;
    struct sockaddr_storage a;
    socklen_t l;
    char longpath[160];
    assert_int_equal(fc_zdealer_address("ipc:///run/filterd/req.sock", &a, &l), 0);
    assert_int_equal(a.ss_family, AF_UNIX);
    memset(longpath, 'x', sizeof longpath);
    memcpy(longpath, "ipc://", 6);
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(fc_zdealer_address(longpath, &a, &l), -1);
    assert_int_equal(fc_zdealer_address("tcp://127.0.0.1:7700", &a, &l), 0);
    assert_int_equal(a.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a)->sin_port), 7700);
    assert_int_equal(l, sizeof(struct sockaddr_in));
    assert_int_equal(fc_zdealer_address("tcp://[::1]:65535", &a, &l), 0);
    assert_int_equal(a.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&a)->sin6_port), 65535);
    static const char *const not_own[] = {
        "tcp://localhost:7700", "tcp://127.0.0.1", "tcp://127.0.0.1:", "tcp://:7700",
        "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:77x",
        "tcp://127.0.0.1;10.0.0.1:7700", "tcp://::1:7700", "ipc://", "inproc://x",
        "pgm://127.0.0.1:7700",
    };
    for (size_t i = 0; i < sizeof not_own / sizeof *not_own; i++)
        if (fc_zdealer_address(not_own[i], &a, &l) != -1 || fc_own_link(not_own[i]))
            fail_msg("taken by the own DEALER: %s", not_own[i]);
    assert_int_equal(fc_own_link(m->ep), 1);
    /* the mock by name: libzmq's DEALER, which still serves */
    char named[160], err[256], v[32];
    const char *port = strrchr(m->ep, ':');
    snprintf(named, sizeof named, "tcp://localhost%s", port);
    const char *eps[1] = {named};
    fc_client *c = connect_to(eps, 1);
    assert_int_equal(on_own_socket(c), 0);
    assert_int_equal(fc_ping(c, v, sizeof v, err, sizeof err), 0);
    assert_string_equal(v, "mock-1");
    fc_close(c);
}

int main(void)
{
    const struct CMUnitTest client[] = {
        cmocka_unit_test_setup_teardown(test_check_decodes, start, stop),
        cmocka_unit_test_setup_teardown(test_many_out_of_order, start, stop),
        cmocka_unit_test_setup_teardown(test_bulk_async, start, stop),
        cmocka_unit_test_setup_teardown(test_recv_without_waiting, start, stop),
        cmocka_unit_test_setup_teardown(test_lazy_pirate, start, stop),
        cmocka_unit_test_setup_teardown(test_big_request, start, stop),
    };
    const struct CMUnitTest admin[] = {
        cmocka_unit_test_setup_teardown(test_admin_json, start, stop),
    };
    const struct CMUnitTest tcp[] = {
        cmocka_unit_test_setup_teardown(test_own_addresses, start, stop),
    };
    return cmocka_run_group_tests_name("fclient", client, NULL, NULL) |
           cmocka_run_group_tests_name("fclient admin", admin, NULL, NULL) |
           cmocka_run_group_tests_name("fclient on libzmq", client, libzmq_on, NULL) |
           cmocka_run_group_tests_name("fclient on tcp", client, tcp_on, NULL) |
           cmocka_run_group_tests_name("fclient tcp endpoints", tcp, tcp_on, NULL);
}
