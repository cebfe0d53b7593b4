/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth_alerts_test.c - the shipped auth-anomalies topology through the real `vigil` binary
 * against a development broker over TCP and a real redis-server (suppression state): exact
 * alerts out for given events in, malformed events to the dead-letter topic with reasons,
 * SIGTERM then restart without loss or reprocessing, what was suppressed still suppressed
 * after a restart, and a sink broker that is down for a while without loss.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "vg_test.h"

#define ALERTS "it-alerts"
#define EVENTS "it-auth-events"
#define DLQ "it-auth-dlq"

static int setup(void **state)
{
    struct vg_test_world *f = calloc(1, sizeof(*f));
    if (vg_test_world_init(f) != 0)
        return -1;
    *state = f;
    return 0;
}


static void start_broker(struct vg_test_world *f, int n_brokers)
{
    vg_test_world_broker(f, n_brokers, EVENTS, 2, ALERTS, DLQ);
    vg_test_world_redis(f, 1);
}

/* Start vigil and wait until both stream threads hold partitions: events produced after
 * that are read without a rebalance in between (a group still forming when the first records
 * arrive may hand a partition over before its offsets are committed, and the records are then
 * read twice, which at-least-once allows but these exact counts do not). */
static pid_t start_vigil(struct vg_test_world *f)
{
    const char *args[] = {"run", "topologies/auth_anomalies.yaml", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    return pid;
}

/* "RULE KEY EVENT_TIME" per alert, sorted, one per line; also checks each alert's shape. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *summarize(const struct vg_test_records *rs, size_t *n_unique)
{
    struct vg_paths *p = vg_paths_new();
    const char *names[] = {"alert_id", "rule_id", "key", "event_time", "latency_ms",
                           "source.topic", "source.offset", "topology", "fields.user",
                           "severity", "tags", "window_start"};
    for (int i = 0; i < 12; i++)
        vg_paths_add(p, names[i], i, NULL);
    struct vg_json_parser *jp = vg_json_parser_new();
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    char **lines = calloc(rs->n + 1, sizeof(char *));
    char **ids = calloc(rs->n + 1, sizeof(char *));
    for (size_t i = 0; i < rs->n; i++) {
        struct vg_value v[12];
        struct vg_err err;
        assert_int_equal(vg_json_decode(jp, p, rs->r[i].value, rs->r[i].len, &arena, v, &err), 0);
        assert_int_equal(v[0].type, VG_T_STR);
        assert_int_equal(v[0].len, 32);
        assert_int_equal(v[1].type, VG_T_STR);
        assert_int_equal(v[2].type, VG_T_STR);
        assert_int_equal(v[3].type, VG_T_INT);
        assert_int_equal(v[4].type, VG_T_INT);
        assert_true(v[4].u.i >= 0);
        assert_int_equal(v[5].type, VG_T_STR);
        assert_memory_equal(v[5].u.s, EVENTS, strlen(EVENTS));
        assert_int_equal(v[6].type, VG_T_INT);
        assert_int_equal(v[7].len, strlen("auth-anomalies"));
        assert_memory_equal(v[7].u.s, "auth-anomalies", v[7].len);
        /* fields is the matched event itself; the key is its user */
        assert_int_equal(v[8].type, VG_T_STR);
        assert_int_equal(v[8].len, v[2].len);
        assert_memory_equal(v[8].u.s, v[2].u.s, v[2].len);
        assert_int_equal(v[10].type, VG_T_LIST);
        assert_int_equal(v[11].type, VG_T_NULL);
        /* the Kafka record key is the alert key */
        assert_non_null(rs->r[i].key);
        assert_memory_equal(rs->r[i].key, v[2].u.s, v[2].len);
        char buf[512];
        snprintf(buf, sizeof(buf), "%.*s %.*s %lld", (int)v[1].len, v[1].u.s, (int)v[2].len,
                 v[2].u.s, (long long)v[3].u.i);
        lines[i] = strdup(buf);
        ids[i] = strndup(v[0].u.s, v[0].len);
        vg_arena_reset(&arena);
    }
    qsort(lines, rs->n, sizeof(char *), cmp_str);
    qsort(ids, rs->n, sizeof(char *), cmp_str);
    *n_unique = 0;
    for (size_t i = 0; i < rs->n; i++)
        if (i == 0 || strcmp(*(char **)&ids[i], *(char **)&ids[i - 1]) != 0)
            (*n_unique)++;
    size_t len = 0;
    for (size_t i = 0; i < rs->n; i++)
        len += strlen(lines[i]) + 1;
    char *out = calloc(len + 1, 1);
    for (size_t i = 0; i < rs->n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
        free(ids[i]);
    }
    free(lines);
    free(ids);
    vg_arena_fini(&arena);
    vg_json_parser_free(jp);
    vg_paths_free(p);
    return out;
}

/* The lines of the expected files (paths in the source tree, NULL-terminated) and of `extra`,
 * sorted the way summarize sorts. */
static char *expected(const char *const *rels, const char *extra)
{
    size_t size = strlen(extra) + 1;
    for (size_t i = 0; rels[i]; i++) {
        char *t = vg_test_read(vg_test_src(rels[i]));
        size += strlen(t);
        free(t);
    }
    char *text = calloc(size, 1);
    for (size_t i = 0; rels[i]; i++) {
        char *t = vg_test_read(vg_test_src(rels[i]));
        strcat(text, t);
        free(t);
    }
    strcat(text, extra);
    char *lines[256];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 256;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    qsort(lines, n, sizeof(char *), cmp_str);
    char *out = calloc(size + 1, 1);
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
    }
    free(text);
    return out;
}

static void produce_file(struct vg_test_world *f, const char *rel)
{
    char *text = vg_test_read(vg_test_src(rel));
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2, text, "user");
    free(text);
}

/* The alerts on the topic are exactly those of the expected files and extra lines. */
static void expect_alerts_of(struct vg_test_world *f, const char *const *expected_rels,
                             const char *extra, size_t n_expected)
{
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, n_expected, 60000, 1500, &rs);
    size_t unique;
    char *got = summarize(&rs, &unique);
    char *want = expected(expected_rels, extra);
    assert_string_equal(got, want);
    assert_int_equal(rs.n, n_expected); /* no duplicates either */
    assert_int_equal(unique, n_expected);
    free(got);
    free(want);
    vg_test_records_free(&rs);
}

static void expect_alerts(struct vg_test_world *f, const char *expected_rel, size_t n_expected)
{
    const char *rels[] = {expected_rel, NULL};
    expect_alerts_of(f, rels, "", n_expected);
}

/* Events in -> exactly the expected alerts out; bad records -> dead letters with reasons. */
static void test_auth_alerts_exact_and_dead_letters(void **state)
{
    struct vg_test_world *f = *state;
    start_broker(f, 1);
    pid_t pid = start_vigil(f);
    produce_file(f, "tests/cases/integration/auth_events.jsonl");
    char *bad = vg_test_read(vg_test_src("tests/cases/integration/auth_bad.txt"));
    vg_test_produce_lines(&f->broker, EVENTS, 1, bad);
    free(bad);
    static const unsigned char garbage[] = {0x00, 0xff, 0xfe, 0x7b, 0x22};
    vg_test_produce(&f->broker, EVENTS, 0, garbage, sizeof(garbage));

    expect_alerts(f, "tests/cases/integration/auth_events.expected", 7);

    struct vg_test_records dl;
    vg_test_consume(&f->broker, DLQ, 5, 30000, 500, &dl);
    assert_int_equal(dl.n, 5);
    const char *reasons[] = {
        "vigil.reason=undecodable: invalid JSON",
        "vigil.reason=undecodable: not a JSON object",
        "vigil.reason=bad event time: field 'ts' is missing",
        "vigil.reason=bad event time: field 'ts' is not an epoch number or RFC 3339 time",
        "vigil.reason=undecodable: ",
    };
    for (size_t i = 0; i < dl.n; i++) {
        assert_non_null(dl.r[i].headers);
        assert_non_null(strstr(dl.r[i].headers, reasons[i]));
        assert_non_null(strstr(dl.r[i].headers, "vigil.source.topic=" EVENTS "\n"));
        assert_non_null(strstr(dl.r[i].headers, "vigil.source.partition=0\n"));
        assert_non_null(strstr(dl.r[i].headers, "vigil.topology=auth-anomalies\n"));
    }
    assert_int_equal(dl.r[4].len, sizeof(garbage)); /* the original bytes, untouched */
    assert_memory_equal(dl.r[4].value, garbage, sizeof(garbage));
    vg_test_records_free(&dl);

    int64_t t0 = vg_test_now_ms();
    vg_test_vigil_term(pid);
    assert_true(vg_test_now_ms() - t0 < 5000 * vg_test_slow());
}

/* SIGTERM, more events, restart: the new events alert once, the old ones never again. */
static void test_auth_restart_no_loss_no_reprocessing(void **state)
{
    struct vg_test_world *f = *state;
    start_broker(f, 1);
    pid_t pid = start_vigil(f);
    produce_file(f, "tests/cases/integration/auth_events.jsonl");
    expect_alerts(f, "tests/cases/integration/auth_events.expected", 7);
    vg_test_vigil_term(pid);

    produce_file(f, "tests/cases/integration/auth_events_2.jsonl"); /* while vigil is down */
    pid = start_vigil(f);
    const char *both[] = {"tests/cases/integration/auth_events.expected",
                          "tests/cases/integration/auth_events_2.expected", NULL};
    expect_alerts_of(f, both, "", 9);
    vg_test_vigil_term(pid);
}

/* Root's password login alerts (AUTH-102, suppress 10m); SIGTERM; root's password login again
 * a minute later, then root from a Tor address; restart: the Tor alert (AUTH-103), read after
 * the login from the same partition, and no second AUTH-102 (the suppression was saved with
 * the offsets at the stop and loaded at the start). */
static void test_auth_suppress_survives_sigterm(void **state)
{
    struct vg_test_world *f = *state;
    start_broker(f, 1);
    pid_t pid = start_vigil(f);
    produce_file(f, "tests/cases/integration/auth_events.jsonl");
    expect_alerts(f, "tests/cases/integration/auth_events.expected", 7);
    vg_test_vigil_term(pid);

    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2,
                                "{\"ts\":1767225662000,\"user\":\"root\",\"src_ip\":\"10.0.0.9\","
                                "\"outcome\":\"success\",\"method\":\"password\"}\n"
                                "{\"ts\":1767225663000,\"user\":\"root\","
                                "\"src_ip\":\"185.220.102.4\",\"outcome\":\"failure\"}\n",
                                "user");
    pid = start_vigil(f);
    const char *first[] = {"tests/cases/integration/auth_events.expected", NULL};
    expect_alerts_of(f, first, "AUTH-103 root 1767225663000\n", 8);
    vg_test_vigil_term(pid);
}

/* The broker leading the alert topic is unavailable for a while (it answers every produce
 * request with a retriable error, then slowly): alerts wait, none is lost or duplicated. */
static void test_auth_sink_unavailable_no_loss(void **state)
{
    struct vg_test_world *f = *state;
    start_broker(f, 3);
    for (int p = 0; p < 2; p++) {
        rd_kafka_mock_partition_set_leader(f->broker.mc, EVENTS, p, 1);
        rd_kafka_mock_partition_set_leader(f->broker.mc, ALERTS, p, 3);
    }
    rd_kafka_mock_partition_set_leader(f->broker.mc, DLQ, 0, 1);
    rd_kafka_mock_coordinator_set(f->broker.mc, "group", "vigil.auth-anomalies", 1);
    pid_t pid = start_vigil(f);
    /* (librdkafka 2.0.2's mock broker cannot be brought back up reliably after
     * rd_kafka_mock_broker_set_down: re-binding its port may fail and abort) */
    rd_kafka_resp_err_t errs[40];
    for (size_t i = 0; i < 40; i++)
        errs[i] = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
    rd_kafka_mock_push_request_errors_array(f->broker.mc, 0 /* Produce */, 40, errs);
    rd_kafka_mock_broker_set_rtt(f->broker.mc, 3, 1000);
    produce_file(f, "tests/cases/integration/auth_events.jsonl");
    sleep(4); /* the outage: vigil has the events and cannot deliver */
    rd_kafka_mock_broker_set_rtt(f->broker.mc, 3, 0);
    expect_alerts(f, "tests/cases/integration/auth_events.expected", 7);
    vg_test_vigil_term(pid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_auth_alerts_exact_and_dead_letters, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_auth_restart_no_loss_no_reprocessing, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_auth_suppress_survives_sigterm, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_auth_sink_unavailable_no_loss, setup,
                                        vg_test_world_teardown),
    };
    vg_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
