/* notify.c -- the service manager's notify protocol, spoken by the supervisor.
 *
 * systemd (Type=notify) passes $NOTIFY_SOCKET, an AF_UNIX datagram socket
 * (a path, or an abstract name written with a leading '@'), and reads
 * "KEY=VALUE" lines from it, one datagram per message: READY=1 once every
 * worker serves, RELOADING=1 with MONOTONIC_USEC when a reload starts and
 * READY=1 again when it ended (either way), STOPPING=1, STATUS=text, and
 * WATCHDOG=1 every half of $WATCHDOG_USEC. Written here rather than taken
 * from libsystemd: it is one datagram. Without $NOTIFY_SOCKET everything is
 * a no-op. The socket is opened and connected once at start (children close
 * it) and never blocks the supervisor: when the reader's queue is full, a
 * message waits
 * for room up to FD_NOTIFY_WAIT_MS, then is dropped with a warning (a
 * WATCHDOG=1 is dropped at once: the next one follows). */
#define _GNU_SOURCE               /* SOCK_CLOEXEC */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

#define FD_NOTIFY_WAIT_MS 200    /* msecs: longest wait for room in the reader's queue */

static int fd = -1;
static int64_t watchdog_ms;       /* 0: no watchdog asked for */

int fd_notify_init(void)
{
    struct sockaddr_un addr;
    const char *path = getenv("NOTIFY_SOCKET"), *wd = getenv("WATCHDOG_USEC");
    const char *wpid = getenv("WATCHDOG_PID");
    if (wd && atoll(wd) > 0 && (!wpid || atol(wpid) == (long)getpid()))
        watchdog_ms = atoll(wd) / 2000 > 0 ? atoll(wd) / 2000 : 1;  /* half, in msecs */
    if (!path || !path[0])
        return 0;
    size_t n = strlen(path);
    if (n >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
        fd_log(FD_WARN, "notify_socket", "message=\"NOTIFY_SOCKET is not a socket path or "
               "an @abstract name; not notifying\"");
        return -1;
    }
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, n);
    if (path[0] == '@')
        addr.sun_path[0] = '\0';                  /* abstract: no terminating NUL */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
    /* connected: poll() then waits for room in the reader's queue */
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&addr, len) < 0) {
        fd_log(FD_WARN, "notify_socket", "path=%s message=\"%s\"", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
        return -1;
    }
    return 0;
}

void fd_notify(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (fd < 0)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof msg)
        n = sizeof msg - 1;
    int watchdog = !strcmp(msg, "WATCHDOG=1");
    for (int64_t end = fd_now_ns() + FD_NOTIFY_WAIT_MS * FD_MS;;) {
        if (send(fd, msg, (size_t)n, MSG_NOSIGNAL) >= 0)
            return;
        int64_t left = (end - fd_now_ns()) / FD_MS;
        if ((errno != EAGAIN && errno != EINTR) || watchdog || left <= 0)
            break;
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, (int)left);
    }
    if (!watchdog)
        fd_log(FD_WARN, "notify_failed", "message=\"%s\" sent=\"%.*s\"", strerror(errno),
               (int)strcspn(msg, "\n"), msg);
}

int64_t fd_notify_watchdog_ms(void)
{
    return fd >= 0 ? watchdog_ms : 0;
}
