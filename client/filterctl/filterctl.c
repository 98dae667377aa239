/* filterctl.c -- filterd's command-line tool: main and the table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "engine.h"
#include "settings.h"
#include "wire.h"

#ifndef FILTERD_VERSION
#define FILTERD_VERSION "unknown" /* the Makefile passes the VERSION file's */
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* One row per subcommand: name, entry point, arguments, what it does. */
static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args;
    const char *what;
} commands[] = {
    {"scan", fc_cmd_scan, "[--lists DIR] [--config FILE] [--scene S] < in.jsonl",
     "decide each JSON line {\"id\",\"text\",\"scene\"?} of stdin; one JSON line out each"},
    {"explain", fc_cmd_explain, "[--lists DIR] [--config FILE] [--scene S] TEXT",
     "show a person why TEXT gets its decision"},
    {"lint", fc_cmd_lint, "DIR", "check the word lists in DIR; errors as file:line: reason"},
    {"eval", fc_cmd_eval, "--lists DIR [--baseline DIR] [--clean FILE]... [--labelled FILE]... [--config FILE] [--scene S] [--json] [--html FILE] [--examples N] [--top N]", "measure lists over corpora: flag share, top entries, precision/recall (per action and label), changes from a baseline; --html FILE also writes the report as one page (charts, changed texts highlighted)"},
    {"check", fc_cmd_check, "TEXT | --jsonl [--scene S] [--budget MS] [--timeout MS] [--window N] [--explain] [--endpoint EP]... [--config FILE]", "ask filterd; --jsonl: stdin and output as scan, sent as bulk checks of 32 lines, --window (128) lines in flight"},
    {"ping", fc_cmd_ping, "[--endpoint EP]... [--timeout MS] [--config FILE]", "ask filterd for a pong and its version"},
    {"reload", fc_cmd_reload, "[--admin EP] [--timeout MS] [--config FILE]", "reload the lists and scene policies: old \u2192 new version and the entries added and removed per label, or every file:line: reason (the old version still serves)"},
    {"stats", fc_cmd_admin_json, "[--admin EP] [--timeout MS] [--config FILE]", "filterd's counters and latencies, as JSON"},
    {"workers", fc_cmd_admin_json, "[--admin EP] [--timeout MS] [--config FILE]", "filterd's worker processes, as JSON"},
    {"help", cmd_help, "", "this message"},
    {"version", cmd_version, "", "filterctl's version (also --version)"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

void fc_usage(FILE *f, const char *cmd)
{
    const struct command *c = find(cmd);
    fprintf(f, "usage: filterctl %s %s\n", cmd, c ? c->args : "");
}

static void list_commands(FILE *f)
{
    fprintf(f, "usage: filterctl COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %s%s%s\n      %s\n", commands[i].name, *commands[i].args ? " " : "",
                commands[i].args, commands[i].what);
    fprintf(f, "\nThe configuration is filterd's: --config FILE, else ./" FD_CONF_LOCAL
               " (a source tree),\nelse " FD_CONF_SYSTEM "; '--config \"\"' means the built-in"
               " defaults.\nscan, explain, eval: its lists (--lists overrides them) and scene"
               " policies; --scene\ndefaults to comment. check, ping: its listen endpoints;"
               " reload, stats, workers:\nits admin endpoint (the admin setting, else"
               " ipc://RUN-DIR/admin.sock).\n");
}

static int cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("filterctl %s (%s; protocol %d)\n", FILTERD_VERSION, fe_build_info(), FW_VERSION);
    return FC_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    list_commands(stdout);
    return FC_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        list_commands(stderr);
        return FC_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return cmd_help(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return cmd_version(argc - 1, argv + 1);
    const struct command *c = find(argv[1]);
    if (!c) {
        fprintf(stderr, "filterctl: unknown command '%s'\n", argv[1]);
        list_commands(stderr);
        return FC_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
