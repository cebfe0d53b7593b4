/* SPDX-License-Identifier: Apache-2.0 */
/*
 * value_test.c - tests for engine/value.c's binary forms (binio.h): varints at the edges of
 * each byte length and of int64, truncated and overlong input; values round-trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "binio.h"

static void test_varint_round_trip_and_sizes(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        size_t bytes;
    } cases[] = {
        {0, 1},         {-1, 1},          {63, 1},         {-64, 1},        {64, 2},
        {-65, 2},       {8191, 2},        {8192, 3},       {1767225600000, 6},
        {INT64_MAX, 10}, {INT64_MIN, 10},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vg_buf b;
        vg_buf_init(&b);
        vg_put_varint(&b, cases[i].v);
        if (b.len != cases[i].bytes)
            fail_msg("%lld: %zu bytes, want %zu", (long long)cases[i].v, b.len, cases[i].bytes);
        const char *p = b.data;
        int64_t got = 0;
        assert_int_equal(vg_get_varint(&p, b.data + b.len, &got), 0);
        assert_true(got == cases[i].v);
        assert_ptr_equal(p, b.data + b.len);
        /* every proper prefix is truncated input */
        for (size_t n = 0; n < b.len; n++) {
            p = b.data;
            assert_int_equal(vg_get_varint(&p, b.data + n, &got), -1);
        }
        vg_buf_fini(&b);
    }
    /* eleven continuation bytes: not a varint */
    const char over[11] = {'\x80', '\x80', '\x80', '\x80', '\x80', '\x80',
                           '\x80', '\x80', '\x80', '\x80', '\x80'};
    const char *p = over;
    int64_t v;
    assert_int_equal(vg_get_varint(&p, over + sizeof(over), &v), -1);
}

static void test_value_round_trip(void **state)
{
    (void)state;
    struct vg_value in[] = {vg_value_int(-5), vg_value_float(2.5), vg_value_str("10.0.0.1", 8),
                            VG_NULL_VALUE};
    struct vg_buf b;
    vg_buf_init(&b);
    for (size_t i = 0; i < 4; i++)
        vg_value_save(&in[i], &b);
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    const char *p = b.data;
    struct vg_value out;
    assert_int_equal(vg_value_load(&out, &p, b.data + b.len, &arena), 0);
    assert_true(out.type == VG_T_INT && out.u.i == -5);
    assert_int_equal(vg_value_load(&out, &p, b.data + b.len, &arena), 0);
    assert_true(out.type == VG_T_FLOAT && out.u.f == 2.5);
    assert_int_equal(vg_value_load(&out, &p, b.data + b.len, &arena), 0);
    assert_true(out.type == VG_T_STR && out.len == 8 && !memcmp(out.u.s, "10.0.0.1", 8));
    assert_int_equal(vg_value_load(&out, &p, b.data + b.len, &arena), 0);
    assert_int_equal(out.type, VG_T_NULL);
    assert_int_equal(vg_value_load(&out, &p, b.data + b.len, &arena), -1); /* nothing left */
    vg_arena_fini(&arena);
    vg_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_round_trip_and_sizes),
        cmocka_unit_test(test_value_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
