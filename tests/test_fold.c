/* test_fold.c -- the folding table and the views, one row per normalisation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fold.h"

static fe_fold *fold;
static fe_viewbuf views[FE_NVIEWS];

static int setup(void **state)
{
    char err[256];
    (void)state;
    fold = fe_fold_build(err, sizeof err);
    if (!fold)
        return -1;
    for (int v = 0; v < FE_NVIEWS; v++)
        if (fe_viewbuf_alloc(fold, &views[v], 4096) < 0)
            return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int v = 0; v < FE_NVIEWS; v++)
        fe_viewbuf_free(&views[v]);
    fe_fold_free(fold);
    return 0;
}

/* Fold text and compare both views; check the offset maps on the way. */
static unsigned expect(const char *text, const char *folded, const char *compact)
{
    size_t n = strlen(text);
    unsigned bits = fe_fold_text(fold, text, n, views);
    const fe_viewbuf *f = &views[FE_VIEW_FOLDED], *c = &views[FE_VIEW_COMPACT];
    if (f->len != strlen(folded) || memcmp(f->buf, folded, f->len))
        fail_msg("'%s': folded view '%.*s', want '%s'", text, (int)f->len, f->buf, folded);
    if (c->len != strlen(compact) || memcmp(c->buf, compact, c->len))
        fail_msg("'%s': compact view '%.*s', want '%s'", text, (int)c->len, c->buf, compact);
    for (int v = 0; v < FE_NVIEWS; v++)
        for (size_t i = 0; i < views[v].len; i++) {
            uint32_t s, e, cp;
            fe_view_span(&views[v], i, i + 1, text, n, &s, &e);
            assert_true(s < e && e <= n);
            assert_true(fe_utf8_decode((const unsigned char *)text + s, n - s, &cp) > 0);
            assert_true(e == n || (((unsigned char)text[e]) & 0xc0) != 0x80);
        }
    return bits;
}

static void test_width_case_math_circled(void **state)
{
    (void)state;
    expect("ＦＵＣＫ", "fuck", "fuck");
    expect("𝐟𝐮𝐜𝐤", "fuck", "fuck");
    expect("Ⓕⓤⓒⓚ", "fuck", "fuck");
    expect("FuCk", "fuck", "fuck");
}

static void test_traditional_to_simplified(void **state)
{
    (void)state;
    expect("發票代開", "发票代开", "发票代开");
    assert_true(expect("國家", "国家", "国家") & FE_FOLD_HAS_HAN);
}

static void test_homoglyphs(void **state)
{
    (void)state;
    expect("t\xd0\xb5nc\xd0\xb5nt", "tencent", "tencent");   /* Cyrillic е */
    expect("\xce\xbf\xce\xbd", "ov", "ov");                    /* Greek ο ν */
    expect("fück", "fuck", "fuck");                            /* diacritic */
}

/* Issue 10: a capital is compared with Latin capitals before case folding (Η is H, its
 * lower case η looks like n), and a letter NFKC would change (Ϲ, the lunate sigma) as
 * written; upper and lower case of every Latin-like script the README names. */
static void test_homoglyph_capitals(void **state)
{
    (void)state;
    expect("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹ", "abezhikmnoptyxc", "abezhikmnoptyxc");  /* Greek */
    expect("ΒΙΤϹΗ ΗΕΝΤΑΙ", "bitch hentai", "bitchhentai");
    expect("𝚩𝚶𝚳𝚩", "bomb", "bomb");                   /* mathematical Greek */
    expect("АВЕКМНОРСТХУЅІЈ", "abekmhopctxysij", "abekmhopctxysij");  /* Cyrillic */
    expect("аеорсхуѕіј", "aeopcxysij", "aeopcxysij");
    expect("ϲο ιν ρ", "co iv p", "coivp");             /* Greek lower case */
    expect("ՏՕ օս", "so ou", "soou");                  /* Armenian */
    expect("ᎪᏴ", "ab", "ab");                          /* Cherokee */
    expect("ΩΦΨ", "ωφψ", "ωφψ");                       /* no Latin look-alike */
    expect("ſẛＫ", "ssk", "ssk");                      /* NFKC_Casefold wins */
}

static void test_digit_variants(void **state)
{
    (void)state;
    expect("①⑴⒈❶➀㈠１", "1111111", "1111111");
    expect("〇", "0", "0");
    expect("１３８-0013-８０００", "138-0013-8000", "13800138000");
}

static void test_invisibles_dropped(void **state)
{
    (void)state;
    /* ZWSP, ZWJ, ZWNJ, BOM, soft hyphen, variation selector, bidi override */
    expect("a\xe2\x80\x8b" "b\xe2\x80\x8d" "c\xe2\x80\x8c" "d\xef\xbb\xbf" "e\xc2\xad"
           "f\xef\xb8\x8f" "g\xe2\x80\xae" "h",
           "abcdefgh", "abcdefgh");
    expect("e\xcc\x81", "e", "e");   /* combining acute */
}

static void test_separators(void **state)
{
    (void)state;
    expect("法😀轮😀功", "法 轮 功", "法轮功");
    expect("法*轮*功", "法*轮*功", "法轮功");
    expect("a  ,  bc", "a bc", "abc");
    expect("mail@ｑｑ．com", "mail@qq.com", "mailqqcom");
}

/* Issue 10: a clause mark between two clauses stays in the compact view as a space;
 * between characters that stand alone, and any other separator, it does not. */
static void test_clause_breaks(void **state)
{
    (void)state;
    expect("被地域黑，同样地", "被地域黑,同样地", "被地域黑 同样地");
    expect("这。。。黑起来", "这 黑起来", "这 黑起来");
    expect("你的国男，男朋友", "你的国男,男朋友", "你的国男 男朋友");
    expect("好！\n是的", "好 是的", "好 是的");
    expect("法，轮，功", "法,轮,功", "法轮功");
    expect("法·轮·功", "法 轮 功", "法轮功");
    expect("发＊票代开", "发*票代开", "发票代开");
    expect("出售 大麻", "出售 大麻", "出售大麻");           /* a space is no clause mark */
    expect("微信：abc", "微信:abc", "微信abc");             /* nor a colon */
    expect("你好,\xe2\x80\x8b,世界", "你好 世界", "你好 世界");   /* invisibles skipped */
    expect("ok, go", "ok go", "okgo");                  /* Latin: the folded view's rule */
    expect("我用QQ，微信", "我用qq,微信", "我用qq微信");
    expect("1.5", "15", "15");                           /* single digits are joined */
    expect("，你好。", ",你好", "你好");
}

/* The scan's fold finds each clause mark's answer on its way (fold.c):
 * every answer it keeps is fe_clause_break's, with
 * characters standing alone, Latin on either side, invisibles, invalid bytes. */
static void test_clause_answers_kept(void **state)
{
    static const char *const texts[] = {
        "被地域黑，同样地", "法，轮，功", "法，轮功", "法轮，功", "好！\n是的，对。", "ok, go",
        "我用QQ，微信", "你好,\xe2\x80\x8b,世界", "\xe2\x80\x8b你\xe2\x80\x8b，\xe2\x80\x8b好",
        "这\xff，黑起来", "这，\xff黑起来", "\xe4\xb8，中文", "a，中文", "中文，a", "，你好。",
        "中。。。文！a，b", "一，二，三，四五", "發，財",
    };
    fe_clauses cl;
    (void)state;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t n = strlen(texts[t]);
        fe_fold_text_nomap(fold, texts[t], n, views, &cl, NULL);
        for (size_t k = 0; k < cl.n; k++)
            if (cl.brk[k] != fe_clause_break(fold, texts[t], n, cl.at[k]))
                fail_msg("'%s': the clause mark at %u: %d, fe_clause_break says otherwise",
                         texts[t], cl.at[k], cl.brk[k]);
        assert_true(cl.n >= 1);   /* each text has a clause mark */
    }
}

/* The split pass's reading of a text, kept by the fold (fe_hanseq). */
static void expect_hans(const char *text, const uint32_t *want, size_t nwant)
{
    uint32_t c[64];
    fe_hanseq hq = {c, 0};
    fe_fold_text_nomap(fold, text, strlen(text), views, NULL, &hq);
    if (hq.n != nwant || memcmp(c, want, nwant * sizeof *c))
        fail_msg("'%s': %zu characters in the split reading, want %zu", text, hq.n, nwant);
}

static void test_split_reading(void **state)
{
    (void)state;
    expect_hans("弓虽奸", (const uint32_t[]){0x5f13, 0x867d, 0x5978}, 3);
    expect_hans("弓·虽", (const uint32_t[]){0x5f13, 0x867d}, 2);         /* keeps the pair */
    expect_hans("弓, 虽", (const uint32_t[]){0x5f13, 0, 0x867d}, 3);     /* ASCII parts it */
    expect_hans("弓ab1虽", (const uint32_t[]){0x5f13, 0, 0x867d}, 3);    /* one 0 for a run */
    expect_hans("弓\xff虽", (const uint32_t[]){0x5f13, 0, 0x867d}, 3);  /* an invalid byte */
    expect_hans("發財", (const uint32_t[]){0x53d1, 0x8d22}, 2);          /* folded */
    expect_hans("ｆ弓", (const uint32_t[]){0, 0x5f13}, 2);               /* a letter */
}

static void test_single_letters(void **state)
{
    (void)state;
    assert_true(expect("f.u.c.k", "fuck", "fuck") & FE_FOLD_JOINED);
    expect("f u c k you", "fuck you", "fuckyou");
    expect("as snow", "as snow", "assnow");    /* words are not run together */
    expect("i am a cat", "i am a cat", "iamacat");
    expect("a 法 b", "a 法 b", "a法b");       /* Chinese breaks a letter run */
}

static void test_invalid_utf8_and_nul(void **state)
{
    (void)state;
    const char bad[] = "a\xff\xc0z";
    unsigned bits = fe_fold_text(fold, bad, 4, views);
    assert_true(bits & FE_FOLD_INVALID_UTF8);
    assert_int_equal(views[FE_VIEW_COMPACT].len, 2);
    const char nul[] = "x\0y";
    bits = fe_fold_text(fold, nul, 3, views);
    assert_true(bits & FE_FOLD_NUL);
}

/* The scan skips its looks for Latin letters (the leet and initials guards)
 * on a text whose fold says FE_FOLD_WORD is not set: it must be set by any
 * letter or digit outside Chinese, in any form, and by none inside. */
static void test_word_and_han_bits(void **state)
{
    static const struct {
        const char *text;
        unsigned want;   /* of FE_FOLD_WORD | FE_FOLD_HAS_HAN */
    } rows[] = {
        {"你好，世界。", FE_FOLD_HAS_HAN},
        {"\xe3\x8d\xbb", FE_FOLD_HAS_HAN},                 /* ㍻ -> 平成 */
        {"\xe3\x8b\x80", FE_FOLD_HAS_HAN},                 /* ㋀ -> 1月: digits only */
        {"！？…💩", 0},
        {"你好a", FE_FOLD_HAS_HAN | FE_FOLD_WORD},
        {"学习7天", FE_FOLD_HAS_HAN | FE_FOLD_WORD},
        {"\xef\xbd\x86\xef\xbd\x95", FE_FOLD_WORD},     /* ｆｕ */
        {"\xc6\x92", FE_FOLD_WORD},                         /* ƒ */
        {"\xd1\x81\xd1\x83\xd0\xba\xd0\xb0", FE_FOLD_WORD}, /* сука */
        {"f.u.c.k", FE_FOLD_WORD},
    };
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        unsigned bits = fe_fold_text(fold, rows[i].text, strlen(rows[i].text), views) &
                        (FE_FOLD_WORD | FE_FOLD_HAS_HAN);
        if (bits != rows[i].want)
            fail_msg("'%s': bits %#x, want %#x", rows[i].text, bits, rows[i].want);
    }
}

static void test_why_bits(void **state)
{
    unsigned why;
    (void)state;
    assert_int_equal(fe_fold_class(fold, 0x200B, &why), FE_C_DROP);
    assert_true(why & FE_WHY_INVISIBLE);
    assert_int_equal(fe_fold_class(fold, 0x767C, &why), FE_C_HAN);   /* 發 */
    assert_true(why & FE_WHY_T2S);
    assert_int_equal(fe_fold_class(fold, 0xFF26, &why), FE_C_WORD);  /* Ｆ */
    assert_true(why & FE_WHY_COMPAT);
    assert_int_equal(fe_fold_class(fold, 0x0435, &why), FE_C_WORD);  /* Cyrillic е */
    assert_true(why & FE_WHY_HOMOGLYPH);
    assert_int_equal(fe_fold_class(fold, 0x2460, &why), FE_C_WORD);  /* ① */
    assert_true(why & FE_WHY_DIGIT);
    assert_int_equal(fe_fold_class(fold, 0x1F600, &why), FE_C_SEP);  /* 😀 */
    assert_true(fe_fold_memory(fold) < (32u << 20));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width_case_math_circled),
        cmocka_unit_test(test_traditional_to_simplified),
        cmocka_unit_test(test_homoglyphs),
        cmocka_unit_test(test_homoglyph_capitals),
        cmocka_unit_test(test_digit_variants),
        cmocka_unit_test(test_invisibles_dropped),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_single_letters),
        cmocka_unit_test(test_clause_breaks),
        cmocka_unit_test(test_clause_answers_kept),
        cmocka_unit_test(test_split_reading),
        cmocka_unit_test(test_invalid_utf8_and_nul),
        cmocka_unit_test(test_word_and_han_bits),
        cmocka_unit_test(test_why_bits),
    };
    return cmocka_run_group_tests_name("fold", tests, setup, teardown);
}
