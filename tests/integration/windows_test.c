/* SPDX-License-Identifier: Apache-2.0 */
/*
 * windows_test.c - the shipped topologies/brute_force.yaml through the real vigil binary and
 * the development broker over TCP: exactly one alert, with its window, for the one user whose
 * failures cross the thresholds; late events to dead letters with their reason.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vg_test.h"

#define EVENTS "it-bf-events"
#define ALERTS "it-bf-alerts"
#define DLQ "it-bf-dlq"
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, a multiple of 30 s */

struct fixture {
    struct vg_test_broker broker;
    char *dir;
    char *log;
    char env_brokers[512];
    const char *env[6];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (chdir(getenv("VG_SOURCE_DIR") ? getenv("VG_SOURCE_DIR") : ".") != 0)
        return -1;
    f->dir = vg_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof(path), "%s/vigil.log", f->dir);
    f->log = strdup(path);
    vg_test_broker_start(&f->broker, 1);
    vg_test_topic(&f->broker, EVENTS, 2);
    vg_test_topic(&f->broker, ALERTS, 2);
    vg_test_topic(&f->broker, DLQ, 1);
    snprintf(f->env_brokers, sizeof(f->env_brokers), "KAFKA_BROKERS=%s", f->broker.bootstraps);
    f->env[0] = f->env_brokers;
    f->env[1] = "AUTH_TOPIC=" EVENTS;
    f->env[2] = "ALERT_TOPIC=" ALERTS;
    f->env[3] = "AUTH_DLQ=" DLQ;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vg_test_vigil_kill_all();
    if (f->log && access(f->log, R_OK) == 0) {
        char *text = vg_test_read(f->log);
        fprintf(stderr, "---- vigil log ----\n%s-------------------\n", text);
        free(text);
    }
    vg_test_broker_stop(&f->broker);
    vg_test_rmdir(f->dir);
    free(f->log);
    free(f);
    return 0;
}

static void add(char **buf, size_t *len, const char *user, long long ts, const char *ip,
                const char *outcome)
{
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "{\"ts\":%lld,\"user\":\"%s\",\"src_ip\":\"%s\",\"outcome\":\"%s\"}\n", ts,
                     user, ip, outcome);
    *buf = realloc(*buf, *len + (size_t)n + 1);
    memcpy(*buf + *len, line, (size_t)n + 1);
    *len += (size_t)n;
}

static void test_brute_force_one_alert_with_its_window(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;
    size_t len = 0;
    const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    for (int i = 0; i < 12; i++) {
        add(&text, &len, "alice", T0 + i * 5000, ips[i % 3], "failure");    /* 12, 3 IPs */
        add(&text, &len, "bob", T0 + i * 5000, "10.0.0.9", "failure");      /* 12, 1 IP */
        if (i < 6)
            add(&text, &len, "carol", T0 + i * 5000, ips[i % 3], "failure"); /* 6, 3 IPs */
        add(&text, &len, "dave", T0 + i * 5000, ips[i % 3], "success");     /* successes */
    }
    /* event time moves on in every partition: the windows above close */
    const char *tick[] = {"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"};
    for (int i = 0; i < 8; i++)
        add(&text, &len, tick[i], T0 + 20 * 60000, "10.9.9.9", "success");
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2, text, "user");
    free(text);

    const char *args[] = {"run", "topologies/brute_force.yaml", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 1, 30000 * vg_test_slow(), 3000, &rs);
    assert_int_equal(rs.n, 1);
    const char *a = rs.r[0].value;
    assert_non_null(strstr(a, "\"rule_id\":\"AUTH-001\""));
    assert_non_null(strstr(a, "\"key\":\"alice\",\"window_start\":1767225360000,"
                              "\"window_end\":1767225660000,\"event_time\":1767225659999,"));
    assert_non_null(strstr(a, "\"fields\":{\"user\":\"alice\",\"attempts\":12,\"ips\":3,"
                              "\"last_ip\":\"10.0.0.3\",\"sample_ips\":[\"10.0.0.1\",\"10.0.0.2\","
                              "\"10.0.0.3\",\"10.0.0.1\",\"10.0.0.2\"],\"window_start\":1767225360000,"
                              "\"window_end\":1767225660000}"));
    assert_string_equal(rs.r[0].key, "alice");
    vg_test_records_free(&rs);

    /* an event 10 s behind its partition (lateness 5 s) goes to the dead letters */
    char *late = NULL;
    len = 0;
    add(&late, &len, "t1", T0 + 20 * 60000 - 10000, "10.9.9.9", "failure");
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2, late, "user");
    free(late);
    struct vg_test_records dl;
    vg_test_consume(&f->broker, DLQ, 1, 30000 * vg_test_slow(), 500, &dl);
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.r[0].headers,
                           "vigil.reason=late: event time 1767226790000 is 5000 ms behind the "
                           "watermark of its partition (lateness 5000 ms)"));
    vg_test_records_free(&dl);
    assert_int_equal(vg_test_vigil_stop(pid, SIGTERM, 5000 * vg_test_slow()), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_brute_force_one_alert_with_its_window, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
