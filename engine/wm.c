/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wm.c - event-time watermarks of one stream thread (wm.h). A handful of partitions per
 * thread: linear scans.
 *
 * Thread: the owning stream thread.
 */
#include "wm.h"

#include <string.h>

void vg_wm_init(struct vg_wm *wm, const int64_t *lateness_ms, const int64_t *idle_ms)
{
    memset(wm, 0, sizeof(*wm));
    wm->lateness_ms = lateness_ms;
    wm->idle_ms = idle_ms;
}

void vg_wm_fini(struct vg_wm *wm)
{
    vg_free(wm->parts);
    memset(wm, 0, sizeof(*wm));
}

static struct vg_wm_part *find(const struct vg_wm *wm, uint16_t source, int32_t partition)
{
    for (size_t i = 0; i < wm->n; i++)
        if (wm->parts[i].source == source && wm->parts[i].partition == partition)
            return &wm->parts[i];
    return NULL;
}

vg_time_ms vg_wm_partition(const struct vg_wm *wm, uint16_t source, int32_t partition)
{
    const struct vg_wm_part *p = find(wm, source, partition);
    return p ? vg_wm_of(wm, p) : INT64_MIN;
}

void vg_wm_assign(struct vg_wm *wm, uint16_t source, int32_t partition, vg_time_ns now_ns)
{
    if (find(wm, source, partition))
        return;
    vg_wm_observe(wm, source, partition, INT64_MIN, now_ns);
}

struct vg_wm_part *vg_wm_get(struct vg_wm *wm, uint16_t source, int32_t partition)
{
    struct vg_wm_part *p = find(wm, source, partition);
    if (!p) {
        if (wm->n == wm->cap) {
            wm->cap = wm->cap ? 2 * wm->cap : 16;
            wm->parts = vg_xrealloc(wm->parts, wm->cap * sizeof(*wm->parts));
        }
        p = &wm->parts[wm->n++];
        *p = (struct vg_wm_part){.source = source, .partition = partition, .max_ts = INT64_MIN};
    }
    return p;
}

void vg_wm_observe(struct vg_wm *wm, uint16_t source, int32_t partition, vg_time_ms ts,
                   vg_time_ns now_ns)
{
    vg_wm_note(vg_wm_get(wm, source, partition), ts, now_ns);
}

void vg_wm_forget(struct vg_wm *wm, uint16_t source, int32_t partition)
{
    struct vg_wm_part *p = find(wm, source, partition);
    if (p)
        *p = wm->parts[--wm->n];
}

void vg_wm_set(struct vg_wm *wm, uint16_t source, int32_t partition, vg_time_ms value, bool idle,
               vg_time_ns now_ns)
{
    vg_wm_observe(wm, source, partition, value, now_ns);
    struct vg_wm_part *p = find(wm, source, partition);
    p->fixed = true;
    p->idle = idle;
}

void vg_wm_caught_up(struct vg_wm *wm, uint16_t source, int32_t partition, int64_t end_offset,
                     vg_time_ns now_ns)
{
    struct vg_wm_part *p = find(wm, source, partition);
    if (!p)
        return;
    p->end_offset = end_offset;
    if (p->caught_up)
        return;
    p->caught_up = true;
    p->seen_ns = now_ns;
}

void vg_wm_behind(struct vg_wm_part *p, vg_time_ns now_ns)
{
    p->caught_up = false;
    p->seen_ns = now_ns;
}

void vg_wm_busy(struct vg_wm *wm, vg_time_ns now_ns)
{
    for (size_t i = 0; i < wm->n; i++)
        if (!wm->parts[i].fixed) {
            wm->parts[i].caught_up = false;
            wm->parts[i].seen_ns = now_ns;
        }
}

bool vg_wm_idle(const struct vg_wm *wm, const struct vg_wm_part *p, vg_time_ns now_ns)
{
    if (p->fixed)
        return p->idle;
    return p->caught_up && now_ns - p->seen_ns > wm->idle_ms[p->source] * 1000000;
}

vg_time_ms vg_wm_current_of(const struct vg_wm *wm, uint64_t mask, vg_time_ns now_ns)
{
    vg_time_ms active = INT64_MAX, any = INT64_MIN;
    for (size_t i = 0; i < wm->n; i++) {
        const struct vg_wm_part *p = &wm->parts[i];
        if (p->source >= 64 || !((mask >> p->source) & 1))
            continue;
        vg_time_ms w = vg_wm_of(wm, p);
        if (w > any)
            any = w;
        if (!vg_wm_idle(wm, p, now_ns) && w < active)
            active = w;
    }
    return active != INT64_MAX ? active : any;
}

vg_time_ms vg_wm_current(const struct vg_wm *wm, vg_time_ns now_ns)
{
    return vg_wm_current_of(wm, UINT64_MAX, now_ns);
}
