/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ktable.h - `table: kafka`: a compacted topic held in memory, one copy per process.
 *
 * A loader thread of the engine reads every partition of the topic from the beginning,
 * outside any consumer group (every process holds the whole table), and keeps reading while
 * vigil runs: a record's key is the row's key and its value the row (a JSON object); a record
 * with no value (a tombstone) deletes the row. vg_ktable_start returns once the loader has
 * read up to the end offsets the topic had at start, so the first events already see the
 * table as it was. Stream threads look rows up under a read lock; the loader applies each
 * polled batch under the write lock.
 *
 * Thread: start/stop on main; lookup from any stream thread.
 */
#ifndef VG_KTABLE_H
#define VG_KTABLE_H

#include "topo.h"
#include "vg_op.h"

struct vg_ktable;

/* Start loading t's topic with the topology's Kafka settings and wait (up to wait_ms) until
 * it is read up to its end offsets at start. NULL with err when the topic has no partitions
 * or the wait ran out. */
struct vg_ktable *vg_ktable_start(const struct vg_topology *topo, const struct vg_table_conf *t,
                                  int wait_ms, struct vg_err *err);
/* Stop the loader and free the table. NULL-safe. */
void vg_ktable_stop(struct vg_ktable *kt);
/* For each keys[i] that is a row: row(ud, i, NULL, 0, json, len) with the row's JSON value. */
void vg_ktable_lookup(struct vg_ktable *kt, const char *const *keys, const size_t *klens,
                      size_t n,
                      void (*row)(void *ud, size_t i, const char *field, size_t flen,
                                  const char *val, size_t vlen),
                      void *ud);
/* Rows held now. */
size_t vg_ktable_rows(struct vg_ktable *kt);

#endif
