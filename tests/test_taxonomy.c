/* test_taxonomy.c -- label codes, default actions, name lookups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "taxonomy.h"

static void test_codes_and_actions(void **state)
{
    static const struct { const char *name; int code; fe_action a; } want[] = {
        {"politics", 20001, FE_BLOCK}, {"porn", 20002, FE_BLOCK}, {"abuse", 20003, FE_FLAG},
        {"violence", 20006, FE_BLOCK}, {"gambling", 20006, FE_BLOCK},
        {"contraband", 20006, FE_BLOCK}, {"fraud", 20008, FE_BLOCK},
        {"vulgar", 20012, FE_FLAG}, {"trademark", 20013, FE_FLAG}, {"ad", 10001, FE_FLAG},
        {"privacy", 21000, FE_FLAG}, {"cult", 21000, FE_FLAG}, {"other", 21000, FE_FLAG},
    };
    (void)state;
    assert_int_equal(sizeof want / sizeof want[0], FE_NLABELS);
    for (size_t i = 0; i < FE_NLABELS; i++) {
        int l = fe_label_lookup(want[i].name);
        assert_int_equal(l, (int)i);
        assert_string_equal(fe_label_name(l), want[i].name);
        assert_int_equal(fe_label_code(l), want[i].code);
        assert_int_equal(fe_label_action(l), want[i].a);
    }
    assert_int_equal(fe_label_lookup("nonsense"), -1);
    assert_int_equal(fe_label_code(-1), 100);
}

static void test_actions_and_scenes(void **state)
{
    (void)state;
    assert_int_equal(fe_action_lookup("block"), FE_BLOCK);
    assert_int_equal(fe_action_lookup("flag"), FE_FLAG);
    assert_int_equal(fe_action_lookup("allow"), FE_ALLOW);
    assert_int_equal(fe_action_lookup("smite"), -1);
    assert_string_equal(fe_action_suggest(FE_BLOCK), "risky");
    assert_string_equal(fe_action_suggest(FE_FLAG), "review");
    assert_string_equal(fe_action_suggest(FE_ALLOW), "pass");
    const char *scenes[] = {"profile", "comment", "forum", "social_log", "nickname", "title", "chat"};
    for (int i = 0; i < FE_NSCENES; i++) {
        assert_int_equal(fe_scene_lookup(scenes[i]), i);
        assert_string_equal(fe_scene_name(i), scenes[i]);
    }
    assert_int_equal(fe_scene_lookup("bogus"), -1);
    assert_int_equal(FE_SCENE_DEFAULT, fe_scene_lookup("comment"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_and_actions),
        cmocka_unit_test(test_actions_and_scenes),
    };
    return cmocka_run_group_tests_name("taxonomy", tests, NULL, NULL);
}
