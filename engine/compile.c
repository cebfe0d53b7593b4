/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compile.c - scopes, slots and operator creation for a checked topology (see compile.h).
 *
 * Thread: main (load time). Scopes and the slot table are owned by struct vg_compiled and
 * live as long as it does; operators may keep pointers to them.
 */
#include "compile.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct vg_fields {
    char **names;       /* "src:<path>" or "map:<node>:<name>" */
    size_t n;
};

/* SCOPE_BROKEN: a node whose create failed; it accepts every field, so the nodes after it
 * are still checked without a cascade of follow-on errors. */
enum scope_kind { SCOPE_SOURCE, SCOPE_NAMED, SCOPE_ALERTS, SCOPE_UNION, SCOPE_BROKEN, SCOPE_CUSTOM };

struct vg_scope {
    enum scope_kind kind;
    struct vg_compiled *c;
    /* SCOPE_SOURCE */
    int source_id;
    const char *const *declared;
    size_t n_declared;
    const struct vg_avro_schema *schema;
    /* SCOPE_NAMED */
    char **names;
    int *slots;
    size_t n;
    /* SCOPE_UNION */
    const struct vg_scope **parts;
    size_t n_parts;
    /* SCOPE_CUSTOM */
    vg_scope_fn fn;
    void *ud;
    /* what its events are grouped by (compile.h); key_declared: said by its operator */
    const struct vg_stream_key *key;
    bool key_declared;
    struct vg_scope *next_owned;    /* all scopes, for freeing */
};

static int fields_slot(struct vg_fields *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0)
            return (int)i;
    f->names = vg_xrealloc(f->names, (f->n + 1) * sizeof(*f->names));
    f->names[f->n] = vg_xstrdup(name);
    return (int)f->n++;
}

bool vg_compiled_is_exchange(const struct vg_compiled *c, size_t s)
{
    for (size_t x = 0; x < c->n_exchanges; x++)
        if (c->exchanges[x].source_id == (int)s)
            return true;
    return false;
}

int vg_compiled_source_slot(const struct vg_compiled *c, const char *path)
{
    char name[512];
    snprintf(name, sizeof(name), "src:%s", path);
    for (size_t i = 0; i < c->fields->n; i++)
        if (strcmp(c->fields->names[i], name) == 0)
            return (int)i;
    return -1;
}

static struct vg_scope *scope_make(struct vg_compiled *c, enum scope_kind kind)
{
    struct vg_scope *s = vg_xcalloc(1, sizeof(*s));
    s->kind = kind;
    s->c = c;
    s->source_id = -1;
    s->next_owned = c->scopes;
    c->scopes = s;
    return s;
}

static int scope_resolve(const struct vg_scope *s, const char *path, int *slot, char *hint,
                         size_t hint_size)
{
    switch (s->kind) {
    case SCOPE_SOURCE: {
        bool known = true;
        if (s->schema)
            known = vg_avro_schema_has_path(s->schema, path);
        else if (s->declared) {
            known = false;
            for (size_t i = 0; i < s->n_declared && !known; i++) {
                size_t n = strlen(s->declared[i]);
                /* a declared path also declares what is below it: geo declares geo.country */
                known = strncmp(path, s->declared[i], n) == 0 &&
                        (path[n] == '\0' || path[n] == '.' || path[n] == '[');
            }
        }
        if (!known) {
            const char *const *names = s->declared;
            size_t n = s->n_declared;
            if (s->schema)
                n = vg_avro_schema_fields(s->schema, &names);
            const char *close = vg_diag_closest(path, names, n);
            if (close)
                snprintf(hint, hint_size, "did you mean '%s'?", close);
            else
                snprintf(hint, hint_size, "the source declares its fields");
            return -1;
        }
        char name[512];
        snprintf(name, sizeof(name), "src:%s", path);
        *slot = fields_slot(s->c->fields, name);
        struct vg_err err;
        if (vg_paths_add(s->c->sources[s->source_id].paths, path, *slot, &err) != 0) {
            snprintf(hint, hint_size, "%s", err.msg);
            return -1;
        }
        return 0;
    }
    case SCOPE_NAMED:
        for (size_t i = 0; i < s->n; i++)
            if (strcmp(s->names[i], path) == 0) {
                *slot = s->slots[i];
                return 0;
            }
        {
            const char *close = vg_diag_closest(path, (const char *const *)s->names, s->n);
            if (close)
                snprintf(hint, hint_size, "did you mean '%s'?", close);
            else
                snprintf(hint, hint_size, "the map upstream defines only its own fields");
        }
        return -1;
    case SCOPE_ALERTS:
        snprintf(hint, hint_size, "alerts carry no fields for expressions");
        return -1;
    case SCOPE_BROKEN:
        *slot = fields_slot(s->c->fields, "broken:");
        return 0;
    case SCOPE_CUSTOM:
        return s->fn(s->ud, path, slot, hint, hint_size);
    case SCOPE_UNION: {
        int first = -1;
        for (size_t i = 0; i < s->n_parts; i++) {
            int sl;
            if (scope_resolve(s->parts[i], path, &sl, hint, hint_size) != 0)
                return -1;
            if (first >= 0 && sl != first) {
                snprintf(hint, hint_size, "the inputs define it differently");
                return -1;
            }
            first = sl;
        }
        *slot = first;
        return 0;
    }
    }
    return -1;
}

static int resolve_cb(void *ud, const char *path, int *slot, char *hint, size_t hint_size)
{
    const struct vg_scope *s = ud;
    if (!s) {
        snprintf(hint, hint_size, "a source has no input fields");
        return -1;
    }
    return scope_resolve(s, path, slot, hint, hint_size);
}

void vg_op_env_expr_opts(const struct vg_op_env *env, const struct vg_ynode *y,
                         enum vg_expr_want want, struct vg_expr_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->resolve = resolve_cb;
    opts->resolve_ud = (void *)env->in;
    opts->want = want;
    opts->mark = y->mark;
    if (y->quote == '"' || y->quote == '\'')
        opts->mark.col++;
}

struct vg_expr *vg_op_env_expr(const struct vg_op_env *env, const struct vg_ynode *y,
                               enum vg_expr_want want)
{
    if (!y || y->type != VG_Y_SCALAR) {
        vg_diag_add(env->diag, y ? y->mark : (struct vg_mark){0}, NULL,
                    "expected an expression");
        return NULL;
    }
    struct vg_expr_opts opts;
    vg_op_env_expr_opts(env, y, want, &opts);
    return vg_expr_compile(y->str, y->len, &opts, env->diag);
}

int vg_compile_resolve(struct vg_op_env *env, const char *path, const struct vg_ynode *y)
{
    char hint[256] = "";
    int slot;
    if (resolve_cb((void *)env->in, path, &slot, hint, sizeof(hint)) != 0) {
        vg_diag_add(env->diag, y->mark, hint[0] ? hint : NULL, "unknown field '%s'", path);
        return -1;
    }
    return slot;
}

int vg_compile_add_source(struct vg_op_env *env, const struct vg_node *node, const char *topic,
                          const char *dead_letter, bool start_latest)
{
    struct vg_compiled *c = env->compiled;
    c->sources = vg_xrealloc(c->sources, (c->n_sources + 1) * sizeof(*c->sources));
    struct vg_compiled_source *src = &c->sources[c->n_sources];
    src->node = node;
    src->topic = topic;
    src->dead_letter = dead_letter;
    src->start_latest = start_latest;
    src->paths = vg_paths_new();
    return (int)c->n_sources++;
}

void vg_compile_source_scope(struct vg_op_env *env, int source_id, const char *const *declared,
                             size_t n_declared, const struct vg_avro_schema *schema)
{
    struct vg_scope *s = scope_make(env->compiled, SCOPE_SOURCE);
    s->source_id = source_id;
    s->declared = declared;
    s->n_declared = n_declared;
    s->schema = schema;
    env->out = s;
}

int vg_compile_add_output(struct vg_op_env *env, const struct vg_node *node,
                          enum vg_output_kind kind, const char *target)
{
    struct vg_compiled *c = env->compiled;
    c->outputs = vg_xrealloc(c->outputs, (c->n_outputs + 1) * sizeof(*c->outputs));
    c->outputs[c->n_outputs] = (struct vg_compiled_output){kind, target, node};
    return (int)c->n_outputs++;
}

static int add_exchange(struct vg_op_env *env, const struct vg_node *node, const char *side,
                        const int *key_slots, size_t n_keys, const int *val_slots,
                        size_t n_vals)
{
    struct vg_compiled *c = env->compiled;
    c->exchanges = vg_xrealloc(c->exchanges, (c->n_exchanges + 1) * sizeof(*c->exchanges));
    struct vg_compiled_exchange *x = &c->exchanges[c->n_exchanges];
    memset(x, 0, sizeof(*x));
    x->node = node;
    size_t len = strlen(env->topo->name) + strlen(node->name) + (side ? strlen(side) : 0) + 16;
    x->topic = vg_xmalloc(len);
    snprintf(x->topic, len, "%s.%s.%s%srepartition", env->topo->name, node->name,
             side ? side : "", side ? "." : "");
    x->key_slots = vg_xcalloc(n_keys + 1, sizeof(int));
    memcpy(x->key_slots, key_slots, n_keys * sizeof(int));
    x->n_keys = n_keys;
    /* the keys first, then each other slot once */
    x->val_slots = vg_xcalloc(n_keys + n_vals + 1, sizeof(int));
    for (size_t i = 0; i < n_keys + n_vals; i++) {
        int slot = i < n_keys ? key_slots[i] : val_slots[i - n_keys];
        bool seen = false;
        for (size_t k = 0; k < x->n_vals && !seen; k++)
            seen = x->val_slots[k] == slot;
        if (!seen)
            x->val_slots[x->n_vals++] = slot;
    }
    x->output_id = vg_compile_add_output(env, node, VG_OUT_KAFKA, x->topic);
    x->source_id = vg_compile_add_source(env, node, x->topic, NULL, false);
    return (int)c->n_exchanges++;
}

int vg_compile_add_exchange(struct vg_op_env *env, const struct vg_node *node,
                            const int *key_slots, size_t n_keys, const int *val_slots,
                            size_t n_vals)
{
    return add_exchange(env, node, NULL, key_slots, n_keys, val_slots, n_vals);
}

int vg_compile_add_side_exchange(struct vg_op_env *env, const struct vg_node *node,
                                 const char *side, int key_slot, struct vg_expr *key)
{
    int x = add_exchange(env, node, side, &key_slot, 1, NULL, 0);
    env->compiled->exchanges[x].key_expr = key;
    env->compiled->exchanges[x].payload = true;
    return x;
}

void vg_compile_exchange_vals(struct vg_compiled *c, int xi, const int *slots, size_t n)
{
    struct vg_compiled_exchange *x = &c->exchanges[xi];
    x->val_slots = vg_xrealloc(x->val_slots, (x->n_vals + n + 1) * sizeof(int));
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < x->n_vals && !seen; k++)
            seen = x->val_slots[k] == slots[i];
        if (!seen)
            x->val_slots[x->n_vals++] = slots[i];
    }
}

int vg_compile_define(struct vg_op_env *env, const char *name)
{
    struct vg_scope *s = env->out;
    if (!s || s->kind != SCOPE_NAMED || s == env->in) {
        s = scope_make(env->compiled, SCOPE_NAMED);
        s->key = env->in ? env->in->key : NULL; /* a map's events keep their upstream's slots */
        env->out = s;
    }
    char full[512];
    /* the slot name carries the scope's address so that two maps never share a slot */
    snprintf(full, sizeof(full), "map:%p:%s", (void *)s, name);
    int slot = fields_slot(env->compiled->fields, full);
    s->names = vg_xrealloc(s->names, (s->n + 1) * sizeof(*s->names));
    s->slots = vg_xrealloc(s->slots, (s->n + 1) * sizeof(*s->slots));
    s->names[s->n] = vg_xstrdup(name);
    s->slots[s->n] = slot;
    s->n++;
    return slot;
}

void vg_compile_custom_scope(struct vg_op_env *env, vg_scope_fn fn, void *ud)
{
    struct vg_scope *s = scope_make(env->compiled, SCOPE_CUSTOM);
    s->fn = fn;
    s->ud = ud;
    env->out = s;
}

const struct vg_scope *vg_compile_node_scope(const struct vg_compiled *c, const struct vg_node *n)
{
    return c->nodes[n->index].scope;
}

int vg_compile_scope_resolve(const struct vg_scope *s, const char *path, int *slot, char *hint,
                             size_t hint_size)
{
    return resolve_cb((void *)s, path, slot, hint, hint_size);
}

int vg_compile_slot(struct vg_compiled *c, const char *name)
{
    return fields_slot(c->fields, name);
}

void vg_compile_alert_scope(struct vg_op_env *env)
{
    env->out = scope_make(env->compiled, SCOPE_ALERTS);
}

/* ---- keys ---- */

static struct vg_stream_key *key_new(struct vg_compiled *c, size_t n, size_t n_alt)
{
    struct vg_stream_key *k = vg_xcalloc(1, sizeof(*k));
    k->n = n;
    k->n_alt = n_alt;
    k->names = vg_xcalloc(n + 1, sizeof(*k->names));
    k->slots = vg_xcalloc(n * n_alt + 1, sizeof(*k->slots));
    k->next_owned = c->keys;
    c->keys = k;
    return k;
}

static void key_free(struct vg_stream_key *k)
{
    for (size_t i = 0; i < k->n; i++)
        vg_free(k->names[i]);
    vg_free(k->names);
    vg_free(k->slots);
    vg_free(k->why);
    vg_free(k);
}

void vg_compile_set_key(struct vg_op_env *env, const char *const *names, const int *slots,
                        size_t n)
{
    assert(env->out && env->out != env->in);
    struct vg_stream_key *k = key_new(env->compiled, n, 1);
    for (size_t i = 0; i < n; i++) {
        k->names[i] = vg_xstrdup(names[i]);
        k->slots[i] = slots[i];
    }
    env->out->key = k;
    env->out->key_declared = true;
}

void vg_compile_keep_key(struct vg_op_env *env, const struct vg_stream_key *k)
{
    assert(env->out && env->out != env->in);
    env->out->key = k;
    env->out->key_declared = true;
}

const struct vg_stream_key *vg_compile_node_key(const struct vg_compiled *c,
                                                const struct vg_node *n)
{
    const struct vg_scope *s = c->nodes[n->index].scope;
    return s ? s->key : NULL;
}

const struct vg_stream_key *vg_compile_in_key(const struct vg_op_env *env)
{
    return env->in ? env->in->key : NULL;
}

/* A keyed operator that declared no key (a window): its `key:` fields, which its output
 * holds; none: one group for all. */
static void default_key(struct vg_op_env *env, const struct vg_node *node)
{
    const struct vg_ynode *y = vg_ynode_get(node->body, "key");
    size_t n = vg_ylist_len(y);
    const char **names = vg_xcalloc(n + 1, sizeof(*names));
    int *slots = vg_xcalloc(n + 1, sizeof(*slots));
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        char hint[256];
        names[i] = vg_ylist_str(y, i);
        ok = scope_resolve(env->out, names[i], &slots[i], hint, sizeof(hint)) == 0;
    }
    if (ok)
        vg_compile_set_key(env, names, slots, n);
    vg_free(names);
    vg_free(slots);
}

static void key_names_text(const struct vg_stream_key *k, struct vg_buf *out)
{
    if (!k || k->n == 0) {
        vg_buf_puts(out, "no key");
        return;
    }
    vg_buf_putc(out, '[');
    for (size_t i = 0; i < k->n; i++)
        vg_buf_printf(out, "%s%s", i ? ", " : "", k->names[i]);
    vg_buf_putc(out, ']');
}

static bool key_same_names(const struct vg_stream_key *a, const struct vg_stream_key *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->names[i], b->names[i]))
            return false;
    return true;
}

/* The key of a node's several inputs: none when none has one (or one group for all); the
 * fields they all share, with each input's slots; else a mixed key saying how they differ. */
static const struct vg_stream_key *union_key(struct vg_compiled *c, const struct vg_node *node)
{
    const struct vg_stream_key *first = NULL, *global = NULL;
    size_t first_in = 0;
    for (size_t k = 0; k < node->n_inputs; k++) {
        const struct vg_stream_key *in = c->nodes[node->inputs[k]->index].scope->key;
        if (in && in->mixed)
            return in;
        if (in && in->n == 0)
            global = in;
        if (in && in->n > 0 && !first) {
            first = in;
            first_in = k;
        }
    }
    if (!first)
        return global;
    size_t n_alt = 0;
    for (size_t k = 0; k < node->n_inputs; k++) {
        const struct vg_stream_key *in = c->nodes[node->inputs[k]->index].scope->key;
        if (in && in->n > 0 && key_same_names(in, first)) {
            n_alt += in->n_alt;
            continue;
        }
        struct vg_buf why;
        vg_buf_init(&why);
        vg_buf_printf(&why, "'%s' is keyed by ", node->inputs[first_in]->name);
        key_names_text(first, &why);
        vg_buf_printf(&why, ", '%s' by ", node->inputs[k]->name);
        key_names_text(in, &why);
        struct vg_stream_key *mixed = key_new(c, 0, 1);
        mixed->mixed = true;
        mixed->why = vg_xstrdup(vg_buf_cstr(&why));
        vg_buf_fini(&why);
        return mixed;
    }
    struct vg_stream_key *u = key_new(c, first->n, n_alt);
    for (size_t i = 0; i < first->n; i++)
        u->names[i] = vg_xstrdup(first->names[i]);
    size_t alt = 0;
    for (size_t k = 0; k < node->n_inputs; k++) {
        const struct vg_stream_key *in = c->nodes[node->inputs[k]->index].scope->key;
        for (size_t a = 0; a < in->n_alt; a++, alt++)
            for (size_t i = 0; i < u->n; i++)
                u->slots[i * n_alt + alt] = in->slots[i * in->n_alt + a];
    }
    return u;
}

bool vg_scope_write_json(const struct vg_scope *s, const struct vg_event *ev, struct vg_buf *out)
{
    if (!s || s->kind != SCOPE_NAMED)
        return false;
    vg_buf_putc(out, '{');
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            vg_buf_putc(out, ',');
        vg_buf_json_str(out, s->names[i], strlen(s->names[i]));
        vg_buf_putc(out, ':');
        vg_json_write_value(out, &ev->slots[s->slots[i]]);
    }
    vg_buf_putc(out, '}');
    return true;
}

char *vg_compile_find_file(const struct vg_topology *topo, const char *path)
{
    if (path[0] == '/')
        return access(path, R_OK) == 0 ? vg_xstrdup(path) : NULL;
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", topo->dir ? topo->dir : ".", path);
    if (access(buf, R_OK) == 0)
        return vg_xstrdup(buf);
    if (access(path, R_OK) == 0)
        return vg_xstrdup(path);
    return NULL;
}

static void free_scope(struct vg_scope *s)
{
    for (size_t i = 0; i < s->n; i++)
        vg_free(s->names[i]);
    vg_free(s->names);
    vg_free(s->slots);
    vg_free(s->parts);
    vg_free(s);
}

/* Up from n's inputs through stateless nodes: is the first stateful node on every path one
 * and the same (*home), with no path reaching a source, or a repartition topic, without it? */
static bool home_of(const struct vg_compiled *c, const struct vg_node *n,
                    const struct vg_compiled_node **home)
{
    for (size_t k = 0; k < n->n_inputs; k++) {
        const struct vg_compiled_node *in = &c->nodes[n->inputs[k]->index];
        if (in->type->flags & VG_OP_TABLE)
            continue; /* looked up, not a stream */
        if (in->stateful) {
            if (*home && *home != in)
                return false;
            *home = in;
            continue;
        }
        if (in->source_id >= 0 || in->exchange >= 0 || in->node->n_inputs == 0 ||
            !home_of(c, in->node, home))
            return false;
    }
    return *home != NULL;
}

/* A stateful node's namespace in the store. One whose events all come from a single stateful
 * node upstream (not through a repartition topic) has the same partitions, so its state is
 * written with that node's, in one MULTI/EXEC per partition (state.h): a crash can never
 * leave the two a checkpoint apart. (Nodes are in topological order: homes are named.) */
static void state_name(struct vg_compiled *c, struct vg_compiled_node *cn)
{
    const struct vg_compiled_node *home = NULL;
    cn->state_name = cn->node->name;
    if (cn->exchange >= 0 || cn->source_id >= 0 || !home_of(c, cn->node, &home))
        return;
    const char *home_name = home->state_name ? home->state_name : home->node->name;
    size_t len = strcspn(home_name, "/"); /* a home's home */
    size_t size = len + strlen(cn->node->name) + 2;
    cn->state_name_buf = vg_xmalloc(size);
    snprintf(cn->state_name_buf, size, "%.*s/%s", (int)len, home_name, cn->node->name);
    cn->state_name = cn->state_name_buf;
}

struct vg_compiled *vg_compile(const struct vg_topology *topo, struct vg_diag *diag)
{
    struct vg_compiled *c = vg_xcalloc(1, sizeof(*c));
    c->topo = topo;
    c->fields = vg_xcalloc(1, sizeof(*c->fields));
    c->nodes = vg_xcalloc(topo->n_nodes, sizeof(*c->nodes));
    c->n_nodes = topo->n_nodes;
    size_t errors_before = vg_diag_count(diag);

    for (size_t i = 0; i < topo->n_nodes; i++) {
        const struct vg_node *node = topo->nodes[i];
        struct vg_compiled_node *cn = &c->nodes[i];
        cn->node = node;
        cn->type = node->type;
        cn->source_id = -1;
        cn->exchange = -1;
        struct vg_op_env env = {.topo = topo, .diag = diag, .fields = c->fields, .compiled = c,
                                .keyed = (node->type->flags & VG_OP_KEYED) != 0};
        bool inputs_ok = true;
        if (node->n_inputs == 1) {
            env.in = c->nodes[node->inputs[0]->index].scope;
        } else if (node->n_inputs > 1) {
            struct vg_scope *u = scope_make(c, SCOPE_UNION);
            u->parts = vg_xcalloc(node->n_inputs, sizeof(*u->parts));
            u->n_parts = node->n_inputs;
            for (size_t k = 0; k < node->n_inputs; k++)
                u->parts[k] = c->nodes[node->inputs[k]->index].scope;
            env.in = u;
        }
        for (size_t k = 0; k < node->n_inputs; k++)
            if (!c->nodes[node->inputs[k]->index].scope)
                inputs_ok = false; /* upstream failed: skip to avoid cascades */
        if (inputs_ok && node->n_inputs > 1)
            ((struct vg_scope *)env.in)->key = union_key(c, node);
        if (!inputs_ok || !node->type->create)
            continue;
        env.out = (struct vg_scope *)env.in;
        size_t src_before = c->n_sources, x_before = c->n_exchanges;
        for (size_t k = 0; k < node->n_inputs; k++)
            cn->fed_by |= c->nodes[node->inputs[k]->index].fed_by;
        cn->keyed = env.keyed;
        if (node->type->create(node, &env, &cn->conf) != 0) {
            cn->conf = NULL;
            cn->scope = scope_make(c, SCOPE_BROKEN);
            continue;
        }
        if (c->n_sources > 64) {
            vg_diag_add(diag, node->mark, NULL, "too many sources: at most 64 per topology");
            break;
        }
        if (c->n_exchanges > x_before) { /* one, or a join's two (a side each) */
            cn->exchange = (int)x_before;
            cn->n_exchanges = (int)(c->n_exchanges - x_before);
            uint64_t fed = 0;
            for (int k = 0; k < cn->n_exchanges; k++) {
                struct vg_compiled_exchange *x = &c->exchanges[x_before + (size_t)k];
                x->upstream = cn->n_exchanges == 1
                                  ? cn->fed_by
                                  : c->nodes[node->inputs[k]->index].fed_by;
                fed |= 1ull << x->source_id;
            }
            cn->fed_by = fed;
        } else if (c->n_sources > src_before) {
            cn->source_id = (int)src_before;
            cn->fed_by = 1ull << src_before;
        }
        if ((node->type->flags & VG_OP_KEYED) && env.out && env.out != env.in &&
            !env.out->key_declared)
            default_key(&env, node);
        cn->scope = env.out ? env.out : scope_make(c, SCOPE_ALERTS);
        cn->keyed = env.keyed;
        /* enrichment keeps no state; a rules node with suppress does, though event time does
         * not hold it back */
        cn->stateful = (env.keyed || env.stateful) && node->type->state_save;
    }
    for (size_t i = 0; i < c->n_nodes && vg_diag_count(diag) == errors_before; i++)
        if (c->nodes[i].conf && c->nodes[i].type->finish)
            c->nodes[i].type->finish(c->nodes[i].conf, c);
    for (size_t i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].stateful)
            state_name(c, &c->nodes[i]);
    c->n_slots = c->fields->n;
    if (vg_diag_count(diag) > errors_before) {
        vg_compiled_free(c);
        return NULL;
    }
    /* a producer with a single consumer may skip what that consumer drops (vg_op.h) */
    for (size_t i = 0; i < c->n_nodes; i++) {
        const struct vg_compiled_node *p = &c->nodes[i], *only = NULL;
        size_t consumers = 0;
        for (size_t j = 0; j < c->n_nodes; j++)
            for (size_t k = 0; k < c->nodes[j].node->n_inputs; k++)
                if (c->nodes[j].node->inputs[k] == p->node) {
                    consumers++;
                    only = &c->nodes[j];
                }
        if (p->type->output_floor && consumers == 1 && only->type->input_floor)
            p->type->output_floor(p->conf, only->type, only->conf);
    }
    return c;
}

void vg_compiled_free(struct vg_compiled *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_nodes; i++) {
        if (c->nodes[i].conf && c->nodes[i].type->destroy)
            c->nodes[i].type->destroy(c->nodes[i].conf);
        vg_free(c->nodes[i].state_name_buf);
    }
    for (size_t i = 0; i < c->n_sources; i++)
        vg_paths_free(c->sources[i].paths);
    struct vg_scope *s = c->scopes;
    while (s) {
        struct vg_scope *next = s->next_owned;
        free_scope(s);
        s = next;
    }
    for (struct vg_stream_key *k = c->keys, *next; k; k = next) {
        next = k->next_owned;
        key_free(k);
    }
    for (size_t i = 0; i < c->fields->n; i++)
        vg_free(c->fields->names[i]);
    vg_free(c->fields->names);
    vg_free(c->fields);
    vg_free(c->nodes);
    vg_free(c->sources);
    vg_free(c->outputs);
    for (size_t i = 0; i < c->n_exchanges; i++) {
        vg_free(c->exchanges[i].topic);
        vg_free(c->exchanges[i].key_slots);
        vg_free(c->exchanges[i].val_slots);
    }
    vg_free(c->exchanges);
    vg_free(c);
}
