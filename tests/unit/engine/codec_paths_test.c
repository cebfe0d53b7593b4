/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec_paths_test.c - unit tests of engine/codec_paths.c: path syntax, errors, and the
 * shape of the compiled trie the decoders walk.
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

#include "codec.h"
#include "codec_paths.h"

static void assert_seg_key(const struct vg_paths_seg *s, const char *name)
{
    assert_non_null(s->name);
    assert_int_equal(s->len, strlen(name));
    assert_memory_equal(s->name, name, s->len);
    assert_int_equal(s->index, -1);
}

static void assert_seg_index(const struct vg_paths_seg *s, int32_t index)
{
    assert_null(s->name);
    assert_int_equal(s->index, index);
}

static void test_paths_split_dotted(void **state)
{
    (void)state;
    struct vg_paths_seg segs[VG_PATHS_MAX_SEGS];
    struct vg_err err = {0};
    assert_int_equal(vg_paths_split("a.b.c", segs, &err), 3);
    assert_seg_key(&segs[0], "a");
    assert_seg_key(&segs[1], "b");
    assert_seg_key(&segs[2], "c");
    assert_int_equal(vg_paths_split("user", segs, &err), 1);
    assert_seg_key(&segs[0], "user");
    assert_int_equal(vg_paths_split("src-ip_v4.$x@y", segs, &err), 2);
    assert_seg_key(&segs[0], "src-ip_v4");
    assert_seg_key(&segs[1], "$x@y");
}

static void test_paths_split_indexes(void **state)
{
    (void)state;
    struct vg_paths_seg segs[VG_PATHS_MAX_SEGS];
    struct vg_err err = {0};
    assert_int_equal(vg_paths_split("tags[0]", segs, &err), 2);
    assert_seg_key(&segs[0], "tags");
    assert_seg_index(&segs[1], 0);
    assert_int_equal(vg_paths_split("a.list[2].name", segs, &err), 4);
    assert_seg_key(&segs[0], "a");
    assert_seg_key(&segs[1], "list");
    assert_seg_index(&segs[2], 2);
    assert_seg_key(&segs[3], "name");
    assert_int_equal(vg_paths_split("m[10][999999999]", segs, &err), 3);
    assert_seg_index(&segs[1], 10);
    assert_seg_index(&segs[2], 999999999);
}

static void expect_split_error(const char *path, const char *msg)
{
    struct vg_paths_seg segs[VG_PATHS_MAX_SEGS];
    struct vg_err err = {0};
    assert_int_equal(vg_paths_split(path, segs, &err), VG_EINVAL);
    assert_int_equal(err.code, VG_EINVAL);
    assert_string_equal(err.msg, msg);
}

static void test_paths_split_errors(void **state)
{
    (void)state;
    expect_split_error("", "empty field path");
    expect_split_error(".a", "path '.a': expected a field name at column 1");
    expect_split_error("a.", "path 'a.': expected a field name at column 3");
    expect_split_error("a..b", "path 'a..b': expected a field name at column 3");
    expect_split_error("[0]", "path '[0]': expected a field name at column 1");
    expect_split_error("a[", "path 'a[': expected an index like [0] at column 2");
    expect_split_error("a[]", "path 'a[]': expected an index like [0] at column 2");
    expect_split_error("a[x]", "path 'a[x]': expected an index like [0] at column 2");
    expect_split_error("a[-1]", "path 'a[-1]': expected an index like [0] at column 2");
    expect_split_error("a[1", "path 'a[1': expected an index like [0] at column 2");
    expect_split_error("a[1234567890]",
                       "path 'a[1234567890]': expected an index like [0] at column 2");
    expect_split_error("a b", "path 'a b': unexpected ' ' at column 2, expected '.' or '['");
    expect_split_error("a]", "path 'a]': unexpected ']' at column 2, expected '.' or '['");
    expect_split_error("a[0]b", "path 'a[0]b': unexpected 'b' at column 5, expected '.' or '['");
}

static void test_paths_split_bounds(void **state)
{
    (void)state;
    char path[VG_PATHS_MAX_LEN + 2];
    struct vg_paths_seg segs[VG_PATHS_MAX_SEGS];
    struct vg_err err = {0};
    /* exactly the maximum number of segments, then one more */
    size_t n = 0;
    for (int i = 0; i < VG_PATHS_MAX_SEGS; i++)
        n += (size_t)sprintf(path + n, "%sa", i ? "." : "");
    assert_int_equal(vg_paths_split(path, segs, &err), VG_PATHS_MAX_SEGS);
    sprintf(path + n, ".a");
    assert_int_equal(vg_paths_split(path, segs, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "more than 32 segments"));
    memset(path, 'x', VG_PATHS_MAX_LEN + 1);
    path[VG_PATHS_MAX_LEN + 1] = '\0';
    assert_int_equal(vg_paths_split(path, segs, &err), VG_EINVAL);
    assert_string_equal(err.msg, "field path of 1025 bytes: at most 1024 allowed");
}

static void test_paths_add_counts_and_keeps_first_slot(void **state)
{
    (void)state;
    struct vg_paths *p = vg_paths_new();
    struct vg_err err = {0};
    assert_int_equal(vg_paths_count(p), 0);
    assert_int_equal(vg_paths_add(p, "user", 4, &err), 0);
    assert_int_equal(vg_paths_add(p, "geo.country", 7, &err), 0);
    assert_int_equal(vg_paths_add(p, "user", 9, &err), 0);
    assert_int_equal(vg_paths_count(p), 2);
    const struct vg_paths_node *u = vg_paths_child_key(p, &p->nodes[0], "user", 4);
    assert_non_null(u);
    assert_int_equal(u->slot, 4);
    assert_int_equal(vg_paths_add(p, "a..b", 1, &err), VG_EINVAL);
    assert_string_equal(err.msg, "path 'a..b': expected a field name at column 3");
    assert_int_equal(vg_paths_add(p, "x", -1, &err), VG_EINVAL);
    assert_int_equal(vg_paths_count(p), 2);
    vg_paths_free(p);
}

static void test_paths_trie_shape(void **state)
{
    (void)state;
    struct vg_paths *p = vg_paths_new();
    struct vg_err err = {0};
    const char *paths[] = {"zeta", "geo.country", "a", "geo", "tags[3]", "tags[0]",
                           "list[2].name", "geo.city", "bb"};
    for (int i = 0; i < (int)VG_ARRAY_LEN(paths); i++)
        assert_int_equal(vg_paths_add(p, paths[i], i, &err), 0);
    const struct vg_paths_node *root = &p->nodes[0];
    assert_int_equal(root->slot, -1);
    assert_int_equal(root->n_keys, 6); /* zeta geo a tags list bb */
    assert_int_equal(root->n_index, 0);
    /* key children sorted by (length, bytes) */
    const char *order[] = {"a", "bb", "geo", "list", "tags", "zeta"};
    for (uint32_t i = 0; i < root->n_keys; i++)
        assert_string_equal(p->nodes[root->first_key + i].name, order[i]);
    const struct vg_paths_node *geo = vg_paths_child_key(p, root, "geo", 3);
    assert_int_equal(geo->slot, 3);
    assert_int_equal(geo->n_keys, 2);
    assert_int_equal(vg_paths_child_key(p, geo, "country", 7)->slot, 1);
    assert_int_equal(vg_paths_child_key(p, geo, "city", 4)->slot, 7);
    assert_null(vg_paths_child_key(p, geo, "count", 5));
    assert_null(vg_paths_child_key(p, root, "ge", 2));
    const struct vg_paths_node *tags = vg_paths_child_key(p, root, "tags", 4);
    assert_int_equal(tags->slot, -1);
    assert_int_equal(tags->n_index, 2);
    assert_int_equal(vg_paths_child_index(p, tags, 0)->slot, 5);
    assert_int_equal(vg_paths_child_index(p, tags, 3)->slot, 4);
    assert_null(vg_paths_child_index(p, tags, 1));
    assert_null(vg_paths_child_index(p, tags, 4));
    const struct vg_paths_node *list = vg_paths_child_key(p, root, "list", 4);
    const struct vg_paths_node *l2 = vg_paths_child_index(p, list, 2);
    assert_int_equal(l2->slot, -1);
    assert_int_equal(vg_paths_child_key(p, l2, "name", 4)->slot, 6);
    assert_int_equal(vg_paths_count(p), 9);
    assert_int_equal(p->n_slots, 9);
    vg_paths_free(p);
}

/* Keys longer than 8 bytes that share their first 8 (compared past the prefix), keys that
 * differ only in their last byte, and misses between them. */
static void test_paths_child_key_long_and_close(void **state)
{
    (void)state;
    struct vg_paths *p = vg_paths_new();
    struct vg_err err = {0};
    const char *paths[] = {"timestamp_b", "timestamp_a", "timestampXa", "user_nam", "user_nax",
                           "u", "timestamp_ab"};
    for (int i = 0; i < (int)VG_ARRAY_LEN(paths); i++)
        assert_int_equal(vg_paths_add(p, paths[i], i, &err), 0);
    const struct vg_paths_node *root = &p->nodes[0];
    for (int i = 0; i < (int)VG_ARRAY_LEN(paths); i++) {
        const struct vg_paths_node *n = vg_paths_child_key(p, root, paths[i], strlen(paths[i]));
        assert_non_null(n);
        assert_int_equal(n->slot, i);
    }
    const char *misses[] = {"timestamp_c", "timestamp_", "timestampXb", "user_naz", "user_na",
                            "v", "", "timestamp_abc"};
    for (size_t i = 0; i < VG_ARRAY_LEN(misses); i++)
        assert_null(vg_paths_child_key(p, root, misses[i], strlen(misses[i])));
    /* the children stay in (length, bytes) order */
    for (uint32_t i = 1; i < root->n_keys; i++) {
        const struct vg_paths_node *a = &p->nodes[root->first_key + i - 1];
        const struct vg_paths_node *b = &p->nodes[root->first_key + i];
        assert_true(a->name_len < b->name_len ||
                    (a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) < 0));
    }
    vg_paths_free(p);
}

/* vg_prefix8 (vg_common.h), which the child look-up orders and matches names by: the first
 * 8 bytes big-endian, zero-padded, as a byte-by-byte reference builds them; between texts of
 * one length its order is memcmp's over those bytes. */
static void test_prefix8_is_big_endian_padded(void **state)
{
    (void)state;
    unsigned char text[16];
    unsigned seed = 1;
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof(text); i++) {
            seed = seed * 1103515245u + 12345u;
            text[i] = (unsigned char)(round % 3 == 0 ? 0xf0 + (seed >> 28) : seed >> 16);
        }
        size_t len = (size_t)round % 13;
        uint64_t want = 0;
        for (size_t i = 0; i < 8; i++)
            want = want << 8 | (i < len ? text[i] : 0u);
        assert_true(vg_prefix8(text, len) == want);
        unsigned char other[16];
        memcpy(other, text, sizeof(other));
        other[(size_t)round % 8] ^= (unsigned char)(1u << (round % 8));
        if ((size_t)round % 8 < len) {
            int c = memcmp(text, other, len < 8 ? len : 8);
            uint64_t a = vg_prefix8(text, len), b = vg_prefix8(other, len);
            assert_int_equal(c < 0, a < b);
            assert_int_equal(c > 0, a > b);
        }
    }
}

static void test_paths_free_null(void **state)
{
    (void)state;
    vg_paths_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_split_dotted),
        cmocka_unit_test(test_paths_split_indexes),
        cmocka_unit_test(test_paths_split_errors),
        cmocka_unit_test(test_paths_split_bounds),
        cmocka_unit_test(test_paths_add_counts_and_keeps_first_slot),
        cmocka_unit_test(test_paths_trie_shape),
        cmocka_unit_test(test_paths_child_key_long_and_close),
        cmocka_unit_test(test_prefix8_is_big_endian_padded),
        cmocka_unit_test(test_paths_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
