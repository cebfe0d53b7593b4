/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hist.h - a log-linear histogram of non-negative integers (latencies in microseconds).
 *
 * 16 sub-buckets per power of two above 32, so any recorded value is reported within 1/16
 * (6.25%) of itself; values up to 2^40 fit. Fixed size, no allocation, mergeable: each
 * stream thread records into its own and the summary merges them.
 *
 * Thread: one writer per histogram; merge when writers are quiet or accept a racy read.
 */
#ifndef VG_HIST_H
#define VG_HIST_H

#include "vg_common.h"

#define VG_HIST_BUCKETS 640

struct vg_hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t b[VG_HIST_BUCKETS];
};

void vg_hist_init(struct vg_hist *h);
void vg_hist_record(struct vg_hist *h, uint64_t v);
void vg_hist_merge(struct vg_hist *into, const struct vg_hist *from);
/* The value at quantile q in [0, 1] (the middle of its bucket; the max for q = 1); 0 when
 * empty. */
uint64_t vg_hist_quantile(const struct vg_hist *h, double q);

#endif
