/* offline.c -- filterctl reads filterd.conf through the daemon's own settings code,
 * by the daemon's search order: the offline commands load its lists and scene
 * policies from it, and the online ones find the daemon's endpoints in it. */
#include <string.h>

#include "offline.h"

int fc_offline_config(const char *config, const char *lists, fd_config *cfg, fe_errors *err)
{
    const char *path = config && !config[0] ? NULL : fd_conf_find(config);
    if (path) {
        if (fd_conf_load(cfg, path, err) < 0)
            return -1;
    } else
        fd_conf_defaults(cfg);
    if (lists) {
        int n = snprintf(cfg->engine.lists, sizeof cfg->engine.lists, "%s", lists);
        if (n < 0 || (size_t)n >= sizeof cfg->engine.lists) {
            fe_errors_add(err, "--lists: path too long");
            return -1;
        }
    }
    return 0;
}

const char *fc_offline_config_name(const fd_config *cfg, char *buf, size_t size)
{
    if (cfg->path[0])
        snprintf(buf, size, "%s", cfg->path);
    else
        snprintf(buf, size, "none (built-in defaults; no ./" FD_CONF_LOCAL " or "
                 FD_CONF_SYSTEM ", or --config '')");
    return buf;
}

void fc_print_errors(FILE *f, const fe_errors *err)
{
    int kept = 0;
    if (err->text) {
        fputs(err->text, f);
        for (const char *p = err->text; (p = strchr(p, '\n')); p++)
            kept++;
    }
    if (err->count > kept)
        fprintf(f, "... and %d more errors\n", err->count - kept);
}

fe_ruleset *fc_offline_load(const char *config, const char *lists, fd_config *cfg,
                            const char *cmd, FILE *f)
{
    fe_errors err = FE_ERRORS_INIT;
    fe_ruleset *rs = NULL;
    int ok = fc_offline_config(config, lists, cfg, &err) == 0;

    if (ok)
        rs = fe_load(&cfg->engine, &err);
    if (!rs) {
        if (cmd)
            fprintf(f, "filterctl %s: the lists in %s did not load:\n", cmd,
                    ok ? cfg->engine.lists : cfg->path[0] ? cfg->path : "(config)");
        fc_print_errors(f, &err);
    }
    fe_errors_clear(&err);
    return rs;
}

int fc_offline_scene(const char *name, const char *cmd)
{
    if (!name)
        return FE_SCENE_DEFAULT;
    int s = fe_scene_lookup(name);
    if (s < 0) {
        fprintf(stderr, "filterctl %s: unknown scene '%s' (", cmd, name);
        for (int i = 0; i < FE_NSCENES; i++)
            fprintf(stderr, "%s%s", i ? ", " : "", fe_scene_name(i));
        fprintf(stderr, ")\n");
    }
    return s;
}

/* ---- finding the daemon: its endpoints from the same configuration -------- */

/* The configuration filterd reads, or the defaults (no file); -1 after
 * printing why on stderr. */
static int daemon_config(const char *config, const char *cmd, fd_config *cfg)
{
    fe_errors err = FE_ERRORS_INIT;
    const char *path = fd_conf_find(config);
    if (!path) {
        fd_conf_defaults(cfg);
        return 0;
    }
    if (fd_conf_load(cfg, path, &err) == 0)
        return 0;
    fprintf(stderr, "filterctl %s: %s did not load (give --admin/--endpoint, or --config):\n",
            cmd, path);
    fc_print_errors(stderr, &err);
    fe_errors_clear(&err);
    return -1;
}

int fc_config_admin(const char *config, const char *cmd, char *buf, size_t size)
{
    static fd_config cfg;         /* large (paths): not on the stack */
    if (daemon_config(config, cmd, &cfg) < 0)
        return -1;
    fd_conf_admin(&cfg, buf, size);
    return 0;
}

int fc_config_listen(const char *config, const char *cmd, char eps[][FD_CONF_ENDPOINT_LEN],
                     int max)
{
    static fd_config cfg;
    int n = 0;
    if (daemon_config(config, cmd, &cfg) < 0)
        return -1;
    for (int i = 0; i < cfg.nlisten && n < max; i++) {
        const char *ep = cfg.listen[i], *colon = strrchr(ep, ':');
        static const char *const any[] = {"tcp://*:", "tcp://0.0.0.0:", "tcp://[::]:"};
        static const char *const local[] = {"tcp://127.0.0.1:", "tcp://127.0.0.1:",
                                            "tcp://[::1]:"};
        int k = 0;
        while (k < 3 && strncmp(ep, any[k], strlen(any[k])))
            k++;
        if (k < 3)                /* a wildcard binds; a client connects to loopback */
            snprintf(eps[n++], FD_CONF_ENDPOINT_LEN, "%s%s", local[k], colon + 1);
        else
            snprintf(eps[n++], FD_CONF_ENDPOINT_LEN, "%s", ep);
    }
    return n;
}
