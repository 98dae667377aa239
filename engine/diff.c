/* diff.c -- what changed between two rule sets: entries added and removed, per label.
 *
 * For the reload report ("wl-old -> wl-new: porn +2, ad -1"). An entry is
 * what it matches and does: its term, label, action and options, not where
 * it is written, so moving an entry to another file or line changes nothing
 * and changing its action removes one entry and adds another. Each entry is
 * hashed to 64 bits; both lists of hashes are sorted and walked together as
 * multisets. O(n log n), a few milliseconds for 100,000 entries. */
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"

typedef struct key {
    uint64_t hash;
    int slot;             /* label, or FE_NLABELS for an allow-list entry */
    uint32_t entry;       /* its index in its rule set */
} key;

/* By hash, then list order (so equal entries pair up, and report, in order). */
static int cmp_key(const void *a, const void *b)
{
    const key *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* Every entry's key, sorted; NULL when out of memory (n == 0: a valid empty list). */
static key *keys_of(const fe_wordlists *wl)
{
    key *k = malloc((wl->n ? wl->n : 1) * sizeof *k);
    if (!k)
        return NULL;
    for (size_t i = 0; i < wl->n; i++) {
        const fe_entry *e = &wl->entries[i];
        unsigned char what[5] = {(unsigned char)e->label, e->action, e->flags,
                                 (unsigned char)e->view, e->check};
        uint64_t h = fe_hash(FE_HASH_INIT, what, sizeof what);
        k[i].hash = fe_hash(h, e->term, strlen(e->term));
        k[i].slot = e->label >= 0 && e->label < FE_NLABELS ? e->label : FE_NLABELS;
        k[i].entry = (uint32_t)i;
    }
    qsort(k, wl->n, sizeof *k, cmp_key);
    return k;
}

int fe_ruleset_diff(const fe_ruleset *old, const fe_ruleset *cur, fe_diff *out)
{
    return fe_ruleset_diff_each(old, cur, out, NULL, NULL);
}

int fe_ruleset_diff_each(const fe_ruleset *old, const fe_ruleset *cur, fe_diff *out,
                         fe_diff_fn fn, void *arg)
{
    key *a = keys_of(&old->wl), *b = keys_of(&cur->wl);
    size_t i = 0, j = 0, na = old->wl.n, nb = cur->wl.n;

    memset(out, 0, sizeof *out);
    if (!a || !b) {
        free(a);
        free(b);
        return FE_ERR;
    }
    while (i < na || j < nb) {
        if (j == nb || (i < na && a[i].hash < b[j].hash)) {
            out->removed[a[i].slot]++;
            if (fn)
                fn(arg, 0, a[i].entry);
            i++;
        } else if (i == na || b[j].hash < a[i].hash) {
            out->added[b[j].slot]++;
            if (fn)
                fn(arg, 1, b[j].entry);
            j++;
        } else
            i++, j++;
    }
    free(a);
    free(b);
    return FE_OK;
}
