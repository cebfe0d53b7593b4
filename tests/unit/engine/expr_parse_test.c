/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr_parse_test.c - tests for engine/expr_parse.c: syntax errors at their column (also on
 * later lines of a multi-line expression), escapes, precedence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "expr_support.h"

static const struct {
    const char *src;
    const char *want_msg;
} errors[] = {
    {"user == \"a\" && ", "t.yaml:3:26: error: expression: unexpected end, expected an operand"},
    {"user = \"a\"",
     "t.yaml:3:16: error: expression: unexpected '=', expected '==' for a comparison"},
    {"user == \"a", "t.yaml:3:19: error: expression: unterminated string"},
    {"(n > 1", "t.yaml:3:17: error: expression: unexpected end, expected ')'"},
    {"n > 1 )", "t.yaml:3:17: error: expression: unexpected ')', expected an operator or the end"},
    {"n & 1", "t.yaml:3:13: error: expression: unexpected '&', expected '&&'"},
    {"1 < n < 3", "t.yaml:3:17: error: expression: comparisons do not chain: use && between them"},
    {"n > 5x", "t.yaml:3:15: error: expression: invalid number or duration '5x' (durations: 500ms, "
               "30s, 5m, 1h, 2d)"},
    {"\"\\q\"", "t.yaml:3:12: error: expression: invalid escape '\\q'"},
    {"\"\\ud800\"", "t.yaml:3:12: error: expression: unpaired surrogate in \\u escape"},
    {"n > 1 &&\n  user ==", "t.yaml:4:10: error: expression: unexpected end, expected an operand"},
    {"n > 1 &&\n  # user", "t.yaml:4:3: error: expression: unexpected character '#'"},
    {"", "t.yaml:3:11: error: expression: empty expression"},
    {"lower(user", "t.yaml:3:21: error: expression: unexpected end, expected ',' or ')'"},
};

static void test_expr_parse_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        test_expect_error(errors[i].src, VG_EXPR_ANY, errors[i].want_msg);
}

static void test_expr_parse_escapes_and_precedence(void **state)
{
    (void)state;
    test_event();
    static const struct {
        const char *src;
        bool want;
    } cases[] = {
        {"\"caf\\u00e9\" == \"caf\xc3\xa9\"", true},
        {"\"\\ud83d\\ude00\" == \"\xf0\x9f\x98\x80\"", true},
        {"'it\\'s' == \"it's\"", true},
        {"\"tab\\there\" == \"tab\there\"", true},
        {"!ok || n == 42", true},      /* ! binds tighter than || */
        {"!n == 42", false},           /* ! is looser than comparisons: !(n == 42) */
        {"ok && n == 1 || n == 42", true},
        {"-n + 50 == 8", true},
        {"n - -2 == 44", true},
        {"2 * 3 % 4 == 2", true},
    };
    struct vg_expr_ctx *ctx = vg_expr_ctx_new();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vg_diag d;
        vg_diag_init(&d);
        struct vg_expr *e = test_compile(cases[i].src, VG_EXPR_BOOL, &d);
        if (!e) {
            char buf[512];
            vg_diag_format(&d, 0, buf, sizeof(buf));
            fail_msg("%s: %s", cases[i].src, buf);
        }
        if (vg_expr_test(e, test_slots, ctx) != cases[i].want)
            fail_msg("%s: want %s", cases[i].src, cases[i].want ? "true" : "false");
        vg_expr_free(e);
        vg_diag_fini(&d);
    }
    vg_expr_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expr_parse_errors),
        cmocka_unit_test(test_expr_parse_escapes_and_precedence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
