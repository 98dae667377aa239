/* fuzz_scan.c -- libFuzzer harness: fold + scan on a small rule set.
 *
 * The first byte picks the scene, the rest is the text. Checked for every
 * text: the fold into views sized for exactly this text never writes past
 * them (ASan), every view byte maps to the start of an input character, in
 * order, and the fold with and without offset maps agree; every match lies
 * inside the text (start < end <= len) on UTF-8 character boundaries, the
 * matches are sorted, and the decision is the one its matches give. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "engine.h"
#include "settings.h"

#define MAX_TEXT 4096   /* bytes; longer inputs are cut */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static fe_ruleset *rs;
static fe_scratch *sc;
static uint8_t *boundary;   /* per input offset: 1 where a character starts */
static signed char view_action[FE_NLABELS];   /* the options' action of a disguise-only match */

/* The views check_fold folds into: allocated once at MAX_TEXT, and for each
 * text everything past the size fe_viewbuf_alloc would give that text is
 * poisoned, so ASan still sees any write past views sized for exactly this
 * text, without the dozens of allocations per run that halved the rate. */
static fe_viewbuf v_map[FE_NVIEWS], v_nomap[FE_NVIEWS];
static size_t full_cap, cap0, ratio;   /* fe_viewbuf_alloc's size for len: cap0 + len * ratio */

/* Literals of both views, whole words, a regex, an ID-card check, an
 * allow-list entry over a deny term, and a scene policy. */
static const struct { const char *path, *text; } lists[] = {
    {"porn.txt", "色情\n成人视频\nporn\n[word] sex\nf.u.c.k\n"},
    {"ad.txt", "加我微信\n[re] v[x信][0-9a-z]{3,8}\n[action=block] 代开发票\n"},
    {"privacy.txt", "[check=idcard,re] [0-9]{17}[0-9x]\n"},
    {"abuse.txt", "@word\nidiot\n傻逼\n[view=folded] a b\n"},
    {"allow.txt", "sex education\nessex\n成人视频教程\n"},
};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_scan: %s\n", what);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/fuzz_scan.XXXXXX", path[128], err[256];
    fd_config c;
    fe_errors e = FE_ERRORS_INIT;
    (void)argc, (void)argv;

    if (!mkdtemp(dir))
        fail("mkdtemp");
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, lists[i].path);
        FILE *f = fopen(path, "w");
        if (!f || fputs(lists[i].text, f) < 0 || fclose(f) != 0)
            fail("cannot write the lists");
    }
    fd_conf_defaults(&c);
    snprintf(c.engine.lists, sizeof c.engine.lists, "%s", dir);
    c.engine.max_text_bytes = MAX_TEXT;
    if (fd_conf_set(&c, "policy chat ad allow", "fuzz", &e) < 0 || !(rs = fe_load(&c.engine, &e)))
        fail(e.text ? e.text : "load");
    memcpy(view_action, c.engine.view_action, sizeof view_action);
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, lists[i].path);
        unlink(path);
    }
    rmdir(dir);
    if (!(sc = fe_scratch_new(rs, err, sizeof err)) || !(boundary = malloc(MAX_TEXT + 1)))
        fail(err);
    for (int i = 0; i < FE_NVIEWS; i++)
        if (fe_viewbuf_alloc(fe_ruleset_fold(rs), &v_map[i], MAX_TEXT) < 0 ||
            fe_viewbuf_alloc(fe_ruleset_fold(rs), &v_nomap[i], MAX_TEXT) < 0)
            fail("out of memory");
    fe_viewbuf empty;
    if (fe_viewbuf_alloc(fe_ruleset_fold(rs), &empty, 0) < 0)
        fail("out of memory");
    full_cap = v_map[0].cap, cap0 = empty.cap, ratio = (full_cap - cap0) / MAX_TEXT;
    fe_viewbuf_free(&empty);
    return 0;
}

/* boundary[i] for i in [0, len]: where the engine's UTF-8 decoder starts a character. */
static void mark_boundaries(const unsigned char *s, size_t len)
{
    memset(boundary, 0, len + 1);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = fe_utf8_decode(s + i, len - i, &cp);
        boundary[i] = 1;
        i += n > 0 ? (size_t)n : 1;
    }
    boundary[len] = 1;
}

static void size_views(fe_viewbuf *v, size_t len)
{
    size_t cap = cap0 + len * ratio;
    ASAN_UNPOISON_MEMORY_REGION(v->buf, full_cap);
    ASAN_UNPOISON_MEMORY_REGION(v->src, full_cap * sizeof *v->src);
    ASAN_UNPOISON_MEMORY_REGION(v->mark, full_cap * sizeof *v->mark);
    ASAN_POISON_MEMORY_REGION(v->buf + cap, full_cap - cap);
    ASAN_POISON_MEMORY_REGION(v->src + cap, (full_cap - cap) * sizeof *v->src);
    ASAN_POISON_MEMORY_REGION(v->mark + cap, (full_cap - cap) * sizeof *v->mark);
    v->len = 0;
    v->cap = cap;
}

static void check_fold(const char *text, size_t len)
{
    const fe_fold *f = fe_ruleset_fold(rs);
    fe_viewbuf *v = v_map, *w = v_nomap;
    for (int i = 0; i < FE_NVIEWS; i++) {
        size_views(&v[i], len);
        size_views(&w[i], len);
    }
    unsigned a = fe_fold_text(f, text, len, v), b = fe_fold_text_nomap(f, text, len, w, NULL, NULL);
    if (a != b)
        fail("fold bits differ with and without offset maps");
    for (int i = 0; i < FE_NVIEWS; i++) {
        if (v[i].len > v[i].cap || v[i].len != w[i].len || memcmp(v[i].buf, w[i].buf, v[i].len))
            fail("views differ with and without offset maps");
        for (size_t k = 0; k < v[i].len; k++)
            if (v[i].src[k] >= len || !boundary[v[i].src[k]] ||
                (k && v[i].src[k] < v[i].src[k - 1]))
                fail("a view byte maps outside the text, off a boundary, or backwards");
    }
}

/* The action a match of entry e must have: the scene's, and for a match that
 * only a disguise view found, that view action when its label has one. */
static fe_action expected_action(const fe_match *m, const fe_entry_info *e, int scene)
{
    fe_action a = fe_policy_action(rs, scene, e->label, e->action);
    if (m->view >= FE_NBASE_VIEWS && a != FE_ALLOW && e->label >= 0 && view_action[e->label] >= 0)
        a = (fe_action)view_action[e->label];
    return a;
}

static void check_result(const fe_result *r, size_t len, int scene)
{
    int decider = -1;
    uint32_t labels = 0;
    for (size_t i = 0; i < r->nmatches; i++) {
        const fe_match *m = &r->matches[i];
        fe_entry_info e;
        if (m->start >= m->end || m->end > len || !boundary[m->start] || !boundary[m->end])
            fail("a match outside the text or off a character boundary");
        if (i && m->start < r->matches[i - 1].start)
            fail("matches not sorted by start");
        if (fe_entry_get(rs, m->entry, &e) != FE_OK || m->view >= FE_NVIEWS ||
            m->allow != e.allow || m->allowed_by >= (int32_t)r->nmatches ||
            (!m->allow && m->action != expected_action(m, &e, scene)))
            fail("a match inconsistent with its entry");
        if (m->allowed_by >= 0) {
            const fe_match *a = &r->matches[m->allowed_by];
            if (!a->allow || a->start > m->start || a->end < m->end)
                fail("suppressed by a match that does not cover it");
        }
        if (!fe_match_reported(m))
            continue;
        if (fe_match_counts(m))
            labels |= 1u << m->label;
        if (decider < 0 || m->action > r->matches[decider].action)
            decider = (int)i;
    }
    fe_action decision = decider < 0 ? FE_ALLOW : (fe_action)r->matches[decider].action;
    if (r->decision != decision || r->labels != labels ||
        (decision != FE_ALLOW && r->decider != decider) ||
        (decision == FE_ALLOW && (r->decider != -1 || r->label != -1)))
        fail("the decision is not the one its matches give");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fe_result r;
    char err[256];

    if (size < 1)
        return 0;
    int scene = data[0] % FE_NSCENES;
    const char *text = (const char *)data + 1;
    size_t len = size - 1 > MAX_TEXT ? MAX_TEXT : size - 1;
    mark_boundaries((const unsigned char *)text, len);
    if (len)
        check_fold(text, len);
    if (fe_scan(rs, sc, text, len, scene, &r, err, sizeof err) != FE_OK)
        fail(err);
    check_result(&r, len, scene);
    return 0;
}
