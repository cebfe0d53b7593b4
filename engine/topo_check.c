/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topo_check.c - the checks of a topology that need no operator code: top-level keys, one
 * operator key per node, each node's keys against its operator's key table, inputs, cycles,
 * topological order, and operators not supported yet. Every problem is reported (with the
 * closest valid word as a hint where there is one) and checking goes on, so one run of
 * `vigil validate` shows them all.
 *
 * Thread: main (load time).
 */
#include "topo.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "state.h"
#include "vg_op.h"

static const struct vg_key_spec top_keys[] = {
    {.name = "name", .type = VG_K_STRING, .required = true, .doc = "[a-z0-9-]+"},
    {.name = "description", .type = VG_K_STRING},
    {.name = "latency_budget", .type = VG_K_DURATION},
    {.name = "parallelism", .type = VG_K_INT, .min = 1, .max = 256},
    {.name = "rule_threads", .type = VG_K_INT, .min = 1, .max = 256},
    {.name = "kafka", .type = VG_K_MAP},
    {.name = "redis", .type = VG_K_MAP},
    {.name = "nodes", .type = VG_K_MAP, .required = true},
    {0},
};

static const struct vg_key_spec redis_keys[] = {
    {.name = "url", .type = VG_K_STRING, .doc = "redis://[:password@]host:port[/db]"},
    {0},
};

/* "a|b|c" -> "a, b, c" */
static void enum_list(const char *values, char *out, size_t size)
{
    size_t w = 0;
    for (const char *p = values; *p && w + 3 < size; p++) {
        if (*p == '|') {
            out[w++] = ',';
            out[w++] = ' ';
        } else {
            out[w++] = *p;
        }
    }
    out[w] = '\0';
}

static bool enum_has(const char *values, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = values; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static bool parse_int(const char *s, int64_t *out)
{
    if (!*s)
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

static bool is_list_of_scalars(const struct vg_ynode *y)
{
    if (y->type == VG_Y_SCALAR)
        return true;
    if (y->type != VG_Y_SEQ)
        return false;
    for (size_t i = 0; i < y->n; i++)
        if (y->items[i]->type != VG_Y_SCALAR)
            return false;
    return true;
}

/* Check one value against its spec; what/key name it in messages. */
static bool check_value(const struct vg_ynode *v, const struct vg_key_spec *k, const char *what,
                        struct vg_diag *d)
{
    char buf[256];
    switch (k->type) {
    case VG_K_STRING:
    case VG_K_EXPR:
        if (v->type != VG_Y_SCALAR) {
            vg_diag_add(d, v->mark, NULL, "%s: key '%s': expected %s", what, k->name,
                        k->type == VG_K_EXPR ? "an expression (a string)" : "a string");
            return false;
        }
        return true;
    case VG_K_INT: {
        int64_t n;
        bool ranged = k->min || k->max;
        if (v->type != VG_Y_SCALAR || !parse_int(v->str, &n) ||
            (ranged && (n < k->min || n > k->max))) {
            if (ranged)
                vg_diag_add(d, v->mark, NULL,
                            "%s: key '%s': expected an integer between %lld and %lld, got '%s'",
                            what, k->name, (long long)k->min, (long long)k->max,
                            v->type == VG_Y_SCALAR ? v->str : "a collection");
            else
                vg_diag_add(d, v->mark, NULL, "%s: key '%s': expected an integer, got '%s'", what,
                            k->name, v->type == VG_Y_SCALAR ? v->str : "a collection");
            return false;
        }
        return true;
    }
    case VG_K_BOOL:
        if (v->type != VG_Y_SCALAR || (strcmp(v->str, "true") && strcmp(v->str, "false"))) {
            vg_diag_add(d, v->mark, NULL, "%s: key '%s': expected true or false, got '%s'", what,
                        k->name, v->type == VG_Y_SCALAR ? v->str : "a collection");
            return false;
        }
        return true;
    case VG_K_DURATION: {
        int64_t ms;
        if (v->type != VG_Y_SCALAR || vg_duration_parse(v->str, v->len, &ms) != 0) {
            vg_diag_add(d, v->mark, NULL,
                        "%s: key '%s': expected a duration like 30s, got '%s'", what, k->name,
                        v->type == VG_Y_SCALAR ? v->str : "a collection");
            return false;
        }
        return true;
    }
    case VG_K_ENUM:
        if (v->type != VG_Y_SCALAR || !enum_has(k->enum_values, v->str)) {
            enum_list(k->enum_values, buf, sizeof(buf));
            vg_diag_add(d, v->mark, NULL, "%s: key '%s': expected one of %s, got '%s'", what,
                        k->name, buf, v->type == VG_Y_SCALAR ? v->str : "a collection");
            return false;
        }
        return true;
    case VG_K_STRLIST:
        if (!is_list_of_scalars(v)) {
            vg_diag_add(d, v->mark, NULL, "%s: key '%s': expected a string or a list of strings",
                        what, k->name);
            return false;
        }
        return true;
    case VG_K_INPUTS:
        if (!is_list_of_scalars(v) || (v->type == VG_Y_SEQ && v->n == 0)) {
            vg_diag_add(d, v->mark, NULL,
                        "%s: key '%s': expected a node name or a list of node names", what,
                        k->name);
            return false;
        }
        return true;
    case VG_K_MAP:
        if (v->type != VG_Y_MAP) {
            vg_diag_add(d, v->mark, NULL, "%s: key '%s': expected a mapping", what, k->name);
            return false;
        }
        return true;
    case VG_K_ANY:
        return true;
    }
    return true;
}

bool vg_keys_check(const struct vg_ynode *map, const struct vg_key_spec *keys, const char *skip,
                   const char *what, struct vg_diag *diag)
{
    size_t before = vg_diag_count(diag);
    if (!map || map->type != VG_Y_MAP) {
        vg_diag_add(diag, map ? map->mark : (struct vg_mark){0}, NULL, "%s: expected a mapping",
                    what);
        return false;
    }
    const char *names[64];
    size_t n_names = 0;
    for (const struct vg_key_spec *k = keys; k->name && n_names < 63; k++)
        names[n_names++] = k->name;
    if (skip)
        names[n_names++] = skip;
    for (size_t i = 0; i < map->n; i++) {
        const struct vg_ynode *key = map->keys[i];
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            if (strcmp(map->keys[j]->str, key->str) == 0) {
                vg_diag_add(diag, key->mark, NULL, "%s: duplicate key '%s' (first at line %d)",
                            what, key->str, map->keys[j]->mark.line);
                dup = true;
            }
        if (dup || (skip && strcmp(key->str, skip) == 0))
            continue;
        const struct vg_key_spec *k = keys;
        while (k->name && strcmp(k->name, key->str) != 0)
            k++;
        if (!k->name) {
            const char *close = vg_diag_closest(key->str, names, n_names);
            char hint[128];
            snprintf(hint, sizeof(hint), "did you mean '%s'?", close ? close : "");
            vg_diag_add(diag, key->mark, close ? hint : NULL, "%s: unknown key '%s'", what,
                        key->str);
            continue;
        }
        check_value(map->items[i], k, what, diag);
    }
    for (const struct vg_key_spec *k = keys; k->name; k++)
        if (k->required && !vg_ynode_get(map, k->name))
            vg_diag_add(diag, map->mark, NULL, "%s: missing required key '%s'", what, k->name);
    return vg_diag_count(diag) == before;
}

/* ---- nodes ---- */

static bool valid_node_name(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

static bool valid_topo_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return false;
    return true;
}

struct checker {
    struct vg_topology *t;
    struct vg_diag *d;
    struct vg_node **all;       /* in file order */
    size_t n_all;
    const struct vg_ynode *nodes_key;
    bool failed;
};

static struct vg_node *find_node(struct checker *c, const char *name)
{
    for (size_t i = 0; i < c->n_all; i++)
        if (strcmp(c->all[i]->name, name) == 0)
            return c->all[i];
    return NULL;
}

/* The operator key of a node, or NULL after a diagnostic. */
static const struct vg_ynode *operator_key(struct checker *c, const char *name,
                                           const struct vg_ynode *body, struct vg_mark at,
                                           const struct vg_op_type **type)
{
    const struct vg_ynode *found = NULL;
    *type = NULL;
    for (size_t i = 0; i < body->n; i++) {
        const struct vg_op_type *t = vg_op_find(body->keys[i]->str);
        if (!t)
            continue;
        if (found) {
            vg_diag_add(c->d, body->keys[i]->mark, NULL,
                        "node '%s': more than one operator key: '%s' and '%s'", name, found->str,
                        body->keys[i]->str);
            return NULL;
        }
        found = body->keys[i];
        *type = t;
    }
    if (!found) {
        const struct vg_op_type *const *types;
        size_t n = vg_op_all(&types);
        const char *names[16];
        char list[256] = "";
        for (size_t i = 0; i < n && i < 16; i++) {
            names[i] = types[i]->name;
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                     types[i]->name);
        }
        const char *close = NULL;
        for (size_t i = 0; i < body->n && !close; i++)
            close = vg_diag_closest(body->keys[i]->str, names, VG_MIN(n, (size_t)16));
        char hint[128];
        snprintf(hint, sizeof(hint), "did you mean '%s'?", close ? close : "");
        vg_diag_add(c->d, at, close ? hint : NULL,
                    "node '%s': no operator key (expected one of %s)", name, list);
    }
    return found;
}

static void check_node(struct checker *c, const struct vg_ynode *key, const struct vg_ynode *body)
{
    const char *name = key->str;
    char what[300];
    snprintf(what, sizeof(what), "node '%s'", name);
    if (!valid_node_name(name)) {
        vg_diag_add(c->d, key->mark, NULL,
                    "node name '%s' must be letters, digits and '_', starting with a letter or '_'",
                    name);
        c->failed = true;
    }
    for (size_t i = 0; i < c->n_all; i++)
        if (strcmp(c->all[i]->name, name) == 0) {
            vg_diag_add(c->d, key->mark, NULL, "duplicate node '%s' (first defined at line %d)",
                        name, c->all[i]->mark.line);
            c->failed = true;
            return;
        }
    struct vg_node *n = vg_xcalloc(1, sizeof(*n));
    n->name = vg_xstrdup(name);
    n->mark = key->mark;
    n->body = body;
    c->all = vg_xrealloc(c->all, (c->n_all + 1) * sizeof(*c->all));
    c->all[c->n_all++] = n;
    if (body->type != VG_Y_MAP) {
        vg_diag_add(c->d, body->mark, NULL, "%s: expected a mapping with an operator key", what);
        c->failed = true;
        return;
    }
    const struct vg_op_type *type;
    const struct vg_ynode *opkey = operator_key(c, name, body, key->mark, &type);
    if (!opkey) {
        c->failed = true;
        return;
    }
    n->type = type;
    n->op = vg_ynode_get(body, opkey->str);
    struct vg_key_spec opspec = {.name = type->name, .type = type->op_key_type,
                                 .enum_values = type->op_key_values};
    if (!check_value(n->op, &opspec, what, c->d))
        c->failed = true;
    if (!vg_keys_check(body, type->keys, type->name, what, c->d))
        c->failed = true;
    if (type->op_keys && n->op && n->op->type == VG_Y_MAP &&
        !vg_keys_check(n->op, type->op_keys, NULL, what, c->d))
        c->failed = true;
    if (type->not_supported_yet) {
        vg_diag_add(c->d, opkey->mark, NULL, "%s: %s", what, type->not_supported_yet);
        c->failed = true;
    }
}

static void resolve_inputs(struct checker *c, struct vg_node *n)
{
    const struct vg_ynode *in = vg_ynode_get(n->body, "input");
    const struct vg_ynode *sides[2] = {NULL, NULL};
    if (n->type && (n->type->flags & VG_OP_JOIN)) { /* a join's inputs are left and right */
        sides[0] = vg_ynode_get(n->op, "left");
        sides[1] = vg_ynode_get(n->op, "right");
        if (!sides[0] || !sides[1] || sides[0]->type != VG_Y_SCALAR ||
            sides[1]->type != VG_Y_SCALAR)
            return; /* reported by the key check */
    } else if (!in || !n->type || (n->type->flags & VG_OP_SOURCE) || !is_list_of_scalars(in)) {
        return; /* a source's `input` is already an unknown key */
    }
    size_t count = sides[0] ? 2 : in->type == VG_Y_SEQ ? in->n : 1;
    n->inputs = vg_xcalloc(count + 1, sizeof(*n->inputs));
    const char **names = vg_xcalloc(c->n_all + 1, sizeof(*names));
    for (size_t i = 0; i < c->n_all; i++)
        names[i] = c->all[i]->name;
    for (size_t i = 0; i < count; i++) {
        const struct vg_ynode *y = sides[0] ? sides[i] : in->type == VG_Y_SEQ ? in->items[i] : in;
        struct vg_node *up = find_node(c, y->str);
        if (!up) {
            const char *close = vg_diag_closest(y->str, names, c->n_all);
            char hint[300];
            snprintf(hint, sizeof(hint), "did you mean '%s'?", close ? close : "");
            vg_diag_add(c->d, y->mark, close ? hint : NULL, "node '%s': input '%s' is not a node",
                        n->name, y->str);
            c->failed = true;
            continue;
        }
        if (up->type && (up->type->flags & VG_OP_SINK)) {
            vg_diag_add(c->d, y->mark, NULL,
                        "node '%s': input '%s' is a sink, which has no output", n->name, y->str);
            c->failed = true;
            continue;
        }
        bool table_ok = sides[0] && i == 1; /* a table is only looked up, as a join's right */
        if (up->type && (up->type->flags & VG_OP_TABLE) && !table_ok) {
            vg_diag_add(c->d, y->mark, NULL,
                        "node '%s': '%s' is a table, which is not a stream: use it as the right "
                        "side of a join",
                        n->name, y->str);
            c->failed = true;
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < n->n_inputs; k++)
            dup |= n->inputs[k] == up;
        if (dup) {
            vg_diag_add(c->d, y->mark, NULL, "node '%s': input '%s' is listed twice", n->name,
                        y->str);
            c->failed = true;
            continue;
        }
        n->inputs[n->n_inputs++] = up;
    }
    vg_free(names);
}

/* Depth-first search for cycles; each cycle is reported once, at its first node in the
 * file. color: 0 new, 1 on the path, 2 done. */
static void find_cycles(struct checker *c, size_t i, int *color, size_t *path, size_t depth,
                        bool *reported)
{
    color[i] = 1;
    path[depth] = i;
    struct vg_node *n = c->all[i];
    for (size_t k = 0; k < n->n_inputs; k++) {
        size_t j = 0;
        while (c->all[j] != n->inputs[k])
            j++;
        if (color[j] == 1) {
            /* the cycle is path[pos..depth] + j, walking upstream; print it downstream */
            size_t pos = depth;
            while (path[pos] != j)
                pos--;
            bool seen = false;
            for (size_t q = pos; q <= depth; q++)
                seen |= reported[path[q]];
            if (seen)
                continue;
            size_t first = j;
            for (size_t q = pos; q <= depth; q++) {
                reported[path[q]] = true;
                if (path[q] < first)
                    first = path[q];
            }
            /* data flows path[q+1] -> path[q] and path[pos] -> path[depth]: list the
             * cycle in flow order starting from its first node in the file */
            size_t len = depth - pos + 1, start = 0;
            for (size_t q = 0; q < len; q++)
                if (path[depth - q] == first)
                    start = q;
            char text[1024] = "";
            for (size_t s = 0; s <= len; s++)
                snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s",
                         s ? " -> " : "", c->all[path[depth - (start + s) % len]]->name);
            vg_diag_add(c->d, c->all[first]->mark, NULL, "node '%s': cycle: %s",
                        c->all[first]->name, text);
            c->failed = true;
        } else if (color[j] == 0) {
            find_cycles(c, j, color, path, depth + 1, reported);
        }
    }
    color[i] = 2;
}

static void order_nodes(struct checker *c)
{
    int *color = vg_xcalloc(c->n_all + 1, sizeof(*color));
    size_t *path = vg_xcalloc(c->n_all + 1, sizeof(*path));
    bool *reported = vg_xcalloc(c->n_all + 1, sizeof(*reported));
    for (size_t i = 0; i < c->n_all; i++)
        if (color[i] == 0)
            find_cycles(c, i, color, path, 0, reported);
    vg_free(path);
    vg_free(reported);
    if (!c->failed) {
        /* Kahn's algorithm, taking nodes in file order when several are ready */
        struct vg_topology *t = c->t;
        t->nodes = vg_xcalloc(c->n_all + 1, sizeof(*t->nodes));
        memset(color, 0, c->n_all * sizeof(*color));
        while (t->n_nodes < c->n_all) {
            bool progress = false;
            for (size_t i = 0; i < c->n_all; i++) {
                if (color[i])
                    continue;
                struct vg_node *n = c->all[i];
                bool ready = true;
                for (size_t k = 0; k < n->n_inputs && ready; k++)
                    ready = n->inputs[k]->index != SIZE_MAX;
                if (!ready)
                    continue;
                n->index = t->n_nodes;
                t->nodes[t->n_nodes++] = n;
                color[i] = 1;
                progress = true;
                break;
            }
            if (!progress)
                break;
        }
    }
    vg_free(color);
}

static void check_top(struct checker *c, const struct vg_ynode *root)
{
    struct vg_topology *t = c->t;
    if (!vg_keys_check(root, top_keys, NULL, "topology", c->d))
        c->failed = true;
    const struct vg_ynode *y;
    if ((y = vg_ynode_get(root, "name")) && y->type == VG_Y_SCALAR) {
        t->name = vg_xstrdup(y->str);
        if (!valid_topo_name(y->str)) {
            vg_diag_add(c->d, y->mark, NULL,
                        "topology name '%s' must be lowercase letters, digits and '-'", y->str);
            c->failed = true;
        }
    }
    y = vg_ynode_get(root, "description");
    t->description = vg_xstrdup(y && y->type == VG_Y_SCALAR ? y->str : "");
    if ((y = vg_ynode_get(root, "latency_budget")) && y->type == VG_Y_SCALAR)
        vg_duration_parse(y->str, y->len, &t->latency_budget_ms);
    int64_t v;
    if ((y = vg_ynode_get(root, "parallelism")) && y->type == VG_Y_SCALAR && parse_int(y->str, &v))
        t->parallelism = (int)VG_MAX(VG_MIN(v, 256), 1);
    if ((y = vg_ynode_get(root, "rule_threads")) && y->type == VG_Y_SCALAR && parse_int(y->str, &v))
        t->rule_threads = (int)VG_MAX(VG_MIN(v, 256), 1);
    if ((y = vg_ynode_get(root, "kafka")) && y->type == VG_Y_MAP) {
        t->kafka = vg_xcalloc(y->n + 1, sizeof(*t->kafka));
        for (size_t i = 0; i < y->n; i++) {
            if (y->items[i]->type != VG_Y_SCALAR) {
                vg_diag_add(c->d, y->items[i]->mark, NULL,
                            "kafka: key '%s': expected a string (librdkafka properties are "
                            "strings)",
                            y->keys[i]->str);
                c->failed = true;
                continue;
            }
            t->kafka[t->n_kafka].key = vg_xstrdup(y->keys[i]->str);
            t->kafka[t->n_kafka++].value = vg_xstrdup(y->items[i]->str);
        }
    }
    if ((y = vg_ynode_get(root, "redis")) && y->type == VG_Y_MAP) {
        if (!vg_keys_check(y, redis_keys, NULL, "redis", c->d))
            c->failed = true;
        const struct vg_ynode *url = vg_ynode_get(y, "url");
        if (url && url->type == VG_Y_SCALAR) {
            t->redis_url = vg_xstrdup(url->str);
            struct vg_err err = {0};
            struct vg_state *probe = vg_state_new(url->str, "check", &err);
            if (!probe) {
                vg_diag_add(c->d, url->mark, NULL, "redis: key 'url': %s", err.msg);
                c->failed = true;
            }
            vg_state_free(probe);
        }
    }
}

struct vg_topology *vg_topo_check(const char *file, struct vg_ynode *root, struct vg_diag *diag)
{
    struct vg_topology *t = vg_xcalloc(1, sizeof(*t));
    t->file = vg_xstrdup(file);
    t->root = root;
    struct checker c = {.t = t, .d = diag};
    size_t before = vg_diag_count(diag);
    if (root->type != VG_Y_MAP) {
        vg_diag_add(diag, root->mark, NULL,
                    "a topology is a YAML mapping with name: and nodes: at the top");
        vg_topo_free(t);
        return NULL;
    }
    check_top(&c, root);
    const struct vg_ynode *nodes = vg_ynode_get(root, "nodes");
    if (nodes && nodes->type == VG_Y_MAP) {
        for (size_t i = 0; i < nodes->n; i++)
            check_node(&c, nodes->keys[i], nodes->items[i]);
        for (size_t i = 0; i < c.n_all; i++)
            c.all[i]->index = SIZE_MAX;
        for (size_t i = 0; i < c.n_all; i++)
            resolve_inputs(&c, c.all[i]);
        order_nodes(&c);
        bool source = false, sink = false;
        for (size_t i = 0; i < c.n_all; i++)
            if (c.all[i]->type) {
                source |= (c.all[i]->type->flags & VG_OP_SOURCE) != 0;
                sink |= (c.all[i]->type->flags & VG_OP_SINK) != 0;
            }
        const struct vg_ynode *nodes_key = NULL;
        for (size_t i = 0; i < root->n; i++)
            if (root->items[i] == nodes)
                nodes_key = root->keys[i];
        if (!source)
            vg_diag_add(diag, nodes_key->mark, NULL, "topology has no source node");
        if (!sink)
            vg_diag_add(diag, nodes_key->mark, NULL, "topology has no sink node");
    }
    if (!t->nodes) {
        /* keep every node reachable for freeing */
        t->nodes = c.all;
        t->n_nodes = c.n_all;
    } else {
        vg_free(c.all);
    }
    if (vg_diag_count(diag) > before) {
        vg_topo_free(t);
        return NULL;
    }
    return t;
}

void vg_topo_free(struct vg_topology *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_nodes; i++) {
        vg_free(t->nodes[i]->name);
        vg_free(t->nodes[i]->inputs);
        vg_free(t->nodes[i]);
    }
    vg_free(t->nodes);
    for (size_t i = 0; i < t->n_kafka; i++) {
        vg_free(t->kafka[i].key);
        vg_free(t->kafka[i].value);
    }
    vg_free(t->kafka);
    vg_free(t->file);
    vg_free(t->dir);
    vg_free(t->name);
    vg_free(t->description);
    vg_free(t->redis_url);
    vg_ynode_free(t->root);
    vg_free(t);
}

struct vg_node *vg_topo_node(const struct vg_topology *t, const char *name)
{
    for (size_t i = 0; i < t->n_nodes; i++)
        if (strcmp(t->nodes[i]->name, name) == 0)
            return t->nodes[i];
    return NULL;
}

static const struct vg_ynode *node_scalar(const struct vg_node *n, const char *key)
{
    const struct vg_ynode *y = vg_ynode_get(n->body, key);
    return y && y->type == VG_Y_SCALAR ? y : NULL;
}

const char *vg_node_str(const struct vg_node *n, const char *key, const char *def)
{
    const struct vg_ynode *y = node_scalar(n, key);
    return y ? y->str : def;
}

int64_t vg_node_int(const struct vg_node *n, const char *key, int64_t def)
{
    const struct vg_ynode *y = node_scalar(n, key);
    int64_t v;
    return y && parse_int(y->str, &v) ? v : def;
}

int64_t vg_node_duration_ms(const struct vg_node *n, const char *key, int64_t def)
{
    const struct vg_ynode *y = node_scalar(n, key);
    int64_t v;
    return y && vg_duration_parse(y->str, y->len, &v) == 0 ? v : def;
}

bool vg_node_bool(const struct vg_node *n, const char *key, bool def)
{
    const struct vg_ynode *y = node_scalar(n, key);
    return y ? strcmp(y->str, "true") == 0 : def;
}
