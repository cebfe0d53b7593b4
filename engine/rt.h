/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rt.h - running compiled topologies: stream threads, the rule pool, outputs, commits.
 *
 * vg_rt_start starts, per topology, `parallelism` stream threads (each with its own Kafka
 * consumer in the group vigil.<name> and its own idempotent producer) and one shared rule
 * pool. vg_rt_stop asks every thread to finish its batch, wait for the broker to acknowledge
 * what it produced (up to a few seconds), commit, and leave; vg_rt_wait joins them.
 *
 * Thread: main. vg_rt_stop is safe to call from any thread (not from a signal handler: the
 * CLI waits for signals with sigwait).
 */
#ifndef VG_RT_H
#define VG_RT_H

#include <stdio.h>

#include "compile.h"
#include "hist.h"

struct vg_rt;

struct vg_rt_stats {
    uint64_t records;       /* records polled from source topics */
    uint64_t events;        /* records decoded into events */
    uint64_t alerts;        /* alerts handed to sinks */
    uint64_t written;       /* records handed to outputs (alerts and events) */
    uint64_t dead_letters;
    uint64_t over_budget;   /* alerts whose latency exceeded the topology's budget */
    struct vg_hist latency_us; /* alert latency: source append time -> hand-off */
    vg_time_ns first_ns;    /* monotonic: first record polled (0: none yet) */
    vg_time_ns last_ns;     /* monotonic: last batch processed or record acknowledged */
    uint32_t unsettled;     /* stream threads in their group without an assignment (joining,
                             * or between a revoke and the next assignment) */
};

/* vigil replay: one topology read outside its consumer group, each source partition from a
 * start offset to the end offset captured at start; events outside [from, to] are skipped.
 * Once every partition is read, every window that event time allows is closed (the largest
 * event time read, or `to`), outputs are flushed and the threads end by themselves. State
 * goes to its own namespace (the topology name "replay.<id>.<name>" in the Redis keys);
 * nothing is committed. */
struct vg_replay_from {
    const char *topic;              /* NULL: every source topic */
    int32_t partition;
    int64_t offset;
};

struct vg_replay_input {
    int source;                     /* source id (compiled sources[]) */
    const char *const *paths;       /* read in this order: JSON lines (gzip too), Avro */
    size_t n_paths;                 /* object container files */
};

struct vg_replay {
    const char *id;
    vg_time_ms from, to;            /* event time, inclusive; INT64_MIN / INT64_MAX: open */
    double speed;                   /* 0: as fast as possible; x: event time at x wall clock */
    const struct vg_replay_from *offsets;
    size_t n_offsets;
    /* archives instead of Kafka, for every source (then one stream thread reads) */
    const struct vg_replay_input *inputs;
    size_t n_inputs;
    bool keep_state;                /* write the final state (else nothing goes to Redis) */
};

/* Start running every compiled topology (owned by the caller, must outlive the runtime);
 * replay (NULL for a live run) must too, and then n is 1. Returns NULL with err filled when
 * a Kafka client or output cannot be made. */
struct vg_rt *vg_rt_start(struct vg_compiled *const *topos, size_t n,
                          const struct vg_replay *replay, struct vg_err *err);
/* Replay: the records it set out to read (sum of end - start offsets), and whether every
 * stream thread has finished. */
void vg_rt_replay_progress(struct vg_rt *rt, uint64_t *to_read, bool *finished);
/* Ask all threads to stop (idempotent). */
void vg_rt_stop(struct vg_rt *rt);
/* True once a stop was asked for, also by a stream thread that failed. */
bool vg_rt_stopping(struct vg_rt *rt);
/* Join all threads; returns 0, or a negative VG_E* when a thread failed. */
int vg_rt_wait(struct vg_rt *rt);
/* Sum of the stats of topology i's threads. */
void vg_rt_stats(struct vg_rt *rt, size_t i, struct vg_rt_stats *out);
void vg_rt_free(struct vg_rt *rt);

#endif
