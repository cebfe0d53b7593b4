/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec_json_test.c - unit tests of engine/codec_json.c and engine/json_simd.cpp: the
 * path-driven JSON decode (escapes, UTF-8, numbers, lists, raw containers, duplicates,
 * malformed and truncated input) and vg_json_write_value.
 *
 * Thread: the test's only thread.
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
#include "json_simd.h"

#define N_SLOTS 32

struct fx {
    struct vg_paths *p;
    struct vg_json_parser *jp;
    struct vg_arena arena;
    struct vg_value slots[N_SLOTS];
    struct vg_err err;
};

static int setup(void **state)
{
    struct fx *f = vg_xcalloc(1, sizeof(*f));
    f->p = vg_paths_new();
    f->jp = vg_json_parser_new();
    vg_arena_init(&f->arena, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vg_paths_free(f->p);
    vg_json_parser_free(f->jp);
    vg_arena_fini(&f->arena);
    vg_free(f);
    return 0;
}

static void add(struct fx *f, const char *path, int slot)
{
    assert_int_equal(vg_paths_add(f->p, path, slot, &f->err), 0);
}

static int decode(struct fx *f, const char *json)
{
    memset(&f->err, 0, sizeof(f->err));
    return vg_json_decode(f->jp, f->p, json, strlen(json), &f->arena, f->slots, &f->err);
}

static void assert_vstr(const struct vg_value *v, const char *want)
{
    assert_int_equal(v->type, VG_T_STR);
    assert_int_equal(v->len, strlen(want));
    assert_memory_equal(v->u.s, want, v->len);
}

static void assert_vnull(const struct vg_value *v)
{
    assert_int_equal(v->type, VG_T_NULL);
}

static void assert_error(struct fx *f, const char *json, const char *reason_prefix)
{
    int rc = decode(f, json);
    if (rc != VG_EINVAL || f->err.code != VG_EINVAL)
        fail_msg("'%.60s': rc %d, expected VG_EINVAL", json, rc);
    if (strncmp(f->err.msg, reason_prefix, strlen(reason_prefix)) != 0)
        fail_msg("reason '%s' does not start with '%s'", f->err.msg, reason_prefix);
}

static const char sample[] =
    "{\"ts\":1700000000123,\"user\":\"alice\",\"src_ip\":\"10.0.0.1\",\"outcome\":\"failure\","
    "\"host\":\"web-1\",\"geo\":{\"country\":\"FR\",\"city\":\"Paris\"},"
    "\"tags\":[\"a\",\"b\"],\"msg\":\"line1\\nline2 \\\"q\\\"\"}";

static void test_json_decode_extracts_flat_and_nested_fields(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "src_ip", 1);
    add(f, "outcome", 2);
    add(f, "geo.country", 3);
    add(f, "ts", 4);
    assert_int_equal(decode(f, sample), 0);
    assert_vstr(&f->slots[0], "alice");
    assert_vstr(&f->slots[1], "10.0.0.1");
    assert_vstr(&f->slots[2], "failure");
    assert_vstr(&f->slots[3], "FR");
    assert_int_equal(f->slots[4].type, VG_T_INT);
    assert_int_equal(f->slots[4].u.i, 1700000000123LL);
}

static void test_json_decode_plain_string_points_into_input(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    assert_int_equal(decode(f, sample), 0);
    assert_ptr_equal(f->slots[0].u.s, strstr(sample, "alice"));
}

static void test_json_decode_input_need_not_be_terminated(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    /* the payload is followed by garbage that is not part of it */
    const char buf[] = "{\"user\":\"bob\"}{{{{";
    assert_int_equal(vg_json_decode(f->jp, f->p, buf, 14, &f->arena, f->slots, &f->err), 0);
    assert_vstr(&f->slots[0], "bob");
}

static void test_json_decode_unescapes_into_arena(void **state)
{
    struct fx *f = *state;
    add(f, "msg", 0);
    const char *json = "{\"msg\":\"a\\nb\\\"c\\\\d\\u00e9\\/\\t\"}";
    assert_int_equal(decode(f, json), 0);
    assert_vstr(&f->slots[0], "a\nb\"c\\d\xc3\xa9/\t");
    assert_true(f->slots[0].u.s < json || f->slots[0].u.s > json + strlen(json));
}

static void test_json_decode_surrogate_pair_to_utf8(void **state)
{
    struct fx *f = *state;
    add(f, "s", 0);
    assert_int_equal(decode(f, "{\"s\":\"x\\ud83d\\ude00y\"}"), 0);
    assert_vstr(&f->slots[0], "x\xf0\x9f\x98\x80y");
}

static void test_json_decode_lone_surrogate_is_error(void **state)
{
    struct fx *f = *state;
    add(f, "s", 0);
    assert_error(f, "{\"s\":\"\\ud83d\"}", "invalid JSON: STRING_ERROR");
    assert_error(f, "{\"s\":\"\\ude00x\"}", "invalid JSON: STRING_ERROR");
    assert_error(f, "{\"s\":\"\\u12\"}", "invalid JSON: STRING_ERROR");
    assert_error(f, "{\"s\":\"\\q\"}", "invalid JSON: STRING_ERROR");
}

static void test_json_decode_raw_utf8_passes_through(void **state)
{
    struct fx *f = *state;
    add(f, "city", 0);
    const char *json = "{\"city\":\"Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"}";
    assert_int_equal(decode(f, json), 0);
    assert_vstr(&f->slots[0], "Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
}

static void test_json_decode_invalid_utf8_is_error(void **state)
{
    struct fx *f = *state;
    add(f, "s", 0);
    assert_error(f, "{\"s\":\"\xff\"}", "invalid JSON: UTF8_ERROR");
    assert_error(f, "{\"s\":\"\xc3\"}", "invalid JSON: UTF8_ERROR");           /* cut short */
    assert_error(f, "{\"s\":\"\xc0\xaf\"}", "invalid JSON: UTF8_ERROR");       /* overlong */
    assert_error(f, "{\"s\":\"\xed\xa0\x80\"}", "invalid JSON: UTF8_ERROR");   /* surrogate */
    /* also in a value no path reads: stage 1 checks the whole document */
    assert_error(f, "{\"other\":\"\xff\",\"s\":\"x\"}", "invalid JSON: UTF8_ERROR");
}

static void test_json_decode_control_char_in_string_is_error(void **state)
{
    struct fx *f = *state;
    add(f, "s", 0);
    assert_error(f, "{\"s\":\"a\nb\"}", "invalid JSON: UNESCAPED_CHARS");
}

static void test_json_decode_key_with_escape_matches(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    assert_int_equal(decode(f, "{\"us\\u0065r\":\"carol\"}"), 0);
    assert_vstr(&f->slots[0], "carol");
    /* keys holding an escaped quote or ending in a backslash do not confuse the key scan */
    assert_int_equal(decode(f, "{\"a\\\"user\":1,\"b\\\\\":2,\"user\":\"dan\"}"), 0);
    assert_vstr(&f->slots[0], "dan");
}

static void test_json_decode_duplicate_key_first_wins(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "geo.country", 1);
    assert_int_equal(decode(f, "{\"user\":\"first\",\"user\":\"second\","
                               "\"geo\":{\"country\":\"FR\"},\"geo\":{\"country\":\"DE\"}}"),
                     0);
    assert_vstr(&f->slots[0], "first");
    assert_vstr(&f->slots[1], "FR");
    /* inside one object too */
    assert_int_equal(decode(f, "{\"geo\":{\"country\":\"IT\",\"country\":\"ES\"}}"), 0);
    assert_vstr(&f->slots[1], "IT");
    assert_vnull(&f->slots[0]);
}

static void test_json_decode_missing_path_is_null(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "geo.city", 1);
    add(f, "tags[5]", 2);
    f->slots[0] = vg_value_int(99); /* stale value from a previous event */
    assert_int_equal(decode(f, "{\"host\":\"h\",\"geo\":{\"country\":\"FR\"},\"tags\":[1]}"), 0);
    assert_vnull(&f->slots[0]);
    assert_vnull(&f->slots[1]);
    assert_vnull(&f->slots[2]);
}

static void test_json_decode_path_through_non_object_is_null(void **state)
{
    struct fx *f = *state;
    add(f, "user.name", 0);
    add(f, "geo.country.code", 1);
    add(f, "n[0]", 2);
    add(f, "tags.x", 3);
    assert_int_equal(decode(f, "{\"user\":\"alice\",\"geo\":{\"country\":\"FR\"},\"n\":{\"0\":1},"
                               "\"tags\":[\"a\"]}"),
                     0);
    for (int i = 0; i < 4; i++)
        assert_vnull(&f->slots[i]);
}

static void test_json_decode_leaves_other_slots_alone(void **state)
{
    struct fx *f = *state;
    add(f, "user", 3);
    f->slots[2] = vg_value_int(7);
    assert_int_equal(decode(f, "{\"user\":\"u\"}"), 0);
    assert_int_equal(f->slots[2].type, VG_T_INT);
    assert_int_equal(f->slots[2].u.i, 7);
}

static void test_json_decode_numbers(void **state)
{
    struct fx *f = *state;
    const char *names[] = {"i", "neg", "fl", "exp", "max", "over", "big", "min", "under", "z",
                           "negexp"};
    for (int i = 0; i < (int)VG_ARRAY_LEN(names); i++)
        add(f, names[i], i);
    assert_int_equal(decode(f, "{\"i\":42,\"neg\":-7,\"fl\":1.5,\"exp\":1e3,"
                               "\"max\":9223372036854775807,\"over\":9223372036854775808,"
                               "\"big\":123456789012345678901234567890,"
                               "\"min\":-9223372036854775808,\"under\":-9223372036854775809,"
                               "\"z\":0,\"negexp\":-2.5E-3}"),
                     0);
    assert_int_equal(f->slots[0].type, VG_T_INT);
    assert_int_equal(f->slots[0].u.i, 42);
    assert_int_equal(f->slots[1].type, VG_T_INT);
    assert_int_equal(f->slots[1].u.i, -7);
    assert_int_equal(f->slots[2].type, VG_T_FLOAT);
    assert_true(f->slots[2].u.f == 1.5);
    assert_int_equal(f->slots[3].type, VG_T_FLOAT);
    assert_true(f->slots[3].u.f == 1000.0);
    assert_int_equal(f->slots[4].type, VG_T_INT);
    assert_true(f->slots[4].u.i == INT64_MAX);
    assert_int_equal(f->slots[5].type, VG_T_FLOAT);
    assert_true(f->slots[5].u.f == 9223372036854775808.0);
    assert_int_equal(f->slots[6].type, VG_T_FLOAT);
    assert_true(f->slots[6].u.f == 123456789012345678901234567890.0);
    assert_int_equal(f->slots[7].type, VG_T_INT);
    assert_true(f->slots[7].u.i == INT64_MIN);
    assert_int_equal(f->slots[8].type, VG_T_FLOAT);
    assert_true(f->slots[8].u.f == -9223372036854775809.0);
    assert_int_equal(f->slots[9].type, VG_T_INT);
    assert_int_equal(f->slots[9].u.i, 0);
    assert_int_equal(f->slots[10].type, VG_T_FLOAT);
    assert_true(f->slots[10].u.f == -2.5e-3);
}

static void test_json_decode_bad_numbers_are_errors(void **state)
{
    struct fx *f = *state;
    add(f, "n", 0);
    assert_error(f, "{\"n\":01}", "invalid JSON: ");
    assert_error(f, "{\"n\":1.}", "invalid JSON: ");
    assert_error(f, "{\"n\":-}", "invalid JSON: ");
    assert_error(f, "{\"n\":1e}", "invalid JSON: ");
    assert_error(f, "{\"n\":0x10}", "invalid JSON: ");
    assert_error(f, "{\"n\":1e999}", "invalid JSON: ");
    assert_error(f, "{\"n\":12345678901234567890123a}", "invalid JSON: ");
}

static void test_json_decode_literals(void **state)
{
    struct fx *f = *state;
    add(f, "t", 0);
    add(f, "f", 1);
    add(f, "n", 2);
    f->slots[2] = vg_value_int(1);
    assert_int_equal(decode(f, "{\"t\":true,\"f\":false,\"n\":null}"), 0);
    assert_int_equal(f->slots[0].type, VG_T_BOOL);
    assert_true(f->slots[0].u.b);
    assert_int_equal(f->slots[1].type, VG_T_BOOL);
    assert_false(f->slots[1].u.b);
    assert_vnull(&f->slots[2]);
    assert_error(f, "{\"t\":tru}", "invalid JSON: ");
    assert_error(f, "{\"n\":nul}", "invalid JSON: ");
}

static void test_json_decode_array_of_scalars_is_list(void **state)
{
    struct fx *f = *state;
    add(f, "tags", 0);
    add(f, "tags[1]", 1);
    add(f, "empty", 2);
    assert_int_equal(decode(f, "{\"tags\":[\"a\",2,null,true,1.5,\"\\u00e9\"],\"empty\":[]}"), 0);
    const struct vg_value *v = &f->slots[0];
    assert_int_equal(v->type, VG_T_LIST);
    assert_int_equal(v->len, 6);
    assert_vstr(&v->u.list[0], "a");
    assert_int_equal(v->u.list[1].type, VG_T_INT);
    assert_int_equal(v->u.list[1].u.i, 2);
    assert_vnull(&v->u.list[2]);
    assert_int_equal(v->u.list[3].type, VG_T_BOOL);
    assert_int_equal(v->u.list[4].type, VG_T_FLOAT);
    assert_vstr(&v->u.list[5], "\xc3\xa9");
    assert_int_equal(f->slots[1].type, VG_T_INT);
    assert_int_equal(f->slots[1].u.i, 2);
    assert_int_equal(f->slots[2].type, VG_T_LIST);
    assert_int_equal(f->slots[2].len, 0);
}

static void test_json_decode_index_paths(void **state)
{
    struct fx *f = *state;
    add(f, "tags[0]", 0);
    add(f, "list[2].name", 1);
    add(f, "m[1][0]", 2);
    assert_int_equal(decode(f, "{\"list\":[{\"name\":\"x\"},7,{\"name\":\"z\",\"name\":\"w\"}],"
                               "\"tags\":[\"first\",\"second\"],\"m\":[[1],[2,3]]}"),
                     0);
    assert_vstr(&f->slots[0], "first");
    assert_vstr(&f->slots[1], "z");
    assert_int_equal(f->slots[2].type, VG_T_INT);
    assert_int_equal(f->slots[2].u.i, 2);
}

static void test_json_decode_object_at_path_is_raw_text(void **state)
{
    struct fx *f = *state;
    add(f, "geo", 0);
    add(f, "geo.country", 1);
    add(f, "list", 2);
    add(f, "list[1].k", 3);
    add(f, "last", 4);
    assert_int_equal(decode(f, "{\"geo\" : { \"country\" : \"FR\", \"n\": [1, {}] } ,"
                               "\"list\":[{\"k\":1}, {\"k\":\"v\"}]\n,"
                               "\"last\":{\"a\":[]}  }"),
                     0);
    assert_vstr(&f->slots[0], "{ \"country\" : \"FR\", \"n\": [1, {}] }");
    assert_vstr(&f->slots[1], "FR");
    assert_vstr(&f->slots[2], "[{\"k\":1}, {\"k\":\"v\"}]");
    assert_vstr(&f->slots[3], "v");
    assert_vstr(&f->slots[4], "{\"a\":[]}");
}

static void test_json_decode_mixed_array_is_raw_text(void **state)
{
    struct fx *f = *state;
    add(f, "a", 0);
    add(f, "a[2]", 1);
    assert_int_equal(decode(f, "{\"a\":[1,\"x\",[2,3],4]}"), 0);
    assert_vstr(&f->slots[0], "[1,\"x\",[2,3],4]");
    assert_int_equal(f->slots[1].type, VG_T_LIST);
    assert_int_equal(f->slots[1].len, 2);
    assert_int_equal(f->slots[1].u.list[1].u.i, 3);
}

static void test_json_decode_top_level_not_object(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    assert_error(f, "[{\"user\":\"a\"}]", "not a JSON object");
    assert_error(f, "42", "not a JSON object");
    assert_error(f, "\"user\"", "not a JSON object");
    assert_error(f, "null", "not a JSON object");
    assert_error(f, "", "invalid JSON: EMPTY");
    assert_error(f, "   \n", "invalid JSON: EMPTY");
}

static void test_json_decode_trailing_content_is_error(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    assert_error(f, "{\"user\":\"a\"} {\"user\":\"b\"}", "invalid JSON: ");
    assert_error(f, "{\"user\":\"a\"}}", "invalid JSON: ");
    assert_error(f, "{\"user\":\"a\"} x", "invalid JSON: ");
    assert_int_equal(decode(f, "  {\"user\":\"a\"}  \r\n"), 0);
}

static void test_json_decode_structure_errors(void **state)
{
    struct fx *f = *state;
    add(f, "a", 0);
    add(f, "b.c", 1);
    assert_error(f, "{\"a\":1,}", "invalid JSON: ");
    assert_error(f, "{\"a\" 1}", "invalid JSON: ");
    assert_error(f, "{\"a\":1 \"b\":2}", "invalid JSON: ");
    assert_error(f, "{a:1}", "invalid JSON: ");
    assert_error(f, "{\"a\":[1,2}", "invalid JSON: ");
    assert_error(f, "{\"b\":{\"c\":1]}", "invalid JSON: ");
}

static void test_json_decode_truncated_at_every_prefix(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "geo.country", 1);
    add(f, "tags", 2);
    add(f, "msg", 3);
    add(f, "ts", 4);
    size_t n = strlen(sample);
    for (size_t len = 0; len < n; len++) {
        /* a heap copy of exactly len bytes, so ASan sees any read past the end */
        char *buf = vg_xmalloc(len ? len : 1);
        memcpy(buf, sample, len);
        memset(&f->err, 0, sizeof(f->err));
        int rc = vg_json_decode(f->jp, f->p, buf, len, &f->arena, f->slots, &f->err);
        if (rc != VG_EINVAL || strncmp(f->err.msg, "invalid JSON: ", 14) != 0)
            fail_msg("prefix of %zu bytes: rc %d, reason '%s'", len, rc, f->err.msg);
        vg_free(buf);
    }
    assert_int_equal(vg_json_decode(f->jp, f->p, sample, n, &f->arena, f->slots, &f->err), 0);
}

static char *nested(size_t depth, char open, char close, const char *prefix, const char *suffix)
{
    size_t np = strlen(prefix), ns = strlen(suffix);
    char *s = vg_xmalloc(np + 2 * depth + ns + 1);
    memcpy(s, prefix, np);
    memset(s + np, open, depth);
    memset(s + np + depth, close, depth);
    memcpy(s + np + 2 * depth, suffix, ns + 1);
    return s;
}

static void test_json_decode_deep_nesting(void **state)
{
    struct fx *f = *state;
    add(f, "a", 0);
    add(f, "user", 1);
    /* 1000 nested arrays at a path: within simdjson's depth limit (1024), raw text */
    char *s = nested(1000, '[', ']', "{\"a\":", ",\"user\":\"u\"}");
    assert_int_equal(decode(f, s), 0);
    assert_int_equal(f->slots[0].type, VG_T_STR);
    assert_int_equal(f->slots[0].len, 2000);
    assert_vstr(&f->slots[1], "u");
    vg_free(s);
    /* the same under a key no path reads: skipped */
    s = nested(1000, '[', ']', "{\"zz\":", ",\"user\":\"u\"}");
    assert_int_equal(decode(f, s), 0);
    assert_vstr(&f->slots[1], "u");
    vg_free(s);
    /* far beyond simdjson's limit: the decode never descends further than the paths do
     * (skipping counts brackets), so it is the same: ok, raw text, no stack overflow */
    s = nested(100000, '[', ']', "{\"a\":", "}");
    assert_int_equal(decode(f, s), 0);
    assert_int_equal(f->slots[0].type, VG_T_STR);
    assert_int_equal(f->slots[0].len, 200000);
    vg_free(s);
    /* unbalanced at that depth: an error */
    s = nested(100000, '[', ']', "{\"a\":", "");
    assert_error(f, s, "invalid JSON: ");
    vg_free(s);
    char *objs = vg_xmalloc(100000 * 6 + 16);
    size_t n = 0;
    n += (size_t)sprintf(objs, "{");
    for (int i = 0; i < 100000; i++)
        n += (size_t)sprintf(objs + n, "\"a\":{");
    for (int i = 0; i < 100001; i++)
        objs[n++] = '}';
    objs[n] = '\0';
    assert_int_equal(decode(f, objs), 0);
    assert_int_equal(f->slots[0].type, VG_T_STR);
    assert_int_equal(f->slots[0].len, n - 6);
    objs[n - 1] = ' ';
    assert_error(f, objs, "invalid JSON: ");
    vg_free(objs);
}

/* The flat fast path in vg_json_decode against the simdjson walk alone, over documents built
 * from fragments (plain and escaped strings, integers, floats, big numbers, -0, literals,
 * nested containers, keys read twice, names alike in their first 8 or 16 bytes, as the memo of
 * names sees them) and over every one of them cut short, with a byte changed, dropped or
 * added: the same return code, the same message, the same slots. */
static uint64_t rnd_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void compare_with_full(struct fx *f, struct vg_json_simd *js, const char *buf, size_t len)
{
    struct vg_value want[N_SLOTS];
    struct vg_err werr = {0};
    for (size_t i = 0; i < N_SLOTS; i++)
        f->slots[i] = want[i] = VG_NULL_VALUE;
    int wrc = vg_json_simd_decode(js, f->p, buf, len, &f->arena, want, &werr);
    memset(&f->err, 0, sizeof(f->err));
    int rc = vg_json_decode(f->jp, f->p, buf, len, &f->arena, f->slots, &f->err);
    if (rc != wrc || (rc && strcmp(f->err.msg, werr.msg) != 0))
        fail_msg("'%.*s': rc %d '%s', simdjson %d '%s'", (int)len, buf, rc, f->err.msg, wrc,
                 werr.msg);
    if (rc)
        return;
    for (size_t i = 0; i < N_SLOTS; i++) {
        const struct vg_value *a = &f->slots[i], *b = &want[i];
        bool same = a->type == b->type;
        if (same && a->type == VG_T_STR)
            same = a->len == b->len && !memcmp(a->u.s, b->u.s, a->len);
        else if (same && a->type == VG_T_INT)
            same = a->u.i == b->u.i;
        else if (same && a->type == VG_T_FLOAT)
            same = !memcmp(&a->u.f, &b->u.f, sizeof(double));
        else if (same && a->type == VG_T_BOOL)
            same = a->u.b == b->u.b;
        else if (same && a->type == VG_T_LIST)
            same = a->len == b->len;
        if (!same)
            fail_msg("'%.*s': slot %zu differs (type %d, simdjson %d)", (int)len, buf, i, a->type,
                     b->type);
    }
}

static void test_json_decode_fast_path_agrees_with_full_decoder(void **state)
{
    struct fx *f = *state;
    static const char *const keys[] = {"user", "src_ip", "ts", "n", "b", "geo", "tags",
                                       "zz", "us\\u0065r", "x y", "", "user_agent_x",
                                       "user_agent_y", "user_agen", "a_very_long_field_name",
                                       "a_very_long_field_nam", "arr"};
    static const char *const vals[] = {
        "\"alice\"", "\"\"", "\"10.0.0.1\"", "0", "7", "-5", "123456789012345678",
        "1234567890123456789", "-0", "1.5", "-2.5e3", "1E2", "99999999999999999999", "true",
        "false", "null", "{}", "[]", "{\"country\":\"FR\",\"n\":[1,2]}", "[1,[2,{\"a\":null}]]",
        "\"a\\nb\"", "\"Z\xc3\xbc\"", "[\"a\",\"b\"]", "\"\x7f\"", "{\"a\":{\"b\":[[]]}}",
        "{\"country\":\"FR\",\"country\":1}", "[\"a\",{\"b\":1},2.5]", "[1.5,\"x\"]", "[ ]",
        "\"\\u00e9\\ud83d\\ude00\\\"x\\/\\b\\f\\r\\t\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"",
        "\"\\ud800\\u0041\"", "\"\\u12\"", "\"\\x\"", "\"\xe2\x82\xac \xf0\x9f\x98\x80\"",
        "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe0\x9f\xbf\"",
        "\"\xc3\"", "\"S\\u00e3o Paulo\"", "\"the quick brown fox jumps over the lazy dog\"",
        "\"0123456789abcdef\\\"0123456789\\\\x\"", "\"a long text with \xc3\xa9 and \\n escapes in it\""};
    static const char *const ws[] = {"", "", "", " ", "\n\t ", "\r\n"};
    static const char muts[] = "{}[],:\"\\x0 -.eE\x01\xff";
    add(f, "user", 0);
    add(f, "src_ip", 1);
    add(f, "ts", 2);
    add(f, "n", 3);
    add(f, "b", 4);
    add(f, "geo.country", 5);
    add(f, "tags", 6);
    add(f, "user_agent_x", 7);
    add(f, "a_very_long_field_name", 8);
    add(f, "geo", 9); /* raw text and a descent at one node */
    add(f, "arr[1]", 10);
    struct vg_json_simd *js = vg_json_simd_new();
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    char doc[1024], mut[1100];
    for (int round = 0; round < 4000; round++) {
        size_t n = 0;
        int members = (int)(rnd_next(&seed) % 6);
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s{%s", ws[rnd_next(&seed) % 6],
                              ws[rnd_next(&seed) % 6]);
        for (int m = 0; m < members; m++)
            n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"%s\"%s:%s%s%s", m ? "," : "",
                                  keys[rnd_next(&seed) % VG_ARRAY_LEN(keys)],
                                  ws[rnd_next(&seed) % 6], ws[rnd_next(&seed) % 6],
                                  vals[rnd_next(&seed) % VG_ARRAY_LEN(vals)],
                                  ws[rnd_next(&seed) % 6]);
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "}%s", ws[rnd_next(&seed) % 6]);
        compare_with_full(f, js, doc, n);
        for (int k = 0; k < 8; k++) {
            size_t at = (size_t)(rnd_next(&seed) % (n + 1));
            char c = muts[rnd_next(&seed) % (sizeof(muts) - 1)];
            size_t mn = 0;
            switch (k % 4) {
            case 0: /* cut short */
                memcpy(mut, doc, at);
                mn = at;
                break;
            case 1: /* a byte changed */
                memcpy(mut, doc, n);
                mn = n;
                if (at < n)
                    mut[at] = c;
                break;
            case 2: /* a byte dropped */
                memcpy(mut, doc, at);
                if (at < n)
                    memcpy(mut + at, doc + at + 1, n - at - 1);
                mn = at < n ? n - 1 : n;
                break;
            default: /* a byte added */
                memcpy(mut, doc, at);
                mut[at] = c;
                memcpy(mut + at + 1, doc + at, n - at);
                mn = n + 1;
                break;
            }
            /* exactly mn bytes on the heap, so ASan sees any read past the end */
            char *heap = vg_xmalloc(mn ? mn : 1);
            memcpy(heap, mut, mn);
            compare_with_full(f, js, heap, mn);
            vg_free(heap);
        }
    }
    vg_json_simd_free(js);
}

static void test_json_decode_reuses_parser_across_sizes(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "pad", 1);
    size_t big = 200000;
    char *json = vg_xmalloc(big + 64);
    int n = sprintf(json, "{\"pad\":\"");
    memset(json + n, 'x', big);
    sprintf(json + n + big, "\",\"user\":\"big\"}");
    assert_int_equal(decode(f, json), 0);
    assert_vstr(&f->slots[0], "big");
    assert_int_equal(f->slots[1].len, big);
    vg_free(json);
    assert_int_equal(decode(f, "{\"user\":\"small\"}"), 0);
    assert_vstr(&f->slots[0], "small");
    assert_vnull(&f->slots[1]);
}

static void test_json_decode_no_paths(void **state)
{
    struct fx *f = *state;
    assert_int_equal(decode(f, sample), 0);
    assert_error(f, "{\"a\":", "invalid JSON: ");
}

/* ---- vg_json_write_value ---- */

static const char *write(struct vg_buf *b, struct vg_value v)
{
    vg_buf_clear(b);
    vg_json_write_value(b, &v);
    return vg_buf_cstr(b);
}

static void test_json_write_value_scalars(void **state)
{
    (void)state;
    struct vg_buf b;
    vg_buf_init(&b);
    assert_string_equal(write(&b, VG_NULL_VALUE), "null");
    assert_string_equal(write(&b, vg_value_bool(true)), "true");
    assert_string_equal(write(&b, vg_value_bool(false)), "false");
    assert_string_equal(write(&b, vg_value_int(-42)), "-42");
    assert_string_equal(write(&b, vg_value_int(INT64_MIN)), "-9223372036854775808");
    assert_string_equal(write(&b, vg_value_float(1.5)), "1.5");
    assert_string_equal(write(&b, vg_value_float(2.0)), "2.0");
    assert_string_equal(write(&b, vg_value_float(0.1)), "0.1");
    assert_string_equal(write(&b, vg_value_float(1e300)), "1e+300");
    assert_string_equal(write(&b, vg_value_float(-0.0)), "-0.0");
    assert_string_equal(write(&b, vg_value_float(1.0 / 0.0)), "null");
    assert_string_equal(write(&b, vg_value_float(0.0 / 0.0)), "null");
    assert_string_equal(write(&b, vg_value_str("a\"b\\c\n\x01\xc3\xa9", 9)),
                        "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    assert_string_equal(write(&b, vg_value_str(NULL, 0)), "\"\"");
    vg_buf_fini(&b);
}

static void test_json_write_value_floats_round_trip(void **state)
{
    (void)state;
    struct vg_buf b;
    vg_buf_init(&b);
    const double xs[] = {0.1 + 0.2, 1.0 / 3.0, 123456789.123456789, 5e-324, 1.7976931348623157e308,
                         -2.5e-3, 9007199254740993.0};
    for (size_t i = 0; i < VG_ARRAY_LEN(xs); i++) {
        const char *s = write(&b, vg_value_float(xs[i]));
        assert_true(strtod(s, NULL) == xs[i]);
    }
    assert_string_equal(write(&b, vg_value_float(0.1 + 0.2)), "0.30000000000000004");
    vg_buf_fini(&b);
}

static void test_json_write_value_list(void **state)
{
    (void)state;
    struct vg_buf b;
    vg_buf_init(&b);
    struct vg_value items[] = {vg_value_str("a", 1), vg_value_int(2), VG_NULL_VALUE,
                               vg_value_bool(false)};
    struct vg_value l = {.type = VG_T_LIST, .len = 4};
    l.u.list = items;
    assert_string_equal(write(&b, l), "[\"a\",2,null,false]");
    l.len = 0;
    assert_string_equal(write(&b, l), "[]");
    vg_buf_fini(&b);
}

static void test_json_decode_then_write_round_trips(void **state)
{
    struct fx *f = *state;
    add(f, "v", 0);
    const char *cases[][2] = {
        {"{\"v\":\"x\\u00e9\\n\"}", "\"x\xc3\xa9\\n\""},
        {"{\"v\":[1,-2.5,\"s\",true,null]}", "[1,-2.5,\"s\",true,null]"},
        {"{\"v\":3.0}", "3.0"},
        {"{\"v\":1e2}", "100.0"},
        {"{\"v\":-12}", "-12"},
    };
    struct vg_buf b;
    vg_buf_init(&b);
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        assert_int_equal(decode(f, cases[i][0]), 0);
        assert_string_equal(write(&b, f->slots[0]), cases[i][1]);
    }
    vg_buf_fini(&b);
}

/* ---- vg_json_top_strings ---- */

/* top_strings over json for names (comma-separated); each value as text, "null" for an
 * absent field, into out[]. Returns what vg_json_top_strings returned. */
static int top(const char *json, const char *names, char out[][32])
{
    char copy[128];
    snprintf(copy, sizeof(copy), "%s", names);
    const char *v[8];
    size_t lens[8], n = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        v[n] = t;
        lens[n++] = strlen(t);
    }
    struct vg_value vals[8];
    int rc = vg_json_top_strings(json, strlen(json), v, lens, n, vals);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (vals[i].type == VG_T_NULL)
            snprintf(out[i], 32, "null");
        else if (vals[i].type == VG_T_STR) /* and pointing into json */
            snprintf(out[i], 32, "%.*s%s", (int)vals[i].len, vals[i].u.s,
                     vals[i].u.s > json && vals[i].u.s < json + strlen(json) ? "" : "?");
        else
            snprintf(out[i], 32, "type %d", (int)vals[i].type);
    }
    return rc;
}

static void test_json_top_strings_found(void **state)
{
    (void)state;
    char out[8][32];
    assert_int_equal(top("{\"ts\":1,\"user\":\"bob\",\"x\":true}", "user", out), 0);
    assert_string_equal(out[0], "bob");
    /* whitespace, a nested field of the same name, escapes and brackets in skipped strings */
    assert_int_equal(top(" {\n \"a\" : [1, {\"user\": \"x\"}],\t\"msg\": \"say \\\"hi\\\" {[\", "
                         "\"user\" :\r\"y\" }", "user", out), 0);
    assert_string_equal(out[0], "y");
    /* several names, in any order; a name given twice gets the value twice */
    assert_int_equal(top("{\"host\":\"h1\",\"user\":\"\",\"n\":{}}", "user,host,user", out), 0);
    assert_string_equal(out[0], "");
    assert_string_equal(out[1], "h1");
    assert_string_equal(out[2], "");
    /* the first of a key seen twice, as vg_json_decode; what follows is not read */
    assert_int_equal(top("{\"user\":\"a\",\"user\":\"b\"", "user", out), 0);
    assert_string_equal(out[0], "a");
    /* absent: null, once the whole object was read */
    assert_int_equal(top("{\"a\":1,\"b\":[\"user\"]}", "user", out), 0);
    assert_string_equal(out[0], "null");
    assert_int_equal(top("{ }", "user", out), 0);
    assert_string_equal(out[0], "null");
}

static void test_json_top_strings_cannot_tell(void **state)
{
    (void)state;
    char out[8][32];
    static const char *const docs[] = {
        "",                                   /* not an object */
        "[{\"user\":\"a\"}]",                   /* not an object */
        "\"user\"",                            /* not an object */
        "{\"user\":\"a\\u0062\"}",              /* escaped value */
        "{\"us\\u0065r\":\"a\"}",               /* escaped key: might be the name */
        "{\"user\":7}",                        /* not a string */
        "{\"user\":null}",                     /* not a string */
        "{\"user\":[\"a\"]}",                   /* not a string */
        "{\"user\":\"a",                        /* truncated */
        "{\"a\":\"x",                           /* truncated before it */
        "{\"a\":1",                             /* ended before it */
        "{\"a\" 1,\"user\":\"b\"}",              /* no colon */
        "{a:1,\"user\":\"b\"}",                  /* unquoted key */
        "{\"a\":1,}",                           /* a comma and no key */
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        if (top(docs[i], "user", out) != -1)
            fail_msg("told a value for %s", docs[i]);
}

/* Where vg_json_top_strings tells a value, it is what vg_json_decode gives the same path. */
static void test_json_top_strings_agrees_with_decode(void **state)
{
    struct fx *f = *state;
    add(f, "user", 0);
    add(f, "host", 1);
    add(f, "a.b", 2);
    static const char *const docs[] = {
        "{\"user\":\"u1\",\"host\":\"h\"}",
        "{\"host\":\"h\",\"a\":{\"b\":\"x\"},\"user\":\"u\\\"\"}",
        "{\"a\":{\"user\":\"no\"},\"user\":\"yes\",\"host\":\"h\"}",
        "{\"user\":\"first\",\"host\":\"h\",\"user\":\"second\"}",
        "{\"x\":[{\"host\":\"no\"}],\"host\":\"\u00e9t\u00e9\",\"user\":\"\"}",
        "{\"x\":\"}\",\"host\":\"h\"}",
        "{}",
    };
    const char *names[] = {"user", "host"};
    size_t lens[] = {4, 4};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct vg_value vals[2];
        if (vg_json_top_strings(docs[i], strlen(docs[i]), names, lens, 2, vals) != 0)
            continue; /* cannot tell: fine */
        assert_int_equal(decode(f, docs[i]), 0);
        for (int k = 0; k < 2; k++) {
            assert_int_equal(vals[k].type, f->slots[k].type);
            if (vals[k].type == VG_T_STR) {
                assert_int_equal(vals[k].len, f->slots[k].len);
                assert_memory_equal(vals[k].u.s, f->slots[k].u.s, vals[k].len);
            }
        }
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_json_decode_extracts_flat_and_nested_fields),
        T(test_json_decode_plain_string_points_into_input),
        T(test_json_decode_input_need_not_be_terminated),
        T(test_json_decode_unescapes_into_arena),
        T(test_json_decode_surrogate_pair_to_utf8),
        T(test_json_decode_lone_surrogate_is_error),
        T(test_json_decode_raw_utf8_passes_through),
        T(test_json_decode_invalid_utf8_is_error),
        T(test_json_decode_control_char_in_string_is_error),
        T(test_json_decode_key_with_escape_matches),
        T(test_json_decode_duplicate_key_first_wins),
        T(test_json_decode_missing_path_is_null),
        T(test_json_decode_path_through_non_object_is_null),
        T(test_json_decode_leaves_other_slots_alone),
        T(test_json_decode_numbers),
        T(test_json_decode_bad_numbers_are_errors),
        T(test_json_decode_literals),
        T(test_json_decode_array_of_scalars_is_list),
        T(test_json_decode_index_paths),
        T(test_json_decode_object_at_path_is_raw_text),
        T(test_json_decode_mixed_array_is_raw_text),
        T(test_json_decode_top_level_not_object),
        T(test_json_decode_trailing_content_is_error),
        T(test_json_decode_structure_errors),
        T(test_json_decode_truncated_at_every_prefix),
        T(test_json_decode_deep_nesting),
        T(test_json_decode_fast_path_agrees_with_full_decoder),
        T(test_json_decode_reuses_parser_across_sizes),
        T(test_json_decode_no_paths),
        T(test_json_write_value_scalars),
        T(test_json_write_value_floats_round_trip),
        T(test_json_write_value_list),
        T(test_json_decode_then_write_round_trips),
        T(test_json_top_strings_found),
        T(test_json_top_strings_cannot_tell),
        T(test_json_top_strings_agrees_with_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
