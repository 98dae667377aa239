/* cmd_online.c -- filterctl through a running filterd: check, ping, reload, stats, workers.
 *
 * check TEXT asks once and prints one decision object; check --jsonl reads
 * JSON Lines like scan and prints the same objects (plus "degraded" when the
 * daemon, or the client's fallback, says so), in input order: lines are read
 * in chunks of CHUNK_LINES and each chunk goes out as bulk checks of up to
 * FC_BULK_ITEMS lines (fc_check_many), with up to --window lines (default
 * FC_WINDOW) in flight on one DEALER. Without --endpoint or --admin, the
 * endpoints are those of the configuration filterd reads (--config, else the
 * same search as filterd's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliopt.h"
#include "commands.h"
#include "fclient.h"
#include "jsonl.h"
#include "offline.h"
#include "taxonomy.h"

#define RELOAD_TIMEOUT_MS 120000 /* msecs: default wait for a reload (it compiles) */
#define CHUNK_LINES 4096      /* JSON lines read, sent and printed together */
#define LINE_OUT (64u << 10)  /* a result line up to this prints without malloc, bytes */
#define ERR_LEN 512

typedef struct opts {
    const char *eps[FC_MAX_ENDPOINTS];
    int neps;
    const char *admin, *scene, *text, *config;
    int budget_ms, timeout_ms, window, jsonl, explain;
    char found_admin[FD_CONF_ENDPOINT_LEN + 32];         /* from the configuration */
    char found_eps[FC_MAX_ENDPOINTS][FD_CONF_ENDPOINT_LEN];
} opts;

static int to_int(const char *s, int *out)
{
    long v;
    if (fc_opt_long(s, 0, 3600000, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* Returns 0, 1 for --help, -1 after a message. */
static int parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL, *num = NULL;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return 1;
        if (!strcmp(a, "--jsonl")) {
            o->jsonl = 1;
            continue;
        }
        if (!strcmp(a, "--explain")) {
            o->explain = 1;
            continue;
        }
        if ((r = fc_opt_value(argc, argv, &i, "--endpoint", &v)) > 0) {
            if (o->neps == FC_MAX_ENDPOINTS) {
                fprintf(stderr, "filterctl %s: at most %d endpoints\n", argv[0], FC_MAX_ENDPOINTS);
                return -1;
            }
            o->eps[o->neps++] = v;
        } else if (r == 0 && (r = fc_opt_value(argc, argv, &i, "--admin", &o->admin)) > 0) {
        } else if (r == 0 && (r = fc_opt_value(argc, argv, &i, "--config", &o->config)) > 0) {
        } else if (r == 0 && (r = fc_opt_value(argc, argv, &i, "--scene", &o->scene)) > 0) {
        } else if (r == 0 && (r = fc_opt_value(argc, argv, &i, "--budget", &num)) > 0) {
            if (to_int(num, &o->budget_ms) < 0)
                goto badnum;
        } else if (r == 0 && (r = fc_opt_value(argc, argv, &i, "--timeout", &num)) > 0) {
            if (to_int(num, &o->timeout_ms) < 0)
                goto badnum;
        } else if (r == 0 && (r = fc_opt_value(argc, argv, &i, "--window", &num)) > 0) {
            if (to_int(num, &o->window) < 0)
                goto badnum;
        } else if (r < 0) {
            fprintf(stderr, "filterctl %s: %s needs a value\n", argv[0], a);
            return -1;
        } else if ((a[0] != '-' || !a[1]) && !o->text) {
            o->text = a;
        } else {
            fprintf(stderr, "filterctl %s: unexpected '%s'\n", argv[0], a);
            return -1;
        }
        continue;
badnum:
        fprintf(stderr, "filterctl %s: %s: '%s' is not a number of msecs\n", argv[0], a, num);
        return -1;
    }
    return 0;
}

/* The endpoint cmd needs, when not given on the command line, from the
 * configuration: the admin one for reload, stats and workers, the request
 * ones for check and ping. */
static int find_daemon(opts *o, const char *cmd)
{
    int admin_cmd = strcmp(cmd, "check") && strcmp(cmd, "ping");
    if (admin_cmd && !o->admin) {
        if (fc_config_admin(o->config, cmd, o->found_admin, sizeof o->found_admin) < 0)
            return -1;
        o->admin = o->found_admin;
    }
    if (!admin_cmd && !o->neps) {
        int n = fc_config_listen(o->config, cmd, o->found_eps, FC_MAX_ENDPOINTS);
        if (n < 0)
            return -1;
        for (int i = 0; i < n; i++)
            o->eps[o->neps++] = o->found_eps[i];
    }
    return 0;
}

/* Parse argv for cmd; on --help or an error print the usage. -1: return *rc. */
static int start(int argc, char **argv, opts *o, int *rc)
{
    int r = parse_opts(argc, argv, o);
    if (r == 0 && find_daemon(o, argv[0]) < 0) {
        *rc = FC_EXIT_USAGE;
        return -1;
    }
    if (r == 0)
        return 0;
    fc_usage(r > 0 ? stdout : stderr, argv[0]);
    *rc = r > 0 ? FC_EXIT_OK : FC_EXIT_USAGE;
    return -1;
}

static fc_client *connect_opts(const opts *o, const char *cmd)
{
    char err[ERR_LEN];
    fc_options fo = {.timeout_ms = o->timeout_ms, .explain = o->explain};
    fc_client *c = fc_connect(o->eps, o->neps, &fo, err, sizeof err);
    if (!c)
        fprintf(stderr, "filterctl %s: %s\n", cmd, err);
    return c;
}

static int print_json(cJSON *o, int pretty)
{
    char *s = o ? (pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o)) : NULL;
    int rc = s && puts(s) != EOF ? 0 : -1;
    free(s);
    return rc;
}

/* ---- check ---- */

static int check_one(const opts *o)
{
    char err[ERR_LEN];
    fc_result r;
    fc_client *c = connect_opts(o, "check");
    if (!c)
        return FC_EXIT_FAIL;
    int rc = fc_check(c, o->text, strlen(o->text), o->scene, o->budget_ms, &r, err, sizeof err);
    if (rc < 0 && !r.error)
        fprintf(stderr, "filterctl check: %s\n", err);
    cJSON *j = rc == 0 || r.error ? fw_reply_json(&r, NULL, 0) : NULL;
    if (j && print_json(j, 0) < 0)
        rc = -1;
    cJSON_Delete(j);
    fc_result_free(&r);
    fc_close(c);
    return rc < 0 ? FC_EXIT_FAIL : FC_EXIT_OK;
}

static size_t chomp(char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    s[n] = '\0';
    return n;
}

/* One chunk of lines: parse, send the good ones, print every answer in order. */
static int check_chunk(fc_client *c, const opts *o, int scene, char **lines, size_t *lens,
                       size_t n, char *obuf)
{
    char err[ERR_LEN];
    fc_request *rq = calloc(n, sizeof *rq);
    cJSON **bad = calloc(n, sizeof *bad);
    fc_query *q = calloc(n, sizeof *q);
    fc_result *res = calloc(n, sizeof *res);
    size_t *slot = calloc(n, sizeof *slot), nq = 0;
    int rc = rq && bad && q && res && slot ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (fc_request_parse(lines[i], lens[i], scene, &rq[i], err, sizeof err) < 0) {
            if (!(bad[i] = fw_error_json(rq[i].id, err)))
                rc = -1;
            continue;
        }
        q[nq] = (fc_query){rq[i].text, rq[i].len,
                           rq[i].scene >= 0 ? fe_scene_name(rq[i].scene) : NULL, o->budget_ms};
        slot[i] = nq++;
    }
    if (rc == 0 && fc_check_many(c, q, nq, o->window, res, err, sizeof err) < 0) {
        fprintf(stderr, "filterctl check: %s\n", err);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cJSON *j = bad[i] ? bad[i] : fw_reply_json(&res[slot[i]], rq[i].id, 1);
        bad[i] = NULL;
        rc = j ? fc_json_print_line(stdout, j, obuf, LINE_OUT) : -1;
        cJSON_Delete(j);
    }
    for (size_t i = 0; i < n; i++) {
        if (rq)
            fc_request_free(&rq[i]);
        if (bad)
            cJSON_Delete(bad[i]);
    }
    for (size_t i = 0; res && i < nq; i++)
        fc_result_free(&res[i]);
    free(rq), free(bad), free(q), free(res), free(slot);
    return rc;
}

static int check_jsonl(const opts *o)
{
    char **lines = calloc(CHUNK_LINES, sizeof *lines), *obuf = malloc(LINE_OUT);
    size_t *lens = calloc(CHUNK_LINES, sizeof *lens), caps[CHUNK_LINES] = {0}, n = 0;
    int scene = -1, rc = lines && lens && obuf ? 0 : -1;
    ssize_t got = 0;
    fc_client *c = NULL;

    if (o->scene && (scene = fe_scene_lookup(o->scene)) < 0) {
        fprintf(stderr, "filterctl check: unknown scene '%s'\n", o->scene);
        rc = -2;
    } else if (rc == 0 && !(c = connect_opts(o, "check")))
        rc = -1;
    while (rc == 0 && got >= 0) {
        if ((got = getline(&lines[n], &caps[n], stdin)) >= 0)
            lens[n] = chomp(lines[n], (size_t)got), n++;
        if (n && (n == CHUNK_LINES || got < 0)) {
            rc = check_chunk(c, o, scene, lines, lens, n, obuf);
            n = 0;
        }
    }
    if (rc == 0 && (ferror(stdin) || fflush(stdout) == EOF)) {
        perror("filterctl check");
        rc = -1;
    }
    for (size_t i = 0; lines && i < CHUNK_LINES; i++)
        free(lines[i]);
    free(lines), free(lens), free(obuf);
    fc_close(c);
    return rc == -2 ? FC_EXIT_USAGE : rc < 0 ? FC_EXIT_FAIL : FC_EXIT_OK;
}

int fc_cmd_check(int argc, char **argv)
{
    opts o;
    int rc;

    if (start(argc, argv, &o, &rc) < 0)
        return rc;
    if (o.jsonl == !!o.text) {
        fprintf(stderr, "filterctl check: give TEXT or --jsonl\n");
        fc_usage(stderr, "check");
        return FC_EXIT_USAGE;
    }
    return o.jsonl ? check_jsonl(&o) : check_one(&o);
}

/* ---- ping ---- */

int fc_cmd_ping(int argc, char **argv)
{
    char err[ERR_LEN], version[128];
    opts o;
    int rc;

    if (start(argc, argv, &o, &rc) < 0)
        return rc;
    int up = 0;                   /* fail at once when nothing listens anywhere */
    for (int i = 0; i < o.neps && !up; i++)
        up = fc_probe(o.eps[i], FC_PROBE_MS, err, sizeof err) == 0;
    if (!up) {
        fprintf(stderr, "filterctl ping: %s\n", err);
        return FC_EXIT_FAIL;
    }
    fc_client *c = connect_opts(&o, "ping");
    if (!c)
        return FC_EXIT_FAIL;
    rc = fc_ping(c, version, sizeof version, err, sizeof err);
    if (rc == 0)
        printf("pong %s\n", version);
    else
        fprintf(stderr, "filterctl ping: %s\n", err);
    fc_close(c);
    return rc < 0 ? FC_EXIT_FAIL : FC_EXIT_OK;
}

/* ---- admin ---- */

static cJSON *admin(int argc, char **argv, int *rc)
{
    char err[ERR_LEN];
    opts o;

    if (start(argc, argv, &o, rc) < 0)
        return NULL;
    int timeout = o.timeout_ms ? o.timeout_ms : !strcmp(argv[0], "reload") ? RELOAD_TIMEOUT_MS : 0;
    cJSON *j = fc_admin(o.admin, argv[0], timeout, err, sizeof err);
    if (!j) {
        fprintf(stderr, "filterctl %s: %s\n", argv[0], err);
        *rc = FC_EXIT_FAIL;
    }
    return j;
}

/* A reply's error, if it has one: "code: message" printed, -1. */
static int admin_error(const cJSON *j, const char *cmd)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (!cJSON_IsObject(e))
        return 0;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    fprintf(stderr, "filterctl %s: %s: %s\n", cmd,
            cJSON_IsString(code) ? code->valuestring : "error",
            cJSON_IsString(msg) ? msg->valuestring : "");
    return -1;
}

static const char *jstring(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(x) ? x->valuestring : "?";
}

static long jcount(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? (long)x->valuedouble : 0;
}

/* "wl-old → wl-new: N entries", then one line per label that changed:
 * "  porn         +2  −1" (allow-list entries as "allow"). */
static void print_reloaded(const cJSON *j)
{
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(j, "added");
    const cJSON *del = cJSON_GetObjectItemCaseSensitive(j, "removed");
    long na = 0, nd = 0;
    printf("%s \u2192 %s", jstring(j, "previous"), jstring(j, "version"));
    if (!cJSON_IsObject(add) || !cJSON_IsObject(del)) {
        putchar('\n');           /* a daemon that does not count entries */
        return;
    }
    for (int l = 0; l <= FE_NLABELS; l++) {
        const char *name = l < FE_NLABELS ? fe_label_name(l) : "allow";
        na += jcount(add, name), nd += jcount(del, name);
    }
    printf(": %ld entries", jcount(j, "entries"));
    if (!na && !nd)
        printf(", none added or removed%s\n", strcmp(jstring(j, "previous"),
               jstring(j, "version")) ? "" : " (the same lists; scene policies re-read)");
    else
        printf(" (+%ld \u2212%ld)\n", na, nd);
    for (int l = 0; l <= FE_NLABELS; l++) {
        const char *name = l < FE_NLABELS ? fe_label_name(l) : "allow";
        long a = jcount(add, name), d = jcount(del, name);
        if (a && d)
            printf("  %-12s +%-6ld \u2212%ld\n", name, a, d);
        else if (a || d)
            printf("  %-12s %s%ld\n", name, a ? "+" : "\u2212", a ? a : d);
    }
}

int fc_cmd_reload(int argc, char **argv)
{
    int rc = FC_EXIT_OK, n = 0;
    cJSON *j = admin(argc, argv, &rc), *x;
    if (!j)
        return rc;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
        print_reloaded(j);
    } else {
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "errors"))
            if (cJSON_IsString(x) && ++n)
                printf("%s\n", x->valuestring);
        if (n)
            fprintf(stderr, "filterctl reload: failed with %d error%s\n", n, n == 1 ? "" : "s");
        else if (admin_error(j, argv[0]) == 0)
            fprintf(stderr, "filterctl reload: refused\n");
        fprintf(stderr, "filterctl reload: still serving %s\n", jstring(j, "version"));
        rc = FC_EXIT_FAIL;
    }
    cJSON_Delete(j);
    return rc;
}

/* stats and workers: the reply as JSON. */
int fc_cmd_admin_json(int argc, char **argv)
{
    int rc = FC_EXIT_OK;
    cJSON *j = admin(argc, argv, &rc);
    if (!j)
        return rc;
    if (print_json(j, 1) < 0 || admin_error(j, argv[0]) < 0)
        rc = FC_EXIT_FAIL;
    cJSON_Delete(j);
    return rc;
}
