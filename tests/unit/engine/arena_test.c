/* SPDX-License-Identifier: Apache-2.0 */
/* arena_test.c - tests for engine/arena.c: alignment, reuse after reset, oversize chunks,
 * buffer growth, JSON string escaping and decimal integers. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>
#include <string.h>

#include "arena.h"

static void test_arena_alloc_aligned_and_reused_after_reset(void **state)
{
    (void)state;
    struct vg_arena a;
    vg_arena_init(&a, 1024);
    char *p1 = vg_arena_alloc(&a, 3);
    char *p2 = vg_arena_alloc(&a, 5);
    assert_int_equal(((uintptr_t)p1) % 8, 0);
    assert_int_equal(((uintptr_t)p2) % 8, 0);
    assert_ptr_equal(p2, p1 + 8);
    vg_arena_reset(&a);
    char *p3 = vg_arena_alloc(&a, 3);
    assert_ptr_equal(p3, p1); /* the chunk was kept */
    char *big = vg_arena_alloc(&a, 10000); /* larger than a chunk */
    memset(big, 1, 10000);
    assert_string_equal(vg_arena_strndup(&a, "hello world", 5), "hello");
    vg_arena_fini(&a);
}

static void test_buf_json_str_escapes(void **state)
{
    (void)state;
    struct vg_buf b;
    vg_buf_init(&b);
    const char s[] = "a\"b\\c\nd\te\x01\xc3\xa9";
    vg_buf_json_str(&b, s, sizeof(s) - 1);
    assert_string_equal(vg_buf_cstr(&b), "\"a\\\"b\\\\c\\nd\\te\\u0001\xc3\xa9\"");
    vg_buf_clear(&b);
    for (int i = 0; i < 1000; i++)
        vg_buf_printf(&b, "%d,", i);
    assert_int_equal(b.len, 3890);
    vg_buf_fini(&b);
}

/* Integers as "%" PRId64 prints them, appended: both ends of the range, zero, signs. */
static void test_buf_put_i64(void **state)
{
    (void)state;
    struct vg_buf b;
    vg_buf_init(&b);
    const int64_t vals[] = {0, 7, -7, 10, 1795467120000, -1, INT64_MAX, INT64_MIN};
    char want[512] = "", one[32];
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        vg_buf_put_i64(&b, vals[i]);
        vg_buf_putc(&b, ',');
        snprintf(one, sizeof(one), "%" PRId64 ",", vals[i]);
        strcat(want, one);
    }
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    vg_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alloc_aligned_and_reused_after_reset),
        cmocka_unit_test(test_buf_json_str_escapes),
        cmocka_unit_test(test_buf_put_i64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
