/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr_support.h - shared by the expression tests: a resolver over a fixed field table, and
 * an event with those fields set.
 */
#ifndef VG_EXPR_SUPPORT_H
#define VG_EXPR_SUPPORT_H

#include <stdio.h>
#include <string.h>

#include "expr.h"

/* slots: 0 user, 1 n, 2 f, 3 ok, 4 ip, 5 tags, 6 missing, 7 geo.country, 8 cmd, 9 ip6 */
static const char *const test_fields[] = {"user", "n", "f", "ok", "ip", "tags", "missing",
                                          "geo.country", "cmd", "ip6"};

__attribute__((unused)) static int test_resolve(void *ud, const char *path, int *slot, char *hint, size_t size)
{
    (void)ud;
    for (int i = 0; i < 10; i++)
        if (strcmp(path, test_fields[i]) == 0) {
            *slot = i;
            return 0;
        }
    const char *close = vg_diag_closest(path, test_fields, 10);
    if (close)
        snprintf(hint, size, "did you mean '%s'?", close);
    return -1;
}

static struct vg_value test_tags[3];
static struct vg_value test_slots[10];

__attribute__((unused)) static void test_event(void)
{
    test_tags[0] = vg_value_str("admin", 5);
    test_tags[1] = vg_value_str("ops", 3);
    test_tags[2] = vg_value_int(7);
    test_slots[0] = vg_value_str("Alice", 5);
    test_slots[1] = vg_value_int(42);
    test_slots[2] = vg_value_float(2.5);
    test_slots[3] = vg_value_bool(true);
    test_slots[4] = vg_value_str("10.1.2.3", 8);
    test_slots[5] = (struct vg_value){.type = VG_T_LIST, .len = 3, .u.list = test_tags};
    test_slots[6] = VG_NULL_VALUE;
    test_slots[7] = vg_value_str("FR", 2);
    test_slots[8] = vg_value_str("powershell -enc AAAA", 20);
    test_slots[9] = vg_value_str("2001:db8::1", 11);
}

__attribute__((unused)) static struct vg_expr *test_compile(const char *src, enum vg_expr_want want, struct vg_diag *d)
{
    struct vg_expr_opts o = {.resolve = test_resolve, .want = want,
                             .mark = {.file = "t.yaml", .line = 3, .col = 11}};
    return vg_expr_compile(src, strlen(src), &o, d);
}

/* Compile src and require exactly one diagnostic, formatted as want (fails the test). */
__attribute__((unused)) static void test_expect_error(const char *src, enum vg_expr_want want_type,
                                                      const char *want)
{
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_expr *e = test_compile(src, want_type, &d);
    if (e)
        fail_msg("%s: accepted", src);
    assert_int_equal(vg_diag_count(&d), 1);
    char buf[512];
    vg_diag_format(&d, 0, buf, sizeof(buf));
    if (strcmp(buf, want) != 0)
        fail_msg("%s:\n got  %s\n want %s", src, buf, want);
    vg_diag_fini(&d);
}

#endif
