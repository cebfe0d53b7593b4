/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hist.c - the log-linear histogram of hist.h.
 *
 * Thread: see hist.h.
 */
#include "hist.h"

#include <string.h>

static int bucket_of(uint64_t v)
{
    if (v < 32)
        return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 4;
    int idx = (shift + 1) * 16 + (int)((v >> shift) - 16);
    return idx < VG_HIST_BUCKETS ? idx : VG_HIST_BUCKETS - 1;
}

static uint64_t bucket_mid(int idx)
{
    if (idx < 32)
        return (uint64_t)idx;
    int shift = idx / 16 - 1;
    uint64_t lo = (uint64_t)(idx % 16 + 16) << shift;
    return lo + ((1ULL << shift) >> 1);
}

void vg_hist_init(struct vg_hist *h)
{
    memset(h, 0, sizeof(*h));
}

void vg_hist_record(struct vg_hist *h, uint64_t v)
{
    h->b[bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

void vg_hist_merge(struct vg_hist *into, const struct vg_hist *from)
{
    for (int i = 0; i < VG_HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t vg_hist_quantile(const struct vg_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q >= 1.0)
        return h->max;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    uint64_t seen = 0;
    for (int i = 0; i < VG_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen > rank) {
            uint64_t mid = bucket_mid(i);
            return mid > h->max ? h->max : mid;
        }
    }
    return h->max;
}
