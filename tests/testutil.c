/* testutil.c -- temporary list folders and scans for the unit tests. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "settings.h"
#include "testutil.h"

static fe_scratch *kept;
static const fe_ruleset *kept_rs;

char *tu_listdir(const tu_file *files)
{
    char *dir = strdup("/tmp/fetest.XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (const tu_file *f = files; f->path; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, f->path);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(f->text, fp);
        fclose(fp);
    }
    return dir;
}

void tu_rmdir(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

fe_ruleset *tu_load(const char *dir, const char *const *conf_lines, fe_errors *err)
{
    static fd_config c;
    fd_conf_defaults(&c);
    snprintf(c.engine.lists, sizeof c.engine.lists, "%s", dir);
    for (; conf_lines && *conf_lines; conf_lines++)
        assert_int_equal(fd_conf_set(&c, *conf_lines, "test", err), 0);
    return fe_load(&c.engine, err);
}

fe_ruleset *tu_load_or_report(const char *dir, const char *const *conf_lines)
{
    fe_errors err = FE_ERRORS_INIT;
    fe_ruleset *rs = tu_load(dir, conf_lines, &err);
    if (!rs)
        fprintf(stderr, "%s", err.text ? err.text : "load failed\n");
    fe_errors_clear(&err);
    return rs;
}

void tu_expect_allowed(const fe_ruleset *rs, const char *text, int scene)
{
    fe_result r = tu_scan(rs, text, scene);
    if (r.decision != FE_ALLOW)
        fail_msg("'%s' should be allowed in %s; got %s as %s by '%s'", text,
                 fe_scene_name(scene), fe_action_name(r.decision), fe_label_name(r.label),
                 tu_decider_term(rs, &r));
}

fe_result tu_scan(const fe_ruleset *rs, const char *text, int scene)
{
    char err[256];
    fe_result r;
    if (kept_rs != rs) {
        fe_scratch_free(kept);
        kept = fe_scratch_new(rs, err, sizeof err);
        kept_rs = rs;
        assert_non_null(kept);
    }
    assert_int_equal(fe_scan(rs, kept, text, strlen(text), scene, &r, err, sizeof err), FE_OK);
    return r;
}

void tu_scan_done(void)
{
    fe_scratch_free(kept);
    kept = NULL;
    kept_rs = NULL;
}

const char *tu_decider_term(const fe_ruleset *rs, const fe_result *r)
{
    fe_entry_info ei;
    if (r->decider < 0)
        return "";
    assert_int_equal(fe_entry_get(rs, r->matches[r->decider].entry, &ei), FE_OK);
    return ei.term;
}

int tu_matched(const fe_ruleset *rs, const fe_result *r, const char *term)
{
    for (size_t i = 0; i < r->nmatches; i++) {
        fe_entry_info ei;
        const fe_match *m = &r->matches[i];
        if (m->allow || m->allowed_by >= 0)
            continue;
        fe_entry_get(rs, m->entry, &ei);
        if (!strcmp(ei.term, term))
            return 1;
    }
    return 0;
}
