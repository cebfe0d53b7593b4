/* SPDX-License-Identifier: Apache-2.0 */
/*
 * map.c - the `map` operator: projects each event onto named fields computed by expressions.
 *
 * Dataflow: any stream in; the same events out, now carrying exactly the fields the map
 * defines (`map: {user: lower(user), kb: bytes / 1024}`). Each output field has a slot of
 * its own, so a map never overwrites what another branch of the DAG reads; downstream
 * expressions see only the map's fields. Strings made by an expression are copied into the
 * batch arena, so they live as long as the batch.
 *
 * Thread: create on main; process on a stream thread.
 */
#include "compile.h"
#include "vg_op.h"

#include <string.h>

struct map_conf {
    size_t n;
    struct vg_expr **exprs;
    int *slots;
};

static const struct vg_key_spec map_keys[] = {
    {.name = "input", .type = VG_K_INPUTS, .required = true, .doc = "upstream node(s)"},
    {0},
};

static void map_destroy(void *conf);

static int map_create(const struct vg_node *node, struct vg_op_env *env, void **confp)
{
    const struct vg_ynode *m = node->op;
    struct map_conf *mc = vg_xcalloc(1, sizeof(*mc));
    mc->n = m->n;
    mc->exprs = vg_xcalloc(m->n, sizeof(*mc->exprs));
    mc->slots = vg_xcalloc(m->n, sizeof(*mc->slots));
    bool ok = m->n > 0;
    if (!ok)
        vg_diag_add(env->diag, m->mark, NULL, "node '%s': map defines no fields", node->name);
    /* compile every expression against the input before defining any output name, so
     * `user: lower(user)` reads the input's user */
    for (size_t i = 0; i < m->n; i++)
        if (!(mc->exprs[i] = vg_op_env_expr(env, m->items[i], VG_EXPR_ANY)))
            ok = false;
    for (size_t i = 0; i < m->n && ok; i++)
        mc->slots[i] = vg_compile_define(env, m->keys[i]->str);
    if (!ok) {
        map_destroy(mc);
        return VG_ECONFIG;
    }
    *confp = mc;
    return 0;
}

static int map_process(void *st, struct vg_batch *b, const struct vg_sel *in, struct vg_sel *out,
                       struct vg_op_ctx *ctx)
{
    const struct map_conf *mc = st;
    vg_sel_reserve(b, out, in->n);
    for (size_t i = 0; i < in->n; i++) {
        struct vg_event *ev = &b->ev[in->idx[i]];
        for (size_t k = 0; k < mc->n; k++) {
            struct vg_value v;
            vg_expr_eval(mc->exprs[k], ev->slots, ctx->expr, &v);
            if (v.type == VG_T_STR)
                v.u.s = vg_arena_strndup(&b->arena, v.u.s, v.len);
            ev->slots[mc->slots[k]] = v;
        }
        vg_expr_ctx_reset(ctx->expr);
        out->idx[out->n++] = in->idx[i];
    }
    return 0;
}

static void map_destroy(void *conf)
{
    struct map_conf *mc = conf;
    if (!mc)
        return;
    for (size_t i = 0; i < mc->n; i++)
        vg_expr_free(mc->exprs[i]);
    vg_free(mc->exprs);
    vg_free(mc->slots);
    vg_free(mc);
}

const struct vg_op_type vg_op_map = {
    .name = "map",
    .summary = "project the stream to named fields computed by expressions",
    .flags = VG_OP_STATELESS,
    .keys = map_keys,
    .op_key_type = VG_K_MAP,
    .create = map_create,
    .process = map_process,
    .destroy = map_destroy,
};
