/* SPDX-License-Identifier: Apache-2.0 */
/*
 * join.c - the `join` operator: stream-stream window joins and stream-table enrichment.
 *
 *   join: {left: logins, right: vpn, on: user, within: 10m, type: inner|left}
 *   join: {left: failures, right: assets, on: host, type: left}      (assets is a table)
 *
 * Output. Each side's fields under its node name: downstream expressions read
 * `logins.user`, `vpn.country`, `assets.owner`; each such path gets a slot of the join's own
 * the first time a downstream node names it (a custom scope), and the join copies the
 * side's value into it. A sink or an alert sees the pair as {"logins": <event>, "vpn":
 * <event>} (a missing side is null). `on` is one expression evaluated on each side
 * (`on: lower(user)`) or a pair naming each side's (`on: [logins.user, vpn.account]`). The
 * output is keyed (the default alert key of a rules node after it) by the `on` key, held in a
 * slot of the join's; an enrichment keeps the key its events had, if any.
 *
 * Stream-stream. Every left and right event with equal keys whose event times differ by at
 * most `within` make one pair; the pair's event time is the later of the two and its source
 * position the arriving event's. Each arriving event is buffered (key, time, source position,
 * the values downstream reads and its payload) until the stage's event time passes its time
 * + within; then it is evicted, and an unmatched left event of a `left` join is emitted with
 * a null right side. The buffers are the join's state: one Redis hash field per event,
 * bucketed by minute of event time, saved behind like a window's and loaded on assignment.
 * Both sides must reach the same stream thread for a key: either every source declares
 * `partitioned_by` the key, or each side goes through a repartition topic of its own keyed
 * by the side's key (vg_compile_add_side_exchange; the writer computes the key into a slot of
 * the join's and the record carries the payload). Entries keep the source record's position
 * (origin_* through repartition topics) for alert ids, and the partition their state is in.
 *
 * Stream-table. A left event's key names a row (table.h). Redis rows are cached per thread
 * (at most cache_rows, oldest first out, fetched again after cache_ttl) and every miss of a
 * batch is fetched in one pipelined round trip (vg_op_ctx.lookup); hash values are numbers
 * when they read as numbers, else strings. Kafka rows are the engine's in-memory table,
 * looked up for every batch (no cache); their JSON is decoded for the fields downstream
 * reads. Inner joins drop events without a row.
 *
 * Thread: create on main; everything else on one stream thread per state.
 */
#include "binio.h"
#include "codec.h"
#include "compile.h"
#include "htab.h"
#include "table.h"
#include "vg_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LEFT, RIGHT };

#define BUCKET_MS 60000             /* state: one Redis hash per minute of event time */
#define STATE_MARGIN_MS 600000      /* state TTL beyond within + lateness */

static const struct vg_key_spec join_op_keys[] = {
    {.name = "left", .type = VG_K_STRING, .required = true, .doc = "the left stream"},
    {.name = "right", .type = VG_K_STRING, .required = true, .doc = "the right stream or a table"},
    {.name = "on", .type = VG_K_ANY, .required = true,
     .doc = "key: an expression on both sides, or [left expr, right expr]"},
    {.name = "within", .type = VG_K_DURATION,
     .doc = "stream-stream: largest event time difference of a pair"},
    {.name = "type", .type = VG_K_ENUM, .enum_values = "inner|left", .defval = "inner",
     .doc = "left: unmatched left events too, with the right side null"},
    {0},
};

static const struct vg_key_spec join_keys[] = {{0}};

/* A value a downstream node reads: side's slot `in` (a table: column `col`) into `out`. */
struct copy {
    int in;
    char *col;
    size_t col_len;
    int out;
};

struct join_conf {
    const struct vg_node *node;
    struct vg_compiled *c;
    const char *name[2];
    struct vg_expr *key[2];
    const struct vg_table_conf *tab;    /* right side is a table */
    bool left_join;
    int64_t within_ms;
    int64_t ttl_ms;
    struct copy *copies[2];
    size_t n_copies[2];
    const char *key_text[2];    /* each side's key as written (a side's prefix dropped) */
    int x[2];                   /* through repartition topics: each side's exchange, else -1 */
    int x_key[2];               /* there, the slot carrying each side's key, else -1 */
    int key_slot;               /* the output's key (alerts'), else -1: the left input's kept */
};

/* ---- load time ---- */

static int join_resolve(void *ud, const char *path, int *slot, char *hint, size_t hint_size)
{
    struct join_conf *jc = ud;
    const char *dot = strchr(path, '.');
    int side = -1;
    for (int s = 0; s < 2 && dot; s++)
        if (strlen(jc->name[s]) == (size_t)(dot - path) &&
            !strncmp(path, jc->name[s], (size_t)(dot - path)))
            side = s;
    if (side < 0) {
        snprintf(hint, hint_size, "a join's output holds each side's fields under its name: "
                 "'%s.%s' or '%s.%s'", jc->name[LEFT], path, jc->name[RIGHT], path);
        return -1;
    }
    const char *rest = dot + 1;
    int in = -1;
    if (!(side == RIGHT && jc->tab)) {
        const struct vg_scope *s = vg_compile_node_scope(jc->c, jc->node->inputs[side]);
        if (vg_compile_scope_resolve(s, rest, &in, hint, hint_size) != 0)
            return -1;
    } else if (!*rest || strpbrk(rest, ".[")) {
        snprintf(hint, hint_size, "a table row's fields are its hash's field names");
        return -1;
    }
    char name[600];
    snprintf(name, sizeof(name), "join:%p:%s", (void *)jc, path);
    *slot = vg_compile_slot(jc->c, name);
    for (size_t i = 0; i < jc->n_copies[side]; i++)
        if (jc->copies[side][i].out == *slot)
            return 0;
    jc->copies[side] =
        vg_xrealloc(jc->copies[side], (jc->n_copies[side] + 1) * sizeof(struct copy));
    struct copy *cp = &jc->copies[side][jc->n_copies[side]++];
    cp->in = in;
    cp->col = in < 0 ? vg_xstrdup(rest) : NULL;
    cp->col_len = in < 0 ? strlen(rest) : 0;
    cp->out = *slot;
    return 0;
}

/* Compile side's key expression y (a leading "<side name>." is dropped) in that side's
 * scope. */
static struct vg_expr *side_key(struct join_conf *jc, struct vg_op_env *env, int side,
                                const struct vg_ynode *y)
{
    struct vg_ynode copy = *y;
    size_t n = strlen(jc->name[side]);
    if (copy.len > n + 1 && !strncmp(copy.str, jc->name[side], n) && copy.str[n] == '.') {
        copy.str += n + 1;
        copy.len -= n + 1;
        copy.mark.col += (int)(n + 1);
    }
    struct vg_op_env e = *env;
    e.in = vg_compile_node_scope(jc->c, jc->node->inputs[side]);
    jc->key_text[side] = copy.str;
    return vg_op_env_expr(&e, &copy, VG_EXPR_ANY);
}

/* Whether every source feeding side declares partitioned_by exactly the side's key (a plain
 * field): then a key's events of both sides are read by one stream thread already. */
static bool co_partitioned(const struct join_conf *jc, const struct vg_compiled *c, int side)
{
    uint64_t fed = c->nodes[jc->node->inputs[side]->index].fed_by;
    for (size_t s = 0; s < c->n_sources; s++) {
        if (!((fed >> s) & 1))
            continue;
        const struct vg_ynode *pb = vg_ynode_get(c->sources[s].node->body, "partitioned_by");
        if (!pb || vg_ylist_len(pb) != 1 || strcmp(vg_ylist_str(pb, 0), jc->key_text[side]))
            return false;
    }
    return fed != 0;
}

/* Otherwise each side goes through a repartition topic of its own, keyed by the side's key
 * (computed by the writer into a slot of the join's), so equal keys meet in one partition
 * number of the two topics. */
static void exchange_sides(struct join_conf *jc, struct vg_op_env *env)
{
    static const char *const side_name[2] = {"left", "right"};
    for (int side = 0; side < 2; side++) {
        char name[300];
        snprintf(name, sizeof(name), "join:%p:key.%s", (void *)jc, side_name[side]);
        jc->x_key[side] = vg_compile_slot(jc->c, name);
        jc->x[side] = vg_compile_add_side_exchange(env, jc->node, side_name[side],
                                                   jc->x_key[side], jc->key[side]);
    }
}

/* Once downstream named what it reads: the repartition records carry those fields too. */
static void join_finish(void *conf, struct vg_compiled *c)
{
    struct join_conf *jc = conf;
    for (int side = 0; side < 2 && jc->x[side] >= 0; side++)
        for (size_t i = 0; i < jc->n_copies[side]; i++)
            vg_compile_exchange_vals(c, jc->x[side], &jc->copies[side][i].in, 1);
}

static void join_destroy(void *conf);

static int join_create(const struct vg_node *node, struct vg_op_env *env, void **confp)
{
    struct join_conf *jc = vg_xcalloc(1, sizeof(*jc));
    jc->node = node;
    jc->c = env->compiled;
    jc->x[LEFT] = jc->x[RIGHT] = jc->x_key[LEFT] = jc->x_key[RIGHT] = jc->key_slot = -1;
    jc->name[LEFT] = node->inputs[LEFT]->name;
    jc->name[RIGHT] = node->inputs[RIGHT]->name;
    if (node->inputs[RIGHT]->type->flags & VG_OP_TABLE) {
        jc->tab = jc->c->nodes[node->inputs[RIGHT]->index].conf;
        if (!jc->tab) { /* the table was refused: said already */
            join_destroy(jc);
            return VG_ECONFIG;
        }
    }
    const struct vg_ynode *type = vg_ynode_get(node->op, "type");
    jc->left_join = type && !strcmp(type->str, "left");
    const struct vg_ynode *within = vg_ynode_get(node->op, "within");
    if (within)
        vg_duration_parse(within->str, within->len, &jc->within_ms);
    const struct vg_ynode *on = vg_ynode_get(node->op, "on");
    bool ok = true;
    if (!jc->tab && !within) {
        vg_diag_add(env->diag, node->op->mark, NULL,
                    "node '%s': a join of two streams needs within: (the largest time "
                    "between a pair's events)", node->name);
        ok = false;
    }
    if (jc->tab && within) {
        vg_diag_add(env->diag, within->mark, NULL,
                    "node '%s': within: is for joins of two streams; '%s' is a table",
                    node->name, jc->name[RIGHT]);
        ok = false;
    }
    if (on->type == VG_Y_SEQ && on->n == 2 && on->items[0]->type == VG_Y_SCALAR &&
        on->items[1]->type == VG_Y_SCALAR) {
        jc->key[LEFT] = side_key(jc, env, LEFT, on->items[0]);
        if (!jc->tab)
            jc->key[RIGHT] = side_key(jc, env, RIGHT, on->items[1]);
        ok = ok && jc->key[LEFT] && (jc->tab || jc->key[RIGHT]);
    } else if (on->type == VG_Y_SCALAR) {
        jc->key[LEFT] = side_key(jc, env, LEFT, on);
        if (!jc->tab)
            jc->key[RIGHT] = side_key(jc, env, RIGHT, on);
        ok = ok && jc->key[LEFT] && (jc->tab || jc->key[RIGHT]);
    } else {
        vg_diag_add(env->diag, on->mark, NULL,
                    "node '%s': on: is an expression, or a list of two (left, right)",
                    node->name);
        ok = false;
    }
    if (ok && !jc->tab && !(co_partitioned(jc, env->compiled, LEFT) &&
                            co_partitioned(jc, env->compiled, RIGHT)))
        exchange_sides(jc, env);
    if (!ok) {
        join_destroy(jc);
        return VG_ECONFIG;
    }
    int64_t lateness = 0; /* the largest of the join's own sources */
    uint64_t fed = jc->c->nodes[node->inputs[LEFT]->index].fed_by |
                   jc->c->nodes[node->inputs[RIGHT]->index].fed_by;
    for (size_t s = 0; s < jc->c->n_sources && s < 64; s++)
        if ((fed >> s) & 1)
            lateness = VG_MAX(lateness, vg_node_duration_ms(jc->c->sources[s].node, "lateness", 0));
    jc->ttl_ms = jc->within_ms + lateness + STATE_MARGIN_MS;
    env->keyed = jc->tab == NULL; /* enrichment does not wait for event time */
    vg_compile_custom_scope(env, join_resolve, jc);
    /* the output's key (a rules node's default alert key): the pairs' `on` key; an enrichment
     * does not regroup, so its events keep the key they had, and take `on` only when they
     * had none */
    const struct vg_stream_key *left_key = vg_compile_node_key(jc->c, node->inputs[LEFT]);
    if (jc->tab && left_key) {
        vg_compile_keep_key(env, left_key);
    } else {
        char name[300];
        snprintf(name, sizeof(name), "join:%p:key", (void *)jc);
        jc->key_slot = vg_compile_slot(jc->c, name);
        const char *key_name = jc->key_text[LEFT];
        vg_compile_set_key(env, &key_name, &jc->key_slot, 1);
    }
    *confp = jc;
    return 0;
}

static void join_destroy(void *conf)
{
    struct join_conf *jc = conf;
    if (!jc)
        return;
    for (int s = 0; s < 2; s++) {
        vg_expr_free(jc->key[s]);
        for (size_t i = 0; i < jc->n_copies[s]; i++)
            vg_free(jc->copies[s][i].col);
        vg_free(jc->copies[s]);
    }
    vg_free(jc);
}

/* ---- run time: shared ---- */

/* A buffered event (stream-stream). blob: its copies' values (vg_value_save), then its
 * payload. */
struct entry {
    struct entry *next;         /* in its key's list for its side */
    struct entry **pprev;       /* what points to it there */
    struct jkey *k;
    vg_time_ms ts, append_ms;
    const char *topic;          /* interned; with offset and src_partition: the source record */
    int32_t partition;          /* the partition whose state holds it */
    int32_t src_partition;      /* of the source record (differs through repartition topics) */
    int64_t offset;
    uint8_t side;
    bool matched;               /* left: paired at least once */
    bool saved;                 /* written to the state store */
    bool queued;                /* in dirty[] */
    bool dead;                  /* evicted while queued: freed once saved */
    size_t heap_i;
    uint32_t key_len, vals_len, payload_len;
    char blob[];                /* key (vg_value_save), values, payload */
};

#define E_VALS(e) ((e)->blob + (e)->key_len)
#define E_PAYLOAD(e) ((e)->blob + (e)->key_len + (e)->vals_len)

struct jkey {
    struct vg_hlink link;       /* first: in keys */
    struct entry *head[2];
    size_t n_entries;
    uint32_t len;
    char key[];
};

/* A cached table row (stream-table): its values for the copies, and the row as JSON. */
/* An enriched event's JSON, made on demand: the left event as it was (its own JSON or its
 * payload), then the row. */
struct row;
struct row_json {
    const struct join_conf *jc;
    void (*left_fn)(const struct vg_event *ev, struct vg_buf *out);
    const void *left_ud;
    const char *left_json;
    uint32_t left_len;
    const struct row *row;
};

struct row {
    struct vg_hlink link;       /* first: in rows */
    struct row_json plain;      /* for events whose left side is their payload (no allocation) */
    vg_time_ms fetched_ms;
    size_t fifo_i;              /* its place in fifo[] */
    bool found;
    struct vg_value *vals;      /* n_copies[RIGHT]; strings owned */
    char *json;
    uint32_t json_len;
    uint32_t len;
    char key[];
};

struct del {
    int32_t partition;
    char bucket[24];
    char *field;
    size_t flen;
};

struct join_state {
    const struct join_conf *conf;
    struct vg_op_ctx *ctx;
    /* stream-stream */
    struct vg_htab keys;        /* struct jkey */
    struct entry **heap;        /* by ts + within */
    size_t n_heap, cap_heap;
    struct entry **dirty;
    size_t n_dirty, cap_dirty;
    struct del *dels;
    size_t n_dels, cap_dels;
    bool persist;               /* the engine saves state: track changes */
    struct vg_intern topics;    /* the entries' topic names */
    /* stream-table */
    struct vg_htab rows;        /* struct row */
    struct vg_htab asked;       /* the rows a batch asks for, until they join rows */
    struct row_json plain_none; /* an event without a row whose left side is its payload */
    struct row **fifo;          /* cache_rows slots, oldest first out */
    size_t fifo_head;
    struct vg_buf kbuf, jbuf;
    /* gone from the state, freed at the next batch: this batch's outputs may point to them */
    struct entry *grave_entries;
    struct row *grave_rows;
    /* table: kafka: decoding a row's JSON into the fields downstream reads */
    struct vg_json_parser *jp;
    struct vg_paths *paths;
    struct vg_value *cells;
    struct vg_arena cell_arena;
};

static int join_open(const void *conf, struct vg_op_ctx *ctx, void **stp)
{
    const struct join_conf *jc = conf;
    struct join_state *st = vg_xcalloc(1, sizeof(*st));
    st->conf = jc;
    st->ctx = ctx;
    vg_buf_init(&st->kbuf);
    vg_buf_init(&st->jbuf);
    if (jc->tab)
        st->fifo = vg_xcalloc(jc->tab->cache_rows, sizeof(*st->fifo));
    st->plain_none = (struct row_json){.jc = jc};
    if (jc->tab && jc->tab->kafka) {
        st->jp = vg_json_parser_new();
        st->paths = vg_paths_new();
        st->cells = vg_xcalloc(jc->n_copies[RIGHT] + 1, sizeof(*st->cells));
        vg_arena_init(&st->cell_arena, 4096);
        for (size_t c = 0; c < jc->n_copies[RIGHT]; c++) {
            struct vg_err err;
            if (vg_paths_add(st->paths, jc->copies[RIGHT][c].col, (int)c, &err) != 0)
                return VG_EINVAL; /* the column names were checked at load time */
        }
    }
    *stp = st;
    return 0;
}

/* The JSON of one side for the output: the payload when it is a JSON object, else null. */
static void side_json(struct vg_buf *out, const char *name, const char *payload, size_t len)
{
    vg_buf_json_str(out, name, strlen(name));
    vg_buf_putc(out, ':');
    while (len && (payload[0] == ' ' || payload[0] == '\n'))
        payload++, len--;
    if (len && payload[0] == '{')
        vg_buf_append(out, payload, len);
    else
        vg_buf_puts(out, "null");
}

/* ---- run time: stream-stream ---- */

static void heap_swap(struct join_state *st, size_t a, size_t b)
{
    struct entry *t = st->heap[a];
    st->heap[a] = st->heap[b];
    st->heap[b] = t;
    st->heap[a]->heap_i = a;
    st->heap[b]->heap_i = b;
}

static bool heap_less(const struct entry *a, const struct entry *b)
{
    return a->ts < b->ts || (a->ts == b->ts && a->offset < b->offset);
}

static void heap_push(struct join_state *st, struct entry *e)
{
    if (st->n_heap == st->cap_heap) {
        st->cap_heap = st->cap_heap ? 2 * st->cap_heap : 1024;
        st->heap = vg_xrealloc(st->heap, st->cap_heap * sizeof(*st->heap));
    }
    size_t i = st->n_heap++;
    st->heap[i] = e;
    e->heap_i = i;
    while (i && heap_less(st->heap[i], st->heap[(i - 1) / 2])) {
        heap_swap(st, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_remove(struct join_state *st, size_t i)
{
    st->n_heap--;
    if (i == st->n_heap)
        return;
    st->heap[i] = st->heap[st->n_heap];
    st->heap[i]->heap_i = i;
    while (i && heap_less(st->heap[i], st->heap[(i - 1) / 2])) {
        heap_swap(st, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < st->n_heap && heap_less(st->heap[l], st->heap[m]))
            m = l;
        if (r < st->n_heap && heap_less(st->heap[r], st->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(st, i, m);
        i = m;
    }
}

static struct jkey *key_get(struct join_state *st, const char *key, size_t len, bool make)
{
    uint64_t h = vg_hash_mem(key, len);
    for (struct vg_hlink *l = vg_htab_head(&st->keys, h); l; l = l->next) {
        struct jkey *k = (struct jkey *)l;
        if (l->hash == h && k->len == len && !memcmp(k->key, key, len))
            return k;
    }
    if (!make)
        return NULL;
    struct jkey *k = vg_xcalloc(1, sizeof(*k) + len);
    k->link.hash = h;
    k->len = (uint32_t)len;
    memcpy(k->key, key, len);
    vg_htab_insert(&st->keys, &k->link);
    return k;
}

static void key_forget(struct join_state *st, struct jkey *k)
{
    vg_htab_remove(&st->keys, &k->link);
    vg_free(k);
}

static void mark_dirty(struct join_state *st, struct entry *e)
{
    if (!st->persist || e->queued)
        return;
    if (st->n_dirty == st->cap_dirty) {
        st->cap_dirty = st->cap_dirty ? 2 * st->cap_dirty : 256;
        st->dirty = vg_xrealloc(st->dirty, st->cap_dirty * sizeof(*st->dirty));
    }
    st->dirty[st->n_dirty++] = e;
    e->queued = true;
}

/* State layout: bucket "j<minute of event time>", field "<L|R><partition>:<offset>@<topic>"
 * (the source record's position). */
static size_t put_dec(char *p, long long v) /* decimal digits of v at p; their count */
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    size_t k = 0;
    if (v < 0)
        p[k++] = '-';
    while (n)
        p[k++] = tmp[--n];
    return k;
}

static void entry_field(const struct entry *e, struct vg_buf *out, char bucket[24])
{
    bucket[0] = 'j';
    bucket[1 + put_dec(bucket + 1, e->ts / BUCKET_MS)] = '\0';
    size_t tlen = strlen(e->topic);
    vg_buf_clear(out);
    char *p = vg_buf_reserve(out, 48 + tlen);
    size_t n = 0;
    p[n++] = e->side == LEFT ? 'L' : 'R';
    n += put_dec(p + n, e->src_partition);
    p[n++] = ':';
    n += put_dec(p + n, e->offset);
    p[n++] = '@';
    memcpy(p + n, e->topic, tlen);
    out->len += n + tlen;
}

/* Put the copies' values of blob into ev's slots (strings into the batch arena). */
static void load_vals(const struct join_conf *jc, int side, const char *blob, size_t len,
                      struct vg_event *ev, struct vg_batch *b)
{
    const char *p = blob, *end = blob + len;
    for (size_t i = 0; i < jc->n_copies[side]; i++) {
        struct vg_value v;
        if (vg_value_load(&v, &p, end, &b->arena) != 0)
            v = VG_NULL_VALUE;
        ev->slots[jc->copies[side][i].out] = v;
    }
}

/* The other event of a pair, as the pair's ident (vg_event): never 0. */
static uint64_t pair_ident(const struct entry *e)
{
    unsigned char pos[12]; /* partition and offset, little-endian on every platform */
    for (int i = 0; i < 4; i++)
        pos[i] = (unsigned char)((uint32_t)e->src_partition >> (8 * i));
    for (int i = 0; i < 8; i++)
        pos[4 + i] = (unsigned char)((uint64_t)e->offset >> (8 * i));
    uint64_t h = vg_hash_bytes(VG_HASH_SEED, e->topic, strlen(e->topic));
    h = vg_hash_bytes(h, pos, sizeof(pos));
    return h ? h : 1;
}

/* A pair's JSON, made when a sink or a rule asks (vg_event.fields_fn); its entries stay
 * until the join's next batch (the graveyard). */
struct pair_json {
    const struct join_conf *jc;
    const struct entry *l, *r;
};

static void pair_fields(const struct vg_event *ev, struct vg_buf *out)
{
    const struct pair_json *pj = ev->fields_ud;
    vg_buf_putc(out, '{');
    side_json(out, pj->jc->name[LEFT], E_PAYLOAD(pj->l), pj->l->payload_len);
    vg_buf_putc(out, ',');
    if (pj->r)
        side_json(out, pj->jc->name[RIGHT], E_PAYLOAD(pj->r), pj->r->payload_len);
    else
        side_json(out, pj->jc->name[RIGHT], "", 0);
    vg_buf_putc(out, '}');
}

/* Emit the pair (l, r) (r NULL: an unmatched left event); `at` arrived last. */
static void emit_pair(struct join_state *st, struct vg_batch *b, struct vg_sel *out,
                      const struct entry *l, const struct entry *r, const struct entry *at)
{
    const struct join_conf *jc = st->conf;
    uint32_t idx = vg_batch_add(b);
    struct vg_event *ev = &b->ev[idx];
    load_vals(jc, LEFT, E_VALS(l), l->vals_len, ev, b);
    if (r)
        load_vals(jc, RIGHT, E_VALS(r), r->vals_len, ev, b);
    /* the pair's position is its later event's (the left one on a tie), whichever arrived
     * last, so that a replay reading the sides in another order gives the same alert ids */
    const struct entry *later = r && r->ts > l->ts ? r : l;
    ev->ts = later->ts;
    ev->topic = later->topic;
    ev->partition = later->partition; /* the state's: downstream keyed nodes keep theirs there */
    ev->offset = later->offset;
    ev->origin_topic = later->topic; /* alerts name the source record */
    ev->origin_partition = later->src_partition;
    ev->origin_offset = later->offset;
    ev->append_ms = at->append_ms; /* latency counts from the arrival that made the pair */
    if (r)
        ev->ident = pair_ident(later == l ? r : l);
    const char *key = l->blob; /* both sides' keys are equal */
    if (vg_value_load(&ev->slots[jc->key_slot], &key, l->blob + l->key_len, &b->arena) != 0)
        ev->slots[jc->key_slot] = VG_NULL_VALUE;
    ev->payload = "";
    ev->len = 0;
    struct pair_json *pj = vg_arena_alloc(&b->arena, sizeof(*pj));
    *pj = (struct pair_json){jc, l, r};
    ev->fields_fn = pair_fields;
    ev->fields_ud = pj;
    vg_sel_push(b, out, idx);
}

static struct entry *entry_new(struct join_state *st, int side, const struct vg_event *ev,
                               const struct vg_buf *key, const struct vg_buf *vals)
{
    struct entry *e = vg_xcalloc(1, sizeof(*e) + key->len + vals->len + ev->len);
    e->ts = ev->ts;
    e->append_ms = ev->append_ms;
    const char *topic = ev->origin_topic ? ev->origin_topic : ev->topic ? ev->topic : "";
    e->topic = vg_intern(&st->topics, topic, strlen(topic));
    e->partition = ev->partition;
    e->src_partition = ev->origin_topic ? ev->origin_partition : ev->partition;
    e->offset = ev->origin_topic ? ev->origin_offset : ev->offset;
    e->side = (uint8_t)side;
    e->key_len = (uint32_t)key->len;
    e->vals_len = (uint32_t)vals->len;
    e->payload_len = ev->len;
    if (key->len) /* (an empty buffer has no storage) */
        memcpy(e->blob, key->data, key->len);
    if (vals->len)
        memcpy(E_VALS(e), vals->data, vals->len);
    if (ev->len)
        memcpy(E_PAYLOAD(e), ev->payload, ev->len);
    return e;
}

static void entry_link(struct join_state *st, struct jkey *k, struct entry *e)
{
    e->k = k;
    e->next = k->head[e->side];
    if (e->next)
        e->next->pprev = &e->next;
    e->pprev = &k->head[e->side];
    k->head[e->side] = e;
    k->n_entries++;
    heap_push(st, e);
}

/* One arriving event: pair it with the other side's buffered events, then buffer it. */
static void arrive(struct join_state *st, struct vg_batch *b, struct vg_sel *out, uint32_t idx,
                   int side)
{
    const struct join_conf *jc = st->conf;
    struct vg_event *ev = &b->ev[idx];
    struct vg_value key;
    if (jc->x_key[side] >= 0) /* computed by the repartition topic's writer */
        key = ev->slots[jc->x_key[side]];
    else
        vg_expr_eval(jc->key[side], ev->slots, st->ctx->expr, &key);
    if (key.type == VG_T_NULL) {
        vg_expr_ctx_reset(st->ctx->expr);
        return; /* no key, no pair (and nothing for a left join to wait for) */
    }
    vg_buf_clear(&st->kbuf);
    vg_value_save(&key, &st->kbuf);
    vg_expr_ctx_reset(st->ctx->expr);
    struct vg_buf vals;
    vg_buf_init(&vals);
    for (size_t i = 0; i < jc->n_copies[side]; i++)
        vg_value_save(&ev->slots[jc->copies[side][i].in], &vals);
    struct entry *e = entry_new(st, side, ev, &st->kbuf, &vals);
    vg_buf_fini(&vals);
    struct jkey *k = key_get(st, st->kbuf.data, st->kbuf.len, true);
    for (struct entry *o = k->head[!side]; o; o = o->next) {
        vg_time_ms d = e->ts > o->ts ? e->ts - o->ts : o->ts - e->ts;
        if (d > jc->within_ms)
            continue;
        struct entry *l = side == LEFT ? e : o;
        if (!l->matched && jc->left_join && l != e)
            mark_dirty(st, l); /* its matched flag is state */
        l->matched = true;
        emit_pair(st, b, out, l, side == LEFT ? o : e, e);
    }
    entry_link(st, k, e);
    mark_dirty(st, e);
}

static void row_free(const struct join_conf *jc, struct row *r);

/* An evicted entry: freed at the next batch (a pair of this one may still be written), or,
 * while in dirty[], when the save is confirmed (between batches). */
static void entry_free(struct join_state *st, struct entry *e)
{
    if (e->queued) {
        e->dead = true;
        return;
    }
    e->next = st->grave_entries;
    st->grave_entries = e;
}

static void bury(struct join_state *st)
{
    while (st->grave_entries) {
        struct entry *e = st->grave_entries;
        st->grave_entries = e->next;
        vg_free(e);
    }
    while (st->grave_rows) {
        struct row *r = st->grave_rows;
        st->grave_rows = (struct row *)r->link.next;
        row_free(st->conf, r);
    }
}

/* Unlink e from its key (and forget the key when empty), queue its deletion. */
static void entry_drop(struct join_state *st, struct entry *e)
{
    struct jkey *k = e->k;
    *e->pprev = e->next;
    if (e->next)
        e->next->pprev = e->pprev;
    if (--k->n_entries == 0)
        key_forget(st, k);
    heap_remove(st, e->heap_i);
    if (e->saved || e->queued) { /* queued: a save may have written it, unconfirmed yet */
        if (st->n_dels == st->cap_dels) {
            st->cap_dels = st->cap_dels ? 2 * st->cap_dels : 256;
            st->dels = vg_xrealloc(st->dels, st->cap_dels * sizeof(*st->dels));
        }
        struct del *d = &st->dels[st->n_dels++];
        entry_field(e, &st->kbuf, d->bucket);
        d->partition = e->partition;
        d->field = vg_xstrndup(st->kbuf.data, st->kbuf.len);
        d->flen = st->kbuf.len;
    }
    entry_free(st, e);
}

/* Event time has passed wm: what can no longer pair goes (unmatched left events out). */
static void evict(struct join_state *st, struct vg_batch *b, struct vg_sel *out, vg_time_ms wm)
{
    const struct join_conf *jc = st->conf;
    while (st->n_heap && st->heap[0]->ts + jc->within_ms < wm) {
        struct entry *e = st->heap[0];
        if (jc->left_join && e->side == LEFT && !e->matched)
            emit_pair(st, b, out, e, NULL, e);
        entry_drop(st, e);
    }
}

static int stream_process(struct join_state *st, struct vg_batch *b, const struct vg_sel *in,
                          struct vg_sel *out, struct vg_op_ctx *ctx)
{
    bury(st);
    for (size_t i = 0; i < in->n; i++)
        arrive(st, b, out, in->idx[i], i < in->n_left ? LEFT : RIGHT);
    if (ctx->watermark != VG_TIME_NONE)
        evict(st, b, out, ctx->watermark);
    return 0;
}

/* ---- run time: stream-table ---- */

/* A Redis hash value: an integer or a float when it reads as one, else a string. */
static struct vg_value parse_cell(const char *v, size_t n, char **owned)
{
    char tmp[64], *end;
    *owned = NULL;
    if (n > 0 && n < sizeof(tmp)) {
        memcpy(tmp, v, n);
        tmp[n] = '\0';
        long long i = strtoll(tmp, &end, 10);
        if (*end == '\0' && tmp[0] != ' ')
            return vg_value_int(i);
        double f = strtod(tmp, &end);
        if (*end == '\0' && tmp[0] != ' ')
            return vg_value_float(f);
    }
    *owned = vg_xstrndup(v, n);
    return vg_value_str(*owned, n);
}

static void row_free(const struct join_conf *jc, struct row *r)
{
    for (size_t i = 0; i < jc->n_copies[RIGHT]; i++)
        if (r->vals[i].type == VG_T_STR)
            vg_free((char *)r->vals[i].u.s);
    vg_free(r->json);
    vg_free(r);
}

static struct row *row_find(const struct vg_htab *t, const char *key, size_t len, uint64_t h)
{
    for (struct vg_hlink *l = vg_htab_head(t, h); l; l = l->next) {
        struct row *r = (struct row *)l;
        if (l->hash == h && r->len == len && !memcmp(r->key, key, len))
            return r;
    }
    return NULL;
}

/* Add a fetched row to the cache, dropping the oldest when full. */
static void row_add(struct join_state *st, struct row *r)
{
    const struct join_conf *jc = st->conf;
    struct row *old = row_find(&st->rows, r->key, r->len, r->link.hash);
    if (old) { /* a refresh: it takes the old one's place in the queue */
        vg_htab_remove(&st->rows, &old->link);
        vg_htab_insert(&st->rows, &r->link);
        r->fifo_i = old->fifo_i;
        st->fifo[r->fifo_i] = r;
        old->link.next = (struct vg_hlink *)st->grave_rows;
        st->grave_rows = old;
        return;
    }
    struct row *victim = st->fifo[st->fifo_head];
    if (victim) {
        vg_htab_remove(&st->rows, &victim->link);
        victim->link.next = (struct vg_hlink *)st->grave_rows;
        st->grave_rows = victim;
    }
    r->fifo_i = st->fifo_head;
    st->fifo[st->fifo_head] = r;
    st->fifo_head = (st->fifo_head + 1) % jc->tab->cache_rows;
    vg_htab_insert(&st->rows, &r->link);
}

struct fetch {
    struct join_state *st;
    struct row **rows;
    struct row *cur;            /* the row whose fields arrive (they come row by row) */
    struct vg_buf *json;        /* its JSON so far */
};

/* The fields of fe->cur are all in: its JSON is complete. */
static void fetched_row(struct fetch *fe)
{
    if (!fe->cur)
        return;
    vg_buf_putc(fe->json, '}');
    fe->cur->json = vg_xstrndup(fe->json->data, fe->json->len);
    fe->cur->json_len = (uint32_t)fe->json->len;
    fe->cur = NULL;
}

/* A Kafka table's row: the fields downstream reads, decoded from its JSON. */
static void fetched_json(struct join_state *st, struct row *r, const char *v, size_t vlen)
{
    const struct join_conf *jc = st->conf;
    struct vg_err err;
    for (size_t c = 0; c < jc->n_copies[RIGHT]; c++)
        st->cells[c] = VG_NULL_VALUE;
    if (vg_json_decode(st->jp, st->paths, v, vlen, &st->cell_arena, st->cells, &err) == 0)
        for (size_t c = 0; c < jc->n_copies[RIGHT]; c++) {
            r->vals[c] = st->cells[c];
            if (r->vals[c].type == VG_T_STR)
                r->vals[c].u.s = vg_xstrndup(r->vals[c].u.s, r->vals[c].len);
            else if (r->vals[c].type == VG_T_LIST)
                r->vals[c] = VG_NULL_VALUE; /* lists stay in the JSON only */
        }
    vg_arena_reset(&st->cell_arena);
    r->json = vg_xstrndup(v, vlen);
    r->json_len = (uint32_t)vlen;
}

static void fetched_cell(void *ud, size_t i, const char *f, size_t flen, const char *v,
                         size_t vlen)
{
    struct fetch *fe = ud;
    const struct join_conf *jc = fe->st->conf;
    struct row *r = fe->rows[i];
    r->found = true;
    if (!f) {
        fetched_json(fe->st, r, v, vlen);
        return;
    }
    if (fe->cur != r) { /* the row as JSON for sinks and alerts: {"field":value,...} */
        fetched_row(fe);
        fe->cur = r;
        vg_buf_clear(fe->json);
        vg_buf_putc(fe->json, '{');
    } else {
        vg_buf_putc(fe->json, ',');
    }
    char *owned;
    struct vg_value cell = parse_cell(v, vlen, &owned);
    vg_buf_json_str(fe->json, f, flen);
    vg_buf_putc(fe->json, ':');
    vg_json_write_value(fe->json, &cell);
    for (size_t c = 0; c < jc->n_copies[RIGHT]; c++) { /* one copy per column at most */
        const struct copy *cp = &jc->copies[RIGHT][c];
        if (cp->col_len == flen && !memcmp(cp->col, f, flen) && r->vals[c].type == VG_T_NULL) {
            r->vals[c] = cell;
            owned = NULL; /* the row's now */
            break;
        }
    }
    vg_free(owned);
}

/* The key's text for the row's key (strings as they are, numbers in decimal); false when
 * the key is null or a list: no row. */
static bool key_text(const struct vg_value *v, struct vg_buf *out)
{
    vg_buf_clear(out);
    if (v->type == VG_T_NULL || v->type == VG_T_LIST)
        return false;
    vg_value_text(out, v);
    return true;
}

static void row_fields(const struct vg_event *ev, struct vg_buf *out)
{
    const struct row_json *rj = ev->fields_ud;
    struct vg_event left = *ev;
    left.fields_fn = rj->left_fn;
    left.fields_ud = rj->left_ud;
    left.fields_json = rj->left_json;
    left.fields_len = rj->left_len;
    vg_buf_putc(out, '{');
    size_t at = out->len;
    vg_buf_json_str(out, rj->jc->name[LEFT], strlen(rj->jc->name[LEFT]));
    vg_buf_putc(out, ':');
    size_t from = out->len;
    if (!vg_event_fields(&left, out) || out->len == from) {
        out->len = at;
        side_json(out, rj->jc->name[LEFT], ev->payload, ev->len);
    }
    vg_buf_putc(out, ',');
    side_json(out, rj->jc->name[RIGHT], rj->row ? rj->row->json : "",
              rj->row ? rj->row->json_len : 0);
    vg_buf_putc(out, '}');
}

/* An enriched event's slots: its own fields under the left side's name, the row's (or nulls)
 * under the table's. Rows stay until the next batch. */
static void put_row(const struct join_conf *jc, struct vg_event *ev, const struct row *r)
{
    for (size_t c = 0; c < jc->n_copies[LEFT]; c++)
        ev->slots[jc->copies[LEFT][c].out] = ev->slots[jc->copies[LEFT][c].in];
    for (size_t c = 0; c < jc->n_copies[RIGHT]; c++)
        ev->slots[jc->copies[RIGHT][c].out] = r ? r->vals[c] : VG_NULL_VALUE;
}

/* An enriched event's output JSON: made on demand from its left side and its row (or null). */
static void set_fields(struct join_state *st, struct vg_batch *b, struct vg_event *ev,
                       const struct row *r)
{
    const struct join_conf *jc = st->conf;
    const struct row_json *rj = r ? &r->plain : &st->plain_none; /* rows stay the batch */
    if (ev->fields_fn || ev->fields_json) { /* a join's or a map's output: keep it */
        struct row_json *own = vg_arena_alloc(&b->arena, sizeof(*own));
        *own = (struct row_json){jc, ev->fields_fn, ev->fields_ud, ev->fields_json,
                                 ev->fields_len, r};
        rj = own;
    }
    ev->fields_fn = row_fields;
    ev->fields_ud = rj;
    ev->fields_json = NULL;
}

/* How many events ahead of its lookup an event's slot and then its chain head are fetched:
 * a batch's keys are spread over a cache larger than the CPU's, and a lookup that waits on
 * memory three times (slot, row, key) is most of what a hit costs. */
#define ROW_AHEAD_SLOT 16
#define ROW_AHEAD_HEAD 8

static int table_process(struct join_state *st, struct vg_batch *b, const struct vg_sel *in,
                         struct vg_sel *out, struct vg_op_ctx *ctx)
{
    bury(st);
    const struct join_conf *jc = st->conf;
    size_t n = in->n_left;
    struct row **hit = vg_arena_alloc(&b->arena, (n + 1) * sizeof(*hit));
    struct row **miss = vg_arena_alloc(&b->arena, (n + 1) * sizeof(*miss));
    const char **kt = vg_arena_alloc(&b->arena, (n + 1) * sizeof(*kt));
    uint32_t *kl = vg_arena_alloc(&b->arena, (n + 1) * sizeof(*kl));
    uint64_t *kh = vg_arena_alloc(&b->arena, (n + 1) * sizeof(*kh));
    uint8_t *done = vg_arena_alloc(&b->arena, n + 1); /* the event has its row's values */
    int field = -1; /* the key is a field: its strings are the event's, kept the batch */
    if (!vg_expr_field(jc->key[LEFT], &field))
        field = -1;
    for (size_t i = 0; i < n; i++) { /* the keys first, then their lookups */
        const struct vg_value *slots = b->ev[in->idx[i]].slots;
        struct vg_value key;
        kt[i] = NULL;
        if (field >= 0 && slots[field].type == VG_T_STR) {
            kt[i] = slots[field].u.s;
            kl[i] = slots[field].len;
        } else {
            vg_expr_eval(jc->key[LEFT], slots, ctx->expr, &key);
            if (key_text(&key, &st->kbuf)) {
                kt[i] = vg_arena_strndup(&b->arena, st->kbuf.data, st->kbuf.len);
                kl[i] = (uint32_t)st->kbuf.len;
            }
            vg_expr_ctx_reset(ctx->expr);
        }
        if (jc->key_slot >= 0) /* the output's key: the row's */
            b->ev[in->idx[i]].slots[jc->key_slot] =
                kt[i] ? vg_value_str(kt[i], kl[i]) : VG_NULL_VALUE;
        if (kt[i]) {
            kh[i] = vg_hash_mem(kt[i], kl[i]);
            if (i < ROW_AHEAD_SLOT)
                vg_htab_prefetch(&st->rows, kh[i]);
        }
    }
    size_t n_miss = 0;
    for (size_t i = 0; i < n; i++) {
        size_t a = i + ROW_AHEAD_SLOT, h2 = i + ROW_AHEAD_HEAD;
        if (a < n && kt[a])
            vg_htab_prefetch(&st->rows, kh[a]);
        if (h2 < n && kt[h2]) {
            const char *head = (const char *)vg_htab_head(&st->rows, kh[h2]);
            if (head) { /* the row and its key after it */
                vg_prefetch(head);
                vg_prefetch(head + 64);
                vg_prefetch(head + 128);
            }
        }
        hit[i] = NULL;
        done[i] = 0;
        if (!kt[i])
            continue;
        const char *k = kt[i];
        size_t len = kl[i];
        uint64_t h = kh[i];
        struct row *r = row_find(&st->rows, k, len, h);
        if (r && ctx->now_ms - r->fetched_ms < jc->tab->cache_ttl_ms) {
            hit[i] = r->found ? r : NULL; /* and its values while the row is at hand */
            struct vg_event *ev = &b->ev[in->idx[i]];
            put_row(jc, ev, hit[i]);
            if (hit[i] || jc->left_join)
                set_fields(st, b, ev, hit[i]);
            done[i] = 1;
            continue;
        }
        if ((r = row_find(&st->asked, k, len, h))) {
            hit[i] = r; /* asked for already in this batch */
            continue;
        }
        size_t at = (sizeof(*r) + len + 15) & ~(size_t)15; /* its values after its key */
        r = vg_xcalloc(1, at + (jc->n_copies[RIGHT] + 1) * sizeof(*r->vals));
        r->link.hash = h;
        r->len = (uint32_t)len;
        memcpy(r->key, k, len);
        r->vals = (struct vg_value *)((char *)r + at);
        r->fetched_ms = ctx->now_ms;
        r->plain = (struct row_json){.jc = jc, .row = r};
        vg_htab_insert(&st->asked, &r->link);
        hit[i] = miss[n_miss++] = r;
    }
    vg_htab_reset(&st->asked); /* the rows join the cache after the output */
    if (n_miss) {
        const char **keys = vg_arena_alloc(&b->arena, n_miss * sizeof(*keys));
        size_t *lens = vg_arena_alloc(&b->arena, n_miss * sizeof(*lens));
        char name[1024];
        for (size_t m = 0; m < n_miss; m++) {
            lens[m] = vg_table_key(jc->tab, miss[m]->key, miss[m]->len, name, sizeof(name));
            keys[m] = vg_arena_strndup(&b->arena, name, lens[m]);
        }
        struct fetch fe = {st, miss, NULL, &st->jbuf};
        int rc = ctx->lookup(ctx, jc->tab, keys, lens, n_miss, fetched_cell, &fe);
        fetched_row(&fe);
        if (rc != 0) {
            for (size_t m = 0; m < n_miss; m++)
                row_free(jc, miss[m]);
            return rc;
        }
    }
    vg_sel_reserve(b, out, n);
    for (size_t i = 0; i < n; i++) {
        if (done[i]) { /* a cached row (or its absence): complete since the lookup */
            if (hit[i] || jc->left_join)
                out->idx[out->n++] = in->idx[i];
            continue;
        }
        const struct row *r = !hit[i] || hit[i]->found ? hit[i] : NULL;
        if (!r && !jc->left_join)
            continue;
        struct vg_event *ev = &b->ev[in->idx[i]];
        put_row(jc, ev, r);
        set_fields(st, b, ev, r);
        out->idx[out->n++] = in->idx[i];
    }
    for (size_t m = 0; m < n_miss; m++) /* now that no row of this batch is in use */
        row_add(st, miss[m]);
    return 0;
}

static int join_process(void *stp, struct vg_batch *b, const struct vg_sel *in,
                        struct vg_sel *out, struct vg_op_ctx *ctx)
{
    struct join_state *st = stp;
    st->ctx = ctx;
    return st->conf->tab ? table_process(st, b, in, out, ctx) : stream_process(st, b, in, out, ctx);
}

/* ---- state (stream-stream) ---- */

/* Entry value: ts append_ms matched(u8) key_len vals_len payload_len, then the blob (the
 * partition is the hash's; the source position is the field's). */
static void entry_value(const struct entry *e, struct vg_buf *out)
{
    vg_buf_clear(out);
    vg_put_u64(out, (uint64_t)e->ts);
    vg_put_u64(out, (uint64_t)e->append_ms);
    vg_buf_putc(out, e->matched ? 1 : 0);
    vg_put_u32(out, e->key_len);
    vg_put_u32(out, e->vals_len);
    vg_put_u32(out, e->payload_len);
    vg_buf_append(out, e->blob, (size_t)e->key_len + e->vals_len + e->payload_len);
}

static void put_entry(struct join_state *st, struct vg_state_out *o, const struct entry *e)
{
    char bucket[24];
    struct vg_buf val;
    vg_buf_init(&val);
    entry_value(e, &val);
    entry_field(e, &st->kbuf, bucket);
    o->put(o, e->partition, bucket, st->kbuf.data, st->kbuf.len, val.data, val.len,
           st->conf->ttl_ms);
    vg_buf_fini(&val);
}

static int join_state_save(void *stp, struct vg_state_out *o, bool all)
{
    struct join_state *st = stp;
    if (st->conf->tab)
        return 0;
    for (size_t i = 0; i < st->n_dels; i++)
        o->del(o, st->dels[i].partition, st->dels[i].bucket, st->dels[i].field,
               st->dels[i].flen);
    if (all || !st->persist) {
        st->persist = true;
        for (size_t i = 0; i < st->n_heap; i++) {
            put_entry(st, o, st->heap[i]);
            mark_dirty(st, st->heap[i]);
        }
        return 0;
    }
    for (size_t i = 0; i < st->n_dirty; i++)
        if (!st->dirty[i]->dead)
            put_entry(st, o, st->dirty[i]);
    return 0;
}

static void join_state_saved(void *stp)
{
    struct join_state *st = stp;
    for (size_t i = 0; i < st->n_dels; i++)
        vg_free(st->dels[i].field);
    st->n_dels = 0;
    for (size_t i = 0; i < st->n_dirty; i++) {
        struct entry *e = st->dirty[i];
        e->queued = false;
        if (e->dead)
            vg_free(e);
        else
            e->saved = true;
    }
    st->n_dirty = 0;
}

static int join_state_load(void *stp, int32_t partition, const char *key, size_t klen,
                           const char *val, size_t len)
{
    struct join_state *st = stp;
    const struct join_conf *jc = st->conf;
    st->persist = true;
    const char *p = val, *end = val + len;
    int64_t ts, append;
    uint32_t key_len, vals_len, payload_len;
    if (klen < 3 || (key[0] != 'L' && key[0] != 'R') || vg_get_i64(&p, end, &ts) ||
        vg_get_i64(&p, end, &append) || p >= end)
        return 0; /* not an entry of ours: ignored */
    bool matched = *p++ != 0;
    if (vg_get_u32(&p, end, &key_len) || vg_get_u32(&p, end, &vals_len) ||
        vg_get_u32(&p, end, &payload_len) ||
        (size_t)(end - p) != (size_t)key_len + vals_len + payload_len)
        return 0;
    const char *at = memchr(key, '@', klen);
    if (!at)
        return 0;
    int side = key[0] == 'L' ? LEFT : RIGHT;
    size_t blob = (size_t)key_len + vals_len + payload_len;
    struct entry *e = vg_xcalloc(1, sizeof(*e) + blob);
    e->ts = ts;
    e->append_ms = append;
    e->partition = partition;
    char *colon;
    e->src_partition = (int32_t)strtol(key + 1, &colon, 10);
    if (*colon != ':') {
        vg_free(e);
        return 0;
    }
    e->offset = strtoll(colon + 1, NULL, 10);
    e->topic = vg_intern(&st->topics, at + 1, klen - (size_t)(at + 1 - key));
    e->side = (uint8_t)side;
    e->matched = matched;
    e->saved = true;
    e->key_len = key_len;
    e->vals_len = vals_len;
    e->payload_len = payload_len;
    memcpy(e->blob, p, blob);
    (void)jc;
    entry_link(st, key_get(st, e->blob, e->key_len, true), e);
    return 0;
}

static void join_state_drop(void *stp, int32_t partition)
{
    struct join_state *st = stp;
    size_t n = 0;
    struct entry **gone = vg_xcalloc(st->n_heap + 1, sizeof(*gone));
    for (size_t i = 0; i < st->n_heap; i++)
        if (st->heap[i]->partition == partition)
            gone[n++] = st->heap[i];
    for (size_t i = 0; i < n; i++) {
        gone[i]->saved = false; /* its state stays in Redis for the partition's next owner */
        entry_drop(st, gone[i]);
    }
    vg_free(gone);
    size_t kept = 0;
    for (size_t i = 0; i < st->n_dels; i++) {
        if (st->dels[i].partition == partition) {
            vg_free(st->dels[i].field);
            continue;
        }
        st->dels[kept++] = st->dels[i];
    }
    st->n_dels = kept;
}

static void free_key(struct vg_hlink *l, void *ud)
{
    (void)ud;
    vg_free(l);
}

static void free_row(struct vg_hlink *l, void *ud)
{
    row_free(ud, (struct row *)l);
}

static void join_close(void *stp)
{
    struct join_state *st = stp;
    if (!st)
        return;
    const struct join_conf *jc = st->conf;
    join_state_saved(st); /* frees the dead */
    bury(st);
    for (size_t i = 0; i < st->n_heap; i++)
        vg_free(st->heap[i]);
    vg_htab_clear(&st->keys, free_key, NULL);
    vg_htab_clear(&st->rows, free_row, (void *)jc);
    vg_free(st->asked.slots);
    vg_intern_fini(&st->topics);
    vg_free(st->heap);
    vg_free(st->dirty);
    vg_free(st->dels);
    vg_free(st->fifo);
    vg_buf_fini(&st->kbuf);
    vg_buf_fini(&st->jbuf);
    if (st->jp) {
        vg_json_parser_free(st->jp);
        vg_paths_free(st->paths);
        vg_free(st->cells);
        vg_arena_fini(&st->cell_arena);
    }
    vg_free(st);
}

const struct vg_op_type vg_op_join = {
    .name = "join",
    .summary = "pairs of two streams' events within a time, or a stream enriched from a table",
    .flags = VG_OP_KEYED | VG_OP_JOIN,
    .keys = join_keys,
    .op_keys = join_op_keys,
    .op_key_type = VG_K_MAP,
    .create = join_create,
    .open = join_open,
    .process = join_process,
    .close = join_close,
    .destroy = join_destroy,
    .finish = join_finish,
    .state_save = join_state_save,
    .state_saved = join_state_saved,
    .state_load = join_state_load,
    .state_drop = join_state_drop,
};
