/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dag_run.c - runs batches through one instance of a compiled topology (dag.h).
 *
 * Thread: the instance's owner.
 */
#include "dag.h"

#include <stdio.h>
#include <string.h>

int vg_dag_open(struct vg_dag *d, const struct vg_compiled *c, struct vg_op_ctx *ctx,
                struct vg_err *err)
{
    memset(d, 0, sizeof(*d));
    d->c = c;
    d->ctx = ctx;
    vg_batch_init(&d->b, c->n_slots);
    d->sels = vg_xcalloc(c->n_nodes + 1, sizeof(*d->sels));
    d->src_sels = vg_xcalloc(c->n_sources + 1, sizeof(*d->src_sels));
    d->st = vg_xcalloc(c->n_nodes + 1, sizeof(*d->st));
    d->lateness_ms = vg_xcalloc(c->n_sources + 1, sizeof(*d->lateness_ms));
    d->idle_ms = vg_xcalloc(c->n_sources + 1, sizeof(*d->idle_ms));
    for (size_t s = 0; s < c->n_sources; s++) {
        d->lateness_ms[s] = vg_node_duration_ms(c->sources[s].node, "lateness", 0);
        d->idle_ms[s] = vg_node_duration_ms(c->sources[s].node, "idle_timeout", 30000);
    }
    vg_wm_init(&d->wm, d->lateness_ms, d->idle_ms);
    for (size_t i = 0; i < c->n_nodes; i++)
        d->keyed |= (c->nodes[i].type->flags & VG_OP_KEYED) != 0;
    ctx->watermark = VG_TIME_NONE;
    for (size_t i = 0; i < c->n_nodes; i++) {
        const struct vg_compiled_node *cn = &c->nodes[i];
        if (!cn->type->open) {
            d->st[i] = cn->conf;
            continue;
        }
        int rc = cn->type->open(cn->conf, ctx, &d->st[i]);
        if (rc != 0) {
            for (size_t k = 0; k < i; k++)
                if (c->nodes[k].type->open && c->nodes[k].type->close)
                    c->nodes[k].type->close(d->st[k]);
            vg_free(d->st);
            d->st = NULL;
            vg_dag_close(d);
            return VG_ERR_SET(err, rc, "node '%s': cannot start", cn->node->name);
        }
    }
    return 0;
}

void vg_dag_close(struct vg_dag *d)
{
    if (!d->c)
        return;
    for (size_t i = 0; d->st && i < d->c->n_nodes; i++)
        if (d->c->nodes[i].type->open && d->c->nodes[i].type->close)
            d->c->nodes[i].type->close(d->st[i]);
    vg_batch_fini(&d->b);
    vg_wm_fini(&d->wm);
    vg_free(d->lateness_ms);
    vg_free(d->idle_ms);
    vg_free(d->st);
    vg_free(d->sels);
    vg_free(d->src_sels);
    memset(d, 0, sizeof(*d));
}

void vg_dag_begin(struct vg_dag *d)
{
    vg_batch_reset(&d->b);
    memset(d->src_sels, 0, d->c->n_sources * sizeof(*d->src_sels));
    memset(d->sels, 0, d->c->n_nodes * sizeof(*d->sels));
}

uint32_t vg_dag_add(struct vg_dag *d, int src, const char *topic, int32_t partition,
                    int64_t offset, const void *payload, size_t len, vg_time_ms append_ms)
{
    uint32_t idx = vg_batch_add(&d->b);
    struct vg_event *ev = &d->b.ev[idx];
    ev->topic = topic;
    ev->partition = partition;
    ev->offset = offset;
    ev->payload = payload ? payload : "";
    ev->len = (uint32_t)len;
    ev->source = (uint16_t)src;
    ev->append_ms = append_ms;
    vg_sel_push(&d->b, &d->src_sels[src], idx);
    return idx;
}

/* Merge the sorted index lists of a node's inputs into in. */
static void merge_inputs(struct vg_dag *d, const struct vg_node *node, struct vg_sel *in)
{
    if (node->n_inputs == 1) {
        *in = d->sels[node->inputs[0]->index];
        return;
    }
    memset(in, 0, sizeof(*in));
    size_t total = 0;
    for (size_t k = 0; k < node->n_inputs; k++)
        total += d->sels[node->inputs[k]->index].n;
    vg_sel_reserve(&d->b, in, total);
    size_t heads[64] = {0};
    size_t n_in = VG_MIN(node->n_inputs, (size_t)64);
    for (;;) {
        int best = -1;
        for (size_t k = 0; k < n_in; k++) {
            const struct vg_sel *s = &d->sels[node->inputs[k]->index];
            if (heads[k] < s->n &&
                (best < 0 || s->idx[heads[k]] <
                                 d->sels[node->inputs[best]->index].idx[heads[best]]))
                best = (int)k;
        }
        if (best < 0)
            break;
        in->idx[in->n++] = d->sels[node->inputs[best]->index].idx[heads[best]++];
    }
}

/* Event time: drop the source's late events to dead letters (older than their own
 * partition's watermark), then advance the partitions' event time with the rest. */
static void observe_time(struct vg_dag *d, struct vg_sel *out)
{
    vg_time_ns now = vg_mono_ns();
    size_t kept = 0;
    for (size_t k = 0; k < out->n; k++) {
        const struct vg_event *ev = &d->b.ev[out->idx[k]];
        vg_time_ms wm = vg_wm_partition(&d->wm, ev->source, ev->partition);
        if (wm != INT64_MIN && ev->ts < wm) {
            char why[200];
            snprintf(why, sizeof(why),
                     "late: event time %lld is %lld ms behind the watermark of its partition "
                     "(lateness %lld ms)",
                     (long long)ev->ts, (long long)(wm - ev->ts),
                     (long long)d->lateness_ms[ev->source]);
            d->ctx->dead_letter(d->ctx, ev, why);
            d->late++;
            continue;
        }
        vg_wm_observe(&d->wm, ev->source, ev->partition, ev->ts, now);
        out->idx[kept++] = out->idx[k];
    }
    out->n = kept;
}

int vg_dag_run(struct vg_dag *d)
{
    const struct vg_compiled *c = d->c;
    int rc = 0;
    for (size_t i = 0; i < c->n_nodes && rc == 0; i++) {
        const struct vg_compiled_node *cn = &c->nodes[i];
        struct vg_sel in;
        if (cn->source_id >= 0)
            in = d->src_sels[cn->source_id];
        else
            merge_inputs(d, cn->node, &in);
        if (d->keyed && cn->source_id < 0)
            d->ctx->watermark = vg_wm_current(&d->wm, vg_mono_ns());
        rc = cn->type->process(d->st[i], &d->b, &in, &d->sels[i], d->ctx);
        if (cn->source_id >= 0) {
            if (d->keyed)
                observe_time(d, &d->sels[i]);
            d->events += d->sels[i].n;
        }
    }
    return rc;
}

int vg_dag_flush(struct vg_dag *d)
{
    int rc = 0;
    for (size_t i = 0; i < d->c->n_nodes; i++)
        if (d->c->nodes[i].type->flush) {
            int r = d->c->nodes[i].type->flush(d->st[i], d->ctx);
            if (r && !rc)
                rc = r;
        }
    return rc;
}
