/* cache.c -- the compiled-database cache on disk: written, validated, pruned.
 *
 * <cache-dir>/<key>.fdb holds the serialised databases and the rules (one
 * per compiled pattern, ruleset.h) of one compile. The key hashes the lists'
 * content, the options that shape the databases, the engine build, the
 * Hyperscan and ICU versions and the CPU platform Hyperscan tuned for, so a
 * hit is always a database this process could have compiled itself.
 *
 * A file is trusted only as far as it is checked, because a cache that
 * changed a decision would do it silently:
 *   - the folder and every folder above it must be writable by no one but
 *     this user (or root), and the file must be this user's own regular file
 *     (opened without following a symlink): another user cannot plant one;
 *   - a checksum over the whole file catches damage; then, field by field:
 *     magic, key, entry, rule and database counts (no more rules than the
 *     lists can produce), every rule against its entry (the entry's own rule
 *     first, then disguise rules of entries that get that view, each within
 *     its view's number of variants), lengths within what the entry allows,
 *     sizes that add up to the file.
 * Anything wrong and the lists are compiled instead (the note says why).
 * Files are written to a temporary name (O_EXCL) and renamed, so readers
 * never see half a file; after a write the oldest versions beyond cache_keep
 * are removed. A hit touches its file, so versions in use stay.
 *
 * Layout (host byte order; the key pins the platform):
 *   "FDB4" | databases u32 | key u64 | entries u64 | rules u64
 *   per rule: vlen u32, entry u32, view u8, word u8, views u8, 0 u8
 *   per database (enum fe_db): size u64, the serialised database
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
#include "views.h"

#define CACHE_MAGIC "FDB4"              /* 4: rules per pattern (issue 9), validated (issue 12) */
#define CACHE_HEADER 32                 /* bytes: magic, databases, key, entries, rules */
#define CACHE_RULE 12                   /* bytes of a rule in the file */
#define CACHE_MAX_FILE (1ull << 33)     /* bytes: larger files are not ours */
#define CACHE_TMP_AGE 3600              /* secs: a temporary file older is a dead writer's */
#define CACHE_MAX_FILES 4096            /* files looked at when pruning */

_Static_assert(sizeof(rule) == 12, "cache.c writes struct rule field by field: update it");

/* What compile.c can make of one entry: its own pattern, then at most these
 * disguise patterns per view (views.h); other views have none of their own. */
static int variants(int view)
{
    return view == FE_VIEW_LEET ? FE_LEET_VARIANTS : view == FE_VIEW_PHONETIC ? FE_SOUND_VARIANTS
         : view == FE_VIEW_INITIALS ? 1 : view == FE_VIEW_SHAPE ? FE_SHAPE_VARIANTS : 0;
}
#define RULES_PER_ENTRY (1 + FE_LEET_VARIANTS + FE_SOUND_VARIANTS + 1 + FE_SHAPE_VARIANTS)

uint64_t fe_content_hash(const fe_ruleset *rs)
{
    uint64_t h = fe_hash(rs->wl.hash, FE_ENGINE_BUILD, strlen(FE_ENGINE_BUILD));
    h = fe_hash(h, &rs->opt_hash, sizeof rs->opt_hash);
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

/* A literal's length in a view, against what its entry's term allows. */
static int length_ok(const fe_entry *e, uint32_t vlen)
{
    return vlen >= 1 && vlen <= strlen(e->term) * OUT_RATIO + 16;
}

/* Rule i read from the file, against what compile.c makes of its entry:
 * rules 0..n-1 are the entries' own (in a base view), later ones disguise
 * patterns in a view their entry gets; count[entry][view] is how many the
 * entry has had so far. */
static int rule_ok(const fe_ruleset *rs, size_t i, const rule *r, uint8_t (*count)[FE_NVIEWS])
{
    if (r->entry >= rs->wl.n || r->view >= FE_NVIEWS || r->word > 1 || r->pad)
        return 0;
    const fe_entry *e = &rs->wl.entries[r->entry];
    unsigned views = fe_entry_views(rs, r->entry);
    if (i < rs->wl.n) {   /* the entry's own pattern */
        if (r->entry != i || r->view >= FE_NBASE_VIEWS || r->word || (r->views & ~views))
            return 0;
        if (e->flags & FE_E_RE)
            return r->vlen == 0 && r->view == (e->view >= 0 ? e->view : FE_VIEW_FOLDED);
        /* an entry written with an emoji is matched in compact whatever its view */
        return (e->view < 0 || r->view == e->view || r->view == FE_VIEW_COMPACT) &&
               length_ok(e, r->vlen);
    }
    if (r->view == FE_VIEW_PHONETIC && fe_entry_numbers(rs, r->entry))
        views |= FE_VIEW_BIT(FE_VIEW_PHONETIC);   /* [nosound]: numbers for a sound only */
    if (r->views || !(views & FE_VIEW_BIT(r->view)) || (e->flags & FE_E_RE) || e->check ||
        count[r->entry][r->view]++ >= variants(r->view))
        return 0;
    if (r->view != FE_VIEW_LEET && (!rs->readings || (e->flags & FE_E_ALLOW)))
        return 0;
    if (r->view == FE_VIEW_SHAPE && !rs->shapes)
        return 0;
    return length_ok(e, r->vlen);
}

/* The rules at c into rs (replacing what it held), each checked. 0 or -1. */
static int read_rules(fe_ruleset *rs, cursor *c, uint64_t nrules)
{
    rule *rules = calloc(nrules ? nrules : 1, sizeof *rules);
    uint8_t (*count)[FE_NVIEWS] = calloc(rs->wl.n ? rs->wl.n : 1, sizeof *count);
    int ok = rules && count;
    for (size_t i = 0; ok && i < nrules; i++) {
        rule *r = &rules[i];
        ok = !get(c, &r->vlen, 4) && !get(c, &r->entry, 4) && !get(c, &r->view, 1) &&
             !get(c, &r->word, 1) && !get(c, &r->views, 1) && !get(c, &r->pad, 1) &&
             rule_ok(rs, i, r, count);
    }
    free(count);
    if (!ok) {
        free(rules);
        return -1;
    }
    free(rs->rules);
    rs->rules = rules;
    rs->nrules = nrules;
    rs->rcap = nrules ? nrules : 1;
    return 0;
}

/* Parse a whole, checksummed file into rs. 0, or -1 with the reason in rs. */
static int parse(fe_ruleset *rs, const uint8_t *buf, size_t len, uint64_t key)
{
    cursor c = {buf, buf + len - 8};
    char magic[4];
    uint64_t k, n, nrules, size;
    uint32_t ndb;

    if (get(&c, magic, 4) || memcmp(magic, CACHE_MAGIC, 4) || get(&c, &ndb, 4) || ndb != NDB ||
        get(&c, &k, 8) || k != key || get(&c, &n, 8) || n != rs->wl.n || get(&c, &nrules, 8) ||
        nrules < n || nrules > n * RULES_PER_ENTRY)
        return note(rs, "refused: %s", "header (magic, key or counts)"), -1;
    if ((uint64_t)(c.end - c.p) < nrules * CACHE_RULE + NDB * 8)
        return note(rs, "refused: %s", "rules beyond the file"), -1;
    if (read_rules(rs, &c, nrules) < 0)
        return note(rs, "refused: %s", "a rule out of bounds"), -1;
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
    if (rc < 0) {   /* compile.c gets the zeroed rules fe_load made, whatever was read */
        for (int d = 0; d < NDB; d++) {
            hs_free_database(rs->db[d]);
            rs->db[d] = NULL;
        }
        memset(rs->rules, 0, rs->rcap * sizeof *rs->rules);
        rs->nrules = 0;
    }
    return rc;
}

/* ---- writing and pruning ------------------------------------------------ */

/* The file is written through a buffer: a rule's fields one write(2) each
 * were a million system calls for a 60,000-entry list. */
#define WRITE_BUF 32768

typedef struct writer {
    int fd, ok;
    uint64_t sum;
    size_t used;
    char buf[WRITE_BUF];
} writer;

static void write_all(writer *w, const char *s, size_t n)
{
    while (w->ok && n > 0) {
        ssize_t r = write(w->fd, s, n);
        if (r < 0 && errno == EINTR)
            continue;
        w->ok = r > 0;
        s += r > 0 ? r : 0;
        n -= r > 0 ? (size_t)r : n;
    }
}

static void flush_buf(writer *w)
{
    write_all(w, w->buf, w->used);
    w->used = 0;
}

static void put(writer *w, const void *p, size_t n)
{
    w->sum = fe_hash(w->sum, p, n);
    if (n == 0)
        return;
    if (w->used + n > WRITE_BUF)
        flush_buf(w);
    if (n >= WRITE_BUF)
        write_all(w, p, n);   /* a database: straight out */
    else {
        memcpy(w->buf + w->used, p, n);
        w->used += n;
    }
}

static int write_file(const fe_ruleset *rs, int fd, uint64_t key)
{
    writer *w = malloc(sizeof *w);   /* its buffer is too big for a stack */
    uint64_t n = rs->wl.n, nrules = rs->nrules;
    uint32_t ndb = NDB;

    if (!w)
        return -1;
    w->fd = fd;
    w->ok = 1;
    w->sum = FE_HASH_INIT;
    w->used = 0;
    put(w, CACHE_MAGIC, 4), put(w, &ndb, 4), put(w, &key, 8), put(w, &n, 8);
    put(w, &nrules, 8);
    for (size_t i = 0; i < nrules; i++) {
        const rule *r = &rs->rules[i];
        put(w, &r->vlen, 4), put(w, &r->entry, 4), put(w, &r->view, 1), put(w, &r->word, 1);
        put(w, &r->views, 1), put(w, &r->pad, 1);
    }
    for (int d = 0; d < NDB && w->ok; d++) {
        char *buf = NULL;
        size_t len = 0;
        if (rs->db[d] && hs_serialize_database(rs->db[d], &buf, &len) != HS_SUCCESS)
            w->ok = 0;
        uint64_t size = len;
        put(w, &size, 8), put(w, buf, len);
        free(buf);
    }
    uint64_t sum = w->sum;
    put(w, &sum, 8);
    flush_buf(w);
    int ok = w->ok;
    free(w);
    return ok ? 0 : -1;
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
