/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vg_pipe.h - run a topology in memory for operator and compiler tests: load and compile YAML
 * text, feed JSON lines as one batch, and collect what the sinks wrote and what went to
 * dead letters. No Kafka, no threads unless workers > 1 (then the real rule pool).
 *
 * Thread: the test's main thread.
 */
#ifndef VG_PIPE_H
#define VG_PIPE_H

#include <stddef.h>
#include <stdint.h>

struct vg_pipe_rec {
    int out;            /* output id */
    char *target;       /* topic or path ("" for stdout) */
    char *key;          /* NUL-terminated copy (may be "") */
    char *value;        /* NUL-terminated copy */
    size_t len;
};

struct vg_pipe;

/* Load and compile text (named "t.yaml" in diagnostics) with `workers` rule-pool threads;
 * fails the test with the diagnostics when it does not compile. */
struct vg_pipe *vg_pipe_new(const char *text, int workers);
/* Compile text and return the diagnostics printed (malloc'd, "" when it compiled). */
char *vg_pipe_errors(const char *text);
/* Feed each '\n'-terminated line of jsonl as a record of source node `source` (its
 * partition, offsets counting from 0 per pipe), all in one batch; the clock is now_ms. */
void vg_pipe_feed(struct vg_pipe *p, const char *source, const char *jsonl, int64_t now_ms);
/* As vg_pipe_feed, the records in the given partition of the source. */
void vg_pipe_feed_at(struct vg_pipe *p, const char *source, int32_t partition, const char *jsonl,
                     int64_t now_ms);
/* As vg_pipe_feed with one record of any bytes. */
void vg_pipe_feed_raw(struct vg_pipe *p, const char *source, const void *v, size_t len,
                      int64_t now_ms);
/* What was written so far, in order. */
size_t vg_pipe_n_out(const struct vg_pipe *p);
const struct vg_pipe_rec *vg_pipe_out(const struct vg_pipe *p, size_t i);
/* All written values joined with '\n' (each followed by '\n'); malloc'd. */
char *vg_pipe_out_text(const struct vg_pipe *p);
/* Dead-letter reasons so far, each followed by '\n'; malloc'd. */
char *vg_pipe_dead_text(const struct vg_pipe *p);
/* A crash and restore as the engine does it: every stateful operator writes its whole state
 * (state_save with all), the operators are closed and opened afresh (watermarks too), and the
 * fresh ones load what was written (state_load). Records and dead letters so far are kept. */
void vg_pipe_restart(struct vg_pipe *p);
/* A partition revoked from this instance, as the engine does it: every operator drops its
 * state (state_drop) and its event time is forgotten. */
void vg_pipe_revoke(struct vg_pipe *p, int32_t partition);
/* How many records the node has output over all batches so far. */
uint64_t vg_pipe_node_out(const struct vg_pipe *p, const char *node);
/* Tables: set field of the Redis hash key that lookups (vg_op_ctx.lookup) see; for a Kafka
 * table's row, field "" and the row's JSON. */
void vg_pipe_table(struct vg_pipe *p, const char *key, const char *field, const char *value);
/* Lookup round trips so far, and (keys) how many hashes they asked for. */
uint64_t vg_pipe_lookups(const struct vg_pipe *p, uint64_t *keys);
void vg_pipe_free(struct vg_pipe *p);

#endif
