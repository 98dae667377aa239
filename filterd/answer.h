/* answer.h -- an engine result in the wire's shape: what a worker sends and filterctl prints.
 *
 *   fd_answer a;
 *   fd_answer_init(&a);                              // once
 *   const fw_reply *r = fd_answer_make(&a, rs, sc, &res, explain);
 *   fw_enc_decision(pk, id, idlen, r);  or  fw_reply_json(r, id, 1);
 *   fd_answer_free(&a);
 *
 * The reply borrows from the rule set (terms, files), the scratch (views) and
 * static names, and lives in a until the next fd_answer_make. Which matches
 * are reported, and what counts toward labels, is the engine's rule
 * (fe_match_reported, fe_match_counts).
 *
 * With explain, each match carries its chain (fe_match_steps), copied into
 * a's chain buffer: FD_CHAIN_TEXT bytes for all the matches of one reply, so
 * an explained reply grows by at most that much (and 7 bytes a match for
 * the key and the array). Finding a match's view bytes reads the view, so
 * chains are made for the first FD_CHAIN_MATCHES matches only (a 32 KiB text
 * of 4,096 matches took 160 ms with all, 44 ms without explain). A match
 * past either bound gets the one step FD_CHAIN_CUT instead. */
#ifndef FD_ANSWER_H
#define FD_ANSWER_H

#include "engine.h"
#include "wire.h"

#define FD_CHAIN_TEXT (64u << 10)   /* bytes: the chains of one reply, steps and NULs */
#define FD_CHAIN_PTRS 4096          /* steps of one reply (a step is 2 bytes or more) */
#define FD_CHAIN_MATCHES 512        /* matches of one reply that get their chain */
#define FD_CHAIN_CUT "(not shown)"   /* the chain of a match past the bounds */

typedef struct fd_answer {
    fw_reply reply;
    const char *labels[FE_NLABELS];
    const char *warnings[FE_NWARN];
    fw_view views[FE_NVIEWS];
    fw_match *matches;            /* FE_MAX_MATCHES of them */
    const char **steps;           /* FD_CHAIN_PTRS: the matches' chains point into it */
    char *chains;                 /* FD_CHAIN_TEXT bytes: the steps' text */
    size_t nsteps, used;
} fd_answer;

int fd_answer_init(fd_answer *a);     /* 0, or -1 when out of memory */
void fd_answer_free(fd_answer *a);

/* The reply for res, a scan of rs with sc of text[0..len); with explain,
 * the views of the text and each match's chain too. */
const fw_reply *fd_answer_make(fd_answer *a, const fe_ruleset *rs, const fe_scratch *sc,
                               const fe_result *res, const char *text, size_t len,
                               int explain);

/* The scene names of the taxonomy, for fw_request_decode. */
void fd_answer_limits(fw_limits *lim, size_t max_text);

#endif
