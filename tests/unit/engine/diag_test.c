/* SPDX-License-Identifier: Apache-2.0 */
/* diag_test.c - tests for engine/diag.c: format, stable sort by position, closest match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"

static void test_diag_print_sorts_by_position_and_formats_hint(void **state)
{
    (void)state;
    struct vg_diag d;
    vg_diag_init(&d);
    vg_diag_add(&d, (struct vg_mark){"t.yaml", 9, 3}, NULL, "second %d", 2);
    vg_diag_add(&d, (struct vg_mark){"t.yaml", 2, 5}, "did you mean 'input'?", "node 'a': unknown key 'inptu'");
    vg_diag_add(&d, (struct vg_mark){"t.yaml", 9, 3}, NULL, "third");
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    vg_diag_print(&d, fp);
    fclose(fp);
    assert_string_equal(buf, "t.yaml:2:5: error: node 'a': unknown key 'inptu' (did you mean 'input'?)\n"
                             "t.yaml:9:3: error: second 2\n"
                             "t.yaml:9:3: error: third\n");
    assert_int_equal(vg_diag_count(&d), 3);
    free(buf);
    vg_diag_fini(&d);
}

static void test_diag_closest_picks_nearest_within_limit(void **state)
{
    (void)state;
    const char *keys[] = {"input", "topic", "format", "dead_letter"};
    assert_string_equal(vg_diag_closest("inptu", keys, 4), "input");
    assert_string_equal(vg_diag_closest("formt", keys, 4), "format");
    assert_string_equal(vg_diag_closest("deadletter", keys, 4), "dead_letter");
    assert_null(vg_diag_closest("zzzzzz", keys, 4));
    assert_null(vg_diag_closest("x", keys, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diag_print_sorts_by_position_and_formats_hint),
        cmocka_unit_test(test_diag_closest_picks_nearest_within_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
