/* SPDX-License-Identifier: Apache-2.0 */
/* exchange_test.c - tests for engine/exchange.c: repartition records round trip, duplicates
 * from a replaying writer are dropped, the watermark is the minimum over writers once all
 * have spoken, idle writers, state restored after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "exchange.h"

static void test_exchange_data_round_trip(void **state)
{
    (void)state;
    struct vg_value slots[4] = {vg_value_str("alice", 5), vg_value_int(42), VG_NULL_VALUE,
                                vg_value_float(1.5)};
    int vals[] = {0, 1, 3};
    struct vg_buf b;
    vg_buf_init(&b);
    struct vg_x_head h = {vg_x_writer(1, 7), 1234, 60000, 61000};
    vg_x_encode_data(&b, &h, slots, vals, 3);
    struct vg_arena a;
    vg_arena_init(&a, 4096);
    struct vg_value got[4] = {0};
    struct vg_x_head gh;
    assert_int_equal(vg_x_decode_data(b.data, b.len, &gh, got, vals, 3, &a, NULL), 0);
    assert_int_equal(gh.writer, (1u << 20) | 7);
    assert_int_equal(gh.offset, 1234);
    assert_int_equal(gh.ts, 60000);
    assert_int_equal(gh.append_ms, 61000);
    assert_int_equal(got[0].type, VG_T_STR);
    assert_memory_equal(got[0].u.s, "alice", 5);
    assert_int_equal(got[1].u.i, 42);
    assert_int_equal(got[2].type, VG_T_NULL);
    assert_true(got[3].u.f == 1.5);
    /* truncated, or carrying other fields than expected: not a record */
    assert_int_equal(vg_x_decode_data(b.data, b.len - 1, &gh, got, vals, 3, &a, NULL), -1);
    assert_int_equal(vg_x_decode_data(b.data, b.len, &gh, got, vals, 2, &a, NULL), -1);
    /* equal keys, equal record keys */
    struct vg_buf k1, k2;
    vg_buf_init(&k1);
    vg_buf_init(&k2);
    vg_x_key(&k1, slots, vals, 1);
    struct vg_value other[1] = {vg_value_str("alice", 5)};
    vg_x_key(&k2, other, vals, 1);
    assert_int_equal(k1.len, k2.len);
    assert_memory_equal(k1.data, k2.data, k1.len);
    vg_buf_fini(&k1);
    vg_buf_fini(&k2);
    vg_arena_fini(&a);
    vg_buf_fini(&b);
}

static void control_at(struct vg_x_reader *r, int32_t part, const struct vg_x_mark *m, size_t n,
                       int64_t sent_ms)
{
    struct vg_buf b;
    vg_buf_init(&b);
    vg_x_encode_control(&b, m, n, sent_ms);
    assert_int_equal(vg_x_control(r, part, b.data, b.len), 0);
    assert_int_equal(vg_x_control(r, part, b.data, b.len - 1), -1);
    vg_buf_fini(&b);
}

static void control(struct vg_x_reader *r, int32_t part, const struct vg_x_mark *m, size_t n)
{
    control_at(r, part, m, n, 1000);
}

/* Silence is not idleness: a writer whose owner stops speaking (killed, its partition waiting
 * for a new owner) holds the partition at the watermark it said last, even when its last
 * word was "idle", once the other writers have gone on for VG_X_SILENT_MS. */
static void test_exchange_silent_writer_not_idle(void **state)
{
    (void)state;
    struct vg_x_reader r;
    vg_x_reader_init(&r);
    r.n_writers = 2;
    bool idle;
    uint32_t w0 = vg_x_writer(0, 0), w1 = vg_x_writer(0, 1);
    struct vg_x_mark both[] = {{w0, 100000, false}, {w1, 60000, true}};
    control_at(&r, 0, both, 2, 5000);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 100000); /* w1 idle: w0 decides */
    /* w1's owner dies; w0's goes on, each claim of w1 is still fresh enough ... */
    struct vg_x_mark m0 = {w0, 120000, false};
    control_at(&r, 0, &m0, 1, 5000 + VG_X_SILENT_MS);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 120000);
    /* ... until it has been silent for longer: time waits for it at what it said */
    m0.wm = 150000;
    control_at(&r, 0, &m0, 1, 5001 + VG_X_SILENT_MS);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 60000);
    assert_false(idle);
    /* its partition's next owner speaks: not idle yet (it reads what came meanwhile) */
    struct vg_x_mark m1 = {w1, INT64_MIN, false};
    control_at(&r, 0, &m1, 1, 90000);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 60000);
    /* and, caught up for its idle_timeout, idle again */
    m1.idle = true;
    control_at(&r, 0, &m1, 1, 99000);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 150000);
    /* the decision depends on the partition's records only: read again, it is the same */
    struct vg_x_reader r2;
    vg_x_reader_init(&r2);
    r2.n_writers = 2;
    control_at(&r2, 0, both, 2, 5000);
    m0.wm = 150000;
    control_at(&r2, 0, &m0, 1, 5001 + VG_X_SILENT_MS);
    assert_int_equal(vg_x_watermark(&r2, 0, &idle), 60000);
    vg_x_reader_fini(&r2);
    vg_x_reader_fini(&r);
}

static void test_exchange_duplicates_dropped(void **state)
{
    (void)state;
    struct vg_x_reader r;
    vg_x_reader_init(&r);
    uint32_t w0 = vg_x_writer(0, 0), w1 = vg_x_writer(0, 1);
    assert_true(vg_x_accept(&r, 3, w0, 10));
    assert_true(vg_x_accept(&r, 3, w0, 11));
    assert_true(vg_x_accept(&r, 3, w1, 5));  /* another writer: its own offsets */
    assert_false(vg_x_accept(&r, 3, w0, 11)); /* replayed after a crash */
    assert_false(vg_x_accept(&r, 3, w0, 9));
    assert_true(vg_x_accept(&r, 4, w0, 9));  /* another repartition partition */
    assert_true(vg_x_accept(&r, 3, w0, 12));
    vg_x_forget(&r, 3);
    assert_true(vg_x_accept(&r, 3, w0, 1)); /* forgotten: a revoked partition */
    vg_x_reader_fini(&r);
}

static void test_exchange_watermark_over_writers(void **state)
{
    (void)state;
    struct vg_x_reader r;
    vg_x_reader_init(&r);
    r.n_writers = 2;
    bool idle;
    uint32_t w0 = vg_x_writer(0, 0), w1 = vg_x_writer(0, 1);
    struct vg_x_mark m0 = {w0, 100000, false};
    control(&r, 0, &m0, 1);
    /* one of two writers heard: time holds */
    assert_true(vg_x_watermark(&r, 0, &idle) == INT64_MIN);
    struct vg_x_mark m1[] = {{w1, 70000, false}};
    control(&r, 0, m1, 1);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 70000);
    assert_false(idle);
    /* a writer restarted with less history does not move time back */
    struct vg_x_mark back = {w0, 50000, false};
    control(&r, 0, &back, 1);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 70000);
    /* the slow writer goes idle: the others decide */
    struct vg_x_mark quiet = {w1, 70000, true};
    control(&r, 0, &quiet, 1);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 100000);
    assert_false(idle);
    /* all idle: the largest, and the partition is idle */
    struct vg_x_mark both[] = {{w0, 100000, true}, {w1, 70000, true}};
    control(&r, 0, both, 2);
    assert_int_equal(vg_x_watermark(&r, 0, &idle), 100000);
    assert_true(idle);
    /* a writer that has delivered nothing yet holds time back */
    struct vg_x_mark none[] = {{w0, 100000, false}, {w1, INT64_MIN, false}};
    struct vg_x_reader r2;
    vg_x_reader_init(&r2);
    r2.n_writers = 2;
    control(&r2, 5, none, 2);
    assert_true(vg_x_watermark(&r2, 5, &idle) == INT64_MIN);
    assert_true(vg_x_watermark(&r2, 6, &idle) == INT64_MIN); /* unknown partition */
    vg_x_reader_fini(&r2);
    vg_x_reader_fini(&r);
}

static void test_exchange_restore(void **state)
{
    (void)state;
    struct vg_x_reader r;
    vg_x_reader_init(&r);
    r.n_writers = 2;
    uint32_t w0 = vg_x_writer(0, 0), w1 = vg_x_writer(0, 1);
    vg_x_restore(&r, 2, w0, 500, 90000);
    vg_x_restore(&r, 2, w1, 300, 80000);
    bool idle;
    assert_int_equal(vg_x_watermark(&r, 2, &idle), 80000);
    assert_false(vg_x_accept(&r, 2, w0, 500)); /* counted before the restart */
    assert_true(vg_x_accept(&r, 2, w0, 501));
    const struct vg_x_part *p = vg_x_part(&r, 2);
    assert_non_null(p);
    assert_int_equal(p->n, 2);
    assert_null(vg_x_part(&r, 9));
    vg_x_reader_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_data_round_trip),
        cmocka_unit_test(test_exchange_silent_writer_not_idle),
        cmocka_unit_test(test_exchange_duplicates_dropped),
        cmocka_unit_test(test_exchange_watermark_over_writers),
        cmocka_unit_test(test_exchange_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
