/* fcsock.h -- the client library's private header: its sockets (its own ZMTP DEALER, a libzmq one, or the caller's transport) and its error messages. */
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

/* The client's link to the broker: its DEALER, or its fc_transport when it
 * has one (c->opt.transport). One received message, valid until done. */
typedef struct fc_msg {
    zmq_msg_t z;
    const char *p;
    size_t n;
} fc_msg;
/* (Re)open the link to ep (the old one dropped): 0, or -1 with err. */
int fc_link_open(fc_client *c, const char *ep, char *err, size_t errlen);
void fc_link_close(fc_client *c);
int fc_link_send(fc_client *c, const char *body, size_t len);    /* 0, or -1 (errno) */
int fc_link_recv(fc_client *c, fc_msg *m);   /* as fc_sock_recv; then fc_msg_done */
void fc_msg_done(fc_msg *m);
/* Wait up to ms for something to read: 0, or -1 (errno). */
int fc_link_wait(fc_client *c, long ms);
/* fc_pollfd_events without the timers. */
int fc_link_pollfd(fc_client *c, int *wait_ms, short *events);
/* Give c the library's own DEALER (client/zdealer.c) when every endpoint of
 * it is one it serves (fc_own_link; else it keeps libzmq's): 0, or -1 with err. */
int fc_link_own(fc_client *c, char *err, size_t errlen);

#endif
