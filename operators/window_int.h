/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window_int.h - private to operators/window.c and window_agg.c: window specifications and
 * their assignment, and the aggregates with their per-window state.
 *
 * Thread: specs and definitions are built at load time and read-only afterwards; aggregate
 * states belong to the stream thread that owns the window.
 */
#ifndef VG_WINDOW_INT_H
#define VG_WINDOW_INT_H

#include "binio.h"
#include "vg_op.h"

enum vg_win_kind { VG_WIN_TUMBLING, VG_WIN_SLIDING, VG_WIN_SESSION };

struct vg_win_spec {
    enum vg_win_kind kind;
    int64_t size_ms;    /* tumbling, sliding */
    int64_t slide_ms;   /* sliding (tumbling: = size) */
    int64_t gap_ms;     /* session */
};

/* "tumbling 5m", "sliding 5m every 30s", "session 10m". Returns 0, or -1 with a message
 * (what was expected) in err. */
int vg_win_spec_parse(const char *text, struct vg_win_spec *w, char *err, size_t err_size);

/* The starts of the tumbling or sliding windows [start, start + size) that contain ts, starts
 * aligned to multiples of the slide since the epoch, latest first; at most max. */
size_t vg_win_assign(const struct vg_win_spec *w, vg_time_ms ts, vg_time_ms *starts, size_t max);

enum vg_agg_fn {
    VG_AGG_COUNT, VG_AGG_SUM, VG_AGG_MIN, VG_AGG_MAX, VG_AGG_AVG, VG_AGG_FIRST, VG_AGG_LAST,
    VG_AGG_DISTINCT, VG_AGG_COLLECT,
};

/* distinct(x) is exact up to this many values per window, then a HyperLogLog estimate. */
#define VG_DISTINCT_EXACT 4096
#define VG_HLL_P 16
/* distinct keeps up to this many value hashes in the aggregate state itself, count saying
 * how many; past that count is VG_DISTINCT_SPILLED and d holds the set (most panes see one
 * or two values: no allocation, nothing more to fetch when a window is folded) */
#define VG_DISTINCT_INLINE 3
#define VG_DISTINCT_SPILLED (-1)

struct vg_agg_def {
    char *name;         /* output field */
    enum vg_agg_fn fn;
    char *arg;          /* field path, NULL for count() */
    int in_slot;        /* resolved arg */
    int out_slot;
    long n;             /* collect(x, N) */
};

struct vg_distinct;

/* 32 bytes: every pane of every key holds one per aggregate, so only what the function uses
 * (which member of the union is live follows from def->fn; all zero is the empty state). */
struct vg_agg_state {
    int64_t count;                  /* values taken (count: events) */
    union {
        struct {                    /* sum, avg */
            int64_t isum;
            double fsum;
            bool is_float;
        };
        struct {                    /* min, max, first, last (string owned) */
            struct vg_value v;
            vg_time_ms v_ts;
        };
        struct vg_distinct *d;      /* distinct, spilled (count == VG_DISTINCT_SPILLED) */
        uint64_t dh[3];             /* distinct: its first VG_DISTINCT_INLINE hashes (count) */
        struct {                    /* collect (strings owned) */
            struct vg_value *items;
            size_t n_items;
        };
    };
};

/* "count()", "sum(bytes)", "collect(src_ip, 5)", ...: fills fn, arg (malloc'd or NULL) and n;
 * returns 0, or -1 with a message in err. */
int vg_agg_parse(const char *text, struct vg_agg_def *def, char *err, size_t err_size);

/* Where the bytes that the aggregate states of one window own (strings, collect()'s items) go:
 * first a small area at the end of the window's own allocation, then the heap once it is full.
 * Most panes hold one event, whose values so need no allocation of their own and share the
 * window's cache lines (D24). What lies in [base, end) goes with the window and is never freed
 * by itself; so a string equal to the last one copied into the area is shared, not copied
 * again. Build one per window and operation (win_mem); NULL everywhere means the heap only. */
struct vg_agg_mem {
    char *base, *end;
    uint16_t *used;             /* bytes of the area taken: kept in the window */
    const char *last_copy;      /* the last string copied into the area (NULL: none yet) */
    uint32_t last_len;
};

/* Does the area of m hold p (bytes that are not freed by themselves)? */
static inline bool vg_agg_mem_holds(const struct vg_agg_mem *m, const void *p)
{
    return m && (const char *)p >= m->base && (const char *)p < m->end;
}

/* Take value v at time ts into st; owned bytes go to m (NULL: the heap). */
void vg_agg_update_in(const struct vg_agg_def *def, struct vg_agg_state *st,
                      const struct vg_value *v, vg_time_ms ts, struct vg_agg_mem *m);
static inline void vg_agg_update(const struct vg_agg_def *def, struct vg_agg_state *st,
                                 const struct vg_value *v, vg_time_ms ts)
{
    vg_agg_update_in(def, st, v, ts, NULL);
}
/* Fold `from` into `into` (session windows that an event joins together); frees from. Each
 * state's owned bytes are in its own window's area (NULL: the heap). */
void vg_agg_merge_in(const struct vg_agg_def *def, struct vg_agg_state *into,
                     struct vg_agg_mem *into_m, struct vg_agg_state *from,
                     const struct vg_agg_mem *from_m);
static inline void vg_agg_merge(const struct vg_agg_def *def, struct vg_agg_state *into,
                                struct vg_agg_state *from)
{
    vg_agg_merge_in(def, into, NULL, from, NULL);
}
/* The same, leaving `from` as it is (panes folded into the window they make up). */
void vg_agg_fold_in(const struct vg_agg_def *def, struct vg_agg_state *into,
                    struct vg_agg_mem *into_m, const struct vg_agg_state *from);
static inline void vg_agg_fold(const struct vg_agg_def *def, struct vg_agg_state *into,
                               const struct vg_agg_state *from)
{
    vg_agg_fold_in(def, into, NULL, from);
}
/* The result of parts[0..n) (oldest first) folded together, as vg_agg_fold into a fresh
 * state and vg_agg_result would give, without copying the parts. */
void vg_agg_result_fold(const struct vg_agg_def *def, const struct vg_agg_state *const *parts,
                        size_t n, struct vg_arena *arena, struct vg_value *out);
/* Ask the CPU for the memory st points to (it is about to be read). */
static inline void vg_agg_prefetch(const struct vg_agg_def *def, const struct vg_agg_state *st)
{
    if (def->fn == VG_AGG_DISTINCT && st->count == VG_DISTINCT_SPILLED)
        vg_prefetch(st->d);
    else if ((def->fn == VG_AGG_MIN || def->fn == VG_AGG_MAX || def->fn == VG_AGG_FIRST ||
              def->fn == VG_AGG_LAST) && st->v.type == VG_T_STR)
        vg_prefetch(st->v.u.s);
    else if (def->fn == VG_AGG_COLLECT && st->items)
        vg_prefetch(st->items);
}
/* The result, with strings and lists copied into arena. */
void vg_agg_result(const struct vg_agg_def *def, const struct vg_agg_state *st,
                   struct vg_arena *arena, struct vg_value *out);
/* Release what st owns (m: the area of its window, NULL: the heap only) and zero it. */
void vg_agg_free_in(const struct vg_agg_def *def, struct vg_agg_state *st,
                    const struct vg_agg_mem *m);
static inline void vg_agg_free(const struct vg_agg_def *def, struct vg_agg_state *st)
{
    vg_agg_free_in(def, st, NULL);
}
/* Append st to out in a compact binary form (for the state store), and read it back from
 * [*p, end), advancing *p; returns 0, or -1 when the bytes do not parse (st is then freed). */
void vg_agg_save(const struct vg_agg_def *def, const struct vg_agg_state *st, struct vg_buf *out);
int vg_agg_load(const struct vg_agg_def *def, struct vg_agg_state *st, const char **p,
                const char *end);
/* Hash of a value for distinct counting (1 and 1.0 hash alike). */
uint64_t vg_agg_hash(const struct vg_value *v);

#endif
