/* SPDX-License-Identifier: Apache-2.0 */
/*
 * suppress_test.c - suppression as state: the shipped topologies/brute_force.yaml (AUTH-001,
 * suppress 15m per user, after a sliding window) through the real vigil binary, the
 * development broker over TCP and a real redis-server. An attacker alerts once; vigil is
 * killed (SIGKILL) after the checkpoint that holds the suppression; restarted, it reads more
 * windows of the same attacker within the span and alerts for none of them, then once more
 * after the span: exactly the alerts of an uninterrupted run, with the ids a replay of the
 * topic gives.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vg_test.h"

#define EVENTS "it-sup-events"
#define ALERTS "it-sup-alerts"
#define DLQ "it-sup-dlq"
#define DB 4
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, a multiple of 30 s */

static int setup(void **state)
{
    struct vg_test_world *f = calloc(1, sizeof(*f));
    if (vg_test_world_init(f) != 0)
        return -1;
    vg_test_world_broker(f, 1, EVENTS, 2, ALERTS, DLQ);
    vg_test_world_redis(f, DB);
    *state = f;
    return 0;
}

/* Alice's 12 failures from three addresses, 5 s apart from `from`: every window of 5 minutes
 * that holds them all alerts (>= 10 attempts, 3 addresses), unless suppressed. Then events of
 * other users at `now` on both partitions: event time moves on to now - 5 s (the lateness). */
static void produce_attack(struct vg_test_world *f, long long from, long long now)
{
    const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    const char *tick[] = {"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"};
    char *text = NULL;
    size_t len = 0;
    for (int i = 0; i < 12; i++)
        vg_test_auth_line(&text, &len, "alice", from + i * 5000, ips[i % 3], "failure");
    for (int i = 0; i < 8; i++)
        vg_test_auth_line(&text, &len, tick[i], now, "10.9.9.9", "success");
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2, text, "user");
    free(text);
}

/* Has the checkpoint written alice's AUTH-001 suppression entry? It lives with the window's
 * state, in its hash slot and transactions: hash vg:{brute-force:attempts:<partition>}:
 * /brute_force/suppress, field "AUTH-001\x1f\"alice\"". */
static bool alice_suppressed_in_redis(struct vg_test_world *f)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "for k in $(redis-cli -p %d -n %d --scan --pattern "
             "'vg:{brute-force:attempts:*}:/brute_force/suppress'); do "
             "redis-cli -p %d -n %d HEXISTS \"$k\" \"$(printf 'AUTH-001\\037\"alice\"')\"; done",
             f->redis.port, DB, f->redis.port, DB);
    FILE *p = popen(cmd, "r");
    char buf[256] = "";
    size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
    buf[n] = '\0';
    if (p)
        pclose(p);
    return strchr(buf, '1') != NULL;
}

static void wait_alice_suppressed_in_redis(struct vg_test_world *f)
{
    int64_t deadline = vg_test_now_ms() + 30000 * vg_test_slow();
    while (!alice_suppressed_in_redis(f)) {
        if (vg_test_now_ms() > deadline)
            fail_msg("no suppression entry for alice in Redis");
        usleep(100 * 1000);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "WINDOW_START ALERT_ID" of each distinct alert, sorted, one per line (malloc'd). */
static char *summarize(char **values, size_t n)
{
    char **lines = calloc(n + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = strstr(values[i], "\"alert_id\":\"");
        const char *ws = strstr(values[i], "\"window_start\":");
        assert_non_null(id);
        assert_non_null(ws);
        assert_non_null(strstr(values[i], "\"rule_id\":\"AUTH-001\""));
        assert_non_null(strstr(values[i], "\"key\":\"alice\""));
        char line[128];
        snprintf(line, sizeof(line), "%lld %.32s", atoll(ws + 15), id + 12);
        lines[k++] = strdup(line);
    }
    qsort(lines, k, sizeof(char *), cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < k; i++)
        len += strlen(lines[i]) + 1;
    char *out = calloc(len, 1);
    for (size_t i = 0; i < k; i++)
        if (i == 0 || strcmp(lines[i], lines[i - 1])) /* at-least-once: one line per id */
            strcat(strcat(out, lines[i]), "\n");
    for (size_t i = 0; i < k; i++)
        free(lines[i]);
    free(lines);
    return out;
}

/* The distinct alerts of the whole topic, replayed (vigil replay --from 0, into a file). */
static char *replayed(struct vg_test_world *f)
{
    char out[4096];
    snprintf(out, sizeof(out), "%s/replay.jsonl", f->dir);
    const char *args[] = {"replay", "topologies/brute_force.yaml", "-q", "--output", out,
                          "--from", "0", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    assert_int_equal(vg_test_vigil_stop(pid, 0, 60000 * vg_test_slow()), 0);
    char *text = vg_test_read(out);
    char *values[64];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 64;
         l = strtok_r(NULL, "\n", &save))
        values[n++] = l;
    char *sum = summarize(values, n);
    free(text);
    return sum;
}

static void test_suppress_survives_kill(void **state)
{
    struct vg_test_world *f = *state;
    const char *args[] = {"run", "topologies/brute_force.yaml", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    /* the window [T0 - 4m, T0 + 1m) holds all 12 and closes at T0 + 1m: the alert, and 15
     * minutes of suppression for alice */
    produce_attack(f, T0, T0 + 70000);
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 1, 60000, 500, &rs);
    assert_int_equal(rs.n, 1);
    vg_test_records_free(&rs);
    wait_alice_suppressed_in_redis(f);
    assert_int_equal(vg_test_vigil_stop(pid, SIGKILL, 5000), 128 + SIGKILL);

    pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    /* within the span: windows ending T0 + 3m .. T0 + 7m would alert, and the restored window
     * state's own (ending T0 + 1m30s .. T0 + 5m); none may */
    produce_attack(f, T0 + 120000, T0 + 8 * 60000);
    /* after it: the window [T0 + 16m, T0 + 21m) alerts, the next ones are suppressed again */
    produce_attack(f, T0 + 20 * 60000, T0 + 22 * 60000);
    vg_test_consume(&f->broker, ALERTS, 2, 120000, 3000, &rs);
    char **values = calloc(rs.n + 1, sizeof(char *));
    for (size_t i = 0; i < rs.n; i++)
        values[i] = rs.r[i].value;
    char *live = summarize(values, rs.n);
    free(values);
    vg_test_records_free(&rs);
    vg_test_vigil_term(pid);

    /* exactly the two windows of an uninterrupted run, with the ids a replay gives */
    char want_starts[128];
    snprintf(want_starts, sizeof(want_starts), "%lld \n%lld \n", T0 - 240000, T0 + 16 * 60000LL);
    char starts[128] = "";
    for (const char *l = live; *l; l = strchr(l, '\n') + 1)
        snprintf(starts + strlen(starts), sizeof(starts) - strlen(starts), "%.*s\n",
                 (int)(strchr(l, ' ') - l + 1), l);
    assert_string_equal(starts, want_starts);
    char *replay = replayed(f);
    assert_string_equal(live, replay);
    free(live);
    free(replay);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_suppress_survives_kill, setup,
                                        vg_test_world_teardown),
    };
    vg_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
