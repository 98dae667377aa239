/* linkbench.c -- the broker-to-worker hop in isolation: ZeroMQ ipc against a unix socket.
 *
 * Usage: linkbench [--rounds N] [--bytes B] [--batch K] [--json] DIR | --version
 *
 * Two processes (this one and a forked echo peer) pass messages back and
 * forth over each transport, in interleaved blocks of rounds, and report
 * the round trip's percentiles: what one message costs to cross the hop and
 * come back, and, with --batch K, what K messages sent together cost (the
 * peer echoes each as it reads it). The two transports are the candidates
 * for the link between filterd's broker and its workers
 * (docs/ARCHITECTURE.md):
 *   zmq   a ROUTER bound on ipc://DIR/linkbench.sock and a DEALER, one frame a message
 *   unix  a SOCK_STREAM socketpair, each message its 4-byte length and its bytes;
 *         both sides read what is there and write what they have in one call, as
 *         filterd/link.c does
 * Only the transport is measured: no decode, no scan. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#define LB_ROUNDS 20000           /* round trips per transport */
#define LB_BYTES 250              /* bytes per message: a 200-byte post and its envelope */
#define LB_BLOCK 1000             /* round trips per block; blocks of the two alternate */
#define LB_MAX_BATCH 64
#define LB_MAX_BYTES 4096

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

#define LB_BUF (LB_MAX_BATCH * (LB_MAX_BYTES + 4))

/* Read what is there into buf after *have bytes. 0, or -1 at the end of the stream. */
static int fill(int fd, char *buf, size_t *have)
{
    ssize_t r;
    while ((r = read(fd, buf + *have, LB_BUF - *have)) < 0 && errno == EINTR)
        ;
    if (r <= 0)
        return -1;
    *have += (size_t)r;
    return 0;
}

/* The bytes of the complete messages at the start of buf (their count in *k). */
static size_t complete(const char *buf, size_t have, int *k)
{
    size_t at = 0;
    uint32_t len;
    *k = 0;
    while (have - at >= 4 && (memcpy(&len, buf + at, 4), have - at - 4 >= len)) {
        at += 4 + (size_t)len;
        (*k)++;
    }
    return at;
}

/* ---- the peers: echo until told to stop -------------------------------------- */

static void unix_peer(int fd)
{
    static char buf[LB_BUF];
    size_t have = 0;
    int k;
    while (fill(fd, buf, &have) == 0) {
        size_t n = complete(buf, have, &k);
        if (n && write(fd, buf, n) < 0)
            break;
        memmove(buf, buf + n, have - n);
        have -= n;
    }
    _exit(0);
}

static void zmq_peer(const char *ep)
{
    static char buf[LB_MAX_BYTES];
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, n;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(s, ep);
    zmq_send(s, "", 0, 0);                        /* hello: the ROUTER learns our id */
    while ((n = zmq_recv(s, buf, sizeof buf, 0)) > 0)
        zmq_send(s, buf, (size_t)n, 0);
    zmq_close(s);
    zmq_ctx_term(ctx);
    _exit(0);
}

/* ---- one round trip of k messages --------------------------------------------- */

typedef struct lb_link {
    int fd;                                       /* unix */
    void *ctx, *sock;                             /* zmq */
    char id[256];
    size_t idlen;
} lb_link;

static int unix_round(lb_link *l, const char *msg, size_t n, int k)
{
    static char out[LB_BUF], in[LB_BUF];
    uint32_t len = (uint32_t)n;
    size_t have = 0, want = (size_t)k * (n + 4);
    for (int i = 0; i < k; i++) {
        memcpy(out + (size_t)i * (n + 4), &len, 4);
        memcpy(out + (size_t)i * (n + 4) + 4, msg, n);
    }
    if (write(l->fd, out, want) < 0)
        return -1;
    while (have < want)
        if (fill(l->fd, in, &have) < 0)
            return -1;
    return 0;
}

static int zmq_round(lb_link *l, const char *msg, size_t n, int k)
{
    static char in[LB_MAX_BYTES];
    for (int i = 0; i < k; i++)
        if (zmq_send(l->sock, l->id, l->idlen, ZMQ_SNDMORE) < 0 || zmq_send(l->sock, msg, n, 0) < 0)
            return -1;
    for (int i = 0; i < k; i++)
        if (zmq_recv(l->sock, l->id, sizeof l->id, 0) < 0 || zmq_recv(l->sock, in, sizeof in, 0) < 0)
            return -1;
    return 0;
}

static pid_t open_unix(lb_link *l)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(sp[0]);
        unix_peer(sp[1]);
    }
    close(sp[1]);
    l->fd = sp[0];
    return pid;
}

static pid_t open_zmq(lb_link *l, const char *ep)
{
    pid_t pid = fork();                           /* before any ZeroMQ context here */
    if (pid == 0)
        zmq_peer(ep);
    int zero = 0, n;
    l->ctx = zmq_ctx_new();
    l->sock = zmq_socket(l->ctx, ZMQ_ROUTER);
    zmq_setsockopt(l->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(l->sock, ep) < 0 || (n = zmq_recv(l->sock, l->id, sizeof l->id, 0)) < 0)
        return -1;
    l->idlen = (size_t)n;
    char hello[8];
    zmq_recv(l->sock, hello, sizeof hello, 0);
    return pid;
}

static void report(const char *name, int64_t *ns, int n, int k, int json, int last)
{
    qsort(ns, (size_t)n, sizeof *ns, cmp);
    double p50 = (double)ns[n / 2] / 1e3, p99 = (double)ns[n * 99 / 100] / 1e3;
    if (json)
        printf("\"%s\":{\"p50_us\":%.1f,\"p99_us\":%.1f,\"per_message_us\":%.2f}%s", name, p50,
               p99, p50 / k, last ? "" : ",");
    else
        printf("  %-5s round trip p50 %8.1f us  p99 %8.1f us  (%.2f us a message)\n", name, p50,
               p99, p50 / k);
}

int main(int argc, char **argv)
{
    int rounds = LB_ROUNDS, bytes = LB_BYTES, batch = 1, json = 0;
    const char *dir = NULL;
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("linkbench %s\n", FILTERD_VERSION);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
            bytes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            dir = argv[i];
    }
    if (!dir || rounds < LB_BLOCK || bytes < 1 || bytes > LB_MAX_BYTES || batch < 1 ||
        batch > LB_MAX_BATCH) {
        fprintf(stderr, "usage: linkbench [--rounds N>=%d] [--bytes B<=%d] [--batch K<=%d] "
                "[--json] DIR\n", LB_BLOCK, LB_MAX_BYTES, LB_MAX_BATCH);
        return 2;
    }
    char ep[512], *msg = calloc(1, (size_t)bytes);
    int64_t *t[2] = {calloc((size_t)rounds, 8), calloc((size_t)rounds, 8)};
    lb_link l[2];
    memset(l, 0, sizeof l);
    snprintf(ep, sizeof ep, "ipc://%s/linkbench.sock", dir);
    pid_t peer[2] = {open_zmq(&l[0], ep), open_unix(&l[1])};
    if (!msg || !t[0] || !t[1] || peer[0] < 0 || peer[1] < 0) {
        fprintf(stderr, "linkbench: setup failed: %s\n", strerror(errno));
        return 1;
    }
    for (int done = 0; done < rounds; done += LB_BLOCK)
        for (int k = 0; k < 2; k++)
            for (int i = done; i < done + LB_BLOCK && i < rounds; i++) {
                int64_t t0 = now_ns();
                if ((k ? unix_round : zmq_round)(&l[k], msg, (size_t)bytes, batch) < 0) {
                    fprintf(stderr, "linkbench: %s round failed\n", k ? "unix" : "zmq");
                    return 1;
                }
                t[k][i] = now_ns() - t0;
            }
    if (json)
        printf("{\"rounds\":%d,\"bytes\":%d,\"batch\":%d,", rounds, bytes, batch);
    else
        printf("linkbench: %d round trips of %d message(s) of %d bytes each way\n", rounds,
               batch, bytes);
    report("zmq", t[0], rounds, batch, json, 0);
    report("unix", t[1], rounds, batch, json, 1);
    if (json)
        printf("}\n");
    zmq_send(l[0].sock, l[0].id, l[0].idlen, ZMQ_SNDMORE);
    zmq_send(l[0].sock, "", 0, 0);                /* an empty message stops the zmq peer */
    close(l[1].fd);
    waitpid(peer[0], NULL, 0);
    waitpid(peer[1], NULL, 0);
    zmq_close(l[0].sock);
    zmq_ctx_term(l[0].ctx);
    free(msg), free(t[0]), free(t[1]);
    return 0;
}
