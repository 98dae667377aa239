/* chain.c -- how a disguise view saw a text, for people: views as text, a match's chain.
 *
 * filterctl explain shows, for a match found through a disguise view, the
 * steps from the text to the entry: 女全 -> nv quan = 女拳, 👩👊 -> 女拳,
 * 5h1t -> shit, nmsl -> the initials of 你妈死了. The phonetic view is
 * tokens, so it is shown as syllables. */
#include <stdio.h>
#include <string.h>

#include "ruleset.h"
#include "views.h"

const char *fe_view_text(const fe_ruleset *rs, const fe_scratch *sc, int view, char *buf,
                         size_t n)
{
    const fe_viewbuf *v = fe_scratch_view(sc, view);
    buf[0] = '\0';
    if (!v || !v->buf || !n)
        return buf;
    if (view == FE_VIEW_PHONETIC && rs->readings)
        fe_phonetic_render(rs->readings, v, 0, v->len, buf, n);
    else
        snprintf(buf, n, "%.*s", (int)(v->len < n ? v->len : n - 1), v->buf);
    return buf;
}

/* The view bytes [*from, *to) behind input bytes [start, end). 0 when none. */
static int view_range(const fe_viewbuf *v, uint32_t start, uint32_t end, size_t *from,
                      size_t *to)
{
    *from = *to = 0;
    for (size_t i = 0; i < v->len; i++)
        if (v->src[i] >= start && v->src[i] < end) {
            if (*to == 0)
                *from = i;
            *to = i + 1;
        }
    return *to > *from;
}

const char *fe_match_chain(const fe_ruleset *rs, const fe_scratch *sc, const char *text,
                           size_t len, const fe_match *m, char *buf, size_t n)
{
    const fe_viewbuf *v = fe_scratch_view(sc, m->view);
    fe_entry_info e;
    size_t from, to;
    char seen[512];
    buf[0] = '\0';
    if (m->view < FE_NBASE_VIEWS || !v || fe_entry_get(rs, m->entry, &e) != FE_OK ||
        m->end > len || !view_range(v, m->start, m->end, &from, &to))
        return buf;
    int span = (int)(m->end - m->start);
    if (m->view == FE_VIEW_PHONETIC && rs->readings) {
        fe_phonetic_render(rs->readings, v, from, to, seen, sizeof seen);
        snprintf(buf, n, "%.*s -> %s = %s (read by sound)", span, text + m->start, seen, e.term);
    } else if (m->view == FE_VIEW_INITIALS)
        snprintf(buf, n, "%.*s = the pinyin initials of %s", span, text + m->start, e.term);
    else
        snprintf(buf, n, "%.*s -> %.*s = %s (%s)", span, text + m->start, (int)(to - from),
                 v->buf + from, e.term,
                 m->view == FE_VIEW_EMOJI ? "emoji read as characters"
                                          : "leetspeak, masks and stretching undone");
    return buf;
}
