/* settings.c -- the settings table of filterd.conf and its parser.
 *
 * Each setting is a row: name, type, bounds, where it lives in fd_config and
 * its default as text. Defaults go through the same parser as the file, so a
 * default can never be something the file could not say; the engine's
 * defaults are the engine's own constants, spelled as text here. */
#define _DEFAULT_SOURCE           /* realpath */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings.h"

enum conf_type { T_INT, T_SIZE, T_BOOL, T_FUZZY, T_STR, T_PATH, T_ACTION, T_ENDPOINTS, T_POLICY,
                 T_VIEW, T_VIEW_ACTION, T_CORPUS };

typedef struct conf_row {
    const char *name;
    enum conf_type type;
    long long min, max;
    size_t off, size;
    const char *def;
} conf_row;

#define F(field) offsetof(fd_config, field), sizeof(((fd_config *)0)->field)
#define STR(x) STR_(x)
#define STR_(x) #x

static const conf_row table[] = {
    {"lists", T_PATH, 0, 0, F(engine.lists), FE_DEFAULT_LISTS},
    {"max-text-bytes", T_SIZE, 16, 16 << 20, F(engine.max_text_bytes), STR(FE_DEFAULT_MAX_TEXT)},
    {"policy", T_POLICY, 0, 0, 0, 0, NULL},
    {"sound-data", T_PATH, 0, 0, F(engine.sound_data), FE_DEFAULT_SOUND_DATA},
    {"sound-fuzzy", T_FUZZY, 0, 0, F(engine.sound_fuzzy), "long"},
    {"shape-data", T_PATH, 0, 0, F(engine.shape_data), FE_DEFAULT_SHAPE_DATA},
    {"view", T_VIEW, 0, 0, 0, 0, NULL},
    {"view-action", T_VIEW_ACTION, 0, 0, 0, 0, "flag"},
    {"listen", T_ENDPOINTS, 0, 0, F(listen), "tcp://127.0.0.1:7700"},
    {"admin", T_STR, 0, 0, F(admin), ""},
    {"admin-group", T_STR, 0, 0, F(admin_group), ""},
    {"run-dir", T_PATH, 0, 0, F(run_dir), "/tmp/filterd"},
    {"cache-dir", T_PATH, 0, 0, F(engine.cache_dir), ""},
    {"cache-keep", T_INT, 1, 1000, F(engine.cache_keep), STR(FE_DEFAULT_CACHE_KEEP)},
    {"user", T_STR, 0, 0, F(user), "nobody"},
    {"workers", T_INT, 0, 256, F(workers), "0"},
    {"budget-ms", T_INT, 1, 60000, F(budget_ms), "50"},
    {"max-budget-ms", T_INT, 1, 600000, F(max_budget_ms), "2000"},
    {"on-deadline", T_ACTION, 0, 0, F(on_deadline), "flag"},
    {"queue-max", T_INT, 1, 1000000, F(queue_max), "10000"},
    {"max-items", T_INT, 1, 10000, F(max_items), "256"},
    {"max-connections", T_INT, 1, 1000000, F(max_connections), "800"},
    {"reply-queue-max", T_INT, 1, 100000, F(reply_queue_max), "1000"},
    {"reply-queue-bytes", T_SIZE, 65536, 1LL << 30, F(reply_queue_bytes), "4194304"},
    {"worker-window", T_INT, 1, 1024, F(worker_window), "32"},
    {"heartbeat-ms", T_INT, 10, 60000, F(heartbeat_ms), "500"},
    {"heartbeat-liveness", T_INT, 2, 100, F(heartbeat_liveness), "4"},
    {"log-text", T_BOOL, 0, 0, F(log_text), "no"},
    {"log-requests", T_BOOL, 0, 0, F(log_requests), "no"},
    {"mode", T_STR, 0, 0, F(mode), "scan"},
    {"http-listen", T_STR, 0, 0, F(http_listen), ""},
    {"http-tokens", T_PATH, 0, 0, F(http_tokens), ""},
    {"http-max-body", T_SIZE, 1024, 64 << 20, F(http_max_body), "1048576"},
    {"http-connections", T_INT, 1, 100000, F(http_connections), "256"},
    {"http-timeout-ms", T_INT, 100, 600000, F(http_timeout_ms), "10000"},
    {"http-idle-ms", T_INT, 100, 3600000, F(http_idle_ms), "30000"},
    {"http-admin-tokens", T_PATH, 0, 0, F(http_admin_tokens), ""},
    {"console-state", T_PATH, 0, 0, F(console_state), "/var/lib/filterd/console"},
    {"console-keep", T_INT, 2, 100000, F(console_keep), "200"},
    {"console-job-timeout-ms", T_INT, 1000, 3600000, F(console_job_timeout_ms), "120000"},
    {"console-corpus", T_CORPUS, 0, 0, 0, 0, NULL},
};

#define NROWS (sizeof table / sizeof table[0])

/* Split s in place into at most max whitespace-separated words. */
static int split(char *s, char **argv, int max)
{
    int n = 0;
    while (*s && n < max) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        argv[n++] = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
    return n;
}

static int parse_int(const char *v, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

/* Relative paths are taken from the config file's folder. */
static int set_path(fd_config *c, char *dst, size_t size, const char *v)
{
    const char *slash = strrchr(c->path, '/');
    int n;
    if (v[0] == '/' || v[0] == '\0' || !c->path[0])
        n = snprintf(dst, size, "%s", v);
    else if (!slash)
        n = snprintf(dst, size, "%s", v);
    else {
        char tmp[PATH_MAX];
        n = snprintf(tmp, sizeof tmp, "%.*s/%s", (int)(slash - c->path), c->path, v);
        if (n >= 0 && (size_t)n < size)
            memcpy(dst, tmp, (size_t)n + 1);
    }
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The labels named by argv[0..argc) into *mask (none: every label). 0 or -1. */
static int label_mask(int argc, char **argv, uint32_t *mask, const char *where, fe_errors *err)
{
    *mask = argc ? 0 : (1u << FE_NLABELS) - 1;
    for (int i = 0; i < argc; i++) {
        int l = fe_label_lookup(argv[i]);
        if (l < 0) {
            fe_errors_add(err, "%s: unknown label '%s'", where, argv[i]);
            return -1;
        }
        *mask |= 1u << l;
    }
    return 0;
}

/* "view VIEW on|off [LABEL...]" and "view-action ACTION|list [LABEL...]". */
static int apply_view(fd_config *c, const conf_row *r, int argc, char **argv,
                      const char *where, fe_errors *err)
{
    uint32_t mask;
    int v = argc ? fe_view_lookup(argv[0]) : -1, on = 0, a = -1;
    if (r->type == T_VIEW) {
        if (argc < 2 || v < FE_NBASE_VIEWS || (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
            fe_errors_add(err, "%s: view needs a disguise view (emoji, phonetic, initials, "
                          "leet), on or off, and optionally labels", where);
            return -1;
        }
        on = !strcmp(argv[1], "on");
    } else if (argc < 1 || (strcmp(argv[0], "list") && (a = fe_action_lookup(argv[0])) < 0)) {
        fe_errors_add(err, "%s: view-action needs block, flag, allow or list, and optionally "
                      "labels", where);
        return -1;
    }
    int skip = r->type == T_VIEW ? 2 : 1;
    if (label_mask(argc - skip, argv + skip, &mask, where, err) < 0)
        return -1;
    for (int l = 0; l < FE_NLABELS; l++) {
        if (!(mask & (1u << l)))
            continue;
        if (r->type == T_VIEW_ACTION)
            c->engine.view_action[l] = (signed char)a;
        else if (on)
            c->engine.views_off[l] &= (uint8_t)~FE_VIEW_BIT(v);
        else
            c->engine.views_off[l] |= (uint8_t)FE_VIEW_BIT(v);
    }
    return 0;
}

static int apply(fd_config *c, const conf_row *r, int argc, char **argv,
                 const char *where, fe_errors *err)
{
    char *field = (char *)c + r->off;
    long long x;

    if (r->type == T_VIEW || r->type == T_VIEW_ACTION)
        return apply_view(c, r, argc, argv, where, err);
    if (r->type == T_POLICY) {
        if (argc != 3) {
            fe_errors_add(err, "%s: policy needs SCENE LABEL ACTION", where);
            return -1;
        }
        int s = fe_scene_lookup(argv[0]), l = fe_label_lookup(argv[1]);
        int a = fe_action_lookup(argv[2]);
        if (s < 0 || l < 0 || a < 0) {
            fe_errors_add(err, "%s: policy: unknown %s '%s'", where,
                          s < 0 ? "scene" : l < 0 ? "label" : "action",
                          s < 0 ? argv[0] : l < 0 ? argv[1] : argv[2]);
            return -1;
        }
        c->engine.policy[s][l] = (signed char)a;
        return 0;
    }
    if (r->type == T_CORPUS) {
        if (argc != 2 || (strcmp(argv[0], "clean") && strcmp(argv[0], "labelled"))) {
            fe_errors_add(err, "%s: console-corpus needs clean or labelled, and a file", where);
            return -1;
        }
        if (c->ncorpora == FD_CONF_MAX_CORPORA) {
            fe_errors_add(err, "%s: console-corpus: at most %d", where, FD_CONF_MAX_CORPORA);
            return -1;
        }
        if (set_path(c, c->console_corpus[c->ncorpora], PATH_MAX, argv[1]) < 0) {
            fe_errors_add(err, "%s: console-corpus: path too long", where);
            return -1;
        }
        c->console_labelled[c->ncorpora++] = argv[0][0] == 'l';
        return 0;
    }
    if (r->type == T_ENDPOINTS) {
        if (argc < 1 || argc > FD_CONF_MAX_ENDPOINTS) {
            fe_errors_add(err, "%s: listen needs 1 to %d endpoints", where,
                          FD_CONF_MAX_ENDPOINTS);
            return -1;
        }
        for (int i = 0; i < argc; i++) {
            if (strlen(argv[i]) >= FD_CONF_ENDPOINT_LEN || !strstr(argv[i], "://")) {
                fe_errors_add(err, "%s: listen: bad endpoint '%s'", where, argv[i]);
                return -1;
            }
            strcpy(c->listen[i], argv[i]);
        }
        c->nlisten = argc;
        return 0;
    }
    if (argc > 1 || (argc == 0 && r->type != T_STR && r->type != T_PATH)) {
        fe_errors_add(err, "%s: %s takes one value", where, r->name);
        return -1;
    }
    const char *v = argc && strcmp(argv[0], "\"\"") ? argv[0] : "";   /* "" written out: empty */
    switch (r->type) {
    case T_INT:
        if (parse_int(v, r->min, r->max, &x) < 0)
            goto range;
        *(int *)field = (int)x;
        return 0;
    case T_SIZE:
        if (parse_int(v, r->min, r->max, &x) < 0)
            goto range;
        *(size_t *)field = (size_t)x;
        return 0;
    case T_FUZZY:   /* no, yes (every entry) or long (entries of 3+ characters) */
        if (!strcmp(v, "long")) {
            *(int *)field = FE_FUZZY_LONG;
            return 0;
        }
        if (strcmp(v, "yes") && strcmp(v, "on") && strcmp(v, "no") && strcmp(v, "off")) {
            fe_errors_add(err, "%s: %s: expected yes, long or no, got '%s'", where, r->name, v);
            return -1;
        }
        *(int *)field = strcmp(v, "yes") && strcmp(v, "on") ? FE_FUZZY_OFF : FE_FUZZY_ALL;
        return 0;
    case T_BOOL:
        if (!strcmp(v, "yes") || !strcmp(v, "on"))
            *(int *)field = 1;
        else if (!strcmp(v, "no") || !strcmp(v, "off"))
            *(int *)field = 0;
        else {
            fe_errors_add(err, "%s: %s: expected yes or no, got '%s'", where, r->name, v);
            return -1;
        }
        return 0;
    case T_ACTION:
        if ((x = fe_action_lookup(v)) < 0) {
            fe_errors_add(err, "%s: %s: unknown action '%s' (block, flag or allow)",
                          where, r->name, v);
            return -1;
        }
        *(int *)field = (int)x;
        return 0;
    case T_STR:
        if (strlen(v) >= r->size) {
            fe_errors_add(err, "%s: %s: value too long", where, r->name);
            return -1;
        }
        strcpy(field, v);
        return 0;
    case T_PATH:
        if (set_path(c, field, r->size, v) < 0) {
            fe_errors_add(err, "%s: %s: path too long", where, r->name);
            return -1;
        }
        return 0;
    default:
        return -1;
    }
range:
    fe_errors_add(err, "%s: %s: '%s' is not a number in [%lld, %lld]", where,
                  r->name, v, r->min, r->max);
    return -1;
}

int fd_conf_set(fd_config *c, const char *line, const char *where, fe_errors *err)
{
    char buf[4096], *argv[FD_CONF_MAX_ENDPOINTS + FE_NLABELS + 2];
    if (strlen(line) >= sizeof buf) {
        fe_errors_add(err, "%s: line too long", where);
        return -1;
    }
    strcpy(buf, line);
    int argc = split(buf, argv, (int)(sizeof argv / sizeof argv[0]));
    if (!argc || argv[0][0] == '#')
        return 0;
    for (size_t i = 0; i < NROWS; i++)
        if (!strcmp(table[i].name, argv[0]))
            return apply(c, &table[i], argc - 1, argv + 1, where, err);
    fe_errors_add(err, "%s: unknown setting '%s'", where, argv[0]);
    return -1;
}

void fd_conf_defaults(fd_config *c)
{
    char line[512];
    fe_errors err = FE_ERRORS_INIT;

    memset(c, 0, sizeof *c);
    fe_options_init(&c->engine);
    for (size_t i = 0; i < NROWS; i++) {
        if (!table[i].def)
            continue;
        snprintf(line, sizeof line, "%s %s", table[i].name, table[i].def);
        fd_conf_set(c, line, "default", &err);
    }
    fe_errors_clear(&err);  /* the defaults are checked by the unit tests */
}

int fd_conf_load(fd_config *c, const char *path, fe_errors *err)
{
    char line[4096], where[PATH_MAX + 32];
    int before = err->count;

    fd_conf_defaults(c);
    if (strlen(path) >= sizeof c->path) {
        fe_errors_add(err, "%s: path too long", path);
        return -1;
    }
    strcpy(c->path, path);
    FILE *f = fopen(path, "r");
    if (!f) {
        fe_errors_add(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (unsigned ln = 1; fgets(line, sizeof line, f); ln++) {
        snprintf(where, sizeof where, "%s:%u", path, ln);
        if (!strchr(line, '\n') && !feof(f)) {
            fe_errors_add(err, "%s: line too long", where);
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        fd_conf_set(c, line, where, err);
    }
    fclose(f);
    return err->count > before ? -1 : 0;
}

const char *fd_conf_find(const char *given)
{
    static char local[PATH_MAX];
    if (given)
        return given;
    if (access(FD_CONF_LOCAL, F_OK) == 0)
        return realpath(FD_CONF_LOCAL, local) ? local : FD_CONF_LOCAL;
    if (access(FD_CONF_SYSTEM, F_OK) == 0)
        return FD_CONF_SYSTEM;
    return NULL;
}

void fd_conf_admin(const fd_config *c, char *buf, size_t size)
{
    if (c->admin[0])
        snprintf(buf, size, "%s", c->admin);
    else
        snprintf(buf, size, "ipc://%s/admin.sock", c->run_dir);
}
