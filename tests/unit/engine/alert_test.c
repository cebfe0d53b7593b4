/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alert_test.c - unit tests of engine/alert.c: the deterministic alert id (pinned values,
 * what it depends on and what not) and the exact JSON and text forms.
 *
 * Thread: the test's only thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alert.h"

static const char *const tags[] = {"T1110", "brute-force"};

static struct vg_alert windowed(void)
{
    struct vg_alert a = {
        .rule_id = "AUTH-001",
        .title = "Brute-force login",
        .severity = "high",
        .tags = tags,
        .n_tags = 2,
        .topology = "auth",
        .key_json = "\"alice\"",
        .key_text = "alice",
        .window_start = 1700000000000,
        .window_end = 1700000060000,
        .event_time = 1700000059000,
        .detected_at = 1700000059012,
        .src_topic = "auth-events",
        .src_partition = 3,
        .src_offset = 42,
        .latency_ms = 12,
        .fields_json = "{\"user\":\"alice\",\"count\":5}",
    };
    a.fields_len = strlen(a.fields_json);
    return a;
}

static struct vg_alert single(void)
{
    struct vg_alert a = windowed();
    a.window_start = a.window_end = -1;
    return a;
}

static void id_of(const struct vg_alert *a, char out[33])
{
    memset(out, 'z', 33);
    vg_alert_id(a, out);
}

static void test_alert_id_pinned_values(void **state)
{
    (void)state;
    char id[33];
    struct vg_alert a = windowed();
    id_of(&a, id);
    /* SipHash-2-4-128, key "vigil.alert.id.1", over the encoding in alert.c; checked against
     * an independent implementation of the reference algorithm */
    assert_string_equal(id, "1c9d9fc84bf6f19405f448a2cb107503");
    a = single();
    id_of(&a, id);
    assert_string_equal(id, "f3eeace532c8e94f22eb20e7e9d2364b");
}

static void test_alert_id_is_32_lowercase_hex(void **state)
{
    (void)state;
    char id[33];
    struct vg_alert a = windowed();
    id_of(&a, id);
    assert_int_equal(strlen(id), 32);
    for (int i = 0; i < 32; i++)
        assert_non_null(strchr("0123456789abcdef", id[i]));
}

static void test_alert_id_window_ignores_source_and_presentation(void **state)
{
    (void)state;
    char a_id[33], b_id[33];
    struct vg_alert a = windowed(), b = windowed();
    b.src_offset = 99;
    b.src_partition = 0;
    b.src_topic = "other";
    b.title = "another title";
    b.severity = "low";
    b.detected_at += 5000;
    b.event_time += 1;
    b.latency_ms = 1;
    b.fields_json = "{}";
    b.fields_len = 2;
    id_of(&a, a_id);
    id_of(&b, b_id);
    assert_string_equal(a_id, b_id);
}

static void test_alert_id_depends_on_identity(void **state)
{
    (void)state;
    char base[33], id[33];
    struct vg_alert a = windowed();
    id_of(&a, base);
    struct vg_alert v[5];
    for (int i = 0; i < 5; i++)
        v[i] = windowed();
    v[0].topology = "auth2";
    v[1].rule_id = "AUTH-002";
    v[2].key_json = "\"bob\"";
    v[3].window_start += 1;
    v[4].window_end += 1;
    for (int i = 0; i < 5; i++) {
        id_of(&v[i], id);
        assert_string_not_equal(id, base);
    }
}

static void test_alert_id_single_event_uses_source_position(void **state)
{
    (void)state;
    char base[33], id[33];
    struct vg_alert a = single();
    id_of(&a, base);
    a.src_offset = 43;
    id_of(&a, id);
    assert_string_not_equal(id, base);
    a = single();
    a.src_partition = 4;
    id_of(&a, id);
    assert_string_not_equal(id, base);
    a = single();
    a.src_topic = "auth-events2";
    id_of(&a, id);
    assert_string_not_equal(id, base);
    a = single();
    a.detected_at = 1; /* reprocessing later gives the same id */
    id_of(&a, id);
    assert_string_equal(id, base);
}

static void test_alert_id_fields_are_length_prefixed(void **state)
{
    (void)state;
    char x[33], y[33];
    struct vg_alert a = windowed(), b = windowed();
    a.topology = "ab";
    a.rule_id = "c";
    b.topology = "a";
    b.rule_id = "bc";
    id_of(&a, x);
    id_of(&b, y);
    assert_string_not_equal(x, y);
}

static void test_alert_id_null_key_is_json_null(void **state)
{
    (void)state;
    char x[33], y[33], z[33];
    struct vg_alert a = windowed();
    a.key_json = NULL;
    id_of(&a, x);
    a.key_json = "";
    id_of(&a, y);
    a.key_json = "null";
    id_of(&a, z);
    assert_string_equal(x, y);
    assert_string_equal(x, z);
}

static void test_alert_to_json_exact(void **state)
{
    (void)state;
    struct vg_alert a = windowed();
    vg_alert_id(&a, a.alert_id);
    struct vg_buf b;
    vg_buf_init(&b);
    vg_alert_to_json(&a, &b);
    char want[1024];
    snprintf(want, sizeof(want),
             "{\"alert_id\":\"%s\",\"rule_id\":\"AUTH-001\",\"title\":\"Brute-force login\","
             "\"severity\":\"high\",\"tags\":[\"T1110\",\"brute-force\"],\"topology\":\"auth\","
             "\"key\":\"alice\",\"window_start\":1700000000000,\"window_end\":1700000060000,"
             "\"event_time\":1700000059000,\"detected_at\":1700000059012,"
             "\"source\":{\"topic\":\"auth-events\",\"partition\":3,\"offset\":42},"
             "\"latency_ms\":12,\"fields\":{\"user\":\"alice\",\"count\":5}}",
             a.alert_id);
    assert_string_equal(vg_buf_cstr(&b), want);
    vg_buf_fini(&b);
}

static void test_alert_to_json_nulls_and_defaults(void **state)
{
    (void)state;
    struct vg_alert a = single();
    strcpy(a.alert_id, "00112233445566778899aabbccddeeff");
    a.tags = NULL;
    a.n_tags = 0;
    a.key_json = NULL;
    a.fields_json = NULL;
    a.fields_len = 0;
    a.title = "say \"hi\"\n";
    a.src_topic = NULL;
    struct vg_buf b;
    vg_buf_init(&b);
    vg_buf_puts(&b, "prefix:");
    vg_alert_to_json(&a, &b);
    assert_string_equal(vg_buf_cstr(&b),
                        "prefix:{\"alert_id\":\"00112233445566778899aabbccddeeff\","
                        "\"rule_id\":\"AUTH-001\",\"title\":\"say \\\"hi\\\"\\n\","
                        "\"severity\":\"high\",\"tags\":[],\"topology\":\"auth\",\"key\":null,"
                        "\"window_start\":null,\"window_end\":null,\"event_time\":1700000059000,"
                        "\"detected_at\":1700000059012,"
                        "\"source\":{\"topic\":\"\",\"partition\":3,\"offset\":42},"
                        "\"latency_ms\":12,\"fields\":{}}");
    vg_buf_fini(&b);
}

static void test_alert_to_json_fields_len_bounds_text(void **state)
{
    (void)state;
    struct vg_alert a = single();
    a.fields_json = "{\"a\":1}GARBAGE";
    a.fields_len = 7;
    struct vg_buf b;
    vg_buf_init(&b);
    vg_alert_to_json(&a, &b);
    const char *s = vg_buf_cstr(&b);
    assert_non_null(strstr(s, ",\"fields\":{\"a\":1}}"));
    assert_null(strstr(s, "GARBAGE"));
    vg_buf_fini(&b);
}

static void test_alert_to_text(void **state)
{
    (void)state;
    struct vg_alert a = windowed();
    struct vg_buf b;
    vg_buf_init(&b);
    vg_alert_to_text(&a, &b);
    assert_string_equal(vg_buf_cstr(&b), "[high] AUTH-001 key=alice latency=12ms Brute-force login");
    vg_buf_clear(&b);
    a.key_text = "";
    vg_alert_to_text(&a, &b);
    assert_string_equal(vg_buf_cstr(&b), "[high] AUTH-001 key=- latency=12ms Brute-force login");
    vg_buf_clear(&b);
    a.key_text = NULL;
    a.key_json = NULL;
    a.latency_ms = 0;
    vg_alert_to_text(&a, &b);
    assert_string_equal(vg_buf_cstr(&b), "[high] AUTH-001 key=- latency=0ms Brute-force login");
    vg_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_id_pinned_values),
        cmocka_unit_test(test_alert_id_is_32_lowercase_hex),
        cmocka_unit_test(test_alert_id_window_ignores_source_and_presentation),
        cmocka_unit_test(test_alert_id_depends_on_identity),
        cmocka_unit_test(test_alert_id_single_event_uses_source_position),
        cmocka_unit_test(test_alert_id_fields_are_length_prefixed),
        cmocka_unit_test(test_alert_id_null_key_is_json_null),
        cmocka_unit_test(test_alert_to_json_exact),
        cmocka_unit_test(test_alert_to_json_nulls_and_defaults),
        cmocka_unit_test(test_alert_to_json_fields_len_bounds_text),
        cmocka_unit_test(test_alert_to_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
