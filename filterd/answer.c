/* answer.c -- an engine result in the wire's shape (answer.h).
 *
 * The engine's vocabulary and the wire's are the same words: decisions in
 * the same order, msgSecCheck codes from the taxonomy. The checks below keep
 * them so at compile time. */
#include <stdlib.h>
#include <string.h>

#include "answer.h"

_Static_assert((int)FE_ALLOW == (int)FW_ALLOW && (int)FE_FLAG == (int)FW_FLAG &&
                   (int)FE_BLOCK == (int)FW_BLOCK,
               "engine actions and wire decisions share one order");
_Static_assert(FE_CODE_PASS == FW_CODE_PASS, "one msgSecCheck pass code");

int fd_answer_init(fd_answer *a)
{
    memset(a, 0, sizeof *a);
    a->matches = malloc(FE_MAX_MATCHES * sizeof *a->matches);
    a->steps = malloc(FD_CHAIN_PTRS * sizeof *a->steps);
    a->chains = malloc(FD_CHAIN_TEXT);
    if (a->matches && a->steps && a->chains)
        return 0;
    fd_answer_free(a);
    return -1;
}

void fd_answer_free(fd_answer *a)
{
    free(a->matches);
    free(a->steps);
    free(a->chains);
    memset(a, 0, sizeof *a);
}

static void put_match(fw_match *o, const fe_ruleset *rs, const fe_match *m)
{
    fe_entry_info e;
    if (fe_entry_get(rs, m->entry, &e) != FE_OK)
        memset(&e, 0, sizeof e);
    o->start = m->start;
    o->end = m->end;
    o->term = e.term ? e.term : "";
    o->label = fe_label_name(m->label);
    o->action = fe_action_name((fe_action)m->action);
    o->list = e.file ? e.file : "";
    o->line = e.line;
    o->via = fe_view_name(m->view);
    o->chain = NULL;
    o->nchain = 0;
}

/* m's chain, copied into a's buffers (FD_CHAIN_CUT when they are full). */
static void put_chain(fd_answer *a, fw_match *o, const fe_ruleset *rs, const fe_scratch *sc,
                      const char *text, size_t len, const fe_match *m)
{
    static const char *cut[] = {FD_CHAIN_CUT};
    fe_chain c;
    size_t bytes = 0;

    o->chain = cut;
    o->nchain = 1;
    if (o - a->matches >= FD_CHAIN_MATCHES || a->used >= FD_CHAIN_TEXT)
        return;
    fe_match_steps(rs, sc, text, len, m, &c);
    for (int i = 0; i < c.n; i++)
        bytes += strlen(c.step[i]) + 1;
    if (a->nsteps + (size_t)c.n > FD_CHAIN_PTRS || a->used + bytes > FD_CHAIN_TEXT)
        return;
    o->chain = a->steps + a->nsteps;
    o->nchain = (size_t)c.n;
    for (int i = 0; i < c.n; i++) {
        size_t n = strlen(c.step[i]) + 1;
        memcpy(a->chains + a->used, c.step[i], n);
        a->steps[a->nsteps++] = a->chains + a->used;
        a->used += n;
    }
}

const fw_reply *fd_answer_make(fd_answer *a, const fe_ruleset *rs, const fe_scratch *sc,
                               const fe_result *res, const char *text, size_t len,
                               int explain)
{
    fw_reply *r = &a->reply;
    memset(r, 0, sizeof *r);
    r->decision = (int)res->decision;
    r->label = res->decision == FE_ALLOW ? FW_CODE_PASS : fe_label_code(res->label);
    r->labels = a->labels;
    for (int l = 0; l < FE_NLABELS; l++)
        if (res->labels & (1u << l))
            a->labels[r->nlabels++] = fe_label_name(l);
    r->matches = a->matches;
    a->nsteps = a->used = 0;
    for (size_t i = 0; i < res->nmatches && r->nmatches < FE_MAX_MATCHES; i++)
        if (fe_match_reported(&res->matches[i])) {
            fw_match *o = &a->matches[r->nmatches++];
            put_match(o, rs, &res->matches[i]);
            if (explain)
                put_chain(a, o, rs, sc, text, len, &res->matches[i]);
        }
    r->warnings = a->warnings;
    for (int w = 0; w < FE_NWARN; w++)
        if (res->warnings & (1u << w))
            a->warnings[r->nwarnings++] = fe_warning_name(w);
    r->version = fe_ruleset_version(rs);
    if (explain) {
        r->views = a->views;
        for (int v = 0; v < FE_NBASE_VIEWS; v++) {   /* the protocol's views */
            const fe_viewbuf *vb = fe_scratch_view(sc, v);
            a->views[r->nviews++] = (fw_view){fe_view_name(v), vb->buf ? vb->buf : "", vb->len};
        }
    }
    return r;
}

void fd_answer_limits(fw_limits *lim, size_t max_text)
{
    lim->max_text = max_text;
    lim->scenes = fe_scene_names();
    lim->nscenes = FE_NSCENES;
    lim->default_scene = FE_SCENE_DEFAULT;
}
