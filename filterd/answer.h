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
 * (fe_match_reported, fe_match_counts). */
#ifndef FD_ANSWER_H
#define FD_ANSWER_H

#include "engine.h"
#include "wire.h"

typedef struct fd_answer {
    fw_reply reply;
    const char *labels[FE_NLABELS];
    const char *warnings[FE_NWARN];
    fw_view views[FE_NVIEWS];
    fw_match *matches;            /* FE_MAX_MATCHES of them */
} fd_answer;

int fd_answer_init(fd_answer *a);     /* 0, or -1 when out of memory */
void fd_answer_free(fd_answer *a);

/* The reply for res, a scan of rs with sc; with explain, the views of the
 * scanned text too. */
const fw_reply *fd_answer_make(fd_answer *a, const fe_ruleset *rs, const fe_scratch *sc,
                               const fe_result *res, int explain);

/* The scene names of the taxonomy, for fw_request_decode. */
void fd_answer_limits(fw_limits *lim, size_t max_text);

#endif
