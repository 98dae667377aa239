/* views.h -- the engine's private header for the disguise views (issue 9): for each,
 * the per-text pass that writes its view with the offset map, and the load-time
 * part that turns an entry into its pattern. scan.c and compile.c drive them.
 *
 *   emoji.c     the emoji table (rime + the lists' views/emoji.tsv); the emoji view
 *   phonetic.c  the phonetic view: tokens of reading sets, 2 bytes each; entry patterns
 *   sounds.c    which matches of the phonetic view are disguises, not real words
 *   initials.c  the initials of an entry, as a whole word of the folded view
 *   leet.c      the leet view: Latin letters past leetspeak, masks, stretching
 *   shape.c     character structures (cjk-decomp, views/shape.tsv); look-alike patterns
 *   split.c     the split view: two components put back together (弓虽 -> 强)
 *   chain.c     how a match was found through them, for people
 *
 * A phonetic token is 2 bytes: the first in 0x80..0xff, the second in
 * 0x21..0x7e, so a pattern can only match at a token's start; 0x20 is a
 * break (something that has no reading). The phonetic and leet patterns are
 * plain literals (raw bytes), compiled with hs_compile_lit_multi. */
#ifndef FE_VIEWS_H
#define FE_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"
#include "readings.h"

typedef struct fe_shapes fe_shapes;

#define FE_TOK_BREAK 0x20

/* Token tok as its two view bytes at p, and the token of the two at p. */
static inline void fe_tok_put(char *p, uint16_t tok)
{
    p[0] = (char)(0x80 + tok / 94);
    p[1] = (char)(0x21 + tok % 94);
}
static inline uint16_t fe_tok_get(const char *p)
{
    return (uint16_t)(((unsigned char)p[0] - 0x80) * 94 + ((unsigned char)p[1] - 0x21));
}

/* mark[] bits of a phonetic view byte (the view's own use of fe_viewbuf.mark) */
#define FE_PM_LATIN  0x01u   /* a typed syllable */
#define FE_PM_WSTART 0x02u   /* ... the first of its word */
#define FE_PM_WEND   0x04u   /* ... the last of its word */
#define FE_PM_EMOJI  0x08u
#define FE_PM_DIGIT  0x10u

/* emoji.c */
int fe_emoji_load(fe_readings *r, const fe_fold *f, const char *dir, const char *lists,
                  char *err, size_t errlen);
/* The compact view with each emoji we read replaced by its character. Returns
 * how many were replaced (0: the view equals compact and need not be scanned). */
size_t fe_emoji_view(const fe_fold *f, const fe_readings *r, const char *text, size_t len,
                     fe_viewbuf *out);

/* phonetic.c: the view; returns how many emoji it read (the emoji view is
 * needed only then). cl: the fold's answers for the clause marks (or NULL);
 * memo: the Latin memo of the scratch (or NULL), the answers for Latin words
 * seen before, kept from text to text. */
typedef struct fe_sylmemo fe_sylmemo;
fe_sylmemo *fe_sylmemo_new(void);
void fe_sylmemo_free(fe_sylmemo *m);
size_t fe_phonetic_view(const fe_fold *f, const fe_readings *r, const char *text, size_t len,
                        const fe_clauses *cl, fe_sylmemo *memo, fe_viewbuf *out);
#define FE_SOUND_VARIANTS 32  /* readings of an entry's polyphones matched, at most */
#define FE_SOUND_POS 32       /* characters of an entry read by sound, at most */
/* The positions of a term: per position the folded character (0 for an
 * emoji) into ch[FE_SOUND_POS] and its entry-side token into tok[]. Returns
 * the count, or -1 when some part has no reading (Latin letters, digits, a
 * character we cannot read). */
int fe_phonetic_positions(const fe_fold *f, const fe_readings *r, const char *term, uint32_t *ch,
                          uint16_t *tok);
/* The literals of a term in the phonetic view (malloc'd, *vlen bytes each:
 * one per choice of reading at its polyphones, and with fuzzy of fuzzy
 * syllables) into out[FE_SOUND_VARIANTS]; returns how many, 0 when the term
 * does not qualify. */
int fe_phonetic_patterns(const fe_fold *f, const fe_readings *r, const char *term, int fuzzy,
                         char **out, uint32_t *vlen);
/* sounds.c: whether a phonetic match of view bytes [start, end) of text is a disguise of
 * term rather than the term itself or a real word (asked: the entry asked
 * for the view, [sound]). */
int fe_phonetic_accept(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                       const char *text, size_t len, size_t start, size_t end,
                       const char *term, int asked);
/* "nv quan" for view bytes [from, to) */
void fe_phonetic_render(const fe_readings *r, const fe_viewbuf *v, size_t from, size_t to,
                        char *buf, size_t n);

/* initials.c: the initials of a term ("nmsl") as a pattern of the folded view,
 * or NULL; asked: the entry asked for it ([initials]), so shorter ones qualify. */
char *fe_initials_pattern(const fe_fold *f, const fe_readings *r, const char *term, int asked,
                          uint32_t *vlen);

/* leet.c */
void fe_leet_view(const fe_fold *f, const char *text, size_t len, fe_viewbuf *out);
#define FE_LEET_VARIANTS 20   /* patterns of one entry in the leet view, at most */
/* The entry's literals (malloc'd) into out[FE_LEET_VARIANTS] and their
 * lengths in the view into vlen[]; returns how many (0: the term is not
 * Latin letters). */
int fe_leet_patterns(const fe_fold *f, const char *term, char **out, uint32_t *vlen);
int fe_leet_accept(const fe_fold *f, const fe_viewbuf *v, size_t start, size_t end,
                   const char *term);
/* The input bytes behind leet view bytes [from, to): fe_view_span, but a
 * letter's run counts whole (ffffuck). */
void fe_leet_span(const fe_viewbuf *v, size_t from, size_t to, const char *text, size_t len,
                  uint32_t *start, uint32_t *end);

/* shape.c: the cjk-decomp table (path) and the lists' views/shape.tsv. NULL on
 * failure, with the file and the reason in err. */
fe_shapes *fe_shapes_load(const char *path, const char *lists, const fe_fold *f, char *err,
                          size_t errlen);
void fe_shapes_free(fe_shapes *s);
size_t fe_shapes_memory(const fe_shapes *s);
uint64_t fe_shapes_hash(const fe_shapes *s);   /* of every line read */
#define FE_SHAPE_VARIANTS 16  /* look-alike patterns of one entry, at most */
#define FE_SIDE_WORD 300      /* a changed character making a word this common with a
                                 neighbour (essay.txt weight) reads as that word */
/* The components people write for character c (folded; a split left-right or
 * top-bottom, both typeable, not a word together) into comps; 0: none. */
int fe_shapes_split_of(const fe_shapes *s, const fe_fold *f, const fe_readings *r, uint32_t c,
                       uint32_t comps[2]);
/* An entry's look-alike literals of the compact view (malloc'd) into out[],
 * their lengths into vlen[]; returns how many (0: the term does not
 * qualify): one character at a time replaced by a look-alike (asked:
 * [shape], so two characters qualify). */
int fe_shape_patterns(const fe_shapes *s, const fe_fold *f, const char *term, int asked,
                      char **out, uint32_t *vlen);
/* Whether a shape match of compact view bytes [start, end) is a disguise of
 * term rather than a common word or words. */
int fe_shape_accept(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v, size_t start,
                    size_t end, const char *term);
/* "未 looks like 末": the change at compact view bytes [from, to). */
void fe_shape_render(const fe_fold *f, const fe_viewbuf *v, size_t from, size_t to,
                     const char *term, char *buf, size_t n);
/* The weight of characters a, b as a word (0: none); the character of a
 * UTF-8 view that ends at byte i / starts at byte i (0: none). */
uint32_t fe_pair_weight(const fe_readings *r, uint32_t a, uint32_t b);
uint32_t fe_char_before(const fe_viewbuf *v, size_t i);
uint32_t fe_char_after(const fe_viewbuf *v, size_t i);

/* split.c: the split view, the compact view with two adjacent components put
 * back together (弓虽 -> 强) where they make a character of a list entry. */
typedef struct fe_splits fe_splits;
fe_splits *fe_splits_new(void);
void fe_splits_free(fe_splits *sp);
size_t fe_splits_memory(const fe_splits *sp);
/* Load time: the characters of term may be written as their components. 0 or -1 (memory). */
int fe_splits_add(fe_splits *sp, const fe_shapes *s, const fe_fold *f, const fe_readings *r,
                  const char *term);
/* hq: the fold's reading of text (fe_fold_text_nomap). Returns how many
 * characters it put together (0: the view equals compact). */
size_t fe_split_view(const fe_fold *f, const fe_splits *sp, const char *text, size_t len,
                     const fe_hanseq *hq, fe_viewbuf *out);
/* Whether a match of split view bytes [start, end) holds a character put
 * together whose components make no common word with their neighbours. */
int fe_split_accept(const fe_fold *f, const fe_readings *r, const fe_viewbuf *v,
                    const char *text, size_t len, size_t start, size_t end);
/* "弓虽 put together: 强" for split view bytes [from, to). */
void fe_split_render(const fe_fold *f, const fe_viewbuf *v, size_t from, size_t to,
                     const char *text, size_t len, char *buf, size_t n);

#endif
