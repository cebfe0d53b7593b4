/* SPDX-License-Identifier: Apache-2.0 */
/* wm_test.c - tests for engine/wm.c: per-partition watermarks, the stage minimum, idle
 * partitions, assigned partitions that have not delivered yet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wm.h"

static const int64_t lateness[] = {5000, 0};
static const int64_t idle[] = {30000, 30000};
#define S 1000000000LL /* one second in ns */

static void test_wm_partition_and_stage(void **state)
{
    (void)state;
    struct vg_wm wm;
    vg_wm_init(&wm, lateness, idle);
    assert_true(vg_wm_current(&wm, 0) == INT64_MIN);
    assert_true(vg_wm_partition(&wm, 0, 0) == INT64_MIN);
    vg_wm_observe(&wm, 0, 0, 100000, 1 * S);
    vg_wm_observe(&wm, 0, 0, 90000, 1 * S); /* older: the maximum stays */
    vg_wm_observe(&wm, 0, 1, 50000, 1 * S);
    assert_int_equal(vg_wm_partition(&wm, 0, 0), 95000);
    assert_int_equal(vg_wm_partition(&wm, 0, 1), 45000);
    assert_int_equal(vg_wm_current(&wm, 2 * S), 45000); /* the slower partition holds it */
    vg_wm_observe(&wm, 1, 0, 40000, 1 * S);             /* another source, no lateness */
    assert_int_equal(vg_wm_current(&wm, 2 * S), 40000);
    vg_wm_forget(&wm, 1, 0);
    assert_int_equal(vg_wm_current(&wm, 2 * S), 45000);
    vg_wm_fini(&wm);
}

/* The entry of a partition, for loops over a run of its events: added once, without an
 * event until one is noted; the same watermark as vg_wm_partition gives. */
static void test_wm_get_of_note(void **state)
{
    (void)state;
    struct vg_wm wm;
    vg_wm_init(&wm, lateness, idle);
    struct vg_wm_part *p = vg_wm_get(&wm, 0, 7);
    assert_true(vg_wm_of(&wm, p) == INT64_MIN);
    assert_true(vg_wm_current(&wm, 0) == INT64_MIN); /* added, but no event yet */
    vg_wm_note(p, 20000, 1 * S);
    vg_wm_note(p, 10000, 2 * S); /* older: the maximum stays, the partition was seen */
    assert_int_equal(vg_wm_of(&wm, p), 15000);
    assert_int_equal(vg_wm_partition(&wm, 0, 7), 15000);
    assert_ptr_equal(vg_wm_get(&wm, 0, 7), p); /* found, not added again */
    assert_true(p->seen_ns == 2 * S);
    vg_wm_note(vg_wm_get(&wm, 1, 7), 30000, 2 * S); /* another source: its own entry */
    assert_int_equal(vg_wm_partition(&wm, 1, 7), 30000);
    assert_int_equal(vg_wm_current(&wm, 2 * S), 15000);
    vg_wm_fini(&wm);
}

static void test_wm_idle_and_assigned(void **state)
{
    (void)state;
    struct vg_wm wm;
    vg_wm_init(&wm, lateness, idle);
    vg_wm_assign(&wm, 0, 0, 0);
    vg_wm_assign(&wm, 0, 1, 0);
    vg_wm_observe(&wm, 0, 0, 100000, 1 * S);
    /* partition 1 has delivered nothing: it holds event time back ... */
    assert_true(vg_wm_current(&wm, 2 * S) == INT64_MIN);
    assert_true(vg_wm_partition(&wm, 0, 1) == INT64_MIN);
    /* ... however long nothing comes, while its owner has not reached its end (silence is
     * not idleness: a backlog, a fetch in flight) ... */
    assert_true(vg_wm_current(&wm, 300 * S) == INT64_MIN);
    /* ... and once caught up, until it has been so for idle_timeout */
    vg_wm_caught_up(&wm, 0, 1, 7, 300 * S);
    assert_true(vg_wm_current(&wm, 329 * S) == INT64_MIN);
    assert_int_equal(vg_wm_current(&wm, 331 * S), 95000);
    /* an idle partition that delivers again counts again */
    vg_wm_observe(&wm, 0, 1, 20000, 340 * S);
    assert_int_equal(vg_wm_current(&wm, 341 * S), 15000);
    /* all caught up and idle: the largest, so a quiet topic does not hold results back */
    vg_wm_caught_up(&wm, 0, 0, 7, 400 * S);
    vg_wm_caught_up(&wm, 0, 1, 7, 400 * S);
    assert_int_equal(vg_wm_current(&wm, 500 * S), 95000);
    /* intake paused (a state store outage): nothing is idle until caught up again */
    vg_wm_busy(&wm, 500 * S);
    assert_int_equal(vg_wm_current(&wm, 900 * S), 15000);
    vg_wm_caught_up(&wm, 0, 1, 7, 900 * S);
    assert_int_equal(vg_wm_current(&wm, 931 * S), 95000);
    /* caught up again is not a new start: the idle time counts from the first report */
    vg_wm_caught_up(&wm, 0, 1, 7, 935 * S);
    assert_int_equal(vg_wm_current(&wm, 936 * S), 95000);
    /* records fetched past where it was caught up, not read yet: not idle any more */
    vg_wm_behind(vg_wm_get(&wm, 0, 1), 940 * S);
    assert_int_equal(vg_wm_current(&wm, 941 * S), 15000);
    vg_wm_fini(&wm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wm_partition_and_stage),
        cmocka_unit_test(test_wm_get_of_note),
        cmocka_unit_test(test_wm_idle_and_assigned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
