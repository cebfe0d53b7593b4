/* SPDX-License-Identifier: Apache-2.0 */
/* file_input_test.c - tests for engine/file_input.c: JSON lines from plain files (mapped,
 * records kept in place until released) and gzip files (copied), blank lines, a last line
 * without a newline, several files in order, a missing file; pipes, a FIFO and standard
 * input ("-") read from their first byte (plain, gzip, an Avro container), never mapped or
 * reopened; files of kcat envelopes (plain and gzip): each record's partition, offset,
 * timestamp and unescaped payload, a null payload, a bad line handed out with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <avro.h>
#include <cmocka.h>

#include "file_input.h"
#include "vg_test.h"

struct rec {
    char *text;
    const char *data; /* as handed out */
    bool kept;
    char path[512];
    struct vg_file_rec r; /* its pointers are not kept */
    char *bad;
};

/* Every record of fi (at most max), copied, with the pointers handed out. */
static size_t read_all(struct vg_file_input *fi, struct rec *out, size_t max, int *rc)
{
    size_t n = 0;
    for (;;) {
        struct vg_file_rec r;
        struct vg_err err = {0};
        *rc = vg_file_input_next(fi, &r, &err);
        if (*rc <= 0)
            return n;
        assert_true(n < max);
        out[n].text = NULL;
        if (r.data) { /* (an Avro datum may hold NUL bytes) */
            out[n].text = malloc(r.len + 1);
            memcpy(out[n].text, r.data, r.len);
            out[n].text[r.len] = '\0';
        }
        out[n].data = r.data;
        out[n].kept = r.kept;
        out[n].bad = r.bad ? strdup(r.bad) : NULL;
        snprintf(out[n].path, sizeof(out[n].path), "%s", r.path);
        out[n].r = r;
        n++;
    }
}

static void free_recs(struct rec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].text);
        free(r[i].bad);
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
    const uint64_t lines[] = {1, 3, 4, 1, 2}; /* blank lines counted */
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r[i].text, want[i]);
        assert_string_equal(r[i].path, i < 3 ? a : bgz);
        assert_int_equal(r[i].kept, i < 3); /* plain: in place; gzip: copied */
        assert_int_equal(r[i].r.line, lines[i]);
        assert_false(r[i].r.envelope);
        assert_int_equal(r[i].r.partition, 0);
        assert_int_equal(r[i].r.offset, -1);
    }
    /* the plain file's records are still where they were handed out (its file was read to
     * the end and the next one opened meanwhile) until released */
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(r[i].data, want[i], strlen(want[i]));
    vg_file_input_release(fi);
    vg_file_input_free(fi);
    free_recs(r, n);
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
    struct vg_file_rec rec;
    struct vg_err err = {0};
    assert_true(vg_file_input_next(fi, &rec, &err) < 0);
    assert_non_null(strstr(err.msg, "missing.jsonl"));
    vg_file_input_free(fi);
    free_recs(r, n);
    free(empty);
    free(one);
    vg_test_rmdir(dir);
}

/* ---- streams ---- */

/* A child that writes len bytes of data to fd (the write end; the parent's copy is closed
 * here) and exits; reaped by reap. */
static pid_t write_child(int fd, const void *data, size_t len)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *p = data;
        while (len > 0) {
            ssize_t w = write(fd, p, len);
            if (w <= 0)
                _exit(1);
            p += w;
            len -= (size_t)w;
        }
        _exit(0);
    }
    close(fd);
    return pid;
}

static void reap(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The records of one input path, joined as "text\n" each (NULL payloads as "(null)"). */
static char *joined(const char *path, size_t *n_out)
{
    struct vg_file_input *fi = vg_file_input_new(&path, 1);
    struct rec r[64];
    int rc;
    size_t n = read_all(fi, r, 64, &rc);
    assert_int_equal(rc, 0);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += (r[i].text ? r[i].r.len : 6) + 1;
    char *out = calloc(len, 1), *at = out;
    for (size_t i = 0; i < n; i++) {
        assert_false(r[i].kept); /* a stream's records are copies */
        if (r[i].text)
            memcpy(at, r[i].text, r[i].r.len);
        else
            memcpy(at, "(null)", 6);
        at += r[i].text ? r[i].r.len : 6;
        *at++ = '\n';
    }
    vg_file_input_free(fi);
    free_recs(r, n);
    *n_out = n;
    return out;
}

static char *file_bytes(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    char *b = malloc(*len + 1);
    assert_int_equal(fread(b, 1, *len, fp), *len);
    fclose(fp);
    return b;
}

/* A pipe read by its /dev/fd name: the first line is whole (the bytes read to tell gzip and
 * Avro from JSON lines are not lost to a second open). */
static void test_pipe_first_line_whole(void **state)
{
    (void)state;
    const char *text = "{\"user\":\"u1\",\"n\":1}\n{\"user\":\"u2\",\"n\":2}\n";
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t w = write_child(p[1], text, strlen(text));
    char path[64];
    snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
    assert_false(vg_file_input_rereadable(path));
    size_t n;
    char *got = joined(path, &n);
    assert_string_equal(got, text);
    assert_int_equal(n, 2);
    free(got);
    close(p[0]);
    reap(w);
}

/* "-": standard input, plain and gzip. */
static void test_stdin_plain_and_gzip(void **state)
{
    (void)state;
    char *dir = vg_test_tmpdir();
    const char *text = "{\"n\":1}\n\n{\"n\":2}\n{\"n\":3}";
    char *plain = vg_test_write(dir, "s.jsonl", text);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "gzip -k '%s'", plain);
    assert_int_equal(system(cmd), 0);
    char gz[600];
    snprintf(gz, sizeof(gz), "%s.gz", plain);
    assert_false(vg_file_input_rereadable("-"));
    const char *sources[] = {plain, gz};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *bytes = file_bytes(sources[k], &len);
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t w = write_child(p[1], bytes, len);
        int saved = dup(0);
        assert_int_equal(dup2(p[0], 0), 0);
        close(p[0]);
        size_t n;
        char *got = joined("-", &n);
        assert_int_equal(dup2(saved, 0), 0);
        close(saved);
        assert_string_equal(got, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
        free(got);
        free(bytes);
        reap(w);
    }
    free(plain);
    vg_test_rmdir(dir);
}

/* A FIFO by its name: gzip through it, and a FIFO is never taken for a file to map. */
static void test_fifo_gzip(void **state)
{
    (void)state;
    char *dir = vg_test_tmpdir();
    char *plain = vg_test_write(dir, "f.jsonl", "{\"n\":1}\n{\"n\":2}\n");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "gzip '%s'", plain);
    assert_int_equal(system(cmd), 0);
    char gz[600], fifo[600];
    snprintf(gz, sizeof(gz), "%s.gz", plain);
    snprintf(fifo, sizeof(fifo), "%s/in.fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_false(vg_file_input_rereadable(fifo));
    size_t len;
    char *bytes = file_bytes(gz, &len);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* opening for writing waits for the reader */
        FILE *fp = fopen(fifo, "wb");
        _exit(fp && fwrite(bytes, 1, len, fp) == len && fclose(fp) == 0 ? 0 : 1);
    }
    size_t n;
    char *got = joined(fifo, &n);
    assert_string_equal(got, "{\"n\":1}\n{\"n\":2}\n");
    reap(pid);
    free(got);
    free(bytes);
    free(plain);
    vg_test_rmdir(dir);
}

/* An Avro container through a pipe, or gzip-compressed, gives the datums it gives as a
 * file. */
static void test_pipe_avro_container(void **state)
{
    (void)state;
    char *dir = vg_test_tmpdir();
    static const char schema_json[] =
        "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"n\",\"type\":\"long\"},"
        "{\"name\":\"s\",\"type\":\"string\"}]}";
    avro_schema_t schema;
    assert_int_equal(avro_schema_from_json_length(schema_json, strlen(schema_json), &schema), 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/r.avro", dir);
    avro_file_writer_t fw;
    assert_int_equal(avro_file_writer_create(path, schema, &fw), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t v, field;
    assert_int_equal(avro_generic_value_new(iface, &v), 0);
    for (int i = 0; i < 50; i++) {
        char s[32];
        snprintf(s, sizeof(s), "record %d", i);
        assert_int_equal(avro_value_get_by_name(&v, "n", &field, NULL), 0);
        avro_value_set_long(&field, i);
        assert_int_equal(avro_value_get_by_name(&v, "s", &field, NULL), 0);
        avro_value_set_string(&field, s);
        assert_int_equal(avro_file_writer_append_value(fw, &v), 0);
    }
    assert_int_equal(avro_file_writer_close(fw), 0);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);

    /* by name (a regular file) */
    const char *one[] = {path};
    struct vg_file_input *fi = vg_file_input_new(one, 1);
    struct rec want[64];
    int rc;
    size_t n_want = read_all(fi, want, 64, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(n_want, 50);
    vg_file_input_free(fi);
    /* through a pipe */
    size_t len;
    char *bytes = file_bytes(path, &len);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t w = write_child(p[1], bytes, len);
    char fd_path[64];
    snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", p[0]);
    const char *piped[] = {fd_path};
    fi = vg_file_input_new(piped, 1);
    struct rec got[64];
    size_t n_got = read_all(fi, got, 64, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(n_got, n_want);
    for (size_t i = 0; i < n_got; i++) {
        assert_int_equal(got[i].r.len, want[i].r.len);
        assert_memory_equal(got[i].text, want[i].text, want[i].r.len);
        assert_int_equal(got[i].r.line, i + 1);
    }
    vg_file_input_free(fi);
    close(p[0]);
    reap(w);
    /* gzip-compressed: told after gzip is undone */
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s.gz'", path, path);
    assert_int_equal(system(cmd), 0);
    char gz[610];
    snprintf(gz, sizeof(gz), "%s.gz", path);
    const char *gzs[] = {gz};
    fi = vg_file_input_new(gzs, 1);
    free_recs(got, n_got);
    n_got = read_all(fi, got, 64, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(n_got, n_want);
    for (size_t i = 0; i < n_got; i++)
        assert_memory_equal(got[i].text, want[i].text, want[i].r.len);
    vg_file_input_free(fi);
    free_recs(want, n_want);
    free_recs(got, n_got);
    free(bytes);
    vg_test_rmdir(dir);
}

/* ---- kcat envelopes ---- */

static const char envelopes[] =
    "{\"topic\":\"procs\",\"partition\":2,\"offset\":7,\"tstype\":\"create\",\"ts\":1000,"
    "\"broker\":1,\"key\":\"u1\",\"payload\":\"{\\\"user\\\":\\\"u1\\\"}\"}\n"
    "\n"
    "{\"topic\":\"procs\",\"partition\":2,\"offset\":8,\"tstype\":\"create\",\"ts\":1001,"
    "\"broker\":1,\"headers\":[\"h\",\"v\"],\"key\":null,\"payload\":\"plain\"}\n"
    "{\"topic\":\"procs\",\"partition\":0,\"offset\":3,\"ts\":999,\"key\":\"k\",\"payload\":null}\n"
    "{\"topic\":\"procs\",\"partition\":\"one\",\"offset\":4,\"payload\":\"x\"}\n"
    "{\"topic\":\"procs\",\"partition\":1,\"offset\":0,\"payload\":\"tab\\there\"}";

/* Checks the records of the envelopes above (kept: those in place in a mapped file). */
static void check_envelopes(struct rec *r, size_t n, bool mapped)
{
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_true(r[i].r.envelope);
    assert_string_equal(r[0].text, "{\"user\":\"u1\"}"); /* unescaped: a copy */
    assert_false(r[0].kept);
    assert_int_equal(r[0].r.partition, 2);
    assert_int_equal(r[0].r.offset, 7);
    assert_int_equal(r[0].r.ts, 1000);
    assert_int_equal(r[0].r.line, 1);
    assert_string_equal(r[1].text, "plain"); /* no escapes: in place when mapped */
    assert_int_equal(r[1].kept, mapped);
    assert_int_equal(r[1].r.offset, 8);
    assert_int_equal(r[1].r.line, 3); /* the blank line counted */
    assert_null(r[2].data);              /* a null payload: a tombstone */
    assert_int_equal(r[2].r.len, 0);
    assert_int_equal(r[2].r.partition, 0);
    assert_int_equal(r[2].r.offset, 3);
    assert_null(r[2].bad);
    assert_non_null(r[3].bad); /* handed out whole, with why */
    assert_non_null(strstr(r[3].bad, "'partition' is not an integer"));
    assert_non_null(strstr(r[3].bad, "(line 5)"));
    assert_non_null(strstr(r[3].text, "\"partition\":\"one\""));
    assert_string_equal(r[4].text, "tab\there");
    assert_int_equal(r[4].r.partition, 1);
    assert_int_equal(r[4].r.ts, INT64_MIN); /* no ts */
}

/* A file of envelopes, plain (mapped) then gzip; then a plain JSON lines file after it is not
 * taken for envelopes (told per file). */
static void test_envelope_files(void **state)
{
    (void)state;
    char *dir = vg_test_tmpdir();
    char *a = vg_test_write(dir, "a.json", envelopes);
    char *b = vg_test_write(dir, "b.json", envelopes);
    char *c = vg_test_write(dir, "c.jsonl", "{\"partition\":1,\"offset\":2}\n");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "gzip '%s'", b);
    assert_int_equal(system(cmd), 0);
    char bgz[600];
    snprintf(bgz, sizeof(bgz), "%s.gz", b);
    const char *paths[] = {a, bgz, c};
    struct vg_file_input *fi = vg_file_input_new(paths, 3);
    struct rec r[16];
    int rc;
    size_t n = read_all(fi, r, 16, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 11);
    check_envelopes(r, 5, true);
    check_envelopes(r + 5, 5, false);
    assert_false(r[10].r.envelope); /* no payload key: a plain line */
    assert_string_equal(r[10].text, "{\"partition\":1,\"offset\":2}");
    assert_int_equal(r[10].r.offset, -1);
    vg_file_input_free(fi);
    free_recs(r, n);
    free(a);
    free(b);
    free(c);
    vg_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_then_gzip_in_order),
        cmocka_unit_test(test_empty_and_missing_files),
        cmocka_unit_test(test_pipe_first_line_whole),
        cmocka_unit_test(test_stdin_plain_and_gzip),
        cmocka_unit_test(test_fifo_gzip),
        cmocka_unit_test(test_pipe_avro_container),
        cmocka_unit_test(test_envelope_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
