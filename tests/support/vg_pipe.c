/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vg_pipe.c - in-memory runs of a topology for tests (vg_pipe.h).
 *
 * Thread: the test's main thread.
 */
#include "vg_pipe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dag.h"
#include "rt_pool.h"
#include "topo.h"

struct vg_pipe {
    struct vg_topology *topo;
    struct vg_compiled *c;
    struct vg_rt_pool *pool;
    struct vg_op_ctx ctx;
    struct vg_dag dag;
    struct vg_pipe_rec *recs;
    size_t n, cap;
    struct vg_buf dead;
    int64_t offset;
    struct pend { int x; char *v; size_t len; } *pend; /* written to repartition topics */
    size_t n_pend, cap_pend;
    int64_t x_offset;
    uint64_t node_out[64];          /* records each node output, all batches */
    struct cell { char *key, *field, *value; } *cells; /* tables: Redis hash fields */
    size_t n_cells;
    uint64_t lookups, looked_up;
};

/* Redis tables: the cells set with vg_pipe_table; Kafka tables: the cell whose field is ""
 * holds the row's JSON. */
static int pipe_lookup(struct vg_op_ctx *ctx, const struct vg_table_conf *t,
                       const char *const *keys, const size_t *klens, size_t n,
                       void (*row)(void *ud, size_t i, const char *field, size_t flen,
                                   const char *val, size_t vlen),
                       void *ud)
{
    struct vg_pipe *p = ctx->rt;
    p->lookups++;
    p->looked_up += n;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < p->n_cells; c++) {
            const struct cell *e = &p->cells[c];
            if (strlen(e->key) != klens[i] || memcmp(e->key, keys[i], klens[i]) ||
                t->kafka != !*e->field)
                continue;
            row(ud, i, t->kafka ? NULL : e->field, strlen(e->field), e->value, strlen(e->value));
        }
    return 0;
}

void vg_pipe_table(struct vg_pipe *p, const char *key, const char *field, const char *value)
{
    for (size_t c = 0; c < p->n_cells; c++)
        if (!strcmp(p->cells[c].key, key) && !strcmp(p->cells[c].field, field)) {
            vg_free(p->cells[c].value);
            p->cells[c].value = vg_xstrdup(value);
            return;
        }
    p->cells = vg_xrealloc(p->cells, (p->n_cells + 1) * sizeof(*p->cells));
    p->cells[p->n_cells++] = (struct cell){vg_xstrdup(key), vg_xstrdup(field), vg_xstrdup(value)};
}

uint64_t vg_pipe_lookups(const struct vg_pipe *p, uint64_t *keys)
{
    if (keys)
        *keys = p->looked_up;
    return p->lookups;
}

static int exchange_of_output(const struct vg_pipe *p, int out)
{
    for (size_t x = 0; x < p->c->n_exchanges; x++)
        if (p->c->exchanges[x].output_id == out)
            return (int)x;
    return -1;
}

static int pipe_write(struct vg_op_ctx *ctx, int out, const void *key, size_t key_len,
                      const void *value, size_t len, const struct vg_event *ev)
{
    (void)ev;
    (void)key;
    struct vg_pipe *p = ctx->rt;
    int x = exchange_of_output(p, out);
    if (x >= 0) {
        if (p->n_pend == p->cap_pend) {
            p->cap_pend = p->cap_pend ? 2 * p->cap_pend : 16;
            p->pend = vg_xrealloc(p->pend, p->cap_pend * sizeof(*p->pend));
        }
        p->pend[p->n_pend++] = (struct pend){x, vg_xstrndup(value, len), len};
        return 0;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->recs = vg_xrealloc(p->recs, p->cap * sizeof(*p->recs));
    }
    struct vg_pipe_rec *r = &p->recs[p->n++];
    r->out = out;
    const char *target = p->c->outputs[out].target;
    r->target = vg_xstrdup(target ? target : "");
    r->key = vg_xstrndup(key ? key : "", key ? key_len : 0);
    r->value = vg_xmalloc(len + 1); /* binary (Avro) values may hold NUL bytes */
    memcpy(r->value, value, len);
    r->value[len] = '\0';
    r->len = len;
    return 0;
}

static void pipe_dead_letter(struct vg_op_ctx *ctx, const struct vg_event *ev, const char *why)
{
    struct vg_pipe *p = ctx->rt;
    char line[64];
    snprintf(line, sizeof(line), "%lld: ", (long long)ev->offset);
    vg_buf_append(&p->dead, line, strlen(line));
    vg_buf_append(&p->dead, why, strlen(why));
    vg_buf_append(&p->dead, "\n", 1);
}

static void pipe_parallel(struct vg_op_ctx *ctx, void (*fn)(void *arg, size_t i), void *arg,
                          size_t n)
{
    struct vg_pipe *p = ctx->rt;
    if (p->pool) {
        vg_rt_pool_run(p->pool, fn, arg, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        fn(arg, i);
}

static struct vg_compiled *pipe_compile(const char *text, struct vg_diag *diag,
                                        struct vg_topology **topo)
{
    /* relative paths in topologies (schemas/...) resolve against the source tree */
    const char *src = getenv("VG_SOURCE_DIR");
    if (src && chdir(src) != 0)
        fail_msg("chdir %s failed", src);
    *topo = vg_topo_load_string("t.yaml", text, strlen(text), diag);
    if (!*topo)
        return NULL;
    struct vg_compiled *c = vg_compile(*topo, diag);
    if (!c) {
        vg_topo_free(*topo);
        *topo = NULL;
    }
    return c;
}

static char *diag_text(struct vg_diag *d)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    vg_diag_print(d, f);
    fclose(f);
    return buf;
}

char *vg_pipe_errors(const char *text)
{
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_topology *topo;
    struct vg_compiled *c = pipe_compile(text, &d, &topo);
    char *out = diag_text(&d);
    vg_diag_fini(&d);
    if (c) {
        vg_compiled_free(c);
        vg_topo_free(topo);
    }
    return out;
}

/* The operators' states, as a stream thread opens them. */
static void pipe_open(struct vg_pipe *p)
{
    struct vg_err err = {0};
    if (vg_dag_open(&p->dag, p->c, &p->ctx, &err) != 0)
        fail_msg("open: %s", err.msg);
    for (size_t x = 0; x < p->c->n_exchanges; x++) /* one partition per upstream source */
        p->dag.xr[x].n_writers = (size_t)__builtin_popcountll(p->c->exchanges[x].upstream);
}

static void run(struct vg_pipe *p)
{
    assert_int_equal(vg_dag_run(&p->dag), 0);
    for (size_t i = 0; i < p->c->n_nodes && i < 64; i++)
        p->node_out[i] += p->dag.sels[i].n;
}

uint64_t vg_pipe_node_out(const struct vg_pipe *p, const char *node)
{
    for (size_t i = 0; i < p->c->n_nodes && i < 64; i++)
        if (!strcmp(p->c->nodes[i].node->name, node))
            return p->node_out[i];
    fail_msg("no node '%s'", node);
    return 0;
}

struct vg_pipe *vg_pipe_new(const char *text, int workers)
{
    struct vg_pipe *p = vg_xcalloc(1, sizeof(*p));
    struct vg_diag d;
    vg_diag_init(&d);
    p->c = pipe_compile(text, &d, &p->topo);
    if (!p->c) {
        char *errs = diag_text(&d);
        fail_msg("topology does not compile:\n%s", errs);
    }
    vg_diag_fini(&d);
    if (workers > 1)
        p->pool = vg_rt_pool_new((size_t)workers);
    p->ctx.expr = vg_expr_ctx_new();
    p->ctx.rt = p;
    p->ctx.write = pipe_write;
    p->ctx.dead_letter = pipe_dead_letter;
    p->ctx.parallel = pipe_parallel;
    p->ctx.lookup = pipe_lookup;
    p->ctx.n_workers = workers > 1 ? (size_t)workers : 1;
    vg_buf_init(&p->dead);
    pipe_open(p);
    return p;
}

/* ---- restart: an in-memory state store ---- */

struct mem_entry {
    int32_t partition;
    char *key, *val; /* key: "<bucket>\x1e<field>" */
    size_t klen, vlen;
    size_t field;    /* where the field starts in key */
};

struct mem_store {
    struct mem_entry *e;
    size_t n, cap;
};

static struct mem_entry *mem_find(struct mem_store *m, int32_t partition, const char *key,
                                  size_t klen)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].partition == partition && m->e[i].klen == klen &&
            !memcmp(m->e[i].key, key, klen))
            return &m->e[i];
    return NULL;
}

static char *mem_key(const char *bucket, const char *field, size_t flen, size_t *klen)
{
    size_t b = strlen(bucket);
    char *k = vg_xmalloc(b + 1 + flen + 1);
    memcpy(k, bucket, b);
    k[b] = '\x1e';
    memcpy(k + b + 1, field, flen);
    k[b + 1 + flen] = '\0';
    *klen = b + 1 + flen;
    return k;
}

static void mem_put(struct vg_state_out *o, int32_t partition, const char *bucket,
                    const char *field, size_t flen, const void *val, size_t len, int64_t ttl_ms)
{
    (void)ttl_ms;
    struct mem_store *m = o->ud;
    size_t klen;
    char *key = mem_key(bucket, field, flen, &klen);
    struct mem_entry *e = mem_find(m, partition, key, klen);
    if (!e) {
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 64;
            m->e = vg_xrealloc(m->e, m->cap * sizeof(*m->e));
        }
        e = &m->e[m->n++];
        *e = (struct mem_entry){partition, key, NULL, klen, 0, strlen(bucket) + 1};
        key = NULL;
    }
    vg_free(key);
    vg_free(e->val);
    e->val = vg_xmalloc(len + 1);
    memcpy(e->val, val, len);
    e->vlen = len;
}

static void mem_del(struct vg_state_out *o, int32_t partition, const char *bucket,
                    const char *field, size_t flen)
{
    struct mem_store *m = o->ud;
    size_t klen;
    char *key = mem_key(bucket, field, flen, &klen);
    struct mem_entry *e = mem_find(m, partition, key, klen);
    vg_free(key);
    if (e) {
        vg_free(e->key);
        vg_free(e->val);
        *e = m->e[--m->n];
    }
}

void vg_pipe_restart(struct vg_pipe *p)
{
    const struct vg_compiled *c = p->c;
    struct mem_store *stores = vg_xcalloc(c->n_nodes + 1, sizeof(*stores));
    for (size_t i = 0; i < c->n_nodes; i++) {
        const struct vg_op_type *t = c->nodes[i].type;
        if (!t->state_save)
            continue;
        struct vg_state_out out = {.ud = &stores[i], .put = mem_put, .del = mem_del};
        assert_int_equal(t->state_save(p->dag.st[i], &out, true), 0);
        t->state_saved(p->dag.st[i]);
    }
    vg_dag_close(&p->dag);
    pipe_open(p);
    for (size_t i = 0; i < c->n_nodes; i++) {
        for (size_t k = 0; k < stores[i].n; k++) {
            struct mem_entry *e = &stores[i].e[k];
            assert_int_equal(c->nodes[i].type->state_load(p->dag.st[i], e->partition,
                                                          e->key + e->field, e->klen - e->field,
                                                          e->val, e->vlen),
                             0);
            vg_free(e->key);
            vg_free(e->val);
        }
        vg_free(stores[i].e);
    }
    vg_free(stores);
}

void vg_pipe_revoke(struct vg_pipe *p, int32_t partition)
{
    const struct vg_compiled *c = p->c;
    for (size_t i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].type->state_drop)
            c->nodes[i].type->state_drop(p->dag.st[i], partition);
    for (size_t s = 0; s < c->n_sources; s++)
        vg_wm_forget(&p->dag.wm, (uint16_t)s, partition);
}

static int source_id(struct vg_pipe *p, const char *source)
{
    for (size_t s = 0; s < p->c->n_sources; s++)
        if (!source || strcmp(p->c->sources[s].node->name, source) == 0)
            return (int)s;
    fail_msg("no source node '%s'", source);
    return -1;
}

/* What went to repartition topics comes back, in order, on their one partition, followed by
 * a control record with the writers' watermarks; until nothing more is written. */
static void run_exchanges(struct vg_pipe *p)
{
    while (p->n_pend) {
        struct pend *list = p->pend;
        size_t n = p->n_pend;
        p->pend = NULL;
        p->n_pend = p->cap_pend = 0;
        struct vg_buf ctl[8];
        vg_dag_begin(&p->dag);
        for (size_t i = 0; i < n; i++) {
            const struct vg_compiled_exchange *x = &p->c->exchanges[list[i].x];
            vg_dag_add(&p->dag, x->source_id, x->topic, 0, p->x_offset++, list[i].v, list[i].len,
                       p->ctx.now_ms);
        }
        size_t n_ctl = p->c->n_exchanges < 8 ? p->c->n_exchanges : 8;
        for (size_t xi = 0; xi < n_ctl; xi++) {
            struct vg_x_mark marks[64];
            size_t m = vg_dag_marks(&p->dag, xi, marks, 64, vg_mono_ns());
            vg_buf_init(&ctl[xi]);
            vg_x_encode_control(&ctl[xi], marks, m, p->ctx.now_ms);
            const struct vg_compiled_exchange *x = &p->c->exchanges[xi];
            vg_dag_add(&p->dag, x->source_id, x->topic, 0, p->x_offset++, ctl[xi].data,
                       ctl[xi].len, p->ctx.now_ms);
        }
        run(p);
        vg_expr_ctx_reset(p->ctx.expr);
        for (size_t xi = 0; xi < n_ctl; xi++)
            vg_buf_fini(&ctl[xi]);
        for (size_t i = 0; i < n; i++)
            vg_free(list[i].v);
        vg_free(list);
    }
}

void vg_pipe_feed_raw(struct vg_pipe *p, const char *source, const void *v, size_t len,
                      int64_t now_ms)
{
    int src = source_id(p, source);
    p->ctx.now_ms = now_ms;
    vg_dag_begin(&p->dag);
    vg_dag_add(&p->dag, src, p->c->sources[src].topic, 0, p->offset++, v, len, now_ms);
    run(p);
    vg_expr_ctx_reset(p->ctx.expr);
    run_exchanges(p);
}

void vg_pipe_feed(struct vg_pipe *p, const char *source, const char *jsonl, int64_t now_ms)
{
    vg_pipe_feed_at(p, source, 0, jsonl, now_ms);
}

void vg_pipe_feed_at(struct vg_pipe *p, const char *source, int32_t partition, const char *jsonl,
                     int64_t now_ms)
{
    int src = source_id(p, source);
    p->ctx.now_ms = now_ms;
    vg_dag_begin(&p->dag);
    const char *s = jsonl;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        vg_dag_add(&p->dag, src, p->c->sources[src].topic, partition, p->offset++, s, len,
                   now_ms);
        s += len + (nl ? 1 : 0);
    }
    run(p);
    vg_expr_ctx_reset(p->ctx.expr);
    run_exchanges(p);
}

size_t vg_pipe_n_out(const struct vg_pipe *p)
{
    return p->n;
}

const struct vg_pipe_rec *vg_pipe_out(const struct vg_pipe *p, size_t i)
{
    return i < p->n ? &p->recs[i] : NULL;
}

char *vg_pipe_out_text(const struct vg_pipe *p)
{
    struct vg_buf b;
    vg_buf_init(&b);
    for (size_t i = 0; i < p->n; i++) {
        vg_buf_append(&b, p->recs[i].value, p->recs[i].len);
        vg_buf_append(&b, "\n", 1);
    }
    char *s = vg_xstrndup(b.data ? b.data : "", b.len);
    vg_buf_fini(&b);
    return s;
}

char *vg_pipe_dead_text(const struct vg_pipe *p)
{
    return vg_xstrndup(p->dead.data ? p->dead.data : "", p->dead.len);
}

void vg_pipe_free(struct vg_pipe *p)
{
    if (!p)
        return;
    vg_dag_close(&p->dag);
    if (p->pool)
        vg_rt_pool_free(p->pool);
    vg_expr_ctx_free(p->ctx.expr);
    for (size_t i = 0; i < p->n; i++) {
        vg_free(p->recs[i].target);
        vg_free(p->recs[i].key);
        vg_free(p->recs[i].value);
    }
    vg_free(p->recs);
    for (size_t i = 0; i < p->n_pend; i++)
        vg_free(p->pend[i].v);
    vg_free(p->pend);
    vg_buf_fini(&p->dead);
    for (size_t c = 0; c < p->n_cells; c++) {
        vg_free(p->cells[c].key);
        vg_free(p->cells[c].field);
        vg_free(p->cells[c].value);
    }
    vg_free(p->cells);
    vg_compiled_free(p->c);
    vg_topo_free(p->topo);
    vg_free(p);
}
