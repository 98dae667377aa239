/* ruleset.h -- the engine's private header: what a compiled rule set holds, shared by
 * engine.c (loading), compile.c (lists -> Hyperscan), cache.c (the on-disk cache) and
 * scan.c (scanning and deciding). Nothing outside engine/ includes it. */
#ifndef FE_RULESET_H
#define FE_RULESET_H

#include <hs/hs.h>

#include "engine.h"
#include "wordlist.h"

#define FE_ENGINE_BUILD "filterd-engine-9"   /* 2: disguise views, 3: split and shape
                                                (issue 9); 4: folding of capitals, clause
                                                breaks (issue 10); 5: a character's own
                                                reading first, fuzzy syllables (issue 9);
                                                6: sound in verse-shaped text (issue 9);
                                                7: near sounds (f/h too) in two-character
                                                entries that ask (issue 9); 8: particles,
                                                the text's start, near sounds beside a
                                                word, read-back by sound (issue 9); 9:
                                                numbers for a sound in [nosound] entries
                                                (issue 9) */

/* Regexes are compiled twice: without start-of-match into each view's main
 * database (cheap, a prefilter), and with it into a second database that is
 * scanned only when the prefilter saw a regex hit. SOM makes Hyperscan's
 * automata several times slower, and most texts hit no regex at all. */
enum fe_db {
    DB_FOLDED, DB_COMPACT,          /* every entry in its base view (+ initials in folded) */
    DB_PHONETIC, DB_LEET,           /* the disguise views with patterns of their own */
    DB_SHAPE,                       /* look-alike patterns, over the compact view */
    DB_INITIALS,                    /* initials without a vowel, over the folded view */
    DB_SOM_FOLDED, DB_SOM_COMPACT,  /* regexes again, with start of match */
    NDB
};
#define SOM_DB(view) (DB_SOM_FOLDED + (view))

/* One compiled pattern (its Hyperscan id is its index): entries 0..n-1 are
 * each entry's pattern in its base view; later ones are disguise patterns. */
typedef struct rule {
    uint32_t vlen;        /* literal: its length in the view; regex: 0 */
    uint32_t entry;       /* the list entry */
    uint8_t view;         /* enum fe_view it reports as ("via") */
    uint8_t word;         /* whole word only (initials) */
    uint8_t views;        /* entry patterns: the disguise views on for the entry */
    uint8_t pad;
} rule;

struct fe_ruleset {
    fe_fold *fold;
    struct fe_readings *readings;   /* NULL when no view needs them */
    struct fe_shapes *shapes;       /* NULL unless split or shape is on somewhere */
    struct fe_splits *splits;       /* the components of the entries' characters (split) */
    fe_wordlists wl;
    rule *rules;
    size_t nrules, rcap;
    hs_database_t *db[NDB];
    signed char policy[FE_NSCENES][FE_NLABELS];
    uint8_t views_off[FE_NLABELS];      /* fe_options.views_off */
    signed char view_action[FE_NLABELS];
    int sound_fuzzy;                    /* fe_options.sound_fuzzy */
    unsigned views_used;                /* the disguise views some entry has (FE_VIEW_BIT) */
    uint64_t opt_hash;                  /* what besides the lists shapes the databases */
    size_t max_text;
    char version[32];
    double compile_s;
    fe_errors warnings;   /* what lint should mention but is not an error */
    int cached;           /* the databases came from the on-disk cache */
    char cache_note[320]; /* what the cache did: off, hit, miss, written, refused: why */
};

/* compile.c: every entry into a pattern of its view and of each disguise
 * view it qualifies for, then one database per fe_db (rs->rules and rs->db filled). With report_only, only check the
 * entries (every error into err) and return -1. 0 or -1. */
int fe_compile(fe_ruleset *rs, int report_only, fe_errors *err);
/* "file:line" of entry i. */
void fe_entry_where(const fe_wordlists *wl, size_t i, char *buf, size_t n);
int fe_is_alnum(unsigned char c);   /* an ASCII letter or digit of a view */
/* The disguise views (FE_VIEW_BIT) entry i gets: its switches, else its label's default. */
unsigned fe_entry_views(const fe_ruleset *rs, size_t i);
/* Whether entry i turned the sound view off itself ([nosound]) while its label keeps
 * it: then only numbers written for a sound match it there (吃4, 吃四 with no count
 * after: sounds.c), which nobody writes by accident. */
int fe_entry_numbers(const fe_ruleset *rs, size_t i);

/* cache.c: the lists' content and what turns it into databases (the version
 * hashes this); reading <dir>/<key>.fdb after checking it, and writing it
 * (creating dir, then keeping the keep latest versions). Both say what they
 * did in rs->cache_note. */
uint64_t fe_content_hash(const fe_ruleset *rs);
int fe_cache_read(fe_ruleset *rs, const char *dir);   /* 0: rs->rules and rs->db filled */
void fe_cache_write(fe_ruleset *rs, const char *dir, int keep);

#endif
