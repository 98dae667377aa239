/* cache.c -- the compiled-database cache on disk.
 *
 * <cache-dir>/<key>.fdb holds the serialised databases and the per-entry
 * rules of one compile. The key hashes the lists' content, the engine build,
 * the Hyperscan and ICU versions and the CPU platform Hyperscan tuned for, so
 * a hit is always a database this process could have compiled itself. Files
 * are written to a temporary name and renamed: readers never see half a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unicode/uversion.h>

#include "ruleset.h"

#define CACHE_MAGIC "FDB3"   /* 3: rules per pattern (issue 9) */

uint64_t fe_content_hash(const fe_ruleset *rs)
{
    uint64_t h = fe_hash(rs->wl.hash, FE_ENGINE_BUILD, strlen(FE_ENGINE_BUILD));
    h = fe_hash(h, &rs->opt_hash, sizeof rs->opt_hash);
    h = fe_hash(h, hs_version(), strlen(hs_version()));
    return fe_hash(h, U_ICU_VERSION, strlen(U_ICU_VERSION));
}

static void cache_path(const fe_ruleset *rs, const char *dir, char *buf, size_t n)
{
    hs_platform_info_t plat = {0};
    hs_populate_platform(&plat);
    uint64_t h = fe_hash(fe_content_hash(rs), &plat, sizeof plat);
    h = fe_hash(h, &rs->wl.n, sizeof rs->wl.n);
    snprintf(buf, n, "%s/%016llx.fdb", dir, (unsigned long long)h);
}

int fe_cache_read(fe_ruleset *rs, const char *dir)
{
    char path[PATH_MAX + 64];
    cache_path(rs, dir, path, sizeof path);
    FILE *f = fopen(path, "rb");
    char magic[4];
    uint64_t n, size;
    int ok = 0;

    if (!f)
        return -1;
    if (fread(magic, 1, 4, f) != 4 || memcmp(magic, CACHE_MAGIC, 4) ||
        fread(&n, sizeof n, 1, f) != 1 || n < rs->wl.n || n > 64 * (uint64_t)rs->wl.n + 64)
        goto out;
    rule *r = realloc(rs->rules, (n ? n : 1) * sizeof *r);
    if (!r)
        goto out;
    rs->rules = r;
    rs->rcap = n ? n : 1;
    if (fread(rs->rules, sizeof *rs->rules, n, f) != n)
        goto out;
    rs->nrules = n;
    for (int v = 0; v < NDB; v++) {
        if (fread(&size, sizeof size, 1, f) != 1 || size > (1ull << 32))
            goto out;
        if (!size)
            continue;
        char *buf = malloc(size);
        if (!buf || fread(buf, 1, size, f) != size ||
            hs_deserialize_database(buf, size, &rs->db[v]) != HS_SUCCESS) {
            free(buf);
            goto out;
        }
        free(buf);
    }
    ok = 1;
out:
    fclose(f);
    if (!ok)
        for (int v = 0; v < NDB; v++) {
            hs_free_database(rs->db[v]);
            rs->db[v] = NULL;
        }
    return ok ? 0 : -1;
}

/* Best effort: a cache that cannot be written only costs a compile later. */
void fe_cache_write(const fe_ruleset *rs, const char *dir)
{
    char path[PATH_MAX + 64];
    cache_path(rs, dir, path, sizeof path);
    char tmp[PATH_MAX + 96];
    uint64_t n = rs->nrules;

    mkdir(dir, 0755);
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    int ok = fwrite(CACHE_MAGIC, 1, 4, f) == 4 && fwrite(&n, sizeof n, 1, f) == 1 &&
             fwrite(rs->rules, sizeof *rs->rules, n, f) == n;
    for (int v = 0; v < NDB && ok; v++) {
        char *buf = NULL;
        size_t len = 0;
        if (rs->db[v] && hs_serialize_database(rs->db[v], &buf, &len) != HS_SUCCESS)
            ok = 0;
        uint64_t size = len;
        ok = ok && fwrite(&size, sizeof size, 1, f) == 1 && (!len || fwrite(buf, 1, len, f) == len);
        free(buf);
    }
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
        unlink(tmp);
}
