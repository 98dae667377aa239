/* test_robust.c -- no input crashes or leaks: the Big List of Naughty Strings
 * and random bytes through the whole engine, with offsets checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "testutil.h"

#define RANDOM_TEXTS 3000
#define RANDOM_MAX 400     /* bytes */

static const tu_file lists[] = {
    {"abuse.txt", "[word] ass\nfuck\n"},
    {"politics.txt", "法轮功\n"},
    {"privacy.txt", "[re,word] 1[3-9]\\d[ -]?\\d{4}[ -]?\\d{4}\n[re] [a-z0-9._-]+@[a-z0-9-]+(\\.[a-z0-9-]+)+\n"},
    {"ad.txt", "[re] https?://\\S+\n"},
    {"allow.txt", "scunthorpe\n"},
    {NULL, NULL},
};

static char *dir;
static fe_ruleset *rs;
static fe_scratch *sc;

static int setup(void **state)
{
    char msg[256];
    (void)state;
    dir = tu_listdir(lists);
    rs = tu_load_or_report(dir, NULL);
    sc = rs ? fe_scratch_new(rs, msg, sizeof msg) : NULL;
    return sc ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fe_scratch_free(sc);
    fe_ruleset_free(rs);
    tu_rmdir(dir);
    return 0;
}

/* A character boundary: the end, or a byte that does not continue a
 * multi-byte sequence (invalid bytes are one-byte characters). */
static int boundary(const unsigned char *s, size_t n, size_t off)
{
    if (off == 0 || off == n)
        return 1;
    size_t i = 0;
    while (i < off) {
        uint32_t cp;
        int k = fe_utf8_decode(s + i, n - i, &cp);
        i += k > 0 ? (size_t)k : 1;
    }
    return i == off;
}

static void check(const char *text, size_t n)
{
    fe_result r;
    char err[256];
    int rc = fe_scan(rs, sc, text, n, FE_S_COMMENT, &r, err, sizeof err);
    assert_int_equal(rc, FE_OK);
    for (size_t i = 0; i < r.nmatches; i++) {
        const fe_match *m = &r.matches[i];
        assert_true(m->start < m->end && m->end <= n);
        assert_true(boundary((const unsigned char *)text, n, m->start));
        assert_true(boundary((const unsigned char *)text, n, m->end));
    }
}

static void test_blns(void **state)
{
    (void)state;
    FILE *f = fopen("tests/data/blns.json", "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *arr = cJSON_Parse(buf);
    assert_non_null(arr);
    int count = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it))
            continue;
        check(it->valuestring, strlen(it->valuestring));
        count++;
    }
    assert_true(count > 400);
    cJSON_Delete(arr);
}

static void test_random_bytes(void **state)
{
    static char text[RANDOM_MAX];
    uint64_t x = 0x9e3779b97f4a7c15ull;   /* fixed seed: failures reproduce */
    (void)state;
    for (int t = 0; t < RANDOM_TEXTS; t++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = x % RANDOM_MAX;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* mix ASCII, UTF-8 lead and continuation bytes, NULs */
            static const unsigned char pick[] = {'f', 'u', 'c', 'k', ' ', '.', 0, 0xe6, 0xb3,
                                                 0x95, 0xe8, 0xbd, 0xae, 0xf0, 0x9f, 0x98,
                                                 0x80, 0xff, 0xc0, '1', '3', '8'};
            text[i] = (char)((x >> 8) & 1 ? pick[(x >> 16) % sizeof pick] : (x >> 24) & 0xff);
        }
        check(text, n);
    }
}

static void test_many_matches_are_bounded(void **state)
{
    (void)state;
    size_t n = 6000 * 5;
    char *t = malloc(n);
    for (size_t i = 0; i < n; i += 5)
        memcpy(t + i, "fuck ", 5);
    fe_result r;
    char err[256];
    assert_int_equal(fe_scan(rs, sc, t, n, FE_S_COMMENT, &r, err, sizeof err), FE_OK);
    assert_int_equal(r.nmatches, FE_MAX_MATCHES);
    assert_true(r.warnings & FE_WARN_TRUNCATED);
    assert_int_equal(r.decision, FE_FLAG);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blns),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_many_matches_are_bounded),
    };
    return cmocka_run_group_tests_name("robust", tests, setup, teardown);
}
