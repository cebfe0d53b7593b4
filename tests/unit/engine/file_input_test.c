/* SPDX-License-Identifier: Apache-2.0 */
/* file_input_test.c - tests for engine/file_input.c: JSON lines from plain files (mapped,
 * records kept in place until released) and gzip files (copied), blank lines, a last line
 * without a newline, several files in order, a missing file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "file_input.h"
#include "vg_test.h"

struct rec {
    char *text;
    const char *data; /* as handed out */
    bool kept;
    char path[512];
};

/* Every record of fi (at most max), copied, with the pointers handed out. */
static size_t read_all(struct vg_file_input *fi, struct rec *out, size_t max, int *rc)
{
    size_t n = 0;
    for (;;) {
        const char *data, *path;
        size_t len;
        bool kept = false;
        struct vg_err err = {0};
        *rc = vg_file_input_next(fi, &data, &len, &path, &kept, &err);
        if (*rc <= 0)
            return n;
        assert_true(n < max);
        out[n].text = strndup(data, len);
        out[n].data = data;
        out[n].kept = kept;
        snprintf(out[n].path, sizeof(out[n].path), "%s", path);
        n++;
    }
}

static void test_plain_then_gzip_in_order(void **state)
{
    (void)state;
    char *dir = vg_test_tmpdir();
    /* a blank line is skipped; the last line has no newline */
    char *a = vg_test_write(dir, "a.jsonl", "{\"n\":1}\n\n{\"n\":2}\r\n{\"n\":3}");
    char *b = vg_test_write(dir, "b.jsonl", "{\"n\":4}\n{\"n\":5}\n");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "gzip '%s'", b);
    assert_int_equal(system(cmd), 0);
    char bgz[600];
    snprintf(bgz, sizeof(bgz), "%s.gz", b);
    const char *paths[] = {a, bgz};
    struct vg_file_input *fi = vg_file_input_new(paths, 2);
    struct rec r[8];
    int rc;
    size_t n = read_all(fi, r, 8, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 5);
    const char *want[] = {"{\"n\":1}", "{\"n\":2}\r", "{\"n\":3}", "{\"n\":4}", "{\"n\":5}"};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r[i].text, want[i]);
        assert_string_equal(r[i].path, i < 3 ? a : bgz);
        assert_int_equal(r[i].kept, i < 3); /* plain: in place; gzip: copied */
    }
    /* the plain file's records are still where they were handed out (its file was read to
     * the end and the next one opened meanwhile) until released */
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(r[i].data, want[i], strlen(want[i]));
    vg_file_input_release(fi);
    vg_file_input_free(fi);
    for (size_t i = 0; i < n; i++)
        free(r[i].text);
    free(a);
    free(b);
    vg_test_rmdir(dir);
}

static void test_empty_and_missing_files(void **state)
{
    (void)state;
    char *dir = vg_test_tmpdir();
    char *empty = vg_test_write(dir, "empty.jsonl", "");
    char *one = vg_test_write(dir, "one.jsonl", "{\"n\":1}\n");
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/missing.jsonl", dir);
    const char *paths[] = {empty, one, missing};
    struct vg_file_input *fi = vg_file_input_new(paths, 3);
    struct rec r[4];
    int rc;
    size_t n = read_all(fi, r, 4, &rc);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].text, "{\"n\":1}");
    assert_true(rc < 0); /* the missing file is an error naming it */
    const char *data, *path;
    size_t len;
    bool kept;
    struct vg_err err = {0};
    assert_true(vg_file_input_next(fi, &data, &len, &path, &kept, &err) < 0);
    assert_non_null(strstr(err.msg, "missing.jsonl"));
    vg_file_input_free(fi);
    free(r[0].text);
    free(empty);
    free(one);
    vg_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_then_gzip_in_order),
        cmocka_unit_test(test_empty_and_missing_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
