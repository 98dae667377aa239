/* settings.c -- the settings table of filterd.conf and its parser.
 *
 * Each setting is a row: name, type, bounds, where it lives in fd_config and
 * its default as text. Defaults go through the same parser as the file, so a
 * default can never be something the file could not say; the engine's
 * defaults are the engine's own constants, spelled as text here. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

enum conf_type { T_INT, T_SIZE, T_BOOL, T_STR, T_PATH, T_ACTION, T_ENDPOINTS, T_POLICY };

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
    {"listen", T_ENDPOINTS, 0, 0, F(listen), "tcp://127.0.0.1:7700"},
    {"admin", T_STR, 0, 0, F(admin), ""},
    {"run-dir", T_PATH, 0, 0, F(run_dir), "/tmp/filterd"},
    {"cache-dir", T_PATH, 0, 0, F(engine.cache_dir), ""},
    {"cache-keep", T_INT, 1, 1000, F(engine.cache_keep), STR(FE_DEFAULT_CACHE_KEEP)},
    {"user", T_STR, 0, 0, F(user), "nobody"},
    {"workers", T_INT, 0, 256, F(workers), "0"},
    {"budget-ms", T_INT, 1, 60000, F(budget_ms), "50"},
    {"max-budget-ms", T_INT, 1, 600000, F(max_budget_ms), "2000"},
    {"on-deadline", T_ACTION, 0, 0, F(on_deadline), "flag"},
    {"queue-max", T_INT, 1, 1000000, F(queue_max), "10000"},
    {"heartbeat-ms", T_INT, 10, 60000, F(heartbeat_ms), "500"},
    {"heartbeat-liveness", T_INT, 2, 100, F(heartbeat_liveness), "4"},
    {"log-text", T_BOOL, 0, 0, F(log_text), "no"},
    {"log-requests", T_BOOL, 0, 0, F(log_requests), "no"},
    {"mode", T_STR, 0, 0, F(mode), "scan"},
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

static int apply(fd_config *c, const conf_row *r, int argc, char **argv,
                 const char *where, fe_errors *err)
{
    char *field = (char *)c + r->off;
    long long x;

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
    const char *v = argc ? argv[0] : "";
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
    char buf[4096], *argv[FD_CONF_MAX_ENDPOINTS + 2];
    if (strlen(line) >= sizeof buf) {
        fe_errors_add(err, "%s: line too long", where);
        return -1;
    }
    strcpy(buf, line);
    int argc = split(buf, argv, FD_CONF_MAX_ENDPOINTS + 2);
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
