/* fold.h -- text normalisation: a per-code-point folding table built from ICU
 * at load time, and the one-pass fold of a text into its views.
 *
 * A view is a normalised copy of the text plus, for each of its bytes, the
 * input offset of the character it came from, so a match in any view maps
 * back to character boundaries of the text as sent (fe_view_span). The two
 * base views, built here:
 *   folded  - NFKC, case folded, T->S, homoglyphs and digit variants folded,
 *             invisibles dropped; each run of separators becomes one byte;
 *             runs of single letters ("f.u.c.k") are joined.
 *   compact - the same with every separator removed (for Chinese terms),
 *             but one that ends a clause, which stays as a space
 *             (fe_clause_break: 被地域黑，同样地 is 被地域黑 同样地, while
 *             法，轮，功 and 法·轮·功 are 法轮功).
 * The disguise views (issue 9) see through evasions; each is its own module
 * with a load-time table and a per-text pass (views.h):
 *   emoji    - the compact view with emoji read as the character they stand
 *              for (吃💩 -> 吃屎), scanned with the compact patterns;
 *   phonetic - every character, typed pinyin syllable, single digit and
 *              emoji as its Mandarin readings (phonetic.c);
 *   initials - pinyin initials of long entries (nmsl), matched in folded;
 *   leet     - Latin letters read past leetspeak, masks and stretching (leet.c);
 *   split    - the compact view with a character's two halves put back
 *              together (弓虽 -> 强), scanned with the compact database (split.c);
 *   shape    - a look-alike character (未 for 末): patterns of their own,
 *              matched in the compact view (shape.c). */
#ifndef FE_FOLD_H
#define FE_FOLD_H

#include <stddef.h>
#include <stdint.h>

enum fe_view {
    FE_VIEW_FOLDED, FE_VIEW_COMPACT,          /* the base views */
    FE_VIEW_EMOJI, FE_VIEW_PHONETIC, FE_VIEW_INITIALS, FE_VIEW_LEET,
    FE_VIEW_SPLIT, FE_VIEW_SHAPE,
    FE_NVIEWS
};
#define FE_NBASE_VIEWS 2            /* folded and compact; the rest are disguise views */
#define FE_VIEW_BIT(v) (1u << (v))
#define FE_DISGUISE_VIEWS 0xfcu     /* the bits of every disguise view */

/* Character classes after folding. */
enum fe_class { FE_C_DROP, FE_C_SEP, FE_C_WORD, FE_C_HAN };

/* Why a character folded as it did (for explanations). */
#define FE_WHY_COMPAT    0x01u  /* NFKC: full-width, math, circled, compatibility */
#define FE_WHY_CASE      0x02u
#define FE_WHY_T2S       0x04u  /* traditional -> simplified */
#define FE_WHY_HOMOGLYPH 0x08u  /* look-alike letter -> Latin */
#define FE_WHY_DIGIT     0x10u  /* digit variant -> ASCII digit */
#define FE_WHY_MARK      0x20u  /* combining mark / diacritic dropped */
#define FE_WHY_INVISIBLE 0x40u  /* format / zero-width character dropped */
#define FE_WHY_SEP       0x80u  /* separator: punctuation, symbol, emoji, space */

/* fe_fold_text() result bits */
#define FE_FOLD_INVALID_UTF8 0x01u
#define FE_FOLD_NUL          0x02u
#define FE_FOLD_HAS_HAN      0x04u  /* some character is Chinese (or kana, hangul) */
#define FE_FOLD_JOINED       0x08u  /* single letters were joined */
#define FE_FOLD_WORD         0x10u  /* some character is a letter or digit, not Chinese
                                       (or some Chinese one folds to Latin letters) */

typedef struct fe_fold fe_fold;

typedef struct fe_viewbuf {
    char *buf;          /* the view's bytes (not NUL-terminated) */
    uint32_t *src;      /* per byte: input offset of the character it came from
                           (of the first separator, for a separator run) */
    uint32_t *mark;     /* working memory of the fold (separator positions) */
    size_t len, cap;
} fe_viewbuf;

/* Build the table from ICU (about 0.2 s). NULL on failure, with err set.
 * Free with fe_fold_free(). */
fe_fold *fe_fold_build(char *err, size_t errlen);
void fe_fold_free(fe_fold *f);
size_t fe_fold_memory(const fe_fold *f);

/* View buffers able to hold the views of any text of up to maxlen bytes.
 * Returns 0 or -1 (out of memory); release with fe_viewbuf_free(). */
int fe_viewbuf_alloc(const fe_fold *f, fe_viewbuf *v, size_t maxlen);
void fe_viewbuf_free(fe_viewbuf *v);

/* Fold text (len <= the maxlen the views were sized for) into every view.
 * Returns FE_FOLD_* bits. No ICU call, no allocation. */
unsigned fe_fold_text(const fe_fold *f, const char *text, size_t len,
                      fe_viewbuf views[FE_NVIEWS]);

/* The input bytes [*start, *end) behind view bytes [from, to) of text. */
void fe_view_span(const fe_viewbuf *v, size_t from, size_t to, const char *text, size_t len,
                  uint32_t *start, uint32_t *end);

/* The clause marks the fold asked fe_clause_break about (the first of each
 * separator run), in text order, with the answers: the phonetic pass asks
 * about the same marks and reads them here instead (fe_clause_break_at). At
 * most FE_CLAUSE_MEMO are kept; the rest are asked again. */
#define FE_CLAUSE_MEMO 256
typedef struct fe_clauses {
    uint32_t at[FE_CLAUSE_MEMO];   /* input offset of the clause mark */
    uint8_t brk[FE_CLAUSE_MEMO];   /* fe_clause_break's answer there */
    size_t n;
} fe_clauses;

/* The text's characters as the split pass reads them, kept by the fold so
 * that the pass need not decode and look up every character again: in text
 * order, each Chinese character folded (its first code point), a 0 for a
 * letter, digit, any ASCII character or invalid byte (it parts a pair; a run
 * of them is one 0); other separators and dropped characters are left out
 * (they keep a pair: 弓·虽). c has room for one entry per text byte. */
typedef struct fe_hanseq {
    uint32_t *c;
    size_t n;
} fe_hanseq;

/* The same fold without the offset maps (src is left as it was): the scan
 * path folds this way and maps offsets only for texts that matched. With
 * cl, the clause marks' answers are kept there (cl->n reset first); with
 * hq, the characters for the split pass (hq->n reset first). */
unsigned fe_fold_text_nomap(const fe_fold *f, const char *text, size_t len,
                            fe_viewbuf views[FE_NVIEWS], fe_clauses *cl, fe_hanseq *hq);

/* Whether the separators around text[at], a clause mark (ENT_CLAUSE: , . ! ?
 * ; 、 。 … or a line break), end a clause: the characters on both sides of
 * the run are Chinese, and not both stand alone between separators. Every
 * view that skips separators asks this. */
int fe_clause_break(const fe_fold *f, const char *text, size_t len, size_t at);
/* fe_clause_break, read from cl (may be NULL) when the fold kept the answer
 * for at; *k is the caller's cursor into cl (0 at the start of a text: the
 * caller asks in text order). */
int fe_clause_break_at(const fe_fold *f, const fe_clauses *cl, size_t *k, const char *text,
                       size_t len, size_t at);

/* Class and FE_WHY_* bits of one code point. */
int fe_fold_class(const fe_fold *f, uint32_t cp, unsigned *why);

/* Decode one UTF-8 character at s[0..n). Returns its length (>= 1) and sets
 * *cp, or returns -1 for an invalid byte (consume 1 byte). */
int fe_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Encode code point c as UTF-8 into o (room for 4 bytes); returns its length. */
int fe_utf8_encode(uint32_t c, char *o);

const char *fe_view_name(int view);
int fe_view_lookup(const char *name);

#endif
