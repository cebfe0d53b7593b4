/* SPDX-License-Identifier: Apache-2.0 */
/* topo_load_test.c - tests for engine/topo_load.c: positions, quoting, interpolation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "topo.h"

static void test_topo_load_marks_and_quotes(void **state)
{
    (void)state;
    static const char text[] = "a: plain\n"
                               "b:   \"dq ${VG_LOAD_X:-d}\"\n"
                               "c: 'sq $${no}'\n"
                               "d: |\n"
                               "  line1\n"
                               "  line2\n"
                               "e: [1, {f: g}]\n";
    setenv("VG_LOAD_X", "x!", 1);
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_ynode *y = vg_yaml_load_string("m.yaml", text, strlen(text), &d);
    assert_non_null(y);
    assert_int_equal(y->type, VG_Y_MAP);
    assert_int_equal(y->n, 5);
    const struct vg_ynode *b = vg_ynode_get(y, "b");
    assert_string_equal(b->str, "dq x!");
    assert_true(b->interpolated);
    assert_int_equal(b->quote, '"');
    assert_int_equal(b->mark.line, 2);
    assert_int_equal(b->mark.col, 6);
    const struct vg_ynode *c = vg_ynode_get(y, "c");
    assert_string_equal(c->str, "sq ${no}");
    assert_int_equal(c->quote, '\'');
    assert_string_equal(vg_ynode_get(y, "d")->str, "line1\nline2\n");
    assert_int_equal(vg_ynode_get(y, "d")->quote, '|');
    const struct vg_ynode *e = vg_ynode_get(y, "e");
    assert_int_equal(e->type, VG_Y_SEQ);
    assert_int_equal(e->n, 2);
    assert_string_equal(vg_ynode_get(e->items[1], "f")->str, "g");
    assert_int_equal(e->items[1]->mark.col, 8);
    assert_null(vg_ynode_get(y, "zz"));
    assert_null(vg_ynode_get(e, "f"));
    vg_ynode_free(y);
    unsetenv("VG_LOAD_X");
    y = vg_yaml_load_string("m.yaml", text, strlen(text), &d);
    assert_string_equal(vg_ynode_get(y, "b")->str, "dq d");
    vg_ynode_free(y);
    assert_int_equal(vg_diag_count(&d), 0);
    vg_diag_fini(&d);
}

static void test_topo_load_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"", "m.yaml:1:1: error: empty YAML document"},
        {"a: ${1BAD}\n", "m.yaml:1:4: error: bad variable name in '${1BAD}'"},
        {"a: ${OPEN\n", "m.yaml:1:4: error: unterminated ${ in '${OPEN'"},
        {"a: b: c\n", "m.yaml:1:5: error: YAML: mapping values are not allowed in this context"},
        {"? [a]\n: b\n", "m.yaml:1:3: error: YAML: keys must be plain strings"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vg_diag d;
        vg_diag_init(&d);
        struct vg_ynode *y =
            vg_yaml_load_string("m.yaml", cases[i].text, strlen(cases[i].text), &d);
        assert_null(y);
        char buf[512];
        vg_diag_format(&d, 0, buf, sizeof(buf));
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%s\n got  %s\n want %s", cases[i].text, buf, cases[i].want);
        vg_diag_fini(&d);
    }
}

static void test_topo_load_missing_file(void **state)
{
    (void)state;
    struct vg_diag d;
    vg_diag_init(&d);
    assert_null(vg_topo_load("/nonexistent/t.yaml", &d));
    char buf[512];
    vg_diag_format(&d, 0, buf, sizeof(buf));
    assert_string_equal(buf, "/nonexistent/t.yaml:0:0: error: cannot read topology: No such file "
                             "or directory");
    vg_diag_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topo_load_marks_and_quotes),
        cmocka_unit_test(test_topo_load_errors),
        cmocka_unit_test(test_topo_load_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
