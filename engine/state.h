/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state.h - operator state in Redis, written behind per stream thread.
 *
 * Layout: operator state of node N of topology T for source partition P is held in hashes
 *   vg:{T:N:P}:<bucket>           field <entry> = value      (HSET; PEXPIRE ttl on each write)
 * and the source offsets that state covers in the hash
 *   vg:{T:N:P}:@offsets           field <topic> = "<next offset> <max event time>"
 * The operator picks the bucket: a window operator uses one bucket per pane (all keys' state
 * for that slice of time, deleted together when it closes), so a checkpoint writes one HSET
 * and one PEXPIRE per bucket it touched rather than a command per entry. The {...} hash tag
 * keeps a partition's keys in one Redis Cluster slot. A checkpoint writes, per partition,
 * everything queued for it and its offsets in one MULTI/EXEC, all partitions pipelined in one
 * round trip, so a crash at any instant leaves state and offsets that agree.
 *
 * A node named "H/G" is node G whose state lives with node H's (a rules node after a window:
 * compile.h, state_name): its hashes are vg:{T:H:P}:/G/<bucket> and vg:{T:H:P}:/G/@offsets,
 * in H's hash slot, and a partition's writes of H and of its guests go in one MULTI/EXEC. A
 * load of H skips its guests' hashes; a load of H/G reads only them.
 *
 * Thread: one struct vg_state per stream thread.
 */
#ifndef VG_STATE_H
#define VG_STATE_H

#include "vg_common.h"

struct vg_state;

/* Parse redis://[[user]:password@]host[:port][/db] (no connection yet). NULL + err when the
 * URL does not parse. */
struct vg_state *vg_state_new(const char *url, const char *topology, struct vg_err *err);
void vg_state_free(struct vg_state *s);
/* (Re)connect: AUTH and SELECT as the URL says. 0 or VG_EREDIS. */
int vg_state_connect(struct vg_state *s, struct vg_err *err);
bool vg_state_connected(const struct vg_state *s);
/* Times the connection was (re)made; a change means Redis may have lost what we wrote. */
uint64_t vg_state_epoch(const struct vg_state *s);

/* Queue writes for the next checkpoint. `node` must stay valid until the commit; bucket is
 * a short name that does not start with '@' unless the operator reserves it. Within one
 * bucket, deletes are applied before puts (an entry deleted and written again in one
 * checkpoint ends up written). */
void vg_state_put(struct vg_state *s, const char *node, int32_t partition, const char *bucket,
                  const char *field, size_t flen, const void *val, size_t len, int64_t ttl_ms);
void vg_state_del(struct vg_state *s, const char *node, int32_t partition, const char *bucket,
                  const char *field, size_t flen);
void vg_state_offset(struct vg_state *s, const char *node, int32_t partition, const char *topic,
                     int64_t next_offset, vg_time_ms max_ts, int64_t ttl_ms);
/* Write everything queued: per partition MULTI ... EXEC, pipelined. On success the queue is
 * empty; on failure it is dropped too (the caller re-queues) and the connection is closed. */
int vg_state_commit(struct vg_state *s, struct vg_err *err);
/* Redis commands sent since start (for operations per event). */
uint64_t vg_state_commands(const struct vg_state *s);

/* Read back node N's entries for a partition: cb(ud, field, flen, val, len) for each, over
 * all its buckets; offsets: ocb(ud, topic, next_offset, max_ts) for each source topic.
 * 0 or VG_EREDIS. */
int vg_state_load(struct vg_state *s, const char *node, int32_t partition,
                  int (*cb)(void *ud, const char *key, size_t klen, const char *val, size_t len),
                  void (*ocb)(void *ud, const char *topic, int64_t next_offset, vg_time_ms max_ts),
                  void *ud, struct vg_err *err);

/* Tables: HGETALL of each of keys[0..n), pipelined in one round trip; row(ud, i, ...) for each
 * field of hash i (none: no such key). 0 or VG_EREDIS (connection lost: closed; an error
 * reply, e.g. WRONGTYPE, is reported after the other replies were read). */
int vg_state_hgetall(struct vg_state *s, const char *const *keys, const size_t *klens, size_t n,
                     void (*row)(void *ud, size_t i, const char *field, size_t flen,
                                 const char *val, size_t vlen),
                     void *ud, struct vg_err *err);

#endif
