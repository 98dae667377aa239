/* rundir.c -- the run directory: sockets, filterd.pid and filterd.ready.
 *
 * The run directory holds the broker's ipc sockets (owned by the
 * unprivileged user, so that its workers can connect), the supervisor's pid
 * (refusing to start over another live filterd) and, once every first worker
 * said hello, "PID VERSION" in filterd.ready.
 *
 * The supervisor runs as root and writes those files, so the directory is
 * root's own and only root can write it: a process of the unprivileged user
 * must not be able to put a symlink where root is about to write (issue 12:
 * a planted filterd.ready -> /etc/shadow made root overwrite it). A directory
 * left by an older filterd, owned by that user, is taken back (through a
 * descriptor, checked to still be the same directory); one of anyone else,
 * or one of ours that others can write (run-dir /tmp), is refused. The folders above it must not be writable by another user either
 * (a sticky one such as /tmp may be). Files are still written to a new
 * temporary name (O_EXCL, O_NOFOLLOW) and renamed, so a reader never sees
 * half a file and nothing already there is ever followed. */
#define _XOPEN_SOURCE 700         /* realpath, S_ISVTX */
#include <errno.h>
#include <fcntl.h>
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

/* name in the run directory holds text, or a warning was logged. */
static void write_file(const fd_config *c, const char *name, const char *text)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 64];
    size_t len = strlen(text);
    path_of(c, name, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld", c->run_dir, name, (long)getpid());
    unlink(tmp);   /* a leftover of this very pid: never followed, only removed */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        char msg[160];
        fd_log(FD_WARN, "write_failed", "path=%s message=%s", path,
               fd_log_msg(strerror(errno), msg, sizeof msg));
        unlink(tmp);
    }
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

/* No folder above dir may be writable by a user other than root (sticky ones aside). */
static int parents_safe(const char *dir, char *err, size_t errlen)
{
    char up[PATH_MAX];
    struct stat st;
    if (!realpath(dir, up)) {
        snprintf(err, errlen, "%.200s: %s", dir, strerror(errno));
        return -1;
    }
    for (char *slash; (slash = strrchr(up, '/'));) {
        slash[slash == up] = '\0';   /* "/a/b" -> "/a", "/a" -> "/" */
        if (lstat(up, &st) < 0 || st.st_uid != 0 ||
            ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))) {
            snprintf(err, errlen, "%.200s (above run-dir) is not root's own: another user "
                     "could replace run-dir", up);
            return -1;
        }
        if (slash == up)
            break;
    }
    return 0;
}

/* Make the run directory ours alone: owned by us, writable by nobody else,
 * searchable by the unprivileged user (drop) for the sockets. */
static int own_dir(const fd_config *c, int drop, uid_t user, char *err, size_t errlen)
{
    struct stat st, again;
    int fd = open(c->run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "run-dir %.200s: %s", c->run_dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = -1, ours = st.st_uid == geteuid();
    if (!ours && !(drop && st.st_uid == user))
        snprintf(err, errlen, "run-dir %.200s belongs to uid %ld: remove it or set another "
                 "run-dir (filterd writes there as root)", c->run_dir, (long)st.st_uid);
    else if (ours && (st.st_mode & 022))   /* /tmp itself, say: never made 0755 */
        snprintf(err, errlen, "run-dir %.200s can be written by other users: set a folder "
                 "of filterd's own", c->run_dir);
    else if ((!ours && fchown(fd, geteuid(), getegid()) < 0) ||
             fchmod(fd, drop ? 0755 : (st.st_mode & 0755)) < 0)
        snprintf(err, errlen, "securing run-dir %.200s: %s", c->run_dir, strerror(errno));
    else if (lstat(c->run_dir, &again) < 0 || again.st_dev != st.st_dev ||
             again.st_ino != st.st_ino)
        snprintf(err, errlen, "run-dir %.200s was replaced while filterd secured it",
                 c->run_dir);
    else
        rc = 0;
    close(fd);
    return rc;
}

/* The pid in the pid file, if it is a file of ours; else 0. */
static long pid_in(const char *path)
{
    char buf[64];
    struct stat st;
    long pid = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()
                    ? read(fd, buf, sizeof buf - 1) : -1;
    if (n > 0) {
        buf[n] = '\0';
        pid = atol(buf);
    }
    close(fd);
    return pid;
}

int fd_rundir_prepare(const fd_config *c, char *err, size_t errlen)
{
    char pidfile[PATH_MAX + 32], buf[64];
    uid_t uid = 0;
    gid_t gid;
    int drop = fd_privsep_user(c, &uid, &gid, err, errlen);
    if (drop < 0 || mkdirs(c->run_dir, err, errlen) < 0 ||
        (geteuid() == 0 && parents_safe(c->run_dir, err, errlen) < 0) ||
        own_dir(c, drop, uid, err, errlen) < 0)
        return -1;
    path_of(c, "filterd.pid", pidfile, sizeof pidfile);
    long other = pid_in(pidfile);
    if (other > 0 && other != getpid() && kill((pid_t)other, 0) == 0) {
        snprintf(err, errlen, "another filterd (pid %ld) uses %.200s", other, c->run_dir);
        return -1;
    }
    fd_rundir_unready(c);
    snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    write_file(c, "filterd.pid", buf);
    return 0;
}

void fd_rundir_ready(const fd_config *c, const char *version)
{
    char text[128];
    snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), version);
    write_file(c, "filterd.ready", text);
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
