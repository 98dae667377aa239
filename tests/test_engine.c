/* test_engine.c -- normalised matching, allow-lists, decisions, scenes, bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static const tu_file lists[] = {
    {"abuse.txt", "# abuse, test fixture\n[word] ass\nfuck\n[action=block] cunt\n"},
    {"politics.txt", "法轮功\n法輪功\n"},
    {"fraud.txt", "发票代开\ntencent\n"},
    {"porn.txt", "@action flag\nnude\n[action=block] 乳交\n"},
    {"privacy.txt", "[re,word] 1[3-9]\\d[ -]?\\d{4}[ -]?\\d{4}\n"
                    "[re,word,check=idcard] \\d{17}[0-9x]\n"},
    {"trademark.txt", "wechat\n"},
    {"ad.txt", "[re] vx[a-z0-9]{3,8}\n"},
    {"en/extra.txt", "@label violence\n@action flag\nbomb threat\n"},
    {"allow.txt", "scunthorpe\n"},
    {NULL, NULL},
};

static char *dir;
static fe_ruleset *rs;

static int setup(void **state)
{
    static const char *const conf[] = {
        "policy profile trademark block", "policy chat trademark allow", NULL};
    (void)state;
    dir = tu_listdir(lists);
    rs = tu_load_or_report(dir, conf);
    return rs ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_scan_done();
    fe_ruleset_free(rs);
    tu_rmdir(dir);
    return 0;
}

/* Each text must be caught by the given list term (the table). */
static void expect_term(const char *text, const char *term)
{
    fe_result r = tu_scan(rs, text, FE_S_COMMENT);
    if (!tu_matched(rs, &r, term))
        fail_msg("'%s' should match '%s' (decision %s, decider '%s')", text, term,
                 fe_action_name(r.decision), tu_decider_term(rs, &r));
}

static void expect_clean(const char *text)
{
    tu_expect_allowed(rs, text, FE_S_COMMENT);
}

static void test_fullwidth_math_circled_case(void **state)
{
    (void)state;
    expect_term("ＦＵＣＫ", "fuck");
    expect_term("𝐟𝐮𝐜𝐤", "fuck");
    expect_term("Ⓕⓤⓒⓚ", "fuck");
    expect_term("FuCk", "fuck");
}

static void test_traditional(void **state)
{
    (void)state;
    expect_term("發票代開", "发票代开");
}

static void test_homoglyph(void **state)
{
    (void)state;
    expect_term("t\xd0\xb5nc\xd0\xb5nt", "tencent");   /* Cyrillic е */
}

static void test_separators_in_chinese(void **state)
{
    (void)state;
    expect_term("法\xe2\x80\x8b轮\xe2\x80\x8d功", "法轮功");   /* ZWSP, ZWJ */
    expect_term("法*轮*功", "法轮功");
    expect_term("法 轮 功", "法轮功");
    expect_term("法.轮.功", "法轮功");
    expect_term("法😀轮😀功", "法轮功");
}

static void test_single_letters_joined(void **state)
{
    (void)state;
    expect_term("f.u.c.k", "fuck");
    expect_term("f u c k", "fuck");
    expect_term("f-u-c-k", "fuck");
}

static void test_mobile_variants(void **state)
{
    const char *rule = "1[3-9]\\d[ -]?\\d{4}[ -]?\\d{4}";
    (void)state;
    expect_term("１３８-0013-８０００", rule);
    expect_term("①③⑧〇〇①③⑧〇〇〇", rule);
    expect_clean("订单号 1380013800099 已发货");   /* 13 digits: not a phone */
}

static void test_whole_word_and_allow_list(void **state)
{
    (void)state;
    expect_clean("assessment");
    expect_clean("classic");
    expect_clean("as snow");
    expect_clean("Scunthorpe");
    expect_term("you ass!", "ass");
    /* The allow-list suppresses only what lies inside its own span. */
    expect_term("Scunthorpe cunt", "cunt");
}

static void test_multiword_term(void **state)
{
    (void)state;
    expect_term("a BOMB   threat here", "bomb threat");
    expect_term("bomb-threat", "bomb threat");
    expect_clean("bombthreat");
}

static void test_offsets_in_input(void **state)
{
    (void)state;
    const char *t = "好的 ＦＵＣＫ 再见";
    fe_result r = tu_scan(rs, t, FE_S_COMMENT);
    assert_int_equal(r.nmatches, 1);
    assert_int_equal(r.matches[0].start, strlen("好的 "));
    assert_int_equal(r.matches[0].end, strlen("好的 ＦＵＣＫ"));
    assert_int_equal(r.matches[0].view, FE_VIEW_FOLDED);
    r = tu_scan(rs, "x法 轮 功y", FE_S_COMMENT);
    assert_int_equal(r.matches[0].start, 1);
    assert_int_equal(r.matches[0].end, strlen("x法 轮 功"));
    assert_int_equal(r.matches[0].view, FE_VIEW_COMPACT);
}

static void test_decision_strongest_then_earliest(void **state)
{
    (void)state;
    /* flag (fuck) comes first, block (cunt) later: block wins. */
    fe_result r = tu_scan(rs, "fuck you cunt", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_BLOCK);
    assert_string_equal(tu_decider_term(rs, &r), "cunt");
    assert_int_equal(r.label, FE_L_ABUSE);
    assert_int_equal(fe_label_code(r.label), 20003);
    /* two blocks: the earliest decides */
    r = tu_scan(rs, "发票代开 法轮功", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_BLOCK);
    assert_string_equal(tu_decider_term(rs, &r), "发票代开");
    assert_int_equal(r.label, FE_L_FRAUD);
    assert_true(r.labels & (1u << FE_L_POLITICS));
    assert_true(r.labels & (1u << FE_L_FRAUD));
    /* file-level @action and per-entry override */
    r = tu_scan(rs, "nude", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_FLAG);
    assert_int_equal(r.label, FE_L_PORN);
    r = tu_scan(rs, "乳交", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_BLOCK);
    /* @label in a file not named after a label */
    r = tu_scan(rs, "bomb threat", FE_S_COMMENT);
    assert_int_equal(r.label, FE_L_VIOLENCE);
    assert_int_equal(r.decision, FE_FLAG);
}

static void test_allowed_text(void **state)
{
    (void)state;
    fe_result r = tu_scan(rs, "今天天气很好 a nice day", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_ALLOW);
    assert_int_equal(r.label, -1);
    assert_int_equal(fe_label_code(r.label), FE_CODE_PASS);
    assert_int_equal(r.nmatches, 0);
}

static void test_scene_policy(void **state)
{
    (void)state;
    fe_result r = tu_scan(rs, "add me on wechat", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_FLAG);
    r = tu_scan(rs, "add me on wechat", FE_S_PROFILE);
    assert_int_equal(r.decision, FE_BLOCK);
    assert_int_equal(r.label, FE_L_TRADEMARK);
    r = tu_scan(rs, "add me on wechat", FE_S_CHAT);
    assert_int_equal(r.decision, FE_ALLOW);
    assert_int_equal(r.labels, 0);   /* the policy allows it: no label reported */
    assert_int_equal(fe_policy_action(rs, FE_S_PROFILE, FE_L_TRADEMARK, FE_FLAG), FE_BLOCK);
    assert_int_equal(fe_policy_action(rs, FE_S_FORUM, FE_L_TRADEMARK, FE_FLAG), FE_FLAG);
}

static void test_regex_reports_longest_match_once(void **state)
{
    (void)state;
    fe_result r = tu_scan(rs, "add vxabc12345 now", FE_S_COMMENT);
    assert_int_equal(r.nmatches, 1);   /* not one per reachable end */
    assert_int_equal(r.matches[0].start, 4);
    assert_int_equal(r.matches[0].end, 14);
}

static void test_idcard_check_digit(void **state)
{
    (void)state;
    const char *rule = "\\d{17}[0-9x]";
    expect_term("身份证 11010519491231002X", rule);
    expect_clean("身份证 110105194912310021");   /* wrong check digit */
}

static void test_bad_input(void **state)
{
    char err[256];
    fe_result r;
    (void)state;
    fe_scratch *sc = fe_scratch_new(rs, err, sizeof err);
    assert_non_null(sc);
    /* empty text */
    assert_int_equal(fe_scan(rs, sc, "", 0, FE_S_COMMENT, &r, err, sizeof err), FE_OK);
    assert_int_equal(r.decision, FE_ALLOW);
    /* an invalid byte is a separator: it cannot hide a term */
    const char bad[] = "法\xff轮功";
    assert_int_equal(fe_scan(rs, sc, bad, sizeof bad - 1, FE_S_COMMENT, &r, err, sizeof err), FE_OK);
    assert_int_equal(r.decision, FE_BLOCK);
    assert_true(r.warnings & FE_WARN_INVALID_UTF8);
    assert_int_equal(r.matches[0].start, 0);
    assert_int_equal(r.matches[0].end, sizeof bad - 1);
    /* NUL likewise */
    const char nul[] = "fu\0ck f\0u\0c\0k";
    assert_int_equal(fe_scan(rs, sc, nul, sizeof nul - 1, FE_S_COMMENT, &r, err, sizeof err), FE_OK);
    assert_true(r.warnings & FE_WARN_NUL);
    assert_int_equal(r.decision, FE_FLAG);
    /* too large: an error, never a truncated scan */
    size_t big = 65537;
    char *t = malloc(big);
    memset(t, 'a', big);
    assert_int_equal(fe_scan(rs, sc, t, big, FE_S_COMMENT, &r, err, sizeof err), FE_ETOOLARGE);
    assert_non_null(strstr(err, "max-text-bytes"));
    assert_int_equal(fe_scan(rs, sc, t, big - 1, FE_S_COMMENT, &r, err, sizeof err), FE_OK);
    free(t);
    /* unknown scene */
    assert_int_equal(fe_scan(rs, sc, "x", 1, 99, &r, err, sizeof err), FE_ERR);
    fe_scratch_free(sc);
}

/* The phonetic pass keeps the syllable split of Latin words in the scratch
 * (phonetic.c, the Latin memo): a scratch that has read thousands of other
 * words (every slot taken, many twice) reads a text as a new one does. */
static void test_latin_memo(void **state)
{
    static const char *const texts[] = {"falungong", "fa lun gong", "Fa Lun Gong fa轮gong",
                                        "xian zai qu", "xianzai quzhe", "the quick brown fox"};
    char err[256], buf[8192];
    fe_result r;
    (void)state;
    fe_scratch *fresh = fe_scratch_new(rs, err, sizeof err), *used = fe_scratch_new(rs, err, sizeof err);
    assert_non_null(fresh);
    assert_non_null(used);
    for (unsigned round = 0; round < 8; round++) {   /* words of 2 to 9 letters */
        size_t n = 0;
        for (unsigned w = 0; w < 600 && n + 16 < sizeof buf; w++) {
            unsigned x = (round * 600 + w) * 2654435761u, len = 2 + x % 8;
            for (unsigned k = 0; k < len; k++, x = x * 1103515245u + 12345u)
                buf[n++] = (char)("aeioungshzcxqwl"[(x >> 16) % 15]);
            buf[n++] = ' ';
        }
        assert_int_equal(fe_scan(rs, used, buf, n, FE_S_COMMENT, &r, err, sizeof err), FE_OK);
    }
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t n = strlen(texts[t]);
        assert_int_equal(fe_scan(rs, fresh, texts[t], n, FE_S_COMMENT, &r, err, sizeof err), FE_OK);
        assert_int_equal(fe_scan(rs, used, texts[t], n, FE_S_COMMENT, &r, err, sizeof err), FE_OK);
        const fe_viewbuf *a = fe_scratch_view(fresh, FE_VIEW_PHONETIC),
                         *b = fe_scratch_view(used, FE_VIEW_PHONETIC);
        assert_true(a->len > 0 || t == 5);   /* no word of the last one is pinyin */
        if (a->len != b->len || memcmp(a->buf, b->buf, a->len) ||
            memcmp(a->src, b->src, a->len * sizeof *a->src) ||
            memcmp(a->mark, b->mark, a->len * sizeof *a->mark))
            fail_msg("'%s': the phonetic view differs after other words", texts[t]);
    }
    expect_term("fa lun gong", "法轮功");
    fe_scratch_free(fresh);
    fe_scratch_free(used);
}

static void test_entry_info_and_version(void **state)
{
    fe_entry_info ei;
    (void)state;
    fe_result r = tu_scan(rs, "法轮功", FE_S_COMMENT);
    assert_int_equal(fe_entry_get(rs, r.matches[0].entry, &ei), FE_OK);
    assert_string_equal(ei.file, "politics.txt");
    assert_int_equal(ei.line, 1);
    assert_int_equal(ei.view, FE_VIEW_COMPACT);
    assert_int_equal(strncmp(fe_ruleset_version(rs), "wl-", 3), 0);
    assert_int_equal(strlen(fe_ruleset_version(rs)), 19);
    assert_true(fe_ruleset_db_size(rs) > 0);
    assert_true(fe_ruleset_memory(rs) > fe_ruleset_db_size(rs));
}

/* Loading: errors are file:line: reason, and a bad set is refused whole. */
static void test_duplicates_after_folding(void **state)
{
    (void)state;
    const fe_errors *w = fe_ruleset_warnings(rs);
    assert_non_null(w->text);
    assert_non_null(strstr(w->text, "politics.txt:2: '法輪功' is the same as politics.txt:1 "
                                    "after normalisation; ignored"));
    fe_result r = tu_scan(rs, "法轮功", FE_S_COMMENT);
    assert_int_equal(r.nmatches, 1);
}

static void test_load_errors(void **state)
{
    static const tu_file bad[] = {
        {"porn.txt", "good\n[re] (unclosed\n"},
        {"abuse.txt", "\n[action=smite] x\n[label=nonsense] y\n\xe2\x80\x8b\n[word]\n"},
        {"notalabel.txt", "term\n"},
        {NULL, NULL},
    };
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    char *d = tu_listdir(bad);
    fe_ruleset *r = tu_load(d, NULL, &err);
    assert_null(r);
    assert_non_null(err.text);
    assert_non_null(strstr(err.text, "porn.txt:2: regex refused by Hyperscan"));
    assert_non_null(strstr(err.text, "abuse.txt:2: unknown action 'smite'"));
    assert_non_null(strstr(err.text, "abuse.txt:3: unknown label 'nonsense'"));
    assert_non_null(strstr(err.text, "abuse.txt:4: term folds to nothing"));
    assert_non_null(strstr(err.text, "abuse.txt:5: empty term"));
    assert_non_null(strstr(err.text, "notalabel.txt:1: no label"));
    fe_errors_clear(&err);
    tu_rmdir(d);
}

/* Issue 10: an entry that normalises to one character, or keeps less than half of what
 * is written, is refused with file:line unless it says [short]; an emoji with a reading
 * keeps it (你🐴 is 你马), but only while the emoji view is on. */
static void test_short_entries_refused(void **state)
{
    static const tu_file bad[] = {
        {"abuse.txt", "**子\n你🦄\n你好😀😀😀😀😀\n[word] x\n你🐴\n[short] 子\n法·轮·功\n"
                      "f.u.c.k\n傻逼😀\n"},
        {NULL, NULL},
    };
    static const char *const no_emoji[] = {"view emoji off", NULL};
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    char *d = tu_listdir(bad);
    assert_null(tu_load(d, NULL, &err));
    assert_non_null(strstr(err.text, "abuse.txt:1: '**子' normalises to one character, '子'"));
    assert_non_null(strstr(err.text, "abuse.txt:2: '你🦄' normalises to one character, '你'"));
    assert_non_null(strstr(err.text, "abuse.txt:3: '你好😀😀😀😀😀' keeps 2 of its 7 characters"));
    assert_non_null(strstr(err.text, "abuse.txt:4: 'x' normalises to one character"));
    assert_int_equal(err.count, 4);   /* 你🐴, [short] 子, 法·轮·功 ... are fine */
    fe_errors_clear(&err);
    assert_null(tu_load(d, no_emoji, &err));
    assert_non_null(strstr(err.text, "abuse.txt:5: '你🐴' normalises to one character, '你'"));
    fe_errors_clear(&err);
    tu_rmdir(d);

    static const tu_file ok[] = {{"abuse.txt", "[short] 子\n你🐴\n"}, {NULL, NULL}};
    d = tu_listdir(ok);
    fe_ruleset *r = tu_load(d, NULL, &err);
    assert_non_null(r);
    assert_int_equal(tu_scan(r, "孔子曰", FE_S_COMMENT).decision, FE_FLAG);  /* as asked */
    assert_int_equal(tu_scan(r, "你好", FE_S_COMMENT).decision, FE_ALLOW);
    tu_scan_done();
    fe_ruleset_free(r);
    fe_errors_clear(&err);
    tu_rmdir(d);
}

/* lint's messages: a file without a label is one error, not one per line;
 * a regex error's position is a character of the term, shown. */
static void test_lint_messages(void **state)
{
    static const tu_file bad[] = {
        {"misc.txt", "# no label\none\ntwo\nthree\n"},
        {"porn.txt", "[re] 炸[药弹\n[re] 色情x**\n[re] 你好\\\n"},
        {NULL, NULL},
    };
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    char *d = tu_listdir(bad);
    assert_null(tu_load(d, NULL, &err));
    assert_non_null(err.text);
    assert_non_null(strstr(err.text, "misc.txt:2: no label for 3 entries, from this line on"));
    assert_null(strstr(err.text, "misc.txt:3"));
    assert_null(strstr(err.text, "misc.txt:4"));
    assert_non_null(strstr(err.text, "porn.txt:1: regex refused by Hyperscan: Unterminated "
                                     "character class starting at character 2 ('[')"));
    assert_non_null(strstr(err.text, "porn.txt:2: regex refused by Hyperscan: Invalid repeat "
                                     "at character 5 ('*')"));
    assert_non_null(strstr(err.text, "porn.txt:3: regex refused by Hyperscan: Unescaped \\ "
                                     "at end of input, character 3 ('\\')"));
    assert_int_equal(err.count, 4);
    fe_errors_clear(&err);
    tu_rmdir(d);
}

/* Entries added and removed per label between two rule sets: an entry is
 * its term, label, action and options, not where it is written. */
static void test_diff(void **state)
{
    static const tu_file v1[] = {
        {"porn.txt", "nude\nxxx\n"},
        {"ad.txt", "加微信\n[re] vx[a-z0-9]{3,8}\n"},
        {"allow.txt", "scunthorpe\n"},
        {NULL, NULL},
    };
    static const tu_file v2[] = {
        {"porn.txt", "# moved down a line\nxxx\nnude\nporno\nsexy\n"},
        {"ad.txt", "[action=block] 加微信\n"},
        {"more/allow.txt", "scunthorpe\n"},
        {"fraud.txt", "发票代开\n"},
        {NULL, NULL},
    };
    fe_errors err = FE_ERRORS_INIT;
    fe_diff df;
    (void)state;
    char *d1 = tu_listdir(v1), *d2 = tu_listdir(v2);
    fe_ruleset *a = tu_load(d1, NULL, &err), *b = tu_load(d2, NULL, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(fe_ruleset_diff(a, b, &df), FE_OK);
    assert_int_equal(df.added[FE_L_PORN], 2);
    assert_int_equal(df.removed[FE_L_PORN], 0);
    assert_int_equal(df.added[FE_L_AD], 1);      /* 加微信 now blocks: a new entry */
    assert_int_equal(df.removed[FE_L_AD], 2);    /* ... the flag one and the regex went */
    assert_int_equal(df.added[FE_L_FRAUD], 1);
    assert_int_equal(df.added[FE_NLABELS], 0);   /* the allow-list entry only moved */
    assert_int_equal(df.removed[FE_NLABELS], 0);
    assert_int_equal(fe_ruleset_diff(b, a, &df), FE_OK);
    assert_int_equal(df.removed[FE_L_PORN], 2);
    assert_int_equal(df.added[FE_L_AD], 2);
    assert_int_equal(fe_ruleset_diff(a, a, &df), FE_OK);
    for (int l = 0; l <= FE_NLABELS; l++)
        assert_true(df.added[l] == 0 && df.removed[l] == 0);
    fe_ruleset_free(a);
    fe_ruleset_free(b);
    fe_errors_clear(&err);
    tu_rmdir(d1);
    tu_rmdir(d2);
}

static void test_build_info(void **state)
{
    (void)state;
    const char *s = fe_build_info();
    assert_non_null(strstr(s, "engine filterd-engine-"));
    assert_non_null(strstr(s, "Hyperscan "));
    assert_non_null(strstr(s, "ICU "));
}

static void test_empty_regex_refused(void **state)
{
    static const tu_file bad[] = {{"ad.txt", "[re] a*\n"}, {NULL, NULL}};
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    char *d = tu_listdir(bad);
    assert_null(tu_load(d, NULL, &err));
    assert_non_null(strstr(err.text, "ad.txt:1: regex can match empty text"));
    fe_errors_clear(&err);
    tu_rmdir(d);
}

static void test_missing_dir(void **state)
{
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    assert_null(tu_load("/nonexistent/lists", NULL, &err));
    assert_non_null(strstr(err.text, "/nonexistent/lists"));
    fe_errors_clear(&err);
}

static void test_cache(void **state)
{
    fe_errors err = FE_ERRORS_INIT;
    char cache[64] = "/tmp/fecache.XXXXXX";
    char line[128];
    (void)state;
    assert_non_null(mkdtemp(cache));
    snprintf(line, sizeof line, "cache-dir %s", cache);
    const char *const conf[] = {line, NULL};
    fe_ruleset *a = tu_load(dir, conf, &err);
    assert_non_null(a);
    assert_int_equal(fe_ruleset_cached(a), 0);
    fe_ruleset *b = tu_load(dir, conf, &err);
    assert_non_null(b);
    assert_int_equal(fe_ruleset_cached(b), 1);
    assert_string_equal(fe_ruleset_version(a), fe_ruleset_version(b));
    fe_result r = tu_scan(b, "法 轮 功 and f.u.c.k", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_BLOCK);
    assert_true(tu_matched(b, &r, "fuck"));
    tu_scan_done();
    fe_ruleset_free(a);
    fe_ruleset_free(b);
    fe_errors_clear(&err);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", cache);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fullwidth_math_circled_case),
        cmocka_unit_test(test_traditional),
        cmocka_unit_test(test_homoglyph),
        cmocka_unit_test(test_separators_in_chinese),
        cmocka_unit_test(test_single_letters_joined),
        cmocka_unit_test(test_mobile_variants),
        cmocka_unit_test(test_whole_word_and_allow_list),
        cmocka_unit_test(test_multiword_term),
        cmocka_unit_test(test_offsets_in_input),
        cmocka_unit_test(test_decision_strongest_then_earliest),
        cmocka_unit_test(test_allowed_text),
        cmocka_unit_test(test_scene_policy),
        cmocka_unit_test(test_regex_reports_longest_match_once),
        cmocka_unit_test(test_idcard_check_digit),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_entry_info_and_version),
        cmocka_unit_test(test_duplicates_after_folding),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_lint_messages),
        cmocka_unit_test(test_short_entries_refused),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_build_info),
        cmocka_unit_test(test_empty_regex_refused),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_latin_memo),
    };
    return cmocka_run_group_tests_name("engine", tests, setup, teardown);
}
