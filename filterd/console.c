/* console.c -- the moderators' console: its pages under /console and its JSON API under /console/api.
 *
 * The pages (the files of filterd/console, embedded at build time) hold no data and need
 * no token. Every API request needs "Authorization: Bearer TOKEN" with a
 * token of http-admin-tokens (no loopback exemption; a check token is never
 * one): else 401, and without that setting 403 console_disabled. The token's
 * name is who acts, in the audit. The API reads the lists on disk (entries,
 * versions, diffs) at once; everything slow (save, restore, what-if, reload)
 * is a job (consjobs.c). try sends one explain check per scene to the broker
 * as one bulk check and renders each reply with fw_reply_json. */
#define _GNU_SOURCE               /* strcasestr */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <zmq.h>

#include "console.h"

#define API "/console/api/"
#ifndef FD_BINDIR
#define FD_BINDIR "/usr/local/bin"  /* make install's BINDIR (the Makefile sets it) */
#endif

/* ---- open, close, tokens -------------------------------------------------------- */

int fd_console_open(fd_http *h)
{
    static fd_console c;
    char err[512], exe[PATH_MAX];
    memset(&c, 0, sizeof c);
    h->cons = &c;
    if (!(c.reloads = cJSON_CreateArray()))
        return -1;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    fd_fmt(c.filterctl, sizeof c.filterctl, "%s/filterctl", dirname(exe));
    if (access(c.filterctl, X_OK) < 0)  /* installed: filterd in SBINDIR, filterctl in BINDIR */
        fd_fmt(c.filterctl, sizeof c.filterctl, "%s/filterctl", FD_BINDIR);
    if (!h->cfg->http_admin_tokens[0])
        return 0;
    if (fd_tokens_read(&c.admins, h->cfg->http_admin_tokens, "http-admin-tokens", 1, err,
                       sizeof err) < 0 ||
        fd_store_open(&c.store, h->cfg, err, sizeof err) < 0) {
        fd_log(FD_ERROR, "console_off", "message=\"%s\"", err);
        return -1;
    }
    if (access(c.store.lists, W_OK) < 0)
        fd_log(FD_WARN, "console_lists_readonly", "lists=%s message=\"this process's user "
               "cannot write the lists folder: saves will fail (docs/SECURITY.md)\"",
               c.store.lists);
    c.has_admins = c.ok = 1;
    c.live = c.store.newest;
    fd_log(FD_INFO, "console", "admins=%d version=%d state=%s", c.admins.n, c.live,
           c.store.state);
    return 0;
}

void fd_console_close(fd_http *h)
{
    fd_console *c = h->cons;
    if (!c)
        return;
    if (c->job) {
        fd_child_free(&c->job->child);
        cJSON_Delete(c->job->result);
        free(c->job);
    }
    for (int i = 0; i < FD_CONS_JOBS; i++)
        if (c->done[i]) {
            cJSON_Delete(c->done[i]->result);
            free(c->done[i]);
        }
    cJSON_Delete(c->reloads);
    if (c->admin)
        zmq_close(c->admin);
    h->cons = NULL;
}

void fd_console_reload_tokens(fd_http *h)
{
    fd_console *c = h->cons;
    char err[512];
    if (!c || !c->has_admins)
        return;
    if (fd_tokens_read(&c->admins, h->cfg->http_admin_tokens, "http-admin-tokens", 1, err,
                       sizeof err) < 0)
        fd_log(FD_WARN, "console_tokens_kept", "message=\"%s\" tokens=%d", err, c->admins.n);
    else
        fd_log(FD_INFO, "console_tokens", "tokens=%d", c->admins.n);
}

int fd_console_auth(fd_http *h, fd_hreq *r, const char *a)
{
    fd_console *c = h->cons;
    if (!c || !c->has_admins || !c->ok) {
        fd_hreq_error(r, 403, NULL, "console_disabled", "the console is off: no "
                      "http-admin-tokens is configured (or its state could not be opened)");
        return 1;
    }
    if (a && !strncasecmp(a, "Bearer ", 7))
        a += 7 + strspn(a + 7, " ");
    else
        a = NULL;
    int who = a ? fd_tokens_which(&c->admins, a, strlen(a)) : -1;
    if (who < 0) {
        fd_hreq_error(r, 401, NULL, "unauthorized", "an admin token is needed: "
                      "Authorization: Bearer TOKEN (a line of http-admin-tokens)");
        return 1;
    }
    r->who = who;
    return 0;
}

/* ---- the pages --------------------------------------------------------------------- */

int fd_console_page(fd_http *h, fd_hreq *r)
{
    const char *name = r->url + strlen("/console");
    (void)h;
    if (!*name) {
        r->location = "/console/";
        fd_hreq_text(r, 308, "text/plain", strdup("/console/\n"), 10);
        return 0;
    }
    name += *name == '/';
    if (!*name)
        name = "index.html";
    for (const fd_asset *a = fd_assets; a->name; a++)
        if (!strcmp(a->name, name)) {
            char *copy = malloc(a->len + 1);
            if (copy)
                memcpy(copy, a->data, a->len);
            fd_hreq_text(r, 200, a->ctype, copy, a->len);
            return 0;
        }
    fd_hreq_error(r, 404, NULL, "not_found", "no such page of the console");
    return 0;
}

/* ---- API helpers ------------------------------------------------------------------ */

static const char *who(const fd_http *h, const fd_hreq *r)
{
    return h->cons->admins.name[r->who];
}

static const char *arg(const fd_hreq *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn->mc, MHD_GET_ARGUMENT_KIND, key);
}

/* The body as a JSON object, or NULL with a 400 set. */
static cJSON *body(fd_hreq *r)
{
    char err[160];
    cJSON *o = r->doc = fd_json_parse(r->body ? r->body : "", r->len, err, sizeof err);
    if (!cJSON_IsObject(o)) {
        fd_hreq_error(r, 400, NULL, "bad_request", o ? "the body must be a JSON object" : err);
        return NULL;
    }
    return o;
}

static int busy(fd_http *h, fd_hreq *r)
{
    char msg[96];
    if (!h->cons->job)
        return 0;
    fd_fmt(msg, sizeof msg, "job %u (%s) is running: one job at a time", h->cons->job->id,
             h->cons->job->kind);
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", "busy");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddNumberToObject(o, "job", h->cons->job->id);
    fd_hreq_json(r, 409, o);
    return 1;
}

/* The lists changed outside the console: recorded as a version first. */
static void notice_outside(fd_http *h)
{
    char err[256];
    fd_store *s = &h->cons->store;
    if (fd_store_changed(s) &&
        fd_store_record(s, "filterd", "found on disk (changed outside the console)", err,
                        sizeof err) < 0)
        fd_log(FD_WARN, "console_record_failed", "message=\"%s\"", err);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int jint(const cJSON *o, const char *key, int *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 1e9 ||
        x->valuedouble != (double)(int)x->valuedouble)
        return -1;
    *out = (int)x->valuedouble;
    return 0;
}

/* ---- try ------------------------------------------------------------------------ */

static int api_try(fd_http *h, fd_hreq *r)
{
    cJSON *o = body(r);
    const char *text = jstr(o, "text");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(o, "scenes"), *x;
    fc_query q[FE_NSCENES];
    int n = 0;
    if (!o)
        return 0;
    if (!text || (sc && !cJSON_IsArray(sc))) {
        fd_hreq_error(r, 400, NULL, "bad_request", "{\"text\": \"...\", \"scenes\"?: [names]}");
        return 0;
    }
    if (!sc) {
        cJSON *all = cJSON_AddArrayToObject(o, "scenes");
        for (int i = 0; i < FE_NSCENES; i++)
            cJSON_AddItemToArray(all, cJSON_CreateString(fe_scene_name(i)));
        sc = all;
    }
    cJSON_ArrayForEach(x, sc) {
        if (!cJSON_IsString(x) || fe_scene_lookup(x->valuestring) < 0 || n == FE_NSCENES) {
            fd_hreq_error(r, 400, NULL, "bad_request", "scenes: names of scenes of the taxonomy");
            return 0;
        }
        q[n++] = (fc_query){text, strlen(text), x->valuestring, 0};
    }
    if (!n) {
        fd_hreq_error(r, 400, NULL, "bad_request", "scenes: at least one");
        return 0;
    }
    if (fd_http_send(h, r, q, (size_t)n, 1, 1) < 0) {
        fd_hreq_error(r, 503, NULL, "unavailable", "the broker cannot be reached");
        return 0;
    }
    return 1;
}

void fd_console_done(fd_http *h, fd_hreq *r, fc_result *res, size_t n)
{
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r->doc, "scenes");
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "results");
    cJSON_AddNumberToObject(o, "version", h->cons->store.newest);
    cJSON_AddNumberToObject(o, "live", h->cons->live);
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "scene", cJSON_GetArrayItem(sc, (int)i)->valuestring);
        if (res[i].error) {
            cJSON *err = cJSON_AddObjectToObject(e, "error");
            cJSON_AddStringToObject(err, "code", res[i].error);
            cJSON_AddStringToObject(err, "message", res[i].error_message ? res[i].error_message : "");
        } else
            cJSON_AddItemToObject(e, "reply", fw_reply_json(&res[i], NULL, 0));
        cJSON_AddItemToArray(a, e);
    }
    fd_hreq_json(r, 200, o);
}

/* ---- entries --------------------------------------------------------------------- */

typedef struct filelines {
    char name[PATH_MAX];
    char *text;
    char **line;
    size_t n;
} filelines;

static const char *line_of(const fd_store *s, filelines *f, const char *file, unsigned ln)
{
    if (strcmp(f->name, file)) {
        char path[PATH_MAX * 2];
        size_t len = 0, cap = 0;
        free(f->text);
        free(f->line);
        memset(f, 0, sizeof *f);
        fd_fmt(f->name, sizeof f->name, "%s", file);
        fd_fmt(path, sizeof path, "%s/%s", s->lists, file);
        f->text = fd_store_read(path, &len);
        for (char *p = f->text; p && p < f->text + len; p++) {
            if (f->n == cap) {
                char **m = realloc(f->line, (cap = cap ? 2 * cap : 256) * sizeof *m);
                if (!m)
                    break;
                f->line = m;
            }
            f->line[f->n++] = p;
            if (!(p = strchr(p, '\n')))
                break;
            *p = '\0';
        }
    }
    return ln >= 1 && ln <= f->n ? f->line[ln - 1] : "";
}

static int api_entries_get(fd_http *h, fd_hreq *r)
{
    const fd_store *s = &h->cons->store;
    const char *q = arg(r, "q"), *label = arg(r, "label"), *action = arg(r, "action");
    const char *file = arg(r, "file"), *off = arg(r, "offset"), *lim = arg(r, "limit");
    long offset = off ? strtol(off, NULL, 10) : 0, limit = lim ? strtol(lim, NULL, 10)
                                                              : FD_CONS_PAGE_DEF;
    if (offset < 0 || limit < 1 || limit > FD_CONS_PAGE_MAX) {
        fd_hreq_error(r, 400, NULL, "bad_request", "offset >= 0, 1 <= limit <= 1000");
        return 0;
    }
    fe_listing *l = fe_listing_load(s->lists, NULL);
    if (!l) {
        fd_hreq_error(r, 500, NULL, "internal", "out of memory");
        return 0;
    }
    cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
    filelines fl = {0};
    long total = 0;
    cJSON_AddNumberToObject(o, "version", s->newest);
    for (size_t i = 0; i < fe_listing_count(l); i++) {
        fe_entry_info e;
        fe_listing_get(l, i, &e);
        const char *lname = e.allow ? "allow" : fe_label_name(e.label);
        if ((q && *q && !strcasestr(e.term, q)) || (label && *label && strcmp(label, lname)) ||
            (action && *action && strcmp(action, fe_action_name(e.action))) ||
            (file && *file && strcmp(file, e.file)))
            continue;
        if (total++ < offset || total > offset + limit)
            continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "file", e.file);
        cJSON_AddNumberToObject(x, "line", e.line);
        cJSON_AddStringToObject(x, "text", line_of(s, &fl, e.file, e.line));
        cJSON_AddStringToObject(x, "term", e.term);
        cJSON_AddStringToObject(x, "label", lname);
        cJSON_AddStringToObject(x, "action", fe_action_name(e.action));
        cJSON_AddItemToArray(a, x);
    }
    free(fl.text);
    free(fl.line);
    fe_listing_free(l);
    cJSON_AddNumberToObject(o, "total", (double)total);
    cJSON_AddItemToObject(o, "entries", a);
    fd_hreq_json(r, 200, o);
    return 0;
}

/* How much of s fits in max bytes without cutting a UTF-8 character (for "%.*s"). */
static int cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return (int)n;
    while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return (int)max;
}

/* 409 stale: the lists changed since the version the person saw. */
static int stale(fd_http *h, fd_hreq *r, int base)
{
    char msg[160];
    notice_outside(h);
    if (base == h->cons->store.newest)
        return 0;
    fd_fmt(msg, sizeof msg, "the lists changed since version %d: the newest is %d", base,
             h->cons->store.newest);
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", "stale");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddNumberToObject(o, "version", h->cons->store.newest);
    fd_hreq_json(r, 409, o);
    return 1;
}

static int api_entries_post(fd_http *h, fd_hreq *r)
{
    fd_store *s = &h->cons->store;
    cJSON *o = body(r);
    char err[512], what[512], old[FD_CONS_LINE_MAX + 1] = "";
    const char *op = jstr(o, "op"), *file = jstr(o, "file"), *text = jstr(o, "text");
    int line = 0, base;
    if (!o || busy(h, r))
        return 0;
    if (!op || (strcmp(op, "add") && strcmp(op, "change") && strcmp(op, "delete")) || !file ||
        jint(o, "base", &base) < 0 ||
        (cJSON_GetObjectItemCaseSensitive(o, "line") && jint(o, "line", &line) < 0) ||
        (strcmp(op, "add") && line < 1)) {
        fd_hreq_error(r, 400, NULL, "bad_request", "{\"op\": \"add\"|\"change\"|\"delete\", "
                      "\"file\", \"line\" (change, delete), \"text\" (add, change), \"base\"}");
        return 0;
    }
    if (fd_store_file_ok(s, file, err, sizeof err) < 0) {
        fd_hreq_error(r, 400, NULL, "bad_file", err);
        return 0;
    }
    if (stale(h, r, base))
        return 0;
    if (line) {
        filelines fl = {0};
        fd_fmt(old, sizeof old, "%s", line_of(s, &fl, file, (unsigned)line));
        free(fl.text);
        free(fl.line);
    }
    if (fd_store_stage(s, 0, err, sizeof err) < 0 ||
        fd_store_edit(s, file, op, (unsigned)line, text, err, sizeof err) < 0) {
        fd_hreq_error(r, 400, NULL, "bad_request", err);
        return 0;
    }
    if (!strcmp(op, "add"))
        fd_fmt(what, sizeof what, "add %s: %.*s", file, cut(text, 200), text);
    else if (!strcmp(op, "change"))
        fd_fmt(what, sizeof what, "change %s:%d: %.*s -> %.*s", file, line, cut(old, 150), old,
               cut(text, 150), text);
    else
        fd_fmt(what, sizeof what, "delete %s:%d: %.*s", file, line, cut(old, 200), old);
    return fd_cjob_start(h, r, "save", who(h, r), what);
}

/* ---- versions, restore, what-if, reload, jobs -------------------------------------- */

static int api_versions(fd_http *h, fd_hreq *r)
{
    notice_outside(h);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "live", h->cons->live);
    cJSON_AddNumberToObject(o, "newest", h->cons->store.newest);
    cJSON_AddNumberToObject(o, "keep", h->cons->store.keep);
    cJSON_AddItemToObject(o, "versions", fd_store_audit(&h->cons->store));
    fd_hreq_json(r, 200, o);
    return 0;
}

static int api_diff(fd_http *h, fd_hreq *r, int n)
{
    char err[256];
    cJSON *d = fd_store_diff(&h->cons->store, n, err, sizeof err);
    if (!d) {
        fd_hreq_error(r, 404, NULL, "not_found", err);
        return 0;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", n);
    cJSON_AddItemToObject(o, "files", d);
    fd_hreq_json(r, 200, o);
    return 0;
}

static int api_restore(fd_http *h, fd_hreq *r)
{
    cJSON *o = body(r);
    char err[256], what[64];
    int v;
    if (!o || busy(h, r))
        return 0;
    if (jint(o, "version", &v) < 0 || v < 1) {
        fd_hreq_error(r, 400, NULL, "bad_request", "{\"version\": N}");
        return 0;
    }
    if (v > h->cons->store.newest || fd_store_stage(&h->cons->store, v, err, sizeof err) < 0) {
        fd_fmt(err, sizeof err, "version %d is not kept", v);
        fd_hreq_error(r, 404, NULL, "not_found", err);
        return 0;
    }
    fd_fmt(what, sizeof what, "restore of %d", v);
    return fd_cjob_start(h, r, "restore", who(h, r), what);
}

static int api_whatif_html(fd_http *h, fd_hreq *r, unsigned id)
{
    char path[PATH_MAX];
    size_t n;
    const fd_cjob *j = fd_cjob_find(h->cons, id);
    fd_whatif_path(h->cons, id, path, sizeof path);
    char *html = j && j->state == 1 ? fd_store_read(path, &n) : NULL;
    if (!html) {
        fd_hreq_error(r, 404, NULL, "not_found", "no HTML report of that what-if job");
        return 0;
    }
    fd_hreq_text(r, 200, "text/html; charset=utf-8", html, n);
    return 0;
}

static int api_job(fd_http *h, fd_hreq *r, unsigned id)
{
    const fd_cjob *j = fd_cjob_find(h->cons, id);
    if (!j) {
        fd_hreq_error(r, 404, NULL, "not_found", "no such job (the last 16 are kept)");
        return 0;
    }
    int lint = j->state == 2 && cJSON_GetObjectItemCaseSensitive(j->result, "errors");
    fd_hreq_json(r, lint ? 422 : 200, fd_cjob_json(j));
    return 0;
}

/* ---- the API's table ------------------------------------------------------------- */

static int method(fd_hreq *r, const char *want)
{
    if (!strcmp(r->method, want) || (!strcmp(want, "GET") && !strcmp(r->method, "HEAD")))
        return 1;
    r->allow = !strcmp(want, "GET") ? "GET, HEAD" : want;
    fd_hreq_error(r, 405, NULL, "method_not_allowed", "this path takes another method");
    return 0;
}

int fd_console_api(fd_http *h, fd_hreq *r)
{
    const char *p = r->url + strlen(API);
    unsigned id;
    int n, end = 0;
    if (!strcmp(p, "try"))
        return method(r, "POST") ? api_try(h, r) : 0;
    if (!strcmp(p, "entries"))
        return !strcmp(r->method, "POST") ? api_entries_post(h, r)
             : method(r, "GET") ? api_entries_get(h, r) : 0;
    if (!strcmp(p, "versions"))
        return method(r, "GET") ? api_versions(h, r) : 0;
    if (sscanf(p, "versions/%d/diff%n", &n, &end) == 1 && end && !p[end])
        return method(r, "GET") ? api_diff(h, r, n) : 0;
    if (!strcmp(p, "restore"))
        return method(r, "POST") ? api_restore(h, r) : 0;
    if (!strcmp(p, "whatif")) {
        if (!method(r, "POST") || busy(h, r))
            return 0;
        if (!h->cfg->ncorpora) {
            fd_hreq_error(r, 409, NULL, "no_corpus", "no console-corpus is configured");
            return 0;
        }
        return fd_cjob_start(h, r, "whatif", who(h, r), "");
    }
    if (sscanf(p, "whatif/%u.html%n", &id, &end) == 1 && end && !p[end])
        return method(r, "GET") ? api_whatif_html(h, r, id) : 0;
    if (!strcmp(p, "reload"))
        return method(r, "POST") && !busy(h, r) ? fd_cjob_start(h, r, "reload", who(h, r), "")
                                                : 0;
    if (!strcmp(p, "live"))
        return method(r, "GET") ? fd_live_start(h, r) : 0;
    if (sscanf(p, "jobs/%u%n", &id, &end) == 1 && end && !p[end])
        return method(r, "GET") ? api_job(h, r, id) : 0;
    fd_hreq_error(r, 404, NULL, "not_found", "no such console API path (see docs/http.md)");
    return 0;
}
