/* fcsock.h -- the client library's private header: its sockets and its error messages. */
#ifndef FC_SOCK_H
#define FC_SOCK_H

#include <stddef.h>

#include <zmq.h>

#include "fclient.h"

/* printf into err[0..errlen) (nothing when err is NULL). */
void fc_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A socket of type connected to ep, with no linger and no high-water marks
 * (what is in flight is bounded by the caller). NULL with a message in err. */
void *fc_sock_open(void *ctx, int type, const char *ep, char *err, size_t errlen);
/* [empty][body]: the REQ envelope, on a DEALER. 0 or -1. */
int fc_sock_send(void *sock, const char *body, size_t len);
/* Receive one message without waiting: 1 with the body frame of a
 * [empty][body] message in msg, 0 when none is waiting (or it had another
 * shape and was dropped), -1 on error. */
int fc_sock_recv(void *sock, zmq_msg_t *msg);

#endif
