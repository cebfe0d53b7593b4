/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vg_op.h - the one interface between the engine and its operators.
 *
 * An operator type is a descriptor (struct vg_op_type) exported by one file in operators/.
 * Its lifecycle:
 *   create  (main thread, load time) reads the node's checked keys, compiles expressions,
 *           registers sources/outputs with env, reports problems into env->diag, and returns
 *           an immutable config shared by every stream thread;
 *   open    (stream thread start) makes the thread's own mutable state from that config;
 *   process (stream thread, per batch) reads the events selected by `in` and appends the
 *           indices of its output events to `out`; no allocation per event (use b->arena),
 *           no parsing, no locks;
 *   flush   (stream thread, before offsets are committed and at shutdown) optional;
 *   close / destroy release the thread state / the config. NULL-safe, never fail.
 *
 * Batches and selections. A stream thread polls a batch of records; each record becomes a
 * struct vg_event in b->ev. Operators do not copy events: a filter's output is the subset of
 * its input indices, a map writes its own slots and passes indices through, a rules node
 * appends new alert events to the batch and outputs their indices. The engine owns batches.
 *
 * Operators never touch threads, sockets, librdkafka or hiredis: they reach the engine
 * through ctx (dead letters, outputs, the rule thread pool).
 */
#ifndef VG_OP_H
#define VG_OP_H

#include "alert.h"
#include "arena.h"
#include "diag.h"
#include "expr.h"
#include "topo.h"
#include "value.h"

struct vg_event {
    vg_time_ms ts;              /* event time */
    vg_time_ms append_ms;       /* Kafka timestamp of the source record */
    const char *topic;          /* source position */
    int32_t partition;
    int64_t offset;
    const char *payload;        /* raw record value (borrowed from the Kafka message) */
    uint32_t len;
    uint16_t source;            /* source id the record was polled for (vg_op_env_source) */
    /* read from a repartition topic: the source record it was written for (else NULL) */
    const char *origin_topic;
    int32_t origin_partition;
    int64_t origin_offset;
    uint64_t ident;             /* non-zero: identifies it with its source position (a join's
                                 * pair: both events'); alert ids include it */
    struct vg_value *slots;     /* b->n_slots values */
    const struct vg_alert *alert; /* non-NULL: this event is an alert made by a rules node */
    const char *fields_json;    /* the event as a JSON object, when an operator made one */
    uint32_t fields_len;
    /* or made on demand (a join's output: most are dropped before anyone writes them):
     * fields_fn(ev, out) appends it; what it reads stays valid until the batch ends */
    void (*fields_fn)(const struct vg_event *ev, struct vg_buf *out);
    const void *fields_ud;
    bool windowed;              /* a window's result: win_start/win_end are set */
    vg_time_ms win_start;       /* tumbling/sliding: [start, end); session: first/last event */
    vg_time_ms win_end;
};

struct vg_batch {
    struct vg_arena arena;
    struct vg_event *ev;
    size_t n;
    size_t cap;
    size_t n_slots;
};

/* A list of indices into b->ev, in order. Storage comes from the batch arena. A join's
 * input (VG_OP_JOIN) is its left input's events, then its right input's: the first n_left
 * indices are the left side's. */
struct vg_sel {
    uint32_t *idx;
    size_t n;
    size_t cap;
    size_t n_left;
};

/* batch.c */
void vg_batch_init(struct vg_batch *b, size_t n_slots);
void vg_batch_fini(struct vg_batch *b);
/* Drop all events and arena allocations; keep capacity. */
void vg_batch_reset(struct vg_batch *b);
/* Append a zeroed event with n_slots null slots; returns its index. Pointers into b->ev are
 * invalidated by this call (indices stay valid). */
uint32_t vg_batch_add(struct vg_batch *b);
/* Append idx to s (grows from the batch arena). */
void vg_sel_push(struct vg_batch *b, struct vg_sel *s, uint32_t idx);
/* Give s room for n indices (s->n unchanged). */
void vg_sel_reserve(struct vg_batch *b, struct vg_sel *s, size_t n);
/* Append ev as the JSON object an operator made of it (fields_fn or fields_json) and return
 * true; false (nothing appended) when no operator made one: its payload is the event. */
bool vg_event_fields(const struct vg_event *ev, struct vg_buf *out);

/* ---- load time ---- */

enum vg_op_flags {
    VG_OP_SOURCE = 1u << 0,
    VG_OP_SINK = 1u << 1,
    VG_OP_STATELESS = 1u << 2,
    VG_OP_KEYED = 1u << 3,
    VG_OP_JOIN = 1u << 4,   /* inputs are the operator key's left and right (vg_sel.n_left) */
    VG_OP_TABLE = 1u << 5,  /* not a stream: looked up by a join, never processed */
};

struct vg_scope;
struct vg_fields;

enum vg_output_kind { VG_OUT_KAFKA, VG_OUT_FILE, VG_OUT_STDOUT };

/* What create may use. Filled by the compiler (compile.c) for each node. */
struct vg_op_env {
    const struct vg_topology *topo;
    struct vg_diag *diag;
    struct vg_fields *fields;       /* the topology's slot table */
    const struct vg_scope *in;      /* fields visible from the node's inputs (NULL: source) */
    struct vg_scope *out;           /* what the node outputs; create may replace it */
    struct vg_compiled *compiled;   /* engine-side registry of sources and outputs */
    bool keyed;                     /* event time matters (VG_OP_KEYED); create may clear it */
    /* create may set it: the node keeps state in Redis (state_save ...) although event time
     * does not hold it back (a rules node's suppression); keyed nodes with state_save keep
     * theirs anyway */
    bool stateful;
};

/* Build expression options for a YAML scalar holding an expression: resolution in env->in,
 * the scalar's position (quote skipped). Thread: main. */
void vg_op_env_expr_opts(const struct vg_op_env *env, const struct vg_ynode *y,
                         enum vg_expr_want want, struct vg_expr_opts *opts);
/* Compile the expression held by scalar y, or NULL after diagnostics. */
struct vg_expr *vg_op_env_expr(const struct vg_op_env *env, const struct vg_ynode *y,
                               enum vg_expr_want want);

/* What a `table` node (operators/table.c) asks of the engine, and what joins look up. */
struct vg_table_conf {
    const char *name;           /* the node's name: a join's output holds the row under it */
    bool kafka;                 /* table: kafka (else redis) */
    const char *key_pattern;    /* redis: key of a row's hash; "{}" stands for the key */
    const char *topic;          /* kafka: the compacted topic, held in memory by the engine */
    size_t cache_rows;          /* per join and stream thread */
    int64_t cache_ttl_ms;       /* a cached row (or its absence) is fetched again after this */
};

/* ---- run time ---- */

#define VG_TIME_NONE INT64_MIN

struct vg_op_ctx {
    struct vg_expr_ctx *expr;       /* this thread's evaluation context */
    vg_time_ms now_ms;              /* wall clock when the batch was polled */
    /* Event time of this stage after the batch's source events: the minimum over the
     * partitions feeding this thread (idle ones excluded) of max event time - lateness;
     * VG_TIME_NONE before any event. Windows close when it passes their end. */
    vg_time_ms watermark;
    void *rt;                       /* engine's thread state, opaque */
    /* Send the source record of ev to its source's dead-letter output with reason, and
     * count it. The event must not be passed on. */
    void (*dead_letter)(struct vg_op_ctx *ctx, const struct vg_event *ev, const char *reason);
    /* Hand one encoded record to output out (from vg_op_env_output). Copies the data. For
     * Kafka outputs delivery is tracked and the source offsets of ev are committed only after
     * the broker acknowledged it. Returns 0 or a negative VG_E* (the engine retries outages
     * itself; an error here means the record could not be accepted at all). */
    int (*write)(struct vg_op_ctx *ctx, int out, const void *key, size_t key_len,
                 const void *value, size_t len, const struct vg_event *ev);
    /* Run fn(arg, i) for every i in [0, n) on the rule thread pool and return when all are
     * done. fn must only touch data owned by index i. */
    void (*parallel)(struct vg_op_ctx *ctx, void (*fn)(void *arg, size_t i), void *arg,
                     size_t n);
    /* Number of workers behind parallel (>= 1). */
    size_t n_workers;
    /* Tables: the rows of table t with keys[0..n). Redis: HGETALL of each key (pipelined in
     * one round trip), row(ud, i, field, flen, val, vlen) for each field of the hash keys[i];
     * Kafka: row(ud, i, NULL, 0, json, len) with the row's JSON value, from memory. None when
     * there is no such row. An outage pauses the thread and is retried here; returns 0, or a
     * negative VG_E* when the thread is stopping. */
    int (*lookup)(struct vg_op_ctx *ctx, const struct vg_table_conf *t, const char *const *keys,
                  const size_t *klens, size_t n,
                  void (*row)(void *ud, size_t i, const char *field, size_t flen, const char *val,
                              size_t vlen),
                  void *ud);
    /* vigil replay: alerts are marked replay and sinks write JSON lines to its output; the
     * state is saved once, at the end, whole (state_save with all set), so operators need
     * not track what changed (a change list would hold every window the replay touched) */
    bool replay;
};

/* Where an operator's state goes at a checkpoint: entries grouped in buckets (the engine
 * writes bucket B of a partition as the Redis hash vg:{topology:node:partition}:B, with the
 * source offsets it covers; state.h). Group entries that are written and deleted together. */
struct vg_state_out {
    void *ud;
    void (*put)(struct vg_state_out *o, int32_t partition, const char *bucket, const char *key,
                size_t klen, const void *val, size_t len, int64_t ttl_ms);
    void (*del)(struct vg_state_out *o, int32_t partition, const char *bucket, const char *key,
                size_t klen);
};

struct vg_op_type {
    const char *name;                   /* the operator key in the topology */
    const char *summary;                /* one line for docs */
    unsigned flags;                     /* enum vg_op_flags */
    const struct vg_key_spec *keys;     /* accepted node keys besides the operator key; {0} */
    const struct vg_key_spec *op_keys;  /* VG_K_MAP operator key: the keys inside it, or NULL */
    enum vg_key_type op_key_type;       /* type of the operator key's own value */
    const char *op_key_values;          /* VG_K_ENUM values for the operator key */
    const char *not_supported_yet;      /* non-NULL: parsed, then rejected with this note */
    int (*create)(const struct vg_node *node, struct vg_op_env *env, void **conf);
    int (*open)(const void *conf, struct vg_op_ctx *ctx, void **st);
    int (*process)(void *st, struct vg_batch *b, const struct vg_sel *in, struct vg_sel *out,
                   struct vg_op_ctx *ctx);
    int (*flush)(void *st, struct vg_op_ctx *ctx);
    void (*close)(void *st);
    void (*destroy)(void *conf);
    /* After every node was created (so downstream nodes have named what they read), at load
     * time; optional. */
    void (*finish)(void *conf, struct vg_compiled *c);
    /* Operators with state that must survive restarts (keyed ones, and those that set
     * vg_op_env.stateful; all optional, all on the stream thread, between batches). save: queue what changed since the last confirmed save (all
     * entries when `all`, e.g. after Redis came back empty), without forgetting it; saved:
     * the engine's write succeeded, forget the changes; load: one entry saved earlier for a
     * partition just assigned; drop: a partition was revoked, forget its entries. */
    int (*state_save)(void *st, struct vg_state_out *out, bool all);
    void (*state_saved)(void *st);
    int (*state_load)(void *st, int32_t partition, const char *key, size_t klen, const char *val,
                      size_t len);
    void (*state_drop)(void *st, int32_t partition);
    /* Skipping work nobody can see (both optional, at compile time). input_floor: a consumer
     * says it outputs nothing for a record whose integer input slot is below *floor (false:
     * it cannot say). output_floor: a producer whose one and only consumer is `consumer` may
     * ask it and then leave out the records that consumer would drop anyway. */
    bool (*input_floor)(const void *conf, int slot, int64_t *floor);
    void (*output_floor)(void *conf, const struct vg_op_type *consumer, const void *cconf);
};

/* ---- registry (op_registry.c) ---- */

/* The operator type for a topology key, or NULL. */
const struct vg_op_type *vg_op_find(const char *name);
/* All operator types, sorted by name. */
size_t vg_op_all(const struct vg_op_type *const **types);

#endif
