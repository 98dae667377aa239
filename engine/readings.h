/* readings.h -- Mandarin readings of characters, typed syllables and emoji, and the
 * dictionary of real words: the tables behind the phonetic, emoji and initials views.
 *
 * Built once when the lists load, from Debian's rime data (fe_options.sound_data):
 *   luna_pinyin.dict.yaml   every character's toneless syllables with their shares
 *                           (行 hang 8.22%, xing 91.78%) and ~21,000 words;
 *   essay.txt               rime's vocabulary with frequencies (~300,000 words);
 *   opencc/emoji_word.txt   words -> emoji, read backwards: emoji -> characters;
 * plus the curated emoji table of the lists folder (views/emoji.tsv). Characters
 * are folded like a text (traditional -> simplified), so 發 and 髮 give 发 theirs.
 *
 * A *reading set* is a sorted set of syllables; each distinct set has a small
 * id (a token). The text side reads a character with its most common reading
 * alone (行 -> xing: one token per syllable, so the patterns stay literals
 * Hyperscan compiles fast); an entry's character matches each of its readings
 * of at least ENTRY_SHARE (银行 matches yin hang and yin xing). An emoji reads
 * as its first character. The scan path only looks tokens up in these tables. */
#ifndef FE_READINGS_H
#define FE_READINGS_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"

#define FE_SET_MAX 8          /* syllables in one reading set, at most */
#define FE_TOKENS_MAX 12032   /* tokens that fit the view's 2-byte encoding */
#define FE_EMOJI_CHARS 4      /* characters one emoji may stand for */

typedef struct fe_readings fe_readings;

/* Load the tables from dir (the rime data folder) and lists (the curated
 * emoji table lists/views/emoji.tsv, optional). NULL on failure, with the
 * file and the reason in err. */
fe_readings *fe_readings_load(const char *dir, const char *lists, const fe_fold *f,
                              char *err, size_t errlen);
void fe_readings_free(fe_readings *r);
size_t fe_readings_memory(const fe_readings *r);

/* The text-side token of a folded code point (a character or an emoji); 0: none. */
uint16_t fe_rd_token(const fe_readings *r, uint32_t cp);
/* The entry-side token (all readings of ENTRY_SHARE or more); 0: none. */
uint16_t fe_rd_entry_token(const fe_readings *r, uint32_t cp);
/* The syllables of a token: *n of them. */
const uint16_t *fe_rd_syllables(const fe_readings *r, uint16_t tok, int *n);
/* The tokens whose set holds syllable syl: *n of them. */
const uint16_t *fe_rd_tokens_with(const fe_readings *r, uint16_t syl, size_t *n);
const char *fe_rd_syllable_name(const fe_readings *r, uint16_t syl);

/* The syllable spelled s (ASCII, as rime writes it: "nv", "zhuang"), or -1. */
int fe_rd_syllable(const fe_readings *r, const char *s);

/* The token of a typed syllable s[0..n) (ASCII lower case), 0 when it is not
 * one; nu/lu also read as nü/lü. */
uint16_t fe_rd_typed(const fe_readings *r, const char *s, size_t n);
/* Split the letters s[0..n) into typed syllables (fewest syllables wins):
 * ends[k] is where syllable k ends, toks[k] its token. Returns the count, or
 * 0 when the word is not pinyin. At most max syllables. */
int fe_rd_segment(const fe_readings *r, const char *s, size_t n, uint16_t *toks,
                  uint8_t *ends, int max);

/* The weight (essay.txt's frequency) of the folded UTF-8 s[0..n) as a word
 * of the dictionary (one character: how often it is written as a word by
 * itself); 0 when it is none. */
uint32_t fe_rd_word(const fe_readings *r, const char *s, size_t n);
/* The weight of a word of the dictionary made of s[0..n) (two characters or
 * more, folded UTF-8) and one character more read as text token tok (强奸 and
 * the token of 反 find 强奸犯); 0 when there is none. Words of weight 100+. */
uint32_t fe_rd_word_by_sound(const fe_readings *r, const char *s, size_t n, uint16_t tok);

/* The characters an emoji stands for (folded code points, the first is the
 * one the emoji view writes); returns their count, 0 for no emoji we read. */
int fe_rd_emoji(const fe_readings *r, uint32_t cp, const uint32_t **chars);

/* A hash of every line the tables were read from (the compile depends on it). */
uint64_t fe_rd_hash(const fe_readings *r);
/* Load time only: count a line read into that hash. */
void fe_rd_note(fe_readings *r, const char *line, size_t n);
/* Load time only. The folded Chinese character cp folds to (0: not Chinese). */
uint32_t fe_rd_fold_han(const fe_fold *f, uint32_t cp);
/* Load time only (emoji.c): emoji cp stands for the characters ch[0..n);
 * it is read with their readings. 0, or -1 when out of memory. */
int fe_rd_add_emoji(fe_readings *r, uint32_t cp, const uint32_t *ch, int n);

#endif
