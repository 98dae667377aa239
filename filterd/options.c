/* options.c -- filterd's command line: options, and the configuration it names.
 *
 * The command line names the configuration file and may override any of its
 * settings (--workers, --listen, ..., --set 'LINE'); the overrides are kept
 * as configuration lines and applied after the file, at start and at every
 * reload, so that both read the same configuration. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: filterd [--config FILE] [--check-config] [--foreground] [--echo]\n"
               "               [--workers N] [--listen EP]... [--admin EP] [--run-dir DIR]\n"
               "               [--set 'SETTING VALUE']... | --version | --help\n"
               "  --config FILE     configuration (default: ./" FD_CONF_LOCAL " in a source\n"
               "                    tree, else " FD_CONF_SYSTEM ")\n"
               "  --check-config    check the configuration and load the lists, then exit\n"
               "  --foreground      stay in the foreground (the default; logs go to stderr)\n"
               "  --echo            answer allow without scanning (benchmark baseline)\n"
               "  --workers N       worker processes (0: one per core)\n"
               "  --listen EP       request endpoint; repeat for several\n"
               "  --admin EP        admin endpoint (default ipc://RUN_DIR/admin.sock)\n"
               "  --run-dir DIR     sockets, pid and ready files\n"
               "  --set LINE        any configuration line, after the file\n"
               "  --version         the version of filterd and of what it is built with\n");
}

static void version(void)
{
    printf("filterd %s (%s; protocol %d)\n", FILTERD_VERSION, fe_build_info(), FW_VERSION);
}

static int add_override(fd_opts *o, const char *fmt, const char *v)
{
    if (o->nover == FD_MAX_OVERRIDES)
        return -1;
    snprintf(o->over[o->nover++], sizeof o->over[0], fmt, v);
    return 0;
}

/* Relative paths on the command line are taken from the current folder
 * (one that would not fit is left as given, and the config refuses it). */
static const char *absolute(const char *p, char *buf, size_t size)
{
    char cwd[PATH_MAX];
    if (p[0] == '/' || !getcwd(cwd, sizeof cwd))
        return p;
    size_t c = strlen(cwd), n = strlen(p);
    if (c + 1 + n >= size)
        return p;
    memcpy(buf, cwd, c);
    buf[c] = '/';
    memcpy(buf + c + 1, p, n + 1);
    return buf;
}

int fd_opts_parse(fd_opts *o, int argc, char **argv)
{
    char listen[sizeof o->over[0]] = "listen", path[sizeof o->over[0] - 16];
    const char *badarg = "";
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        badarg = a;
        if (!strcmp(a, "--check-config") || !strcmp(a, "-n") || !strcmp(a, "-t"))
            o->check = 1, takes = 0;
        else if (!strcmp(a, "--foreground") || !strcmp(a, "-f"))
            takes = 0;
        else if (!strcmp(a, "--echo"))
            takes = 0, add_override(o, "%s", "mode echo");
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            version();
            exit(0);
        } else if (!v)
            goto bad;
        else if (!strcmp(a, "--config") || !strcmp(a, "-c"))
            snprintf(o->conf, sizeof o->conf, "%s", v);
        else if (!strcmp(a, "--workers"))
            add_override(o, "workers %s", v);
        else if (!strcmp(a, "--listen")) {
            size_t len = strlen(listen);
            snprintf(listen + len, sizeof listen - len, " %s", v);
        } else if (!strcmp(a, "--admin"))
            add_override(o, "admin %s", v);
        else if (!strcmp(a, "--run-dir"))
            add_override(o, "run-dir %s", absolute(v, path, sizeof path));
        else if (!strcmp(a, "--set"))
            add_override(o, "%s", v);
        else
            goto bad;
        i += takes;
    }
    if (strcmp(listen, "listen"))
        add_override(o, "%s", listen);
    if (o->conf[0])
        return 0;
    const char *conf = fd_conf_find(NULL);
    if (!conf) {
        fprintf(stderr, "filterd: no configuration: neither ./" FD_CONF_LOCAL " nor "
                FD_CONF_SYSTEM " exists (give --config FILE)\n");
        return -1;
    }
    snprintf(o->conf, sizeof o->conf, "%s", conf);
    return 0;
bad:
    fprintf(stderr, "filterd: bad option or missing value: '%s'\n", badarg);
    usage(stderr);
    return -1;
}

int fd_opts_config(const fd_opts *o, fd_config *c, fe_errors *err)
{
    if (fd_conf_load(c, o->conf, err) < 0)
        return -1;
    for (int i = 0; i < o->nover; i++)
        if (fd_conf_set(c, o->over[i], "command line", err) < 0)
            return -1;
    return 0;
}
