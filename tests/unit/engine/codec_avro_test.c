/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec_avro_test.c - unit tests of engine/codec_avro.c against the shipped schemas:
 * schema loading and path checks, JSON -> Avro -> slots and JSON round trips, unions with
 * null, alert encoding, and malformed records (truncated at every length, trailing bytes,
 * hostile lengths, random bytes) that must be errors and never crashes.
 *
 * Thread: the test's only thread. Schemas are found under $VG_SOURCE_DIR (set by ctest) or
 * the current directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

struct fx {
    struct vg_avro_schema *auth;
    struct vg_avro_schema *alert;
    struct vg_avro_schema *process;
    struct vg_paths *p;
    struct vg_arena arena;
    struct vg_buf bin;
    struct vg_buf out;
    struct vg_value slots[16];
    struct vg_err err;
};

static struct vg_avro_schema *load(const char *name)
{
    const char *dir = getenv("VG_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/schemas/%s", dir ? dir : ".", name);
    struct vg_err err = {0};
    struct vg_avro_schema *s = vg_avro_schema_load(path, &err);
    if (!s)
        fail_msg("%s", err.msg);
    return s;
}

static int setup(void **state)
{
    struct fx *f = vg_xcalloc(1, sizeof(*f));
    f->auth = load("auth_event.avsc");
    f->alert = load("alert.avsc");
    f->process = load("process_event.avsc");
    f->p = vg_paths_new();
    vg_arena_init(&f->arena, 0);
    vg_buf_init(&f->bin);
    vg_buf_init(&f->out);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vg_avro_schema_free(f->auth);
    vg_avro_schema_free(f->alert);
    vg_avro_schema_free(f->process);
    vg_paths_free(f->p);
    vg_arena_fini(&f->arena);
    vg_buf_fini(&f->bin);
    vg_buf_fini(&f->out);
    vg_free(f);
    return 0;
}

static void add(struct fx *f, const char *path, int slot)
{
    assert_int_equal(vg_paths_add(f->p, path, slot, &f->err), 0);
}

static void encode(struct fx *f, const struct vg_avro_schema *s, const char *json)
{
    vg_buf_clear(&f->bin);
    if (vg_avro_from_json(s, json, strlen(json), &f->bin, &f->err) != 0)
        fail_msg("from_json: %s", f->err.msg);
}

static void assert_vstr(const struct vg_value *v, const char *want)
{
    assert_int_equal(v->type, VG_T_STR);
    assert_int_equal(v->len, strlen(want));
    assert_memory_equal(v->u.s, want, v->len);
}

static const char auth_json[] =
    "{\"ts\":1700000000123,\"user\":\"al\\u00efce\",\"src_ip\":\"10.0.0.1\",\"outcome\":"
    "\"failure\",\"host\":\"web-1\",\"method\":\"password\",\"geo\":{\"country\":\"FR\","
    "\"city\":\"Paris\"},\"ignored\":[1,2]}";

static void test_avro_schema_load_and_fields(void **state)
{
    struct fx *f = *state;
    const char *const *names;
    size_t n = vg_avro_schema_fields(f->auth, &names);
    const char *want[] = {"ts", "user", "src_ip", "outcome", "host", "method", "geo"};
    assert_int_equal(n, VG_ARRAY_LEN(want));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], want[i]);
    assert_int_equal(vg_avro_schema_fields(f->process, &names), 7);
    assert_string_equal(names[6], "pid");
    assert_int_equal(vg_avro_schema_fields(f->alert, &names), 14);
    assert_string_equal(names[13], "fields");
}

static void test_avro_schema_load_errors(void **state)
{
    struct fx *f = *state;
    assert_null(vg_avro_schema_load("/nonexistent/x.avsc", &f->err));
    assert_int_equal(f->err.code, VG_EIO);
    assert_string_equal(f->err.msg, "avro schema '/nonexistent/x.avsc': No such file or directory");
    char path[] = "/tmp/vg_avro_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("{\"type\":\"array\",\"items\":\"string\"}", fp);
    fclose(fp);
    assert_null(vg_avro_schema_load(path, &f->err));
    assert_int_equal(f->err.code, VG_EINVAL);
    assert_non_null(strstr(f->err.msg, "top level must be a record, got array"));
    fp = fopen(path, "w");
    fputs("{\"type\":\"record\",", fp);
    fclose(fp);
    assert_null(vg_avro_schema_load(path, &f->err));
    assert_int_equal(f->err.code, VG_EINVAL);
    assert_true(strncmp(f->err.msg, "avro schema '", 13) == 0);
    remove(path);
}

static void test_avro_schema_has_path(void **state)
{
    struct fx *f = *state;
    assert_true(vg_avro_schema_has_path(f->auth, "user"));
    assert_true(vg_avro_schema_has_path(f->auth, "geo"));
    assert_true(vg_avro_schema_has_path(f->auth, "geo.country"));
    assert_true(vg_avro_schema_has_path(f->auth, "geo.city"));
    assert_false(vg_avro_schema_has_path(f->auth, "geo.zip"));
    assert_false(vg_avro_schema_has_path(f->auth, "usr"));
    assert_false(vg_avro_schema_has_path(f->auth, "user.name"));
    assert_false(vg_avro_schema_has_path(f->auth, "user[0]"));
    assert_false(vg_avro_schema_has_path(f->auth, "a..b"));
    assert_true(vg_avro_schema_has_path(f->alert, "tags[0]"));
    assert_true(vg_avro_schema_has_path(f->alert, "source.offset"));
    assert_true(vg_avro_schema_has_path(f->alert, "window_start"));
    assert_false(vg_avro_schema_has_path(f->alert, "tags.x"));
}

static void test_avro_decode_round_trip_slots(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "src_ip", 1);
    add(f, "geo.country", 2);
    add(f, "ts", 3);
    add(f, "geo", 4);
    add(f, "method", 5);
    add(f, "nope", 6);
    encode(f, f->auth, auth_json);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->auth, f->p);
    f->slots[6] = vg_value_int(5);
    assert_int_equal(vg_avro_decode(d, f->bin.data, f->bin.len, &f->arena, f->slots, &f->err),
                     0);
    assert_vstr(&f->slots[0], "al\xc3\xaf" "ce");
    assert_vstr(&f->slots[1], "10.0.0.1");
    assert_vstr(&f->slots[2], "FR");
    assert_int_equal(f->slots[3].type, VG_T_INT);
    assert_int_equal(f->slots[3].u.i, 1700000000123LL);
    assert_vstr(&f->slots[4], "{\"country\":\"FR\",\"city\":\"Paris\"}");
    assert_vstr(&f->slots[5], "password");
    assert_int_equal(f->slots[6].type, VG_T_NULL);
    /* the strings live in the arena, not in the decoder's reused value */
    assert_int_equal(vg_avro_decode(d, f->bin.data, f->bin.len, &f->arena, f->slots + 8, &f->err),
                     0);
    assert_ptr_not_equal(f->slots[0].u.s, f->slots[8].u.s);
    assert_vstr(&f->slots[0], "al\xc3\xaf" "ce");
    vg_avro_decoder_free(d);
}

static void test_avro_decode_union_with_null(void **state)
{
    struct fx *f = *state;
    add(f, "geo.country", 0);
    add(f, "geo", 1);
    add(f, "host", 2);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->auth, f->p);
    const char *jsons[] = {
        "{\"ts\":1,\"user\":\"u\",\"src_ip\":\"i\",\"outcome\":\"o\",\"host\":\"h\","
        "\"method\":\"m\"}",
        "{\"ts\":1,\"user\":\"u\",\"src_ip\":\"i\",\"outcome\":\"o\",\"host\":\"h\","
        "\"method\":\"m\",\"geo\":null}",
    };
    for (int i = 0; i < 2; i++) {
        encode(f, f->auth, jsons[i]);
        f->slots[0] = f->slots[1] = vg_value_int(1);
        assert_int_equal(
            vg_avro_decode(d, f->bin.data, f->bin.len, &f->arena, f->slots, &f->err), 0);
        assert_int_equal(f->slots[0].type, VG_T_NULL);
        assert_int_equal(f->slots[1].type, VG_T_NULL);
        assert_vstr(&f->slots[2], "h");
        vg_buf_clear(&f->out);
        assert_int_equal(vg_avro_to_json(d, f->bin.data, f->bin.len, &f->out, &f->err), 0);
        assert_string_equal(vg_buf_cstr(&f->out),
                            "{\"ts\":1,\"user\":\"u\",\"src_ip\":\"i\",\"outcome\":\"o\","
                            "\"host\":\"h\",\"method\":\"m\",\"geo\":null}");
    }
    vg_avro_decoder_free(d);
}

static void test_avro_to_json(void **state)
{
    struct fx *f = *state;
    encode(f, f->auth, auth_json);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->auth, f->p);
    vg_buf_puts(&f->out, ">");
    assert_int_equal(vg_avro_to_json(d, f->bin.data, f->bin.len, &f->out, &f->err), 0);
    assert_string_equal(vg_buf_cstr(&f->out),
                        ">{\"ts\":1700000000123,\"user\":\"al\xc3\xaf" "ce\",\"src_ip\":\"10.0.0.1\","
                        "\"outcome\":\"failure\",\"host\":\"web-1\",\"method\":\"password\","
                        "\"geo\":{\"country\":\"FR\",\"city\":\"Paris\"}}");
    vg_avro_decoder_free(d);
}

static void test_avro_process_event_round_trip(void **state)
{
    struct fx *f = *state;
    const char *json = "{\"ts\":5,\"host\":\"h1\",\"user\":\"root\",\"image\":\"/bin/sh\","
                       "\"command_line\":\"sh -c \\\"id\\\"\",\"parent_image\":\"/usr/sbin/sshd\","
                       "\"pid\":-4321}";
    encode(f, f->process, json);
    add(f, "command_line", 0);
    add(f, "pid", 1);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->process, f->p);
    assert_int_equal(vg_avro_decode(d, f->bin.data, f->bin.len, &f->arena, f->slots, &f->err),
                     0);
    assert_vstr(&f->slots[0], "sh -c \"id\"");
    assert_int_equal(f->slots[1].u.i, -4321);
    assert_int_equal(vg_avro_to_json(d, f->bin.data, f->bin.len, &f->out, &f->err), 0);
    assert_string_equal(vg_buf_cstr(&f->out), json);
    vg_avro_decoder_free(d);
}

static void test_avro_from_json_errors(void **state)
{
    struct fx *f = *state;
    struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"{\"ts\":1,\"src_ip\":\"i\",\"outcome\":\"o\",\"host\":\"h\",\"method\":\"m\"}",
         "avro: field 'user' missing"},
        {"{\"ts\":\"x\",\"user\":\"u\",\"src_ip\":\"i\",\"outcome\":\"o\",\"host\":\"h\","
         "\"method\":\"m\"}",
         "avro: field 'ts': expected long, got a string"},
        {"{\"ts\":1.5,\"user\":\"u\",\"src_ip\":\"i\",\"outcome\":\"o\",\"host\":\"h\","
         "\"method\":\"m\"}",
         "avro: field 'ts': expected long, got a number"},
        {"{\"ts\":1,\"user\":\"u\",\"src_ip\":\"i\",\"outcome\":\"o\",\"host\":\"h\","
         "\"method\":\"m\",\"geo\":\"FR\"}",
         "avro: field 'geo': no branch of its union takes a string"},
        {"{\"ts\":1,\"user\":\"u\",\"src_ip\":\"i\",\"outcome\":\"o\",\"host\":\"h\","
         "\"method\":\"m\",\"geo\":{\"country\":\"FR\"}}",
         "avro: field 'city' missing"},
        {"[1]", "not a JSON object"},
        {"{\"ts\":", "invalid JSON: "},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        vg_buf_clear(&f->bin);
        assert_int_equal(vg_avro_from_json(f->auth, cases[i].json, strlen(cases[i].json),
                                           &f->bin, &f->err),
                         VG_EINVAL);
        if (strncmp(f->err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu: '%s', expected '%s'", i, f->err.msg, cases[i].msg);
    }
}

static void expect_decode_error(struct fx *f, struct vg_avro_decoder *d, const char *buf,
                                size_t len, const char *msg)
{
    char *copy = vg_xmalloc(len ? len : 1); /* exact size: ASan catches overreads */
    memcpy(copy, buf, len);
    int rc = vg_avro_decode(d, copy, len, &f->arena, f->slots, &f->err);
    if (rc != VG_EINVAL || strcmp(f->err.msg, msg) != 0)
        fail_msg("%zu bytes: rc %d '%s', expected '%s'", len, rc, f->err.msg, msg);
    vg_buf_clear(&f->out);
    rc = vg_avro_to_json(d, copy, len, &f->out, &f->err);
    assert_int_equal(rc, VG_EINVAL);
    assert_string_equal(f->err.msg, msg);
    vg_free(copy);
}

static void test_avro_decode_truncated_at_every_length(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "geo.city", 1);
    encode(f, f->auth, auth_json);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->auth, f->p);
    for (size_t len = 0; len < f->bin.len; len++)
        expect_decode_error(f, d, f->bin.data, len, "avro: truncated record");
    assert_int_equal(vg_avro_decode(d, f->bin.data, f->bin.len, &f->arena, f->slots, &f->err),
                     0);
    assert_vstr(&f->slots[1], "Paris");
    vg_avro_decoder_free(d);
}

static void test_avro_decode_trailing_bytes(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    encode(f, f->auth, auth_json);
    vg_buf_append(&f->bin, "\0\0", 2);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->auth, f->p);
    expect_decode_error(f, d, f->bin.data, f->bin.len, "avro: trailing bytes (2 after the record)");
    vg_avro_decoder_free(d);
}

static void test_avro_decode_hostile_records(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->auth, f->p);
    /* ts=1, then a string length of 2^62: must not be allocated */
    expect_decode_error(f, d, "\x02\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11,
                        "avro: truncated record");
    /* ts=1, then length -1 */
    expect_decode_error(f, d, "\x02\x01", 2, "avro: negative length -1");
    /* an 11-byte varint */
    expect_decode_error(f, d, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11,
                        "avro: bad varint");
    /* six strings of one byte each, then union branch 5 */
    expect_decode_error(f, d, "\x02\x02u\x02i\x02o\x02h\x02m\x0a", 13,
                        "avro: bad union branch 5");
    expect_decode_error(f, d, "\x02\x02u\x02i\x02o\x02h\x02m\x01", 13,
                        "avro: bad union branch -1");
    /* invalid UTF-8 in a string */
    expect_decode_error(f, d, "\x02\x02\xff\x02i\x02o\x02h\x02m\x00", 13,
                        "avro: invalid UTF-8 in string");
    vg_avro_decoder_free(d);
}

static void test_avro_decode_random_bytes_never_crash(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "geo.country", 1);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->auth, f->p);
    struct vg_avro_encoder *e = vg_avro_encoder_new(f->alert, &f->err);
    encode(f, f->auth, auth_json);
    size_t n = f->bin.len;
    char *good = vg_xmalloc(n);
    memcpy(good, f->bin.data, n);
    srand(12345);
    int ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)rand() % 64;
        char *buf = vg_xmalloc(len ? len : 1);
        if (iter % 2) {
            /* mutate a valid record */
            len = n;
            buf = vg_xrealloc(buf, n);
            memcpy(buf, good, n);
            for (int k = 0; k < 1 + rand() % 3; k++)
                buf[rand() % n] = (char)rand();
        } else {
            for (size_t i = 0; i < len; i++)
                buf[i] = (char)rand();
        }
        if (vg_avro_decode(d, buf, len, &f->arena, f->slots, &f->err) == 0)
            ok++;
        else
            assert_true(strncmp(f->err.msg, "avro: ", 6) == 0);
        vg_buf_clear(&f->out);
        (void)vg_avro_to_json(d, buf, len, &f->out, &f->err);
        vg_buf_clear(&f->out);
        (void)vg_avro_alert_to_json(e, buf, len, &f->out, &f->err);
        vg_free(buf);
        if (iter % 1000 == 0)
            vg_arena_reset(&f->arena);
    }
    assert_true(ok > 0); /* some mutations still decode, which is fine */
    vg_free(good);
    vg_avro_encoder_free(e);
    vg_avro_decoder_free(d);
}

/* ---- alerts ---- */

static const char *const alert_tags[] = {"T1110", "brute \"force\""};

static struct vg_alert sample_alert(void)
{
    struct vg_alert a = {
        .rule_id = "AUTH-001",
        .title = "Brute-force login",
        .severity = "high",
        .tags = alert_tags,
        .n_tags = 2,
        .topology = "auth",
        .key_json = "{\"user\":\"alice\",\"host\":\"h1\"}",
        .key_text = "alice,h1",
        .window_start = 1700000000000,
        .window_end = 1700000060000,
        .event_time = 1700000059000,
        .detected_at = 1700000059012,
        .src_topic = "auth-events",
        .src_partition = 3,
        .src_offset = 42,
        .latency_ms = 12,
        .fields_json = "{\"user\":\"alice\",\"n\":5}TRAILING",
        .fields_len = 22,
    };
    vg_alert_id(&a, a.alert_id);
    return a;
}

static void alert_round_trip(struct fx *f, struct vg_avro_encoder *e, const struct vg_alert *a)
{
    vg_buf_clear(&f->bin);
    assert_int_equal(vg_avro_encode_alert(e, a, &f->bin, &f->err), 0);
    struct vg_buf want;
    vg_buf_init(&want);
    vg_alert_to_json(a, &want);
    vg_buf_clear(&f->out);
    assert_int_equal(vg_avro_alert_to_json(e, f->bin.data, f->bin.len, &f->out, &f->err), 0);
    assert_string_equal(vg_buf_cstr(&f->out), vg_buf_cstr(&want));
    vg_buf_fini(&want);
}

static void test_avro_alert_round_trip(void **state)
{
    struct fx *f = *state;
    struct vg_avro_encoder *e = vg_avro_encoder_new(f->alert, &f->err);
    assert_non_null(e);
    struct vg_alert a = sample_alert();
    alert_round_trip(f, e, &a);
    assert_non_null(strstr(vg_buf_cstr(&f->out), ",\"fields\":{\"user\":\"alice\",\"n\":5}}"));
    assert_non_null(strstr(vg_buf_cstr(&f->out), ",\"key\":{\"user\":\"alice\",\"host\":\"h1\"},"));
    /* no window, no tags, null key, no fields: the same JSON as vg_alert_to_json */
    a.window_start = a.window_end = -1;
    a.n_tags = 0;
    a.key_json = NULL;
    a.fields_json = NULL;
    a.fields_len = 0;
    vg_alert_id(&a, a.alert_id);
    alert_round_trip(f, e, &a);
    assert_non_null(strstr(vg_buf_cstr(&f->out), "\"window_start\":null,\"window_end\":null"));
    assert_non_null(strstr(vg_buf_cstr(&f->out), "\"key\":null"));
    assert_non_null(strstr(vg_buf_cstr(&f->out), "\"fields\":{}}"));
    vg_avro_encoder_free(e);
}

static void test_avro_alert_is_readable_as_generic_record(void **state)
{
    struct fx *f = *state;
    struct vg_avro_encoder *e = vg_avro_encoder_new(f->alert, &f->err);
    struct vg_alert a = sample_alert();
    assert_int_equal(vg_avro_encode_alert(e, &a, &f->bin, &f->err), 0);
    add(f, "rule_id", 0);
    add(f, "tags", 1);
    add(f, "source.offset", 2);
    add(f, "window_start", 3);
    add(f, "tags[1]", 4);
    struct vg_avro_decoder *d = vg_avro_decoder_new(f->alert, f->p);
    assert_int_equal(vg_avro_decode(d, f->bin.data, f->bin.len, &f->arena, f->slots, &f->err),
                     0);
    assert_vstr(&f->slots[0], "AUTH-001");
    assert_int_equal(f->slots[1].type, VG_T_LIST);
    assert_int_equal(f->slots[1].len, 2);
    assert_vstr(&f->slots[1].u.list[0], "T1110");
    assert_int_equal(f->slots[2].u.i, 42);
    assert_int_equal(f->slots[3].type, VG_T_INT);
    assert_int_equal(f->slots[3].u.i, 1700000000000LL);
    assert_vstr(&f->slots[4], "brute \"force\"");
    vg_avro_decoder_free(d);
    vg_avro_encoder_free(e);
}

static void test_avro_alert_errors(void **state)
{
    struct fx *f = *state;
    assert_null(vg_avro_encoder_new(f->auth, &f->err));
    assert_string_equal(f->err.msg, "avro: not the alert schema: 7 fields, expected 14");
    struct vg_avro_encoder *e = vg_avro_encoder_new(f->alert, &f->err);
    struct vg_alert a = sample_alert();
    assert_int_equal(vg_avro_encode_alert(e, &a, &f->bin, &f->err), 0);
    for (size_t len = 0; len < f->bin.len; len++) {
        char *copy = vg_xmalloc(len ? len : 1);
        memcpy(copy, f->bin.data, len);
        assert_int_equal(vg_avro_alert_to_json(e, copy, len, &f->out, &f->err), VG_EINVAL);
        assert_string_equal(f->err.msg, "avro: truncated record");
        vg_free(copy);
    }
    vg_avro_encoder_free(e);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_avro_schema_load_and_fields),
        T(test_avro_schema_load_errors),
        T(test_avro_schema_has_path),
        T(test_avro_decode_round_trip_slots),
        T(test_avro_decode_union_with_null),
        T(test_avro_to_json),
        T(test_avro_process_event_round_trip),
        T(test_avro_from_json_errors),
        T(test_avro_decode_truncated_at_every_length),
        T(test_avro_decode_trailing_bytes),
        T(test_avro_decode_hostile_records),
        T(test_avro_decode_random_bytes_never_crash),
        T(test_avro_alert_round_trip),
        T(test_avro_alert_is_readable_as_generic_record),
        T(test_avro_alert_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
