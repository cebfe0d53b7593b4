/* SPDX-License-Identifier: Apache-2.0 */
/*
 * join_test.c - tests for operators/join.c (and table.c) through the in-memory pipeline:
 * stream-stream pairing (equal times, the `within` boundary, duplicates on both sides, either
 * side first), eviction as event time passes (left joins emit their unmatched events then,
 * and only then), buffers and matched flags surviving a restore, enrichment from a table
 * (cache hits, one round trip per batch, missing rows for inner and left joins, key
 * expressions), and load-time errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vg_pipe.h"
#include "vg_test.h"

/* logins x vpn on user within 10 s; the sink writes the pair's users' times and countries */
static char *travel(const char *type)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "name: t\n"
             "nodes:\n"
             "  logins: {source: kafka, topic: l, time: ts, partitioned_by: user}\n"
             "  vpn: {source: kafka, topic: v, time: ts, partitioned_by: user}\n"
             "  j:\n"
             "    join: {left: logins, right: vpn, on: user, within: 10s, type: %s}\n"
             "  m:\n"
             "    map: {u: logins.user, lt: logins.ts, vt: vpn.ts, vc: vpn.country}\n"
             "    input: j\n"
             "  out: {sink: stdout, input: m}\n",
             type);
    return buf;
}

static void test_join_pairs_within(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(travel("inner"), 1);
    vg_pipe_feed(p, "logins",
                 "{\"ts\":1000,\"user\":\"a\"}\n"
                 "{\"ts\":1000,\"user\":\"b\"}\n"
                 "{\"ts\":1000,\"user\":\"c\"}\n",
                 0);
    assert_int_equal(vg_pipe_n_out(p), 0);
    vg_pipe_feed(p, "vpn",
                 "{\"ts\":1000,\"user\":\"a\",\"country\":\"DE\"}\n"   /* equal times */
                 "{\"ts\":11000,\"user\":\"b\",\"country\":\"FR\"}\n"  /* exactly within */
                 "{\"ts\":11001,\"user\":\"c\",\"country\":\"US\"}\n", /* 1 ms too far */
                 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"u\":\"a\",\"lt\":1000,\"vt\":1000,\"vc\":\"DE\"}\n"
                             "{\"u\":\"b\",\"lt\":1000,\"vt\":11000,\"vc\":\"FR\"}\n");
    free(out);
    vg_pipe_free(p);
}

/* Two events on each side with one key: every pair once, whichever side came first. */
static void test_join_duplicates_both_sides(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(travel("inner"), 1);
    vg_pipe_feed(p, "vpn", "{\"ts\":5000,\"user\":\"a\",\"country\":\"DE\"}\n", 0);
    vg_pipe_feed(p, "logins", "{\"ts\":1000,\"user\":\"a\"}\n{\"ts\":2000,\"user\":\"a\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":5000,\"user\":\"a\",\"country\":\"FR\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"u\":\"a\",\"lt\":1000,\"vt\":5000,\"vc\":\"DE\"}\n"
                             "{\"u\":\"a\",\"lt\":2000,\"vt\":5000,\"vc\":\"DE\"}\n"
                             "{\"u\":\"a\",\"lt\":2000,\"vt\":5000,\"vc\":\"FR\"}\n"
                             "{\"u\":\"a\",\"lt\":1000,\"vt\":5000,\"vc\":\"FR\"}\n");
    free(out);
    vg_pipe_free(p);
}

/* A left join emits an unmatched left event once event time passed its time + within
 * (both sides' time: the stage's is the minimum), and never a matched one. */
static void test_join_left_unmatched_after_within(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(travel("left"), 1);
    vg_pipe_feed(p, "logins", "{\"ts\":1000,\"user\":\"a\"}\n{\"ts\":1000,\"user\":\"b\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":3000,\"user\":\"b\",\"country\":\"DE\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"u\":\"b\",\"lt\":1000,\"vt\":3000,\"vc\":\"DE\"}\n");
    free(out);
    /* event time 11000 on both sides: 1000 + 10 s has not passed yet */
    vg_pipe_feed(p, "logins", "{\"ts\":11000,\"user\":\"z\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":11000,\"user\":\"y\",\"country\":\"US\"}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 1);
    vg_pipe_feed(p, "logins", "{\"ts\":11001,\"user\":\"z\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":11001,\"user\":\"y\",\"country\":\"US\"}\n", 0);
    out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"u\":\"b\",\"lt\":1000,\"vt\":3000,\"vc\":\"DE\"}\n"
                             "{\"u\":\"a\",\"lt\":1000,\"vt\":null,\"vc\":null}\n");
    free(out);
    vg_pipe_free(p);
}

/* What is buffered, and whether a left event was matched, survive a restore. */
static void test_join_state_survives_restart(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(travel("left"), 1);
    vg_pipe_feed(p, "logins", "{\"ts\":1000,\"user\":\"a\"}\n{\"ts\":1000,\"user\":\"b\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":2000,\"user\":\"b\",\"country\":\"DE\"}\n", 0);
    vg_pipe_restart(p);
    vg_pipe_feed(p, "vpn", "{\"ts\":4000,\"user\":\"a\",\"country\":\"FR\"}\n", 0);
    vg_pipe_restart(p);
    vg_pipe_feed(p, "logins", "{\"ts\":30000,\"user\":\"z\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":30000,\"user\":\"y\",\"country\":\"US\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    /* b paired before the restore, a after it; neither comes out unmatched; z and y are
     * still within */
    assert_string_equal(out, "{\"u\":\"b\",\"lt\":1000,\"vt\":2000,\"vc\":\"DE\"}\n"
                             "{\"u\":\"a\",\"lt\":1000,\"vt\":4000,\"vc\":\"FR\"}\n");
    free(out);
    vg_pipe_free(p);
}

/* Sources not keyed by the join key: each side goes through a repartition topic of its own
 * (a key expression too), and the pairs are the same. */
static void test_join_through_repartition_topics(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(
        "name: t\n"
        "nodes:\n"
        "  logins: {source: kafka, topic: l, time: ts}\n"
        "  vpn: {source: kafka, topic: v, time: ts, partitioned_by: user}\n"
        "  j: {join: {left: logins, right: vpn, on: lower(user), within: 10s}}\n"
        "  m: {map: {u: logins.user, lt: logins.ts, vt: vpn.ts, vc: vpn.country}, input: j}\n"
        "  out: {sink: stdout, input: m}\n"
        "  raw: {sink: stdout, input: j}\n",
        1);
    vg_pipe_feed(p, "logins", "{\"ts\":1000,\"user\":\"A\"}\n{\"ts\":1000,\"user\":\"b\"}\n", 0);
    vg_pipe_feed(p, "vpn",
                 "{\"ts\":5000,\"user\":\"a\",\"country\":\"DE\"}\n"
                 "{\"ts\":11001,\"user\":\"b\",\"country\":\"US\"}\n",
                 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"u\":\"A\",\"lt\":1000,\"vt\":5000,\"vc\":\"DE\"}\n"
                             "{\"logins\":{\"ts\":1000,\"user\":\"A\"},"
                             "\"vpn\":{\"ts\":5000,\"user\":\"a\",\"country\":\"DE\"}}\n");
    free(out);
    vg_pipe_restart(p); /* the buffers come back with positions of the source records */
    vg_pipe_feed(p, "vpn", "{\"ts\":9000,\"user\":\"B\",\"country\":\"FR\"}\n", 0);
    out = vg_pipe_out_text(p);
    assert_non_null(strstr(out, "{\"u\":\"b\",\"lt\":1000,\"vt\":9000,\"vc\":\"FR\"}\n"));
    free(out);
    vg_pipe_free(p);
}

/* A key expression on each side, and a pair of differently named keys. */
static void test_join_key_expressions(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(
        "name: t\n"
        "nodes:\n"
        "  logins: {source: kafka, topic: l, time: ts, partitioned_by: user}\n"
        "  vpn: {source: kafka, topic: v, time: ts, partitioned_by: account}\n"
        "  j:\n"
        "    join: {left: logins, right: vpn, on: [logins.user, lower(account)], within: 1m}\n"
        "  m: {map: {u: logins.user, a: vpn.account}, input: j}\n"
        "  out: {sink: stdout, input: m}\n",
        1);
    vg_pipe_feed(p, "logins", "{\"ts\":1000,\"user\":\"ann\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":2000,\"account\":\"ANN\"}\n{\"ts\":2000,\"account\":\"Bo\"}\n",
                 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"u\":\"ann\",\"a\":\"ANN\"}\n");
    free(out);
    vg_pipe_free(p);
}

/* A sink fed by the join writes both events under their node names. */
static void test_join_output_json(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(
        "name: t\n"
        "nodes:\n"
        "  logins: {source: kafka, topic: l, time: ts, partitioned_by: user}\n"
        "  vpn: {source: kafka, topic: v, time: ts, partitioned_by: user}\n"
        "  j: {join: {left: logins, right: vpn, on: user, within: 1m}}\n"
        "  out: {sink: stdout, input: j}\n",
        1);
    vg_pipe_feed(p, "logins", "{\"ts\":1000,\"user\":\"a\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":2000,\"user\":\"a\",\"c\":1}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"logins\":{\"ts\":1000,\"user\":\"a\"},"
                             "\"vpn\":{\"ts\":2000,\"user\":\"a\",\"c\":1}}\n");
    free(out);
    vg_pipe_free(p);
}

static const char *const ENRICH =
    "name: t\n"
    "nodes:\n"
    "  fails: {source: kafka, topic: f}\n"
    "  assets: {table: redis, key_pattern: \"asset:{}\", cache_ttl: 1m}\n"
    "  e:\n"
    "    join: {left: fails, right: assets, on: lower(host), type: %s}\n"
    "  m: {map: {h: fails.host, o: assets.owner, c: assets.crit}, input: e}\n"
    "  out: {sink: stdout, input: m}\n";

static struct vg_pipe *enrich(const char *type)
{
    char text[1024];
    snprintf(text, sizeof(text), ENRICH, type);
    struct vg_pipe *p = vg_pipe_new(text, 1);
    vg_pipe_table(p, "asset:h1", "owner", "ops");
    vg_pipe_table(p, "asset:h1", "crit", "3");
    vg_pipe_table(p, "asset:h2", "owner", "dev");
    return p;
}

static void test_join_table_left_and_inner(void **state)
{
    (void)state;
    const char *events = "{\"host\":\"H1\"}\n{\"host\":\"h9\"}\n{\"host\":\"h2\"}\n{\"x\":1}\n";
    struct vg_pipe *p = enrich("left");
    vg_pipe_feed(p, "fails", events, 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"h\":\"H1\",\"o\":\"ops\",\"c\":3}\n"
                             "{\"h\":\"h9\",\"o\":null,\"c\":null}\n"
                             "{\"h\":\"h2\",\"o\":\"dev\",\"c\":null}\n"
                             "{\"h\":null,\"o\":null,\"c\":null}\n");
    free(out);
    vg_pipe_free(p);
    p = enrich("inner");
    vg_pipe_feed(p, "fails", events, 0);
    out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"h\":\"H1\",\"o\":\"ops\",\"c\":3}\n"
                             "{\"h\":\"h2\",\"o\":\"dev\",\"c\":null}\n");
    free(out);
    vg_pipe_free(p);
}

/* Misses of a batch go in one round trip; hits (and known absences) need none until they
 * are older than cache_ttl; then a changed row is seen. */
static void test_join_table_cache(void **state)
{
    (void)state;
    struct vg_pipe *p = enrich("left");
    uint64_t keys;
    vg_pipe_feed(p, "fails", "{\"host\":\"h1\"}\n{\"host\":\"h2\"}\n{\"host\":\"h1\"}\n"
                             "{\"host\":\"h9\"}\n", 1000);
    assert_int_equal(vg_pipe_lookups(p, &keys), 1);
    assert_int_equal(keys, 3);
    vg_pipe_table(p, "asset:h1", "owner", "sec");
    vg_pipe_feed(p, "fails", "{\"host\":\"h1\"}\n{\"host\":\"h9\"}\n", 60999);
    assert_int_equal(vg_pipe_lookups(p, &keys), 1);
    vg_pipe_feed(p, "fails", "{\"host\":\"h1\"}\n", 61000);
    assert_int_equal(vg_pipe_lookups(p, &keys), 2);
    char *out = vg_pipe_out_text(p);
    const char *last = strrchr(out, '{');
    assert_string_equal(last, "{\"h\":\"h1\",\"o\":\"sec\",\"c\":3}\n");
    free(out);
    vg_pipe_free(p);
}

/* At most cache_rows rows per thread: the oldest fetched goes first and is fetched again. */
static void test_join_table_cache_bounded(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(
        "name: t\n"
        "nodes:\n"
        "  fails: {source: kafka, topic: f}\n"
        "  assets: {table: redis, key_pattern: \"asset:{}\", cache_rows: 2}\n"
        "  e: {join: {left: fails, right: assets, on: host, type: left}}\n"
        "  m: {map: {h: fails.host, o: assets.owner}, input: e}\n"
        "  out: {sink: stdout, input: m}\n",
        1);
    vg_pipe_table(p, "asset:h1", "owner", "ops");
    vg_pipe_table(p, "asset:h2", "owner", "dev");
    vg_pipe_table(p, "asset:h3", "owner", "qa");
    uint64_t keys;
    vg_pipe_feed(p, "fails", "{\"host\":\"h1\"}\n{\"host\":\"h2\"}\n", 0);
    vg_pipe_feed(p, "fails", "{\"host\":\"h3\"}\n", 0);   /* h1 goes */
    vg_pipe_feed(p, "fails", "{\"host\":\"h2\"}\n{\"host\":\"h3\"}\n", 0); /* cached */
    assert_int_equal(vg_pipe_lookups(p, &keys), 2);
    vg_pipe_feed(p, "fails", "{\"host\":\"h1\"}\n", 0);   /* fetched again */
    assert_int_equal(vg_pipe_lookups(p, &keys), 3);
    assert_int_equal(keys, 4);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"h\":\"h1\",\"o\":\"ops\"}\n{\"h\":\"h2\",\"o\":\"dev\"}\n"
                             "{\"h\":\"h3\",\"o\":\"qa\"}\n{\"h\":\"h2\",\"o\":\"dev\"}\n"
                             "{\"h\":\"h3\",\"o\":\"qa\"}\n{\"h\":\"h1\",\"o\":\"ops\"}\n");
    free(out);
    vg_pipe_free(p);
}

/* A Kafka table's rows are JSON objects: the fields read downstream are decoded from them,
 * and the sink sees the whole row. */
static void test_join_kafka_table(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(
        "name: t\n"
        "nodes:\n"
        "  fails: {source: kafka, topic: f}\n"
        "  assets: {table: kafka, topic: assets}\n"
        "  e: {join: {left: fails, right: assets, on: host, type: left}}\n"
        "  m: {map: {h: fails.host, o: assets.owner, c: assets.crit}, input: e}\n"
        "  out: {sink: stdout, input: m}\n"
        "  raw: {sink: stdout, input: e}\n",
        1);
    vg_pipe_table(p, "h1", "", "{\"owner\":\"ops\",\"crit\":3,\"tags\":[\"a\"]}");
    vg_pipe_feed(p, "fails", "{\"host\":\"h1\"}\n{\"host\":\"h2\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out,
                        "{\"h\":\"h1\",\"o\":\"ops\",\"c\":3}\n"
                        "{\"h\":\"h2\",\"o\":null,\"c\":null}\n"
                        "{\"fails\":{\"host\":\"h1\"},\"assets\":{\"owner\":\"ops\",\"crit\":3,"
                        "\"tags\":[\"a\"]}}\n"
                        "{\"fails\":{\"host\":\"h2\"},\"assets\":null}\n");
    free(out);
    vg_pipe_table(p, "h1", "", "{\"owner\":\"sec\"}"); /* no cache: seen at once */
    vg_pipe_feed(p, "fails", "{\"host\":\"h1\"}\n", 0);
    assert_string_equal(vg_pipe_out(p, vg_pipe_n_out(p) - 2)->value,
                        "{\"h\":\"h1\",\"o\":\"sec\",\"c\":null}");
    vg_pipe_free(p);
}

static void test_join_compile_errors(void **state)
{
    (void)state;
    char *e = vg_pipe_errors(
        "name: t\n"
        "nodes:\n"
        "  logins: {source: kafka, topic: l, time: ts, partitioned_by: user}\n"
        "  vpn: {source: kafka, topic: v, time: ts, partitioned_by: user}\n"
        "  j: {join: {left: logins, right: vpn, on: user, within: 1m}}\n"
        "  f: {filter: user == \"x\", input: j}\n"
        "  out: {sink: stdout, input: f}\n");
    assert_string_equal(e, "t.yaml:6:15: error: expression: unknown field 'user' (a join's "
                           "output holds each side's fields under its name: 'logins.user' or "
                           "'vpn.user')\n");
    free(e);
    e = vg_pipe_errors(
        "name: t\n"
        "nodes:\n"
        "  logins: {source: kafka, topic: l, time: ts, partitioned_by: user}\n"
        "  t1: {table: kafka}\n"
        "  t2: {table: redis, key_pattern: \"asset:{}\"}\n"
        "  t3: {table: kafka, topic: a, cache_ttl: 1s}\n"
        "  j: {join: {left: logins, right: t2, on: user, within: 1m}}\n"
        "  out: {sink: stdout, input: j}\n");
    assert_string_equal(e, "t.yaml:4:15: error: node 't1': table: kafka needs topic: (a "
                           "compacted topic)\n"
                           "t.yaml:6:43: error: node 't3': cache_ttl: is for table: redis\n"
                           "t.yaml:7:57: error: node 'j': within: is for joins of two streams; "
                           "'t2' is a table\n");
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_pairs_within),
        cmocka_unit_test(test_join_duplicates_both_sides),
        cmocka_unit_test(test_join_left_unmatched_after_within),
        cmocka_unit_test(test_join_state_survives_restart),
        cmocka_unit_test(test_join_key_expressions),
        cmocka_unit_test(test_join_through_repartition_topics),
        cmocka_unit_test(test_join_output_json),
        cmocka_unit_test(test_join_table_left_and_inner),
        cmocka_unit_test(test_join_table_cache),
        cmocka_unit_test(test_join_table_cache_bounded),
        cmocka_unit_test(test_join_kafka_table),
        cmocka_unit_test(test_join_compile_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
