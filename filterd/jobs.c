/* jobs.c -- a child process of the HTTP process (filterctl lint, eval), read in its poll loop.
 *
 * The child gets /dev/null as stdin and one non-blocking pipe for stdout and
 * stderr together; every other descriptor is closed, and it dies with the
 * HTTP process (PR_SET_PDEATHSIG). Its output is kept up to FD_JOB_OUT_MAX
 * bytes (more is read and dropped, and the job fails); past its deadline it
 * is killed. Nothing here blocks: fd_child_poll reads what is there and
 * reaps with WNOHANG. */
#define _GNU_SOURCE               /* pipe2, close_range */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"

int fd_fmt(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r < 0 || (size_t)r >= n ? -1 : r;
}

int fd_child_start(fd_child *c, char *const argv[], int timeout_ms, char *err, size_t errlen)
{
    int p[2];
    memset(c, 0, sizeof *c);
    c->fd = -1;
    if (pipe2(p, O_CLOEXEC) < 0) {
        fd_fmt(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        fd_fmt(err, errlen, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
            _exit(127);
        close_range(3, ~0u, 0);
        execv(argv[0], argv);
        dprintf(2, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    c->pid = pid;
    c->fd = p[0];
    c->deadline = fd_now_ns() + (int64_t)timeout_ms * FD_MS;
    return 0;
}

int fd_child_pollfd(const fd_child *c, int *wait_ms)
{
    *wait_ms = -1;
    if (!c->pid)
        return -1;
    int64_t left = c->deadline - fd_now_ns();
    *wait_ms = left > 0 ? (int)(left / FD_MS) + 1 : 0;
    if (c->fd < 0 && *wait_ms > 50)
        *wait_ms = 50;            /* at end of output: reap it soon */
    return c->fd;
}

static void drain(fd_child *c)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return;               /* EAGAIN: more later */
        if (n == 0) {
            close(c->fd);
            c->fd = -1;
            return;
        }
        size_t keep = (size_t)n;
        if (c->len + keep > FD_JOB_OUT_MAX) {
            keep = FD_JOB_OUT_MAX - c->len;
            c->capped = 1;
        }
        if (!keep)
            continue;
        char *o = realloc(c->out, c->len + keep + 1);
        if (!o) {
            c->capped = 1;
            continue;
        }
        c->out = o;
        memcpy(c->out + c->len, buf, keep);
        c->len += keep;
        c->out[c->len] = '\0';
    }
}

int fd_child_poll(fd_child *c)
{
    if (!c->pid)
        return 1;
    if (c->fd >= 0)
        drain(c);
    if (!c->timed_out && fd_now_ns() > c->deadline) {
        kill(c->pid, SIGKILL);
        c->timed_out = 1;
    }
    if (c->fd >= 0 && !c->timed_out)
        return 0;
    pid_t w = waitpid(c->pid, &c->status, c->timed_out ? 0 : WNOHANG);
    if (w == 0)
        return 0;
    c->pid = 0;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (!c->out && (c->out = malloc(1)))
        c->out[0] = '\0';
    return 1;
}

int fd_child_ok(const fd_child *c)
{
    return !c->pid && !c->timed_out && !c->capped && c->out && WIFEXITED(c->status) &&
           WEXITSTATUS(c->status) == 0;
}

void fd_child_free(fd_child *c)
{
    if (c->pid) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->out);
    c->out = NULL;
}
