/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules_test.c - tests for operators/rules.c: exact alerts for given events, rule order,
 * keys (the node's own, or the key of the window or join before it, through filters and maps
 * and several inputs), alert ids unique per key and window, suppression in event time per key
 * and partition and across a restart, the same output whatever the pool size, rules files and
 * their errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alert.h"
#include "compile.h"
#include "topo.h"
#include "vg_pipe.h"
#include "vg_test.h"

/* Replace the values of the wall-clock fields detected_at and latency_ms with "T". */
static char *mask(const char *s)
{
    char *out = malloc(strlen(s) + 1), *w = out;
    static const char *const keys[] = {"\"detected_at\":", "\"latency_ms\":"};
    while (*s) {
        bool hit = false;
        for (size_t k = 0; k < 2 && !hit; k++) {
            size_t n = strlen(keys[k]);
            if (strncmp(s, keys[k], n) == 0) {
                memcpy(w, s, n);
                w += n;
                s += n;
                *w++ = 'T';
                while (*s == '-' || (*s >= '0' && *s <= '9'))
                    s++;
                hit = true;
            }
        }
        if (!hit)
            *w++ = *s++;
    }
    *w = '\0';
    return out;
}

static const char *const topo_rules =
    "name: t\n"
    "redis: {url: \"redis://127.0.0.1:6379/0\"}\n"
    "nodes:\n"
    "  in: {source: kafka, topic: auth, time: ts}\n"
    "  detect:\n"
    "    rules:\n"
    "      - id: R-1\n"
    "        title: Root login\n"
    "        severity: critical\n"
    "        when: user == \"root\" && outcome == \"success\"\n"
    "        suppress: 10m\n"
    "        tags: [a.b, c]\n"
    "      - id: R-2\n"
    "        title: Any success\n"
    "        severity: low\n"
    "        when: outcome == \"success\"\n"
    "      - id: R-3\n"
    "        title: Disabled\n"
    "        severity: info\n"
    "        when: true\n"
    "        enabled: false\n"
    "    key: [user]\n"
    "    input: in\n"
    "  out: {sink: stdout, input: detect}\n";

static const char *const events =
    "{\"ts\":1000,\"user\":\"root\",\"outcome\":\"success\"}\n"
    "{\"ts\":2000,\"user\":\"bob\",\"outcome\":\"failure\"}\n"
    "{\"ts\":3000,\"user\":\"root\",\"outcome\":\"success\"}\n"
    "{\"ts\":600000,\"user\":\"root\",\"outcome\":\"success\"}\n"
    "{\"ts\":601000,\"user\":\"root\",\"outcome\":\"success\"}\n";

static void test_rules_exact_alerts(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo_rules, 1);
    vg_pipe_feed(p, "in", events, 2000000);
    assert_int_equal(vg_pipe_n_out(p), 6);
    /* R-1 fires at ts 1000, is suppressed at 3000 and 600000 (< 1000 + 10m), fires again at
     * 601000; R-2 has no suppress and fires on every success; R-3 is disabled. */
    char *text = vg_pipe_out_text(p);
    char *m = mask(text);
    char *first = strndup(m, (size_t)(strchr(m, '\n') - m));
    char expect_first[1024];
    snprintf(expect_first, sizeof(expect_first),
             "{\"alert_id\":\"%.32s\",\"rule_id\":\"R-1\",\"title\":\"Root login\","
             "\"severity\":\"critical\",\"tags\":[\"a.b\",\"c\"],\"topology\":\"t\","
             "\"key\":\"root\",\"window_start\":null,\"window_end\":null,\"event_time\":1000,"
             "\"detected_at\":T,\"source\":{\"topic\":\"auth\",\"partition\":0,\"offset\":0},"
             "\"latency_ms\":T,\"fields\":{\"ts\":1000,\"user\":\"root\",\"outcome\":\"success\"}}",
             strstr(first, "\"alert_id\":\"") + 12);
    assert_string_equal(first, expect_first);
    /* the order: by event, then by rule */
    const char *want[] = {"R-1\",", "R-2\",", "R-2\",", "R-2\",", "R-1\",", "R-2\","};
    const char *want_off[] = {"\"offset\":0}", "\"offset\":0}", "\"offset\":2}", "\"offset\":3}",
                              "\"offset\":4}", "\"offset\":4}"};
    const char *line = m;
    for (size_t i = 0; i < 6; i++) {
        const char *nl = strchr(line, '\n');
        char *l = strndup(line, (size_t)(nl - line));
        char rid[64];
        snprintf(rid, sizeof(rid), "\"rule_id\":\"%s", want[i]);
        assert_non_null(strstr(l, rid));
        assert_non_null(strstr(l, want_off[i]));
        free(l);
        line = nl + 1;
    }
    free(first);
    free(m);
    free(text);
    vg_pipe_free(p);
}

static void test_rules_same_alerts_with_a_pool_of_two(void **state)
{
    (void)state;
    struct vg_pipe *p1 = vg_pipe_new(topo_rules, 1), *p2 = vg_pipe_new(topo_rules, 2);
    char big[64 * 1024] = "";
    for (int i = 0; i < 300; i++) {
        char line[160];
        snprintf(line, sizeof(line), "{\"ts\":%d,\"user\":\"%s%d\",\"outcome\":\"%s\"}\n",
                 i * 1000, i % 7 == 0 ? "root" : "u", i % 5 == 0 ? 0 : i % 3,
                 i % 2 ? "success" : "failure");
        strcat(big, line);
    }
    vg_pipe_feed(p1, "in", big, 0);
    vg_pipe_feed(p2, "in", big, 0);
    char *t1 = vg_pipe_out_text(p1), *t2 = vg_pipe_out_text(p2);
    char *a = mask(t1), *b = mask(t2);
    free(t1);
    free(t2);
    assert_true(vg_pipe_n_out(p1) > 100);
    assert_string_equal(a, b); /* alert ids included: deterministic */
    free(a);
    free(b);
    vg_pipe_free(p1);
    vg_pipe_free(p2);
}

static void test_rules_text_format(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new("name: t\n"
                                    "nodes:\n"
                                    "  in: {source: kafka, topic: auth}\n"
                                    "  detect:\n"
                                    "    rules:\n"
                                    "      - {id: X-1, title: Hello there, severity: high, "
                                    "when: 'user == \"eve\"'}\n"
                                    "    key: [user, host]\n"
                                    "    input: in\n"
                                    "  out: {sink: stdout, format: text, input: detect}\n",
                                    1);
    vg_pipe_feed(p, "in", "{\"user\":\"eve\",\"host\":\"h1\"}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 1);
    const struct vg_pipe_rec *r = vg_pipe_out(p, 0);
    assert_string_equal(r->key, "eve,h1");
    assert_non_null(strstr(r->value, "[high] X-1 key=eve,h1 latency="));
    assert_non_null(strstr(r->value, "ms Hello there"));
    vg_pipe_free(p);
}

static void test_rules_duplicate_id_and_bad_severity(void **state)
{
    (void)state;
    char *errs = vg_pipe_errors("name: t\n"
                                "nodes:\n"
                                "  in: {source: kafka, topic: auth}\n"
                                "  detect:\n"
                                "    rules:\n"
                                "      - {id: X-1, title: a, severity: high, when: 'true'}\n"
                                "      - {id: X-1, title: b, severity: low, when: 'true'}\n"
                                "      - {id: X-2, title: c, severity: urgent, when: 'true'}\n"
                                "    input: in\n"
                                "  out: {sink: stdout, input: detect}\n");
    assert_non_null(strstr(errs, "duplicate rule id 'X-1'"));
    assert_non_null(strstr(errs, "expected one of info, low, medium, high, critical, got 'urgent'"));
    free(errs);
}

static void test_rules_from_a_file(void **state)
{
    (void)state;
    char *dir = vg_test_tmpdir();
    char *rules = vg_test_write(dir, "r.yaml",
                                "rules:\n"
                                "  - id: F-1\n"
                                "    title: from file\n"
                                "    severity: medium\n"
                                "    when: x > 1\n");
    char topo[1024];
    snprintf(topo, sizeof(topo),
             "name: t\n"
             "nodes:\n"
             "  in: {source: kafka, topic: auth}\n"
             "  detect: {rules: %s, input: in}\n"
             "  out: {sink: stdout, input: detect}\n",
             rules);
    struct vg_pipe *p = vg_pipe_new(topo, 1);
    vg_pipe_feed(p, "in", "{\"x\":1}\n{\"x\":2}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 1);
    assert_non_null(strstr(vg_pipe_out(p, 0)->value, "\"rule_id\":\"F-1\""));
    assert_non_null(strstr(vg_pipe_out(p, 0)->value, "\"key\":null"));
    vg_pipe_free(p);
    free(rules);
    vg_test_rmdir(dir);
}

/* The string value of "name" in a JSON alert (malloc'd), or NULL. */
static char *json_str(const char *json, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":\"", name);
    const char *at = strstr(json, pat);
    if (!at)
        return NULL;
    at += strlen(pat);
    return strndup(at, (size_t)(strchr(at, '"') - at));
}

/* The id vg_alert_id gives (topology t, rule, key JSON, window [start, end)). */
static void window_id(const char *rule, const char *key_json, long long start, long long end,
                      char out[33])
{
    struct vg_alert a = {.topology = "t", .rule_id = rule, .key_json = key_json,
                         .window_start = start, .window_end = end};
    vg_alert_id(&a, out);
}

/* A window keyed by user, `mid` nodes after it (may be ""), a rules node without key: reading
 * `from`, and a sink. Two users cross the threshold in the window [0, 1m). */
static struct vg_pipe *after_window(const char *mid, const char *from, const char *suppress)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "name: t\n"
             "redis: {url: \"redis://127.0.0.1:6379/0\"}\n"
             "nodes:\n"
             "  in: {source: kafka, topic: e, time: ts, partitioned_by: [user]}\n"
             "  w:\n"
             "    window: tumbling 1m\n"
             "    key: [user]\n"
             "    aggregate: {fails: count()}\n"
             "    input: in\n"
             "%s"
             "  d:\n"
             "    rules:\n"
             "      - {id: BF, title: bf, severity: high, when: fails >= 2%s}\n"
             "    input: %s\n"
             "  out: {sink: stdout, input: d}\n",
             mid, suppress, from);
    struct vg_pipe *p = vg_pipe_new(text, 1);
    vg_pipe_feed(p, "in",
                 "{\"ts\":1000,\"user\":\"alice\"}\n"
                 "{\"ts\":2000,\"user\":\"bob\"}\n"
                 "{\"ts\":3000,\"user\":\"alice\"}\n"
                 "{\"ts\":4000,\"user\":\"bob\"}\n"
                 "{\"ts\":61000,\"user\":\"carol\"}\n",
                 70000);
    return p;
}

/* Alice's and bob's alerts of the window [0, 1m): each with its key (also the record key)
 * and the id of (topology, rule, key, window), so two ids. */
static void expect_alice_and_bob(struct vg_pipe *p)
{
    assert_int_equal(vg_pipe_n_out(p), 2);
    const char *users[] = {"alice", "bob"};
    char *ids[2];
    for (int i = 0; i < 2; i++) {
        const struct vg_pipe_rec *r = vg_pipe_out(p, (size_t)i);
        char want[128], id[33], key_json[64];
        snprintf(want, sizeof(want), "\"key\":\"%s\",\"window_start\":0,\"window_end\":60000,",
                 users[i]);
        assert_non_null(strstr(r->value, want));
        assert_string_equal(r->key, users[i]);
        ids[i] = json_str(r->value, "alert_id");
        snprintf(key_json, sizeof(key_json), "\"%s\"", users[i]);
        window_id("BF", key_json, 0, 60000, id);
        assert_string_equal(ids[i], id);
    }
    assert_string_not_equal(ids[0], ids[1]);
    free(ids[0]);
    free(ids[1]);
}

static void test_rules_after_a_window_take_its_key(void **state)
{
    (void)state;
    struct vg_pipe *p = after_window("", "w", "");
    expect_alice_and_bob(p);
    vg_pipe_free(p);
}

/* suppress is per key: bob's alert is not held back by alice's */
static void test_rules_after_a_window_suppress_per_key(void **state)
{
    (void)state;
    struct vg_pipe *p = after_window("", "w", ", suppress: 10m");
    expect_alice_and_bob(p);
    vg_pipe_free(p);
}

/* window -> filter -> rules and window -> map -> rules: the window's key still */
static void test_rules_after_a_window_through_filter_and_map(void **state)
{
    (void)state;
    struct vg_pipe *p = after_window("  f: {filter: fails > 0, input: w}\n", "f", "");
    expect_alice_and_bob(p);
    vg_pipe_free(p);
    p = after_window("  m: {map: {fails: fails, who: upper(user)}, input: w}\n", "m", "");
    expect_alice_and_bob(p);
    vg_pipe_free(p);
}

/* Several key fields: an object; an explicit key: wins; no key: one global key, null. */
static void test_rules_window_key_forms(void **state)
{
    (void)state;
    const char *forms[][3] = {
        {"    key: [user, host]\n", "", "\"key\":{\"user\":\"alice\",\"host\":\"h1\"},"},
        {"    key: [user, host]\n", "    key: [host]\n", "\"key\":\"h1\","},
        {"", "", "\"key\":null,"},
    };
    for (size_t i = 0; i < 3; i++) {
        char text[2048];
        snprintf(text, sizeof(text),
                 "name: t\n"
                 "parallelism: 1\n"
                 "nodes:\n"
                 "  in: {source: kafka, topic: e, time: ts, partitioned_by: [user, host]}\n"
                 "  w:\n"
                 "    window: tumbling 1m\n"
                 "%s"
                 "    aggregate: {n: count()}\n"
                 "    input: in\n"
                 "  d:\n"
                 "    rules:\n"
                 "      - {id: R, title: r, severity: low, when: n >= 2}\n"
                 "%s"
                 "    input: w\n"
                 "  out: {sink: stdout, input: d}\n",
                 forms[i][0], forms[i][1]);
        struct vg_pipe *p = vg_pipe_new(text, 1);
        vg_pipe_feed(p, "in",
                     "{\"ts\":1000,\"user\":\"alice\",\"host\":\"h1\"}\n"
                     "{\"ts\":2000,\"user\":\"alice\",\"host\":\"h1\"}\n"
                     "{\"ts\":61000,\"user\":\"carol\",\"host\":\"h2\"}\n",
                     70000);
        assert_int_equal(vg_pipe_n_out(p), 1);
        assert_non_null(strstr(vg_pipe_out(p, 0)->value, forms[i][2]));
        vg_pipe_free(p);
    }
}

/* Two windows keyed alike into one rules node: each alert has its own window's key; keyed
 * differently: refused, with where. */
static void test_rules_several_inputs(void **state)
{
    (void)state;
    static const char *const fmt =
        "name: t\n"
        "nodes:\n"
        "  in: {source: kafka, topic: e, time: ts, partitioned_by: [user]}\n"
        "  w1: {window: tumbling 1m, key: [user], aggregate: {n: count()}, input: in}\n"
        "  w2: {window: tumbling 2m, key: [%s], aggregate: {n: count()}, input: in}\n"
        "  d:\n"
        "    rules:\n"
        "      - {id: R, title: r, severity: low, when: 'true'}\n"
        "    input: [w1, w2]\n"
        "  out: {sink: stdout, input: d}\n";
    char text[1024];
    snprintf(text, sizeof(text), fmt, "user");
    struct vg_pipe *p = vg_pipe_new(text, 1);
    vg_pipe_feed(p, "in", "{\"ts\":1000,\"user\":\"alice\"}\n{\"ts\":130000,\"user\":\"bob\"}\n",
                 0);
    assert_int_equal(vg_pipe_n_out(p), 2); /* alice's [0,1m) and [0,2m); bob's still open */
    for (size_t i = 0; i < 2; i++)
        assert_non_null(strstr(vg_pipe_out(p, i)->value, "\"key\":\"alice\","));
    vg_pipe_free(p);
    snprintf(text, sizeof(text), fmt, "host");
    char *errs = vg_pipe_errors(text);
    assert_string_equal(errs, "t.yaml:6:3: error: node 'd': its inputs are keyed differently "
                              "('w1' is keyed by [user], 'w2' by [host]), and an alert has one "
                              "key (name the alert key with key:, or give each input a rules "
                              "node of its own)\n");
    free(errs);
}

/* After a stream-stream join: its `on` key; after an enrichment of single events: its `on`
 * key too, unless they had one. */
static void test_rules_after_a_join_take_its_key(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(
        "name: t\n"
        "nodes:\n"
        "  logins: {source: kafka, topic: l, time: ts, partitioned_by: user}\n"
        "  vpn: {source: kafka, topic: v, time: ts, partitioned_by: user}\n"
        "  j: {join: {left: logins, right: vpn, on: user, within: 10s}}\n"
        "  d:\n"
        "    rules:\n"
        "      - {id: T, title: travel, severity: high, when: logins.c != vpn.c}\n"
        "    input: j\n"
        "  out: {sink: stdout, input: d}\n",
        1);
    vg_pipe_feed(p, "logins", "{\"ts\":1000,\"user\":\"ann\",\"c\":\"DE\"}\n"
                              "{\"ts\":1000,\"user\":\"bo\",\"c\":\"DE\"}\n", 0);
    vg_pipe_feed(p, "vpn", "{\"ts\":2000,\"user\":\"ann\",\"c\":\"US\"}\n"
                           "{\"ts\":2000,\"user\":\"bo\",\"c\":\"FR\"}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 2);
    assert_non_null(strstr(vg_pipe_out(p, 0)->value, "\"key\":\"ann\","));
    assert_non_null(strstr(vg_pipe_out(p, 1)->value, "\"key\":\"bo\","));
    assert_string_equal(vg_pipe_out(p, 0)->key, "ann");
    vg_pipe_free(p);

    p = vg_pipe_new("name: t\n"
                    "nodes:\n"
                    "  fails: {source: kafka, topic: f}\n"
                    "  assets: {table: redis, key_pattern: \"asset:{}\"}\n"
                    "  e: {join: {left: fails, right: assets, on: lower(host), type: left}}\n"
                    "  d:\n"
                    "    rules:\n"
                    "      - {id: A, title: a, severity: low, when: assets.owner == \"ops\"}\n"
                    "    input: e\n"
                    "  out: {sink: stdout, input: d}\n",
                    1);
    vg_pipe_table(p, "asset:h1", "owner", "ops");
    vg_pipe_feed(p, "fails", "{\"host\":\"H1\"}\n{\"host\":\"h2\"}\n", 0);
    assert_int_equal(vg_pipe_n_out(p), 1);
    assert_non_null(strstr(vg_pipe_out(p, 0)->value, "\"key\":\"h1\","));
    vg_pipe_free(p);
}

/* What was suppressed survives a restart (state saved and loaded as the engine does): the
 * same alerts as without it. */
static void test_rules_suppress_survives_a_restart(void **state)
{
    (void)state;
    static const char *const first = "{\"ts\":1000,\"user\":\"root\",\"outcome\":\"success\"}\n";
    static const char *const then[] = {
        "{\"ts\":3000,\"user\":\"root\",\"outcome\":\"success\"}\n",   /* suppressed */
        "{\"ts\":600000,\"user\":\"root\",\"outcome\":\"success\"}\n", /* suppressed */
        "{\"ts\":601000,\"user\":\"root\",\"outcome\":\"success\"}\n", /* R-1 again */
    };
    char *text[2];
    for (int restart = 0; restart < 2; restart++) {
        struct vg_pipe *p = vg_pipe_new(topo_rules, 1);
        vg_pipe_feed(p, "in", first, 2000000);
        for (size_t i = 0; i < 3; i++) {
            if (restart)
                vg_pipe_restart(p);
            vg_pipe_feed(p, "in", then[i], 2000000);
        }
        assert_int_equal(vg_pipe_n_out(p), 6); /* R-1 twice, R-2 on each of the four */
        char *t = vg_pipe_out_text(p);
        text[restart] = mask(t);
        free(t);
        vg_pipe_free(p);
    }
    assert_string_equal(text[0], text[1]);
    free(text[0]);
    free(text[1]);
}

/* An entry ends when its span has passed in its partition's event time (the latest match's),
 * so an event that arrives out of order after that is not held back by it. */
static void test_rules_suppress_ends_with_the_partition_time(void **state)
{
    (void)state;
    struct vg_pipe *p = vg_pipe_new(topo_rules, 1);
    vg_pipe_feed(p, "in",
                 "{\"ts\":1000,\"user\":\"root\",\"outcome\":\"success\"}\n"  /* */
                 "{\"ts\":2000,\"user\":\"root\",\"outcome\":\"success\"}\n"  /* held back */
                 "{\"ts\":700000,\"user\":\"bob\",\"outcome\":\"success\"}\n" /* time moves */
                 "{\"ts\":5000,\"user\":\"root\",\"outcome\":\"success\"}\n", /* R-1 again */
                 2000000);
    char *t = vg_pipe_out_text(p);
    const char *at = t;
    int r1 = 0;
    while ((at = strstr(at, "\"rule_id\":\"R-1\""))) {
        r1++;
        at++;
    }
    assert_int_equal(r1, 2);
    free(t);
    vg_pipe_free(p);
}

/* The state namespace of node `name` when text compiles (state.h): "" when it keeps none. */
static char *state_name_of(const char *text, const char *name)
{
    struct vg_diag d;
    vg_diag_init(&d);
    struct vg_topology *topo = vg_topo_load_string("t.yaml", text, strlen(text), &d);
    assert_non_null(topo);
    struct vg_compiled *c = vg_compile(topo, &d);
    assert_non_null(c);
    char *out = NULL;
    for (size_t i = 0; i < c->n_nodes; i++)
        if (!strcmp(c->nodes[i].node->name, name))
            out = strdup(c->nodes[i].stateful ? c->nodes[i].state_name : "");
    vg_compiled_free(c);
    vg_topo_free(topo);
    vg_diag_fini(&d);
    assert_non_null(out);
    return out;
}

/* A rules node with suppress keeps state: with the window's when all its events come from it
 * (one MULTI/EXEC per partition for both), in its own namespace on single events; none
 * without suppress. */
static void test_rules_suppress_state_lives_with_the_window(void **state)
{
    (void)state;
    static const char *const fmt =
        "name: t\n"
        "redis: {url: \"redis://127.0.0.1:6379/0\"}\n"
        "nodes:\n"
        "  in: {source: kafka, topic: e, time: ts, partitioned_by: [user]}\n"
        "  w: {window: tumbling 1m, key: [user], aggregate: {n: count()}, input: in}\n"
        "  f: {filter: n > 1, input: w}\n"
        "  d:\n"
        "    rules:\n"
        "      - {id: R, title: r, severity: low, when: 'true'%s}\n"
        "    key: [user]\n"
        "    input: %s\n"
        "  out: {sink: stdout, input: d}\n";
    const char *cases[][3] = {
        {", suppress: 1m", "f", "w/d"},
        {", suppress: 1m", "w", "w/d"},
        {", suppress: 1m", "in", "d"},
        {"", "f", ""},
    };
    for (size_t i = 0; i < 4; i++) {
        char text[1024];
        snprintf(text, sizeof(text), fmt, cases[i][0], cases[i][1]);
        char *name = state_name_of(text, "d");
        assert_string_equal(name, cases[i][2]);
        free(name);
    }
}

/* suppress needs Redis: without `redis:` it is refused where it is written */
static void test_rules_suppress_needs_redis(void **state)
{
    (void)state;
    char *errs = vg_pipe_errors("name: t\n"
                                "nodes:\n"
                                "  in: {source: kafka, topic: auth}\n"
                                "  detect:\n"
                                "    rules:\n"
                                "      - {id: X-1, title: a, severity: high, when: 'true',\n"
                                "         suppress: 10m}\n"
                                "    input: in\n"
                                "  out: {sink: stdout, input: detect}\n");
    assert_string_equal(errs, "t.yaml:7:20: error: node 'detect': rule 'X-1': key 'suppress' "
                              "needs a top-level 'redis:': what was suppressed is state, kept in "
                              "Redis so that a restart changes no alert (redis: {url: "
                              "'redis://127.0.0.1:6379/0'})\n");
    free(errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_exact_alerts),
        cmocka_unit_test(test_rules_same_alerts_with_a_pool_of_two),
        cmocka_unit_test(test_rules_text_format),
        cmocka_unit_test(test_rules_duplicate_id_and_bad_severity),
        cmocka_unit_test(test_rules_from_a_file),
        cmocka_unit_test(test_rules_after_a_window_take_its_key),
        cmocka_unit_test(test_rules_after_a_window_suppress_per_key),
        cmocka_unit_test(test_rules_after_a_window_through_filter_and_map),
        cmocka_unit_test(test_rules_window_key_forms),
        cmocka_unit_test(test_rules_several_inputs),
        cmocka_unit_test(test_rules_after_a_join_take_its_key),
        cmocka_unit_test(test_rules_suppress_survives_a_restart),
        cmocka_unit_test(test_rules_suppress_ends_with_the_partition_time),
        cmocka_unit_test(test_rules_suppress_state_lives_with_the_window),
        cmocka_unit_test(test_rules_suppress_needs_redis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
