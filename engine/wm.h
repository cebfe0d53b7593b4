/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wm.h - event-time watermarks of one stream thread.
 *
 * Per (source, partition): the largest event time seen, whether its owner (this thread) has
 * read everything there is in it (caught up: the consumer reported the partition's end and
 * nothing since), and since when. A partition's watermark is its largest event time minus its
 * source's lateness; an event is late when it is older than its own partition's watermark
 * (so whether an event is late depends only on the order within its partition, never on how
 * fast other partitions are read). The stage watermark is the minimum over the partitions
 * that are not idle, including assigned partitions that have not delivered anything yet;
 * when all are idle it is the largest of them, so results are not held back forever by a
 * quiet topic.
 *
 * Idle means caught up for the source's idle_timeout without a break. Silence is not
 * idleness: a partition with records still to read (a backlog, a fetch in flight, intake
 * paused during a state store outage) is never idle however long nothing arrives, and a
 * partition this thread does not own is not in the table at all (see exchange.h for how a
 * repartition topic's reader treats writers that stopped speaking).
 *
 * Thread: the owning stream thread.
 */
#ifndef VG_WM_H
#define VG_WM_H

#include "vg_common.h"

/* An idle_timeout that never passes (a repartition partition, a replay). */
#define VG_WM_NEVER_IDLE 1000000000000LL

struct vg_wm_part {
    uint16_t source;
    int32_t partition;
    vg_time_ms max_ts;
    vg_time_ns seen_ns;     /* since when caught up (or its last event, when not) */
    bool caught_up;         /* its end was reached and no record came since */
    int64_t end_offset;     /* caught up: where its end was (records past it: unread) */
    bool fixed;             /* set by vg_wm_set (a repartition topic's partition) */
    bool idle;              /* fixed: all its writers are idle */
};

struct vg_wm {
    struct vg_wm_part *parts;
    size_t n, cap;
    const int64_t *lateness_ms;     /* per source */
    const int64_t *idle_ms;         /* per source */
};

void vg_wm_init(struct vg_wm *wm, const int64_t *lateness_ms, const int64_t *idle_ms);
void vg_wm_fini(struct vg_wm *wm);
/* The partition's watermark before ts is observed, or INT64_MIN when it has none yet. */
vg_time_ms vg_wm_partition(const struct vg_wm *wm, uint16_t source, int32_t partition);
/* The entry of a partition, added (with no event yet) when missing; valid until the next
 * call that may add one. For loops over a batch, whose events come in runs of a partition. */
struct vg_wm_part *vg_wm_get(struct vg_wm *wm, uint16_t source, int32_t partition);
/* Its watermark before ts is observed (as vg_wm_partition), and the record of an event. */
static inline vg_time_ms vg_wm_of(const struct vg_wm *wm, const struct vg_wm_part *p)
{
    return p->max_ts != INT64_MIN ? p->max_ts - wm->lateness_ms[p->source] : INT64_MIN;
}
static inline void vg_wm_note(struct vg_wm_part *p, vg_time_ms ts, vg_time_ns now_ns)
{
    if (ts > p->max_ts)
        p->max_ts = ts;
    p->seen_ns = now_ns;
    p->caught_up = false;
}
/* The owner read the partition to its end, end_offset (its consumer reported the end, past
 * every record it delivered): from now_ns on it may become idle, unless a record comes. */
void vg_wm_caught_up(struct vg_wm *wm, uint16_t source, int32_t partition, int64_t end_offset,
                     vg_time_ns now_ns);
/* Records were seen past where the partition was caught up (fetched, not yet read): it is
 * not caught up any more. */
void vg_wm_behind(struct vg_wm_part *p, vg_time_ns now_ns);
/* Intake paused (or records left unread for another reason): no partition is caught up. */
void vg_wm_busy(struct vg_wm *wm, vg_time_ns now_ns);
/* Record an event (ts) of a partition at now_ns. */
void vg_wm_observe(struct vg_wm *wm, uint16_t source, int32_t partition, vg_time_ms ts,
                   vg_time_ns now_ns);
/* A partition was assigned: until it delivers an event (or is caught up for idle_timeout) it
 * holds the stage watermark back, so partitions read later never find their windows closed. */
void vg_wm_assign(struct vg_wm *wm, uint16_t source, int32_t partition, vg_time_ns now_ns);
/* Forget a partition (revoked from this thread). */
void vg_wm_forget(struct vg_wm *wm, uint16_t source, int32_t partition);
/* A repartition topic's partition: its watermark is what its writers said (exchange.h), not
 * what its events show; it only moves forward. */
void vg_wm_set(struct vg_wm *wm, uint16_t source, int32_t partition, vg_time_ms value, bool idle,
               vg_time_ns now_ns);
/* Is the partition idle at now_ns: caught up for its source's idle_timeout (or, fixed, its
 * writers said so)? */
bool vg_wm_idle(const struct vg_wm *wm, const struct vg_wm_part *p, vg_time_ns now_ns);
/* The stage watermark at now_ns over the partitions of the sources in mask (bit per source
 * id); INT64_MIN when none has an event. */
vg_time_ms vg_wm_current_of(const struct vg_wm *wm, uint64_t mask, vg_time_ns now_ns);
/* The same over every partition. */
vg_time_ms vg_wm_current(const struct vg_wm *wm, vg_time_ns now_ns);

#endif
