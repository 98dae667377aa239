/* zlisten.c -- the broker's listening sockets: tcp:// and ipc:// endpoints bound as ZeroMQ bound them (zconn.h).
 *
 * Split from zconn.c, which accepts on them and reads and writes the
 * connections: this file only turns an endpoint string into a listening,
 * non-blocking socket in the broker's epoll set. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include "broker.h"

/* host:port of a tcp endpoint to a listener: host "*" is every IPv4
 * interface, [addr] an IPv6 one, a name its IPv4 address (as ZeroMQ). */
static int bind_tcp(const char *hp, char *err, size_t errlen, const char *ep)
{
    char host[256];
    const char *colon = strrchr(hp, ':');
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_family = AF_INET,
                             .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (!colon || (size_t)(colon - hp) >= sizeof host) {
        snprintf(err, errlen, "bind %s: Invalid argument", ep);
        return -1;
    }
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = '\0';
    const char *port = !strcmp(colon + 1, "*") ? "0" : colon + 1, *h = host;
    if (!strcmp(host, "*"))
        h = NULL;
    else if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        host[strlen(host) - 1] = '\0';
        h = host + 1;
        hints.ai_family = AF_INET6;
    }
    int rc = getaddrinfo(h, port, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "bind %s: %s", ep, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, FD_ZC_BACKLOG) < 0) {
        snprintf(err, errlen, "bind %s: %s", ep, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* An ipc endpoint's unix socket (a stale file there is replaced, as ZeroMQ did). */
static int bind_ipc(const char *path, char *err, size_t errlen, const char *ep)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(err, errlen, "bind %s: File name too long", ep);
        return -1;
    }
    strcpy(a.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, FD_ZC_BACKLOG) < 0) {
        snprintf(err, errlen, "bind %s: %s", ep, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int fd_zlisten_bind(fd_broker *b, const char *ep, char *err, size_t errlen)
{
    fd_zconns *z = &b->zc;
    int fd;
    if (z->nl == FD_ZC_LISTEN_MAX) {
        snprintf(err, errlen, "bind %s: too many endpoints", ep);
        return -1;
    }
    if (!strncmp(ep, "tcp://", 6))
        fd = bind_tcp(ep + 6, err, errlen, ep);
    else if (!strncmp(ep, "ipc://", 6) && (fd = bind_ipc(ep + 6, err, errlen, ep)) >= 0)
        snprintf(z->lpath[z->nl], sizeof z->lpath[z->nl], "%s", ep + 6);
    else if (strncmp(ep, "ipc://", 6)) {
        snprintf(err, errlen, "bind %s: only tcp:// and ipc:// endpoints are served", ep);
        return -1;
    } else
        return -1;
    if (fd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = FD_ZC_LISTENER | (unsigned)z->nl};
    z->lfd[z->nl++] = fd;
    if (epoll_ctl(z->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -1;
    }
    return 0;
}
