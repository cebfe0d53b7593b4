/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rt_pool.h - the fixed thread pool that evaluates rules.
 *
 * Fork-join: a stream thread submits n tasks and blocks until all have run; the pool's
 * threads take tasks one at a time, so several stream threads share the pool fairly. The
 * submitting thread does not run tasks itself, so `rule_threads` is exactly the number of
 * threads evaluating rules.
 *
 * Thread: vg_rt_pool_run from any thread; the pool owns its workers.
 */
#ifndef VG_RT_POOL_H
#define VG_RT_POOL_H

#include "vg_common.h"

struct vg_rt_pool;

/* Start n_threads workers (>= 1). Never NULL (aborts when threads cannot be made). */
struct vg_rt_pool *vg_rt_pool_new(size_t n_threads);
/* Stop and join the workers. NULL-safe. Must not race with vg_rt_pool_run. */
void vg_rt_pool_free(struct vg_rt_pool *p);
/* Run fn(arg, i) for i in [0, n) on the workers; return when all have returned. */
void vg_rt_pool_run(struct vg_rt_pool *p, void (*fn)(void *arg, size_t i), void *arg, size_t n);
size_t vg_rt_pool_size(const struct vg_rt_pool *p);

#endif
