/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window_test.c - tests for operators/window.c through the in-memory pipeline: exact window
 * results when the watermark passes, sliding overlap, session merging (also out of order),
 * late events to dead letters, windowed alerts with their bounds, compile errors.
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

static char *topo_on(const char *window, const char *lateness, const char *aggs,
                     const char *partitioned_by)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "name: t\n"
             "nodes:\n"
             "  in: {source: kafka, topic: e, time: ts, lateness: %s%s}\n"
             "  w:\n"
             "    window: %s\n"
             "    key: [user]\n"
             "    aggregate: %s\n"
             "    input: in\n"
             "  out: {sink: stdout, input: w}\n",
             lateness, partitioned_by, window, aggs);
    return buf;
}

/* A source partitioned by the window key (no repartition topic). */
static char *topo(const char *window, const char *lateness, const char *aggs)
{
    return topo_on(window, lateness, aggs, ", partitioned_by: user");
}

static void test_window_tumbling_exact_results(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo("tumbling 1m", "0s", "{n: count(), b: sum(bytes)}"), 1);
    vg_pipe_feed(p, "in",
                 "{\"ts\":1000,\"user\":\"a\",\"bytes\":10}\n"
                 "{\"ts\":2000,\"user\":\"b\",\"bytes\":1}\n"
                 "{\"ts\":59999,\"user\":\"a\",\"bytes\":5}\n",
                 0);
    assert_int_equal(vg_pipe_n_out(p), 0); /* event time 59999: nothing closed yet */
    vg_pipe_feed(p, "in", "{\"ts\":60000,\"user\":\"a\",\"bytes\":7}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out,
                        "{\"user\":\"a\",\"n\":2,\"b\":15,\"window_start\":0,\"window_end\":60000}\n"
                        "{\"user\":\"b\",\"n\":1,\"b\":1,\"window_start\":0,\"window_end\":60000}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_window_sliding_overlap(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo("sliding 2m every 1m", "0s", "{n: count()}"), 1);
    vg_pipe_feed(p, "in", "{\"ts\":90000,\"user\":\"a\"}\n{\"ts\":150000,\"user\":\"a\"}\n", 0);
    vg_pipe_feed(p, "in", "{\"ts\":240000,\"user\":\"z\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    /* 90s is in [0,2m) and [1m,3m); 150s in [1m,3m) and [2m,4m); all close by 240s */
    assert_string_equal(out,
                        "{\"user\":\"a\",\"n\":1,\"window_start\":0,\"window_end\":120000}\n"
                        "{\"user\":\"a\",\"n\":2,\"window_start\":60000,\"window_end\":180000}\n"
                        "{\"user\":\"a\",\"n\":1,\"window_start\":120000,\"window_end\":240000}\n");
    free(out);
    vg_pipe_free(p);
}

/* Sliding windows are kept as panes; a restore loads the panes, and windows emitted before it
 * (here [0,2m)) must not come out again when the panes' first windows close anew. */
static void test_window_sliding_restore_emits_each_window_once(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo("sliding 2m every 1m", "0s", "{n: count()}"), 1);
    vg_pipe_feed(p, "in",
                 "{\"ts\":90000,\"user\":\"a\"}\n{\"ts\":150000,\"user\":\"a\"}\n"
                 "{\"ts\":200000,\"user\":\"z\"}\n", 0);
    vg_pipe_restart(p);
    vg_pipe_feed(p, "in", "{\"ts\":300000,\"user\":\"z\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out,
                        "{\"user\":\"a\",\"n\":1,\"window_start\":0,\"window_end\":120000}\n"
                        "{\"user\":\"a\",\"n\":2,\"window_start\":60000,\"window_end\":180000}\n"
                        "{\"user\":\"a\",\"n\":1,\"window_start\":120000,\"window_end\":240000}\n"
                        "{\"user\":\"z\",\"n\":1,\"window_start\":120000,\"window_end\":240000}\n"
                        "{\"user\":\"z\",\"n\":1,\"window_start\":180000,\"window_end\":300000}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_window_session_merges_out_of_order(void **state)
{
    (void)state;
    /* lateness 20m: events may arrive up to 20 minutes out of order */
    struct vg_pipe *p =
        vg_pipe_new(topo("session 5m", "20m", "{n: count(), first_ip: first(ip), ips: distinct(ip)}"), 1);
    vg_pipe_feed(p, "in",
                 "{\"ts\":0,\"user\":\"a\",\"ip\":\"x\"}\n"
                 "{\"ts\":600000,\"user\":\"a\",\"ip\":\"y\"}\n", /* 10m: a second session */
                 0);
    vg_pipe_feed(p, "in", "{\"ts\":300000,\"user\":\"a\",\"ip\":\"x\"}\n", 0); /* 5m joins both */
    assert_int_equal(vg_pipe_n_out(p), 0);
    /* event time moves to 40m - 20m = 20m: the merged session [0, 10m] closed at 15m */
    vg_pipe_feed(p, "in", "{\"ts\":2400000,\"user\":\"b\",\"ip\":\"z\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"user\":\"a\",\"n\":3,\"first_ip\":\"x\",\"ips\":2,"
                             "\"window_start\":0,\"window_end\":600000}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_window_late_events_go_to_dead_letters(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo("tumbling 1m", "5s", "{n: count()}"), 1);
    vg_pipe_feed(p, "in",
                 "{\"ts\":100000,\"user\":\"a\"}\n"
                 "{\"ts\":96000,\"user\":\"a\"}\n"  /* 4 s behind: within lateness */
                 "{\"ts\":94000,\"user\":\"a\"}\n", /* 6 s behind: late */
                 0);
    char *dead = vg_pipe_dead_text(p);
    assert_string_equal(dead, "2: late: event time 94000 is 1000 ms behind the watermark of its "
                              "partition (lateness 5000 ms)\n");
    free(dead);
    vg_pipe_feed(p, "in", "{\"ts\":125000,\"user\":\"q\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"user\":\"a\",\"n\":2,\"window_start\":60000,\"window_end\":120000}\n");
    free(out);
    vg_pipe_free(p);
}

/* A partition that starts behind the others (taken over from a crashed process, or assigned
 * after a rebalance while this thread's event time had moved on) is not late: its windows
 * close on its own time, and what the others closed is not emitted again. */
static void test_window_partition_behind_is_not_late(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo("tumbling 1m", "0s", "{n: count()}"), 1);
    vg_pipe_feed_at(p, "in", 0, "{\"ts\":10000,\"user\":\"a\"}\n{\"ts\":200000,\"user\":\"a\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"user\":\"a\",\"n\":1,\"window_start\":0,\"window_end\":60000}\n");
    free(out);
    /* partition 1 arrives at 30 s: its events count, nothing is dead-lettered */
    vg_pipe_feed_at(p, "in", 1, "{\"ts\":30000,\"user\":\"b\"}\n{\"ts\":50000,\"user\":\"b\"}\n", 0);
    vg_pipe_feed_at(p, "in", 1, "{\"ts\":130000,\"user\":\"b\"}\n", 0);
    char *dead = vg_pipe_dead_text(p);
    assert_string_equal(dead, "");
    free(dead);
    out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"user\":\"a\",\"n\":1,\"window_start\":0,\"window_end\":60000}\n"
                             "{\"user\":\"b\",\"n\":2,\"window_start\":0,\"window_end\":60000}\n");
    free(out);
    /* both move on: each window once */
    vg_pipe_feed_at(p, "in", 1, "{\"ts\":400000,\"user\":\"b\"}\n", 0);
    vg_pipe_feed_at(p, "in", 0, "{\"ts\":400000,\"user\":\"a\"}\n", 0);
    out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"user\":\"a\",\"n\":1,\"window_start\":0,\"window_end\":60000}\n"
                             "{\"user\":\"b\",\"n\":2,\"window_start\":0,\"window_end\":60000}\n"
                             "{\"user\":\"b\",\"n\":1,\"window_start\":120000,\"window_end\":180000}\n"
                             "{\"user\":\"a\",\"n\":1,\"window_start\":180000,\"window_end\":240000}\n");
    free(out);
    vg_pipe_free(p);
}

/* A partition revoked while its sessions wait in the close heap (a rebalance): the rest go
 * on, and closing them never touches the revoked keys (they were freed: the heap kept
 * entries pointing at them, and closing crashed; ASan shows it as use after free). */
static void test_window_sessions_of_a_revoked_partition(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo("session 1m", "0s", "{n: count()}"), 1);
    char text[4096] = "";
    /* keys alike in their first 8 bytes and sessions ending together: the heap compares
     * their entries by key text */
    for (int i = 0; i < 20; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "{\"ts\":1000,\"user\":\"sameprefix%02d\"}\n", i);
    vg_pipe_feed_at(p, "in", 0, text, 0);
    text[0] = '\0';
    for (int i = 0; i < 20; i++) /* the same users again: their sessions move, entries go stale */
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "{\"ts\":30000,\"user\":\"sameprefix%02d\"}\n", i);
    vg_pipe_feed_at(p, "in", 0, text, 0);
    vg_pipe_feed_at(p, "in", 1, "{\"ts\":500,\"user\":\"x\"}\n{\"ts\":30000,\"user\":\"y\"}\n", 0);
    vg_pipe_revoke(p, 0);
    vg_pipe_feed_at(p, "in", 1, "{\"ts\":200000,\"user\":\"y\"}\n", 0);
    char *out = vg_pipe_out_text(p);
    assert_string_equal(out, "{\"user\":\"x\",\"n\":1,\"window_start\":500,\"window_end\":500}\n"
                             "{\"user\":\"y\",\"n\":1,\"window_start\":30000,\"window_end\":30000}\n");
    free(out);
    vg_pipe_free(p);
}

static void test_window_alerts_carry_the_window(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: e, time: ts, partitioned_by: [user]}\n"
                                    "  w:\n"
                                    "    window: tumbling 1m\n"
                                    "    key: [user]\n"
                                    "    aggregate: {fails: count(), ips: distinct(ip)}\n"
                                    "    input: in\n"
                                    "  d:\n"
                                    "    rules:\n"
                                    "      - {id: BF, title: brute force, severity: high, "
                                    "when: fails >= 3 && ips >= 2}\n"
                                    "    key: [user]\n"
                                    "    input: w\n"
                                    "  out: {sink: stdout, input: d}\n",
                                    1);
    vg_pipe_feed(p, "in",
                 "{\"ts\":1000,\"user\":\"a\",\"ip\":\"1\"}\n"
                 "{\"ts\":2000,\"user\":\"a\",\"ip\":\"2\"}\n"
                 "{\"ts\":3000,\"user\":\"a\",\"ip\":\"2\"}\n"
                 "{\"ts\":4000,\"user\":\"b\",\"ip\":\"1\"}\n"
                 "{\"ts\":61000,\"user\":\"c\",\"ip\":\"1\"}\n",
                 70000);
    assert_int_equal(vg_pipe_n_out(p), 1);
    const struct vg_pipe_rec *r = vg_pipe_out(p, 0);
    assert_string_equal(r->key, "a");
    assert_non_null(strstr(r->value, "\"key\":\"a\",\"window_start\":0,\"window_end\":60000,"
                                     "\"event_time\":59999,"));
    assert_non_null(strstr(r->value, "\"source\":{\"topic\":\"e\",\"partition\":0,\"offset\":2}"));
    assert_non_null(strstr(r->value, "\"fields\":{\"user\":\"a\",\"fails\":3,\"ips\":2,"
                                     "\"window_start\":0,\"window_end\":60000}"));
    vg_pipe_free(p);
}

/* A window whose only consumer is a rules node leaves out the results no rule can match
 * (count below every rule's floor); alerts are the same. With a second consumer (a sink of
 * the window results) every result is still emitted. */
static void test_window_skips_results_no_rule_can_match(void **state)
{
    (void)state;
    static const char *events = "{\"ts\":1000,\"user\":\"a\",\"ip\":\"1\"}\n"
                                "{\"ts\":2000,\"user\":\"a\",\"ip\":\"2\"}\n"
                                "{\"ts\":3000,\"user\":\"a\",\"ip\":\"2\"}\n"
                                "{\"ts\":4000,\"user\":\"b\",\"ip\":\"1\"}\n"
                                "{\"ts\":5000,\"user\":\"c\",\"ip\":\"1\"}\n"
                                "{\"ts\":61000,\"user\":\"c\",\"ip\":\"1\"}\n"
                                "{\"ts\":125000,\"user\":\"d\",\"ip\":\"1\"}\n";
    char text[2048];
    for (int both = 0; both < 2; both++) {
        snprintf(text, sizeof(text),
                 "name: t\n"
                 "nodes:\n"
                 "  in: {source: kafka, topic: e, time: ts, partitioned_by: [user]}\n"
                 "  w:\n"
                 "    window: tumbling 1m\n"
                 "    key: [user]\n"
                 "    aggregate: {fails: count(), ips: distinct(ip)}\n"
                 "    input: in\n"
                 "  d:\n"
                 "    rules:\n"
                 "      - {id: BF, title: bf, severity: high, when: fails >= 3 && ips >= 2}\n"
                 "      - {id: BF2, title: bf2, severity: low, when: ips > 5 && fails > 1}\n"
                 "    key: [user]\n"
                 "    input: w\n"
                 "  out: {sink: stdout, input: d}\n"
                 "%s",
                 both ? "  all: {sink: stdout, input: w}\n" : "");
        struct vg_pipe *p = vg_pipe_new(text, 1);
        vg_pipe_feed(p, "in", events, 200000);
        /* windows: a [0,1m) 3, b 1, c 1; c [1m,2m) 1: only a's can match (floor 2) */
        assert_int_equal(vg_pipe_node_out(p, "w"), both ? 4 : 1);
        assert_int_equal(vg_pipe_node_out(p, "d"), 1);
        assert_int_equal(vg_pipe_n_out(p), both ? 5 : 1);
        vg_pipe_free(p);
    }
}

/* Keys below the floor are only visited when their oldest pane expires; once their events
 * reach it they are back every slide. The alerts must be exactly those of the same window
 * without a floor (a second consumer turns it off), batch by batch, over a stream where keys
 * climb to the floor, fall below it as panes expire, and climb again. */
static void test_window_floor_gives_the_same_alerts(void **state)
{
    (void)state;
    char events[16384];
    size_t len = 0;
    int n = 0;
    for (int t = 0; t < 900; t += 7) { /* 15 minutes, an event every 7 s */
        const char *users[] = {"a", "b", "c"};
        const char *u = users[(t / 7) % 3];
        if (u[0] == 'c' && (t / 60) % 4 != 0)
            continue; /* c only in some minutes: it climbs and falls */
        len += (size_t)snprintf(events + len, sizeof(events) - len,
                                "{\"ts\":%d,\"user\":\"%s\",\"ip\":\"%d\"}\n", t * 1000, u,
                                t % 4);
        n++;
    }
    char *alerts[2];
    for (int both = 0; both < 2; both++) {
        char text[2048];
        snprintf(text, sizeof(text),
                 "name: t\n"
                 "nodes:\n"
                 "  in: {source: kafka, topic: e, time: ts, partitioned_by: [user]}\n"
                 "  w:\n"
                 "    window: sliding 5m every 30s\n"
                 "    key: [user]\n"
                 "    aggregate: {n: count(), ips: distinct(ip)}\n"
                 "    input: in\n"
                 "  d:\n"
                 "    rules:\n"
                 "      - {id: R, title: r, severity: low, when: n >= 4 && ips >= 2}\n"
                 "    key: [user]\n"
                 "    input: w\n"
                 "  out: {sink: stdout, input: d}\n"
                 "%s",
                 both ? "  all: {sink: stdout, input: w}\n" : "");
        struct vg_pipe *p = vg_pipe_new(text, 1);
        /* in batches of 5 lines */
        char *copy = strdup(events), *save = NULL, batch[1024] = "";
        int in_batch = 0;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            strcat(batch, l);
            strcat(batch, "\n");
            if (++in_batch == 5) {
                vg_pipe_feed(p, "in", batch, 0);
                batch[0] = '\0';
                in_batch = 0;
            }
        }
        vg_pipe_feed(p, "in", "{\"ts\":2000000,\"user\":\"z\",\"ip\":\"9\"}\n", 0);
        free(copy);
        size_t cap = 65536;
        alerts[both] = calloc(cap, 1);
        for (size_t i = 0; i < vg_pipe_n_out(p); i++) {
            const char *v = vg_pipe_out(p, i)->value;
            if (!strstr(v, "\"rule_id\""))
                continue;
            /* without the wall-clock fields */
            const char *d = strstr(v, ",\"detected_at\":"), *src = strstr(v, ",\"source\":");
            const char *lat = strstr(v, ",\"latency_ms\":"), *f = strstr(v, ",\"fields\":");
            assert_true(d && src && lat && f);
            size_t at = strlen(alerts[both]);
            snprintf(alerts[both] + at, cap - at, "%.*s%.*s%s\n", (int)(d - v), v,
                     (int)(lat - src), src, f);
        }
        vg_pipe_free(p);
    }
    assert_true(strlen(alerts[0]) > 0);
    assert_string_equal(alerts[0], alerts[1]);
    assert_true(n > 80);
    free(alerts[0]);
    free(alerts[1]);
}

static void test_window_compile_errors(void **state)
{
    (void)state;
    char *errs = vg_pipe_errors("name: t\n"
                                "nodes:\n"
                                "  in: {source: kafka, topic: e, fields: [user, ip], partitioned_by: user}\n"
                                "  w:\n"
                                "    window: sliding 1m every 5m\n"
                                "    key: [usr]\n"
                                "    aggregate: {n: count(x), m: distinct(ipp), usr: count()}\n"
                                "    input: in\n"
                                "  out: {sink: stdout, input: w}\n");
    assert_string_equal(errs,
                        "t.yaml:5:13: error: node 'w': window: the slide (5m) must not exceed "
                        "the size (1m)\n"
                        "t.yaml:6:11: error: unknown field 'usr' (did you mean 'user'?)\n"
                        "t.yaml:7:20: error: node 'w': aggregate 'n': count takes no argument: "
                        "count(), got 'count(x)'\n"
                        "t.yaml:7:33: error: unknown field 'ipp' (did you mean 'ip'?)\n"
                        "t.yaml:7:48: error: node 'w': aggregate 'usr' has the name of a key "
                        "field\n");
    free(errs);
}

static void test_window_keyless_needs_one_thread(void **state)
{
    (void)state;
    char *errs = vg_pipe_errors("name: t\n"
                                "nodes:\n"
                                "  in: {source: kafka, topic: e, partitioned_by: host}\n"
                                "  g: {window: tumbling 1m, aggregate: {n: count()}, input: in}\n"
                                "  out: {sink: stdout, input: g}\n");
    assert_string_equal(errs, "t.yaml:4:3: error: node 'g': a window without key needs "
                              "parallelism: 1 (one stream thread sees every event)\n");
    free(errs);
}

/* A source partitioned otherwise (or not declared): the events meet by key on the repartition
 * topic t.w.repartition, and the results are those of the partitioned run. */
static void test_window_through_repartition_topic(void **state)
{
    (void)state;
    const char *runs[] = {"", ", partitioned_by: host"};
    for (size_t r = 0; r < 2; r++) {
        struct vg_pipe *p = vg_pipe_new(
            topo_on("sliding 2m every 1m", "0s", "{n: count(), b: sum(bytes), h: distinct(host)}",
                    runs[r]),
            1);
        vg_pipe_feed(p, "in",
                     "{\"ts\":90000,\"user\":\"a\",\"bytes\":1,\"host\":\"x\"}\n"
                     "{\"ts\":100000,\"user\":\"b\",\"bytes\":4,\"host\":\"x\"}\n"
                     "{\"ts\":150000,\"user\":\"a\",\"bytes\":2,\"host\":\"y\"}\n",
                     0);
        assert_int_equal(vg_pipe_n_out(p), 2); /* [0, 2m) closed at 150000 */
        vg_pipe_feed(p, "in", "{\"ts\":240000,\"user\":\"z\",\"bytes\":0,\"host\":\"q\"}\n", 0);
        char *out = vg_pipe_out_text(p);
        assert_string_equal(
            out,
            "{\"user\":\"a\",\"n\":1,\"b\":1,\"h\":1,\"window_start\":0,\"window_end\":120000}\n"
            "{\"user\":\"b\",\"n\":1,\"b\":4,\"h\":1,\"window_start\":0,\"window_end\":120000}\n"
            "{\"user\":\"a\",\"n\":2,\"b\":3,\"h\":2,\"window_start\":60000,\"window_end\":180000}\n"
            "{\"user\":\"b\",\"n\":1,\"b\":4,\"h\":1,\"window_start\":60000,\"window_end\":180000}\n"
            "{\"user\":\"a\",\"n\":1,\"b\":2,\"h\":1,\"window_start\":120000,\"window_end\":240000}\n");
        free(out);
        vg_pipe_free(p);
    }
}

/* The shipped topologies/port_scan.yaml: one scan (45 ports on 12 hosts in a minute) gives
 * NET-001 and NET-002 once each; an internal scanner and a small prober give nothing. */
static void test_window_shipped_port_scan(void **state)
{
    (void)state;
    char *text = vg_test_read(vg_test_src("topologies/port_scan.yaml"));
    struct vg_pipe *p = vg_pipe_new(text, 1);
    free(text);
    char line[256], *batch = calloc(1, 64 * 1024);
    for (int i = 0; i < 45; i++) {
        snprintf(line, sizeof(line),
                 "{\"ts\":%lld,\"src_ip\":\"203.0.113.9\",\"dst_ip\":\"192.0.2.%d\","
                 "\"dst_port\":%d}\n"
                 "{\"ts\":%lld,\"src_ip\":\"10.1.1.1\",\"dst_ip\":\"192.0.2.1\",\"dst_port\":%d}\n",
                 1767225600000LL + i * 1000, i % 12, 1000 + i, 1767225600000LL + i * 1000, 2000 + i);
        strcat(batch, line);
    }
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof(line),
                 "{\"ts\":%lld,\"src_ip\":\"198.51.100.7\",\"dst_ip\":\"192.0.2.1\","
                 "\"dst_port\":%d}\n",
                 1767225600000LL + i * 1000, 22 + i);
        strcat(batch, line);
    }
    vg_pipe_feed(p, "flows", batch, 0);
    vg_pipe_feed(p, "flows", "{\"ts\":1767225720000,\"src_ip\":\"198.51.100.8\",\"dst_port\":1}\n",
                 0);
    free(batch);
    assert_int_equal(vg_pipe_n_out(p), 2);
    assert_non_null(strstr(vg_pipe_out(p, 0)->value, "\"rule_id\":\"NET-001\""));
    assert_non_null(strstr(vg_pipe_out(p, 1)->value, "\"rule_id\":\"NET-002\""));
    assert_non_null(strstr(vg_pipe_out(p, 1)->value,
                           "\"fields\":{\"src_ip\":\"203.0.113.9\",\"ports\":45,\"hosts\":12,"
                           "\"flows\":45,\"sample_ports\":[1000,1001,1002,1003,1004,1005,1006,"
                           "1007,1008,1009],\"window_start\":1767225600000,"
                           "\"window_end\":1767225660000}"));
    vg_pipe_free(p);
}

/* The shipped topologies/error_bursts.yaml (session 2m): a session of 6 errors, paused for
 * less than 2 minutes each time, is one burst; a second user in it is APP-002. */
static void test_window_shipped_error_bursts(void **state)
{
    (void)state;
    char *text = vg_test_read(vg_test_src("topologies/error_bursts.yaml"));
    struct vg_pipe *p = vg_pipe_new(text, 1);
    free(text);
    vg_pipe_feed(p, "logs",
                 "{\"ts\":0,\"session\":\"s1\",\"level\":\"error\",\"msg\":\"a\",\"user\":\"u\"}\n"
                 "{\"ts\":100000,\"session\":\"s1\",\"level\":\"error\",\"msg\":\"b\",\"user\":\"u\"}\n"
                 "{\"ts\":200000,\"session\":\"s1\",\"level\":\"info\",\"msg\":\"x\",\"user\":\"u\"}\n"
                 "{\"ts\":210000,\"session\":\"s1\",\"level\":\"error\",\"msg\":\"c\",\"user\":\"u\"}\n"
                 "{\"ts\":300000,\"session\":\"s1\",\"level\":\"error\",\"msg\":\"d\",\"user\":\"v\"}\n"
                 "{\"ts\":310000,\"session\":\"s1\",\"level\":\"error\",\"msg\":\"e\",\"user\":\"u\"}\n"
                 "{\"ts\":320000,\"session\":\"s1\",\"level\":\"error\",\"msg\":\"f\",\"user\":\"u\"}\n"
                 "{\"ts\":320000,\"session\":\"s2\",\"level\":\"error\",\"msg\":\"g\",\"user\":\"w\"}\n",
                 0);
    vg_pipe_feed(p, "logs", "{\"ts\":600000,\"session\":\"s9\",\"level\":\"info\"}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 2);
    const char *a = vg_pipe_out(p, 0)->value;
    assert_non_null(strstr(a, "\"rule_id\":\"APP-001\""));
    assert_non_null(strstr(a, "\"window_start\":0,\"window_end\":320000,"));
    assert_non_null(strstr(a, "\"fields\":{\"session\":\"s1\",\"errors\":6,\"first_error\":\"a\","
                              "\"last_error\":\"f\",\"users\":2,\"window_start\":0,"
                              "\"window_end\":320000}"));
    assert_non_null(strstr(vg_pipe_out(p, 1)->value, "\"rule_id\":\"APP-002\""));
    vg_pipe_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_tumbling_exact_results),
        cmocka_unit_test(test_window_sliding_overlap),
        cmocka_unit_test(test_window_sliding_restore_emits_each_window_once),
        cmocka_unit_test(test_window_session_merges_out_of_order),
        cmocka_unit_test(test_window_late_events_go_to_dead_letters),
        cmocka_unit_test(test_window_partition_behind_is_not_late),
        cmocka_unit_test(test_window_sessions_of_a_revoked_partition),
        cmocka_unit_test(test_window_alerts_carry_the_window),
        cmocka_unit_test(test_window_skips_results_no_rule_can_match),
        cmocka_unit_test(test_window_floor_gives_the_same_alerts),
        cmocka_unit_test(test_window_compile_errors),
        cmocka_unit_test(test_window_keyless_needs_one_thread),
        cmocka_unit_test(test_window_through_repartition_topic),
        cmocka_unit_test(test_window_shipped_port_scan),
        cmocka_unit_test(test_window_shipped_error_bursts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
