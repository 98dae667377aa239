/* stats.c -- the broker's latency histogram: log-bucketed, constant memory.
 *
 * Values below FD_HIST_SUB get a bucket each; above, each power of two is
 * cut into FD_HIST_SUB equal sub-buckets, so a bucket is at most 1/16 (about
 * 6%) wide relative to its values. 1024 counters cover all of uint64. A
 * percentile is reported as its bucket's upper bound (never optimistic),
 * clamped to the exact maximum. The fixed bounds 25 us x 2^i are bucket
 * edges (25 x 2^i has 25 in [16, 32) as its top five bits), so the count
 * below one is exact: what Prometheus buckets need. */
#include "daemon.h"

static int bucket(uint64_t v)
{
    if (v < FD_HIST_SUB)
        return (int)v;
    int e = 63 - __builtin_clzll(v);          /* floor(log2 v) >= 4 */
    int sub = (int)((v >> (e - 4)) & (FD_HIST_SUB - 1));
    return (e - 3) * FD_HIST_SUB + sub;
}

static uint64_t upper(int b)
{
    if (b < FD_HIST_SUB)
        return (uint64_t)b;
    int e = b / FD_HIST_SUB + 3, sub = b % FD_HIST_SUB;
    uint64_t base = 1ull << e, step = 1ull << (e - 4);
    return base + (uint64_t)(sub + 1) * step - 1;
}

void fd_hist_add(fd_hist *h, uint64_t v)
{
    int b = bucket(v);
    if (b >= FD_HIST_BUCKETS)
        b = FD_HIST_BUCKETS - 1;
    h->b[b]++;
    h->n++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

uint64_t fd_hist_pct(const fd_hist *h, double q)
{
    if (!h->n)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if (rank >= h->n)
        rank = h->n - 1;
    uint64_t seen = 0;
    for (int b = 0; b < FD_HIST_BUCKETS; b++) {
        seen += h->b[b];
        if (seen > rank) {
            uint64_t u = upper(b);
            return u < h->max ? u : h->max;
        }
    }
    return h->max;
}

uint64_t fd_hist_bound(int i)
{
    return 25ull << i;
}

uint64_t fd_hist_below(const fd_hist *h, uint64_t bound)
{
    uint64_t n = 0;
    for (int b = 0; b < FD_HIST_BUCKETS && upper(b) < bound; b++)
        n += h->b[b];
    return n;
}

void fd_stats_error(fd_stats *st, int code)
{
    st->errors++;
    if (code >= 0 && code <= FW_E_RELOAD_FAILED)
        st->errors_by[code]++;
}
