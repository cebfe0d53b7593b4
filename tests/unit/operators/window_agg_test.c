/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window_agg_test.c - tests for operators/window_agg.c: window specs and their errors,
 * assignment (alignment to the epoch, boundaries, sliding overlap, negative times), every
 * aggregate, session merging of aggregate state, distinct's exact range and HyperLogLog error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "window_int.h"

static void test_window_spec_parse(void **state)
{
    (void)state;
    struct vg_win_spec w;
    char err[300];
    assert_int_equal(vg_win_spec_parse("tumbling 5m", &w, err, sizeof(err)), 0);
    assert_int_equal(w.kind, VG_WIN_TUMBLING);
    assert_int_equal(w.size_ms, 300000);
    assert_int_equal(w.slide_ms, 300000);
    assert_int_equal(vg_win_spec_parse("sliding 5m every 30s", &w, err, sizeof(err)), 0);
    assert_int_equal(w.kind, VG_WIN_SLIDING);
    assert_int_equal(w.slide_ms, 30000);
    assert_int_equal(vg_win_spec_parse("session 1h30m", &w, err, sizeof(err)), 0);
    assert_int_equal(w.gap_ms, 5400000);
    assert_int_equal(vg_win_spec_parse("sliding 30s every 5m", &w, err, sizeof(err)), -1);
    assert_string_equal(err, "the slide (5m) must not exceed the size (30s)");
    assert_int_equal(vg_win_spec_parse("hopping 5m", &w, err, sizeof(err)), -1);
    assert_string_equal(err, "expected 'tumbling SIZE', 'sliding SIZE every SLIDE' or 'session "
                             "GAP' with durations like 5m, got 'hopping 5m'");
    assert_int_equal(vg_win_spec_parse("tumbling 5 minutes", &w, err, sizeof(err)), -1);
    assert_int_equal(vg_win_spec_parse("sliding 1d every 1s", &w, err, sizeof(err)), -1);
    assert_string_equal(err, "size / slide is 86400; at most 1000 windows per event");
}

static void test_window_assign(void **state)
{
    (void)state;
    struct vg_win_spec w;
    char err[64];
    vg_time_ms s[16];
    vg_win_spec_parse("tumbling 1m", &w, err, sizeof(err));
    assert_int_equal(vg_win_assign(&w, 0, s, 16), 1);
    assert_int_equal(s[0], 0);
    assert_int_equal(vg_win_assign(&w, 59999, s, 16), 1);
    assert_int_equal(s[0], 0);
    assert_int_equal(vg_win_assign(&w, 60000, s, 16), 1); /* [start, end): 60000 is the next */
    assert_int_equal(s[0], 60000);
    assert_int_equal(vg_win_assign(&w, -1, s, 16), 1);
    assert_int_equal(s[0], -60000);
    vg_win_spec_parse("sliding 5m every 1m", &w, err, sizeof(err));
    assert_int_equal(vg_win_assign(&w, 1767225630000, s, 16), 5);
    assert_int_equal(s[0], 1767225600000); /* aligned to the epoch, latest first */
    assert_int_equal(s[4], 1767225600000 - 4 * 60000);
    assert_int_equal(vg_win_assign(&w, 1767225600000, s, 16), 5);
    assert_int_equal(s[0], 1767225600000);
    vg_win_spec_parse("sliding 90s every 1m", &w, err, sizeof(err));
    assert_int_equal(vg_win_assign(&w, 20000, s, 16), 2); /* [0,90s) and [-60s,30s) */
    assert_int_equal(vg_win_assign(&w, 40000, s, 16), 1); /* only [0,90s) */
}

static struct vg_agg_def def(const char *text)
{
    struct vg_agg_def d = {0};
    char err[300];
    if (vg_agg_parse(text, &d, err, sizeof(err)) != 0)
        fail_msg("%s: %s", text, err);
    return d;
}

static void test_window_agg_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"count(x)", "count takes no argument: count(), got 'count(x)'"},
        {"sum()", "sum takes one field, like sum(bytes), got 'sum()'"},
        {"collect(ip)", "collect takes a field and a count, like collect(src_ip, 5), got 'collect(ip)'"},
        {"collect(ip, 0)", "collect: N must be an integer from 1 to 1000, got '0'"},
        {"median(x)", "expected an aggregate: count(), sum(x), min(x), max(x), avg(x), first(x), "
                      "last(x), distinct(x) or collect(x, N), got 'median(x)'"},
        {"count", "expected an aggregate: count(), sum(x), min(x), max(x), avg(x), first(x), "
                  "last(x), distinct(x) or collect(x, N), got 'count'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vg_agg_def d = {0};
        char err[300];
        assert_int_equal(vg_agg_parse(cases[i].text, &d, err, sizeof(err)), -1);
        if (strcmp(err, cases[i].want))
            fail_msg("%s:\n got  %s\n want %s", cases[i].text, err, cases[i].want);
    }
    struct vg_agg_def d = def(" collect( src_ip , 5 ) ");
    assert_int_equal(d.fn, VG_AGG_COLLECT);
    assert_string_equal(d.arg, "src_ip");
    assert_int_equal(d.n, 5);
    vg_free(d.arg);
}

static void result(struct vg_agg_def *d, struct vg_agg_state *st, struct vg_arena *a,
                   struct vg_value *out)
{
    vg_agg_result(d, st, a, out);
}

static void test_window_agg_values(void **state)
{
    (void)state;
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    const char *texts[] = {"count()", "sum(x)", "min(x)", "max(x)", "avg(x)", "first(x)",
                           "last(x)", "distinct(x)", "collect(x, 2)"};
    struct vg_agg_def d[9];
    struct vg_agg_state st[9];
    memset(st, 0, sizeof(st));
    for (int i = 0; i < 9; i++)
        d[i] = def(texts[i]);
    struct vg_value vals[] = {vg_value_int(5), vg_value_int(3), VG_NULL_VALUE, vg_value_int(5),
                              vg_value_float(1.5)};
    vg_time_ms ts[] = {300, 100, 50, 200, 250};
    for (int e = 0; e < 5; e++)
        for (int i = 0; i < 9; i++)
            vg_agg_update(&d[i], &st[i], &vals[e], ts[e]);
    struct vg_value v;
    result(&d[0], &st[0], &arena, &v);
    assert_int_equal(v.u.i, 5); /* count() counts events, nulls too */
    result(&d[1], &st[1], &arena, &v);
    assert_int_equal(v.type, VG_T_FLOAT);
    assert_true(v.u.f == 14.5);
    result(&d[2], &st[2], &arena, &v);
    assert_true(v.type == VG_T_FLOAT && v.u.f == 1.5);
    result(&d[3], &st[3], &arena, &v);
    assert_true(v.type == VG_T_INT && v.u.i == 5);
    result(&d[4], &st[4], &arena, &v);
    assert_true(v.u.f == 14.5 / 4);
    result(&d[5], &st[5], &arena, &v); /* first by event time: ts 100 -> 3 */
    assert_int_equal(v.u.i, 3);
    result(&d[6], &st[6], &arena, &v); /* last by event time: ts 300 -> 5 */
    assert_int_equal(v.u.i, 5);
    result(&d[7], &st[7], &arena, &v); /* 5, 3, 1.5 */
    assert_int_equal(v.u.i, 3);
    result(&d[8], &st[8], &arena, &v);
    assert_int_equal(v.type, VG_T_LIST);
    assert_int_equal(v.len, 2);
    assert_int_equal(v.u.list[1].u.i, 3);
    for (int i = 0; i < 9; i++) {
        vg_agg_free(&d[i], &st[i]);
        vg_free(d[i].arg);
    }
    vg_arena_fini(&arena);
}

static void test_window_agg_strings_and_merge(void **state)
{
    (void)state;
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    struct vg_agg_def dmin = def("min(u)"), dlast = def("last(u)"), dd = def("distinct(u)");
    struct vg_agg_state a[3] = {0}, b[3] = {0};
    struct vg_value bob = vg_value_str("bob", 3), al = vg_value_str("al", 2),
                    cy = vg_value_str("cy", 2);
    vg_agg_update(&dmin, &a[0], &bob, 10);
    vg_agg_update(&dlast, &a[1], &bob, 10);
    vg_agg_update(&dd, &a[2], &bob, 10);
    vg_agg_update(&dmin, &b[0], &cy, 30);
    vg_agg_update(&dmin, &b[0], &al, 5);
    vg_agg_update(&dlast, &b[1], &cy, 30);
    vg_agg_update(&dd, &b[2], &cy, 30);
    vg_agg_update(&dd, &b[2], &bob, 31);
    vg_agg_merge(&dmin, &a[0], &b[0]);
    vg_agg_merge(&dlast, &a[1], &b[1]);
    vg_agg_merge(&dd, &a[2], &b[2]);
    struct vg_value v;
    result(&dmin, &a[0], &arena, &v);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.u.s, "al", 2);
    result(&dlast, &a[1], &arena, &v);
    assert_memory_equal(v.u.s, "cy", 2);
    result(&dd, &a[2], &arena, &v);
    assert_int_equal(v.u.i, 2);
    vg_agg_free(&dmin, &a[0]);
    vg_agg_free(&dlast, &a[1]);
    vg_agg_free(&dd, &a[2]);
    vg_free(dmin.arg);
    vg_free(dlast.arg);
    vg_free(dd.arg);
    vg_arena_fini(&arena);
}

static void test_window_agg_distinct_exact_then_hll(void **state)
{
    (void)state;
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    struct vg_agg_def d = def("distinct(ip)");
    struct vg_agg_state st = {0}, other = {0};
    char buf[32];
    for (int i = 0; i < VG_DISTINCT_EXACT; i++) {
        snprintf(buf, sizeof(buf), "10.0.%d.%d", i / 256, i % 256);
        struct vg_value v = vg_value_str(buf, strlen(buf));
        vg_agg_update(&d, &st, &v, i);
        vg_agg_update(&d, &st, &v, i); /* repeats do not count */
    }
    struct vg_value out;
    vg_agg_result(&d, &st, &arena, &out);
    assert_int_equal(out.u.i, VG_DISTINCT_EXACT); /* exact up to the bound */
    for (int i = VG_DISTINCT_EXACT; i < 100000; i++) {
        snprintf(buf, sizeof(buf), "10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
        struct vg_value v = vg_value_str(buf, strlen(buf));
        vg_agg_update(&d, i < 60000 ? &st : &other, &v, i);
    }
    vg_agg_merge(&d, &st, &other);
    vg_agg_result(&d, &st, &arena, &out);
    double err = (double)(out.u.i - 100000) / 100000;
    if (err < -0.01 || err > 0.01)
        fail_msg("distinct estimate %lld, error %.4f", (long long)out.u.i, err);
    /* 1 and 1.0 are the same value */
    struct vg_value one = vg_value_int(1), onef = vg_value_float(1.0);
    assert_true(vg_agg_hash(&one) == vg_agg_hash(&onef));
    vg_agg_free(&d, &st);
    vg_free(d.arg);
    vg_arena_fini(&arena);
}

static bool same_value(const struct vg_value *a, const struct vg_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case VG_T_INT: return a->u.i == b->u.i;
    case VG_T_FLOAT: return a->u.f == b->u.f;
    case VG_T_STR: return a->len == b->len && !memcmp(a->u.s, b->u.s, a->len);
    case VG_T_LIST:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!same_value(&a->u.list[i], &b->u.list[i]))
                return false;
        return true;
    default: return true;
    }
}

/* A window's result read straight from its panes is what folding them gives: every function,
 * ties in value and in time, empty panes, strings, a union past the gathered bound */
static void test_window_agg_result_fold_matches_fold(void **state)
{
    (void)state;
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    const char *texts[] = {"count()", "sum(x)", "min(x)", "max(x)", "avg(x)", "first(x)",
                           "last(x)", "distinct(x)", "collect(x, 3)"};
    const char *strs[] = {"b", "a", "c", "a"};
    for (int f = 0; f < 9; f++) {
        struct vg_agg_def d = def(texts[f]);
        for (int shape = 0; shape < 4; shape++) {
            struct vg_agg_state parts[4];
            memset(parts, 0, sizeof(parts));
            int n = shape == 3 ? 2 : 4;
            for (int p = 0; p < n; p++) {
                int events = shape == 3 ? 400 : (p == 2 ? 0 : p + 1); /* part 2 empty */
                for (int e = 0; e < events; e++) {
                    char buf[16];
                    struct vg_value v;
                    if (shape == 0)
                        v = vg_value_int((p * 7 + e * 3) % 5); /* equal values across parts */
                    else if (shape == 1)
                        v = vg_value_str(strs[(p + e) % 4], 1);
                    else if (shape == 2)
                        v = (e % 2) ? vg_value_float(0.5 * e) : vg_value_int(e);
                    else {
                        snprintf(buf, sizeof(buf), "v%d", p * 300 + e); /* 700 distinct */
                        v = vg_value_str(buf, strlen(buf));
                    }
                    vg_agg_update(&d, &parts[p], &v, 100 + (e % 2) * 10); /* equal times */
                }
            }
            struct vg_agg_state acc = {0};
            const struct vg_agg_state *ptr[4];
            for (int p = 0; p < n; p++) {
                vg_agg_fold(&d, &acc, &parts[p]);
                ptr[p] = &parts[p];
            }
            struct vg_value want, got;
            vg_agg_result(&d, &acc, &arena, &want);
            vg_agg_result_fold(&d, ptr, (size_t)n, &arena, &got);
            if (!same_value(&want, &got))
                fail_msg("%s, shape %d: folded and direct results differ", texts[f], shape);
            vg_agg_free(&d, &acc);
            for (int p = 0; p < n; p++)
                vg_agg_free(&d, &parts[p]);
        }
        vg_free(d.arg);
    }
    vg_arena_fini(&arena);
}

/* Every aggregate's state reads back as it was written, and a cut-short state is refused */
static void test_window_agg_save_load(void **state)
{
    (void)state;
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    const char *texts[] = {"count()", "sum(x)", "min(x)", "max(x)", "avg(x)", "first(x)",
                           "last(x)", "distinct(x)", "collect(x, 3)", "sum(y)"};
    struct vg_value vals[] = {vg_value_int(5), vg_value_str("ab", 2), vg_value_float(1.5),
                              vg_value_int(-7)};
    for (int f = 0; f < 10; f++) {
        struct vg_agg_def d = def(texts[f]);
        struct vg_agg_state st = {0}, back;
        for (int e = 0; e < 4; e++) /* sum(y): integers only */
            if (f != 9 || vals[e].type == VG_T_INT)
                vg_agg_update(&d, &st, &vals[e], 1767225600000 + e);
        struct vg_buf b;
        vg_buf_init(&b);
        vg_agg_save(&d, &st, &b);
        const char *p = b.data;
        assert_int_equal(vg_agg_load(&d, &back, &p, b.data + b.len), 0);
        assert_ptr_equal(p, b.data + b.len);
        struct vg_value want, got;
        vg_agg_result(&d, &st, &arena, &want);
        vg_agg_result(&d, &back, &arena, &got);
        if (!same_value(&want, &got) || back.count != st.count)
            fail_msg("%s: read back differs", texts[f]);
        vg_agg_free(&d, &back);
        if (b.len > 1) {
            p = b.data;
            assert_int_equal(vg_agg_load(&d, &back, &p, b.data + b.len - 1), -1);
        }
        vg_buf_fini(&b);
        vg_agg_free(&d, &st);
        vg_free(d.arg);
    }
    vg_arena_fini(&arena);
}

/* distinct keeps its first 3 hashes in the state and spills past them: counts, duplicates,
 * folding inline into spilled and back, and the saved form, on both sides of the bound */
static void test_window_agg_distinct_inline_and_spilled(void **state)
{
    (void)state;
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    struct vg_agg_def d = def("distinct(x)");
    for (int n = 0; n <= 6; n++) {
        struct vg_agg_state st = {0}, other = {0}, back;
        for (int i = 0; i < n; i++) {
            struct vg_value v = vg_value_int(i), dup = vg_value_int(0);
            vg_agg_update(&d, &st, &v, 1);
            vg_agg_update(&d, &st, &dup, 2); /* seen already */
        }
        struct vg_value v;
        vg_agg_result(&d, &st, &arena, &v);
        assert_int_equal(v.u.i, n);
        assert_int_equal(st.count == VG_DISTINCT_SPILLED, n > VG_DISTINCT_INLINE);
        struct vg_buf b;
        vg_buf_init(&b);
        vg_agg_save(&d, &st, &b);
        const char *p = b.data;
        assert_int_equal(vg_agg_load(&d, &back, &p, b.data + b.len), 0);
        vg_agg_result(&d, &back, &arena, &v);
        assert_int_equal(v.u.i, n);
        vg_buf_fini(&b);
        /* {n-2 .. n+1} (negatives as 0) folded in: 0 .. n+1 */
        for (int i = n - 2; i < n + 2; i++) {
            struct vg_value x = vg_value_int(i < 0 ? 0 : i);
            vg_agg_update(&d, &other, &x, 3);
        }
        const struct vg_agg_state *parts[] = {&st, &other};
        vg_agg_fold(&d, &back, &other);
        vg_agg_result(&d, &back, &arena, &v);
        assert_int_equal(v.u.i, n + 2);
        vg_agg_result_fold(&d, parts, 2, &arena, &v);
        assert_int_equal(v.u.i, n + 2);
        vg_agg_free(&d, &st);
        vg_agg_free(&d, &other);
        vg_agg_free(&d, &back);
    }
    vg_free(d.arg);
    vg_arena_fini(&arena);
}

/* Values kept in a window's own area: strings and collect()'s items land there while they
 * fit (one copy shared by last() and collect() of the same value), the rest on the heap; the
 * results are those of the heap-only states; freeing releases only the heap parts (ASan
 * reports a free of the area or a leak of the rest). */
static void test_window_agg_values_in_window_area(void **state)
{
    (void)state;
    struct vg_agg_def last = def("last(ip)"), coll = def("collect(ip, 5)");
    _Alignas(8) char area[40];
    uint16_t used = 0;
    struct vg_agg_mem m = {area, area + sizeof(area), &used, NULL, 0};
    struct vg_agg_state sl = {0}, sc = {0}, hl = {0}, hc = {0};
    struct vg_value a = vg_value_str("10.0.117.55", 11), b = vg_value_str("10.3.1.2", 8);
    /* the first event: one string (12 bytes) shared, a one-item list (16 bytes, aligned) */
    vg_agg_update_in(&last, &sl, &a, 1, &m);
    vg_agg_update_in(&coll, &sc, &a, 1, &m);
    assert_true(vg_agg_mem_holds(&m, sl.v.u.s));
    assert_ptr_equal(sl.v.u.s, sc.items[0].u.s);
    assert_true(vg_agg_mem_holds(&m, sc.items));
    assert_int_equal(used, 32);
    /* the next event: no room left, so the heap (a new operation: no shared copy) */
    m.last_copy = NULL;
    vg_agg_update_in(&last, &sl, &b, 2, &m);
    vg_agg_update_in(&coll, &sc, &b, 2, &m);
    assert_false(vg_agg_mem_holds(&m, sl.v.u.s));
    assert_false(vg_agg_mem_holds(&m, sc.items));
    assert_true(vg_agg_mem_holds(&m, sc.items[0].u.s));
    assert_false(vg_agg_mem_holds(&m, sc.items[1].u.s));
    vg_agg_update(&last, &hl, &a, 1);
    vg_agg_update(&coll, &hc, &a, 1);
    vg_agg_update(&last, &hl, &b, 2);
    vg_agg_update(&coll, &hc, &b, 2);
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    struct vg_value x, y;
    vg_agg_result(&last, &sl, &arena, &x);
    vg_agg_result(&last, &hl, &arena, &y);
    assert_int_equal(x.len, 8);
    assert_memory_equal(x.u.s, y.u.s, 8);
    vg_agg_result(&coll, &sc, &arena, &x);
    vg_agg_result(&coll, &hc, &arena, &y);
    assert_int_equal(x.len, 2);
    assert_int_equal(y.len, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(x.u.list[i].len, y.u.list[i].len);
        assert_memory_equal(x.u.list[i].u.s, y.u.list[i].u.s, y.u.list[i].len);
    }
    /* a session merge: what `from` kept in its area is copied, not pointed to */
    _Alignas(8) char area2[40];
    uint16_t used2 = 0;
    struct vg_agg_mem m2 = {area2, area2 + sizeof(area2), &used2, NULL, 0};
    struct vg_agg_state fl = {0};
    vg_agg_update_in(&last, &fl, &a, 3, &m2);
    assert_true(vg_agg_mem_holds(&m2, fl.v.u.s));
    m.last_copy = NULL;
    vg_agg_merge_in(&last, &sl, &m, &fl, &m2);
    assert_false(vg_agg_mem_holds(&m2, sl.v.u.s));
    assert_int_equal(sl.v.len, 11);
    assert_memory_equal(sl.v.u.s, "10.0.117.55", 11);
    vg_agg_free_in(&last, &sl, &m);
    vg_agg_free_in(&coll, &sc, &m);
    vg_agg_free(&last, &hl);
    vg_agg_free(&coll, &hc);
    vg_arena_fini(&arena);
    vg_free(last.arg);
    vg_free(coll.arg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_spec_parse),
        cmocka_unit_test(test_window_assign),
        cmocka_unit_test(test_window_agg_parse_errors),
        cmocka_unit_test(test_window_agg_values),
        cmocka_unit_test(test_window_agg_strings_and_merge),
        cmocka_unit_test(test_window_agg_distinct_exact_then_hll),
        cmocka_unit_test(test_window_agg_distinct_inline_and_spilled),
        cmocka_unit_test(test_window_agg_result_fold_matches_fold),
        cmocka_unit_test(test_window_agg_save_load),
        cmocka_unit_test(test_window_agg_values_in_window_area),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
