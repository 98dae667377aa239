/* fuzz_config.c -- libFuzzer harness: filterd.conf's parser (fd_conf_load, fd_conf_set).
 *
 * An odd first byte: the input is written to a file (in /dev/shm, for
 * speed) and loaded as the configuration, the way filterd and filterctl read
 * it. An even one: each line is applied as a command-line override, which is
 * the same parser without the file (and ten times the executions). Whatever
 * is accepted must be inside the table's bounds, and every string field must
 * stay NUL-terminated. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "%s/fuzz_config.%ld.conf",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
    atexit(remove_file);
    return 0;
}

static void check_terminated(const char *s, size_t size)
{
    if (!memchr(s, '\0', size))
        abort();
}

static void check(const fd_config *c)
{
    check_terminated(c->engine.lists, sizeof c->engine.lists);
    check_terminated(c->engine.cache_dir, sizeof c->engine.cache_dir);
    check_terminated(c->run_dir, sizeof c->run_dir);
    check_terminated(c->admin, sizeof c->admin);
    check_terminated(c->user, sizeof c->user);
    check_terminated(c->mode, sizeof c->mode);
    if (c->nlisten < 1 || c->nlisten > FD_CONF_MAX_ENDPOINTS)
        abort();
    for (int i = 0; i < c->nlisten; i++)
        if (!memchr(c->listen[i], '\0', FD_CONF_ENDPOINT_LEN) || !strstr(c->listen[i], "://"))
            abort();
    if (c->workers < 0 || c->workers > 256 || c->budget_ms < 1 || c->max_budget_ms < 1 ||
        c->queue_max < 1 || c->heartbeat_ms < 10 || c->heartbeat_liveness < 2 ||
        c->engine.max_text_bytes < 16 || c->engine.max_text_bytes > (16u << 20) ||
        c->on_deadline < FE_ALLOW || c->on_deadline > FE_BLOCK || c->engine.cache_keep < 1 ||
        c->engine.cache_keep > 1000)
        abort();
    for (int s = 0; s < FE_NSCENES; s++)
        for (int l = 0; l < FE_NLABELS; l++)
            if (c->engine.policy[s][l] < -1 || c->engine.policy[s][l] > FE_BLOCK)
                abort();
}

static void load_file(const uint8_t *data, size_t size, fd_config *c, fe_errors *err)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    int rc = fd_conf_load(c, path, err);
    if ((rc < 0) != (err->count > 0))
        abort();
}

static void set_lines(const uint8_t *data, size_t size, fd_config *c, fe_errors *err)
{
    char line[4200];
    fd_conf_defaults(c);
    snprintf(c->path, sizeof c->path, "/etc/filterd/filterd.conf");
    for (size_t i = 0; i < size;) {
        size_t n = 0;
        while (i + n < size && data[i + n] != '\n' && n < sizeof line - 1)
            n++;
        memcpy(line, data + i, n);
        line[n] = '\0';
        int before = err->count;
        if ((fd_conf_set(c, line, "override", err) < 0) != (err->count > before))
            abort();
        i += n + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fd_config c;
    fe_errors err = FE_ERRORS_INIT;

    if (size < 1)
        return 0;
    if (data[0] & 1)
        load_file(data + 1, size - 1, &c, &err);
    else
        set_lines(data + 1, size - 1, &c, &err);
    check(&c);
    fe_errors_clear(&err);
    return 0;
}
