/* rundir.c -- the run directory: sockets, filterd.pid and filterd.ready.
 *
 * The run directory is created at start, owned by the unprivileged user
 * (the broker's ipc sockets live there), and holds the supervisor's pid
 * (refusing to start over another live filterd) and, once every first
 * worker said hello, "PID VERSION" in filterd.ready. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

static void path_of(const fd_config *c, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", c->run_dir, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        fd_log(FD_WARN, "write_failed", "path=%s message=\"%s\"", path, strerror(errno));
}

static int mkdirs(const char *dir, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; ; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "mkdir %.200s: %s", tmp, strerror(errno));
                return -1;
            }
            if (!(*p = c))
                break;
        }
    }
    return 0;
}

int fd_rundir_prepare(const fd_config *c, char *err, size_t errlen)
{
    char pidfile[PATH_MAX + 32], buf[64];
    uid_t uid;
    gid_t gid;
    if (mkdirs(c->run_dir, err, errlen) < 0)
        return -1;
    if (c->engine.cache_dir[0] && mkdirs(c->engine.cache_dir, err, errlen) < 0)
        return -1;
    int drop = fd_privsep_user(c, &uid, &gid, err, errlen);
    if (drop < 0 || (drop && chown(c->run_dir, uid, gid) < 0)) {
        if (drop > 0)
            snprintf(err, errlen, "chown %.200s: %s", c->run_dir, strerror(errno));
        return -1;
    }
    path_of(c, "filterd.pid", pidfile, sizeof pidfile);
    FILE *f = fopen(pidfile, "r");
    long other = 0;
    if (f && fgets(buf, sizeof buf, f) && (other = atol(buf)) > 0 && other != getpid() &&
        kill((pid_t)other, 0) == 0) {
        fclose(f);
        snprintf(err, errlen, "another filterd (pid %ld) uses %.200s", other, c->run_dir);
        return -1;
    }
    if (f)
        fclose(f);
    fd_rundir_unready(c);
    snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    write_file(pidfile, buf);
    return 0;
}

void fd_rundir_ready(const fd_config *c, const char *version)
{
    char path[PATH_MAX + 32], text[128];
    path_of(c, "filterd.ready", path, sizeof path);
    snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), version);
    write_file(path, text);
}

void fd_rundir_unready(const fd_config *c)
{
    char path[PATH_MAX + 32];
    path_of(c, "filterd.ready", path, sizeof path);
    unlink(path);
}

void fd_rundir_remove(const fd_config *c)
{
    char path[PATH_MAX + 32];
    fd_rundir_unready(c);
    path_of(c, "filterd.pid", path, sizeof path);
    unlink(path);
}
