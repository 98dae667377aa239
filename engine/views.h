/* views.h -- the engine's private header for the disguise views (issue 9): for each,
 * the per-text pass that writes its view with the offset map, and the load-time
 * part that turns an entry into its pattern. scan.c and compile.c drive them.
 *
 *   emoji.c     the emoji table (rime + the lists' views/emoji.tsv); the emoji view
 *   phonetic.c  the phonetic view: tokens of reading sets, 2 bytes each
 *   initials.c  the initials of an entry, as a whole word of the folded view
 *   leet.c      the leet view: Latin letters past leetspeak, masks, stretching
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

#define FE_TOK_BREAK 0x20

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
 * needed only then). */
size_t fe_phonetic_view(const fe_fold *f, const fe_readings *r, const char *text, size_t len,
                        fe_viewbuf *out);
#define FE_SOUND_VARIANTS 32  /* readings of an entry's polyphones matched, at most */
/* The literals of a term in the phonetic view (malloc'd, *vlen bytes each:
 * one per choice of reading at its polyphones, and with fuzzy of fuzzy
 * syllables) into out[FE_SOUND_VARIANTS]; returns how many, 0 when the term
 * does not qualify. */
int fe_phonetic_patterns(const fe_fold *f, const fe_readings *r, const char *term, int fuzzy,
                         char **out, uint32_t *vlen);
/* Whether a phonetic match of view bytes [start, end) of text is a disguise of
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

#endif
