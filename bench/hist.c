/* hist.c -- log-bucketed latency histogram (see hist.h for the layout). */
#include <string.h>

#include "hist.h"

#define MAX_VALUE ((1ull << FB_HIST_MAX_BITS) - 1)

void fb_hist_init(fb_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

/* Bucket of v: exact below FB_HIST_SUB, then FB_HIST_SUB per power of two. */
static unsigned bucket_of(uint64_t v)
{
    if (v < FB_HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - FB_HIST_SUB_BITS;
    return FB_HIST_SUB * (shift + 1) + (unsigned)((v >> shift) - FB_HIST_SUB);
}

/* The middle of bucket b's value range. */
static uint64_t value_of(unsigned b)
{
    if (b < FB_HIST_SUB)
        return b;
    unsigned shift = b / FB_HIST_SUB - 1, m = b % FB_HIST_SUB;
    uint64_t lo = (uint64_t)(FB_HIST_SUB + m) << shift;
    return lo + ((1ull << shift) >> 1);
}

void fb_hist_add(fb_hist *h, uint64_t v)
{
    if (v > MAX_VALUE)
        v = MAX_VALUE;
    h->bucket[bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void fb_hist_merge(fb_hist *dst, const fb_hist *src)
{
    for (unsigned i = 0; i < FB_HIST_BUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t fb_hist_quantile(const fb_hist *h, double q)
{
    if (!h->count)
        return 0;
    if (q >= 1.0)
        return h->max;
    uint64_t rank = (uint64_t)(q * (double)h->count) + 1, seen = 0;
    if (rank > h->count)
        rank = h->count;
    for (unsigned i = 0; i < FB_HIST_BUCKETS; i++)
        if ((seen += h->bucket[i]) >= rank) {
            uint64_t v = value_of(i);
            return v > h->max ? h->max : v < h->min ? h->min : v;
        }
    return h->max;
}

double fb_hist_mean(const fb_hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0;
}
