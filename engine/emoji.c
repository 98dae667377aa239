/* emoji.c -- emoji read as the characters they stand for: the table and the emoji view.
 *
 * The table comes from rime's emoji words (opencc/emoji_word.txt, words ->
 * emoji, read backwards) and the curated views/emoji.tsv of the lists folder,
 * which comes first (💪 强, 🐙 章 ...: emoji used for a character's sound,
 * which rime's words do not say). The emoji view is the compact view with
 * each such emoji replaced by its first character (吃💩 -> 吃屎, 普✉👩 -> 普信女);
 * the compact patterns are scanned over it. Readings of emoji go into the
 * phonetic view (readings.c), so ⌚子 sounds like 婊子. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foldtab.h"
#include "views.h"

#define EMOJI_MAX 4096        /* distinct emoji read from the tables */

#define CAND_MAX 16

/* An emoji while the tables are read: the characters the curated table and
 * rime's one-character words give it, and how often each character occurs in
 * rime's longer words for it. */
typedef struct emoji_build {
    uint32_t cp;
    int n, ncand, nwords;
    uint32_t ch[FE_EMOJI_CHARS];
    uint32_t cand[CAND_MAX];
    uint16_t count[CAND_MAX];
} emoji_build;

typedef struct emoji_set { emoji_build *e; size_t n; } emoji_set;

static emoji_build *emoji_slot(emoji_set *es, uint32_t cp)
{
    for (size_t i = 0; i < es->n; i++)
        if (es->e[i].cp == cp)
            return &es->e[i];
    if (es->n == EMOJI_MAX)
        return NULL;
    memset(&es->e[es->n], 0, sizeof es->e[0]);
    es->e[es->n].cp = cp;
    return &es->e[es->n++];
}

static void emoji_put(emoji_build *b, uint32_t ch)
{
    for (int i = 0; i < b->n; i++)
        if (b->ch[i] == ch)
            return;
    if (b->n < FE_EMOJI_CHARS)
        b->ch[b->n++] = ch;
}

/* The one code point of an emoji as written (variation selectors and skin
 * tones left out), or 0 when it is a sequence or not a separator. */
static uint32_t emoji_cp(const fe_fold *f, const char *s, size_t n)
{
    uint32_t one = 0, cp;
    for (size_t i = 0; i < n;) {
        int k = fe_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (k < 0)
            return 0;
        i += (size_t)k;
        if (cp == 0xfe0f || cp == 0xfe0e || (cp >= 0x1f3fb && cp <= 0x1f3ff))
            continue;
        if (one)
            return 0;
        one = cp;
    }
    return one && ENT_CLASS(fe_fold_lookup(f, one)) == FE_C_SEP ? one : 0;
}

/* The folded characters of s[0..n) into out (at most max); -1 if one is not Chinese. */
static int han_chars(const fe_fold *f, const char *s, size_t n, uint32_t *out, int max)
{
    int k = 0;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        int l = fe_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l < 0 || !(cp = fe_rd_fold_han(f, cp)) || k == max)
            return -1;
        out[k++] = cp;
        i += (size_t)l;
    }
    return k;
}

/* "word\tword emoji emoji ...": the word's characters for each emoji. */
static void emoji_word_line(emoji_set *es, const fe_fold *f, char *line)
{
    char *tab = strchr(line, '\t'), *save = NULL;
    uint32_t ch[16];
    if (!tab)
        return;
    *tab = '\0';
    int n = han_chars(f, line, strlen(line), ch, 16);
    if (n <= 0)
        return;
    strtok_r(tab + 1, " ", &save);   /* the word again */
    for (char *t = strtok_r(NULL, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        uint32_t cp = emoji_cp(f, t, strlen(t));
        emoji_build *b = cp ? emoji_slot(es, cp) : NULL;
        if (!b)
            continue;
        if (n == 1) {
            emoji_put(b, ch[0]);
            continue;
        }
        b->nwords++;
        for (int i = 0; i < n; i++) {
            int k = 0;
            while (k < b->ncand && b->cand[k] != ch[i])
                k++;
            if (k == b->ncand && k < CAND_MAX)
                b->cand[b->ncand++] = ch[i];
            if (k < b->ncand)
                b->count[k]++;
        }
    }
}

/* "emoji<TAB>characters  # comment" of the curated table: those come first. */
static int curated_line(emoji_set *es, const fe_fold *f, char *line, const char *where,
                        char *err, size_t errlen)
{
    char *tab = strchr(line, '\t');
    uint32_t ch[FE_EMOJI_CHARS];
    if (line[0] == '#' || !line[0])
        return 0;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *end = line + strlen(line);
    while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    uint32_t cp = tab ? emoji_cp(f, line, (size_t)(tab - line)) : 0;
    int n = tab ? han_chars(f, tab + 1, strlen(tab + 1), ch, FE_EMOJI_CHARS) : -1;
    emoji_build *b = cp && n > 0 ? emoji_slot(es, cp) : NULL;
    if (!b) {
        snprintf(err, errlen, "%s: expected an emoji, a tab and 1 to %d Chinese characters",
                 where, FE_EMOJI_CHARS);
        return -1;
    }
    for (int i = 0; i < n; i++)
        emoji_put(b, ch[i]);
    return 0;
}

static int read_lines(fe_readings *r, const char *path, int optional, emoji_set *es,
                      const fe_fold *f, int curated, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[2048], where[4300];
    int rc = 0;
    if (!fp) {
        if (optional && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s (the emoji view's table; install rime-data-emoji, "
                 "or set sound-data, or turn the emoji view off)", path, strerror(errno));
        return -1;
    }
    for (unsigned ln = 1; rc == 0 && fgets(line, sizeof line, fp); ln++) {
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(where, sizeof where, "%s:%u", path, ln);
        fe_rd_note(r, line, strlen(line));
        if (curated)
            rc = curated_line(es, f, line, where, err, errlen);
        else
            emoji_word_line(es, f, line);
    }
    fclose(fp);
    return rc;
}

/* Every emoji that stands for some character: the curated ones and rime's
 * one-character words, else the character most of rime's words for it share. */
static int emoji_finish(fe_readings *r, emoji_set *es)
{
    for (size_t i = 0; i < es->n; i++) {
        emoji_build *b = &es->e[i];
        int best = -1;
        for (int k = 0; k < b->ncand; k++)
            if (best < 0 || b->count[k] > b->count[best])
                best = k;
        if (!b->n && best >= 0 && b->count[best] >= 2 && b->count[best] * 2 >= b->nwords)
            emoji_put(b, b->cand[best]);
        if (fe_rd_add_emoji(r, b->cp, b->ch, b->n) < 0)
            return -1;
    }
    return 0;
}

int fe_emoji_load(fe_readings *r, const fe_fold *f, const char *dir, const char *lists,
                      char *err, size_t errlen)
{
    char path[4200];
    emoji_set es = {calloc(EMOJI_MAX, sizeof(emoji_build)), 0};
    int rc = -1;
    if (!es.e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(path, sizeof path, "%s/views/emoji.tsv", lists);
    if (read_lines(r, path, 1, &es, f, 1, err, errlen) < 0)
        goto out;
    snprintf(path, sizeof path, "%s/opencc/emoji_word.txt", dir);
    if (read_lines(r, path, 0, &es, f, 0, err, errlen) < 0)
        goto out;
    if ((rc = emoji_finish(r, &es)) < 0)
        snprintf(err, errlen, "out of memory");
out:
    free(es.e);
    return rc;
}


/* ---- the view ----------------------------------------------------------------- */

static void put(fe_viewbuf *v, const char *s, size_t n, uint32_t from)
{
    memcpy(v->buf + v->len, s, n);
    for (size_t i = 0; i < n; i++)
        v->src[v->len + i] = from;
    v->len += n;
}

size_t fe_emoji_view(const fe_fold *f, const fe_readings *r, const char *text, size_t len,
                     fe_viewbuf *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t replaced = 0;
    out->len = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = fe_utf8_decode_inline(s + i, len - i, &cp);
        if (n < 0) {
            i++;
            continue;
        }
        ent_t e = fe_fold_lookup(f, cp);
        int cls = ENT_CLASS(e);
        const uint32_t *ch;
        if (cls == FE_C_HAN || cls == FE_C_WORD) {
            size_t olen = ENT_LEN(e);
            put(out, olen ? f->pool + ENT_OFF(e) : text + i, olen ? olen : (size_t)n,
                (uint32_t)i);
        } else if (cls == FE_C_SEP && cp >= 0x2000 && fe_rd_emoji(r, cp, &ch) > 0) {
            char b[4];
            put(out, b, (size_t)fe_utf8_encode(ch[0], b), (uint32_t)i);
            replaced++;
        }
        i += (size_t)n;
    }
    return replaced;
}
