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
    d->xr = vg_xcalloc(c->n_exchanges + 1, sizeof(*d->xr));
    for (size_t x = 0; x < c->n_exchanges; x++) {
        vg_x_reader_init(&d->xr[x]);
        /* a repartition partition's time is what its writers say; they say when idle */
        d->lateness_ms[c->exchanges[x].source_id] = 0;
        d->idle_ms[c->exchanges[x].source_id] = VG_WM_NEVER_IDLE;
    }
    vg_buf_init(&d->xkey);
    vg_buf_init(&d->xval);
    vg_wm_init(&d->wm, d->lateness_ms, d->idle_ms);
    for (size_t i = 0; i < c->n_nodes; i++)
        d->keyed |= c->nodes[i].keyed;
    ctx->watermark = VG_TIME_NONE;
    d->from = INT64_MIN;
    d->to = INT64_MAX;
    d->max_ts = INT64_MIN;
    d->close_at = VG_TIME_NONE;
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
    for (size_t x = 0; d->xr && x < d->c->n_exchanges; x++)
        vg_x_reader_fini(&d->xr[x]);
    vg_free(d->xr);
    vg_free(d->local_mask);
    vg_free(d->local_wm);
    vg_buf_fini(&d->xkey);
    vg_buf_fini(&d->xval);
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

/* A join's input: the left side's events, then the right's (n_left of them first). */
static void join_sels(struct vg_dag *d, const struct vg_sel *l, const struct vg_sel *r,
                      struct vg_sel *in)
{
    memset(in, 0, sizeof(*in));
    vg_sel_reserve(&d->b, in, l->n + r->n);
    if (l->n) /* (an empty selection may have no storage at all) */
        memcpy(in->idx, l->idx, l->n * sizeof(*in->idx));
    if (r->n)
        memcpy(in->idx + l->n, r->idx, r->n * sizeof(*in->idx));
    in->n = l->n + r->n;
    in->n_left = l->n;
}

static void join_inputs(struct vg_dag *d, const struct vg_node *node, struct vg_sel *in)
{
    join_sels(d, &d->sels[node->inputs[0]->index], &d->sels[node->inputs[1]->index], in);
}

/* Replay: keep the events in [from, to]; note the largest event time kept. */
static void bound_time(struct vg_dag *d, struct vg_sel *out)
{
    size_t kept = 0;
    for (size_t k = 0; k < out->n; k++) {
        const struct vg_event *ev = &d->b.ev[out->idx[k]];
        if (ev->ts < d->from || ev->ts > d->to)
            continue;
        if (ev->ts > d->max_ts)
            d->max_ts = ev->ts;
        out->idx[kept++] = out->idx[k];
    }
    out->n = kept;
}

/* Replay of archives on several threads: this thread's share of the keys, the keys encoded
 * as a repartition topic's record key is (equal keys alike), by an in-process hash (every
 * thread of the process computes the same one; nothing outside sees it). */
int vg_dag_split_owner(struct vg_dag *d, const struct vg_value *vals, const int *idx)
{
    vg_buf_clear(&d->xkey);
    vg_x_key(&d->xkey, vals, idx, d->n_split);
    uint64_t h = vg_hash_mem(d->xkey.data, d->xkey.len);
    return (int)(((unsigned __int128)h * (uint64_t)d->split_n) >> 64);
}

static void split_keys(struct vg_dag *d, struct vg_sel *out)
{
    size_t kept = 0;
    for (size_t k = 0; k < out->n; k++)
        if (vg_dag_split_owner(d, d->b.ev[out->idx[k]].slots, d->split_slots) == d->split_k)
            out->idx[kept++] = out->idx[k];
    out->n = kept;
}

/* Event time: drop the source's late events to dead letters (older than their own
 * partition's watermark), then advance the partitions' event time with the rest. */
static void observe_time(struct vg_dag *d, struct vg_sel *out)
{
    vg_time_ns now = vg_mono_ns();
    size_t kept = 0;
    struct vg_wm_part *p = NULL; /* of the run of one partition in hand */
    for (size_t k = 0; k < out->n; k++) {
        const struct vg_event *ev = &d->b.ev[out->idx[k]];
        if (!p || p->source != ev->source || p->partition != ev->partition)
            p = vg_wm_get(&d->wm, ev->source, ev->partition);
        vg_time_ms wm = vg_wm_of(&d->wm, p);
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
        vg_wm_note(p, ev->ts, now);
        out->idx[kept++] = out->idx[k];
    }
    out->n = kept;
}

/* Exchange, writer side: every event reaching the node from upstream goes to the repartition
 * topic, keyed by the node's key. */
static int exchange_write(struct vg_dag *d, const struct vg_compiled_exchange *x,
                          const struct vg_sel *up)
{
    for (size_t k = 0; k < up->n; k++) {
        struct vg_event *ev = &d->b.ev[up->idx[k]];
        struct vg_x_head h = {vg_x_writer(ev->source, ev->partition), ev->offset, ev->ts,
                              ev->append_ms};
        if (x->key_expr) { /* a join's key: computed here, carried in the record */
            struct vg_value v;
            vg_expr_eval(x->key_expr, ev->slots, d->ctx->expr, &v);
            if (v.type == VG_T_STR)
                v.u.s = vg_arena_strndup(&d->b.arena, v.u.s, v.len);
            else if (v.type == VG_T_LIST)
                v = VG_NULL_VALUE;
            ev->slots[x->key_slots[0]] = v;
            vg_expr_ctx_reset(d->ctx->expr);
        }
        vg_buf_clear(&d->xkey);
        vg_buf_clear(&d->xval);
        vg_x_key(&d->xkey, ev->slots, x->key_slots, x->n_keys);
        vg_x_encode_data(&d->xval, &h, ev->slots, x->val_slots, x->n_vals);
        if (x->payload) {
            struct vg_value p = vg_value_str(ev->payload, ev->len);
            vg_value_save(&p, &d->xval);
        }
        int rc = d->ctx->write(d->ctx, x->output_id, d->xkey.data, d->xkey.len, d->xval.data,
                               d->xval.len, ev);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Exchange, reader side: the records polled from the repartition topic become the node's
 * input (decoded, duplicates dropped); control records move its partitions' event time. */
static void exchange_read(struct vg_dag *d, size_t xi, struct vg_sel *in)
{
    const struct vg_compiled_exchange *x = &d->c->exchanges[xi];
    struct vg_x_reader *xr = &d->xr[xi];
    *in = d->src_sels[x->source_id];
    size_t kept = 0;
    for (size_t k = 0; k < in->n; k++) {
        struct vg_event *ev = &d->b.ev[in->idx[k]];
        if (ev->len > 0 && ev->payload[0] == VG_X_CONTROL) {
            if (vg_x_control(xr, ev->partition, ev->payload, ev->len) != 0)
                d->ctx->dead_letter(d->ctx, ev, "unreadable repartition control record");
            continue;
        }
        struct vg_x_head h;
        const char *rest = NULL, *end = ev->payload + ev->len;
        struct vg_value payload = VG_NULL_VALUE;
        if (vg_x_decode_data(ev->payload, ev->len, &h, ev->slots, x->val_slots, x->n_vals,
                             &d->b.arena, x->payload ? &rest : NULL) != 0 ||
            (x->payload && (vg_value_load(&payload, &rest, end, &d->b.arena) != 0 ||
                            rest != end || payload.type != VG_T_STR))) {
            d->ctx->dead_letter(d->ctx, ev, "unreadable repartition record");
            continue;
        }
        if (!vg_x_accept(xr, ev->partition, h.writer, h.offset)) {
            d->duplicates++;
            continue;
        }
        ev->ts = h.ts;
        ev->append_ms = h.append_ms;
        uint16_t src = vg_x_writer_source(h.writer);
        if (src < d->c->n_sources) {
            ev->origin_topic = d->c->sources[src].topic;
            ev->origin_partition = vg_x_writer_partition(h.writer);
            ev->origin_offset = h.offset;
        }
        if (x->payload) {
            ev->payload = payload.u.s;
            ev->len = payload.len;
        }
        in->idx[kept++] = in->idx[k];
    }
    in->n = kept;
    vg_time_ns now = vg_mono_ns();
    for (size_t p = 0; p < xr->n; p++) {
        bool idle;
        vg_time_ms wm = vg_x_watermark(xr, xr->parts[p].partition, &idle);
        if (wm != INT64_MIN)
            vg_wm_set(&d->wm, (uint16_t)x->source_id, xr->parts[p].partition, wm, idle, now);
    }
}

size_t vg_dag_marks(const struct vg_dag *d, size_t x, struct vg_x_mark *out, size_t max,
                    vg_time_ns now_ns)
{
    uint64_t up = d->c->exchanges[x].upstream;
    size_t n = 0;
    for (size_t i = 0; i < d->wm.n && n < max; i++) {
        const struct vg_wm_part *p = &d->wm.parts[i];
        if (p->source >= 64 || !((up >> p->source) & 1))
            continue;
        out[n++] = (struct vg_x_mark){vg_x_writer(p->source, p->partition),
                                      vg_wm_partition(&d->wm, p->source, p->partition),
                                      vg_wm_idle(&d->wm, p, now_ns)};
    }
    return n;
}

/* The event time node i sees in this run. */
static vg_time_ms node_watermark(struct vg_dag *d, size_t i)
{
    const struct vg_compiled_node *cn = &d->c->nodes[i];
    if (d->close_at != VG_TIME_NONE)
        return d->close_at;
    if (!d->local_x || d->local_mask[i] == cn->fed_by)
        return vg_wm_current_of(&d->wm, cn->fed_by, vg_mono_ns());
    return d->local_wm[i];
}

void vg_dag_local_snapshot(struct vg_dag *d)
{
    for (size_t i = 0; i < d->c->n_nodes; i++)
        if (d->local_mask[i] != d->c->nodes[i].fed_by)
            d->local_wm[i] = d->local_shared
                                 ? d->local_shared(d->local_ud, d->local_mask[i])
                                 : vg_wm_current_of(&d->wm, d->local_mask[i], vg_mono_ns());
}

int vg_dag_run(struct vg_dag *d)
{
    const struct vg_compiled *c = d->c;
    int rc = 0;
    for (size_t i = 0; i < c->n_nodes && rc == 0; i++) {
        const struct vg_compiled_node *cn = &c->nodes[i];
        struct vg_sel in;
        if (cn->source_id >= 0) {
            in = d->src_sels[cn->source_id];
        } else if (cn->exchange >= 0 && cn->n_exchanges == 2) { /* a join: a side each */
            const struct vg_node *n = cn->node;
            if ((rc = exchange_write(d, &c->exchanges[cn->exchange],
                                     &d->sels[n->inputs[0]->index])) != 0 ||
                (rc = exchange_write(d, &c->exchanges[cn->exchange + 1],
                                     &d->sels[n->inputs[1]->index])) != 0)
                break;
            struct vg_sel l, r;
            exchange_read(d, (size_t)cn->exchange, &l);
            exchange_read(d, (size_t)cn->exchange + 1, &r);
            join_sels(d, &l, &r, &in);
        } else if (cn->exchange >= 0) {
            merge_inputs(d, cn->node, &in);
            if ((rc = exchange_write(d, &c->exchanges[cn->exchange], &in)) != 0)
                break;
            exchange_read(d, (size_t)cn->exchange, &in);
        } else if (cn->type->flags & VG_OP_TABLE) {
            continue; /* looked up by joins, never run */
        } else if (cn->type->flags & VG_OP_JOIN) {
            join_inputs(d, cn->node, &in);
        } else {
            merge_inputs(d, cn->node, &in);
        }
        if (d->keyed && cn->source_id < 0)
            d->ctx->watermark = node_watermark(d, i);
        d->in_source = cn->source_id >= 0;
        rc = cn->type->process(d->st[i], &d->b, &in, &d->sels[i], d->ctx);
        d->in_source = false;
        if (cn->source_id >= 0) {
            if (d->bounded)
                bound_time(d, &d->sels[i]);
            if (d->split_n > 1)
                split_keys(d, &d->sels[i]);
            if (d->keyed)
                observe_time(d, &d->sels[i]);
            d->events += d->sels[i].n;
        }
    }
    return rc;
}

void vg_dag_local_exchanges(struct vg_dag *d)
{
    const struct vg_compiled *c = d->c;
    d->local_x = true;
    d->local_mask = vg_xcalloc(c->n_nodes + 1, sizeof(*d->local_mask));
    d->local_wm = vg_xcalloc(c->n_nodes + 1, sizeof(*d->local_wm));
    for (size_t i = 0; i < c->n_nodes; i++)
        d->local_wm[i] = VG_TIME_NONE;
    for (size_t i = 0; i < c->n_nodes; i++) {
        uint64_t m = c->nodes[i].fed_by;
        for (bool more = true; more;) { /* an exchange may be fed through another */
            more = false;
            for (size_t x = 0; x < c->n_exchanges; x++) {
                int s = c->exchanges[x].source_id;
                if (s < 64 && ((m >> s) & 1)) {
                    m = (m & ~(1ULL << s)) | c->exchanges[x].upstream;
                    more = true;
                }
            }
        }
        d->local_mask[i] = m;
    }
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
