/* conslists.c -- the console's list store: the lists folder, its stage, versions and audit.
 *
 * console-state holds stage/ (the copy a change is made and linted in),
 * versions/N/ (the whole lists folder after save N) and audit.jsonl (one
 * record a version). A list file is never written in place: it is written
 * as .NAME.tmp in its own folder, fsync'd, renamed over NAME, and the folder
 * fsync'd, so a crash leaves the old or the new file, whole. A version is
 * written as versions/N.tmp and renamed, so it exists whole or not at all;
 * its audit line is appended after. At start, what an interrupted save left
 * (.NAME.tmp files, N.tmp folders, a version without its audit line, the
 * stage) is removed, and lists that differ from the newest version become a
 * new version, "found on disk at start". Files whose name starts with '.'
 * are not part of the lists. */
#define _GNU_SOURCE               /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "console.h"

typedef int (*file_fn)(const char *rel, void *arg);

/* fn for every regular file under root/rel (names without a leading '.'). */
static int walk(const char *root, const char *rel, file_fn fn, void *arg)
{
    char path[PATH_MAX], sub[PATH_MAX];
    fd_fmt(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        fd_fmt(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        fd_fmt(path, sizeof path, "%s/%s", root, sub);
        if (lstat(path, &st) < 0)
            rc = -1;
        else if (S_ISDIR(st.st_mode))
            rc = walk(root, sub, fn, arg);
        else if (S_ISREG(st.st_mode))
            rc = fn(sub, arg);
    }
    closedir(d);
    return rc;
}

int fd_store_walk(const char *root, file_fn fn, void *arg)
{
    return walk(root, "", fn, arg);
}

char *fd_store_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    size_t n = 0, cap = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            char *q = realloc(p, cap = n + 65536 + 1);
            if (!q) {
                free(p);
                fclose(f);
                return NULL;
            }
            p = q;
        }
        size_t r = fread(p + n, 1, 65536, f);
        n += r;
        if (r < 65536)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(p);
        return NULL;
    }
    p[n] = '\0';
    *len = n;
    return p;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* path's content made data: .NAME.tmp beside it, fsync, rename, fsync of the
 * folder (atomic: sync 1), or written in place (the stage: sync 0). */
static int put_file(const char *path, const char *data, size_t len, int atomic)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    fd_fmt(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (atomic)
        fd_fmt(tmp, sizeof tmp, "%s/.%s.tmp", dir, slash ? slash + 1 : path);
    else
        fd_fmt(tmp, sizeof tmp, "%s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write_all(fd, data, len) < 0 || (atomic && fsync(fd) < 0)) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (!atomic)
        return 0;
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return sync_dir(dir);
}

/* mkdir -p of path's folder (path itself when dir). */
static int make_dirs(const char *path, int dir)
{
    char p[PATH_MAX];
    fd_fmt(p, sizeof p, "%s", path);
    if (!dir) {
        char *s = strrchr(p, '/');
        if (!s)
            return 0;
        *s = '\0';
    }
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(p, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)f;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- copies and comparisons --------------------------------------------------- */

typedef struct pair {
    const char *from, *to;
    int sync, count, differ;
} pair;

static int copy_one(const char *rel, void *arg)
{
    pair *p = arg;
    char a[PATH_MAX], b[PATH_MAX];
    size_t n;
    fd_fmt(a, sizeof a, "%s/%s", p->from, rel);
    fd_fmt(b, sizeof b, "%s/%s", p->to, rel);
    char *data = fd_store_read(a, &n);
    if (!data || make_dirs(b, 0) < 0) {
        free(data);
        return -1;
    }
    int fd = open(b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 || write_all(fd, data, n) < 0 || (p->sync && fsync(fd) < 0) ? -1 : 0;
    if (fd >= 0)
        close(fd);
    free(data);
    return rc;
}

static int sync_one_dir(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)f;
    return flag == FTW_D || flag == FTW_DP ? sync_dir(p) : 0;
}

/* to made a copy of from (to must not exist); sync: every file and folder. */
static int copy_tree(const char *from, const char *to, int sync)
{
    pair p = {from, to, sync, 0, 0};
    if (make_dirs(to, 1) < 0 || walk(from, "", copy_one, &p) < 0)
        return -1;
    return sync ? nftw(to, sync_one_dir, 16, FTW_PHYS | FTW_DEPTH) : 0;
}

/* A file of p->from that p->to lacks or holds otherwise: p->differ. */
static int same_one(const char *rel, void *arg)
{
    pair *p = arg;
    char a[PATH_MAX], b[PATH_MAX];
    size_t na, nb;
    fd_fmt(a, sizeof a, "%s/%s", p->from, rel);
    fd_fmt(b, sizeof b, "%s/%s", p->to, rel);
    char *x = fd_store_read(a, &na), *y = fd_store_read(b, &nb);
    p->count++;
    if (!x || !y || na != nb || memcmp(x, y, na))
        p->differ = 1;
    free(x);
    free(y);
    return p->differ;             /* stop at the first difference */
}

static int count_one(const char *rel, void *arg)
{
    (void)rel;
    ((pair *)arg)->count++;
    return 0;
}

static int trees_differ(const char *a, const char *b)
{
    pair p = {a, b, 0, 0, 0}, q = {b, a, 0, 0, 0};
    walk(a, "", same_one, &p);
    if (p.differ)
        return 1;
    walk(b, "", count_one, &q);
    return q.count != p.count;
}

/* ---- versions and audit ------------------------------------------------------ */

static void vpath(const fd_store *s, int n, char *buf, size_t size)
{
    fd_fmt(buf, size, "%s/versions/%d", s->state, n);
}

/* The versions folder's numbers: the largest, and the smallest in *low. */
static int scan_versions(const fd_store *s, int *low, int drop_tmp)
{
    char dir[PATH_MAX], p[PATH_MAX];
    int hi = 0;
    *low = 0;
    fd_fmt(dir, sizeof dir, "%s/versions", s->state);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (drop_tmp && end != e->d_name && !strcmp(end, ".tmp")) {
            fd_fmt(p, sizeof p, "%s/%s", dir, e->d_name);
            rm_tree(p);           /* N.tmp: an interrupted version */
            continue;
        }
        if (end == e->d_name || *end || v <= 0 || v > 1000000000)
            continue;
        hi = v > hi ? (int)v : hi;
        *low = !*low || v < *low ? (int)v : *low;
    }
    if (d)
        closedir(d);
    return hi;
}

static int last_audited(const fd_store *s)
{
    cJSON *a = fd_store_audit(s);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, 0), "version");
    int n = cJSON_IsNumber(v) ? v->valueint : 0;
    cJSON_Delete(a);
    return n;
}

static int audit(const fd_store *s, int version, const char *who, const char *what)
{
    char path[PATH_MAX], when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", version);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "who", who);
    cJSON_AddStringToObject(o, "what", what);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fd_fmt(path, sizeof path, "%s/audit.jsonl", s->state);
    int fd = line ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    int rc = fd < 0 || write_all(fd, line, strlen(line)) < 0 || write_all(fd, "\n", 1) < 0 ||
             fsync(fd) < 0 ? -1 : 0;
    if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}

/* A new version N from dir, whole or not at all, audited; the old ones pruned. */
static int new_version(fd_store *s, const char *dir, const char *who, const char *what,
                       char *err, size_t errlen)
{
    char tmp[PATH_MAX + 8], final[PATH_MAX], parent[PATH_MAX];
    int n = s->newest + 1, low;
    vpath(s, n, final, sizeof final);
    fd_fmt(tmp, sizeof tmp, "%s.tmp", final);
    fd_fmt(parent, sizeof parent, "%s/versions", s->state);
    rm_tree(tmp);
    if (copy_tree(dir, tmp, 1) < 0 || rename(tmp, final) < 0 || sync_dir(parent) < 0 ||
        audit(s, n, who, what) < 0) {
        fd_fmt(err, errlen, "version %d: %s", n, strerror(errno));
        rm_tree(tmp);
        return -1;
    }
    s->newest = n;
    scan_versions(s, &low, 0);
    for (int v = low; v && v <= n - s->keep; v++) {
        vpath(s, v, final, sizeof final);
        rm_tree(final);
    }
    return n;
}

int fd_store_changed(const fd_store *s)
{
    char v[PATH_MAX];
    if (!s->newest)
        return 1;
    vpath(s, s->newest, v, sizeof v);
    return trees_differ(s->lists, v);
}

int fd_store_record(fd_store *s, const char *who, const char *what, char *err, size_t errlen)
{
    return new_version(s, s->lists, who, what, err, errlen);
}

static int drop_tmp_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    const char *base = p + f->base;
    size_t n = strlen(base);
    (void)st;
    if (flag == FTW_F && base[0] == '.' && n > 5 && !strcmp(base + n - 4, ".tmp"))
        unlink(p);
    return 0;
}

int fd_store_open(fd_store *s, const fd_config *cfg, char *err, size_t errlen)
{
    char p[PATH_MAX + 16];
    int low;
    memset(s, 0, sizeof *s);
    if (!realpath(cfg->engine.lists, s->lists)) {
        fd_fmt(err, errlen, "lists %s: %s", cfg->engine.lists, strerror(errno));
        return -1;
    }
    fd_fmt(s->state, sizeof s->state, "%s", cfg->console_state);
    s->keep = cfg->console_keep;
    fd_fmt(p, sizeof p, "%s/versions", s->state);
    if (make_dirs(p, 1) < 0) {
        fd_fmt(err, errlen, "console-state %s: %s", s->state, strerror(errno));
        return -1;
    }
    nftw(s->lists, drop_tmp_one, 16, FTW_PHYS);    /* .NAME.tmp of a save cut short */
    rm_tree(fd_store_stage_dir(s));
    int hi = scan_versions(s, &low, 1), audited = last_audited(s);
    for (int v = audited + 1; v <= hi; v++) {       /* a version whose audit line never came */
        vpath(s, v, p, sizeof p);
        rm_tree(p);
    }
    s->newest = scan_versions(s, &low, 0);
    if (fd_store_changed(s) && fd_store_record(s, "filterd", "found on disk at start", err,
                                               errlen) < 0)
        return -1;
    return 0;
}

/* ---- the stage and its edits ------------------------------------------------- */

const char *fd_store_stage_dir(const fd_store *s)
{
    static char p[PATH_MAX + 8];
    fd_fmt(p, sizeof p, "%s/stage", s->state);
    return p;
}

int fd_store_file_ok(const fd_store *s, const char *file, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;
    size_t n = strlen(file);
    const char *why = NULL;
    if (!n || file[0] == '/')
        why = "must be a path relative to the lists folder";
    else if (n < 5 || strcmp(file + n - 4, ".txt"))
        why = "a list file's name ends in .txt";
    for (const char *c = file; !why && c; c = strchr(c, '/')) {
        c += *c == '/';
        if (*c == '.' || *c == '/')
            why = "no part of the path may start with '.' or be empty";
    }
    fd_fmt(path, sizeof path, "%s/%s", s->lists, file);
    if (!why && (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)))
        why = "no such list file";
    if (why)
        fd_fmt(err, errlen, "file '%.200s': %s", file, why);
    return why ? -1 : 0;
}

int fd_store_stage(fd_store *s, int version, char *err, size_t errlen)
{
    char from[PATH_MAX];
    if (version)
        vpath(s, version, from, sizeof from);
    else
        fd_fmt(from, sizeof from, "%s", s->lists);
    if (access(from, F_OK) < 0) {
        fd_fmt(err, errlen, "version %d is not kept (console-keep %d)", version, s->keep);
        return -1;
    }
    if (rm_tree(fd_store_stage_dir(s)) < 0 || copy_tree(from, fd_store_stage_dir(s), 0) < 0) {
        fd_fmt(err, errlen, "stage: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int fd_store_edit(fd_store *s, const char *file, const char *op, unsigned line,
                  const char *text, char *err, size_t errlen)
{
    char path[PATH_MAX];
    size_t n, tl = text ? strlen(text) : 0;
    fd_fmt(path, sizeof path, "%s/%s", fd_store_stage_dir(s), file);
    int add = !strcmp(op, "add"), del = !strcmp(op, "delete");
    if (!del && (!text || !tl || tl > FD_CONS_LINE_MAX || strpbrk(text, "\r\n"))) {
        fd_fmt(err, errlen, "text must be one line of 1 to %d bytes", FD_CONS_LINE_MAX);
        return -1;
    }
    char *old = fd_store_read(path, &n);
    if (!old) {
        fd_fmt(err, errlen, "%s: %s", file, strerror(errno));
        return -1;
    }
    /* where line starts and ends (1-based); at the end for add without a line */
    size_t at = 0, end;
    unsigned ln = 1;
    while (ln < (line ? line : ~0u) && at < n) {
        const char *nl = memchr(old + at, '\n', n - at);
        at = nl ? (size_t)(nl - old) + 1 : n;
        ln++;
    }
    if ((line && (ln != line || at >= n) && !(add && ln == line && at == n)) ||
        (!add && !line)) {
        free(old);
        fd_fmt(err, errlen, "%s has no line %u", file, line);
        return -1;
    }
    const char *nl = at < n ? memchr(old + at, '\n', n - at) : NULL;
    end = add ? at : nl ? (size_t)(nl - old) + 1 : n;
    size_t cap = n + tl + 2, len = 0;
    char *out = malloc(cap);
    if (!out) {
        free(old);
        fd_fmt(err, errlen, "out of memory");
        return -1;
    }
    memcpy(out, old, at);
    len = at;
    if (len && out[len - 1] != '\n')
        out[len++] = '\n';
    if (!del) {
        memcpy(out + len, text, tl);
        len += tl;
        out[len++] = '\n';
    }
    memcpy(out + len, old + end, n - end);
    len += n - end;
    int rc = put_file(path, out, len, 0);
    if (rc < 0)
        fd_fmt(err, errlen, "stage %s: %s", file, strerror(errno));
    free(old);
    free(out);
    return rc;
}

/* ---- commit: the stage becomes the lists -------------------------------------- */

/* rel in the stage (a) and in the lists (b). */
static void stage_and_lists(const fd_store *s, const char *rel, char *a, char *b)
{
    fd_fmt(a, PATH_MAX, "%s/%s", fd_store_stage_dir(s), rel);
    fd_fmt(b, PATH_MAX, "%s/%s", s->lists, rel);
}

static int put_changed(const char *rel, void *arg)
{
    const fd_store *s = arg;
    char a[PATH_MAX], b[PATH_MAX];
    size_t na, nb = 0;
    stage_and_lists(s, rel, a, b);
    char *x = fd_store_read(a, &na), *y = fd_store_read(b, &nb);
    int rc = 0;
    if (!x)
        rc = -1;
    else if (!y || na != nb || memcmp(x, y, na))
        rc = make_dirs(b, 0) < 0 ? -1 : put_file(b, x, na, 1);
    free(x);
    free(y);
    return rc;
}

static int drop_absent(const char *rel, void *arg)
{
    const fd_store *s = arg;
    char a[PATH_MAX], b[PATH_MAX];
    stage_and_lists(s, rel, a, b);
    if (access(a, F_OK) == 0)
        return 0;
    char *slash = strrchr(b, '/');
    if (unlink(b) < 0)
        return -1;
    *slash = '\0';
    return sync_dir(b);
}

int fd_store_commit(fd_store *s, const char *who, const char *what, char *err, size_t errlen)
{
    if (walk(fd_store_stage_dir(s), "", put_changed, s) < 0 ||
        walk(s->lists, "", drop_absent, s) < 0) {
        fd_fmt(err, errlen, "writing the lists: %s (each file is whole: old or new)",
                 strerror(errno));
        return -1;
    }
    return new_version(s, fd_store_stage_dir(s), who, what, err, errlen);
}

cJSON *fd_store_audit(const fd_store *s)
{
    char path[PATH_MAX + 16];
    size_t n;
    fd_fmt(path, sizeof path, "%s/audit.jsonl", s->state);
    cJSON *a = cJSON_CreateArray();
    char *text = fd_store_read(path, &n), *save = NULL;
    for (char *l = text ? strtok_r(text, "\n", &save) : NULL; a && l;
         l = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(l);
        if (cJSON_IsObject(o))
            cJSON_InsertItemInArray(a, 0, o);
        else
            cJSON_Delete(o);       /* a line cut by a crash */
    }
    free(text);
    return a;
}
