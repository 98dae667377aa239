/* sounds.c -- which matches of the phonetic view are disguises, and which are real words.
 *
 * Recall by sound is easy; precision is the hard part (a two-syllable entry
 * sounds like many real words), so a two-character entry matches a text of
 * characters only when it asks ([sound]; emoji, digits and typed pinyin are
 * written on purpose and always count), and fe_phonetic_accept decides per match,
 * a noisy channel asked with rime's dictionary of words (essay.txt): is the text
 * as written more like real language than the text with the entry put back?
 * The term itself is left to the compact view; a span that is a common word
 * (SPAN_WORD: 强健) is no disguise unless putting the entry back makes a word
 * across its edge that the text as written does not (强健罪 -> 强奸罪), or read by
 * sound with the next character (强健反 -> 强奸犯); when the
 * characters the disguise kept belong to no word around them (of two characters,
 * or of three or four: the 女 of 重男轻女全 is in one), the entry reads
 * better (女全是: a lone 女 is 女拳 more likely than 女 + 全是); otherwise a
 * substitute that makes a common word (SIDE_WORD) with its neighbour outside the
 * span reads as that word. A two-character entry written with neither of its
 * characters (贵难 for 龟男) counts only when they are written together, both
 * belong to no word around them and the text around is modern words (classical
 * poetry is full of characters that make no modern word) or the text starts
 * with them, and at least DENSITY_MIN% of the character pairs around it are words
 * (modern prose; poetry has far fewer). A particle (PARTICLE: 的 了 是 就 都 也,
 * written so often as words by themselves that a word they make says nothing)
 * after the pair does not tie it into a word, and a function word (FUNCTION_WORD:
 * 对 而 把 被 很 ...; or a modal particle: 啊 呀 嘛) beside it counts as modern words.
 * In a text shaped as verse (short lines, VERSE_LINE) any match of characters by
 * sound needs VERSE_DENSITY% (渐逼 in a line of verse is no 贱逼).
 * A near sound (sound-fuzzy: 普信率 for
 * 普信女) changes one syllable only, with the other characters as the entry
 * writes them and not a common word by themselves, unless the near one stands
 * alone at the edge (言垃圾 for 洋垃圾: no particle, numeral or word with its
 * neighbour). An entry that says [nosound] (its sound hits clean text) is read by
 * sound through numbers only: a digit or a Chinese numeral written for one of its
 * characters, the others as written (吃4, 吃四的 for 吃屎), unless the number is a
 * count (a classifier, another number or a word after it: 吃四碗, 四川).
 * Figures and the trade-off explored in wordlists/README.md. */
#include <string.h>

#include "engine.h"
#include "foldtab.h"
#include "views.h"

#define SPAN_WORD 500         /* a match that is a word this common (essay.txt) is no disguise */
#define SIDE_WORD 300         /* a substitute making a word this common with a neighbour reads as it */
#define ORPHAN_WORD 1         /* a character in no word (any weight) with a neighbour is alone */
#define LONG_WORD_MIN 3       /* the longer words a character may belong to ... */
#define LONG_WORD_MAX 4       /* ... (重男轻女) */
#define CROSS_WORD 500        /* the entry put back making a word this common with a neighbour */
#define SOUND_MIN 3           /* characters an entry needs to match characters by sound,
                                 unless it asks ([sound]) */
#define WINDOW 12             /* characters each side of a match whose pairs are counted */
#define DENSITY_MIN 40        /* %: pairs there that are words, for a pair with neither kept */
#define DENSITY_PAIRS 6       /* fewer pairs than this around: too short a text to tell */
#define VERSE_LINE 7          /* verse-shaped: runs of at most this many characters ... */
#define VERSE_LINES 4         /* ... and at least this many of them (a quatrain) */
#define VERSE_WINDOW 240      /* bytes each side of a match read for its shape (80 characters) */
#define VERSE_DENSITY 50      /* %: pairs that are words, for any match by sound in verse */
#define PARTICLE 400000       /* a character this common as a word by itself (的 了 是 在 就
                                 都 也: essay.txt) attaches to anything: no evidence of a word */
#define FUNCTION_WORD 100000  /* ... this common (对 把 被 而 很 ...): modern prose around */

/* The folded character behind the token at view byte i (0: not a character). */
static uint32_t char_at(const fe_fold *f, const fe_viewbuf *v, const char *text, size_t len,
                        size_t i)
{
    uint32_t cp;
    if (v->mark[i] || (unsigned char)v->buf[i] < 0x80 ||
        fe_utf8_decode_inline((const unsigned char *)text + v->src[i], len - v->src[i], &cp) < 0)
        return 0;
    return fe_rd_fold_han(f, cp);
}

/* The weight of the characters c[0..n) as a word of the dictionary (0: none). */
static uint32_t weight_of(const fe_readings *r, const uint32_t *c, int n)
{
    char buf[FE_SOUND_POS * 4];
    size_t l = 0;
    for (int i = 0; i < n; i++) {
        if (!c[i] || c[i] < 0x800)
            return 0;
        l += (size_t)fe_utf8_encode(c[i], buf + l);
    }
    return fe_rd_word(r, buf, l);
}

/* Whether c is one of the characters of set (each three bytes in UTF-8). */
static int one_of(const char *set, uint32_t c)
{
    char b[4];
    int l = fe_utf8_encode(c, b);
    for (const char *p = set; l == 3 && *p; p += 3)
        if (!memcmp(p, b, 3))
            return 1;
    return 0;
}

/* Whether c is written so often as a word by itself that a word it makes says nothing. */
static int particle(const fe_readings *r, uint32_t c)
{
    return c && weight_of(r, &c, 1) >= PARTICLE;
}

/* Whether c is a word by itself as common as FUNCTION_WORD: 对 菲去, 而 菲去 are prose;
 * or a modal particle of the spoken language (啊 呀 嘛 吗 ...: classical verse has none). */
static int function_word(const fe_readings *r, uint32_t c)
{
    return c && (weight_of(r, &c, 1) >= FUNCTION_WORD || one_of("啊呀嘛吗呗哦哟呐", c));
}

/* Whether the characters of the tokens at view bytes a and b are written side
 * by side, nothing between them (菲去, not 菲》去). */
static int adjacent(const fe_viewbuf *v, const char *text, size_t len, size_t a, size_t b)
{
    uint32_t cp;
    int n = fe_utf8_decode_inline((const unsigned char *)text + v->src[a], len - v->src[a], &cp);
    return n > 0 && v->src[a] + (size_t)n == v->src[b];
}

/* Whether c is a Chinese numeral: 四 in 复联四一样 is a number, no 屎. */
static int numeral(uint32_t c)
{
    return one_of("〇零一二三四五六七八九十百千万亿两几", c);
}

/* Whether c is a classifier or measure word: a number before it is a count (吃四碗,
 * 四个), not a sound. */
static int classifier(uint32_t c)
{
    return one_of("个只条张本次回遍顿碗杯口块片根斤两里米年月天日号点分秒元毛角位名家件"
                  "双对套份种章节层楼岁倍成盘包瓶袋罐勺盒桶斗升克吨周期届场趟下声步代辈"
                  "粒颗枚台辆架座间所门首句封篇页幅支把串排群批堆滴", c);
}

/* The number written at text byte p (a digit, '0'..'9' also when typed full width, or
 * a Chinese numeral), folded; 0 if none. *n: its length in bytes. */
static uint32_t number_at(const fe_fold *f, const char *text, size_t len, size_t p, int *n)
{
    uint32_t cp;
    if (p >= len || (*n = fe_utf8_decode_inline((const unsigned char *)text + p, len - p, &cp)) < 0)
        return *n = 0, 0;
    if (cp >= '0' && cp <= '9')
        return cp;
    if (cp >= 0xFF10 && cp <= 0xFF19)      /* a full-width digit is the digit */
        return '0' + (cp - 0xFF10);
    cp = fe_rd_fold_han(f, cp);
    return numeral(cp) ? cp : 0;
}

/* Whether the number at view byte i stands for a sound: the character after it is
 * no classifier, no number (unless it starts a common word with the next: 四一样)
 * and makes no word with it (四川, 四处). A count (吃四碗, 吃四个, 吃四五次, 吃十四个)
 * is no disguise. */
static int number_sounds(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                         const char *text, size_t len, size_t i)
{
    size_t p = v->src[i];
    int n, m;
    uint32_t c[2] = {number_at(f, text, len, p, &n), 0};
    if (!c[0])
        return 0;
    p += (size_t)n;
    if (p >= len || fe_utf8_decode_inline((const unsigned char *)text + p, len - p, &c[1]) < 0)
        return 1;
    if (number_at(f, text, len, p, &m)) {   /* 四一样 is 四 + 一样; 四五个 a count */
        c[0] = fe_rd_fold_han(f, c[1]);
        p += (size_t)m;
        return p < len &&
               fe_utf8_decode_inline((const unsigned char *)text + p, len - p, &c[1]) > 0 &&
               (c[1] = fe_rd_fold_han(f, c[1])) && !classifier(c[1]) &&
               weight_of(r, c, 2) >= SPAN_WORD;
    }
    c[1] = fe_rd_fold_han(f, c[1]);
    return !classifier(c[1]) && (c[0] <= '9' || weight_of(r, c, 2) < ORPHAN_WORD);
}

/* An entry that turned sound off itself ([nosound]) by numbers written for a sound
 * only: every character of the match is the entry's own or a number standing for
 * a sound (吃4, 吃四的; not 吃四碗, 四川), at least one of each. */
static int numbers_only(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                        const char *text, size_t len, size_t start, const uint32_t *tch,
                        const uint32_t *ech, int n)
{
    int kept = 0, numbers = 0;
    for (int k = 0; k < n; k++) {
        size_t i = start + 2 * (size_t)k;
        if (tch[k + 1] && tch[k + 1] == ech[k])
            kept++;
        else if (!numeral(ech[k]) && number_sounds(f, r, v, text, len, i))
            numbers++;
        else
            return 0;
    }
    return kept && numbers;
}

/* Whether tch[k] as written belongs to no word (weight ORPHAN_WORD or more) with the
 * character before or after it. */
static int orphan(const fe_readings *r, const uint32_t *tch, int k)
{
    return weight_of(r, tch + k - 1, 2) < ORPHAN_WORD && weight_of(r, tch + k, 2) < ORPHAN_WORD;
}

/* Whether the character of the token at view byte pos belongs to a word of
 * LONG_WORD_MIN..LONG_WORD_MAX characters of the text as written (重男轻女: the 女
 * of 轻女全国 is in a word, though 轻女 and 女全 are none). */
static int in_long_word(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                        const char *text, size_t len, size_t pos)
{
    uint32_t c[2 * LONG_WORD_MAX - 1];
    int at = LONG_WORD_MAX - 1, lo = at, hi = at;   /* c[lo..hi]: characters read */
    if (!(c[at] = char_at(f, v, text, len, pos)))
        return 0;
    for (size_t p = pos; lo > 0 && p >= 2 && v->buf[p - 1] != FE_TOK_BREAK &&
                         (c[lo - 1] = char_at(f, v, text, len, p - 2));
         p -= 2)
        lo--;
    for (size_t p = pos + 2; hi < 2 * LONG_WORD_MAX - 2 && p + 1 < v->len &&
                             v->buf[p] != FE_TOK_BREAK && (c[hi + 1] = char_at(f, v, text, len, p));
         p += 2)
        hi++;
    for (int n = LONG_WORD_MIN; n <= LONG_WORD_MAX; n++)
        for (int from = at - n + 1; from <= at; from++)
            if (from >= lo && from + n - 1 <= hi && weight_of(r, c + from, n) >= ORPHAN_WORD)
                return 1;
    return 0;
}

/* Whether the text around a match is modern words (classical poetry mostly is
 * not): each neighbour of the span is none (the text's edge, a break) or makes
 * a word with the character beyond it, or is a function word written right
 * beside the span (菲去的, 对菲去), and at least one of them does. */
static int in_words(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                    const char *text, size_t len, size_t start, size_t end, const uint32_t *tch,
                    int n)
{
    uint32_t l[2] = {start >= 4 ? char_at(f, v, text, len, start - 4) : 0, tch[0]};
    uint32_t rr[2] = {tch[n + 1], end + 3 < v->len ? char_at(f, v, text, len, end + 2) : 0};
    int lw = tch[0] && (weight_of(r, l, 2) > 0 ||
                        (function_word(r, tch[0]) && adjacent(v, text, len, start - 2, start)));
    int rw = tch[n + 1] && (weight_of(r, rr, 2) > 0 ||
                            (function_word(r, tch[n + 1]) && adjacent(v, text, len, end - 2, end)));
    return (!tch[0] || lw) && (!tch[n + 1] || rw) && (lw || rw);
}

/* Whether c is a function word of modern Chinese only (的 你 她 们 这 吧 吗 被 很 没 ...):
 * classical verse seldom writes one (把 了 那 还 他 it writes: left out). */
static int modern_word(uint32_t c)
{
    return one_of("的你她们这吧呢吗啊呀被很没给啦嘛", c);
}

/* The share (per cent) of adjacent character pairs within WINDOW characters of
 * view bytes [start, end), outside it, that are words of the dictionary: modern prose is
 * dense with two-character words, classical poetry is not. With modern, a pair with a
 * function word only modern Chinese writes counts too (你跑吧她也跑了 is prose). A text
 * too short to tell counts as dense. */
static int word_density(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                        const char *text, size_t len, size_t start, size_t end, int modern)
{
    size_t from = start > 2 * WINDOW ? start - 2 * WINDOW : 0;
    size_t to = end + 2 * WINDOW < v->len ? end + 2 * WINDOW : v->len;
    int pairs = 0, words = 0;
    for (size_t i = from; i + 3 < to; i++) {   /* a token starts with a byte >= 0x80 */
        uint32_t c[2];
        if (i + 2 >= start && i < end)
            continue;   /* pairs with a character of the match: no word, by the rule above */
        if ((unsigned char)v->buf[i] < 0x80 || (unsigned char)v->buf[i + 2] < 0x80 ||
            !(c[0] = char_at(f, v, text, len, i)) || !(c[1] = char_at(f, v, text, len, i + 2)))
            continue;
        pairs++;
        words += weight_of(r, c, 2) > 0 ||
                 (modern && (modern_word(c[0]) || modern_word(c[1])));
    }
    return pairs < DENSITY_PAIRS ? 100 : 100 * words / pairs;
}

/* Whether the text around byte at is shaped as verse: at least four runs of Chinese characters
 * between separators (VERSE_LINES, a quatrain), none longer than VERSE_LINE, and
 * no Latin letter or digit.
 * Song ci and Tang poems are (95%); comments seldom (5% of COLD's). */
static int verse_shaped(const fe_fold *f, const char *text, size_t len, size_t at)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = at > VERSE_WINDOW ? at - VERSE_WINDOW : 0;
    int run = 0, runs = 0;
    if (len > at + VERSE_WINDOW)
        len = at + VERSE_WINDOW;   /* the text around the match, so a match costs little */
    while (i > 0 && i < len && (s[i] & 0xC0) == 0x80)
        i++;   /* to the start of a character */
    while (i < len) {
        uint32_t cp;
        int n = fe_utf8_decode_inline(s + i, len - i, &cp);
        if (n < 0)
            return 0;
        i += (size_t)n;
        int cls = ENT_CLASS(cp < 0x80 ? f->ascii[cp] : fe_fold_lookup(f, cp));
        if (cls == FE_C_WORD)
            return 0;
        if (cls == FE_C_HAN) {
            runs += !run;
            if (++run > VERSE_LINE)
                return 0;
        } else if (cls != FE_C_DROP)
            run = 0;
    }
    return runs >= VERSE_LINES;
}

/* Whether putting the entry back makes a word with a neighbour (CROSS_WORD or
 * more) that the text as written does not: 强健罪 -> 强奸罪; or, read by sound,
 * with the next character standing for the one a word of the entry's family
 * goes on with (强健反 -> 强奸犯), when that character is in no word with the one
 * after it (after: 强健反应 is no 强奸犯). */
static int back_makes_word(const fe_readings *r, const fe_viewbuf *v, size_t end,
                           uint32_t after, const uint32_t *tch, const uint32_t *ech, int n)
{
    uint32_t rch[FE_SOUND_POS + 2], next[2] = {tch[n + 1], after};
    char buf[FE_SOUND_POS * 4];
    size_t l = 0;
    rch[0] = tch[0];
    rch[n + 1] = tch[n + 1];
    memcpy(rch + 1, ech, (size_t)n * sizeof *ech);
    if ((weight_of(r, rch + 1, n + 1) >= CROSS_WORD && !weight_of(r, tch + 1, n + 1)) ||
        (weight_of(r, rch, n + 1) >= CROSS_WORD && !weight_of(r, tch, n + 1)))
        return 1;
    if (!tch[n + 1] || weight_of(r, tch + 1, n + 1) || weight_of(r, next, 2))
        return 0;
    for (int i = 0; i < n; i++)
        l += (size_t)fe_utf8_encode(ech[i], buf + l);
    return fe_rd_word_by_sound(r, buf, l, fe_tok_get(v->buf + end)) >= CROSS_WORD;
}

/* Whether a match of n >= 3 characters with one near syllable (at tch[at],
 * none else changed) is a disguise: the rest must be no common word by itself
 * (是同性恋 is 是 + 同性恋), unless the near one is at the match's edge, makes no
 * word with its neighbour outside nor with a longer run around it, and is
 * neither a particle nor a numeral (言垃圾 for 洋垃圾; 是同性恋, 复联四一样 stay). */
static int near_ok(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                   const char *text, size_t len, size_t start, const uint32_t *tch, int n,
                   int at)
{
    if (weight_of(r, tch + 1 + (at == 1), n - 1) < SPAN_WORD)
        return 1;
    return (at == 1 || at == n) && !particle(r, tch[at]) && !numeral(tch[at]) &&
           weight_of(r, tch + (at == 1 ? 0 : n), 2) < ORPHAN_WORD &&
           !in_long_word(f, r, v, text, len, start + 2 * (size_t)(at - 1));
}

/* Whether the token at view byte i has one of the syllables of entry token etok
 * (0: it matched through a fuzzy variant). */
static int sounds_as(const fe_readings *r, const fe_viewbuf *v, size_t i, uint16_t etok)
{
    uint16_t tok = fe_tok_get(v->buf + i);
    int nt, ne;
    const uint16_t *ts = fe_rd_syllables(r, tok, &nt), *es = fe_rd_syllables(r, etok, &ne);
    for (int a = 0; a < nt; a++)
        for (int b = 0; b < ne; b++)
            if (ts[a] == es[b])
                return 1;
    return 0;
}

/* The noisy channel, asked with the dictionary's words: is the text as written
 * more like real language than the text with the entry put back? */
int fe_phonetic_accept(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                       const char *text, size_t len, size_t start, size_t end,
                       const char *term, int asked)
{
    uint32_t ech[FE_SOUND_POS], tch[FE_SOUND_POS + 2];   /* tch[0], tch[n + 1]: the neighbours */
    uint16_t etok[FE_SOUND_POS];
    int n = (int)((end - start) / 2), same = 0, han = 1, kept_orphans = 1, fuzzy = 0, at = 0;

    if (((v->mark[start] & FE_PM_LATIN) && !(v->mark[start] & FE_PM_WSTART)) ||
        ((v->mark[end - 1] & FE_PM_LATIN) && !(v->mark[end - 1] & FE_PM_WEND)))
        return 0;   /* typed syllables must be whole words */
    if (fe_phonetic_positions(f, r, term, ech, etok) != n)
        return 0;
    for (int k = 0; k < n; k++) {
        tch[k + 1] = char_at(f, v, text, len, start + 2 * (size_t)k);
        han &= tch[k + 1] != 0;
        same += tch[k + 1] && tch[k + 1] == ech[k];
        if (!sounds_as(r, v, start + 2 * (size_t)k, etok[k]))
            fuzzy++, at = k + 1;
    }
    tch[0] = start >= 2 ? char_at(f, v, text, len, start - 2) : 0;
    tch[n + 1] = end + 1 < v->len ? char_at(f, v, text, len, end) : 0;
    if (asked < 0)
        return numbers_only(f, r, v, text, len, start, tch, ech, n);
    if (fuzzy && !(han && fuzzy == 1 &&   /* a near sound: 普信率 */
                   (n == 2 ? !same
                           : same == n - 1 && near_ok(f, r, v, text, len, start, tch, n, at))))
        return 0;   /* one character changed, and the rest is no common word (是同性恋) */
    if (!han)
        return 1;   /* typed pinyin, digits or emoji: people write it so on purpose */
    if (n < SOUND_MIN && !asked)
        return 0;   /* two characters by sound alone only when the entry asks */
    if (same == n)
        return 0;   /* the term itself: the compact view's */
    if (verse_shaped(f, text, len, v->src[start]) &&
        (fuzzy || word_density(f, r, v, text, len, start, end, 0) < VERSE_DENSITY))
        return 0;   /* verse, not modern words: 微寒渐逼 is no 贱逼; no near sound in verse */
    if (weight_of(r, tch + 1, n) >= SPAN_WORD)   /* a common real word (强健) ... */
        return back_makes_word(r, v, end,        /* ... unless 强健罪 reads as 强奸罪 */
                               end + 3 < v->len ? char_at(f, v, text, len, end + 2) : 0,
                               tch, ech, n);
    /* neither character kept (贵难 for 龟男): a pair written together, each alone (a
     * particle after it binds nothing: 菲去的), among modern words or starting the text */
    if (n == 2 && !same)
        return !weight_of(r, tch + 1, 2) && adjacent(v, text, len, start, start + 2) &&
               orphan(r, tch, 1) &&
               (particle(r, tch[3]) || weight_of(r, tch + 2, 2) < ORPHAN_WORD) &&
               !in_long_word(f, r, v, text, len, start) &&
               !in_long_word(f, r, v, text, len, start + 2) &&
               ((!tch[0] && tch[3]) || in_words(f, r, v, text, len, start, end, tch, n)) &&
               word_density(f, r, v, text, len, start, end, 1) >= DENSITY_MIN;
    for (int k = 1; k <= n && !same; k++)   /* none kept (three or more characters): */
        if (weight_of(r, tch + k - 1, 2) >= SIDE_WORD ||   /* a character making a common */
            weight_of(r, tch + k, 2) >= SIDE_WORD)         /* word with a neighbour reads */
            return 0;   /* as that word: 太把自己 is no 台巴子, 是食材 no 时时彩 */
    for (int k = 1; k <= n; k++)
        if (tch[k] == ech[k - 1] &&
            (!orphan(r, tch, k) || in_long_word(f, r, v, text, len, start + 2 * (size_t)k - 2)))
            kept_orphans = 0;
    if (kept_orphans)
        return 1;   /* 女全是: a lone 女 reads better as 女拳 than as 女 + 全是 */
    /* a substitute that makes a common word with a neighbour outside the span reads
     * as that word (for two characters, the span itself was the word to ask about) */
    for (int k = 1; k <= n; k++)
        if (tch[k] != ech[k - 1] &&
            ((k == 1 && n > 2 && weight_of(r, tch, 2) >= SIDE_WORD) ||
             (k == n && n > 2 && weight_of(r, tch + n, 2) >= SIDE_WORD) ||
             (n == 2 && weight_of(r, tch + (k == 1 ? 0 : 2), 2) >= SIDE_WORD)))
            return 0;
    return 1;
}
