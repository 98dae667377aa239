/* test_config.c -- the settings table: defaults, file parsing, errors with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "settings.h"

static char *write_conf(const char *text)
{
    char *path = strdup("/tmp/feconf.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_defaults(void **state)
{
    fd_config c;
    (void)state;
    fd_conf_defaults(&c);
    assert_string_equal(c.engine.lists, "wordlists");
    assert_int_equal(c.engine.max_text_bytes, 65536);
    assert_int_equal(c.nlisten, 1);
    assert_string_equal(c.listen[0], "tcp://127.0.0.1:7700");
    assert_int_equal(c.on_deadline, FE_FLAG);
    for (int s = 0; s < FE_NSCENES; s++)
        for (int l = 0; l < FE_NLABELS; l++)
            assert_int_equal(c.engine.policy[s][l], -1);
}

static void test_the_shipped_config_is_valid(void **state)
{
    fd_config c;
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    int rc = fd_conf_load(&c, "config/filterd.conf", &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_string_equal(c.engine.lists, "config/../wordlists");
    fe_errors_clear(&err);
}

/* Where filterd and filterctl look (the tests run from the repository root),
 * and the admin endpoint a configuration gives. */
static void test_search_and_admin(void **state)
{
    fd_config c;
    char ep[FD_CONF_ENDPOINT_LEN + 32], cwd[4096];
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    assert_string_equal(fd_conf_find("my.conf"), "my.conf");
    assert_non_null(getcwd(cwd, sizeof cwd));
    strcat(cwd, "/config/filterd.conf");
    assert_string_equal(fd_conf_find(NULL), cwd);
    assert_string_equal(FD_CONF_SYSTEM, FD_SYSCONFDIR "/filterd/filterd.conf");
    fd_conf_defaults(&c);
    assert_string_equal(c.admin_group, "");
    fd_conf_admin(&c, ep, sizeof ep);
    assert_string_equal(ep, "ipc:///tmp/filterd/admin.sock");
    assert_int_equal(fd_conf_set(&c, "run-dir /run/filterd", "t", &err), 0);
    fd_conf_admin(&c, ep, sizeof ep);
    assert_string_equal(ep, "ipc:///run/filterd/admin.sock");
    assert_int_equal(fd_conf_set(&c, "admin tcp://127.0.0.1:7701", "t", &err), 0);
    assert_int_equal(fd_conf_set(&c, "admin-group filterd-admin", "t", &err), 0);
    fd_conf_admin(&c, ep, sizeof ep);
    assert_string_equal(ep, "tcp://127.0.0.1:7701");
    assert_string_equal(c.admin_group, "filterd-admin");
    fe_errors_clear(&err);
}

static void test_file(void **state)
{
    fd_config c;
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    char *p = write_conf("# a comment\n\nlists mylists\nmax-text-bytes 1000\n"
                         "policy profile privacy block\n  listen ipc:///tmp/a tcp://*:7\n"
                         "on-deadline allow\nlog-text no\ncache-dir /var/cache/x\ncache-dir \"\"\n");
    assert_int_equal(fd_conf_load(&c, p, &err), 0);
    assert_string_equal(c.engine.lists, "/tmp/mylists");   /* relative to the file's folder */
    assert_int_equal(c.engine.max_text_bytes, 1000);
    assert_int_equal(c.engine.policy[FE_S_PROFILE][FE_L_PRIVACY], FE_BLOCK);
    assert_int_equal(c.engine.policy[FE_S_COMMENT][FE_L_PRIVACY], -1);
    assert_int_equal(c.nlisten, 2);
    assert_string_equal(c.listen[1], "tcp://*:7");
    assert_int_equal(c.on_deadline, FE_ALLOW);
    assert_string_equal(c.engine.cache_dir, "");   /* "" as the config's comments write it: off */
    unlink(p);
    free(p);
}

static void test_errors(void **state)
{
    fd_config c;
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    char *p = write_conf("workers lots\nbogus 1\npolicy profile nosuch block\n"
                         "on-deadline maybe\nmax-text-bytes 1\nlisten nowhere\n");
    assert_int_equal(fd_conf_load(&c, p, &err), -1);
    char want[256];
    const char *lines[] = {":1: workers: 'lots' is not a number", ":2: unknown setting 'bogus'",
                           ":3: policy: unknown label 'nosuch'", ":4: on-deadline: unknown action",
                           ":5: max-text-bytes: '1' is not a number in [16",
                           ":6: listen: bad endpoint 'nowhere'"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        snprintf(want, sizeof want, "%s%s", p, lines[i]);
        if (!strstr(err.text, want))
            fail_msg("missing '%s' in:\n%s", want, err.text);
    }
    assert_int_equal(err.count, 6);
    fe_errors_clear(&err);
    assert_int_equal(fd_conf_load(&c, "/nonexistent.conf", &err), -1);
    assert_non_null(strstr(err.text, "/nonexistent.conf"));
    fe_errors_clear(&err);
    unlink(p);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_the_shipped_config_is_valid),
        cmocka_unit_test(test_search_and_admin),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
