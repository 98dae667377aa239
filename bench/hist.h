/* hist.h -- latency histogram: log-bucketed (HdrHistogram-style), constant memory.
 *
 *   fb_hist h;
 *   fb_hist_init(&h);
 *   fb_hist_add(&h, ns);                  // any uint64_t value
 *   uint64_t p99 = fb_hist_quantile(&h, 0.99);
 *
 * Values below FB_HIST_SUB are kept exactly; above, each power of two is cut
 * into FB_HIST_SUB buckets, so a reported value is within 1/FB_HIST_SUB
 * (0.8%) of the true one. The struct is a fixed array (~43 KB) and needs no
 * freeing; fb_hist_merge() adds one histogram into another (one per thread,
 * merged at the end). Not thread-safe: one writer at a time. */
#ifndef FB_HIST_H
#define FB_HIST_H

#include <stdint.h>

#define FB_HIST_SUB_BITS 7                      /* 128 sub-buckets: 0.8% resolution */
#define FB_HIST_SUB (1u << FB_HIST_SUB_BITS)
#define FB_HIST_MAX_BITS 48                     /* values up to 2^48 ns (~3 days) */
#define FB_HIST_BUCKETS (FB_HIST_SUB * (FB_HIST_MAX_BITS - FB_HIST_SUB_BITS + 1))

typedef struct fb_hist {
    uint64_t count, sum, min, max;
    uint64_t bucket[FB_HIST_BUCKETS];
} fb_hist;

void fb_hist_init(fb_hist *h);
void fb_hist_add(fb_hist *h, uint64_t v);
void fb_hist_merge(fb_hist *dst, const fb_hist *src);
/* The value at quantile q (0..1; 1 gives max); 0 when empty. */
uint64_t fb_hist_quantile(const fb_hist *h, double q);
double fb_hist_mean(const fb_hist *h);

#endif
