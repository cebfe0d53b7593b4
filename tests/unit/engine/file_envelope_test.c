/* SPDX-License-Identifier: Apache-2.0 */
/* file_envelope_test.c - tests for engine/file_envelope.c: which lines are kcat envelopes;
 * a line as kcat -J writes it (every field, headers, a key kcat decoded into an object); the
 * payload in place or unescaped (every escape, surrogate pairs, raw bytes that are not UTF-8);
 * null payload and ts; malformed lines, each with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "file_envelope.h"

static int parse(const char *line, struct vg_buf *buf, struct vg_file_envelope *env,
                 struct vg_err *err)
{
    return vg_file_envelope_parse(line, strlen(line), buf, env, err);
}

static void test_file_envelope_is_detects_kcat_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        bool is;
    } cases[] = {
        {"{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"tstype\":\"create\",\"ts\":5,"
         "\"broker\":1,\"key\":null,\"payload\":\"{}\"}", true},
        {"  {\"payload\":null,\"offset\":\"x\",\"partition\":[]}\r", true}, /* keys only */
        {"{\"partition\":0,\"offset\":1}", false},                       /* no payload */
        {"{\"ts\":1767225600000,\"user\":\"u1\",\"outcome\":\"failure\"}", false},
        {"{\"partition\":0,\"offset\":1,\"payload\":\"x\"", false},         /* unclosed */
        {"{\"partition\":0,\"offset\":1,\"payload\":\"x\"} trailing", false},
        {"[{\"partition\":0,\"offset\":1,\"payload\":\"x\"}]", false},
        {"{\"nested\":{\"partition\":0,\"offset\":1,\"payload\":\"x\"}}", false},
        {"", false},
        {"not json", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (vg_file_envelope_is(cases[i].line, strlen(cases[i].line)) != cases[i].is)
            fail_msg("case %zu: '%s': expected %s", i, cases[i].line,
                     cases[i].is ? "an envelope" : "not one");
}

/* Every field kcat writes, headers, and a key as kcat -s avro decodes it (an object). */
static void test_file_envelope_parse_kcat_line(void **state)
{
    (void)state;
    const char *line =
        "{\"topic\":\"auth-events\",\"partition\":3,\"offset\":1234567890123,\"tstype\":"
        "\"logappend\",\"ts\":1767225600123,\"broker\":2,\"headers\":[\"trace\",\"a\\\"b\","
        "\"empty\",null],\"key\":{\"id\":[1,2.5e3,-0.5,true,false,null]},\"key_schema_id\":7,"
        "\"payload\":\"{\\\"user\\\":\\\"u1\\\"}\"}";
    struct vg_buf buf;
    vg_buf_init(&buf);
    struct vg_file_envelope env;
    struct vg_err err = {0};
    assert_int_equal(parse(line, &buf, &env, &err), 0);
    assert_int_equal(env.partition, 3);
    assert_int_equal(env.offset, 1234567890123LL);
    assert_int_equal(env.ts, 1767225600123LL);
    assert_int_equal(env.topic_len, strlen("auth-events"));
    assert_memory_equal(env.topic, "auth-events", env.topic_len);
    assert_true(env.payload_copied);
    assert_int_equal(env.payload_len, strlen("{\"user\":\"u1\"}"));
    assert_memory_equal(env.payload, "{\"user\":\"u1\"}", env.payload_len);
    vg_buf_fini(&buf);
}

static void test_file_envelope_parse_payload_in_place(void **state)
{
    (void)state;
    const char *line = "{\"partition\":0,\"offset\":0,\"payload\":\"no escapes here\"}";
    struct vg_buf buf;
    vg_buf_init(&buf);
    struct vg_file_envelope env;
    struct vg_err err = {0};
    assert_int_equal(parse(line, &buf, &env, &err), 0);
    assert_false(env.payload_copied);
    assert_ptr_equal(env.payload, strstr(line, "no escapes"));
    assert_int_equal(env.payload_len, strlen("no escapes here"));
    assert_null(env.topic);
    assert_int_equal(env.ts, INT64_MIN);
    /* an empty payload is a value of no bytes, not a null one */
    assert_int_equal(parse("{\"partition\":0,\"offset\":0,\"payload\":\"\"}", &buf, &env, &err),
                     0);
    assert_non_null(env.payload);
    assert_int_equal(env.payload_len, 0);
    vg_buf_fini(&buf);
}

/* Every JSON escape undone; \u escapes as UTF-8 (a surrogate pair as one character, \u0000 as
 * a NUL byte); bytes that are not UTF-8 (a binary value as kcat writes it) taken as they are. */
static void test_file_envelope_parse_unescapes(void **state)
{
    (void)state;
    const char *line = "{\"partition\":1,\"offset\":2,\"payload\":"
                       "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20AC \\ud83d\\ude00 "
                       "\\u0000 \xff\xfe\x80\"}";
    static const char want[] = "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
                               "\0 \xff\xfe\x80";
    struct vg_buf buf;
    vg_buf_init(&buf);
    struct vg_file_envelope env;
    struct vg_err err = {0};
    assert_int_equal(parse(line, &buf, &env, &err), 0);
    assert_true(env.payload_copied);
    assert_int_equal(env.payload_len, sizeof(want) - 1);
    assert_memory_equal(env.payload, want, sizeof(want) - 1);
    vg_buf_fini(&buf);
}

/* A null payload (a tombstone) and a null ts parse: no value, no timestamp. */
static void test_file_envelope_parse_nulls(void **state)
{
    (void)state;
    struct vg_buf buf;
    vg_buf_init(&buf);
    struct vg_file_envelope env;
    struct vg_err err = {0};
    assert_int_equal(parse("{\"topic\":null,\"partition\":5,\"offset\":9,\"ts\":null,\"key\":"
                           "\"k\",\"payload\":null}",
                           &buf, &env, &err),
                     0);
    assert_null(env.payload);
    assert_int_equal(env.payload_len, 0);
    assert_int_equal(env.ts, INT64_MIN);
    assert_null(env.topic);
    assert_int_equal(env.partition, 5);
    assert_int_equal(env.offset, 9);
    vg_buf_fini(&buf);
}

/* Malformed lines: VG_EINVAL and a reason naming what is wrong, never a crash. */
static void test_file_envelope_parse_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *why;
    } cases[] = {
        {"garbage", "envelope: not a JSON object"},
        {"", "envelope: not a JSON object"},
        {"{\"partition\":0,\"offset\":1,\"payload\":\"x\"",
         "envelope: invalid JSON: the line ends inside it"},
        {"{\"partition\":0,\"offset\":1,\"payload\":\"x\"}}", "envelope: invalid JSON at byte 41"},
        {"{\"partition\":0 \"offset\":1,\"payload\":\"x\"}", "envelope: invalid JSON at byte 16"},
        {"{\"partition\":0,\"offset\":1,\"payload\":\"bad \\x escape\"}", "invalid JSON"},
        {"{\"partition\":0,\"offset\":1,\"payload\":\"\\u12\"}", "invalid JSON"},
        {"{\"partition\":01,\"offset\":1,\"payload\":\"x\"}", "invalid JSON"},
        {"{\"partition\":0,\"offset\":1,\"payload\":tru}", "invalid JSON"},
        {"{\"offset\":1,\"payload\":\"x\"}", "envelope: no 'partition'"},
        {"{\"partition\":0,\"payload\":\"x\"}", "envelope: no 'offset'"},
        {"{\"partition\":0,\"offset\":1}", "envelope: no 'payload'"},
        {"{\"partition\":-1,\"offset\":1,\"payload\":\"x\"}",
         "envelope: 'partition' is not an integer in 0..2147483647"},
        {"{\"partition\":2147483648,\"offset\":1,\"payload\":\"x\"}", "'partition' is not"},
        {"{\"partition\":1.0,\"offset\":1,\"payload\":\"x\"}", "'partition' is not"},
        {"{\"partition\":\"1\",\"offset\":1,\"payload\":\"x\"}", "'partition' is not"},
        {"{\"partition\":1,\"offset\":-5,\"payload\":\"x\"}",
         "envelope: 'offset' is not an integer >= 0"},
        {"{\"partition\":1,\"offset\":99999999999999999999,\"payload\":\"x\"}",
         "'offset' is not"},
        {"{\"partition\":1,\"offset\":1e3,\"payload\":\"x\"}", "'offset' is not"},
        {"{\"partition\":1,\"offset\":1,\"ts\":\"now\",\"payload\":\"x\"}",
         "envelope: 'ts' is not an integer or null"},
        {"{\"topic\":7,\"partition\":1,\"offset\":1,\"payload\":\"x\"}",
         "envelope: 'topic' is not a string or null"},
        {"{\"partition\":1,\"offset\":1,\"payload\":{\"user\":\"u1\"}}",
         "envelope: 'payload' is not a string or null"},
        {"{\"partition\":1,\"offset\":1,\"payload\":\"\\ud83d alone\"}",
         "envelope: 'payload' holds a \\u escape of half a surrogate pair"},
        {"{\"partition\":1,\"offset\":1,\"payload\":\"\\ude00\"}", "half a surrogate pair"},
    };
    struct vg_buf buf;
    vg_buf_init(&buf);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vg_file_envelope env;
        struct vg_err err = {0};
        int rc = parse(cases[i].line, &buf, &env, &err);
        if (rc != VG_EINVAL || !strstr(err.msg, cases[i].why))
            fail_msg("case %zu: '%s': got %d '%s', expected '%s'", i, cases[i].line, rc, err.msg,
                     cases[i].why);
    }
    /* nesting deeper than 64 in a skipped field */
    char deep[400] = "{\"partition\":1,\"offset\":1,\"payload\":\"x\",\"h\":";
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    for (int i = 0; i < 100; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    struct vg_file_envelope env;
    struct vg_err err = {0};
    assert_int_equal(parse(deep, &buf, &env, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    vg_buf_fini(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_envelope_is_detects_kcat_lines),
        cmocka_unit_test(test_file_envelope_parse_kcat_line),
        cmocka_unit_test(test_file_envelope_parse_payload_in_place),
        cmocka_unit_test(test_file_envelope_parse_unescapes),
        cmocka_unit_test(test_file_envelope_parse_nulls),
        cmocka_unit_test(test_file_envelope_parse_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
