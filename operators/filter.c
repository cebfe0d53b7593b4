/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter.c - the `filter` operator: passes the events for which an expression is true.
 *
 * Dataflow: any stream in, the subset of its events out (indices only, nothing copied).
 * A missing field or an expression that evaluates to null counts as false.
 *
 * Thread: create on main; process on a stream thread. The compiled expression is shared
 * read-only; evaluation scratch is the thread's ctx->expr.
 */
#include "vg_op.h"

struct filter_conf {
    struct vg_expr *cond;
};

static const struct vg_key_spec filter_keys[] = {
    {.name = "input", .type = VG_K_INPUTS, .required = true, .doc = "upstream node(s)"},
    {0},
};

static int filter_create(const struct vg_node *node, struct vg_op_env *env, void **conf)
{
    struct vg_expr *cond = vg_op_env_expr(env, node->op, VG_EXPR_BOOL);
    if (!cond)
        return VG_ECONFIG;
    struct filter_conf *fc = vg_xcalloc(1, sizeof(*fc));
    fc->cond = cond;
    *conf = fc;
    return 0;
}

static int filter_process(void *st, struct vg_batch *b, const struct vg_sel *in,
                          struct vg_sel *out, struct vg_op_ctx *ctx)
{
    const struct filter_conf *fc = st;
    vg_sel_reserve(b, out, in->n);
    for (size_t i = 0; i < in->n; i++) {
        uint32_t idx = in->idx[i];
        if (vg_expr_test(fc->cond, b->ev[idx].slots, ctx->expr))
            out->idx[out->n++] = idx;
    }
    vg_expr_ctx_reset(ctx->expr);
    return 0;
}

static void filter_destroy(void *conf)
{
    struct filter_conf *fc = conf;
    if (!fc)
        return;
    vg_expr_free(fc->cond);
    vg_free(fc);
}

const struct vg_op_type vg_op_filter = {
    .name = "filter",
    .summary = "pass the events for which the expression is true",
    .flags = VG_OP_STATELESS,
    .keys = filter_keys,
    .op_key_type = VG_K_EXPR,
    .create = filter_create,
    .process = filter_process,
    .destroy = filter_destroy,
};
