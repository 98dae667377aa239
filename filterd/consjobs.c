/* consjobs.c -- the console's jobs (save, restore, what-if, reload) and its live view.
 *
 * One job at a time. save and restore: the stage is ready (console.c made
 * it); `filterctl lint STAGE` runs as a child, and when it passes the stage
 * is committed (conslists.c), else its "file:line: reason" lines are the
 * result. whatif: `filterctl eval --lists LISTS --baseline versions/LIVE
 * --clean F --labelled F --json --html OUT` over the console-corpus files
 * (OUT: fd_whatif_path, served by GET whatif/ID.html). reload:
 * {op: "reload"} on the admin endpoint, over the console's own DEALER; the
 * admin reply is the result, and a successful one makes the newest version
 * the live one. GET live asks the same socket for the workers, then the
 * broker's stats the way /metrics does (metrics.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "console.h"

static const char *corpus_flag(const fd_config *cfg, int i)
{
    return cfg->console_labelled[i] ? "--labelled" : "--clean";
}

void fd_whatif_path(const fd_console *c, unsigned id, char *buf, size_t n)
{
    fd_fmt(buf, n, "%s/whatif-%u.html", c->store.state, id);
}

/* ---- the admin socket ---------------------------------------------------------- */

static void live_answer(fd_http *h, cJSON *workers)
{
    fd_console *c = h->cons;
    fd_hreq *r = c->live_waiters;
    c->live_waiters = NULL;
    c->workers_sent = 0;
    while (r) {
        fd_hreq *next = r->next_waiter;
        r->next_waiter = NULL;
        r->waiting = 0;
        cJSON_Delete(r->doc);
        r->doc = workers ? cJSON_Duplicate(workers, 1) : cJSON_CreateNull();
        if (!fd_metrics_start(h, r))
            fd_http_resume(h, r);      /* answered at once (no stats) */
        r = next;
    }
}

static void reload_done(fd_http *h, cJSON *reply);

/* Replies on the admin socket: a reload's (it has "ok") or the workers. */
static void admin_poll(fd_http *h)
{
    fd_console *c = h->cons;
    cJSON *j;
    while (c->admin && fd_admin_recv(c->admin, &j)) {
        if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "workers")))
            live_answer(h, cJSON_GetObjectItemCaseSensitive(j, "workers"));
        else if (c->job && c->job->sent && j)
            reload_done(h, j), j = NULL;
        cJSON_Delete(j);
    }
    if (c->workers_sent && fd_now_ns() - c->workers_sent > FD_CONS_ADMIN_MS * FD_MS)
        live_answer(h, NULL);
}

int fd_live_start(fd_http *h, fd_hreq *r)
{
    fd_console *c = h->cons;
    if (!c->workers_sent) {
        if (fd_admin_ask(h, &c->admin, FW_OP_WORKERS) < 0) {
            fd_hreq_error(r, 503, NULL, "unavailable", "the admin endpoint cannot be reached");
            return 0;
        }
        c->workers_sent = fd_now_ns();
    }
    r->waiting = 3;
    r->next_waiter = c->live_waiters;
    c->live_waiters = r;
    return 1;
}

void fd_console_drop(fd_http *h, fd_hreq *r)
{
    for (fd_hreq **p = &h->cons->live_waiters; *p; p = &(*p)->next_waiter)
        if (*p == r) {
            *p = r->next_waiter;
            return;
        }
}

void fd_live_stats(fd_http *h, fd_hreq *r, const cJSON *stats)
{
    if (!stats) {
        fd_hreq_error(r, 503, NULL, "unavailable", "no stats from the broker in time");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "stats", cJSON_Duplicate(stats, 1));
    cJSON_AddItemToObject(o, "workers", r->doc ? r->doc : cJSON_CreateNull());
    r->doc = NULL;
    cJSON_AddItemToObject(o, "reloads", cJSON_Duplicate(h->cons->reloads, 1));
    cJSON_AddNumberToObject(o, "live", h->cons->live);
    cJSON_AddNumberToObject(o, "newest", h->cons->store.newest);
    fd_hreq_json(r, 200, o);
}

/* ---- jobs ------------------------------------------------------------------ */

cJSON *fd_cjob_json(const fd_cjob *j)
{
    static const char *const state[] = {"running", "done", "failed"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "job", j->id);
    cJSON_AddStringToObject(o, "kind", j->kind);
    cJSON_AddStringToObject(o, "state", state[j->state]);
    cJSON_AddItemToObject(o, "result", j->result ? cJSON_Duplicate(j->result, 1)
                                                  : cJSON_CreateNull());
    return o;
}

const fd_cjob *fd_cjob_find(const fd_console *c, unsigned id)
{
    if (c->job && c->job->id == id)
        return c->job;
    for (unsigned i = 0; i < FD_CONS_JOBS && i < c->ndone; i++) {
        const fd_cjob *j = c->done[(c->ndone - 1 - i) % FD_CONS_JOBS];
        if (j->id == id)
            return j;
    }
    return NULL;
}

static void finish(fd_http *h, int state, cJSON *result)
{
    fd_console *c = h->cons;
    fd_cjob *j = c->job, **slot = &c->done[c->ndone % FD_CONS_JOBS];
    j->state = state;
    j->result = result;
    fd_child_free(&j->child);
    if (*slot) {
        char old[PATH_MAX];
        fd_whatif_path(c, (*slot)->id, old, sizeof old);
        remove(old);
        cJSON_Delete((*slot)->result);
        free(*slot);
    }
    *slot = j;
    c->ndone++;
    c->job = NULL;
    fd_log(state == 1 ? FD_INFO : FD_WARN, "console_job", "job=%u kind=%s state=%s who=\"%s\"",
           j->id, j->kind, state == 1 ? "done" : "failed", j->who);
}

static cJSON *message(const char *fmt, const char *s)
{
    char buf[1024];
    cJSON *o = cJSON_CreateObject();
    fd_fmt(buf, sizeof buf, fmt, s);
    cJSON_AddStringToObject(o, "message", buf);
    return o;
}

/* A child that did not end well: why, with the end of what it said. */
static cJSON *child_failure(const fd_child *ch)
{
    char why[128];
    const char *out = ch->out ? ch->out : "";
    size_t n = strlen(out);
    fd_fmt(why, sizeof why, "%s", ch->timed_out ? "killed at console-job-timeout-ms"
             : ch->capped ? "its output passed the cap" : "it failed");
    cJSON *o = message("%s", why);
    cJSON_AddStringToObject(o, "output", out + (n > 2000 ? n - 2000 : 0));
    return o;
}

/* lint's lines "file:line: reason" as {"errors": [{file, line, reason}]}. */
static cJSON *lint_errors(const char *out)
{
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "errors");
    for (const char *l = out; l && *l; l = strchr(l, '\n'), l += l && *l) {
        size_t len = strcspn(l, "\n");
        char buf[2048];
        fd_fmt(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), l);
        char *colon = strchr(buf, ':'), *end;
        if (!colon)
            continue;
        unsigned long ln = strtoul(colon + 1, &end, 10);
        if (end == colon + 1 || strncmp(end, ": ", 2))
            continue;
        *colon = '\0';
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "file", buf);
        cJSON_AddNumberToObject(e, "line", (double)ln);
        cJSON_AddStringToObject(e, "reason", end + 2);
        cJSON_AddItemToArray(a, e);
    }
    return o;
}

static int spawn(fd_http *h, char **argv)
{
    char err[256];
    fd_cjob *j = h->cons->job;
    if (fd_child_start(&j->child, argv, h->cfg->console_job_timeout_ms, err, sizeof err) < 0) {
        finish(h, 2, message("%s", err));
        return -1;
    }
    return 0;
}

static void start_eval(fd_http *h)
{
    fd_console *c = h->cons;
    char base[PATH_MAX + 32], out[PATH_MAX];
    char *argv[8 + 2 * FD_CONF_MAX_CORPORA + 6];
    int n = 0;
    fd_fmt(base, sizeof base, "%s/versions/%d", c->store.state, c->live);
    fd_whatif_path(c, c->job->id, out, sizeof out);
    argv[n++] = c->filterctl;
    argv[n++] = "eval";
    argv[n++] = "--lists";
    argv[n++] = c->store.lists;
    argv[n++] = "--baseline";
    argv[n++] = base;
    if (h->cfg->path[0]) {
        argv[n++] = "--config";
        argv[n++] = (char *)h->cfg->path;
    }
    for (int i = 0; i < h->cfg->ncorpora; i++) {
        argv[n++] = (char *)corpus_flag(h->cfg, i);
        argv[n++] = (char *)h->cfg->console_corpus[i];
    }
    argv[n++] = "--json";
    argv[n++] = "--html";
    argv[n++] = out;
    argv[n] = NULL;
    spawn(h, argv);
}

/* The running job's child is done: its next step. */
static void step(fd_http *h)
{
    fd_console *c = h->cons;
    fd_cjob *j = c->job;
    fd_child *ch = &j->child;
    char err[512];
    if (!strcmp(j->kind, "whatif")) {
        cJSON *r = fd_child_ok(ch) ? cJSON_Parse(ch->out) : NULL;
        if (r)
            cJSON_AddNumberToObject(r, "live", c->live);
        finish(h, r ? 1 : 2, r ? r : child_failure(ch));
        return;
    }
    /* save, restore: lint passed? */
    if (!fd_child_ok(ch)) {
        int refused = !ch->timed_out && !ch->capped && WIFEXITED(ch->status) &&
                      WEXITSTATUS(ch->status) == 1;
        cJSON *e = refused ? lint_errors(ch->out) : NULL;
        if (e && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "errors"))) {
            cJSON_AddNumberToObject(e, "status", 422);
            finish(h, 2, e);
        } else {
            cJSON_Delete(e);
            finish(h, 2, child_failure(ch));
        }
        return;
    }
    int v = fd_store_commit(&c->store, j->who, j->what, err, sizeof err);
    if (v < 0) {
        finish(h, 2, message("%s", err));
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", v);
    finish(h, 1, o);
}

static void reload_done(fd_http *h, cJSON *reply)
{
    fd_console *c = h->cons;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
    if (ok)
        c->live = c->job->step;   /* the newest version when the reload was asked */
    cJSON_AddNumberToObject(reply, "console_version", c->job->step);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "time", when);
    cJSON_AddStringToObject(rec, "who", c->job->who);
    cJSON_AddItemToObject(rec, "result", cJSON_Duplicate(reply, 1));
    cJSON_InsertItemInArray(c->reloads, 0, rec);
    while (cJSON_GetArraySize(c->reloads) > FD_CONS_RELOADS)
        cJSON_DeleteItemFromArray(c->reloads, FD_CONS_RELOADS);
    c->job->sent = 0;
    finish(h, ok ? 1 : 2, reply);
}

int fd_cjob_start(fd_http *h, fd_hreq *r, const char *kind, const char *who, const char *what)
{
    fd_console *c = h->cons;
    char *argv[4];
    fd_cjob *j = calloc(1, sizeof *j);
    if (!j) {
        fd_hreq_error(r, 500, NULL, "internal", "out of memory");
        return 0;
    }
    j->id = ++c->next_id;
    j->kind = kind;
    j->child.fd = -1;
    fd_fmt(j->who, sizeof j->who, "%s", who);
    fd_fmt(j->what, sizeof j->what, "%s", what);
    c->job = j;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "job", j->id);
    fd_hreq_json(r, 202, o);
    fd_log(FD_INFO, "console_job", "job=%u kind=%s state=running who=\"%s\"", j->id, kind, who);
    if (!strcmp(kind, "reload")) {
        j->step = c->store.newest;
        if (fd_admin_ask(h, &c->admin, FW_OP_RELOAD) < 0)
            finish(h, 2, message("%s", "the admin endpoint cannot be reached"));
        else
            j->sent = fd_now_ns();
    } else if (!strcmp(kind, "whatif")) {
        start_eval(h);
    } else {
        argv[0] = c->filterctl, argv[1] = "lint", argv[2] = (char *)fd_store_stage_dir(&c->store);
        argv[3] = NULL;
        spawn(h, argv);
    }
    return 0;
}

void fd_console_poll(fd_http *h)
{
    fd_console *c = h->cons;
    if (!c)
        return;
    if (c->admin)
        admin_poll(h);
    fd_cjob *j = c->job;
    if (j && j->sent && fd_now_ns() - j->sent > (int64_t)h->cfg->console_job_timeout_ms * FD_MS) {
        j->sent = 0;              /* a late reply is then taken for nothing */
        finish(h, 2, message("%s", "no reply from the admin endpoint within "
                             "console-job-timeout-ms"));
    } else if (j && j->child.pid && fd_child_poll(&j->child))
        step(h);
}

int fd_console_pollfds(fd_http *h, struct pollfd *p, int *n, int *wait_ms)
{
    fd_console *c = h->cons;
    int w, fd;
    size_t len = sizeof fd;
    *wait_ms = -1;
    if (!c)
        return 0;
    if (c->job && c->job->child.pid) {
        fd = fd_child_pollfd(&c->job->child, &w);
        if (fd >= 0)
            p[(*n)++] = (struct pollfd){fd, POLLIN, 0};
        *wait_ms = w;
    }
    if (c->admin && zmq_getsockopt(c->admin, ZMQ_FD, &fd, &len) == 0) {
        int ev = 0;
        size_t evlen = sizeof ev;
        p[(*n)++] = (struct pollfd){fd, POLLIN, 0};
        zmq_getsockopt(c->admin, ZMQ_EVENTS, &ev, &evlen);
        if (ev & ZMQ_POLLIN)
            *wait_ms = 0;
        else if (c->workers_sent || (c->job && c->job->sent))
            *wait_ms = *wait_ms < 0 || *wait_ms > 100 ? 100 : *wait_ms;
    }
    return 0;
}
