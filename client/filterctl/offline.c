/* offline.c -- loading for filterctl's offline commands, through the daemon's own
 * settings code, so that they read filterd.conf exactly as filterd does. */
#include <string.h>

#include "offline.h"

int fc_offline_config(const char *config, const char *lists, fd_config *cfg, fe_errors *err)
{
    if (config) {
        if (fd_conf_load(cfg, config, err) < 0)
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

fe_ruleset *fc_offline_load(const char *config, const char *lists, const char *cmd, FILE *f)
{
    static fd_config cfg;         /* large (paths): not on the stack */
    fe_errors err = FE_ERRORS_INIT;
    fe_ruleset *rs = NULL;
    int ok = fc_offline_config(config, lists, &cfg, &err) == 0;

    if (ok)
        rs = fe_load(&cfg.engine, &err);
    if (!rs) {
        if (cmd)
            fprintf(f, "filterctl %s: the lists in %s did not load:\n", cmd,
                    ok ? cfg.engine.lists : config ? config : "(config)");
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
