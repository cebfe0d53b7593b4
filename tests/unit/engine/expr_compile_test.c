/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr_compile_test.c - tests for engine/expr_compile.c: exact diagnostics (column inside the
 * expression), constant folding, the rule-index term, the slots read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "expr_support.h"

/* expression (at t.yaml line 3, column 11) -> the one diagnostic, formatted */
static const struct {
    const char *src;
    enum vg_expr_want want;
    const char *want_msg;
} errors[] = {
    {"lowr(user) == \"x\"", VG_EXPR_BOOL,
     "t.yaml:3:11: error: expression: unknown function 'lowr' (did you mean 'lower'?)"},
    {"usr == \"x\"", VG_EXPR_BOOL,
     "t.yaml:3:11: error: expression: unknown field 'usr' (did you mean 'user'?)"},
    {"n > 1 && frobnicate == 2", VG_EXPR_BOOL,
     "t.yaml:3:20: error: expression: unknown field 'frobnicate'"},
    {"lower(user, n)", VG_EXPR_ANY,
     "t.yaml:3:11: error: expression: 'lower' takes 1 argument, got 2"},
    {"coalesce()", VG_EXPR_ANY,
     "t.yaml:3:11: error: expression: 'coalesce' takes at least 1 argument, got 0"},
    {"matches(cmd, user)", VG_EXPR_BOOL,
     "t.yaml:3:24: error: expression: matches: the pattern must be a string constant"},
    {"matches(cmd, \"(\")", VG_EXPR_BOOL,
     "t.yaml:3:24: error: expression: matches: invalid regular expression: missing closing "
     "parenthesis at offset 1"},
    {"cidr_match(ip, \"10.0.0.0/33\")", VG_EXPR_BOOL,
     "t.yaml:3:26: error: expression: cidr_match: invalid CIDR '10.0.0.0/33'"},
    {"cidr_match(ip, \"10.0.0.300/8\")", VG_EXPR_BOOL,
     "t.yaml:3:26: error: expression: cidr_match: invalid CIDR '10.0.0.300/8'"},
    {"lower(user)", VG_EXPR_BOOL,
     "t.yaml:3:11: error: expression: the condition must be true or false, this is a string"},
    {"n + 1", VG_EXPR_BOOL,
     "t.yaml:3:11: error: expression: the condition must be true or false, this is a number"},
    {"\"a\" - 1", VG_EXPR_ANY, "t.yaml:3:11: error: expression: '-' needs numbers, this is a string"},
    {"user + 1 == \"x\" || \"s\" + 2 == \"y\"", VG_EXPR_BOOL,
     "t.yaml:3:34: error: expression: '+' joins two strings or adds two numbers, not a string "
     "and an integer"},
    {"n in \"abc\" && n in 5", VG_EXPR_BOOL,
     "t.yaml:3:30: error: expression: 'in' needs a list like [\"a\", \"b\"] or a list field, this "
     "is an integer"},
    {"exists(\"user\")", VG_EXPR_BOOL,
     "t.yaml:3:18: error: expression: 'exists' takes a field, like exists(user)"},
    {"user && ok", VG_EXPR_BOOL, NULL}, /* a field may hold a boolean: accepted */
    {"\"x\" && ok", VG_EXPR_BOOL,
     "t.yaml:3:11: error: expression: '&&' needs conditions, this is a string"},
    {"n in [1, user]", VG_EXPR_BOOL,
     "t.yaml:3:20: error: expression: list items must be constants"},
    {"startswith(n, 1)", VG_EXPR_BOOL,
     "t.yaml:3:25: error: expression: 'startswith' needs a string, this is an integer"},
};

static void test_expr_compile_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        struct vg_diag d;
        vg_diag_init(&d);
        struct vg_expr *e = test_compile(errors[i].src, errors[i].want, &d);
        if (!errors[i].want_msg) {
            if (!e)
                fail_msg("%s: rejected", errors[i].src);
            vg_expr_free(e);
            vg_diag_fini(&d);
            continue;
        }
        vg_diag_fini(&d);
        test_expect_error(errors[i].src, errors[i].want, errors[i].want_msg);
    }
}

static void test_expr_compile_folds_constants(void **state)
{
    (void)state;
    const char *consts[] = {"1 + 2 * 3 == 7", "lower(\"ABC\") == \"abc\"", "!(false && n > 1)",
                            "true || missing", "5m == 300000", "\"a\" in [\"a\", \"b\"]",
                            "cidr_match(\"10.0.0.1\", \"10.0.0.0/8\")"};
    for (size_t i = 0; i < sizeof(consts) / sizeof(consts[0]); i++) {
        struct vg_diag d;
        vg_diag_init(&d);
        struct vg_expr *e = test_compile(consts[i], VG_EXPR_BOOL, &d);
        assert_non_null(e);
        if (!vg_expr_is_const(e))
            fail_msg("%s: not folded", consts[i]);
        struct vg_expr_ctx *ctx = vg_expr_ctx_new();
        assert_true(vg_expr_test(e, NULL, ctx));
        vg_expr_ctx_free(ctx);
        vg_expr_free(e);
        vg_diag_fini(&d);
    }
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_expr *e = test_compile("n + 1 > 2", VG_EXPR_BOOL, &d);
    assert_false(vg_expr_is_const(e));
    vg_expr_free(e);
    vg_diag_fini(&d);
}

static void test_expr_compile_index_term(void **state)
{
    (void)state;
    struct vg_diag d;
    vg_diag_init(&d);
    int slot;
    const struct vg_value *lits;
    size_t n;
    struct vg_expr *e = test_compile("n > 1 && geo.country in [\"KP\", \"IR\"] && ok", VG_EXPR_BOOL, &d);
    assert_true(vg_expr_index_term(e, &slot, &lits, &n));
    assert_int_equal(slot, 7);
    assert_int_equal(n, 2);
    assert_memory_equal(lits[1].u.s, "IR", 2);
    vg_expr_free(e);
    e = test_compile("\"root\" == user && ok", VG_EXPR_BOOL, &d);
    assert_true(vg_expr_index_term(e, &slot, &lits, &n));
    assert_int_equal(slot, 0);
    assert_int_equal(n, 1);
    vg_expr_free(e);
    e = test_compile("user == \"root\" || ok", VG_EXPR_BOOL, &d);
    assert_false(vg_expr_index_term(e, &slot, &lits, &n));
    vg_expr_free(e);
    e = test_compile("n in [1, 2]", VG_EXPR_BOOL, &d);
    assert_false(vg_expr_index_term(e, &slot, &lits, &n));
    const int *slots;
    assert_int_equal(vg_expr_slots(e, &slots), 1);
    assert_int_equal(slots[0], 1);
    vg_expr_free(e);
    vg_diag_fini(&d);
}

/* A program that only reads a field names its slot (joins then read the slot directly) */
static void test_expr_compile_field(void **state)
{
    (void)state;
    struct vg_diag d;
    vg_diag_init(&d);
    int slot = -1;
    struct vg_expr *e = test_compile("geo.country", VG_EXPR_ANY, &d);
    assert_true(vg_expr_field(e, &slot));
    assert_int_equal(slot, 7);
    vg_expr_free(e);
    slot = -1;
    e = test_compile("lower(user)", VG_EXPR_ANY, &d);
    assert_false(vg_expr_field(e, &slot));
    assert_int_equal(slot, -1);
    vg_expr_free(e);
    e = test_compile("\"x\"", VG_EXPR_ANY, &d);
    assert_false(vg_expr_field(e, &slot));
    vg_expr_free(e);
    vg_diag_fini(&d);
}

/* Floors on an integer field, from && / || of comparisons with integer constants */
static void test_expr_compile_floor(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        bool has;
        int64_t floor;
    } cases[] = {
        {"n >= 10 && user == \"x\"", true, 10}, {"n > 9", true, 10}, {"10 <= n", true, 10},
        {"9 < n", true, 10}, {"n == 7", true, 7}, {"n >= 10 || n >= 5", true, 5},
        {"n >= 10 && n > 20", true, 21}, {"ok && (n > 2 || n == 1)", true, 1},
        {"n >= 10 || ok", false, 0}, {"n <= 10", false, 0}, {"!(n < 10)", false, 0},
        {"n >= 1.5", false, 0}, {"n + 1 >= 10", false, 0}, {"user == \"x\"", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vg_diag d;
        vg_diag_init(&d);
        struct vg_expr *e = test_compile(cases[i].src, VG_EXPR_BOOL, &d);
        assert_non_null(e);
        int64_t floor = -1;
        bool has = vg_expr_floor(e, 1, &floor);
        if (has != cases[i].has || (has && floor != cases[i].floor))
            fail_msg("%s: floor %d %lld, expected %d %lld", cases[i].src, has, (long long)floor,
                     cases[i].has, (long long)cases[i].floor);
        vg_expr_free(e);
        vg_diag_fini(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expr_compile_errors),
        cmocka_unit_test(test_expr_compile_folds_constants),
        cmocka_unit_test(test_expr_compile_index_term),
        cmocka_unit_test(test_expr_compile_field),
        cmocka_unit_test(test_expr_compile_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
