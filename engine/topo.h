/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topo.h - a topology file loaded and checked: the YAML tree with positions, the top-level
 * settings, and the nodes in topological order with their inputs resolved.
 *
 * vg_topo_load does every check that needs no operator code: YAML syntax, ${VAR:-default}
 * interpolation, top-level keys, exactly one operator key per node, each node's keys against
 * its operator's key table (unknown key with the closest valid one as a hint, missing
 * required key, wrong type, bad duration, enum value, range), dangling inputs, duplicate
 * nodes, cycles, and operators not supported yet. Expressions, fields and schemas are checked
 * afterwards by the compiler (compile.h), which calls each operator's create.
 *
 * Thread: main (load time). The result is immutable afterwards and shared by all threads.
 */
#ifndef VG_TOPO_H
#define VG_TOPO_H

#include "diag.h"

enum vg_ytype { VG_Y_SCALAR, VG_Y_SEQ, VG_Y_MAP };

/* One YAML node after interpolation. */
struct vg_ynode {
    enum vg_ytype type;
    struct vg_mark mark;        /* first character of the node (for quoted scalars: the quote) */
    char quote;                 /* scalar: 0 plain, '\'' or '"' (block scalars: '|' or '>') */
    bool interpolated;          /* the scalar contained ${...} (columns inside are approximate) */
    char *str;                  /* scalar text, NUL-terminated */
    size_t len;
    size_t n;                   /* SEQ: items; MAP: pairs */
    struct vg_ynode **items;    /* SEQ items; MAP values */
    struct vg_ynode **keys;     /* MAP keys (scalars) */
};

/* Value of key in a MAP node, or NULL (also when map is NULL or not a map). */
const struct vg_ynode *vg_ynode_get(const struct vg_ynode *map, const char *key);
/* A value that is one scalar or a list of scalars (VG_K_STRLIST, e.g. partitioned_by): how
 * many strings (0 for NULL), and the i-th. */
size_t vg_ylist_len(const struct vg_ynode *y);
const char *vg_ylist_str(const struct vg_ynode *y, size_t i);

enum vg_key_type {
    VG_K_STRING,    /* a scalar */
    VG_K_INT,       /* an integer within [min, max] */
    VG_K_BOOL,
    VG_K_DURATION,  /* 500ms, 30s, 5m, 1h, 2d */
    VG_K_ENUM,      /* one of enum_values, "a|b|c" */
    VG_K_STRLIST,   /* a scalar or a list of scalars */
    VG_K_MAP,       /* a mapping (checked by the operator) */
    VG_K_EXPR,      /* an expression (compiled by the operator) */
    VG_K_ANY,       /* anything (checked by the operator) */
    VG_K_INPUTS,    /* a node name or a list of node names */
};

/* One accepted key of an operator (or of the top level). A table ends with {0}. */
struct vg_key_spec {
    const char *name;
    enum vg_key_type type;
    bool required;
    const char *enum_values;    /* VG_K_ENUM: "json|avro" */
    int64_t min, max;           /* VG_K_INT range (both 0: unbounded) */
    const char *defval;         /* documented default, or NULL */
    const char *doc;            /* one line for docs and `vigil ops` */
};

struct vg_op_type;

struct vg_node {
    char *name;
    struct vg_mark mark;                /* the node's name in the file */
    const struct vg_op_type *type;
    const struct vg_ynode *body;        /* the node's mapping */
    const struct vg_ynode *op;          /* the value of its operator key */
    struct vg_node **inputs;            /* resolved `input` (or join left/right) */
    size_t n_inputs;
    size_t index;                       /* position in topological order */
};

struct vg_kv {
    char *key;
    char *value;
};

struct vg_topology {
    char *file;                 /* as given on the command line */
    char *dir;                  /* its directory, for relative paths inside it */
    char *name;
    char *description;          /* "" when absent */
    int64_t latency_budget_ms;  /* 0 when absent */
    int parallelism;            /* 0 when absent: number of cores */
    int rule_threads;           /* 0 when absent: number of cores */
    struct vg_kv *kafka;        /* librdkafka properties as given */
    size_t n_kafka;
    char *redis_url;            /* NULL when absent */
    struct vg_node **nodes;     /* topological order: every input precedes its consumers */
    size_t n_nodes;
    struct vg_ynode *root;
};

/* Load and check path. Returns the topology, or NULL when any diagnostic was added (all
 * that could be found are in diag). Thread: main. */
struct vg_topology *vg_topo_load(const char *path, struct vg_diag *diag);
/* Same from text in memory; file names the source in diagnostics. */
struct vg_topology *vg_topo_load_string(const char *file, const char *text, size_t len,
                                        struct vg_diag *diag);
void vg_topo_free(struct vg_topology *topo);
/* The checks on a parsed tree (topo_check.c); takes ownership of root, NULL after
 * diagnostics. Used by the loaders above. */
struct vg_topology *vg_topo_check(const char *file, struct vg_ynode *root, struct vg_diag *diag);

/* Find a node by name, or NULL. */
struct vg_node *vg_topo_node(const struct vg_topology *topo, const char *name);

/* Typed access to a checked node key (the checker already verified type and range);
 * return def when the key is absent. Thread: main. */
const char *vg_node_str(const struct vg_node *node, const char *key, const char *def);
int64_t vg_node_int(const struct vg_node *node, const char *key, int64_t def);
int64_t vg_node_duration_ms(const struct vg_node *node, const char *key, int64_t def);
bool vg_node_bool(const struct vg_node *node, const char *key, bool def);

/* Parse a YAML file into a tree with positions, interpolating ${VAR} and ${VAR:-default} in
 * scalars. NULL after diagnostics. Used for topology files and for rules files. */
struct vg_ynode *vg_yaml_load(const char *path, struct vg_diag *diag);
struct vg_ynode *vg_yaml_load_string(const char *file, const char *text, size_t len,
                                     struct vg_diag *diag);
void vg_ynode_free(struct vg_ynode *y);

/* Check a mapping against a key table: unknown keys (with a did-you-mean hint), missing
 * required keys, types, durations, enums, ranges. `what` prefixes messages, e.g.
 * "node 'failures'" or "rule 'AUTH-001'". skip names one extra key to accept unchecked (the
 * operator key), or NULL. Returns true when no diagnostic was added. Thread: main. */
bool vg_keys_check(const struct vg_ynode *map, const struct vg_key_spec *keys, const char *skip,
                   const char *what, struct vg_diag *diag);

enum vg_graph_format { VG_GRAPH_TEXT, VG_GRAPH_DOT, VG_GRAPH_MERMAID };
/* Print the DAG (topo_graph.c). Thread: main. */
void vg_topo_graph(const struct vg_topology *topo, enum vg_graph_format fmt, FILE *out);

#endif
