/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exchange.h - the keyed exchange: how events reach a keyed operator (a window) through a
 * repartition topic keyed by the operator's key when the source is partitioned otherwise,
 * and how event time travels with them.
 *
 * Writers. A writer is one upstream source partition, (source id, partition): the same in
 * every thread, process and restart. Each event arriving at the operator is encoded as a
 * data record (writer, its source offset, event time, append time, and only the fields the
 * operator reads) and produced to <topology>.<node>.repartition keyed by the key fields, so
 * one key's events meet in one partition. Now and then each stream thread also writes a
 * control record to every partition of that topic: per upstream partition it owns, its
 * watermark (largest event time - lateness) and whether it is idle.
 *
 * Readers, per repartition partition: per writer the highest source offset read, its
 * watermark and idleness. A data record at or below the writer's highest offset is a
 * duplicate (the writer crashed after producing and replayed from its committed offset) and
 * is dropped, so the operator counts every event once. The partition's watermark is the
 * minimum over its writers that are not idle, once every writer has been heard from (none
 * is forgotten: a writer that has not spoken holds event time back), and the largest of
 * them when all are idle. Since a writer drops its late events before writing, no event
 * written after a control record is older than the watermark it carries.
 *
 * Idle is a claim the writer's owner makes (wm.h: caught up for idle_timeout) and must keep
 * making: each control record carries its sender's wall clock, and a writer whose last claim
 * is more than VG_X_SILENT_MS older than the newest control record of the partition counts
 * as busy again. So when the owner of an idle upstream partition dies, its partition holds
 * event time back (at the watermark it last said) until the next owner reads it and speaks,
 * however long the group takes to hand it over. The decision depends only on what the
 * partition holds, so a reader that reads it again after a crash decides the same. Senders'
 * clocks are assumed to agree within about a second (NTP); a sender whose clock runs behind
 * by more only has its idle claims ignored (time waits for its partitions).
 *
 * Thread: the codec is plain functions; a reader belongs to one stream thread.
 */
#ifndef VG_EXCHANGE_H
#define VG_EXCHANGE_H

#include "binio.h"
#include "vg_common.h"

#define VG_X_DATA 'E'
#define VG_X_CONTROL 'W'
#define VG_X_SILENT_MS 1000   /* an idle claim not repeated for this long lapses */

static inline uint32_t vg_x_writer(uint16_t source, int32_t partition)
{
    return ((uint32_t)source << 20) | ((uint32_t)partition & 0xfffff);
}

/* The source id and partition a writer id was made of. */
static inline uint16_t vg_x_writer_source(uint32_t writer)
{
    return (uint16_t)(writer >> 20);
}

static inline int32_t vg_x_writer_partition(uint32_t writer)
{
    return (int32_t)(writer & 0xfffff);
}

/* ---- records ---- */

struct vg_x_head {
    uint32_t writer;
    int64_t offset;             /* the event's offset in its source partition */
    vg_time_ms ts;              /* event time */
    vg_time_ms append_ms;       /* Kafka timestamp of the source record */
};

struct vg_x_mark {
    uint32_t writer;
    vg_time_ms wm;              /* INT64_MIN: no event yet */
    bool idle;
};

/* The record key: the key fields' values (slots[key_slots[i]]), so equal keys partition alike. */
void vg_x_key(struct vg_buf *out, const struct vg_value *slots, const int *key_slots, size_t n);
/* A data record carrying slots[val_slots[i]] for each i. */
void vg_x_encode_data(struct vg_buf *out, const struct vg_x_head *h, const struct vg_value *slots,
                      const int *val_slots, size_t n);
/* A control record with n writer watermarks, sent at sent_ms (the sender's wall clock). */
void vg_x_encode_control(struct vg_buf *out, const struct vg_x_mark *marks, size_t n,
                         vg_time_ms sent_ms);
/* Read a data record into h and slots[val_slots[i]] (strings copied into arena). 0, or -1
 * when the bytes are not such a record; with rest, what follows the values (a payload) is
 * left there for the caller. */
int vg_x_decode_data(const char *p, size_t len, struct vg_x_head *h, struct vg_value *slots,
                     const int *val_slots, size_t n, struct vg_arena *arena, const char **rest);

/* ---- reader ---- */

struct vg_x_writer_state {
    uint32_t writer;
    int64_t offset;             /* highest source offset read (-1: none) */
    vg_time_ms wm;
    bool idle;
    bool heard;                 /* a control record from it was read */
    vg_time_ms said_ms;         /* when its last control record was sent */
};

struct vg_x_part {
    int32_t partition;
    struct vg_x_writer_state *w;
    size_t n, cap;
    vg_time_ms latest_ms;       /* the newest control record's sent time */
};

struct vg_x_reader {
    struct vg_x_part *parts;
    size_t n, cap;
    size_t n_writers;           /* upstream partitions in all (0: not known yet) */
};

void vg_x_reader_init(struct vg_x_reader *r);
void vg_x_reader_fini(struct vg_x_reader *r);
/* A data record of writer at offset for partition: true when it is new (and remember it),
 * false for a duplicate. */
bool vg_x_accept(struct vg_x_reader *r, int32_t partition, uint32_t writer, int64_t offset);
/* Apply a control record read from partition. 0, or -1 when the bytes are not one. */
int vg_x_control(struct vg_x_reader *r, int32_t partition, const char *p, size_t len);
/* The partition's watermark (INT64_MIN: not every writer heard yet); *idle when all its
 * writers are idle. */
vg_time_ms vg_x_watermark(const struct vg_x_reader *r, int32_t partition, bool *idle);
/* Restore one writer's entry (offset, watermark) from the state store. */
void vg_x_restore(struct vg_x_reader *r, int32_t partition, uint32_t writer, int64_t offset,
                  vg_time_ms wm);
/* The partition's writers (for checkpoints); NULL when it has none. */
const struct vg_x_part *vg_x_part(const struct vg_x_reader *r, int32_t partition);
void vg_x_forget(struct vg_x_reader *r, int32_t partition);

#endif
