/* SPDX-License-Identifier: Apache-2.0 */
/* filter_test.c - tests for operators/filter.c: exact events through, null safety, unions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vg_pipe.h"

static const char *const topo_filter =
    "name: t\n"
    "nodes:\n"
    "  in:\n"
    "    source: kafka\n"
    "    topic: events\n"
    "  failures:\n"
    "    filter: outcome == \"failure\" && user != \"\"\n"
    "    input: in\n"
    "  out:\n"
    "    sink: stdout\n"
    "    input: failures\n";

static void test_filter_passes_exactly_the_matching_events_in_order(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo_filter, 1);
    vg_pipe_feed(p, "in",
                 "{\"user\":\"a\",\"outcome\":\"failure\"}\n"
                 "{\"user\":\"b\",\"outcome\":\"success\"}\n"
                 "{\"user\":\"\",\"outcome\":\"failure\"}\n"
                 "{\"outcome\":\"failure\"}\n"
                 "{\"user\":\"c\",\"outcome\":\"failure\",\"n\":1}\n",
                 1000);
    char *out = vg_pipe_out_text(p);
    /* user missing: `user != ""` is true against a non-null literal, so it passes */
    assert_string_equal(out, "{\"user\":\"a\",\"outcome\":\"failure\"}\n"
                             "{\"outcome\":\"failure\"}\n"
                             "{\"user\":\"c\",\"outcome\":\"failure\",\"n\":1}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_filter_missing_field_compares_false(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: events}\n"
                                    "  big: {filter: bytes > 100, input: in}\n"
                                    "  out: {sink: stdout, input: big}\n",
                                    1);
    vg_pipe_feed(p, "in",
                 "{\"bytes\":101}\n{\"bytes\":\"x\"}\n{}\n{\"bytes\":null}\n{\"bytes\":100.5}\n",
                 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"bytes\":101}\n{\"bytes\":100.5}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_filter_union_keeps_event_order(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: events}\n"
                                    "  a: {filter: 'k == \"a\"', input: in}\n"
                                    "  b: {filter: 'k == \"b\"', input: in}\n"
                                    "  out: {sink: stdout, input: [b, a]}\n",
                                    1);
    vg_pipe_feed(p, "in", "{\"k\":\"a\",\"i\":1}\n{\"k\":\"b\",\"i\":2}\n{\"k\":\"c\",\"i\":3}\n"
                          "{\"k\":\"a\",\"i\":4}\n",
                 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"k\":\"a\",\"i\":1}\n{\"k\":\"b\",\"i\":2}\n{\"k\":\"a\",\"i\":4}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_filter_rejects_a_non_boolean_condition(void **state)
{
    (void)state;
    char *errs = vg_pipe_errors("name: t\n"
                                "nodes:\n"
                                "  in: {source: kafka, topic: events}\n"
                                "  f:\n"
                                "    filter: lower(user)\n"
                                "    input: in\n"
                                "  out: {sink: stdout, input: f}\n");
    assert_non_null(strstr(errs, "t.yaml:5:13: error: expression: "));
    free(errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_passes_exactly_the_matching_events_in_order),
        cmocka_unit_test(test_filter_missing_field_compares_false),
        cmocka_unit_test(test_filter_union_keeps_event_order),
        cmocka_unit_test(test_filter_rejects_a_non_boolean_condition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
