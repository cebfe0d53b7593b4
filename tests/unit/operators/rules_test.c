/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules_test.c - tests for operators/rules.c: exact alerts for given events, rule order,
 * keys, suppression in event time, the same output whatever the pool size, rules files and
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_exact_alerts),
        cmocka_unit_test(test_rules_same_alerts_with_a_pool_of_two),
        cmocka_unit_test(test_rules_text_format),
        cmocka_unit_test(test_rules_duplicate_id_and_bad_severity),
        cmocka_unit_test(test_rules_from_a_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
