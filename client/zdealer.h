/* zdealer.h -- the client library's private header: its own ZMTP 3 DEALER on a plain unix or TCP socket, as an fc_transport.
 *
 * The link of every client whose endpoints are all ipc:// or tcp:// with a
 * numeric address (fc_connect; a host name, which libzmq resolves in its
 * I/O thread and again at each reconnection, and fc_options.libzmq keep
 * the libzmq DEALER instead), the HTTP front door's to its broker
 * included. A ZMTP 3 ROUTER (filterd's broker, which speaks ZMTP itself:
 * filterd/zconn.c, wire/zmtp.c; or libzmq's) is all it needs, so there is
 * no libzmq on that path: no I/O thread (a thread hop per message each
 * way), no mailbox with its getpid/poll per call. A message is sent with one sendmsg at once; replies
 * are read with one read of every byte that is there, and cut into
 * messages by the same codec as the broker's (wire/zmtp.c, client side). As
 * libzmq, messages wait until the server's READY is in (libzmq as a server
 * refuses one that comes before its own READY went out).
 *
 * What a DEALER promised, kept: open connects, and while nothing listens
 * (the broker restarting) it tries again every FC_ZD_RETRY_MS, the
 * messages sent meanwhile waiting; a connection that breaks loses what was
 * on it, and the client library's tries (Lazy Pirate) send it again. */
#ifndef FC_ZDEALER_H
#define FC_ZDEALER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fclient.h"
#include "zmtp.h"

#define FC_ZD_RETRY_MS 100        /* msecs between connection attempts (libzmq's reconnect_ivl) */
#define FC_ZD_READ (64u << 10)    /* bytes: one read */
#define FC_ZD_MAX_REPLY (1u << 30) /* bytes: a longer reply breaks the connection */
#define FC_ZD_KEEP (1u << 20)     /* bytes: an emptied output buffer larger than this is freed */

typedef struct fc_zdealer {
    int fd;                       /* -1: not connected */
    int connecting;               /* a TCP connection on its way (fd polled for POLLOUT) */
    struct sockaddr_storage addr; /* the endpoint's: AF_UNIX, AF_INET or AF_INET6 */
    socklen_t addrlen;
    int64_t retry_at;             /* msecs (monotonic): the next connection attempt while fd < 0 */
    fw_zmtp z;                    /* the replies, as they come */
    uint8_t in[FC_ZD_READ];
    size_t inlen, inoff;          /* read, and fed to z so far */
    int readable;                 /* polled readable, or the last read filled in[] */
    int ready;                    /* the server's greeting and READY are in */
    uint8_t *out;                 /* bytes [outoff, outlen) not yet taken by the kernel (owned) */
    size_t outoff, outlen, outcap;
} fc_zdealer;

/* The socket address of ep: ipc://PATH, tcp://A.B.C.D:PORT or
 * tcp://[V6]:PORT. 0, or -1: not an endpoint this DEALER takes (a host
 * name, a source address, another transport), for libzmq's. */
int fc_zdealer_address(const char *ep, struct sockaddr_storage *a, socklen_t *len);
/* A zeroed d, as t's arg, with t's functions. fc_connect opens it; fc_close
 * closes it (d stays its owner's: the client's, fc_link_open). */
void fc_zdealer_transport(fc_zdealer *d, fc_transport *t);
/* Its descriptor (fc_pollfd's) polled readable: the next recv reads it
 * (fc_polled; the client library's own waits say so themselves). */
void fc_zdealer_ready(fc_zdealer *d);
/* What to poll its descriptor for: POLLIN, and POLLOUT while bytes wait;
 * only POLLOUT while a TCP connection is on its way. */
short fc_zdealer_events(const fc_zdealer *d);

#endif
