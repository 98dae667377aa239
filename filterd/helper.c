/* helper.c -- the reload helper: compiles new lists in a child process, off the serving path.
 *
 * Like Rspamd's hs_helper: Hyperscan compiles can take seconds, so they run
 * in a short-lived child of the supervisor (reload.c starts it). It loads the
 * lists with the cache directory set, so a success leaves the compiled
 * databases on disk and the supervisor's own fe_load() of the same lists only
 * reads them back. The result goes up a pipe, one message then EOF:
 *   "ok VERSION\n"  or  "failed\n" followed by every "file:line: reason" line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int fd_helper_main(const fd_proc_arg *a)
{
    char line[128];
    fe_errors err = FE_ERRORS_INIT;
    int64_t t0 = fd_now_ns();
    fe_ruleset *rs = fe_load(&a->cfg->engine, &err);
    if (!rs) {
        write_all(a->fd, "failed\n", 7);
        if (err.text)
            write_all(a->fd, err.text, err.len);
        fd_log(FD_WARN, "compile_failed", "errors=%d", err.count);
        fe_errors_clear(&err);
        return 1;
    }
    char note[400];
    fd_log(FD_INFO, "compiled", "version=%s entries=%zu cached=%s cache=%s ms=%lld",
           fe_ruleset_version(rs), fe_ruleset_entries(rs), fe_ruleset_cached(rs) ? "yes" : "no",
           fd_log_msg(fe_ruleset_cache_note(rs), note, sizeof note),
           (long long)((fd_now_ns() - t0) / FD_MS));
    int n = snprintf(line, sizeof line, "ok %s\n", fe_ruleset_version(rs));
    int rc = write_all(a->fd, line, (size_t)n) < 0;
    fe_ruleset_free(rs);
    return rc;
}
