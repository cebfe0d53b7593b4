/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compile.h - from a checked topology to what the runtime executes.
 *
 * vg_compile walks the nodes in topological order, works out which fields each node can
 * see (its scope), gives every field path a slot, and calls each operator's create, which
 * compiles expressions and registers the node's Kafka sources and outputs here. The result
 * is immutable and shared by the stream threads: per node its operator config; per source
 * the topic and the field paths to decode; per output its kind and target.
 *
 * Scopes. A source's scope holds the paths of its events (any path, unless the source
 * declares `fields` or a `schema`, in which case only those). A map's scope holds exactly the
 * names it defines, each in a slot of its own, so branches never see each other's values. A
 * rules node's output is alerts, which expose no fields. A node with several inputs sees a
 * field only when every input has it in the same slot.
 *
 * Keys. A scope also says what its events are grouped by (struct vg_stream_key): a window's
 * output by its `key:` fields, a stream-stream join's by its `on` key; filters and maps pass
 * their input's key on (their events still hold the upstream's slots). A rules node without
 * a `key:` of its own takes it as the alert key (docs/topology.md, Alerts).
 *
 * Thread: main (load time).
 */
#ifndef VG_COMPILE_H
#define VG_COMPILE_H

#include "codec.h"
#include "vg_op.h"

struct vg_compiled_source {
    const struct vg_node *node;
    const char *topic;
    const char *dead_letter;        /* NULL: count and log only */
    bool start_latest;
    struct vg_paths *paths;         /* filled while later nodes resolve fields */
};

struct vg_compiled_output {
    enum vg_output_kind kind;
    const char *target;             /* topic or file path; NULL for stdout */
    const struct vg_node *node;
};

/* A keyed operator fed through a repartition topic (exchange.h). The topic is both an output
 * (written with the operator's upstream events) and a source (read back for the operator). */
struct vg_compiled_exchange {
    const struct vg_node *node;
    char *topic;                    /* <topology>.<node>.repartition */
    int source_id;                  /* the topic as a source */
    int output_id;                  /* the topic as an output */
    int *key_slots;                 /* the record key */
    size_t n_keys;
    int *val_slots;                 /* what a record carries (keys first) */
    size_t n_vals;
    uint64_t upstream;              /* the sources whose partitions are its writers (bits) */
    /* joins: one exchange per side; the writer evaluates key_expr (the join's, borrowed) into
     * key_slots[0], and the record also carries the event's payload */
    struct vg_expr *key_expr;
    bool payload;
};

/* The key of a stream's events: n fields (0: one group for all events, a window without
 * `key:`), each held in one of n_alt slots. Several slots per field only for a node with
 * several inputs that each hold the field in a slot of its own (two windows keyed by user):
 * an event has a value in the slots of the node it came from and null in the others. Made
 * and owned by the compiler; mixed: the inputs are keyed differently (why says how). */
struct vg_stream_key {
    size_t n;
    char **names;
    size_t n_alt;
    int *slots;                     /* field i's candidates: slots[i * n_alt + 0 .. n_alt) */
    bool mixed;
    char *why;
    struct vg_stream_key *next_owned;
};

struct vg_compiled_node {
    const struct vg_node *node;
    const struct vg_op_type *type;
    void *conf;
    struct vg_scope *scope;         /* what the node outputs */
    int source_id;                  /* sources: index in sources[], else -1 */
    int exchange;                   /* fed through exchanges[exchange], else -1 */
    int n_exchanges;                /* how many from there: 1, or 2 for a join (left, right) */
    uint64_t fed_by;                /* sources whose partitions feed it (bit per source id) */
    bool keyed;                     /* event time matters to it (vg_op_env.keyed) */
    bool stateful;                  /* with state in Redis (the type's state_save) */
    /* stateful: the namespace of its state in the store (state.h): its name, or
     * "<home>/<name>" when all its events come from one stateful node upstream (a rules node
     * after a window), whose hash slot and transactions its state then shares */
    const char *state_name;
    char *state_name_buf;
};

struct vg_compiled {
    const struct vg_topology *topo;
    struct vg_fields *fields;
    size_t n_slots;
    struct vg_compiled_node *nodes; /* same order as topo->nodes */
    size_t n_nodes;
    struct vg_compiled_source *sources;
    size_t n_sources;
    struct vg_compiled_output *outputs;
    size_t n_outputs;
    struct vg_compiled_exchange *exchanges;
    size_t n_exchanges;
    struct vg_scope *scopes;        /* every scope made, for freeing */
    struct vg_stream_key *keys;     /* every key made, for freeing */
};

/* Compile topo; NULL after diagnostics (all that could be found). Thread: main. */
struct vg_compiled *vg_compile(const struct vg_topology *topo, struct vg_diag *diag);
void vg_compiled_free(struct vg_compiled *c);
/* The slot of a source field (its path as written), or -1 when no node reads it. */
int vg_compiled_source_slot(const struct vg_compiled *c, const char *path);
/* Is source s a repartition topic (written and read back by the topology itself, never a
 * user's input)? Thread: any. */
bool vg_compiled_is_exchange(const struct vg_compiled *c, size_t s);

/* For source operators at create: register the Kafka topic this node reads; returns the
 * source id that the runtime stamps on its events (ev->source). */
int vg_compile_add_source(struct vg_op_env *env, const struct vg_node *node, const char *topic,
                          const char *dead_letter, bool start_latest);
/* Make env->out a source scope for source id: open (declared == NULL) or limited to the
 * declared paths / the schema's fields. */
void vg_compile_source_scope(struct vg_op_env *env, int source_id, const char *const *declared,
                             size_t n_declared, const struct vg_avro_schema *schema);
/* For sinks at create: register an output; returns its id for ctx->write. */
int vg_compile_add_output(struct vg_op_env *env, const struct vg_node *node,
                          enum vg_output_kind kind, const char *target);
/* For keyed operators at create, when their upstream sources are not partitioned by their
 * key: feed the node through a repartition topic keyed by key_slots and carrying val_slots
 * (both resolved in env->in). Returns the exchange id. */
int vg_compile_add_exchange(struct vg_op_env *env, const struct vg_node *node,
                            const int *key_slots, size_t n_keys, const int *val_slots,
                            size_t n_vals);
/* For joins at create, one per side: the side's events go through
 * <topology>.<node>.<side>.repartition, keyed by the value of key (evaluated by the writer
 * into key_slot) and carrying their payload. Returns the exchange id. */
int vg_compile_add_side_exchange(struct vg_op_env *env, const struct vg_node *node,
                                 const char *side, int key_slot, struct vg_expr *key);
/* More slots a repartition record must carry (a join's, once downstream named them). */
void vg_compile_exchange_vals(struct vg_compiled *c, int x, const int *slots, size_t n);
/* For map at create: define name in the node's output scope; returns its slot. */
int vg_compile_define(struct vg_op_env *env, const char *name);
/* For operators whose output fields are made on demand (a join: `logins.user`): fn resolves
 * a path downstream nodes use, returning 0 and its slot, or -1 with a hint. */
typedef int (*vg_scope_fn)(void *ud, const char *path, int *slot, char *hint, size_t hint_size);
void vg_compile_custom_scope(struct vg_op_env *env, vg_scope_fn fn, void *ud);
/* The output scope of node n, compiled before the node being created (its inputs). */
const struct vg_scope *vg_compile_node_scope(const struct vg_compiled *c, const struct vg_node *n);
/* Resolve path in scope s: 0 and its slot, or -1 with a hint. */
int vg_compile_scope_resolve(const struct vg_scope *s, const char *path, int *slot, char *hint,
                             size_t hint_size);
/* The slot named name (made on first use; an operator's own names should carry its address). */
int vg_compile_slot(struct vg_compiled *c, const char *name);
/* For keyed operators at create, once env->out is the node's own output scope: its events are
 * grouped by names[0..n), held in slots[0..n) of that scope (n == 0: one group for all).
 * Copies the arrays. Keyed operators that declare nothing are keyed by their `key:` fields
 * (a window's, which its output holds), or by one group for all when they have none.
 * Thread: main. */
void vg_compile_set_key(struct vg_op_env *env, const char *const *names, const int *slots,
                        size_t n);
/* For operators at create whose output events are an input's (an enrichment): they keep its
 * key k (vg_compile_node_key; NULL: none). Thread: main. */
void vg_compile_keep_key(struct vg_op_env *env, const struct vg_stream_key *k);
/* The key of node n's output events (a node compiled before the one being created), or NULL.
 * Thread: main. */
const struct vg_stream_key *vg_compile_node_key(const struct vg_compiled *c,
                                                const struct vg_node *n);
/* The key of the events reaching the node (env->in): NULL when they have none (a source's
 * events); a key with mixed set when its inputs are keyed differently. Thread: main. */
const struct vg_stream_key *vg_compile_in_key(const struct vg_op_env *env);
/* For rules at create: the output is alerts (no fields). */
void vg_compile_alert_scope(struct vg_op_env *env);
/* Resolve a field in env->in (for key lists); returns the slot or -1 after a diagnostic at y. */
int vg_compile_resolve(struct vg_op_env *env, const char *path, const struct vg_ynode *y);
/* When scope s (the input of a node) is a map's output, append its fields as a JSON object
 * for ev and return true; otherwise return false and append nothing. Thread: stream. */
bool vg_scope_write_json(const struct vg_scope *s, const struct vg_event *ev, struct vg_buf *out);
/* The scope of env->in, for operators that keep it for run time. */
static inline const struct vg_scope *vg_compile_in_scope(const struct vg_op_env *env)
{
    return env->in;
}

/* Resolve a path relative to the topology's directory, then the working directory; returns a
 * malloc'd path that exists, or NULL. Thread: main. */
char *vg_compile_find_file(const struct vg_topology *topo, const char *path);

#endif
