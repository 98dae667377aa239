/* test_http.c -- the HTTP front door's pure parts: JSON bodies, the token file, loopback, http-listen. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "http.h"

static int parses(const char *body, size_t len)
{
    char err[160] = "";
    cJSON *v = fd_json_parse(body, len, err, sizeof err);
    int ok = v != NULL;
    if (!ok)
        assert_true(err[0] != '\0');    /* a refusal always says why */
    cJSON_Delete(v);
    return ok;
}
#define PARSES(s) parses((s), sizeof(s) - 1)

static void test_json_accepts(void **state)
{
    (void)state;
    assert_true(PARSES("{\"text\": \"hello\"}"));
    assert_true(PARSES("{\"text\": \"\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\"}\n\r\t "));
    assert_true(PARSES("{\"t\": \"a\\\"b\\\\\", \"u\": \"\\u4f60\\u0001\"}"));
    assert_true(PARSES("[1, 2]"));      /* a value; the routes want an object */
}

static void test_json_refuses(void **state)
{
    (void)state;
    assert_false(PARSES(""));
    assert_false(PARSES("{\"text\": \"a\""));
    assert_false(PARSES("{} {}"));
    assert_false(PARSES("{\"text\": \"a\"} x"));
    assert_false(PARSES("{\"text\": \"\xff\"}"));           /* not UTF-8 */
    assert_false(PARSES("{\"text\": \"\xc0\xaf\"}"));       /* overlong '/' */
    assert_false(PARSES("{\"text\": \"\xed\xa0\x80\"}"));   /* a surrogate */
    assert_false(PARSES("{\"text\": \"\xf4\x90\x80\x80\"}")); /* past U+10FFFF */
    assert_false(PARSES("{\"text\": \"\xe4\xbd\"}"));       /* cut short */
    assert_false(parses("{\"text\": \"a\0b\"}", 14));         /* a raw NUL */
    assert_false(PARSES("{\"text\": \"a\\u0000b\"}"));      /* an escaped NUL */
    assert_false(PARSES("{\"te\\u0000xt\": \"a\"}"));
    assert_true(PARSES("{\"text\": \"a\\\\u0000b\"}"));     /* a backslash, then u0000 */
    /* cJSON reads a \u without four hex digits as NUL, which would cut the
     * text short: found by fuzz_http */
    assert_false(PARSES("{\"text\": \"clean\\uZZZZ then the rest\"}"));
    assert_false(PARSES("{\"text\": \"a\\u12\"}"));
    assert_false(PARSES("\"\\u\\\x83\\uickname\""));   /* a byte not UTF-8 after a backslash */
    assert_true(PARSES("{\"text\": \"\\u4f60\\u597D\"}"));
    /* a key twice: cJSON answers the first, a proxy may read the last */
    assert_false(PARSES("{\"text\": \"fine\", \"text\": \"bad\"}"));
    assert_false(PARSES("{\"text\": \"fine\", \"te\\u0078t\": \"bad\"}"));
    assert_false(PARSES("{\"items\": [{\"text\": \"a\"}, {\"id\": 1, \"text\": \"b\", \"id\": 2}]}"));
    assert_true(PARSES("{\"items\": [{\"text\": \"a\"}, {\"text\": \"b\"}], \"text\": 1}"));
    assert_true(PARSES("{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}"));  /* same key, two objects */
}

/* Round 8 of issue 13: the flat fast path takes the common bodies and reads
 * them as fd_json_parse does (the same tree, printed); everything else it
 * declines without touching the body, for fd_json_parse to read or refuse. */
static int flat_same(const char *body)
{
    size_t n = strlen(body);
    char err[160], *copy = strdup(body);
    cJSON nodes[FD_JSON_FLAT_MAX];
    assert_non_null(copy);
    cJSON *f = fd_json_flat(copy, n, nodes, FD_JSON_FLAT_MAX);
    if (!f) {
        assert_memory_equal(copy, body, n);
        free(copy);
        return 0;
    }
    cJSON *j = fd_json_parse(body, n, err, sizeof err);
    assert_non_null(j);
    char *a = cJSON_PrintUnformatted(j), *b = cJSON_PrintUnformatted(f);
    assert_string_equal(a, b);
    free(a);
    free(b);
    cJSON_Delete(j);
    free(copy);
    return 1;
}

static void test_json_flat(void **state)
{
    (void)state;
    assert_true(flat_same("{\"text\": \"hello\"}"));
    assert_true(flat_same("{}"));
    assert_true(flat_same(" {\"text\":\"\xe4\xbd\xa0\xe5\xa5\xbd\",\"scene\":\"comment\",\"id\":\"c1\"}\r\n"));
    assert_true(flat_same("{\"content\": \"x\", \"version\": 2, \"scene\": 2, \"openid\": \"o\", "
                          "\"budget_ms\": -17, \"explain\": false, \"v\": 1, \"n\": 0, \"t\": true}"));
    assert_true(flat_same("{\"text\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u4f60\\u00e9\\u0041"
                          "\\ud83d\\ude00\"}"));
    assert_true(flat_same("{\"id\": 999999999}"));
    /* declined: fd_json_parse reads them (or refuses them, with its reason) */
    assert_false(flat_same("{\"items\": [{\"text\": \"a\"}]}"));
    assert_false(flat_same("{\"a\": {\"x\": 1}}"));
    assert_false(flat_same("{\"text\": \"a\", \"text\": \"b\"}"));
    assert_false(flat_same("{\"te\\u0078t\": \"a\"}"));
    assert_false(flat_same("{\"text\": \"a\\u0000b\"}"));
    assert_false(flat_same("{\"text\": \"a\\ud83d\"}"));           /* a lone surrogate */
    assert_false(flat_same("{\"text\": \"a\\ude00\"}"));
    assert_false(flat_same("{\"text\": \"a\x01\"}"));               /* a raw control byte */
    assert_false(flat_same("{\"text\": \"\xff\"}"));
    assert_false(flat_same("{\"id\": -0}"));
    assert_false(flat_same("{\"id\": 1.5}"));
    assert_false(flat_same("{\"id\": 1e3}"));
    assert_false(flat_same("{\"id\": 01}"));
    assert_false(flat_same("{\"id\": 1234567890}"));
    assert_false(flat_same("{\"id\": null}"));
    assert_false(flat_same("\xef\xbb\xbf{\"text\": \"a\"}"));      /* a BOM */
    assert_false(flat_same("{\"text\": \"a\"} x"));
    assert_false(flat_same("{\"text\": \"a\",}"));
    assert_false(flat_same("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,"
                           "\"j\":10}"));                            /* more than 9 members */
    assert_false(flat_same("[1]"));
    assert_false(flat_same("\x01{\"text\": \"a\"}"));               /* cJSON's whitespace */
}

/* An object of 20,000 keys: parsed whole, its one repeat found (sorted, not
 * compared pairwise: 2 * 10^8 comparisons otherwise). */
static void test_json_many_keys(void **state)
{
    (void)state;
    size_t cap = 20000 * 16 + 64, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    b[n++] = '{';
    for (int i = 0; i < 20000; i++)
        n += (size_t)snprintf(b + n, cap - n, "%s\"k%d\": %d", i ? ", " : "", i, i);
    size_t open_end = n;
    n += (size_t)snprintf(b + n, cap - n, "}");
    assert_true(parses(b, n));
    n = open_end + (size_t)snprintf(b + open_end, cap - open_end, ", \"k7\": 0}");
    char err[160];
    cJSON *v = fd_json_parse(b, n, err, sizeof err);
    assert_null(v);
    assert_non_null(strstr(err, "\"k7\" appears twice"));
    free(b);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/fdtok.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_tokens(void **state)
{
    static fd_tokens t;
    char err[512];
    (void)state;
    char *p = write_tmp("# tokens\n\n  alpha-123  \nbeta\r\n#gamma\n");
    assert_int_equal(fd_tokens_load(&t, p, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_true(fd_tokens_match(&t, "alpha-123", 9));
    assert_true(fd_tokens_match(&t, "beta", 4));
    assert_false(fd_tokens_match(&t, "alpha-12", 8));      /* a prefix */
    assert_false(fd_tokens_match(&t, "alpha-1234", 10));   /* longer */
    assert_false(fd_tokens_match(&t, "gamma", 5));         /* a comment */
    assert_false(fd_tokens_match(&t, "", 0));
    char big[FD_HTTP_TOKEN_MAX + 8];
    memset(big, 'a', sizeof big);
    assert_false(fd_tokens_match(&t, big, sizeof big));
    unlink(p);
    free(p);
}

static void test_tokens_refused(void **state)
{
    static fd_tokens t;
    char err[512], want[600];
    (void)state;
    char *one = write_tmp("one\n");
    assert_int_equal(fd_tokens_load(&t, one, err, sizeof err), 0);
    unlink(one);
    free(one);
    const char *bad[] = {"ok\nwith space\n", "ok\na&b\n", "# only a comment\n", "ok\n\nx%41\n"};
    const int line[] = {2, 2, 1, 3};
    for (int i = 0; i < 4; i++) {
        char *p = write_tmp(bad[i]);
        assert_int_equal(fd_tokens_load(&t, p, err, sizeof err), -1);
        snprintf(want, sizeof want, "%s:%d: ", p, line[i]);
        assert_true(strncmp(err, want, strlen(want)) == 0);
        assert_int_equal(t.n, 1);                           /* the old tokens stay */
        assert_true(fd_tokens_match(&t, "one", 3));
        unlink(p);
        free(p);
    }
    assert_int_equal(fd_tokens_load(&t, "/nonexistent/tokens", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/tokens"));
}

/* http-admin-tokens: "TOKEN NAME" lines; which token matched says who. */
static void test_admin_tokens(void **state)
{
    static fd_tokens t;
    char err[512], want[600];
    (void)state;
    char *p = write_tmp("# admins\nadm-1 alice\n  adm-2\tbob smith  \n");
    assert_int_equal(fd_tokens_read(&t, p, "http-admin-tokens", 1, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(fd_tokens_which(&t, "adm-1", 5), 0);
    assert_string_equal(t.name[0], "alice");
    assert_int_equal(fd_tokens_which(&t, "adm-2", 5), 1);
    assert_string_equal(t.name[1], "bob smith");
    assert_int_equal(fd_tokens_which(&t, "adm-", 4), -1);
    assert_int_equal(fd_tokens_which(&t, "alice", 5), -1);        /* a name is no token */
    unlink(p);
    free(p);
    const char *bad[] = {"adm-1 alice\nadm-2\n", "adm-1 al\"ice\n", "a&b alice\n"};
    for (int i = 0; i < 3; i++) {
        p = write_tmp(bad[i]);
        assert_int_equal(fd_tokens_read(&t, p, "http-admin-tokens", 1, err, sizeof err), -1);
        snprintf(want, sizeof want, "%s:%d: ", p, i == 0 ? 2 : 1);
        assert_true(strncmp(err, want, strlen(want)) == 0);
        assert_int_equal(t.n, 2);                                   /* the old ones stay */
        unlink(p);
        free(p);
    }
    assert_int_equal(fd_tokens_read(&t, "/nonexistent/a", "http-admin-tokens", 1, err,
                                    sizeof err), -1);
    assert_true(strncmp(err, "http-admin-tokens: ", 19) == 0);
}

static void test_loopback(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct sockaddr_in6 b = {.sin6_family = AF_INET6};
    (void)state;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_true(fd_addr_loopback((struct sockaddr *)&a));
    inet_pton(AF_INET, "127.8.9.10", &a.sin_addr);
    assert_true(fd_addr_loopback((struct sockaddr *)&a));
    inet_pton(AF_INET, "10.0.0.1", &a.sin_addr);
    assert_false(fd_addr_loopback((struct sockaddr *)&a));
    inet_pton(AF_INET6, "::1", &b.sin6_addr);
    assert_true(fd_addr_loopback((struct sockaddr *)&b));
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &b.sin6_addr);
    assert_true(fd_addr_loopback((struct sockaddr *)&b));
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &b.sin6_addr);
    assert_false(fd_addr_loopback((struct sockaddr *)&b));
    inet_pton(AF_INET6, "fd00::1", &b.sin6_addr);
    assert_false(fd_addr_loopback((struct sockaddr *)&b));
    assert_false(fd_addr_loopback(NULL));
}

static void test_listen_spec(void **state)
{
    char err[256];
    (void)state;
    const char *good[] = {"127.0.0.1:7780", "[::1]:7780", "*:7780", "0.0.0.0:1"};
    const char *bad[] = {"7780", "localhost:7780", "127.0.0.1:", ":7780", "127.0.0.1:x",
                         "[::1:7780"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(fd_http_listen(good[i], 1, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(fd_http_listen(bad[i], 1, err, sizeof err), -1);
        assert_non_null(strstr(err, "http-listen"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_accepts),   cmocka_unit_test(test_json_refuses),
        cmocka_unit_test(test_json_many_keys),
        cmocka_unit_test(test_json_flat),
        cmocka_unit_test(test_tokens),         cmocka_unit_test(test_tokens_refused),
        cmocka_unit_test(test_admin_tokens),
        cmocka_unit_test(test_loopback),       cmocka_unit_test(test_listen_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
