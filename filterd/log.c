/* log.c -- structured logs: one "key=value ..." line per event on stderr, never user text by default.
 *
 * Every line starts "ts=<UTC, ms> level=<level> proc=<process> pid=<pid> event=<event>".
 * Values that come from clients (ids, and text only when log-text is on) go
 * through fd_log_quote, which escapes and shortens them, and messages (which
 * may quote what a client sent, such as an unknown op) through fd_log_msg or
 * fd_log_quote_all, so that a line is always one line and a client can never
 * add a key=value of its own. Each line is written with one write() so processes do not mix. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define LOG_LINE 2048             /* bytes: longest line; longer ones are cut */
#define QUOTE_MAX 64              /* bytes of a client value kept in a line */

static const char *proc_name = FD_NAME;
static int text_enabled;
static struct {
    time_t sec;
    int used;
    unsigned long dropped;
} limit[FD_NLK];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void fd_log_init(const char *proc, int log_text)
{
    proc_name = proc;
    text_enabled = log_text;
    memset(limit, 0, sizeof limit);
}

int fd_log_text_enabled(void)
{
    return text_enabled;
}

int64_t fd_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void vlog(int level, const char *event, const char *fmt, va_list ap)
{
    char line[LOG_LINE];
    struct timespec t;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &t);
    gmtime_r(&t.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s proc=%s pid=%ld event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, t.tv_nsec / 1000000, level_names[level & 3], proc_name,
                     (long)getpid(), event);
    if (n < 0)
        return;
    if (fmt && *fmt && (size_t)n < sizeof line - 2) {
        line[n++] = ' ';
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void fd_log(int level, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, event, fmt, ap);
    va_end(ap);
}

void fd_log_limited(enum fd_log_kind kind, const char *event, const char *fmt, ...)
{
    time_t now = time(NULL);
    if ((unsigned)kind >= FD_NLK)
        return;
    if (limit[kind].sec != now) {
        if (limit[kind].dropped)
            fd_log(FD_WARN, "suppressed", "kind=%s count=%lu", event, limit[kind].dropped);
        limit[kind].sec = now;
        limit[kind].used = 0;
        limit[kind].dropped = 0;
    }
    if (limit[kind].used >= FD_LOG_BURST) {
        limit[kind].dropped++;
        return;
    }
    limit[kind].used++;
    va_list ap;
    va_start(ap, fmt);
    vlog(FD_WARN, event, fmt, ap);
    va_end(ap);
}

/* p[0..n) as a quoted value of at most max bytes of it. */
static const char *quote(const void *p, size_t n, size_t max, char *buf, size_t size)
{
    const unsigned char *s = p;
    size_t o = 0, i, cut = n > max ? max : n;
    if (size < 12)
        return "";
    buf[o++] = '"';
    for (i = 0; i < cut && o + 9 < size; i++) {   /* room for an escape, '..."' and NUL */
        if (s[i] == '"' || s[i] == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)s[i];
        } else if (s[i] < 0x20 || s[i] == 0x7f)
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", s[i]);
        else
            buf[o++] = (char)s[i];  /* UTF-8 passes through */
    }
    if (i < n) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

const char *fd_log_quote(const void *p, size_t n, char *buf, size_t size)
{
    return quote(p, n, QUOTE_MAX, buf, size);
}

const char *fd_log_quote_all(const char *s, size_t n, char *buf, size_t size)
{
    return quote(s, n, n, buf, size);
}

const char *fd_log_msg(const char *msg, char *buf, size_t size)
{
    return fd_log_quote_all(msg, strlen(msg), buf, size);
}

const char *fd_log_id(const void *raw, size_t n, char *buf, size_t size)
{
    fw_mpr r;
    fw_mpv v;
    if (!n)
        return "-";
    fw_mp_init(&r, raw, n);
    if (fw_mp_read(&r, &v) < 0)
        return "?";
    if (v.type == FW_MP_UINT)
        snprintf(buf, size, "%llu", (unsigned long long)v.u);
    else if (v.type == FW_MP_INT)
        snprintf(buf, size, "%lld", (long long)v.i);
    else if (v.type == FW_MP_STR)
        return fd_log_quote(v.s, v.len, buf, size);
    else {
        size_t o = 0, len = v.len > 32 ? 32 : v.len;
        for (size_t i = 0; i < len && o + 3 < size; i++)
            o += (size_t)snprintf(buf + o, size - o, "%02x", (unsigned char)v.s[i]);
        buf[o] = '\0';
    }
    return buf;
}

int fd_log_lines(int level, const char *event, const char *text, int max)
{
    char q[1024], more[64];
    int n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len && n++ < max)
            fd_log(level, event, "message=%s", fd_log_quote_all(p, len, q, sizeof q));
        p += len + (nl != NULL);
    }
    snprintf(more, sizeof more, "%s_not_logged", event);
    if (n > max)
        fd_log(level, more, "count=%d", n - max);
    return n;
}
