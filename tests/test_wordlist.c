/* test_wordlist.c -- the list format: directives, options, defaults, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fold.h"
#include "taxonomy.h"
#include "wordlist.h"

static fe_wordlists parse(const char *name, const char *text, fe_errors *err, int want_rc)
{
    fe_wordlists wl = {0};
    assert_int_equal(fe_wl_parse(&wl, name, text, strlen(text), err), want_rc);
    return wl;
}

static void test_plain_file_takes_label_from_name(void **state)
{
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    fe_wordlists wl = parse("zh/porn.txt", "# comment\n\n  色情片  \n裸聊\r\n", &err, 0);
    assert_int_equal(wl.n, 2);
    assert_string_equal(wl.entries[0].term, "色情片");
    assert_int_equal(wl.entries[0].line, 3);
    assert_int_equal(wl.entries[0].label, FE_L_PORN);
    assert_int_equal(wl.entries[0].action, FE_BLOCK);
    assert_string_equal(wl.entries[1].term, "裸聊");
    assert_int_equal(wl.entries[1].line, 4);
    assert_string_equal(wl.files[wl.entries[1].file], "zh/porn.txt");
    fe_wl_free(&wl);
    wl = parse("abuse.txt", "idiot\n", &err, 0);
    assert_int_equal(wl.entries[0].action, FE_FLAG);   /* abuse's default */
    fe_wl_free(&wl);
}

static void test_directives_and_options(void **state)
{
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    fe_wordlists wl = parse("mixed.txt",
                            "@label violence\n@action flag\n@word\n"
                            "kill\n[noword] killer\n[action=block,label=contraband] gun\n"
                            "[re, view=compact] 炸[药弹]\n[check=idcard,re] \\d{17}[0-9x]\n"
                            "\\[not an option\n",
                            &err, 0);
    assert_null(err.text);
    assert_int_equal(wl.n, 6);
    fe_entry *e = wl.entries;
    assert_int_equal(e[0].label, FE_L_VIOLENCE);
    assert_int_equal(e[0].action, FE_FLAG);
    assert_true(e[0].flags & FE_E_WORD);
    assert_false(e[1].flags & FE_E_WORD);
    assert_int_equal(e[2].label, FE_L_CONTRABAND);
    assert_int_equal(e[2].action, FE_BLOCK);
    assert_true(e[3].flags & FE_E_RE);
    assert_int_equal(e[3].view, FE_VIEW_COMPACT);
    assert_int_equal(e[4].check, FE_CHECK_IDCARD);
    assert_string_equal(e[5].term, "[not an option");
    fe_wl_free(&wl);
}

static void test_allow_lists(void **state)
{
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    fe_wordlists wl = parse("allow.txt", "scunthorpe\n", &err, 0);
    assert_true(wl.entries[0].flags & FE_E_ALLOW);
    assert_int_equal(wl.entries[0].label, -1);
    fe_wl_free(&wl);
    wl = parse("en/places.allow.txt", "essex\n", &err, 0);
    assert_true(wl.entries[0].flags & FE_E_ALLOW);
    fe_wl_free(&wl);
    wl = parse("exceptions.txt", "@allow\nclassic\n", &err, 0);
    assert_true(wl.entries[0].flags & FE_E_ALLOW);
    fe_wl_free(&wl);
}

static void test_errors_name_file_and_line(void **state)
{
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    fe_wordlists wl = parse("porn.txt",
                            "ok\n@action smite\n@label nope\n[action=eh] a\n[label=nah] b\n"
                            "[frobnicate] c\n[word\n[word]\n\xff\xfe\n@bogus\n[check=luhn,re] \\d+\n",
                            &err, -1);
    const char *want[] = {
        "porn.txt:2: unknown action 'smite'", "porn.txt:3: unknown label 'nope'",
        "porn.txt:4: unknown action 'eh'",    "porn.txt:5: unknown label 'nah'",
        "porn.txt:6: unknown option 'frobnicate'", "porn.txt:7: unclosed '['",
        "porn.txt:8: empty term",             "porn.txt:9: term is not valid UTF-8",
        "porn.txt:10: unknown directive '@bogus'", "porn.txt:11: unknown check 'luhn'",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(err.text, want[i]))
            fail_msg("missing '%s' in:\n%s", want[i], err.text);
    assert_int_equal(err.count, 10);
    fe_wl_free(&wl);
    fe_errors_clear(&err);
    wl = parse("stuff.txt", "term\n", &err, -1);
    assert_non_null(strstr(err.text, "stuff.txt:1: no label"));
    fe_wl_free(&wl);
    fe_errors_clear(&err);
}

static void test_hash_covers_names_and_content(void **state)
{
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    fe_wordlists a = parse("porn.txt", "x\n", &err, 0);
    fe_wordlists b = parse("porn.txt", "y\n", &err, 0);
    fe_wordlists c = parse("vulgar.txt", "x\n", &err, 0);
    fe_wordlists d = parse("porn.txt", "x\n", &err, 0);
    assert_true(a.hash != b.hash);
    assert_true(a.hash != c.hash);
    assert_true(a.hash == d.hash);
    fe_wl_free(&a);
    fe_wl_free(&b);
    fe_wl_free(&c);
    fe_wl_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_file_takes_label_from_name),
        cmocka_unit_test(test_directives_and_options),
        cmocka_unit_test(test_allow_lists),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_hash_covers_names_and_content),
    };
    return cmocka_run_group_tests_name("wordlist", tests, NULL, NULL);
}
