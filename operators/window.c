/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window.c - the `window` operator: keyed tumbling, sliding and session windows over event
 * time, with aggregates.
 *
 * Dataflow: any stream in; one record per closed window out, holding the key fields, the
 * aggregates, window_start and window_end (the output scope has exactly those names). A
 * tumbling or sliding window covers [start, start + size) with starts aligned to multiples
 * of the slide since the epoch and closes once the stage watermark (ctx->watermark, kept by
 * the engine per partition) reaches its end; a session window holds events at most `gap`
 * apart and closes once the watermark passes its last event + gap. An event that arrives for
 * a window that has already closed (possible only when idle partitions let event time move
 * on) goes to the dead letters as late.
 *
 * DESIGN: the working state lives in this thread's memory: a hash table from the key's text
 * to its open windows, and a schedule of what closes when, so a batch only touches what
 * closes: a min-heap of session windows, and buckets of keys with panes per window end. Both
 * order by (close time, key, start), so what closes together is emitted in an order that does
 * not depend on how input was cut. Each result carries the source position of the latest
 * event in it (the alert's `source`) and, for latency, the latest append time in the batch
 * that closed it.
 *
 * Tumbling and sliding windows are kept as panes: slices of gcd(size, slide), each event in
 * exactly one. A window is the union of size/pane consecutive panes and is folded from them
 * when it closes, so an event updates one aggregate state instead of size/slide (10 for
 * `sliding 5m every 30s`): memory and state store writes shrink by that factor. A key with
 * panes has one entry in the bucket of its next window end (window ends fall on slide
 * boundaries, so only size/slide + a few buckets are ever open: cheaper than a heap over
 * every key); a bucket due is sorted in the heap's order, and each key in it emits that
 * window, deletes the panes it was the last window of, and re-enters for the next end. Since
 * non-final emissions change nothing stored, each partition also stores `@closed`: the
 * watermark up to which its windows were emitted, so a restore does not emit them again.
 *
 * Thread: create on main; open/process/close on a stream thread.
 */
#include "compile.h"
#include "vg_op.h"
#include "htab.h"
#include "window_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct vg_key_spec window_keys[] = {
    {.name = "input", .type = VG_K_INPUTS, .required = true, .doc = "upstream node(s)"},
    {.name = "key", .type = VG_K_STRLIST, .doc = "key field(s); absent: one global key"},
    {.name = "aggregate", .type = VG_K_MAP, .required = true, .doc = "name: function(...) pairs"},
    {0},
};

struct window_conf {
    struct vg_win_spec spec;
    char **key_names;
    int *key_in;            /* input slots */
    int *key_out;           /* output slots */
    size_t n_keys;
    struct vg_agg_def *aggs;
    size_t n_aggs;
    int start_slot, end_slot;
    int64_t ttl_ms;         /* of saved state: size (or gap) + lateness + a margin */
    int64_t pane_ms;        /* tumbling, sliding: gcd(size, slide) */
    /* results whose count() aggs[count_agg] is below min_count are not emitted: the only
     * consumer (rules) could not match them (output_floor) */
    int64_t min_count;
    size_t count_agg;
    size_t mem_bytes;       /* the area at the end of each window for its aggregates' bytes */
    size_t win_bytes;       /* a struct win with its aggregates and that area */
};

/* ---- state ---- */

struct win {
    struct win *next;               /* the key's other windows */
    vg_time_ms start, end;          /* session: first and last event time */
    uint32_t gen;                   /* bumped when the window changes its close time */
    uint32_t refs;                  /* heap entries pointing here */
    bool closed;
    bool dead;                      /* unlinked: freed when no heap entry or dirty mark is left */
    bool in_dirty;                  /* listed in state->dirty */
    bool saved;                     /* written to the state store under saved_start */
    uint16_t mem_used;              /* of the area after aggs (struct vg_agg_mem) */
    vg_time_ms saved_start;
    /* latest event in the window */
    vg_time_ms last_ts;
    const char *topic;
    int32_t partition;
    int64_t offset;
    vg_time_ms append_ms;
    struct vg_agg_state aggs[];
};

/* One allocation: the entry, then its vals, its text and the bytes of its string values.
 * What an event reads and writes is in the first 64 bytes (allocations are whole cache lines,
 * which jemalloc aligns to 64); the second line is read when a key closes or is longer than
 * 8 bytes. */
struct keyent {
    struct vg_hlink link;           /* first: in st->keys, by key_hash */
    struct win *wins;
    vg_time_ms max_start;           /* panes: no pane of it starts later (NONE: none yet) */
    vg_time_ms due;                 /* panes: the window end it is scheduled for, or NONE */
    int64_t events;                 /* panes, with a count() floor: events in its panes */
    int32_t partition;
    uint32_t tlen;
    uint64_t pre;                   /* vg_prefix8(text): orders keys mostly without text */
    /* second cache line */
    uint32_t refs;                  /* panes: heap entries pointing here */
    bool dead;                      /* removed: freed when no heap entry is left */
    char *text;
    struct vg_value *vals;          /* copies of the key values */
};
_Static_assert(offsetof(struct keyent, refs) == 64, "a key's per-event fields fill one line");

/* Sessions schedule windows (w, gen); panes schedule keys (w == NULL, k->due). The heap is
 * ordered by (close time, key text, partition, start), so what closes together pops out in
 * an order that does not depend on how the input was cut into batches. */
struct heap_item {
    vg_time_ms close_at;
    uint64_t pre;                   /* k->pre, here so most comparisons stay in the heap */
    struct keyent *k;
    struct win *w;
    uint32_t gen;
};

/* Panes: the keys due at one window end. */
struct due_bucket {
    vg_time_ms at;
    struct heap_item *items;
    size_t n, cap;
};

struct window_state {
    const struct window_conf *conf;
    struct vg_htab keys;            /* struct keyent */
    struct heap_item *heap;         /* sessions */
    size_t n_heap, heap_cap;
    struct due_bucket *due;         /* panes */
    size_t n_due, cap_due;
    struct vg_buf keybuf;
    vg_time_ms wm;                  /* the watermark after the previous batch */
    vg_time_ms batch_append;        /* latest append time among this batch's events */
    struct vg_intern topics;        /* topic names (event strings are per batch) */
    const char *topic_in, *topic_kept; /* the last name interned, within the batch in hand */
    /* changes since the last confirmed save */
    struct dirty { struct keyent *k; struct win *w; } *dirty;
    size_t n_dirty, cap_dirty;
    struct pending_del { int32_t partition; char *key; size_t klen; char bucket[32]; } *dels;
    size_t n_dels, cap_dels;
    /* per partition (panes): windows ending at or before `closed` were emitted */
    struct part_mark { int32_t partition; vg_time_ms closed; bool touched; } *parts;
    size_t n_parts, cap_parts;
    int32_t *part_at;               /* partition -> index in parts + 1 (0: none) */
    size_t n_part_at;
    bool track;                     /* keeps dirty (not under replay: its save is whole) */
    uint64_t *hashes;               /* key_hashes of the batch in process */
    size_t cap_hashes;
    /* scratch of close_panes */
    struct heap_item *sort_tmp;
    size_t cap_sort;
    struct win **panes;
    const struct vg_agg_state **fold;
    size_t cap_panes;
    struct win **spare;             /* freed windows kept for reuse (win_free) */
    size_t n_spare, cap_spare;
};

#define CLOSED_ENTRY "@closed"

static struct part_mark *part_mark(struct window_state *st, int32_t partition)
{
    size_t at = partition >= 0 ? (size_t)partition : 0;
    if (at < st->n_part_at && st->part_at[at])
        return &st->parts[st->part_at[at] - 1];
    if (at >= st->n_part_at) {
        size_t n = VG_MAX(at + 1, 2 * st->n_part_at);
        st->part_at = vg_xrealloc(st->part_at, n * sizeof(*st->part_at));
        memset(st->part_at + st->n_part_at, 0, (n - st->n_part_at) * sizeof(*st->part_at));
        st->n_part_at = n;
    }
    if (st->n_parts == st->cap_parts) {
        st->cap_parts = st->cap_parts ? 2 * st->cap_parts : 16;
        st->parts = vg_xrealloc(st->parts, st->cap_parts * sizeof(*st->parts));
    }
    st->parts[st->n_parts] = (struct part_mark){partition, VG_TIME_NONE, false};
    st->part_at[at] = (int32_t)++st->n_parts;
    return &st->parts[st->n_parts - 1];
}

static void part_forget(struct window_state *st, int32_t partition)
{
    size_t at = partition >= 0 ? (size_t)partition : 0;
    if (at >= st->n_part_at || !st->part_at[at])
        return;
    size_t i = (size_t)st->part_at[at] - 1;
    st->part_at[at] = 0;
    st->parts[i] = st->parts[--st->n_parts];
    if (i < st->n_parts) {
        int32_t moved = st->parts[i].partition;
        st->part_at[moved >= 0 ? moved : 0] = (int32_t)i + 1;
    }
}

/* Every partition of this thread has its windows closed up to wm (the stage watermark, which
 * none of them is behind unless it is idle). */
static void parts_closed(struct window_state *st, vg_time_ms wm)
{
    for (size_t i = 0; i < st->n_parts; i++)
        if (st->parts[i].closed == VG_TIME_NONE || wm > st->parts[i].closed)
            st->parts[i].closed = wm;
}

/* Is an event at (ts, partition, offset) later than w's latest? Ties in event time go to the
 * higher position, so the latest does not depend on arrival order. */
static bool later_than(vg_time_ms ts, int32_t partition, int64_t offset, const struct win *w)
{
    if (ts != w->last_ts)
        return ts > w->last_ts;
    return partition != w->partition ? partition > w->partition : offset >= w->offset;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The earliest end, later than `after` (VG_TIME_NONE: any), of the windows holding the pane
 * that starts at p; VG_TIME_NONE when there is none. */
static vg_time_ms pane_next_end(const struct window_conf *c, vg_time_ms p, vg_time_ms after)
{
    int64_t size = c->spec.size_ms, slide = c->spec.slide_ms;
    int64_t lo = p - size + 1;
    if (after != VG_TIME_NONE && after - size + 1 > lo)
        lo = after - size + 1;
    int64_t s = floor_div(lo + slide - 1, slide) * slide;
    return s > p ? VG_TIME_NONE : s + size;
}

/* The end of the last window that holds pane p. */
static vg_time_ms pane_last_end(const struct window_conf *c, vg_time_ms p)
{
    return floor_div(p, c->spec.slide_ms) * c->spec.slide_ms + c->spec.size_ms;
}

/* With a floor on count() (D18), a key whose panes together hold fewer events than the floor
 * can emit no window at all: it is only due when its oldest pane expires, not every slide. */
static bool key_lazy(const struct window_conf *c, const struct keyent *k)
{
    return c->min_count > 1 && k->events < c->min_count;
}

static void win_free(struct window_state *st, struct win *w);

/* Free w once nothing refers to it any more. */
static void win_release(struct window_state *st, struct win *w)
{
    if (w->dead && w->refs == 0 && !w->in_dirty)
        win_free(st, w);
}

static void mark_dirty(struct window_state *st, struct keyent *k, struct win *w)
{
    if (w->in_dirty)
        return;
    if (st->n_dirty == st->cap_dirty) {
        st->cap_dirty = st->cap_dirty ? 2 * st->cap_dirty : 256;
        st->dirty = vg_xrealloc(st->dirty, st->cap_dirty * sizeof(*st->dirty));
    }
    st->dirty[st->n_dirty++] = (struct dirty){k, w};
    w->in_dirty = true;
    if (st->conf->pane_ms)
        part_mark(st, k->partition)->touched = true;
}

/* Where a window is in the state store (state.h): a pane in the bucket of its start, as
 * field "<key text>" (a pane's keys are deleted together when it closes); a session in the
 * bucket of its start rounded down to SESSION_BUCKET_MS (at least the gap), as field
 * "<key text>:<start>". */
#define SESSION_BUCKET_MS (10 * 60 * 1000)
static void entry_name(const struct window_conf *c, const struct keyent *k, vg_time_ms start,
                       struct vg_buf *field, char bucket[32])
{
    vg_buf_clear(field);
    vg_buf_puts(field, k->text);
    if (c->pane_ms) {
        snprintf(bucket, 32, "%lld", (long long)start);
        return;
    }
    int64_t width = VG_MAX(c->spec.gap_ms, SESSION_BUCKET_MS);
    snprintf(bucket, 32, "s%lld", (long long)(floor_div(start, width) * width));
    vg_buf_printf(field, ":%lld", (long long)start);
}

/* A window that was saved is going away or moving: delete its entry at the next save. */
static void forget_saved(struct window_state *st, const struct keyent *k, struct win *w)
{
    if (!w->saved)
        return;
    struct vg_buf b;
    vg_buf_init(&b);
    if (st->n_dels == st->cap_dels) {
        st->cap_dels = st->cap_dels ? 2 * st->cap_dels : 64;
        st->dels = vg_xrealloc(st->dels, st->cap_dels * sizeof(*st->dels));
    }
    struct pending_del *d = &st->dels[st->n_dels++];
    entry_name(st->conf, k, w->saved_start, &b, d->bucket);
    d->partition = k->partition;
    d->key = vg_xstrndup(b.data, b.len);
    d->klen = b.len;
    vg_buf_fini(&b);
    w->saved = false;
}

/* -1, 0, 1: the heap's order, (close time, key text, partition, start); qsort's comparator of
 * a due bucket too. */
static int heap_cmp(const struct heap_item *x, const struct heap_item *y)
{
    if (x->close_at != y->close_at)
        return x->close_at < y->close_at ? -1 : 1;
    if (x->pre != y->pre)
        return x->pre < y->pre ? -1 : 1;
    if (x->k != y->k) {
        int r = strcmp(x->k->text, y->k->text);
        if (r)
            return r;
        if (x->k->partition != y->k->partition)
            return x->k->partition < y->k->partition ? -1 : 1;
    }
    if (!x->w || !y->w)
        return 0;
    return (x->w->start > y->w->start) - (x->w->start < y->w->start);
}

static bool heap_before(const struct heap_item *x, const struct heap_item *y)
{
    return heap_cmp(x, y) < 0;
}

/* Into the heap, its references counted already. */
static void heap_insert(struct window_state *st, struct heap_item it)
{
    if (st->n_heap == st->heap_cap) {
        st->heap_cap = st->heap_cap ? 2 * st->heap_cap : 256;
        st->heap = vg_xrealloc(st->heap, st->heap_cap * sizeof(*st->heap));
    }
    size_t i = st->n_heap++;
    while (i > 0 && heap_before(&it, &st->heap[(i - 1) / 2])) {
        st->heap[i] = st->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    st->heap[i] = it;
}

/* An entry holds a reference to its key (and to its window when it has one): a key may be
 * removed while entries of its windows that went stale are still in the heap. */
static void heap_push(struct window_state *st, struct heap_item it)
{
    it.k->refs++;
    if (it.w)
        it.w->refs++;
    heap_insert(st, it);
}

/* An entry's key reference is given back (a removed key goes with the last). */
static void key_unref(struct keyent *k)
{
    if (!--k->refs && k->dead)
        vg_free(k);
}

/* Take a partition's entries out of the heap (their keys are about to go: an entry left
 * behind would point at a freed key), and put the rest back in heap order. */
static void heap_drop_partition(struct window_state *st, int32_t partition)
{
    size_t n = st->n_heap, kept = 0;
    for (size_t i = 0; i < n; i++) {
        struct heap_item it = st->heap[i];
        if (it.k->partition != partition) {
            st->heap[kept++] = it;
            continue;
        }
        if (it.w)
            it.w->refs--;
        key_unref(it.k);
    }
    st->n_heap = 0;
    for (size_t i = 0; i < kept; i++)
        heap_insert(st, st->heap[i]); /* i >= n_heap: reads what it has not overwritten */
}

static struct heap_item heap_pop(struct window_state *st)
{
    struct heap_item top = st->heap[0], last = st->heap[--st->n_heap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= st->n_heap)
            break;
        if (c + 1 < st->n_heap && heap_before(&st->heap[c + 1], &st->heap[c]))
            c++;
        if (!heap_before(&st->heap[c], &last))
            break;
        st->heap[i] = st->heap[c];
        i = c;
    }
    if (st->n_heap)
        st->heap[i] = last;
    return top;
}

static vg_time_ms close_time(const struct window_conf *c, const struct win *w)
{
    return c->spec.kind == VG_WIN_SESSION ? w->end + c->spec.gap_ms : w->end;
}

/* A zeroed window: the last one freed when there is one (its lines are likely still cached;
 * the next one's are asked for, for the next event), else a new allocation. */
static struct win *win_new(struct window_state *st, vg_time_ms start, vg_time_ms end)
{
    const struct window_conf *c = st->conf;
    struct win *w;
    if (st->n_spare) {
        w = st->spare[--st->n_spare];
        memset(w, 0, c->win_bytes);
        if (st->n_spare)
            for (size_t off = 0; off < c->win_bytes; off += 64)
                __builtin_prefetch((const char *)st->spare[st->n_spare - 1] + off, 1);
    } else {
        w = vg_xcalloc(1, c->win_bytes);
    }
    w->start = start;
    w->end = end;
    w->last_ts = INT64_MIN;
    return w;
}

/* The area of w for its aggregates' bytes. */
static struct vg_agg_mem win_mem(const struct window_conf *c, struct win *w)
{
    char *base = (char *)&w->aggs[c->n_aggs];
    return (struct vg_agg_mem){base, base + c->mem_bytes, &w->mem_used, NULL, 0};
}

/* Panes come and go by the thousand at each slide: up to WIN_SPARE freed ones are kept for the
 * next (about 4 MB for brute_force.yaml). */
#define WIN_SPARE 16384
static void win_free(struct window_state *st, struct win *w)
{
    const struct window_conf *c = st->conf;
    struct vg_agg_mem m = win_mem(c, w);
    for (size_t a = 0; a < c->n_aggs; a++)
        vg_agg_free_in(&c->aggs[a], &w->aggs[a], &m);
    if (st->n_spare == WIN_SPARE) {
        vg_free(w);
        return;
    }
    if (st->n_spare == st->cap_spare) {
        st->cap_spare = st->cap_spare ? 2 * st->cap_spare : 256;
        st->spare = vg_xrealloc(st->spare, st->cap_spare * sizeof(*st->spare));
    }
    st->spare[st->n_spare++] = w;
}

/* The key text of vals: the value's own bytes for one string key, else built in keybuf. */
static void key_text_of(struct window_state *st, const struct vg_value *vals, const char **text,
                        size_t *len)
{
    const struct window_conf *c = st->conf;
    if (c->n_keys == 1 && vals[0].type == VG_T_STR) {
        *text = vals[0].len ? vals[0].u.s : "";
        *len = vals[0].len;
        return;
    }
    struct vg_buf *b = &st->keybuf;
    vg_buf_clear(b);
    for (size_t k = 0; k < c->n_keys; k++) {
        if (k)
            vg_buf_putc(b, '\x1f');
        vg_value_text(b, &vals[k]);
    }
    *text = b->data ? b->data : "";
    *len = b->len;
}

static uint64_t key_hash(const char *text, size_t len, int32_t partition)
{
    return vg_hash_mem(text, len) ^
           ((uint64_t)(uint32_t)partition * 0x9e3779b97f4a7c15ull);
}

/* The entry of (partition, key values) whose key_hash is h, made when missing. */
static struct keyent *key_get(struct window_state *st, int32_t partition,
                              const struct vg_value *vals, uint64_t h)
{
    const struct window_conf *c = st->conf;
    const char *text;
    size_t len;
    key_text_of(st, vals, &text, &len);
    uint64_t pre = vg_prefix8(text, len);
    for (struct vg_hlink *l = vg_htab_head(&st->keys, h); l; l = l->next) {
        struct keyent *e = (struct keyent *)l;
        /* a key of up to 8 bytes is compared whole by its prefix, in the entry's first
         * cache line; a longer one reads its text too */
        if (l->hash == h && e->partition == partition && e->tlen == len && e->pre == pre &&
            (len <= 8 || !memcmp(e->text + 8, text + 8, len - 8)))
            return e;
    }
    size_t size = sizeof(struct keyent) + c->n_keys * sizeof(struct vg_value) + len + 1;
    for (size_t k = 0; k < c->n_keys; k++)
        if (vals[k].type == VG_T_STR)
            size += vals[k].len + 1;
    struct keyent *e = vg_xcalloc(1, (size + 63) & ~(size_t)63);
    e->link.hash = h;
    e->partition = partition;
    e->due = VG_TIME_NONE;
    e->max_start = VG_TIME_NONE;
    e->vals = (struct vg_value *)(e + 1);
    char *bytes = (char *)(e->vals + c->n_keys);
    e->text = bytes;
    if (len)
        memcpy(bytes, text, len);
    bytes += len + 1;
    e->tlen = (uint32_t)len;
    e->pre = pre;
    for (size_t k = 0; k < c->n_keys; k++) {
        e->vals[k] = vals[k];
        if (e->vals[k].type == VG_T_STR) {
            if (vals[k].len)
                memcpy(bytes, vals[k].u.s, vals[k].len);
            e->vals[k].u.s = bytes;
            bytes += vals[k].len + 1;
        } else if (e->vals[k].type == VG_T_LIST) {
            e->vals[k] = VG_NULL_VALUE;
        }
    }
    vg_htab_insert(&st->keys, &e->link);
    return e;
}

static void key_vals(const struct window_conf *c, const struct vg_event *ev,
                     struct vg_value vals[64])
{
    for (size_t k = 0; k < c->n_keys && k < 64; k++)
        vals[k] = ev->slots[c->key_in[k]];
}

/* The key entry of the i-th input event (key_hashes ran for this batch). */
static struct keyent *key_find(struct window_state *st, const struct vg_event *ev, size_t i)
{
    struct vg_value vals[64];
    key_vals(st->conf, ev, vals);
    return key_get(st, ev->partition, vals, st->hashes[i]);
}

/* The key_hash of each input event, once per batch: key_find uses them, and key_prefetch
 * asks for the entries a few events ahead (the keys are all over memory). */
static void key_hashes(struct window_state *st, const struct vg_batch *b, const struct vg_sel *in)
{
    if (in->n > st->cap_hashes) {
        st->cap_hashes = VG_MAX(in->n, 2 * st->cap_hashes);
        st->hashes = vg_xrealloc(st->hashes, st->cap_hashes * sizeof(*st->hashes));
    }
    for (size_t i = 0; i < in->n; i++) {
        const struct vg_event *ev = &b->ev[in->idx[i]];
        struct vg_value vals[64];
        const char *text;
        size_t len;
        key_vals(st->conf, ev, vals);
        key_text_of(st, vals, &text, &len);
        st->hashes[i] = key_hash(text, len, ev->partition);
    }
}

/* Ahead of the i-th lookup: the slot of event i + 16 (no load) and the entry of i + 8 (its
 * slot is in by then). A key's panes are not asked for: most events open a new pane (93% of a
 * replay of brute_force.yaml) and never read the others, and asking meant waiting for the
 * entry 4 events early. */
static void key_prefetch(const struct window_state *st, size_t i, const struct vg_sel *in)
{
    if (!st->keys.cap)
        return;
    if (i + 16 < in->n)
        vg_htab_prefetch(&st->keys, st->hashes[i + 16]);
    if (i + 8 < in->n)
        vg_prefetch(vg_htab_head(&st->keys, st->hashes[i + 8]));
}

/* Out of the table; freed now, or by the last heap entry pointing to it. */
static void key_remove(struct window_state *st, struct keyent *e)
{
    vg_htab_remove(&st->keys, &e->link);
    if (e->refs)
        e->dead = true;
    else
        vg_free(e);
}

static void win_take(struct window_state *st, struct keyent *k, struct win *w,
                     const struct vg_event *ev)
{
    const struct window_conf *c = st->conf;
    if (st->track)
        mark_dirty(st, k, w);
    struct vg_agg_mem m = win_mem(c, w);
    for (size_t a = 0; a < c->n_aggs; a++)
        vg_agg_update_in(&c->aggs[a], &w->aggs[a],
                         c->aggs[a].in_slot >= 0 ? &ev->slots[c->aggs[a].in_slot] : NULL, ev->ts,
                         &m);
    /* the source record, also through a repartition topic (whose own positions depend on
     * how writers interleaved, so a replay could not give them) */
    int32_t part = ev->origin_topic ? ev->origin_partition : ev->partition;
    int64_t off = ev->origin_topic ? ev->origin_offset : ev->offset;
    if (later_than(ev->ts, part, off, w)) {
        w->last_ts = ev->ts;
        const char *t = ev->origin_topic ? ev->origin_topic : ev->topic ? ev->topic : "";
        if (t != st->topic_in) { /* a batch's events of one topic share its name */
            st->topic_in = t;
            st->topic_kept = vg_intern(&st->topics, t, strlen(t));
        }
        w->topic = st->topic_kept;
        w->partition = part;
        w->offset = off;
        w->append_ms = ev->append_ms;
    }
}

/* Sessions: w closes at its close time (an entry it had before goes stale). */
static void schedule(struct window_state *st, struct keyent *k, struct win *w)
{
    w->gen++;
    heap_push(st, (struct heap_item){close_time(st->conf, w), k->pre, k, w, w->gen});
}

/* Panes: make sure k is due at `at` or earlier (a later entry it had goes stale). */
static void key_schedule(struct window_state *st, struct keyent *k, vg_time_ms at)
{
    if (at == VG_TIME_NONE || (k->due != VG_TIME_NONE && k->due <= at))
        return;
    k->due = at;
    k->refs++;
    size_t b = 0;
    while (b < st->n_due && st->due[b].at != at)
        b++;
    if (b == st->n_due) {
        if (st->n_due == st->cap_due) {
            st->cap_due = st->cap_due ? 2 * st->cap_due : 16;
            st->due = vg_xrealloc(st->due, st->cap_due * sizeof(*st->due));
        }
        st->due[st->n_due++] = (struct due_bucket){at, NULL, 0, 0};
    }
    struct due_bucket *d = &st->due[b];
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->items = vg_xrealloc(d->items, d->cap * sizeof(*d->items));
    }
    d->items[d->n++] = (struct heap_item){at, k->pre, k, NULL, 0};
}

static int cmp_due(const void *a, const void *b)
{
    return heap_cmp(a, b);
}

/* A due bucket into heap order. Its items share close_at, so they are ordered by key prefix
 * first: a stable radix sort, a byte a pass from the lowest (a byte all items share is
 * skipped), then each run of one prefix by heap_cmp. qsort with heap_cmp did the same at
 * about 3x the cost (3% of a replay). */
static void sort_due(struct window_state *st, struct heap_item *a, size_t n)
{
    if (n < 64) {
        qsort(a, n, sizeof(*a), cmp_due);
        return;
    }
    if (st->cap_sort < n) {
        st->cap_sort = n;
        vg_free(st->sort_tmp);
        st->sort_tmp = vg_xmalloc(n * sizeof(*st->sort_tmp));
    }
    struct heap_item *from = a, *to = st->sort_tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t at[256] = {0};
        for (size_t i = 0; i < n; i++)
            at[(from[i].pre >> shift) & 255]++;
        if (at[(from[0].pre >> shift) & 255] == n)
            continue;
        for (size_t b = 0, pos = 0; b < 256; b++) {
            size_t c = at[b];
            at[b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            to[at[(from[i].pre >> shift) & 255]++] = from[i];
        struct heap_item *t = from;
        from = to;
        to = t;
    }
    if (from != a)
        memcpy(a, from, n * sizeof(*a));
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && a[j].pre == a[i].pre;)
            j++;
        if (j - i > 1)
            qsort(a + i, j - i, sizeof(*a), cmp_due);
    }
}

/* Put ev into its session: the sessions it touches (within gap) merge into one. */
static void session_take(struct window_state *st, struct keyent *k, const struct vg_event *ev)
{
    const struct window_conf *c = st->conf;
    vg_time_ms gap = c->spec.gap_ms;
    struct win *into = NULL;
    for (struct win **pp = &k->wins; *pp;) {
        struct win *w = *pp;
        if (ev->ts + gap >= w->start && ev->ts - gap <= w->end) {
            if (!into) {
                into = w;
                pp = &w->next;
                continue;
            }
            /* a second session within reach: fold it into the first */
            struct vg_agg_mem into_m = win_mem(c, into), from_m = win_mem(c, w);
            for (size_t a = 0; a < c->n_aggs; a++)
                vg_agg_merge_in(&c->aggs[a], &into->aggs[a], &into_m, &w->aggs[a], &from_m);
            into->start = VG_MIN(into->start, w->start);
            into->end = VG_MAX(into->end, w->end);
            if (later_than(w->last_ts, w->partition, w->offset, into)) {
                into->last_ts = w->last_ts;
                into->topic = w->topic;
                into->partition = w->partition;
                into->offset = w->offset;
                into->append_ms = w->append_ms;
            }
            *pp = w->next;
            forget_saved(st, k, w);
            w->dead = true; /* its heap entries are stale now; freed with the last of them */
            w->next = NULL;
            win_release(st, w);
            continue;
        }
        pp = &w->next;
    }
    if (!into) {
        into = win_new(st, ev->ts, ev->ts);
        into->next = k->wins;
        k->wins = into;
    }
    into->start = VG_MIN(into->start, ev->ts);
    into->end = VG_MAX(into->end, ev->ts);
    if (into->saved && into->saved_start != into->start)
        forget_saved(st, k, into); /* the session starts earlier now: a new entry name */
    win_take(st, k, into, ev);
    schedule(st, k, into);
}

/* ---- operator ---- */

static void window_destroy(void *conf);

/* Does every source upstream of node declare `partitioned_by` with exactly the key fields? */
static bool sources_partitioned_by(const struct vg_node *node, const struct window_conf *c)
{
    if (node->type && (node->type->flags & VG_OP_SOURCE)) {
        const struct vg_ynode *p = vg_ynode_get(node->body, "partitioned_by");
        size_t n = vg_ylist_len(p);
        bool same = n > 0 && n == c->n_keys;
        for (size_t i = 0; same && i < n; i++) {
            const char *f = vg_ylist_str(p, i);
            bool found = false;
            for (size_t k = 0; k < c->n_keys && !found; k++)
                found = !strcmp(f, c->key_names[k]);
            same = found;
        }
        return same;
    }
    bool ok = true;
    for (size_t i = 0; i < node->n_inputs; i++)
        ok &= sources_partitioned_by(node->inputs[i], c);
    return ok;
}

static int64_t max_lateness(const struct vg_node *node)
{
    if (node->type && (node->type->flags & VG_OP_SOURCE))
        return vg_node_duration_ms(node, "lateness", 0);
    int64_t m = 0;
    for (size_t i = 0; i < node->n_inputs; i++)
        m = VG_MAX(m, max_lateness(node->inputs[i]));
    return m;
}

static int window_create(const struct vg_node *node, struct vg_op_env *env, void **confp)
{
    struct window_conf *c = vg_xcalloc(1, sizeof(*c));
    char err[300];
    bool ok = true;
    if (vg_win_spec_parse(node->op->str, &c->spec, err, sizeof(err)) != 0) {
        vg_diag_add(env->diag, node->op->mark, NULL, "node '%s': window: %s", node->name, err);
        ok = false;
    }
    const struct vg_ynode *key = vg_ynode_get(node->body, "key");
    if (key) {
        c->n_keys = key->type == VG_Y_SEQ ? key->n : 1;
        c->key_names = vg_xcalloc(c->n_keys, sizeof(char *));
        c->key_in = vg_xcalloc(c->n_keys, sizeof(int));
        c->key_out = vg_xcalloc(c->n_keys, sizeof(int));
        for (size_t k = 0; k < c->n_keys; k++) {
            const struct vg_ynode *y = key->type == VG_Y_SEQ ? key->items[k] : key;
            c->key_names[k] = vg_xstrdup(y->str);
            if ((c->key_in[k] = vg_compile_resolve(env, y->str, y)) < 0)
                ok = false;
        }
    }
    const struct vg_ynode *agg = vg_ynode_get(node->body, "aggregate");
    c->n_aggs = agg ? agg->n : 0;
    c->aggs = vg_xcalloc(c->n_aggs + 1, sizeof(*c->aggs));
    if (agg && agg->n == 0) {
        vg_diag_add(env->diag, agg->mark, NULL, "node '%s': aggregate: define at least one",
                    node->name);
        ok = false;
    }
    for (size_t a = 0; agg && a < agg->n; a++) {
        struct vg_agg_def *d = &c->aggs[a];
        d->name = vg_xstrdup(agg->keys[a]->str);
        d->in_slot = -1;
        const struct vg_ynode *v = agg->items[a];
        if (v->type != VG_Y_SCALAR) {
            vg_diag_add(env->diag, v->mark, NULL, "node '%s': aggregate '%s': expected a function "
                        "like count()", node->name, d->name);
            ok = false;
            continue;
        }
        if (vg_agg_parse(v->str, d, err, sizeof(err)) != 0) {
            vg_diag_add(env->diag, v->mark, NULL, "node '%s': aggregate '%s': %s", node->name,
                        d->name, err);
            ok = false;
            continue;
        }
        if (d->arg && (d->in_slot = vg_compile_resolve(env, d->arg, v)) < 0)
            ok = false;
        for (size_t k = 0; k < c->n_keys; k++)
            if (!strcmp(c->key_names[k], d->name)) {
                vg_diag_add(env->diag, agg->keys[a]->mark, NULL,
                            "node '%s': aggregate '%s' has the name of a key field", node->name,
                            d->name);
                ok = false;
            }
        if (!strcmp(d->name, "window_start") || !strcmp(d->name, "window_end")) {
            vg_diag_add(env->diag, agg->keys[a]->mark, NULL,
                        "node '%s': '%s' is set by the window itself", node->name, d->name);
            ok = false;
        }
    }
    c->ttl_ms = (c->spec.kind == VG_WIN_SESSION ? c->spec.gap_ms : c->spec.size_ms) +
                max_lateness(node) + 10 * 60 * 1000;
    if (ok && c->n_keys == 0 && env->topo->parallelism != 1) {
        vg_diag_add(env->diag, node->mark, NULL,
                    "node '%s': a window without key needs parallelism: 1 (one stream thread "
                    "sees every event)", node->name);
        ok = false;
    }
    if (!ok) {
        window_destroy(c);
        return VG_ECONFIG;
    }
    if (c->n_keys > 0 && !sources_partitioned_by(node, c)) {
        /* the events of one key may sit in any source partition: meet them by key first */
        int *vals = vg_xcalloc(c->n_aggs + 1, sizeof(int));
        size_t n_vals = 0;
        for (size_t a = 0; a < c->n_aggs; a++)
            if (c->aggs[a].in_slot >= 0)
                vals[n_vals++] = c->aggs[a].in_slot;
        vg_compile_add_exchange(env, node, c->key_in, c->n_keys, vals, n_vals);
        vg_free(vals);
    }
    if (c->spec.kind != VG_WIN_SESSION) {
        int64_t a = c->spec.size_ms, b = c->spec.slide_ms;
        while (b) {
            int64_t t = a % b;
            a = b;
            b = t;
        }
        c->pane_ms = a;
    }
    /* the output: key fields, aggregates, window bounds */
    for (size_t k = 0; k < c->n_keys; k++)
        c->key_out[k] = vg_compile_define(env, c->key_names[k]);
    for (size_t a = 0; a < c->n_aggs; a++)
        c->aggs[a].out_slot = vg_compile_define(env, c->aggs[a].name);
    c->start_slot = vg_compile_define(env, "window_start");
    c->end_slot = vg_compile_define(env, "window_end");
    /* aggregates that keep values get an area of at least 32 bytes (an address and a one-item
     * list), up to the next whole cache line */
    c->win_bytes = sizeof(struct win) + c->n_aggs * sizeof(struct vg_agg_state);
    bool keeps = false;
    for (size_t a = 0; a < c->n_aggs; a++) {
        enum vg_agg_fn fn = c->aggs[a].fn;
        keeps |= fn == VG_AGG_MIN || fn == VG_AGG_MAX || fn == VG_AGG_FIRST ||
                 fn == VG_AGG_LAST || fn == VG_AGG_COLLECT;
    }
    if (keeps)
        c->mem_bytes = ((c->win_bytes + 32 + 63) & ~(size_t)63) - c->win_bytes;
    c->win_bytes += c->mem_bytes;
    *confp = c;
    return 0;
}

static int window_open(const void *conf, struct vg_op_ctx *ctx, void **stp)
{
    struct window_state *st = vg_xcalloc(1, sizeof(*st));
    st->conf = conf;
    st->track = !ctx->replay;
    st->wm = VG_TIME_NONE;
    vg_buf_init(&st->keybuf);
    *stp = st;
    return 0;
}

struct closing {
    struct keyent *k;
    struct win *w; /* sessions */
};

static struct closing *closing_push(struct closing **cl, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *cl = vg_xrealloc(*cl, *cap * sizeof(**cl));
    }
    return &(*cl)[(*n)++];
}

/* A new output record for key k's window [start, end); its source position is that of
 * `latest` (the window's latest event). The caller fills the aggregates. */
static struct vg_event *emit_begin(struct window_state *st, struct vg_batch *b,
                                   struct vg_sel *out, const struct keyent *k, vg_time_ms start,
                                   vg_time_ms end, const struct win *latest)
{
    const struct window_conf *c = st->conf;
    uint32_t idx = vg_batch_add(b);
    struct vg_event *ev = &b->ev[idx];
    for (size_t i = 0; i < c->n_keys; i++) {
        struct vg_value v = k->vals[i];
        if (v.type == VG_T_STR)
            v.u.s = vg_arena_strndup(&b->arena, v.u.s, v.len);
        ev->slots[c->key_out[i]] = v;
    }
    ev->slots[c->start_slot] = vg_value_int(start);
    ev->slots[c->end_slot] = vg_value_int(end);
    ev->windowed = true;
    ev->win_start = start;
    ev->win_end = end;
    ev->ts = c->spec.kind == VG_WIN_SESSION ? end : end - 1;
    /* the result belongs to the key's state partition (downstream state: a rules node's
     * suppression); its source record is the window's latest event */
    ev->topic = latest->topic;
    ev->partition = k->partition;
    ev->offset = latest->offset;
    ev->origin_topic = latest->topic;
    ev->origin_partition = latest->partition;
    ev->origin_offset = latest->offset;
    /* latency counts from the arrival that closed the window, not from its latest event
     * (which may be a whole slide earlier): the batch that moved the watermark */
    ev->append_ms = VG_MAX(latest->append_ms, st->batch_append);
    ev->payload = "";
    ev->len = 0;
    vg_sel_push(b, out, idx);
    return ev;
}

static int cmp_pane(const void *a, const void *b)
{
    const struct win *x = *(struct win *const *)a, *y = *(struct win *const *)b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Key k's window ending at `end`, folded from its panes without copying them. */
static void emit_panes(struct window_state *st, struct vg_batch *b, struct vg_sel *out,
                       const struct keyent *k, vg_time_ms end)
{
    const struct window_conf *c = st->conf;
    if (key_lazy(c, k))
        return; /* fewer events in all its panes than the floor: no window of it passes */
    size_t n = 0;
    const struct win *latest = NULL;
    for (struct win *w = k->wins; w; w = w->next) {
        if (w->start < end - c->spec.size_ms || w->start >= end)
            continue;
        if (n == st->cap_panes) {
            st->cap_panes = st->cap_panes ? 2 * st->cap_panes : 16;
            st->panes = vg_xrealloc(st->panes, st->cap_panes * sizeof(*st->panes));
            st->fold = vg_xrealloc(st->fold, st->cap_panes * sizeof(*st->fold));
        }
        st->panes[n++] = w;
    }
    if (!n)
        return;
    if (c->min_count > 1) {
        int64_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += st->panes[i]->aggs[c->count_agg].count;
        if (total < c->min_count)
            return;
    }
    if (n > 1)
        qsort(st->panes, n, sizeof(*st->panes), cmp_pane); /* oldest first, as collect() keeps */
    for (size_t i = 0; i < n; i++)
        if (!latest || later_than(st->panes[i]->last_ts, st->panes[i]->partition,
                                  st->panes[i]->offset, latest))
            latest = st->panes[i];
    struct vg_event *ev = emit_begin(st, b, out, k, end - c->spec.size_ms, end, latest);
    for (size_t a = 0; a < c->n_aggs; a++) {
        for (size_t i = 0; i < n; i++)
            st->fold[i] = &st->panes[i]->aggs[a];
        vg_agg_result_fold(&c->aggs[a], st->fold, n, &b->arena, &ev->slots[c->aggs[a].out_slot]);
    }
}

/* Sessions: every window due by wm, in heap order. */
static void close_sessions(struct window_state *st, struct vg_batch *b, struct vg_sel *out,
                           vg_time_ms wm)
{
    const struct window_conf *c = st->conf;
    struct closing *cl = NULL;
    size_t n = 0, cap = 0;
    while (st->n_heap && st->heap[0].close_at <= wm) {
        struct heap_item it = heap_pop(st);
        it.w->refs--;
        key_unref(it.k); /* alive while it has windows; a removed one goes with its last entry */
        if (it.w->dead) {
            win_release(st, it.w);
            continue;
        }
        if (it.w->closed || it.gen != it.w->gen)
            continue; /* stale: the window moved its close time */
        it.w->closed = true;
        *closing_push(&cl, &n, &cap) = (struct closing){it.k, it.w};
    }
    if (!n)
        return;
    for (size_t i = 0; i < n; i++) { /* in heap order */
        const struct win *w = cl[i].w;
        if (c->min_count > 1 && w->aggs[c->count_agg].count < c->min_count)
            continue;
        struct vg_event *ev = emit_begin(st, b, out, cl[i].k, w->start, w->end, w);
        for (size_t a = 0; a < c->n_aggs; a++)
            vg_agg_result(&c->aggs[a], &w->aggs[a], &b->arena, &ev->slots[c->aggs[a].out_slot]);
    }
    /* unlink and free the closed windows; drop keys left without windows */
    for (size_t i = 0; i < n; i++) {
        struct keyent *k = cl[i].k;
        for (struct win **pp = &k->wins; *pp;) {
            if ((*pp)->closed) {
                struct win *w = *pp;
                *pp = w->next;
                forget_saved(st, k, w); /* closed windows are deleted from the store */
                w->dead = true;
                win_release(st, w);
            } else {
                pp = &(*pp)->next;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct keyent *k = cl[i].k;
        if (k && !k->wins) {
            for (size_t j = i + 1; j < n; j++)
                if (cl[j].k == k)
                    cl[j].k = NULL;
            key_remove(st, k);
        }
    }
    vg_free(cl);
}

/* Ask for the keys cl[0..n) (both lines), their table slots (a key whose last pane retires
 * is taken out) and their panes: whole when the key emits (its aggregates are read), else the
 * first line of each (start and link) and the oldest whole (it is the one that retires, and
 * freeing it reads its aggregates). A key's panes are a list, newest first: each step walks
 * every key's list one pane further, so the loads of different keys overlap instead of one
 * key's panes arriving one after the other. */
#define PANE_CHUNK 32
static void panes_prefetch(const struct window_state *st, const struct closing *cl, size_t n)
{
    const struct win *cur[PANE_CHUNK];
    bool whole[PANE_CHUNK];
    for (size_t i = 0; i < n; i++) {
        vg_prefetch(cl[i].k);
        vg_prefetch((const char *)cl[i].k + 64);
    }
    for (size_t i = 0; i < n; i++) {
        vg_htab_prefetch(&st->keys, cl[i].k->link.hash);
        cur[i] = cl[i].k->wins;
        whole[i] = !key_lazy(st->conf, cl[i].k);
    }
    for (bool more = true; more;) {
        more = false;
        for (size_t i = 0; i < n; i++) {
            if (!cur[i])
                continue;
            const struct win *next = cur[i]->next;
            if (whole[i] || !next)
                for (size_t off = 64; off < st->conf->win_bytes; off += 64)
                    vg_prefetch((const char *)cur[i] + off);
            more |= (cur[i] = next) != NULL;
        }
    }
}

/* Tumbling and sliding: window end by window end up to wm, each key due at it emits its
 * window (unless a restore shows it was emitted before), retires the panes whose last window
 * that was, and is scheduled for its next window end. */
static void close_panes(struct window_state *st, struct vg_batch *b, struct vg_sel *out,
                        vg_time_ms wm)
{
    const struct window_conf *c = st->conf;
    struct closing *cl = NULL;
    size_t cap = 0;
    for (;;) {
        size_t first = st->n_due;
        for (size_t b = 0; b < st->n_due; b++)
            if (st->due[b].at <= wm && (first == st->n_due || st->due[b].at < st->due[first].at))
                first = b;
        if (first == st->n_due)
            break;
        /* take the bucket out (keys scheduled below go to later ends), in the heap's order;
         * the keys are all over memory and are asked for a few entries ahead below (a key
         * stays allocated while an entry here points to it) */
        struct due_bucket d = st->due[first];
        st->due[first] = st->due[--st->n_due];
        vg_time_ms end = d.at;
        sort_due(st, d.items, d.n);
        size_t n = 0;
        for (size_t i = 0; i < d.n; i++)
            *closing_push(&cl, &n, &cap) = (struct closing){d.items[i].k, NULL};
        vg_free(d.items);
        for (size_t i = 0; i < n; i++) { /* in heap order */
            if (i % PANE_CHUNK == 0) { /* the next chunk, while this one (asked for before) runs */
                if (i == 0)
                    panes_prefetch(st, cl, VG_MIN(PANE_CHUNK, n));
                if (i + PANE_CHUNK < n)
                    panes_prefetch(st, cl + i + PANE_CHUNK, VG_MIN(PANE_CHUNK, n - i - PANE_CHUNK));
            }
            /* what the aggregates point to (distinct sets, strings, lists): of every pane of
             * a key that emits, of the oldest (retiring) pane of one that does not */
            if (i + 2 < n) {
                bool lazy = key_lazy(c, cl[i + 2].k);
                for (const struct win *w = cl[i + 2].k->wins; w; w = w->next)
                    if (!lazy || !w->next)
                        for (size_t a = 0; a < c->n_aggs; a++)
                            vg_agg_prefetch(&c->aggs[a], &w->aggs[a]);
            }
            struct keyent *k = cl[i].k;
            k->refs--;
            if (k->dead) {
                if (!k->refs)
                    vg_free(k);
                continue;
            }
            if (k->due != end)
                continue; /* stale: an earlier pane arrived and moved it */
            k->due = VG_TIME_NONE;
            struct part_mark *pm = part_mark(st, k->partition);
            pm->touched = true;
            if (pm->closed == VG_TIME_NONE || end > pm->closed)
                emit_panes(st, b, out, k, end);
            vg_time_ms next = VG_TIME_NONE, expires = VG_TIME_NONE;
            for (struct win **pp = &k->wins; *pp;) {
                struct win *w = *pp;
                vg_time_ms e = pane_next_end(c, w->start, end);
                if (e == VG_TIME_NONE) { /* that was its last window */
                    *pp = w->next;
                    if (c->min_count > 1)
                        k->events -= w->aggs[c->count_agg].count;
                    forget_saved(st, k, w); /* and it is deleted from the store */
                    w->dead = true;
                    win_release(st, w);
                    continue;
                }
                if (next == VG_TIME_NONE || e < next)
                    next = e;
                vg_time_ms last = pane_last_end(c, w->start);
                if (expires == VG_TIME_NONE || last < expires)
                    expires = last;
                pp = &w->next;
            }
            if (next != VG_TIME_NONE && key_lazy(c, k))
                next = expires;
            if (next != VG_TIME_NONE)
                key_schedule(st, k, next);
            else
                key_remove(st, k);
        }
    }
    vg_free(cl);
}

static int window_process(void *stp, struct vg_batch *b, const struct vg_sel *in,
                          struct vg_sel *out, struct vg_op_ctx *ctx)
{
    struct window_state *st = stp;
    const struct window_conf *c = st->conf;
    /* Events are checked against what their own partition has closed (part_mark), not
     * against the stage watermark: a partition taken over from another thread or process
     * resumes behind the others, and its events are not late for that. Windows close on the
     * stage watermark after the batch. */
    vg_time_ms wm = VG_TIME_NONE;
    int32_t wm_part = INT32_MIN;
    vg_time_ms starts[1];
    st->topic_in = NULL;
    st->batch_append = INT64_MIN; /* over the whole batch: filtered events move time too */
    for (size_t i = 0; i < b->n; i++)
        st->batch_append = VG_MAX(st->batch_append, b->ev[i].append_ms);
    key_hashes(st, b, in);
    for (size_t i = 0; i < in->n; i++) {
        const struct vg_event *ev = &b->ev[in->idx[i]];
        key_prefetch(st, i, in);
        if (ev->partition != wm_part) { /* events come in runs of a partition */
            wm_part = ev->partition;
            wm = part_mark(st, wm_part)->closed;
        }
        bool late = c->spec.kind == VG_WIN_SESSION
                        ? wm != VG_TIME_NONE && ev->ts + c->spec.gap_ms <= wm
                        : wm != VG_TIME_NONE && ev->ts < wm &&
                              vg_win_assign(&c->spec, ev->ts, starts, 1) &&
                              starts[0] + c->spec.size_ms <= wm;
        if (late) {
            ctx->dead_letter(ctx, ev, "late: its window already closed (event time moved on "
                                      "while partitions were idle)");
            continue;
        }
        struct keyent *k = key_find(st, ev, i);
        if (c->spec.kind == VG_WIN_SESSION) {
            session_take(st, k, ev);
            continue;
        }
        vg_time_ms p = floor_div(ev->ts, c->pane_ms) * c->pane_ms;
        struct win *w = NULL; /* events mostly open a later pane: no walk over the others */
        if (p <= k->max_start)
            for (w = k->wins; w && w->start != p;)
                w = w->next;
        if (!w) {
            /* its windows that closed already (sliding, older starts) are not reopened */
            vg_time_ms end = pane_next_end(c, p, wm);
            if (end == VG_TIME_NONE) { /* not reached: such an event is late (above) */
                if (!k->wins)
                    key_remove(st, k);
                continue;
            }
            w = win_new(st, p, p + c->pane_ms);
            w->next = k->wins;
            k->wins = w;
            k->max_start = VG_MAX(k->max_start, p);
        }
        win_take(st, k, w, ev);
        if (c->min_count > 1)
            k->events++; /* count() takes every event */
        key_schedule(st, k, key_lazy(c, k) ? pane_last_end(c, p) : pane_next_end(c, p, wm));
    }
    /* The stage watermark may go back: a partition assigned to this thread holds it at its
     * own. What closed stays closed (part_mark), so nothing is emitted twice. */
    st->wm = ctx->watermark;
    if (st->wm != VG_TIME_NONE) {
        if (c->pane_ms)
            close_panes(st, b, out, st->wm);
        else
            close_sessions(st, b, out, st->wm);
        parts_closed(st, st->wm);
    }
    return 0;
}

/* ---- state that survives restarts ----
 * An entry (entry_name) holds varints start, end - start, last_ts - start, partition, offset,
 * append_ms - last_ts, then the topic, the key values and the aggregate states
 * (window_agg.c's binary form). */

static int64_t wrap_sub(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

static int64_t wrap_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static void save_win(struct window_state *st, const struct keyent *k, const struct win *w,
                     struct vg_buf *b)
{
    const struct window_conf *c = st->conf;
    vg_buf_clear(b);
    vg_put_varint(b, w->start);
    vg_put_varint(b, wrap_sub(w->end, w->start)); /* differences: small numbers, few bytes */
    vg_put_varint(b, wrap_sub(w->last_ts, w->start));
    vg_put_varint(b, w->partition);
    vg_put_varint(b, w->offset);
    vg_put_varint(b, wrap_sub(w->append_ms, w->last_ts));
    struct vg_value t = vg_value_str(w->topic ? w->topic : "", w->topic ? strlen(w->topic) : 0);
    vg_value_save(&t, b);
    for (size_t i = 0; i < c->n_keys; i++)
        vg_value_save(&k->vals[i], b);
    for (size_t a = 0; a < c->n_aggs; a++)
        vg_agg_save(&c->aggs[a], &w->aggs[a], b);
}

static int window_state_save(void *stp, struct vg_state_out *out, bool all)
{
    struct window_state *st = stp;
    struct vg_buf name, val;
    vg_buf_init(&name);
    vg_buf_init(&val);
    for (size_t i = 0; i < st->n_dels; i++)
        out->del(out, st->dels[i].partition, st->dels[i].bucket, st->dels[i].key,
                 st->dels[i].klen);
    if (all) {
        for (size_t i = 0; i < st->keys.cap; i++)
            for (struct vg_hlink *l = st->keys.slots[i]; l; l = l->next)
                for (struct win *w = ((struct keyent *)l)->wins; w; w = w->next)
                    mark_dirty(st, (struct keyent *)l, w);
    }
    for (size_t i = 0; i < st->n_parts; i++) {
        struct part_mark *pm = &st->parts[i];
        if (!pm->touched && !all)
            continue;
        vg_buf_clear(&val);
        vg_put_u64(&val, (uint64_t)pm->closed);
        out->put(out, pm->partition, CLOSED_ENTRY, CLOSED_ENTRY, strlen(CLOSED_ENTRY), val.data,
                 val.len, st->conf->ttl_ms);
    }
    for (size_t i = 0; i < st->n_dirty; i++) {
        const struct dirty *d = &st->dirty[i];
        if (d->w->dead)
            continue;
        char bucket[32];
        entry_name(st->conf, d->k, d->w->start, &name, bucket);
        save_win(st, d->k, d->w, &val);
        out->put(out, d->k->partition, bucket, name.data, name.len, val.data, val.len,
                 st->conf->ttl_ms);
    }
    vg_buf_fini(&name);
    vg_buf_fini(&val);
    return 0;
}

static void window_state_saved(void *stp)
{
    struct window_state *st = stp;
    for (size_t i = 0; i < st->n_dels; i++)
        vg_free(st->dels[i].key);
    st->n_dels = 0;
    for (size_t i = 0; i < st->n_dirty; i++) {
        struct win *w = st->dirty[i].w;
        w->in_dirty = false;
        if (!w->dead) {
            w->saved = true;
            w->saved_start = w->start;
        }
        win_release(st, w);
    }
    st->n_dirty = 0;
    for (size_t i = 0; i < st->n_parts; i++)
        st->parts[i].touched = false;
}

static int window_state_load(void *stp, int32_t partition, const char *key, size_t klen,
                             const char *val, size_t len)
{
    struct window_state *st = stp;
    const struct window_conf *c = st->conf;
    const char *p = val, *end = val + len;
    if (klen == strlen(CLOSED_ENTRY) && !memcmp(key, CLOSED_ENTRY, klen)) {
        int64_t closed;
        if (vg_get_i64(&p, end, &closed))
            return VG_EINVAL;
        struct part_mark *pm = part_mark(st, partition);
        if (pm->closed == VG_TIME_NONE || closed > pm->closed)
            pm->closed = closed;
        return 0;
    }
    int64_t f[6]; /* start, end, last_ts, partition, offset, append_ms (save_win) */
    for (int i = 0; i < 6; i++)
        if (vg_get_varint(&p, end, &f[i]))
            return VG_EINVAL;
    f[1] = wrap_add(f[1], f[0]);
    f[2] = wrap_add(f[2], f[0]);
    f[5] = wrap_add(f[5], f[2]);
    struct vg_value topic, vals[64];
    if (c->n_keys > 64 || vg_value_load(&topic, &p, end, NULL))
        return VG_EINVAL;
    size_t nk = 0;
    int rc = 0;
    for (; nk < c->n_keys; nk++)
        if (vg_value_load(&vals[nk], &p, end, NULL)) {
            rc = VG_EINVAL;
            break;
        }
    struct win *w = NULL;
    if (rc == 0) {
        w = win_new(st, f[0], f[1]);
        for (size_t a = 0; a < c->n_aggs && rc == 0; a++)
            if (vg_agg_load(&c->aggs[a], &w->aggs[a], &p, end))
                rc = VG_EINVAL;
    }
    if (rc == 0) {
        const char *text;
        size_t len;
        key_text_of(st, vals, &text, &len);
        struct keyent *k = key_get(st, partition, vals, key_hash(text, len, partition));
        w->last_ts = f[2];
        w->partition = (int32_t)f[3];
        w->offset = f[4];
        w->append_ms = f[5];
        w->topic = vg_intern(&st->topics, topic.type == VG_T_STR ? topic.u.s : "",
                             topic.type == VG_T_STR ? topic.len : 0);
        w->saved = true;
        w->saved_start = w->start;
        w->next = k->wins;
        k->wins = w;
        k->max_start = VG_MAX(k->max_start, w->start);
        if (c->min_count > 1)
            k->events += w->aggs[c->count_agg].count;
        if (!c->pane_ms)
            schedule(st, k, w);
        else
            key_schedule(st, k, pane_next_end(c, w->start, VG_TIME_NONE));
    } else if (w) {
        win_free(st, w);
    }
    for (size_t i = 0; i < nk; i++)
        if (vals[i].type == VG_T_STR)
            vg_free((char *)vals[i].u.s);
    if (topic.type == VG_T_STR)
        vg_free((char *)topic.u.s);
    return rc;
}

static void window_state_drop(void *stp, int32_t partition)
{
    struct window_state *st = stp;
    heap_drop_partition(st, partition);
    for (size_t i = 0; i < st->keys.cap; i++)
        for (struct vg_hlink *l = st->keys.slots[i], *next; l; l = next) {
            next = l->next;
            struct keyent *e = (struct keyent *)l;
            if (e->partition != partition)
                continue;
            for (struct win *w = e->wins, *wn; w; w = wn) {
                wn = w->next;
                w->dead = true;
                win_release(st, w);
            }
            e->wins = NULL;
            for (size_t d = 0; d < st->n_dirty; d++)
                if (st->dirty[d].k == e)
                    st->dirty[d].w->dead = true;
            key_remove(st, e);
        }
    /* deletes queued for that partition go with it: the next owner loads what was saved */
    size_t kept = 0;
    for (size_t i = 0; i < st->n_dels; i++) {
        if (st->dels[i].partition == partition)
            vg_free(st->dels[i].key);
        else
            st->dels[kept++] = st->dels[i];
    }
    st->n_dels = kept;
    part_forget(st, partition);
}

static void window_close(void *stp)
{
    struct window_state *st = stp;
    if (!st)
        return;
    for (size_t i = 0; i < st->n_dirty; i++) {
        struct win *w = st->dirty[i].w;
        w->in_dirty = false;
        win_release(st, w);
    }
    vg_free(st->dirty);
    for (size_t i = 0; i < st->n_dels; i++)
        vg_free(st->dels[i].key);
    vg_free(st->dels);
    vg_free(st->parts);
    vg_free(st->part_at);
    vg_free(st->hashes);
    vg_free(st->panes);
    vg_free(st->fold);
    for (size_t b = 0; b < st->n_due; b++) {
        for (size_t i = 0; i < st->due[b].n; i++) {
            struct keyent *k = st->due[b].items[i].k;
            if (!--k->refs && k->dead)
                vg_free(k);
        }
        vg_free(st->due[b].items);
    }
    vg_free(st->due);
    for (size_t i = 0; i < st->n_heap; i++) {
        struct win *w = st->heap[i].w;
        key_unref(st->heap[i].k);
        if (!w)
            continue;
        w->refs--;
        if (w->dead)
            win_release(st, w);
    }
    for (size_t i = 0; i < st->keys.cap; i++)
        for (struct vg_hlink *l = st->keys.slots[i], *next; l; l = next) {
            next = l->next;
            struct keyent *e = (struct keyent *)l;
            for (struct win *w = e->wins, *wn; w; w = wn) {
                wn = w->next;
                win_free(st, w);
            }
            e->wins = NULL;
            key_remove(st, e);
        }
    vg_free(st->keys.slots);
    vg_free(st->heap);
    vg_free(st->sort_tmp);
    for (size_t i = 0; i < st->n_spare; i++)
        vg_free(st->spare[i]);
    vg_free(st->spare);
    vg_intern_fini(&st->topics);
    vg_buf_fini(&st->keybuf);
    vg_free(st);
}

static void window_destroy(void *conf)
{
    struct window_conf *c = conf;
    if (!c)
        return;
    for (size_t k = 0; k < c->n_keys; k++)
        vg_free(c->key_names[k]);
    vg_free(c->key_names);
    vg_free(c->key_in);
    vg_free(c->key_out);
    for (size_t a = 0; a < c->n_aggs; a++) {
        vg_free(c->aggs[a].name);
        vg_free(c->aggs[a].arg);
    }
    vg_free(c->aggs);
    vg_free(c);
}

static void window_output_floor(void *confp, const struct vg_op_type *consumer,
                                const void *cconf)
{
    struct window_conf *c = confp;
    for (size_t a = 0; a < c->n_aggs; a++) {
        int64_t floor;
        if (c->aggs[a].fn == VG_AGG_COUNT &&
            consumer->input_floor(cconf, c->aggs[a].out_slot, &floor) && floor > c->min_count) {
            c->min_count = floor;
            c->count_agg = a;
        }
    }
}

const struct vg_op_type vg_op_window = {
    .name = "window",
    .summary = "keyed tumbling, sliding or session window with aggregates, over event time",
    .flags = VG_OP_KEYED,
    .keys = window_keys,
    .op_key_type = VG_K_STRING,
    .create = window_create,
    .open = window_open,
    .process = window_process,
    .close = window_close,
    .destroy = window_destroy,
    .state_save = window_state_save,
    .state_saved = window_state_saved,
    .state_load = window_state_load,
    .state_drop = window_state_drop,
    .output_floor = window_output_floor,
};
