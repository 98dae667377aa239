/* zdealer.h -- a ZMTP 3 DEALER on a plain unix socket, as a libfilterclient transport (fc_transport).
 *
 * The HTTP front door's link to the broker (http.sock). The broker speaks
 * ZMTP itself (zconn.c, zmtp.c), so the HTTP process needs no libzmq there:
 * no I/O thread (a thread hop per message each way), no mailbox with its
 * getpid/poll per call. A message is sent with one sendmsg at once; replies
 * are read with one read of every byte that is there, and cut into
 * messages by the same codec as the broker's (zmtp.c, client side). As
 * libzmq, messages wait until the server's READY is in (libzmq as a server
 * refuses one that comes before its own READY went out).
 *
 * What a DEALER promised, kept: open connects, and while nothing listens
 * (the broker restarting) it tries again every FD_ZD_RETRY_MS, the
 * messages sent meanwhile waiting; a connection that breaks loses what was
 * on it, and the client library's tries (Lazy Pirate) send it again. */
#ifndef FD_ZDEALER_H
#define FD_ZDEALER_H

#include <stddef.h>
#include <stdint.h>

#include "fclient.h"
#include "link.h"
#include "zmtp.h"

#define FD_ZD_RETRY_MS 100        /* msecs between connection attempts (libzmq's reconnect_ivl) */
#define FD_ZD_READ (64u << 10)    /* bytes: one read */
#define FD_ZD_MAX_REPLY (1u << 30) /* bytes: a longer reply breaks the connection */
#define FD_ZD_KEEP (1u << 20)     /* bytes: an emptied output buffer larger than this is freed */

typedef struct fd_zdealer {
    int fd;                       /* -1: not connected */
    char path[108];               /* the unix socket's */
    int64_t retry_at;             /* ns: the next connection attempt while fd < 0 */
    fd_zmtp z;                    /* the replies, as they come */
    uint8_t in[FD_ZD_READ];
    size_t inlen, inoff;          /* read, and fed to z so far */
    int readable;                 /* polled readable, or the last read filled in[] */
    int ready;                    /* the server's greeting and READY are in */
    fd_buf out;                   /* bytes not yet taken by the kernel (owned) */
} fd_zdealer;

/* A zeroed d, as t's arg, with t's functions. fc_connect opens it; fc_close
 * closes it (d stays the caller's). */
void fd_zdealer_transport(fd_zdealer *d, fc_transport *t);
/* Its descriptor (fc_pollfd's) polled readable: the next recv reads it. For
 * a caller that polls it in its own loop (the client library's own waits
 * say so themselves). */
void fd_zdealer_ready(fd_zdealer *d);
/* What to poll its descriptor for: POLLIN, and POLLOUT while bytes wait. */
short fd_zdealer_events(const fd_zdealer *d);

#endif
