/* test_hugemem.c -- Hyperscan's databases in 2 MB pages (engine/hugemem.c): a
 * database of at least FE_HUGE_MIN bytes, compiled or read from the cache,
 * lies in a 2 MB-aligned mapping of its own that Linux was asked to back with
 * huge pages (VmFlags "hg" in /proc/self/smaps), scans as before, and is
 * unmapped when its rule set is freed (a reload gives the old set back);
 * smaller ones come from malloc. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hs/hs.h>

#include "fold.h"      /* FE_VIEW_FOLDED */
#include "hugemem.h"
#include "testutil.h"

#define TERMS 20000      /* enough for a folded database over FE_HUGE_MIN */

static char *dir, *cachedir;

/* "porn.txt" with TERMS made-up Latin words (no word of a real language). */
static int setup(void **state)
{
    (void)state;
    size_t cap = TERMS * 12 + 16, n = 0;
    char *big = malloc(cap);
    uint32_t x = 12345;
    for (int i = 0; i < TERMS; i++) {
        for (int k = 0; k < 9; k++) {
            x = x * 1103515245u + 12345u;
            big[n++] = (char)('a' + (x >> 16) % 26);
        }
        big[n++] = 'q';
        big[n++] = '\n';
    }
    memcpy(big + n, "zzyzxq\n", 8);
    tu_file files[] = {{"porn.txt", big}, {NULL, NULL}};
    tu_file none[] = {{"keep", ""}, {NULL, NULL}};
    dir = tu_listdir(files);
    cachedir = tu_listdir(none);
    free(big);
    return dir && cachedir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(dir);
    tu_rmdir(cachedir);
    return 0;
}

/* The VmFlags of the mapping that holds p, or "" when none does; its length
 * into *maplen. */
static size_t maplen;
static const char *vmflags(const void *p, char *buf, size_t n)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0;
    buf[0] = '\0';
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            if ((in = (uintptr_t)p >= lo && (uintptr_t)p < hi))
                maplen = hi - lo;
        } else if (in && !strncmp(line, "VmFlags:", 8)) {
            snprintf(buf, n, "%s", line + 8);
            break;
        }
    }
    fclose(f);
    return buf;
}

static int has_flag(const char *flags, const char *flag)
{
    char f[8];
    for (int k; sscanf(flags, "%7s%n", f, &k) == 1; flags += k)
        if (!strcmp(f, flag))
            return 1;
    return 0;
}

static void check_load(int from_cache)
{
    char conf[600], flags[512];
    snprintf(conf, sizeof conf, "cache-dir %s/cache", cachedir);
    const char *lines[] = {conf, NULL};
    fe_ruleset *rs = tu_load_or_report(dir, lines);
    assert_non_null(rs);
    assert_int_equal(fe_ruleset_cached(rs), from_cache);
    const hs_database_t *db = fe_ruleset_hs_db(rs, FE_VIEW_FOLDED);
    size_t size = 0;
    assert_int_equal(hs_database_size(db, &size), HS_SUCCESS);
    assert_true(size >= FE_HUGE_MIN);
    assert_true(fe_hugemem_owns(db));
    assert_true(has_flag(vmflags(db, flags, sizeof flags), "hg"));
    assert_true(maplen >= size && maplen < size + 4096 + 64);   /* no slack to a 2 MB end */
    fe_result r = tu_scan(rs, "a zzyzxq here", 0);
    assert_true(tu_matched(rs, &r, "zzyzxq"));
    tu_scan_done();
    fe_ruleset_free(rs);
    assert_string_equal(vmflags(db, flags, sizeof flags), "");   /* unmapped */
}

static void test_compiled_database_in_huge_pages(void **state)
{
    (void)state;
    check_load(0);
}

static void test_cached_database_in_huge_pages(void **state)
{
    (void)state;
    check_load(1);   /* the run before wrote the cache */
}

static void test_small_database_from_malloc(void **state)
{
    (void)state;
    static const tu_file small[] = {{"porn.txt", "色情\nporn\n"}, {NULL, NULL}};
    char *d = tu_listdir(small);
    fe_ruleset *rs = tu_load_or_report(d, NULL);
    assert_non_null(rs);
    const hs_database_t *db = fe_ruleset_hs_db(rs, FE_VIEW_FOLDED);
    assert_non_null(db);
    assert_false(fe_hugemem_owns(db));
    fe_result r = tu_scan(rs, "no p o r n", 0);
    assert_true(tu_matched(rs, &r, "porn"));
    tu_scan_done();
    fe_ruleset_free(rs);
    tu_rmdir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compiled_database_in_huge_pages),
        cmocka_unit_test(test_cached_database_in_huge_pages),
        cmocka_unit_test(test_small_database_from_malloc),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
