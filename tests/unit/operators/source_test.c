/* SPDX-License-Identifier: Apache-2.0 */
/*
 * source_test.c - tests for operators/source.c: decoding, dead letters with their exact
 * reasons, event time from numbers and RFC 3339, declared fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vg_pipe.h"

static void test_source_dead_letters_with_reasons(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in:\n"
                                    "    source: kafka\n"
                                    "    topic: events\n"
                                    "    time: ts\n"
                                    "    max_event_bytes: 64\n"
                                    "  out: {sink: stdout, input: in}\n",
                                    1);
    vg_pipe_feed(p, "in",
                 "{\"ts\":1,\"a\":1}\n"
                 "{\"ts\":1,\"a\":\n"
                 "[1,2]\n"
                 "{\"a\":1}\n"
                 "{\"ts\":\"yesterday\"}\n"
                 "{\"ts\":1,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n"
                 "{\"ts\":\"2026-11-01T10:00:00.250+01:00\"}\n",
                 0);
    char *dead = vg_pipe_dead_text(p);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"ts\":1,\"a\":1}\n{\"ts\":\"2026-11-01T10:00:00.250+01:00\"}\n");
    assert_non_null(strstr(dead, "1: undecodable: invalid JSON: "));
    assert_non_null(strstr(dead, "2: undecodable: not a JSON object\n"));
    assert_non_null(strstr(dead, "3: bad event time: field 'ts' is missing\n"));
    assert_non_null(
        strstr(dead, "4: bad event time: field 'ts' is not an epoch number or RFC 3339 time\n"));
    assert_non_null(strstr(dead, "5: oversize: 90 bytes > max_event_bytes 64\n"));
    free(dead);
    free(out);
    vg_pipe_free(p);
}

static void test_source_event_time_units(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: e, time: t, time_unit: s}\n"
                                    "  d:\n"
                                    "    rules: [{id: A, title: a, severity: low, when: 'true'}]\n"
                                    "    input: in\n"
                                    "  out: {sink: stdout, input: d}\n",
                                    1);
    vg_pipe_feed(p, "in", "{\"t\":1767225600}\n{\"t\":1.5}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 2);
    assert_non_null(strstr(vg_pipe_out(p, 0)->value, "\"event_time\":1767225600000,"));
    assert_non_null(strstr(vg_pipe_out(p, 1)->value, "\"event_time\":1500,"));
    vg_pipe_free(p);
}

static void test_source_rfc3339_offsets(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: e, time: t}\n"
                                    "  d:\n"
                                    "    rules: [{id: A, title: a, severity: low, when: 'true'}]\n"
                                    "    input: in\n"
                                    "  out: {sink: stdout, input: d}\n",
                                    1);
    vg_pipe_feed(p, "in",
                 "{\"t\":\"2026-01-01T00:00:00Z\"}\n{\"t\":\"2026-01-01T01:00:00.5+01:00\"}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 2);
    assert_non_null(strstr(vg_pipe_out(p, 0)->value, "\"event_time\":1767225600000,"));
    assert_non_null(strstr(vg_pipe_out(p, 1)->value, "\"event_time\":1767225600500,"));
    vg_pipe_free(p);
}

static void test_source_declared_fields_reject_unknown_ones(void **state)
{
    (void)state;
    char *errs = vg_pipe_errors("name: t\n"
                                "nodes:\n"
                                "  in: {source: kafka, topic: e, fields: [host, image]}\n"
                                "  f:\n"
                                "    filter: imgae == \"/bin/sh\"\n"
                                "    input: in\n"
                                "  out: {sink: stdout, input: f}\n");
    assert_string_equal(errs, "t.yaml:5:13: error: expression: unknown field 'imgae' "
                              "(did you mean 'image'?)\n");
    free(errs);
}

static void test_source_nested_paths_and_escapes(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: e}\n"
                                    "  m: {map: {c: geo.country, first: 'tags[0]', n: name}, input: in}\n"
                                    "  out: {sink: stdout, input: m}\n",
                                    1);
    vg_pipe_feed(p, "in",
                 "{\"geo\":{\"country\":\"FR\"},\"tags\":[\"x\",\"y\"],\"name\":\"caf\\u00e9 \\\"q\\\"\"}\n",
                 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"c\":\"FR\",\"first\":\"x\",\"n\":\"caf\xc3\xa9 \\\"q\\\"\"}\n");
    free(out);
    vg_pipe_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_dead_letters_with_reasons),
        cmocka_unit_test(test_source_event_time_units),
        cmocka_unit_test(test_source_rfc3339_offsets),
        cmocka_unit_test(test_source_declared_fields_reject_unknown_ones),
        cmocka_unit_test(test_source_nested_paths_and_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
