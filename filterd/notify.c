/* notify.c -- the service manager's notify protocol, spoken by the supervisor.
 *
 * systemd (Type=notify) passes $NOTIFY_SOCKET, an AF_UNIX datagram socket
 * (a path, or an abstract name written with a leading '@'), and reads
 * "KEY=VALUE" lines from it, one datagram per message: READY=1 once every
 * worker serves, RELOADING=1 with MONOTONIC_USEC when a reload starts and
 * READY=1 again when it ended (either way), STOPPING=1, STATUS=text, and
 * WATCHDOG=1 every half of $WATCHDOG_USEC. Written here rather than taken
 * from libsystemd: it is one sendto(). Without $NOTIFY_SOCKET everything is
 * a no-op. The socket is opened once at start (children close it). */
#define _GNU_SOURCE               /* SOCK_CLOEXEC */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

static int fd = -1;
static struct sockaddr_un addr;
static socklen_t addrlen;
static int64_t watchdog_ms;       /* 0: no watchdog asked for */

int fd_notify_init(void)
{
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
    addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
        fd_log(FD_WARN, "notify_socket", "message=\"%s\"", strerror(errno));
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
    if (sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&addr, addrlen) < 0)
        fd_log(FD_WARN, "notify_failed", "message=\"%s\"", strerror(errno));
}

int64_t fd_notify_watchdog_ms(void)
{
    return fd >= 0 ? watchdog_ms : 0;
}
