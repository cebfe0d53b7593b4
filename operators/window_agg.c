/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window_agg.c - window specifications and aggregates (window_int.h).
 *
 * Aggregates keep O(1) state per window, except distinct (an exact set of 64-bit value hashes
 * up to VG_DISTINCT_EXACT values, then a HyperLogLog of 2^16 one-byte registers, 64 KiB:
 * standard error 1.04/sqrt(65536) = 0.41%, so estimates stay within 1% at 2.5 sigma) and collect (up to N values). first/last follow event time, not
 * arrival order, so results do not depend on how partitions interleave. Nulls are skipped by
 * every aggregate but count(); sum/avg/min/max take numbers (min/max also strings, compared
 * bytewise, when no number was seen).
 *
 * Thread: parsing at load time; states on the stream thread that owns the window.
 */
#include "window_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- window specifications ---- */

int vg_win_spec_parse(const char *text, struct vg_win_spec *w, char *err, size_t err_size)
{
    char kind[16] = "", a[32] = "", every[16] = "", b[32] = "", extra[8] = "";
    int n = sscanf(text, "%15s %31s %15s %31s %7s", kind, a, every, b, extra);
    memset(w, 0, sizeof(*w));
    const char *want = "expected 'tumbling SIZE', 'sliding SIZE every SLIDE' or 'session GAP' "
                       "with durations like 5m";
    if (!strcmp(kind, "tumbling") && n == 2 &&
        vg_duration_parse(a, strlen(a), &w->size_ms) == 0 && w->size_ms > 0) {
        w->kind = VG_WIN_TUMBLING;
        w->slide_ms = w->size_ms;
        return 0;
    }
    if (!strcmp(kind, "session") && n == 2 && vg_duration_parse(a, strlen(a), &w->gap_ms) == 0 &&
        w->gap_ms > 0) {
        w->kind = VG_WIN_SESSION;
        return 0;
    }
    if (!strcmp(kind, "sliding") && n == 4 && !strcmp(every, "every") &&
        vg_duration_parse(a, strlen(a), &w->size_ms) == 0 &&
        vg_duration_parse(b, strlen(b), &w->slide_ms) == 0 && w->size_ms > 0 && w->slide_ms > 0) {
        if (w->slide_ms > w->size_ms) {
            snprintf(err, err_size, "the slide (%s) must not exceed the size (%s)", b, a);
            return -1;
        }
        if (w->size_ms / w->slide_ms > 1000) {
            snprintf(err, err_size, "size / slide is %lld; at most 1000 windows per event",
                     (long long)(w->size_ms / w->slide_ms));
            return -1;
        }
        w->kind = VG_WIN_SLIDING;
        return 0;
    }
    snprintf(err, err_size, "%s, got '%s'", want, text);
    return -1;
}

static vg_time_ms floor_div(vg_time_ms a, vg_time_ms b)
{
    vg_time_ms q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

size_t vg_win_assign(const struct vg_win_spec *w, vg_time_ms ts, vg_time_ms *starts, size_t max)
{
    size_t n = 0;
    vg_time_ms last = floor_div(ts, w->slide_ms) * w->slide_ms;
    for (vg_time_ms s = last; s > ts - w->size_ms && n < max; s -= w->slide_ms)
        starts[n++] = s;
    return n;
}

/* ---- aggregates ---- */

static const struct {
    const char *name;
    enum vg_agg_fn fn;
    int args; /* 0, 1, or 2 (collect) */
} agg_fns[] = {
    {"count", VG_AGG_COUNT, 0}, {"sum", VG_AGG_SUM, 1},     {"min", VG_AGG_MIN, 1},
    {"max", VG_AGG_MAX, 1},     {"avg", VG_AGG_AVG, 1},     {"first", VG_AGG_FIRST, 1},
    {"last", VG_AGG_LAST, 1},   {"distinct", VG_AGG_DISTINCT, 1}, {"collect", VG_AGG_COLLECT, 2},
};

int vg_agg_parse(const char *text, struct vg_agg_def *def, char *err, size_t err_size)
{
    char name[32], arg[256] = "", num[32] = "";
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    size_t k = 0;
    while ((isalpha((unsigned char)*p) || *p == '_') && k < sizeof(name) - 1)
        name[k++] = *p++;
    name[k] = '\0';
    while (isspace((unsigned char)*p))
        p++;
    const char *open = p, *close = strrchr(p, ')');
    bool shape = *open == '(' && close && close > open;
    for (const char *q = close ? close + 1 : p; shape && *q; q++)
        shape = isspace((unsigned char)*q);
    int fn = -1;
    for (size_t i = 0; i < sizeof(agg_fns) / sizeof(agg_fns[0]); i++)
        if (!strcmp(name, agg_fns[i].name))
            fn = (int)i;
    if (!shape || fn < 0) {
        snprintf(err, err_size,
                 "expected an aggregate: count(), sum(x), min(x), max(x), avg(x), first(x), "
                 "last(x), distinct(x) or collect(x, N), got '%s'",
                 text);
        return -1;
    }
    /* arguments: x or x, N */
    size_t inner = (size_t)(close - open - 1);
    char args[300];
    if (inner >= sizeof(args)) {
        snprintf(err, err_size, "aggregate argument too long in '%s'", text);
        return -1;
    }
    memcpy(args, open + 1, inner);
    args[inner] = '\0';
    char *comma = strchr(args, ',');
    if (comma) {
        *comma = '\0';
        sscanf(comma + 1, " %31s", num);
    }
    sscanf(args, " %255s", arg);
    int want = agg_fns[fn].args;
    int got = arg[0] ? (comma ? 2 : 1) : 0;
    if (got != want) {
        snprintf(err, err_size, "%s takes %s, got '%s'", name,
                 want == 0 ? "no argument: count()"
                 : want == 1 ? "one field, like sum(bytes)"
                             : "a field and a count, like collect(src_ip, 5)",
                 text);
        return -1;
    }
    def->fn = agg_fns[fn].fn;
    def->arg = arg[0] ? vg_xstrdup(arg) : NULL;
    def->in_slot = -1;
    if (want == 2) {
        char *end;
        def->n = strtol(num, &end, 10);
        if (!num[0] || *end || def->n < 1 || def->n > 1000) {
            vg_free(def->arg);
            def->arg = NULL;
            snprintf(err, err_size, "collect: N must be an integer from 1 to 1000, got '%s'", num);
            return -1;
        }
    }
    return 0;
}

uint64_t vg_agg_hash(const struct vg_value *v)
{
    uint64_t h = VG_HASH_SEED;
    unsigned char buf[9];
    const unsigned char *p = buf;
    size_t n;
    if (v->type == VG_T_FLOAT && v->u.f == (double)(int64_t)v->u.f) {
        struct vg_value i = vg_value_int((int64_t)v->u.f);
        return vg_agg_hash(&i);
    }
    switch (v->type) {
    case VG_T_STR:
        buf[0] = 's';
        h = vg_hash_bytes(h, buf, 1);
        p = (const unsigned char *)v->u.s;
        n = v->len;
        break;
    case VG_T_INT:
        buf[0] = 'i';
        memcpy(buf + 1, &v->u.i, 8);
        n = 9;
        break;
    case VG_T_FLOAT:
        buf[0] = 'f';
        memcpy(buf + 1, &v->u.f, 8);
        n = 9;
        break;
    case VG_T_BOOL:
        buf[0] = v->u.b ? 'T' : 'F';
        n = 1;
        break;
    default:
        buf[0] = 'n';
        n = 1;
        break;
    }
    h = vg_hash_bytes(h, p, n);
    /* finalise (splitmix64) so the HyperLogLog sees well-mixed bits */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

/* distinct: open-addressing set of hashes (0 marks empty; a hash of 0 is stored as 1), then
 * HyperLogLog registers */
struct vg_distinct {
    uint64_t *set;      /* small, until it outgrows it */
    size_t n, cap;
    uint8_t *hll;       /* NULL while exact */
    uint64_t small[8];  /* most windows see a few values: no second allocation */
};

static void set_release(struct vg_distinct *d)
{
    if (d->set != d->small)
        vg_free(d->set);
    d->set = NULL;
    d->cap = d->n = 0;
}

static void hll_add(uint8_t *reg, uint64_t h)
{
    size_t idx = (size_t)(h >> (64 - VG_HLL_P));
    uint64_t rest = (h << VG_HLL_P) | (1ull << (VG_HLL_P - 1));
    uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > reg[idx])
        reg[idx] = rank;
}

static int64_t hll_count(const uint8_t *reg)
{
    const double m = (double)(1u << VG_HLL_P);
    double sum = 0;
    int zeros = 0;
    for (size_t i = 0; i < (1u << VG_HLL_P); i++) {
        sum += ldexp(1.0, -reg[i]);
        zeros += reg[i] == 0;
    }
    double est = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (est <= 2.5 * m && zeros)
        est = m * log(m / zeros); /* small-range correction */
    return (int64_t)llround(est);
}

static void set_insert(struct vg_distinct *d, uint64_t h)
{
    if (h == 0)
        h = 1;
    if (d->cap == 0) {
        memset(d->small, 0, sizeof(d->small));
        d->set = d->small;
        d->cap = sizeof(d->small) / sizeof(d->small[0]);
    }
    if (d->n * 2 >= d->cap) {
        size_t cap = d->cap * 2;
        uint64_t *set = vg_xcalloc(cap, sizeof(*set));
        for (size_t i = 0; i < d->cap; i++)
            if (d->set[i]) {
                size_t j = d->set[i] & (cap - 1);
                while (set[j])
                    j = (j + 1) & (cap - 1);
                set[j] = d->set[i];
            }
        size_t n = d->n;
        set_release(d);
        d->set = set;
        d->cap = cap;
        d->n = n;
    }
    size_t j = h & (d->cap - 1);
    while (d->set[j] && d->set[j] != h)
        j = (j + 1) & (d->cap - 1);
    if (!d->set[j]) {
        d->set[j] = h;
        d->n++;
    }
}

static void distinct_add(struct vg_distinct *d, uint64_t h)
{
    if (d->hll) {
        hll_add(d->hll, h);
        return;
    }
    set_insert(d, h);
    if (d->n > VG_DISTINCT_EXACT) {
        d->hll = vg_xcalloc(1u << VG_HLL_P, 1);
        for (size_t i = 0; i < d->cap; i++)
            if (d->set[i])
                hll_add(d->hll, d->set[i]);
        set_release(d);
    }
}

static void distinct_free(struct vg_distinct *d)
{
    if (!d)
        return;
    set_release(d);
    vg_free(d->hll);
    vg_free(d);
}

/* The spilled set of a distinct state, or NULL while its hashes are inline. */
static struct vg_distinct *spilled(const struct vg_agg_state *st)
{
    return st->count == VG_DISTINCT_SPILLED ? st->d : NULL;
}

static struct vg_distinct *spill(struct vg_agg_state *st)
{
    if (st->count != VG_DISTINCT_SPILLED) {
        struct vg_distinct *d = vg_xcalloc(1, sizeof(*d));
        for (int64_t i = 0; i < st->count; i++)
            set_insert(d, st->dh[i]);
        st->d = d; /* over dh[0], read above */
        st->count = VG_DISTINCT_SPILLED;
    }
    return st->d;
}

static void distinct_take(struct vg_agg_state *st, uint64_t h)
{
    if (h == 0)
        h = 1; /* as set_insert stores it */
    if (st->count != VG_DISTINCT_SPILLED) {
        for (int64_t i = 0; i < st->count; i++)
            if (st->dh[i] == h)
                return;
        if (st->count < VG_DISTINCT_INLINE) {
            st->dh[st->count++] = h;
            return;
        }
    }
    distinct_add(spill(st), h);
}

/* How many distinct values a state holds (estimated once it is a HyperLogLog). */
static int64_t distinct_n(const struct vg_agg_state *st)
{
    const struct vg_distinct *d = spilled(st);
    if (!d)
        return st->count;
    return d->hll ? hll_count(d->hll) : (int64_t)d->n;
}

/* n bytes aligned to align from the area of m, or NULL when it has no room (or no m). */
static char *mem_take(struct vg_agg_mem *m, size_t n, size_t align)
{
    if (!m)
        return NULL;
    size_t at = (*m->used + align - 1) & ~(align - 1);
    if (at + n > (size_t)(m->end - m->base))
        return NULL;
    *m->used = (uint16_t)(at + n);
    return m->base + at;
}

/* A copy of v that st keeps: its string bytes in m's area when they fit, else on the heap. */
static struct vg_value own(const struct vg_value *v, struct vg_agg_mem *m)
{
    struct vg_value c = *v;
    if (v->type == VG_T_STR) {
        const char *s = v->len ? v->u.s : "";
        if (m && m->last_copy && m->last_len == v->len && !memcmp(m->last_copy, s, v->len)) {
            c.u.s = m->last_copy; /* neither copy is ever freed by itself */
            return c;
        }
        char *p = mem_take(m, (size_t)v->len + 1, 1);
        if (p) {
            memcpy(p, s, v->len);
            p[v->len] = '\0';
            m->last_copy = p;
            m->last_len = v->len;
            c.u.s = p;
        } else {
            c.u.s = vg_xstrndup(s, v->len);
        }
    } else if (v->type == VG_T_LIST) {
        c = VG_NULL_VALUE; /* lists are not kept */
    }
    return c;
}

static void disown(struct vg_value *v, const struct vg_agg_mem *m)
{
    if (v->type == VG_T_STR && !vg_agg_mem_holds(m, v->u.s))
        vg_free((char *)v->u.s);
    *v = VG_NULL_VALUE;
}

/* collect(): append v (owned already) to st's items, which stay in m's area while they fit. */
static void items_push(struct vg_agg_state *st, struct vg_value v, struct vg_agg_mem *m)
{
    size_t n = st->n_items;
    if (!st->items || vg_agg_mem_holds(m, st->items)) {
        struct vg_value *p = (struct vg_value *)mem_take(m, (n + 1) * sizeof(*p), 8);
        if (!p)
            p = vg_xmalloc((n + 1) * sizeof(*p));
        if (n)
            memcpy(p, st->items, n * sizeof(*p)); /* the old place in the area is left */
        st->items = p;
    } else {
        st->items = vg_xrealloc(st->items, (n + 1) * sizeof(*st->items));
    }
    st->items[st->n_items++] = v;
}

static bool is_num(const struct vg_value *v)
{
    return v->type == VG_T_INT || v->type == VG_T_FLOAT;
}

/* -1, 0, 1; numbers before strings */
static int cmp(const struct vg_value *a, const struct vg_value *b)
{
    if (is_num(a) && is_num(b)) {
        if (a->type == VG_T_INT && b->type == VG_T_INT)
            return (a->u.i > b->u.i) - (a->u.i < b->u.i);
        double x = a->type == VG_T_INT ? (double)a->u.i : a->u.f;
        double y = b->type == VG_T_INT ? (double)b->u.i : b->u.f;
        return (x > y) - (x < y);
    }
    if (is_num(a) != is_num(b))
        return is_num(a) ? -1 : 1;
    size_t n = VG_MIN(a->len, b->len);
    int r = n ? memcmp(a->u.s, b->u.s, n) : 0;
    return r ? (r < 0 ? -1 : 1) : (a->len > b->len) - (a->len < b->len);
}

static void add_number(struct vg_agg_state *st, const struct vg_value *v)
{
    if (v->type == VG_T_FLOAT && !st->is_float) {
        st->is_float = true;
        st->fsum = (double)st->isum;
    }
    if (st->is_float)
        st->fsum += v->type == VG_T_INT ? (double)v->u.i : v->u.f;
    else
        st->isum = (int64_t)((uint64_t)st->isum + (uint64_t)v->u.i);
    st->count++;
}

/* min, max, first, last: does value v at time ts replace what st keeps? (ties: first keeps
 * the earlier, last takes the later) */
static bool takes_over(const struct vg_agg_def *def, const struct vg_agg_state *st,
                       const struct vg_value *v, vg_time_ms ts)
{
    if (st->count == 0)
        return true;
    switch (def->fn) {
    case VG_AGG_MIN: return cmp(v, &st->v) < 0;
    case VG_AGG_MAX: return cmp(v, &st->v) > 0;
    case VG_AGG_FIRST: return ts < st->v_ts;
    default: return ts >= st->v_ts;
    }
}

void vg_agg_update_in(const struct vg_agg_def *def, struct vg_agg_state *st,
                      const struct vg_value *v, vg_time_ms ts, struct vg_agg_mem *m)
{
    if (def->fn == VG_AGG_COUNT) {
        st->count++;
        return;
    }
    if (!v || v->type == VG_T_NULL)
        return;
    switch (def->fn) {
    case VG_AGG_SUM:
    case VG_AGG_AVG:
        if (is_num(v))
            add_number(st, v);
        return;
    case VG_AGG_MIN:
    case VG_AGG_MAX:
        if (!is_num(v) && v->type != VG_T_STR)
            return;
        if (takes_over(def, st, v, ts)) {
            disown(&st->v, m);
            st->v = own(v, m);
        }
        st->count++;
        return;
    case VG_AGG_FIRST:
    case VG_AGG_LAST:
        if (takes_over(def, st, v, ts)) {
            disown(&st->v, m);
            st->v = own(v, m);
            st->v_ts = ts;
        }
        st->count++;
        return;
    case VG_AGG_DISTINCT:
        distinct_take(st, vg_agg_hash(v));
        return;
    case VG_AGG_COLLECT:
        if ((long)st->n_items < def->n && v->type != VG_T_LIST)
            items_push(st, own(v, m), m);
        return;
    default:
        return;
    }
}

void vg_agg_merge_in(const struct vg_agg_def *def, struct vg_agg_state *into,
                     struct vg_agg_mem *into_m, struct vg_agg_state *from,
                     const struct vg_agg_mem *from_m)
{
    vg_agg_fold_in(def, into, into_m, from);
    vg_agg_free_in(def, from, from_m);
}

void vg_agg_fold_in(const struct vg_agg_def *def, struct vg_agg_state *into,
                    struct vg_agg_mem *into_m, const struct vg_agg_state *from)
{
    switch (def->fn) {
    case VG_AGG_COUNT:
        into->count += from->count;
        break;
    case VG_AGG_SUM:
    case VG_AGG_AVG:
        if (from->count) {
            struct vg_value v = from->is_float ? vg_value_float(from->fsum)
                                               : vg_value_int(from->isum);
            add_number(into, &v);
            into->count += from->count - 1;
        }
        break;
    case VG_AGG_MIN:
    case VG_AGG_MAX:
    case VG_AGG_FIRST:
    case VG_AGG_LAST:
        if (from->count) {
            vg_time_ms ts = from->v_ts;
            int64_t c = into->count;
            vg_agg_update_in(def, into, &from->v, ts, into_m);
            into->count = c + from->count;
        }
        break;
    case VG_AGG_DISTINCT: {
        const struct vg_distinct *fd = spilled(from);
        if (!fd) {
            for (int64_t i = 0; i < from->count; i++)
                distinct_take(into, from->dh[i]);
        } else if (fd->hll) {
            struct vg_distinct *d = spill(into);
            if (!d->hll) {
                /* make into a HyperLogLog too, then take the register maxima */
                uint8_t *reg = vg_xcalloc(1u << VG_HLL_P, 1);
                for (size_t i = 0; i < d->cap; i++)
                    if (d->set[i])
                        hll_add(reg, d->set[i]);
                set_release(d);
                d->hll = reg;
            }
            for (size_t i = 0; i < (1u << VG_HLL_P); i++)
                if (fd->hll[i] > d->hll[i])
                    d->hll[i] = fd->hll[i];
        } else {
            for (size_t i = 0; i < fd->cap; i++)
                if (fd->set[i])
                    distinct_take(into, fd->set[i]);
        }
        break;
    }
    case VG_AGG_COLLECT:
        for (size_t i = 0; i < from->n_items && (long)into->n_items < def->n; i++)
            items_push(into, own(&from->items[i], into_m), into_m);
        break;
    }
}

static struct vg_value copy_to(struct vg_arena *arena, const struct vg_value *v)
{
    struct vg_value c = *v;
    if (v->type == VG_T_STR)
        c.u.s = vg_arena_strndup(arena, v->u.s, v->len);
    return c;
}

void vg_agg_result(const struct vg_agg_def *def, const struct vg_agg_state *st,
                   struct vg_arena *arena, struct vg_value *out)
{
    *out = VG_NULL_VALUE;
    switch (def->fn) {
    case VG_AGG_COUNT:
        *out = vg_value_int(st->count);
        return;
    case VG_AGG_SUM:
        if (st->count)
            *out = st->is_float ? vg_value_float(st->fsum) : vg_value_int(st->isum);
        return;
    case VG_AGG_AVG:
        if (st->count)
            *out = vg_value_float((st->is_float ? st->fsum : (double)st->isum) / (double)st->count);
        return;
    case VG_AGG_MIN:
    case VG_AGG_MAX:
    case VG_AGG_FIRST:
    case VG_AGG_LAST:
        if (st->count)
            *out = copy_to(arena, &st->v);
        return;
    case VG_AGG_DISTINCT:
        *out = vg_value_int(distinct_n(st));
        return;
    case VG_AGG_COLLECT: {
        struct vg_value *items =
            vg_arena_alloc(arena, (st->n_items ? st->n_items : 1) * sizeof(*items));
        for (size_t i = 0; i < st->n_items; i++)
            items[i] = copy_to(arena, &st->items[i]);
        out->type = VG_T_LIST;
        out->len = (uint32_t)st->n_items;
        out->u.list = items;
        return;
    }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The size of the union of exact sets holding `total` hashes in all: gathered, sorted,
 * counted once each. */
static int64_t distinct_union(const struct vg_agg_state *const *parts, size_t n, uint64_t *buf)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vg_distinct *d = spilled(parts[i]);
        if (!d)
            for (int64_t j = 0; j < parts[i]->count; j++)
                buf[m++] = parts[i]->dh[j];
        for (size_t j = 0; d && j < d->cap; j++)
            if (d->set[j])
                buf[m++] = d->set[j];
    }
    if (m > 32) {
        qsort(buf, m, sizeof(*buf), cmp_u64);
    } else {
        for (size_t i = 1; i < m; i++) {
            uint64_t v = buf[i];
            size_t j = i;
            for (; j > 0 && buf[j - 1] > v; j--)
                buf[j] = buf[j - 1];
            buf[j] = v;
        }
    }
    int64_t u = 0;
    for (size_t i = 0; i < m; i++)
        u += i == 0 || buf[i] != buf[i - 1];
    return u;
}

void vg_agg_result_fold(const struct vg_agg_def *def, const struct vg_agg_state *const *parts,
                        size_t n, struct vg_arena *arena, struct vg_value *out)
{
    if (n == 1) {
        vg_agg_result(def, parts[0], arena, out);
        return;
    }
    struct vg_agg_state acc;
    memset(&acc, 0, sizeof(acc));
    switch (def->fn) {
    case VG_AGG_COUNT:
    case VG_AGG_SUM:
    case VG_AGG_AVG: /* numbers only: nothing to allocate */
        for (size_t i = 0; i < n; i++)
            vg_agg_fold(def, &acc, parts[i]);
        vg_agg_result(def, &acc, arena, out);
        return;
    case VG_AGG_MIN:
    case VG_AGG_MAX:
    case VG_AGG_FIRST:
    case VG_AGG_LAST: { /* the part whose value the fold would keep (same tie rules) */
        const struct vg_agg_state *best = NULL;
        for (size_t i = 0; i < n; i++) {
            const struct vg_agg_state *p = parts[i];
            if (!p->count)
                continue;
            if (!best || takes_over(def, best, &p->v, p->v_ts))
                best = p;
        }
        *out = best ? copy_to(arena, &best->v) : VG_NULL_VALUE;
        return;
    }
    case VG_AGG_DISTINCT: {
        size_t total = 0;
        bool hll = false;
        for (size_t i = 0; i < n; i++) {
            const struct vg_distinct *d = spilled(parts[i]);
            hll |= d && d->hll;
            total += d ? d->n : (size_t)parts[i]->count;
        }
        if (!hll && total <= 512) { /* the union stays far below VG_DISTINCT_EXACT */
            uint64_t buf[512];
            *out = vg_value_int(distinct_union(parts, n, buf));
            return;
        }
        break;
    }
    case VG_AGG_COLLECT: {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            m += parts[i]->n_items;
        if ((long)m > def->n)
            m = (size_t)def->n;
        struct vg_value *items = vg_arena_alloc(arena, (m ? m : 1) * sizeof(*items));
        size_t k = 0;
        for (size_t i = 0; i < n && k < m; i++)
            for (size_t j = 0; j < parts[i]->n_items && k < m; j++)
                items[k++] = copy_to(arena, &parts[i]->items[j]);
        out->type = VG_T_LIST;
        out->len = (uint32_t)m;
        out->u.list = items;
        return;
    }
    }
    for (size_t i = 0; i < n; i++)
        vg_agg_fold(def, &acc, parts[i]);
    vg_agg_result(def, &acc, arena, out);
    vg_agg_free(def, &acc);
}

_Static_assert(sizeof(struct vg_agg_state) == 32, "an aggregate state is 32 bytes");

void vg_agg_free_in(const struct vg_agg_def *def, struct vg_agg_state *st,
                    const struct vg_agg_mem *m)
{
    switch (def->fn) {
    case VG_AGG_MIN:
    case VG_AGG_MAX:
    case VG_AGG_FIRST:
    case VG_AGG_LAST:
        disown(&st->v, m);
        break;
    case VG_AGG_DISTINCT:
        distinct_free(spilled(st));
        break;
    case VG_AGG_COLLECT:
        for (size_t i = 0; i < st->n_items; i++)
            disown(&st->items[i], m);
        if (!vg_agg_mem_holds(m, st->items))
            vg_free(st->items);
        break;
    default:
        break;
    }
    memset(st, 0, sizeof(*st));
}

/* ---- state serialisation: little-endian fixed-width fields ---- */

/* Only what the function uses: a count() is one byte or two. */
void vg_agg_save(const struct vg_agg_def *def, const struct vg_agg_state *st, struct vg_buf *out)
{
    vg_put_varint(out, def->fn == VG_AGG_DISTINCT ? 0 : st->count); /* distinct: below */
    switch (def->fn) {
    case VG_AGG_COUNT:
        return;
    case VG_AGG_SUM:
    case VG_AGG_AVG:
        vg_buf_putc(out, st->is_float ? 1 : 0);
        if (st->is_float) {
            uint64_t bits;
            memcpy(&bits, &st->fsum, 8);
            vg_put_u64(out, bits);
        } else {
            vg_put_varint(out, st->isum);
        }
        return;
    case VG_AGG_MIN:
    case VG_AGG_MAX:
    case VG_AGG_FIRST:
    case VG_AGG_LAST:
        if (st->count) {
            vg_value_save(&st->v, out);
            vg_put_varint(out, st->v_ts);
        }
        return;
    case VG_AGG_DISTINCT: {
        const struct vg_distinct *d = spilled(st);
        if (!d && !st->count) {
            vg_buf_putc(out, 0);
        } else if (d && d->hll) {
            vg_buf_putc(out, 2);
            vg_buf_append(out, (const char *)d->hll, 1u << VG_HLL_P);
        } else {
            vg_buf_putc(out, 1);
            vg_put_varint(out, d ? (int64_t)d->n : st->count);
            if (!d)
                for (int64_t i = 0; i < st->count; i++)
                    vg_put_u64(out, st->dh[i]);
            for (size_t i = 0; d && i < d->cap; i++)
                if (d->set[i])
                    vg_put_u64(out, d->set[i]);
        }
        return;
    }
    case VG_AGG_COLLECT:
        vg_put_varint(out, (int64_t)st->n_items);
        for (size_t i = 0; i < st->n_items; i++)
            vg_value_save(&st->items[i], out);
        return;
    }
}

int vg_agg_load(const struct vg_agg_def *def, struct vg_agg_state *st, const char **p,
                const char *end)
{
    memset(st, 0, sizeof(*st));
    int64_t x;
    uint64_t u;
    if (vg_get_varint(p, end, &st->count) || st->count < 0)
        goto bad;
    switch (def->fn) {
    case VG_AGG_COUNT:
        return 0;
    case VG_AGG_SUM:
    case VG_AGG_AVG:
        if (*p >= end)
            goto bad;
        st->is_float = *(*p)++ != 0;
        if (st->is_float) {
            if (vg_get_u64(p, end, &u))
                goto bad;
            memcpy(&st->fsum, &u, 8);
        } else if (vg_get_varint(p, end, &st->isum)) {
            goto bad;
        }
        return 0;
    case VG_AGG_MIN:
    case VG_AGG_MAX:
    case VG_AGG_FIRST:
    case VG_AGG_LAST:
        if (st->count && (vg_value_load(&st->v, p, end, NULL) || vg_get_varint(p, end, &st->v_ts)))
            goto bad;
        return 0;
    case VG_AGG_DISTINCT: {
        st->count = 0; /* its own: how many hashes are inline */
        if (*p >= end)
            goto bad;
        char kind = *(*p)++;
        if (kind == 2) {
            if ((size_t)(end - *p) < (1u << VG_HLL_P))
                goto bad;
            struct vg_distinct *d = spill(st);
            d->hll = vg_xmalloc(1u << VG_HLL_P);
            memcpy(d->hll, *p, 1u << VG_HLL_P);
            *p += 1u << VG_HLL_P;
        } else if (kind == 1) {
            if (vg_get_varint(p, end, &x) || x < 0 || x > VG_DISTINCT_EXACT + 1)
                goto bad;
            for (int64_t i = 0; i < x; i++) {
                if (vg_get_u64(p, end, &u))
                    goto bad;
                distinct_take(st, u);
            }
        } else if (kind != 0) {
            goto bad;
        }
        return 0;
    }
    case VG_AGG_COLLECT:
        if (vg_get_varint(p, end, &x) || x < 0 || x > 1000)
            goto bad;
        for (int64_t i = 0; i < x; i++) {
            st->items = vg_xrealloc(st->items, (st->n_items + 1) * sizeof(*st->items));
            if (vg_value_load(&st->items[st->n_items], p, end, NULL))
                goto bad;
            st->n_items++;
        }
        return 0;
    }
bad:
    vg_agg_free(def, st);
    return -1;
}
