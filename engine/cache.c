/* cache.c -- the compiled-database cache on disk: written, validated, pruned.
 *
 * <cache-dir>/<key>.fdb holds the serialised databases and the per-entry
 * rules of one compile. The key hashes the lists' content, the engine build,
 * the Hyperscan and ICU versions and the CPU platform Hyperscan tuned for, so
 * a hit is always a database this process could have compiled itself.
 *
 * A file is trusted only as far as it is checked, because a cache that
 * changed a decision would do it silently:
 *   - the folder and every folder above it must be writable by no one but
 *     this user (or root), and the file must be this user's own regular file
 *     (opened without following a symlink): another user cannot plant one;
 *   - a checksum over the whole file catches damage; then, field by field:
 *     magic, key, entry and database counts, every rule's view and length
 *     within what its entry allows, database sizes that add up to the file.
 * Anything wrong and the lists are compiled instead (the note says why).
 * Files are written to a temporary name (O_EXCL) and renamed, so readers
 * never see half a file; after a write the oldest versions beyond cache_keep
 * are removed. A hit touches its file, so versions in use stay.
 *
 * Layout (host byte order; the key pins the platform):
 *   "FDB3" | key u64 | entries u64 | databases u32 | 0 u32
 *   per entry: vlen u32, view u8
 *   per database: size u64, the serialised database
 *   FNV-1a u64 of everything before it */
#define _XOPEN_SOURCE 700         /* realpath, S_ISVTX */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <unicode/uversion.h>

#include "foldtab.h"
#include "ruleset.h"

#define CACHE_MAGIC "FDB3"
#define CACHE_HEADER 32                 /* bytes: magic, key, entries, databases, 0 */
#define CACHE_MAX_FILE (1ull << 33)     /* bytes: larger files are not ours */
#define CACHE_TMP_AGE 3600              /* secs: a temporary file older is a dead writer's */
#define CACHE_MAX_FILES 4096            /* files looked at when pruning */

_Static_assert(sizeof(rule) == 8, "cache.c writes struct rule field by field: update it");

uint64_t fe_content_hash(const fe_ruleset *rs)
{
    uint64_t h = fe_hash(rs->wl.hash, FE_ENGINE_BUILD, strlen(FE_ENGINE_BUILD));
    h = fe_hash(h, hs_version(), strlen(hs_version()));
    return fe_hash(h, U_ICU_VERSION, strlen(U_ICU_VERSION));
}

static uint64_t cache_key(const fe_ruleset *rs)
{
    hs_platform_info_t plat = {0};
    hs_populate_platform(&plat);
    uint64_t h = fe_hash(fe_content_hash(rs), &plat, sizeof plat);
    return fe_hash(h, &rs->wl.n, sizeof rs->wl.n);
}

/* Add to what the cache did: "refused: why; written", "miss; written". */
static void note(fe_ruleset *rs, const char *fmt, const char *what)
{
    size_t used = strlen(rs->cache_note);
    if (used && used + 2 < sizeof rs->cache_note)
        used += (size_t)snprintf(rs->cache_note + used, sizeof rs->cache_note - used, "; ");
    snprintf(rs->cache_note + used, sizeof rs->cache_note - used, fmt, what);
}

/* ---- where the cache may live ------------------------------------------- */

/* 0 when dir and every folder above it can be written by this user or root
 * only (a sticky folder such as /tmp may be writable by all), and dir is this
 * user's own; else -1 with the reason in why. */
static int dir_private(const char *dir, char *why, size_t n)
{
    char real[PATH_MAX];
    struct stat st;
    uid_t me = geteuid();

    if (!realpath(dir, real)) {
        snprintf(why, n, "%s", strerror(errno));
        return -1;
    }
    if (lstat(real, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != me) {
        snprintf(why, n, "%.200s is not a folder of this user's", real);
        return -1;
    }
    if (st.st_mode & 022) {
        snprintf(why, n, "%.200s can be written by another user", real);
        return -1;
    }
    for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
        *slash = '\0';
        const char *up = real[0] ? real : "/";
        if (lstat(up, &st) < 0 || (st.st_uid != 0 && st.st_uid != me) ||
            ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))) {
            snprintf(why, n, "%.200s can be written by another user", up);
            return -1;
        }
        if (!real[0])
            break;
    }
    return 0;
}

/* mkdir -p: the folders it creates are 0755, the last one 0700. */
static int make_dirs(const char *dir)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, c ? 0755 : 0700) < 0 && errno != EEXIST)
            return -1;
        if (!(*p = c))
            return 0;
    }
}

/* ---- reading ------------------------------------------------------------ */

typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static int get(cursor *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return -1;
    memcpy(out, c->p, n);
    c->p += n;
    return 0;
}

/* A rule read from the file, against what its entry allows. */
static int rule_ok(const fe_ruleset *rs, size_t i, uint32_t vlen, uint8_t view)
{
    const fe_entry *e = &rs->wl.entries[i];
    if (view >= FE_NVIEWS || (e->view >= 0 && view != e->view))
        return 0;
    if (e->flags & FE_E_RE)
        return vlen == 0 && (e->view >= 0 || view == FE_VIEW_FOLDED);
    return vlen >= 1 && vlen <= strlen(e->term) * OUT_RATIO + 16;
}

/* Parse a whole, checksummed file into rs. 0, or -1 with the reason in rs. */
static int parse(fe_ruleset *rs, const uint8_t *buf, size_t len, uint64_t key)
{
    cursor c = {buf, buf + len - 8};
    char magic[4];
    uint64_t k, n, size;
    uint32_t ndb, zero;

    if (get(&c, magic, 4) || memcmp(magic, CACHE_MAGIC, 4) || get(&c, &k, 8) || k != key ||
        get(&c, &n, 8) || n != rs->wl.n || get(&c, &ndb, 4) || ndb != NDB ||
        get(&c, &zero, 4) || zero)
        return note(rs, "refused: %s", "header (magic, key or counts)"), -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t vlen = 0;
        uint8_t view = 0;
        if (get(&c, &vlen, 4) || get(&c, &view, 1) || !rule_ok(rs, i, vlen, view))
            return note(rs, "refused: %s", "a rule out of bounds"), -1;
        rs->rules[i].vlen = vlen;
        rs->rules[i].view = view;
    }
    for (int d = 0; d < NDB; d++) {
        if (get(&c, &size, 8) || size > (size_t)(c.end - c.p))
            return note(rs, "refused: %s", "a database size beyond the file"), -1;
        if (size && hs_deserialize_database((const char *)c.p, size, &rs->db[d]) != HS_SUCCESS)
            return note(rs, "refused: %s", "Hyperscan would not load a database"), -1;
        c.p += size;
    }
    if (c.p != c.end)
        return note(rs, "refused: %s", "bytes after the databases"), -1;
    return 0;
}

int fe_cache_read(fe_ruleset *rs, const char *dir)
{
    char path[PATH_MAX + 64], why[300];
    struct stat st;
    uint64_t key = cache_key(rs), sum;
    uint8_t *buf = NULL;
    int rc = -1;

    rs->cache_note[0] = '\0';
    snprintf(path, sizeof path, "%s/%016llx.fdb", dir, (unsigned long long)key);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        note(rs, errno == ENOENT ? "miss" : "refused: %s", strerror(errno));
        return -1;
    }
    if (dir_private(dir, why, sizeof why) < 0) {
        note(rs, "refused: %s", why);
        goto out;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022) || st.st_size < CACHE_HEADER + 8 ||
        (uint64_t)st.st_size > CACHE_MAX_FILE) {
        note(rs, "refused: %s", "not a file of this user's that only it can write");
        goto out;
    }
    size_t len = (size_t)st.st_size, got = 0;
    if (!(buf = malloc(len))) {
        note(rs, "refused: %s", "out of memory");
        goto out;
    }
    for (ssize_t r; got < len; got += (size_t)r)
        if ((r = read(fd, buf + got, len - got)) <= 0)
            break;
    memcpy(&sum, buf + len - 8, 8);
    if (got != len || fe_hash(FE_HASH_INIT, buf, len - 8) != sum) {
        note(rs, "refused: %s", got != len ? "short read" : "checksum mismatch");
        goto out;
    }
    if ((rc = parse(rs, buf, len, key)) == 0) {
        futimens(fd, NULL);      /* recently used: pruning keeps it */
        note(rs, "%s", "hit");
    }
out:
    free(buf);
    close(fd);
    if (rc < 0)
        for (int d = 0; d < NDB; d++) {
            hs_free_database(rs->db[d]);
            rs->db[d] = NULL;
        }
    return rc;
}

/* ---- writing and pruning ------------------------------------------------ */

typedef struct writer {
    int fd, ok;
    uint64_t sum;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    const char *s = p;
    w->sum = fe_hash(w->sum, p, n);
    while (w->ok && n > 0) {
        ssize_t r = write(w->fd, s, n);
        if (r < 0 && errno == EINTR)
            continue;
        w->ok = r > 0;
        s += r > 0 ? r : 0;
        n -= r > 0 ? (size_t)r : n;
    }
}

static int write_file(const fe_ruleset *rs, int fd, uint64_t key)
{
    writer w = {fd, 1, FE_HASH_INIT};
    uint64_t n = rs->wl.n;
    uint32_t ndb = NDB, zero = 0;

    put(&w, CACHE_MAGIC, 4), put(&w, &key, 8), put(&w, &n, 8), put(&w, &ndb, 4), put(&w, &zero, 4);
    for (size_t i = 0; i < n; i++)
        put(&w, &rs->rules[i].vlen, 4), put(&w, &rs->rules[i].view, 1);
    for (int d = 0; d < NDB && w.ok; d++) {
        char *buf = NULL;
        size_t len = 0;
        if (rs->db[d] && hs_serialize_database(rs->db[d], &buf, &len) != HS_SUCCESS)
            w.ok = 0;
        uint64_t size = len;
        put(&w, &size, 8), put(&w, buf, len);
        free(buf);
    }
    uint64_t sum = w.sum;
    put(&w, &sum, 8);
    return w.ok ? 0 : -1;
}

typedef struct version {
    char name[64];
    struct timespec mtime;
} version;

static int newer_first(const void *a, const void *b)
{
    const version *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
    return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec < y->mtime.tv_nsec;
}

/* Keep the keep most recently written or used versions (and the one just
 * written), and no temporary file of a writer dead for an hour. */
static void prune(const char *dir, const char *current, int keep)
{
    DIR *d = opendir(dir);
    version *v = d ? calloc(CACHE_MAX_FILES, sizeof *v) : NULL;
    size_t n = 0;
    struct dirent *e;
    struct stat st;

    while (v && n < CACHE_MAX_FILES && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        int fdb = len > 4 && !strcmp(e->d_name + len - 4, ".fdb");
        int tmp = len > 4 && !strcmp(e->d_name + len - 4, ".tmp");
        if ((!fdb && !tmp) || len >= sizeof v->name ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (tmp) {
            if (time(NULL) - st.st_mtime > CACHE_TMP_AGE)
                unlinkat(dirfd(d), e->d_name, 0);
            continue;
        }
        memcpy(v[n].name, e->d_name, len + 1);
        v[n++].mtime = st.st_mtim;
    }
    if (v) {
        qsort(v, n, sizeof *v, newer_first);
        for (size_t i = 0, kept = 1; i < n; i++)
            if (strcmp(v[i].name, current) && kept++ >= (size_t)keep)
                unlinkat(dirfd(d), v[i].name, 0);
    }
    free(v);
    if (d)
        closedir(d);
}

/* Best effort: a cache that cannot be written only costs a compile later. */
void fe_cache_write(fe_ruleset *rs, const char *dir, int keep)
{
    char path[PATH_MAX + 64], tmp[PATH_MAX + 96], name[64], why[300];
    uint64_t key = cache_key(rs);

    if (make_dirs(dir) < 0) {
        note(rs, "not written: %s", strerror(errno));
        return;
    }
    if (dir_private(dir, why, sizeof why) < 0) {
        note(rs, "not written: %s", why);
        return;
    }
    snprintf(name, sizeof name, "%016llx.fdb", (unsigned long long)key);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        note(rs, "not written: %s", strerror(errno));
        return;
    }
    int ok = write_file(rs, fd, key) == 0;
    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        note(rs, "not written: %s", strerror(errno ? errno : EIO));
        unlink(tmp);
        return;
    }
    note(rs, "%s", "written");
    prune(dir, name, keep);
}
