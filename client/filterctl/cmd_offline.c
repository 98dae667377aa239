/* cmd_offline.c -- the filterctl commands that load the lists themselves: scan, explain, lint.
 *
 * scan is the batch path: one ruleset, one scratch, 1 MiB stdio buffers,
 * getline into one growing buffer, and each result printed through one
 * preallocated buffer. The per-line cost is the cJSON parse and build, and
 * the scan itself. explain is for a person and takes its time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "cliopt.h"
#include "commands.h"
#include "engine.h"
#include "jsonl.h"
#include "offline.h"

#define IO_BUF (1u << 20)     /* stdin and stdout buffers, bytes */
#define LINE_OUT (64u << 10)  /* a result line up to this prints without malloc, bytes */
#define ERR_LEN 512

/* ---- options and loading, shared by the commands -------------------------- */

typedef struct opts {
    const char *lists, *config, *scene;
    char **args;           /* the positional arguments */
    int nargs;
} opts;

/* Parse argv into o (the positionals are gathered at the front of argv).
 * Returns 0, 1 for --help, or -1 after printing the usage. */
static int parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->args = argv + 1;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        int r = 0;
        if (!strcmp(a, "--")) {
            while (++i < argc)
                o->args[o->nargs++] = argv[i];
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return 1;
        if ((r = fc_opt_value(argc, argv, &i, "--lists", &o->lists)) ||
            (r = fc_opt_value(argc, argv, &i, "--config", &o->config)) ||
            (r = fc_opt_value(argc, argv, &i, "--scene", &o->scene))) {
            if (r > 0)
                continue;
            fprintf(stderr, "filterctl %s: %s needs a value\n", argv[0], a);
        } else if (a[0] != '-' || !a[1]) {
            o->args[o->nargs++] = a;
            continue;
        } else
            fprintf(stderr, "filterctl %s: unknown option '%s'\n", argv[0], a);
        fc_usage(stderr, argv[0]);
        return -1;
    }
    return 0;
}

/* The exit for a bad command line: r from parse_opts (1: --help was asked
 * for; -1: already reported), or 0 with why. */
static int usage_exit(int r, const char *cmd, const char *why)
{
    if (r > 0) {
        fc_usage(stdout, cmd);
        return FC_EXIT_OK;
    }
    if (r == 0) {
        fprintf(stderr, "filterctl %s: %s\n", cmd, why);
        fc_usage(stderr, cmd);
    }
    return FC_EXIT_USAGE;
}

static fd_config cfg;             /* what the command loaded (large: not on the stack) */

/* Load the ruleset o asks for (the daemon's configuration unless --config
 * says otherwise); on failure print the errors on f. */
static fe_ruleset *load(const opts *o, FILE *f)
{
    return fc_offline_load(o->config, o->lists, &cfg, NULL, f);
}

/* ---- scan ------------------------------------------------------------------ */

/* The answer to one request line: a decision or an error object. */
static cJSON *scan_line(const fe_ruleset *rs, fe_scratch *sc, fd_answer *a, int scene,
                        char *line, size_t len)
{
    char err[ERR_LEN];
    fc_request rq;
    fe_result r;
    cJSON *o;

    if (fc_request_parse(line, len, scene, &rq, err, sizeof err) < 0 ||
        fe_scan(rs, sc, rq.text, rq.len, rq.scene, &r, err, sizeof err) != FE_OK)
        o = fw_error_json(rq.id, err);
    else
        o = fw_reply_json(fd_answer_make(a, rs, sc, &r, rq.text, rq.len, 0), rq.id, 1);
    fc_request_free(&rq);
    return o;
}

static size_t chomp(char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    s[n] = '\0';
    return n;
}

/* One output line per input line, in input order. Returns 0 or -1. */
static int scan_stream(const fe_ruleset *rs, fe_scratch *sc, int scene, FILE *in, FILE *out)
{
    char *line = NULL, *obuf = malloc(LINE_OUT);
    size_t cap = 0;
    ssize_t n;
    fd_answer a;
    int rc = obuf && fd_answer_init(&a) == 0 ? 0 : -1;

    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
        cJSON *o = scan_line(rs, sc, &a, scene, line, chomp(line, (size_t)n));
        rc = o ? fc_json_print_line(out, o, obuf, LINE_OUT) : -1;
        cJSON_Delete(o);
    }
    if (rc < 0)
        fprintf(stderr, "filterctl scan: out of memory or write error\n");
    else if (ferror(in)) {
        perror("filterctl scan: stdin");
        rc = -1;
    }
    if (obuf)
        fd_answer_free(&a);
    free(line);
    free(obuf);
    return rc;
}

int fc_cmd_scan(int argc, char **argv)
{
    static char ibuf[IO_BUF], obuf[IO_BUF];
    char err[ERR_LEN];
    opts o;
    int r = parse_opts(argc, argv, &o), scene;

    if (r != 0 || o.nargs)
        return usage_exit(r, "scan", "it reads stdin and takes no other arguments");
    if ((scene = fc_offline_scene(o.scene, "scan")) < 0)
        return FC_EXIT_USAGE;
    fe_ruleset *rs = load(&o, stderr);
    if (!rs)
        return FC_EXIT_USAGE;
    fe_scratch *sc = fe_scratch_new(rs, err, sizeof err);
    if (!sc) {
        fprintf(stderr, "filterctl scan: %s\n", err);
        fe_ruleset_free(rs);
        return FC_EXIT_FAIL;
    }
    fprintf(stderr, "filterctl scan: config %s; lists %s (%s)\n",
            fc_offline_config_name(&cfg, err, sizeof err), cfg.engine.lists,
            fe_ruleset_version(rs));
    setvbuf(stdin, ibuf, _IOFBF, sizeof ibuf);
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    r = scan_stream(rs, sc, scene, stdin, stdout);
    if (fflush(stdout) == EOF) {
        perror("filterctl scan: stdout");
        r = -1;
    }
    fe_scratch_free(sc);
    fe_ruleset_free(rs);
    return r < 0 ? FC_EXIT_FAIL : FC_EXIT_OK;
}

/* ---- explain --------------------------------------------------------------- */

typedef struct marks {
    const char *on, *off;
} marks;

/* Text for a terminal: control bytes are shown as \xNN. */
static void put_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            putc(c, f);
    }
}

/* End of the run of matches that count (overlapping or touching) that
 * covers byte at; at itself when none does. */
static size_t run_end(const fe_result *r, size_t at)
{
    size_t end = at;
    for (int grew = 1; grew;) {
        grew = 0;
        for (size_t i = 0; i < r->nmatches; i++) {
            const fe_match *m = &r->matches[i];
            if (fe_match_counts(m) && m->start <= end && m->end > end)
                end = m->end, grew = 1;
        }
    }
    return end;
}

/* The start of the first match that counts after at, or len. */
static size_t next_start(const fe_result *r, size_t at, size_t len)
{
    size_t next = len;
    for (size_t i = 0; i < r->nmatches; i++)
        if (fe_match_counts(&r->matches[i]) && r->matches[i].start > at && r->matches[i].start < next)
            next = r->matches[i].start;
    return next;
}

/* The text with the spans of the matches that count marked. */
static void put_highlighted(FILE *f, const fe_result *r, const char *text, size_t len,
                            const marks *mk)
{
    for (size_t at = 0, end; at < len; at = end) {
        if ((end = run_end(r, at)) > at) {
            fputs(mk->on, f);
            put_text(f, text + at, end - at);
            fputs(mk->off, f);
        } else {
            end = next_start(r, at, len);
            put_text(f, text + at, end - at);
        }
    }
}

/* The steps of m's chain (fe_match_steps): what the fold did, on one line,
 * then how its view read it. */
static void put_chain(FILE *f, const fe_ruleset *rs, const fe_scratch *sc, const char *text,
                      const fe_match *m)
{
    fe_chain c;
    fe_match_steps(rs, sc, text, strlen(text), m, &c);
    fprintf(f, "      normalised: ");
    for (int i = 0; i < c.nfold; i++)
        fprintf(f, "%s%s", i ? ", " : "", c.step[i]);
    fprintf(f, "%s\n", c.nfold ? "" : "nothing (matched as written)");
    for (int i = c.nfold; i < c.n; i++) {
        fprintf(f, "      %s ", m->view < FE_NBASE_VIEWS ? "read:" : "disguise:");
        put_text(f, c.step[i], strlen(c.step[i]));
        fputc('\n', f);
    }
}

/* The action line of a deny match, noting a scene policy or the view-action
 * setting (a match found only through a disguise view) that changed it. */
static void put_action(FILE *f, const fe_ruleset *rs, const fe_match *m,
                       const fe_entry_info *e, int scene)
{
    fe_action policy = fe_policy_action(rs, scene, m->label, e->action);
    fprintf(f, "label %s (code %d), action %s", fe_label_name(m->label),
            fe_label_code(m->label), fe_action_name(m->action));
    if (m->action != policy)
        fprintf(f, " (view-action: found only in the %s view; %s %s)", fe_view_name(m->view),
                policy != e->action ? "the scene policy says" : "the list says",
                fe_action_name(policy));
    else if (m->action != e->action)
        fprintf(f, " (scene '%s' policy; the list says %s)", fe_scene_name(scene),
                fe_action_name(e->action));
}

static void put_match(FILE *f, const fe_ruleset *rs, const fe_scratch *sc, const fe_result *r,
                      size_t i, const char *text, int scene)
{
    const fe_match *m = &r->matches[i];
    fe_entry_info e, a;

    if (fe_entry_get(rs, m->entry, &e) != FE_OK)
        return;
    fprintf(f, "  %s:%u  %s\"%s\"  bytes %u-%u \"", e.file, e.line, e.regex ? "re " : "",
            e.term, m->start, m->end);
    put_text(f, text + m->start, m->end - m->start);
    fprintf(f, "\"  in the %s view\n      ", fe_view_name(m->view));
    if (m->allow)
        fprintf(f, "allow-list entry: deny matches inside this span do not count");
    else
        put_action(f, rs, m, &e, scene);
    if (m->allowed_by >= 0 && fe_entry_get(rs, r->matches[m->allowed_by].entry, &a) == FE_OK)
        fprintf(f, "\n      SUPPRESSED by the allow-list entry %s:%u \"%s\"", a.file, a.line,
                a.term);
    fprintf(f, "%s\n", (int)i == r->decider ? "  <- decides" : "");
    put_chain(f, rs, sc, text, m);
}

static void put_warnings(FILE *f, unsigned w)
{
    static const char *const what[FE_NWARN] = {"read as separators", "read as separators",
                                               "later matches dropped"};
    if (!w)
        return;
    fprintf(f, "warnings:");
    for (int i = 0; i < FE_NWARN; i++)
        if (w & (1u << i))
            fprintf(f, " %s (%s)", fe_warning_name(i), what[i]);
    fputc('\n', f);
}

static void explain(FILE *f, const fe_ruleset *rs, const fe_scratch *sc, const fe_result *r,
                    const char *text, size_t len, int scene, const marks *mk)
{
    if (r->decision == FE_ALLOW)
        fprintf(f, "decision: allow (code %d, suggest pass)\n", FE_CODE_PASS);
    else
        fprintf(f, "decision: %s: %s (code %d, suggest %s)\n", fe_action_name(r->decision),
                fe_label_name(r->label), fe_label_code(r->label),
                fe_action_suggest(r->decision));
    fprintf(f, "scene:    %s\ntext:     ", fe_scene_name(scene));
    put_highlighted(f, r, text, len, mk);
    for (int v = 0; v < FE_NVIEWS; v++) {
        char vt[4096];
        if (v == FE_VIEW_INITIALS || (v >= FE_NBASE_VIEWS && !*fe_view_text(rs, sc, v, vt, sizeof vt)))
            continue;   /* initials are read in the folded view; views not built */
        fprintf(f, "\n%-9s ", fe_view_name(v));
        if (v < FE_NBASE_VIEWS)
            put_text(f, fe_scratch_view(sc, v)->buf, fe_scratch_view(sc, v)->len);
        else
            put_text(f, vt, strlen(vt));
    }
    fputc('\n', f);
    put_warnings(f, r->warnings);
    fprintf(f, "matches:%s\n", r->nmatches ? "" : "  none");
    for (size_t i = 0; i < r->nmatches; i++)
        put_match(f, rs, sc, r, i, text, scene);
    char name[PATH_MAX + 128];
    fprintf(f, "lists:    %s (%s)\nconfig:   %s\n", cfg.engine.lists, fe_ruleset_version(rs),
            fc_offline_config_name(&cfg, name, sizeof name));
}

int fc_cmd_explain(int argc, char **argv)
{
    static const marks colour = {"\033[1;31m", "\033[0m"}, plain = {"[[", "]]"};
    char err[ERR_LEN];
    fe_result r;
    opts o;
    int rc = parse_opts(argc, argv, &o), scene;

    if (rc != 0 || o.nargs != 1)
        return usage_exit(rc, "explain", "give one TEXT (quote it)");
    if ((scene = fc_offline_scene(o.scene, "explain")) < 0)
        return FC_EXIT_USAGE;
    fe_ruleset *rs = load(&o, stderr);
    if (!rs)
        return FC_EXIT_USAGE;
    fe_scratch *sc = fe_scratch_new(rs, err, sizeof err);
    const char *text = o.args[0];
    size_t len = strlen(text);
    rc = FC_EXIT_FAIL;
    if (!sc)
        fprintf(stderr, "filterctl explain: %s\n", err);
    else if (fe_scan(rs, sc, text, len, scene, &r, err, sizeof err) != FE_OK)
        fprintf(stderr, "filterctl explain: %s\n", err);
    else {
        explain(stdout, rs, sc, &r, text, len, scene, isatty(STDOUT_FILENO) ? &colour : &plain);
        rc = FC_EXIT_OK;
    }
    fe_scratch_free(sc);
    fe_ruleset_free(rs);
    return rc;
}

/* ---- lint ------------------------------------------------------------------ */

int fc_cmd_lint(int argc, char **argv)
{
    opts o;
    int r = parse_opts(argc, argv, &o);

    if (r != 0 || o.nargs != 1 || o.lists || o.config || o.scene)
        return usage_exit(r, "lint", "give one list folder and no options");
    o.lists = o.args[0];
    o.config = "";                /* the lists alone: no scene policies to check */
    fe_ruleset *rs = load(&o, stdout);
    if (!rs)
        return FC_EXIT_FAIL;
    const fe_errors *w = fe_ruleset_warnings(rs);
    if (w->text)
        fputs(w->text, stdout);   /* "file:line: ... same as ...": not errors */
    printf("%s: %zu entries OK (version %s)", o.lists, fe_ruleset_entries(rs),
           fe_ruleset_version(rs));
    if (w->count)
        printf(", %d warning%s", w->count, w->count == 1 ? "" : "s");
    putchar('\n');
    fe_ruleset_free(rs);
    return FC_EXIT_OK;
}
