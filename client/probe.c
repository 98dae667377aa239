/* probe.c -- is anything listening at an endpoint? Asked before an admin call.
 *
 * ZeroMQ connects in the background and retries for ever, so a REQ to an
 * endpoint where no filterd listens waits out its whole timeout (and
 * "permission denied" on an ipc socket looks the same). A plain connect()
 * first answers at once: an ipc socket that does not exist, refuses, or is
 * not ours to use; a TCP port that refuses or stays silent for timeout_ms.
 * The probe's connection is closed at once; the broker's ROUTER drops it. */
#define _DEFAULT_SOURCE           /* getaddrinfo, struct addrinfo */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fcsock.h"

/* connect() without blocking longer than timeout_ms: 0, or -1 with errno. */
static int connect_within(int fd, const struct sockaddr *a, socklen_t len, int timeout_ms)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, a, len) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -1;
    struct pollfd p = {fd, POLLOUT, 0};
    int r, soerr = 0;
    socklen_t sl = sizeof soerr;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (r == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        return -1;
    errno = soerr;
    return soerr ? -1 : 0;
}

static int probe_ipc(const char *ep, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof a.sun_path)
        return 0;                 /* ZeroMQ will say what it thinks of it */
    memcpy(a.sun_path, path, n);
    if (path[0] == '@')
        a.sun_path[0] = '\0';     /* abstract name */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] != '@'));
    int rc = connect_within(fd, (struct sockaddr *)&a, len, 0) == 0 || errno == EAGAIN ? 0 : -1;
    int e = errno;
    close(fd);
    if (rc == 0)
        return 0;
    if (e == EACCES || e == EPERM)
        fc_seterr(err, errlen, "%s: permission denied (the admin socket is for filterd's "
                  "user, root and the members of its admin-group)", ep);
    else
        fc_seterr(err, errlen, "no filterd at %s: %s (is filterd running?)", ep,
                  e == ENOENT ? "no such socket" : strerror(e));
    return -1;
}

static int probe_tcp(const char *ep, const char *hostport, int timeout_ms, char *err,
                     size_t errlen)
{
    char host[256], *port;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (strchr(hostport, ';') || snprintf(host, sizeof host, "%s", hostport) >= (int)sizeof host ||
        !(port = strrchr(host, ':')))
        return 0;                 /* a source address, or not host:port: leave it to ZeroMQ */
    *port++ = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']')
        h[strlen(h) - 1] = '\0', h++;
    if (getaddrinfo(h, port, &hints, &ai) != 0 || !ai)
        return 0;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0), rc = 0, e = 0;
    if (fd >= 0) {
        rc = connect_within(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
        e = errno;
        close(fd);
    }
    freeaddrinfo(ai);
    if (rc == 0)
        return 0;
    if (e == ETIMEDOUT)
        fc_seterr(err, errlen, "no filterd at %s: no answer within %d ms", ep, timeout_ms);
    else
        fc_seterr(err, errlen, "no filterd at %s: %s (is filterd running?)", ep, strerror(e));
    return -1;
}

int fc_probe(const char *endpoint, int timeout_ms, char *err, size_t errlen)
{
    if (!strncmp(endpoint, "ipc://", 6))
        return probe_ipc(endpoint, endpoint + 6, err, errlen);
    if (!strncmp(endpoint, "tcp://", 6))
        return probe_tcp(endpoint, endpoint + 6, timeout_ms, err, errlen);
    return 0;                     /* other transports: nothing to try */
}
