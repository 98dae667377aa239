/* test_cache.c -- the compiled-database cache (engine/cache.c): created with its
 * folders, refused when damaged, planted or writable by others (the lists are
 * compiled instead and no decision changes), pruned to cache-keep versions.
 * The lists give rules of every kind: entries' own (literal, regex, folded,
 * compact) and disguise patterns (leet, phonetic, initials, shape, a [nosound]
 * entry's numbers-only phonetic ones), and the
 * texts match through each, so a rule read wrong would show in a decision.
 * (Issue 11 round 5: a shape rule was refused as "out of bounds", so every
 * load of lists with one compiled again -- a reload under load took 40 s.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "wordlist.h"   /* fe_hash: the file's checksum, to plant a file that passes it */

/* engine/cache.c's layout */
#define HEADER 32       /* "FDB4", databases u32, key u64, entries u64, rules u64 */
#define NRULES_AT 24    /* where the header has the number of rules */
#define RULE 12         /* vlen u32, entry u32, view u8, word u8, views u8, 0 u8 */
#define R_ENTRY 4       /* offsets in a rule */
#define R_VIEW 8
#define R_WORD 9
#define R_VIEWS 10

static const tu_file lists[] = {
    {"porn.txt", "色情\nporn\n[word] sex\nfuck\n"},
    {"politics.txt", "法轮功\n"},
    {"abuse.txt", "你妈死了\n[initials] 操你妈\n"},
    {"ad.txt", "加我微信\n[re] v[x信][0-9a-z]{3,8}\n"},
    {"privacy.txt", "[check=idcard,re] [0-9]{17}[0-9x]\n"},
    {"allow.txt", "sex education\n"},
    {"violence.txt", "末日审判\n"},
    {"vulgar.txt", "[nosound] 吃屎\n"},   /* sound patterns for numbers only: 吃4 */
    {NULL, NULL}};

static const char *const texts[] = {
    "法 轮 功 and f.u.c.k", "色 情 ｐｏｒｎ", "sex education, sex", "加我微信 vx abc123",
    "身份证 11010519491231002X", "nothing to see here", "nmsl, cnm", "你妈4了 法伦功",
    "f*ck, p0rn and ffuuckkk", "未日审判", "别在这吃4了", NULL};

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_listdir(lists);
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(dir);
    return 0;
}

static fe_ruleset *load(const char *lists_dir, const char *cache, int keep)
{
    char line[256], keepline[32];
    snprintf(line, sizeof line, "cache-dir %s", cache);
    snprintf(keepline, sizeof keepline, "cache-keep %d", keep);
    const char *const conf[] = {line, keepline, NULL};
    fe_ruleset *rs = tu_load_or_report(lists_dir, conf);
    assert_non_null(rs);
    return rs;
}

/* Every decision and match (span, entry, view) of the texts, as one string. */
static void signature(const fe_ruleset *rs, char *buf, size_t n)
{
    size_t o = 0;
    for (int i = 0; texts[i]; i++) {
        fe_result r = tu_scan(rs, texts[i], FE_S_COMMENT);
        o += (size_t)snprintf(buf + o, n - o, "%d/%d:", r.decision, r.label);
        for (size_t k = 0; k < r.nmatches && o < n; k++)
            o += (size_t)snprintf(buf + o, n - o, "%u-%u#%u@%u ", r.matches[k].start,
                                  r.matches[k].end, r.matches[k].entry, r.matches[k].view);
        assert_true(o < n);
    }
    tu_scan_done();
}

static char *new_cache(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/fecache.XXXXXX");
    assert_non_null(mkdtemp(path));
    return path;
}

static void remove_tree(const char *path)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", path);
    assert_int_equal(system(cmd), 0);
}

/* How many *.fdb files cache holds; the path of the last one in file. */
static int fdb_files(const char *cache, char *file, size_t n)
{
    DIR *d = opendir(cache);
    struct dirent *e;
    int count = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".fdb")) {
            count++;
            if (file)
                snprintf(file, n, "%s/%s", cache, e->d_name);
        }
    }
    closedir(d);
    return count;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Load with cache; it must not have been used, and decide as expected. */
static void expect_refused(const char *cache, const char *want, const char *why)
{
    char sig[8192];
    fe_ruleset *rs = load(dir, cache, 3);
    if (fe_ruleset_cached(rs) || strncmp(fe_ruleset_cache_note(rs), why, strlen(why)))
        fail_msg("expected '%s...', got cached=%d note '%s'", why, fe_ruleset_cached(rs),
                 fe_ruleset_cache_note(rs));
    signature(rs, sig, sizeof sig);
    assert_string_equal(sig, want);
    fe_ruleset_free(rs);
}

/* The reference decisions: the same lists without a cache. Some matches are
 * only through the disguise views (phonetic, initials, leet). */
static void reference(char *sig, size_t n)
{
    fe_ruleset *rs = load(dir, "", 3);
    assert_string_equal(fe_ruleset_cache_note(rs), "off");
    signature(rs, sig, n);
    fe_ruleset_free(rs);
    char via[16];
    for (int v = FE_VIEW_PHONETIC; v <= FE_VIEW_LEET; v++) {
        snprintf(via, sizeof via, "@%d ", v);
        if (!strstr(sig, via))
            fail_msg("no match through view %d in the reference: %s", v, sig);
    }
}

/* The reference decisions into want, then the lists compiled into cache: its
 * one file's path, bytes (caller frees), length, and numbers of entries and
 * of rules (more: the disguise patterns). The file read back decides as want. */
static uint8_t *a_cached_file(const char *cache, char *want, size_t wantlen, char *file,
                              size_t *len, size_t *entries, size_t *rules)
{
    char sig[8192];
    uint64_t n;
    reference(want, wantlen);
    fe_ruleset *rs = load(dir, cache, 3);
    *entries = fe_ruleset_entries(rs);
    fe_ruleset_free(rs);
    assert_int_equal(fdb_files(cache, file, 256), 1);
    uint8_t *buf = slurp(file, len);
    memcpy(&n, buf + NRULES_AT, 8);
    *rules = (size_t)n;
    assert_true(*rules > *entries);
    assert_true(*len > HEADER + RULE * *rules + 8);
    rs = load(dir, cache, 3);
    assert_true(fe_ruleset_cached(rs));
    signature(rs, sig, sizeof sig);
    assert_string_equal(sig, want);
    fe_ruleset_free(rs);
    return buf;
}

/* buf with its checksum made right again, written to file: a planted file. */
static void plant(const char *file, uint8_t *buf, size_t len)
{
    uint64_t sum = fe_hash(FE_HASH_INIT, buf, len - 8);
    memcpy(buf + len - 8, &sum, 8);
    spit(file, buf, len);
}

/* Issue 12: the first start wrote no cache (a one-level mkdir before the
 * folders existed). Now every folder is made, the last one private. */
static void test_first_start_creates_the_folders(void **state)
{
    char *top = new_cache(), cache[128];
    struct stat st;
    (void)state;
    snprintf(cache, sizeof cache, "%s/var/cache/filterd", top);
    fe_ruleset *a = load(dir, cache, 3);
    assert_false(fe_ruleset_cached(a));
    assert_string_equal(fe_ruleset_cache_note(a), "miss; written");
    assert_int_equal(fdb_files(cache, NULL, 0), 1);
    assert_int_equal(stat(cache, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    fe_ruleset *b = load(dir, cache, 3);
    assert_true(fe_ruleset_cached(b));
    assert_string_equal(fe_ruleset_cache_note(b), "hit");
    assert_string_equal(fe_ruleset_version(a), fe_ruleset_version(b));
    fe_ruleset_free(a);
    fe_ruleset_free(b);
    remove_tree(top);
}

/* Issue 12: 25 of 25 single-bit flips were accepted. Now a flip anywhere
 * (header, rules, database sizes and bodies, checksum) is refused, and the
 * lists are compiled: the decisions are those of a load without a cache. */
static void test_damage_never_changes_a_decision(void **state)
{
    char *cache = new_cache(), file[256], want[8192];
    size_t len, entries, rules;
    (void)state;
    uint8_t *good = a_cached_file(cache, want, sizeof want, file, &len, &entries, &rules);
    uint8_t *bad = malloc(len);
    size_t rules_end = HEADER + RULE * rules, at[60], n = 0;
    assert_non_null(bad);
    for (size_t p = 0; p < HEADER; p += 3)                /* the header */
        at[n++] = p;
    for (int k = 0; k < 24; k++)                          /* rules, the disguise ones too */
        at[n++] = HEADER + (rules_end - HEADER) * (size_t)k / 24;
    for (int k = 0; k < 16; k++)                          /* databases, evenly */
        at[n++] = rules_end + (len - 8 - rules_end) * (size_t)k / 16;
    at[n++] = len - 8;                                    /* the checksum */
    at[n++] = len - 1;
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, good, len);
        bad[at[i]] ^= (uint8_t)(1u << (i % 8));
        spit(file, bad, len);
        expect_refused(cache, want, "refused: checksum mismatch");
    }
    spit(file, good, len - 1);                            /* cut short */
    expect_refused(cache, want, "refused:");
    free(good);
    free(bad);
    remove_tree(cache);
}

/* Issue 12: every rule's length set to 0xffffffff made every text allow. A
 * planted file with a correct checksum is now refused by the bounds of its
 * counts and rules: the entries' own rules and the disguise rules after them. */
static void test_planted_rules_are_refused(void **state)
{
    static const struct {
        int disguise;          /* 1: change the disguise rules, 0: the entries' own */
        size_t at, n;          /* bytes of each rule to set */
        uint8_t value;         /* to this, every byte (0: flip the lowest bit) */
    } edits[] = {
        {0, 0, 4, 0xff},        /* vlen 0xffffffff */
        {1, 0, 4, 0xff},
        {0, R_VIEW, 1, 9},      /* no such view */
        {1, R_VIEW, 1, 9},
        {0, R_VIEW, 1, 0},      /* the other base view (the regexes are folded) */
        {1, R_VIEW, 1, FE_VIEW_EMOJI},    /* a view with no patterns of its own */
        {1, R_VIEW, 1, FE_VIEW_COMPACT},  /* a base view after the entries */
        {0, R_ENTRY, 1, 0},     /* another entry's rule (0 -> 1) */
        {1, R_ENTRY, 4, 0xff},  /* no such entry */
        {0, R_WORD, 1, 2},      /* word is 0 or 1 */
        {1, R_WORD, 1, 2},
        {0, R_VIEWS, 1, 0xff},  /* views beyond the disguise views the entry gets */
        {1, R_VIEWS, 1, FE_VIEW_BIT(FE_VIEW_LEET)},   /* views only on the entry's rule */
    };
    char *cache = new_cache(), file[256], want[8192];
    size_t len, entries, rules;
    (void)state;
    uint8_t *good = a_cached_file(cache, want, sizeof want, file, &len, &entries, &rules);
    uint8_t *bad = malloc(len);
    assert_non_null(bad);
    for (size_t k = 0; k < sizeof edits / sizeof *edits; k++) {
        memcpy(bad, good, len);
        size_t from = edits[k].disguise ? entries : 0, to = edits[k].disguise ? rules : entries;
        for (size_t i = from; i < to; i++) {
            uint8_t *r = bad + HEADER + RULE * i + edits[k].at;
            if (edits[k].value)
                memset(r, edits[k].value, edits[k].n);
            else
                r[0] ^= 1;
        }
        plant(file, bad, len);
        expect_refused(cache, want, "refused: a rule out of bounds");
    }
    /* the counts: more rules than the lists can make, or than the file holds;
     * a database that would end beyond the file */
    static const uint64_t counts[] = {0xffffffffu, UINT64_MAX};
    for (size_t k = 0; k < 2; k++) {
        memcpy(bad, good, len);
        memcpy(bad + NRULES_AT, &counts[k], 8);
        plant(file, bad, len);
        expect_refused(cache, want, "refused: header");
    }
    memcpy(bad, good, len);
    uint64_t fewer = rules - 1, more = rules + 1;
    memcpy(bad + NRULES_AT, &fewer, 8);
    plant(file, bad, len);
    expect_refused(cache, want, "refused:");
    memcpy(bad + NRULES_AT, &more, 8);
    plant(file, bad, len);
    expect_refused(cache, want, "refused:");
    memcpy(bad, good, len);
    memset(bad + HEADER + RULE * rules, 0xff, 4);   /* the first database's size */
    plant(file, bad, len);
    expect_refused(cache, want, "refused: a database size beyond the file");
    free(good);
    free(bad);
    remove_tree(cache);
}

/* A file or folder another user can write is never read (nor written). */
static void test_files_others_can_write_are_refused(void **state)
{
    char *cache = new_cache(), file[256], moved[300], want[8192];
    (void)state;
    reference(want, sizeof want);
    fe_ruleset_free(load(dir, cache, 3));
    assert_int_equal(fdb_files(cache, file, sizeof file), 1);
    if (geteuid() == 0) {                       /* another owner: root can make one */
        assert_int_equal(chown(file, 65534, 65534), 0);
        expect_refused(cache, want, "refused: not a file of this user's");
    }
    assert_int_equal(chmod(file, 0666), 0);     /* (each refusal wrote a fresh file) */
    expect_refused(cache, want, "refused: not a file of this user's");
    snprintf(moved, sizeof moved, "%s.real", file);
    assert_int_equal(rename(file, moved), 0);   /* a symlink in its place */
    assert_int_equal(symlink(moved, file), 0);
    expect_refused(cache, want, "refused:");
    assert_int_equal(chmod(cache, 0777), 0);    /* a folder others can write: the good */
    fe_ruleset *rs = load(dir, cache, 3);       /* file in it is not read, nor replaced */
    assert_false(fe_ruleset_cached(rs));
    assert_non_null(strstr(fe_ruleset_cache_note(rs), "not written: "));
    assert_non_null(strstr(fe_ruleset_cache_note(rs), "can be written by another user"));
    fe_ruleset_free(rs);
    remove_tree(cache);
}

/* Issue 12 / 15: the cache was never pruned (36 MB a version). */
static void test_old_versions_are_pruned(void **state)
{
    char *cache = new_cache(), *dirs[4];
    (void)state;
    for (int v = 0; v < 4; v++) {
        char text[64];
        snprintf(text, sizeof text, "色情\nversion%d\n", v);
        const tu_file one[] = {{"porn.txt", text}, {NULL, NULL}};
        dirs[v] = tu_listdir(one);
        fe_ruleset_free(load(dirs[v], cache, 2));
        assert_int_equal(fdb_files(cache, NULL, 0), v < 2 ? v + 1 : 2);
        nanosleep(&(struct timespec){0, 20000000}, NULL);   /* distinct modification times */
    }
    fe_ruleset *rs = load(dirs[2], cache, 2);   /* kept: the two latest */
    assert_true(fe_ruleset_cached(rs));
    fe_ruleset_free(rs);
    rs = load(dirs[0], cache, 2);               /* removed: compiled again */
    assert_false(fe_ruleset_cached(rs));
    fe_ruleset_free(rs);
    assert_int_equal(fdb_files(cache, NULL, 0), 2);
    for (int v = 0; v < 4; v++)
        tu_rmdir(dirs[v]);
    remove_tree(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_start_creates_the_folders),
        cmocka_unit_test(test_damage_never_changes_a_decision),
        cmocka_unit_test(test_planted_rules_are_refused),
        cmocka_unit_test(test_files_others_can_write_are_refused),
        cmocka_unit_test(test_old_versions_are_pruned),
    };
    return cmocka_run_group_tests_name("cache", tests, setup, teardown);
}
