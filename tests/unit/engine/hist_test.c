/* SPDX-License-Identifier: Apache-2.0 */
/* hist_test.c - tests for engine/hist.c: quantiles within the bucket resolution, merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "hist.h"

static void test_hist_quantile_empty_is_zero(void **state)
{
    (void)state;
    struct vg_hist h;
    vg_hist_init(&h);
    assert_int_equal(vg_hist_quantile(&h, 0.5), 0);
    assert_int_equal(vg_hist_quantile(&h, 1.0), 0);
}

static void test_hist_quantile_small_values_exact(void **state)
{
    (void)state;
    struct vg_hist h;
    vg_hist_init(&h);
    for (uint64_t v = 1; v <= 20; v++)
        vg_hist_record(&h, v);
    assert_int_equal(h.count, 20);
    assert_int_equal(vg_hist_quantile(&h, 0.5), 11); /* rank 10 of 0..19 */
    assert_int_equal(vg_hist_quantile(&h, 0.0), 1);
    assert_int_equal(vg_hist_quantile(&h, 1.0), 20);
}

static void test_hist_quantile_large_values_within_resolution(void **state)
{
    (void)state;
    struct vg_hist h;
    vg_hist_init(&h);
    for (uint64_t v = 1; v <= 100000; v++)
        vg_hist_record(&h, v * 10);
    uint64_t p50 = vg_hist_quantile(&h, 0.5), p99 = vg_hist_quantile(&h, 0.99);
    assert_in_range(p50, 500000 * 15 / 16, 500000 * 17 / 16);
    assert_in_range(p99, 990000 * 15 / 16, 990000 * 17 / 16);
    assert_int_equal(vg_hist_quantile(&h, 1.0), 1000000);
}

static void test_hist_merge_adds_counts_and_keeps_max(void **state)
{
    (void)state;
    struct vg_hist a, b;
    vg_hist_init(&a);
    vg_hist_init(&b);
    vg_hist_record(&a, 5);
    vg_hist_record(&b, 7);
    vg_hist_record(&b, 900);
    vg_hist_merge(&a, &b);
    assert_int_equal(a.count, 3);
    assert_int_equal(a.max, 900);
    assert_int_equal(a.sum, 912);
}

static void test_hist_record_huge_value_clamps_to_last_bucket(void **state)
{
    (void)state;
    struct vg_hist h;
    vg_hist_init(&h);
    vg_hist_record(&h, UINT64_MAX / 2);
    assert_int_equal(h.b[VG_HIST_BUCKETS - 1], 1);
    assert_int_equal(vg_hist_quantile(&h, 1.0), UINT64_MAX / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_quantile_empty_is_zero),
        cmocka_unit_test(test_hist_quantile_small_values_exact),
        cmocka_unit_test(test_hist_quantile_large_values_within_resolution),
        cmocka_unit_test(test_hist_merge_adds_counts_and_keeps_max),
        cmocka_unit_test(test_hist_record_huge_value_clamps_to_last_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
