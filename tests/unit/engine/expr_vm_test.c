/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr_vm_test.c - tests for engine/expr_vm.c: every operator and function on a fixed event,
 * null rules, short-circuit, regex match limit, CIDR v4/v6, arithmetic edge cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "expr_support.h"

/* Each case: expression -> the result written as JSON-ish text. */
static const struct {
    const char *src;
    const char *want;
} cases[] = {
    {"n == 42", "true"},
    {"n == 42.0", "true"},
    {"f > 2", "true"},
    {"n + 1", "43"},
    {"n / 5", "8"},
    {"n % 5", "2"},
    {"n / 0", "null"},
    {"n % 0", "null"},
    {"f / 0", "null"},
    {"n * f", "105"},
    {"-n", "-42"},
    {"1 + 2 * 3", "7"},
    {"(1 + 2) * 3", "9"},
    {"5m", "300000"},
    {"1h30m", "5400000"},
    {"user == \"Alice\"", "true"},
    {"user != \"Alice\"", "false"},
    {"user < \"Bob\"", "true"},
    {"user + \"@\" + geo.country", "\"Alice@FR\""},
    {"lower(user)", "\"alice\""},
    {"upper(user)", "\"ALICE\""},
    {"len(user)", "5"},
    {"len(tags)", "3"},
    {"contains(user, \"lic\")", "true"},
    {"contains(tags, \"ops\")", "true"},
    {"contains(tags, \"dev\")", "false"},
    {"startswith(user, \"Al\")", "true"},
    {"endswith(user, \"ce\")", "true"},
    {"endswith(user, \"\")", "true"},
    {"\"ops\" in tags", "true"},
    {"7 in tags", "true"},
    {"user in [\"Bob\", \"Alice\"]", "true"},
    {"n in [1, 2, 42.0]", "true"},
    {"geo.country in [\"KP\", \"IR\"]", "false"},
    {"exists(user)", "true"},
    {"exists(missing)", "false"},
    {"coalesce(missing, user)", "\"Alice\""},
    {"coalesce(missing)", "null"},
    {"matches(cmd, \"(?i)\\\\s-(e|enc)\\\\s\")", "true"},
    {"matches(user, \"^b\")", "false"},
    {"cidr_match(ip, \"10.0.0.0/8\")", "true"},
    {"cidr_match(ip, \"10.1.2.4/32\")", "false"},
    {"cidr_match(ip, \"0.0.0.0/0\")", "true"},
    {"cidr_match(ip6, \"2001:db8::/32\")", "true"},
    {"cidr_match(ip6, \"10.0.0.0/8\")", "false"},
    {"cidr_match(ip, \"::/0\")", "false"},
    {"cidr_match(user, \"10.0.0.0/8\")", "false"},
    /* nulls */
    {"missing == \"x\"", "false"},
    {"missing != \"x\"", "true"},
    {"missing == null", "true"},
    {"missing != null", "false"},
    {"user == null", "false"},
    {"missing > 1", "false"},
    {"missing + 1", "null"},
    {"lower(missing)", "null"},
    {"!missing", "null"},
    {"missing && true", "null"},
    {"missing && false", "false"},
    {"missing || true", "true"},
    {"missing in [\"a\"]", "false"},
    {"contains(missing, \"a\")", "null"},
    {"!(user == \"Alice\")", "false"},
    {"ok && n > 40", "true"},
    {"ok || missing", "true"},
    /* mixed types never fail */
    {"user > 3", "false"},
    {"user == 3", "false"},
    {"tags[0] == \"x\"", "null-resolve"},
};

static void value_text(const struct vg_value *v, char *buf, size_t size)
{
    switch (v->type) {
    case VG_T_NULL: snprintf(buf, size, "null"); break;
    case VG_T_BOOL: snprintf(buf, size, "%s", v->u.b ? "true" : "false"); break;
    case VG_T_INT: snprintf(buf, size, "%lld", (long long)v->u.i); break;
    case VG_T_FLOAT: snprintf(buf, size, "%g", v->u.f); break;
    case VG_T_STR: snprintf(buf, size, "\"%.*s\"", (int)v->len, v->u.s); break;
    default: snprintf(buf, size, "list"); break;
    }
}

static void test_expr_vm_cases(void **state)
{
    (void)state;
    test_event();
    struct vg_expr_ctx *ctx = vg_expr_ctx_new();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(cases[i].want, "null-resolve") == 0)
            continue; /* tags[0] is not in the test resolver's table */
        struct vg_diag d;
        vg_diag_init(&d);
        struct vg_expr *e = test_compile(cases[i].src, VG_EXPR_ANY, &d);
        if (!e) {
            char buf[512];
            vg_diag_format(&d, 0, buf, sizeof(buf));
            fail_msg("%s: %s", cases[i].src, buf);
        }
        struct vg_value v;
        vg_expr_eval(e, test_slots, ctx, &v);
        char got[256];
        value_text(&v, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got %s, want %s", cases[i].src, got, cases[i].want);
        vg_expr_ctx_reset(ctx);
        vg_expr_free(e);
        vg_diag_fini(&d);
    }
    vg_expr_ctx_free(ctx);
}

static void test_expr_vm_test_is_true_only_for_true(void **state)
{
    (void)state;
    test_event();
    struct vg_expr_ctx *ctx = vg_expr_ctx_new();
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_expr *e = test_compile("missing && true", VG_EXPR_BOOL, &d);
    assert_non_null(e);
    assert_false(vg_expr_test(e, test_slots, ctx));
    vg_expr_free(e);
    e = test_compile("ok", VG_EXPR_BOOL, &d);
    assert_true(vg_expr_test(e, test_slots, ctx));
    vg_expr_free(e);
    vg_diag_fini(&d);
    vg_expr_ctx_free(ctx);
}

static void test_expr_vm_catastrophic_regex_does_not_match(void **state)
{
    (void)state;
    struct vg_value slots[10] = {0};
    static const char subject[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";
    slots[8] = vg_value_str(subject, sizeof(subject) - 1);
    struct vg_expr_ctx *ctx = vg_expr_ctx_new();
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_expr *e = test_compile("matches(cmd, \"^(a+)+$\")", VG_EXPR_BOOL, &d);
    assert_non_null(e);
    int64_t t0 = vg_mono_ns();
    assert_false(vg_expr_test(e, slots, ctx));
    /* the match limit stops it: far below the seconds an unbounded backtrack would take */
    assert_true(vg_mono_ns() - t0 < 2000000000LL);
    vg_expr_free(e);
    vg_diag_fini(&d);
    vg_expr_ctx_free(ctx);
}

static void test_expr_vm_integer_edges_do_not_trap(void **state)
{
    (void)state;
    struct vg_value slots[10] = {0};
    slots[1] = vg_value_int(INT64_MIN);
    struct vg_expr_ctx *ctx = vg_expr_ctx_new();
    struct vg_diag d;
    vg_diag_init(&d);
    const char *srcs[] = {"n / -1", "n % -1", "-n", "n - 1", "n * 2"};
    for (size_t i = 0; i < 5; i++) {
        struct vg_expr *e = test_compile(srcs[i], VG_EXPR_ANY, &d);
        assert_non_null(e);
        struct vg_value v;
        vg_expr_eval(e, slots, ctx, &v);
        assert_int_equal(v.type, VG_T_INT);
        vg_expr_free(e);
    }
    vg_diag_fini(&d);
    vg_expr_ctx_free(ctx);
}

static void test_expr_vm_invalid_utf8_subject(void **state)
{
    (void)state;
    struct vg_value slots[10] = {0};
    slots[8] = vg_value_str("ab\xff\xfe-enc x", 11);
    struct vg_expr_ctx *ctx = vg_expr_ctx_new();
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_expr *e = test_compile("matches(cmd, \"-enc\")", VG_EXPR_BOOL, &d);
    assert_non_null(e);
    assert_true(vg_expr_test(e, slots, ctx));
    vg_expr_free(e);
    vg_diag_fini(&d);
    vg_expr_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expr_vm_cases),
        cmocka_unit_test(test_expr_vm_test_is_true_only_for_true),
        cmocka_unit_test(test_expr_vm_catastrophic_regex_does_not_match),
        cmocka_unit_test(test_expr_vm_integer_edges_do_not_trap),
        cmocka_unit_test(test_expr_vm_invalid_utf8_subject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
