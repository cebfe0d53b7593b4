/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dag.h - one running instance of a compiled topology: every node's operator state, the
 * current batch, and each node's output selection; runs a batch through the nodes in
 * topological order (the fused chain).
 *
 * The stream threads (rt_thread.c) drive it from Kafka; tests and the bench harness drive it
 * from memory with their own struct vg_op_ctx. Records are added with vg_dag_add, then
 * vg_dag_run hands them to their source nodes and every later node reads the merged outputs
 * of its inputs (sorted by event index, so per-partition order is kept through unions).
 *
 * Thread: one owner; ctx must outlive the instance (operators may keep it from open).
 */
#ifndef VG_DAG_H
#define VG_DAG_H

#include "compile.h"
#include "exchange.h"
#include "wm.h"

struct vg_dag {
    const struct vg_compiled *c;
    struct vg_op_ctx *ctx;
    void **st;              /* per node: the operator's thread state (or its conf) */
    struct vg_sel *sels;    /* per node: its output in the current batch */
    struct vg_sel *src_sels; /* per source: the records added for it */
    struct vg_batch b;
    uint64_t events;        /* events output by source nodes, all batches */
    uint64_t late;          /* events sent to dead letters as late */
    bool keyed;             /* a window (or join) is downstream: event time matters */
    struct vg_wm wm;        /* per-partition event time of this instance */
    int64_t *lateness_ms;   /* per source */
    int64_t *idle_ms;       /* per source */
    struct vg_x_reader *xr; /* per exchange: its repartition partitions read here */
    uint64_t duplicates;    /* repartition records dropped as already counted */
    struct vg_buf xkey, xval;
    /* replay: events outside [from, to] are skipped at their source; max_ts is the largest
     * event time kept; close_at, when not VG_TIME_NONE, is the watermark every keyed node
     * sees (the final flush) */
    bool bounded;
    vg_time_ms from, to, max_ts, close_at;
    /* replay of archives on several threads: keep the events whose split_slots hash to
     * split_k modulo split_n (every thread reads every record, and may drop the ones it can
     * tell are not its own before they are added); in_source is set while a source node runs
     * (its dead letters are then counted by one thread only) */
    const int *split_slots;
    size_t n_split;
    int split_n, split_k;
    bool in_source;
    /* replay: exchanges inside the process (no repartition topic); a node fed through one
     * takes its event time from the partitions upstream of it (local_mask, per node) */
    bool local_x;
    uint64_t *local_mask;
    /* and its event time is what vg_dag_local_snapshot took (local_wm, per node) before the
     * records it is given were taken: a run that writes records still to be read must not
     * close their windows. local_shared, when set, gives the event time of the partitions in
     * mask over every thread (else this instance's own) */
    vg_time_ms *local_wm;
    vg_time_ms (*local_shared)(void *ud, uint64_t mask);
    void *local_ud;
};

/* Open every node's state. Returns 0, or a negative VG_E* with err naming the node (the
 * nodes opened so far are closed again). */
int vg_dag_open(struct vg_dag *d, const struct vg_compiled *c, struct vg_op_ctx *ctx,
                struct vg_err *err);
void vg_dag_close(struct vg_dag *d);

/* Start a new batch: drop the previous batch's events and selections. */
void vg_dag_begin(struct vg_dag *d);
/* Add one polled record for source id src (payload borrowed until the next vg_dag_begin). */
uint32_t vg_dag_add(struct vg_dag *d, int src, const char *topic, int32_t partition,
                    int64_t offset, const void *payload, size_t len, vg_time_ms append_ms);
/* Run the batch through every node (an empty batch lets windows close on idle partitions).
 * Returns 0 or the first operator failure. */
int vg_dag_run(struct vg_dag *d);
/* Replay of archives on split_n threads: the thread (0 .. split_n-1) that keeps the key
 * whose values are vals[idx[0]], ..., vals[idx[n_split-1]]. */
int vg_dag_split_owner(struct vg_dag *d, const struct vg_value *vals, const int *idx);
/* Exchange x's writer marks: the watermark of each upstream partition this instance reads
 * (the engine writes them as a control record to every partition of the repartition topic).
 * Returns how many were put in out (at most max). */
size_t vg_dag_marks(const struct vg_dag *d, size_t x, struct vg_x_mark *out, size_t max,
                    vg_time_ns now_ns);
/* Replay with exchanges inside the process: from now on, a node fed through a repartition
 * topic reads the records this instance wrote for it (added back by the engine as that
 * topic's records, any partition) and takes its event time straight from the upstream
 * partitions of this instance, which must read them all. */
void vg_dag_local_exchanges(struct vg_dag *d);
/* The event time the nodes fed through exchanges see from now on: take it before taking the
 * records written for them, so that every record it covers is among those. */
void vg_dag_local_snapshot(struct vg_dag *d);
/* Call every node's flush (before commits and at shutdown). */
int vg_dag_flush(struct vg_dag *d);

#endif
