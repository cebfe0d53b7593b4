/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink_test.c - tests for operators/sink.c: targets, record keys, formats, and what a sink
 * writes for events that are not alerts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "vg_pipe.h"

static void test_sink_kafka_keys_alerts_by_their_key(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: e}\n"
                                    "  d:\n"
                                    "    rules: [{id: A, title: a, severity: low, when: 'true'}]\n"
                                    "    key: [user]\n"
                                    "    input: in\n"
                                    "  out: {sink: kafka, topic: alerts-x, input: d}\n"
                                    "  raw: {sink: file, path: /tmp/never-written, input: in}\n",
                                    1);
    vg_pipe_feed(p, "in", "{\"user\":\"ann\"}\n{\"user\":\"\"}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 4);
    /* per batch the nodes run in topological order: d's alerts, then the raw copies (or the
     * reverse); find each by target */
    size_t alerts = 0, raws = 0;
    for (size_t i = 0; i < vg_pipe_n_out(p); i++) {
        const struct vg_pipe_rec *r = vg_pipe_out(p, i);
        if (strcmp(r->target, "alerts-x") == 0) {
            assert_string_equal(r->key, alerts == 0 ? "ann" : "");
            alerts++;
        } else {
            assert_string_equal(r->target, "/tmp/never-written");
            assert_string_equal(r->value, raws == 0 ? "{\"user\":\"ann\"}" : "{\"user\":\"\"}");
            raws++;
        }
    }
    assert_int_equal(alerts, 2);
    assert_int_equal(raws, 2);
    vg_pipe_free(p);
}

static void test_sink_checks_its_target_keys(void **state)
{
    (void)state;
    char *errs = vg_pipe_errors("name: t\n"
                                "nodes:\n"
                                "  in: {source: kafka, topic: e}\n"
                                "  a: {sink: kafka, input: in}\n"
                                "  b: {sink: file, input: in}\n");
    assert_non_null(strstr(errs, "t.yaml:4:3: error: node 'a': missing required key 'topic'"));
    assert_non_null(strstr(errs, "t.yaml:5:3: error: node 'b': missing required key 'path'"));
    free(errs);
}

static void test_sink_avro_alerts(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: e}\n"
                                    "  d:\n"
                                    "    rules: [{id: A, title: a, severity: low, when: 'true'}]\n"
                                    "    input: in\n"
                                    "  out: {sink: stdout, format: avro, input: d}\n",
                                    1);
    vg_pipe_feed(p, "in", "{\"user\":\"ann\"}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 1);
    const struct vg_pipe_rec *r = vg_pipe_out(p, 0);
    /* Avro binary: the alert_id string comes first, length 32 as a zig-zag varint (64) */
    assert_int_equal((unsigned char)r->value[0], 64);
    /* and it decodes back with the alert schema */
    struct vg_err err = {0};
    struct vg_avro_schema *schema = vg_avro_schema_load("schemas/alert.avsc", &err);
    assert_non_null(schema);
    struct vg_avro_encoder *enc = vg_avro_encoder_new(schema, &err);
    struct vg_buf json;
    vg_buf_init(&json);
    assert_int_equal(vg_avro_alert_to_json(enc, r->value, r->len, &json, &err), 0);
    const char *text = vg_buf_cstr(&json);
    assert_non_null(strstr(text, "\"rule_id\":\"A\",\"title\":\"a\",\"severity\":\"low\""));
    assert_non_null(strstr(text, "\"source\":{\"topic\":\"e\",\"partition\":0,\"offset\":0}"));
    vg_buf_fini(&json);
    vg_avro_encoder_free(enc);
    vg_avro_schema_free(schema);
    vg_pipe_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sink_kafka_keys_alerts_by_their_key),
        cmocka_unit_test(test_sink_checks_its_target_keys),
        cmocka_unit_test(test_sink_avro_alerts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
