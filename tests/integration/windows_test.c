/* SPDX-License-Identifier: Apache-2.0 */
/*
 * windows_test.c - the shipped topologies/brute_force.yaml through the real vigil binary, the
 * development broker over TCP and a real redis-server: exactly one alert, with its window, for
 * the one user whose failures cross the thresholds; late events to dead letters with their
 * reason; window state that survives kill -9 (no event lost, none counted twice) and a Redis
 * that dies and comes back empty; closed windows leave no keys, open ones have TTLs.
 */
#include <fcntl.h>
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

#define EVENTS "it-bf-events"
#define ALERTS "it-bf-alerts"
#define DLQ "it-bf-dlq"
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, a multiple of 30 s */

static int setup(void **state)
{
    struct vg_test_world *f = calloc(1, sizeof(*f));
    if (vg_test_world_init(f) != 0)
        return -1;
    vg_test_world_broker(f, 1, EVENTS, 4, ALERTS, DLQ);
    vg_test_world_redis(f, 3);
    *state = f;
    return 0;
}


/* alice's failures i in [from, to): 5 s apart from T0, three addresses in turn */
static void produce_alice(struct vg_test_world *f, int from, int to)
{
    const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    char *text = NULL;
    size_t len = 0;
    for (int i = from; i < to; i++)
        vg_test_auth_line(&text, &len, "alice", T0 + i * 5000, ips[i % 3], "failure");
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2, text, "user");
    free(text);
}

/* events at T0 + 20 min for users in both partitions: event time moves on everywhere */
static void produce_ticks(struct vg_test_world *f)
{
    char *text = NULL;
    size_t len = 0;
    const char *tick[] = {"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"};
    for (int i = 0; i < 8; i++)
        vg_test_auth_line(&text, &len, tick[i], T0 + 20 * 60000, "10.9.9.9", "success");
    vg_test_auth_line(&text, &len, "zed", T0 + 20 * 60000, "10.9.9.8", "failure"); /* windows stay open */
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2, text, "user");
    free(text);
}

/* What a shell command prints (malloc'd, at most 4 KiB). */
static char *sh_out(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    char buf[4096] = "";
    size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
    buf[n] = '\0';
    if (p)
        pclose(p);
    return strdup(buf);
}

/* Redis command: the reply (malloc'd). */
static char *redis_cli(struct vg_test_world *f, const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d -n 3 %s", f->redis.port, args);
    return sh_out(cmd);
}

/* The window state buckets (hashes, one per pane) holding an entry for `user`, one per line. */
static char *buckets_with(struct vg_test_world *f, const char *user)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "for k in $(redis-cli -p %d -n 3 --scan --pattern 'vg:{brute-force:attempts:*}:[0-9]*'); "
             "do [ \"$(redis-cli -p %d -n 3 HEXISTS \"$k\" '%s')\" = 1 ] && echo \"$k\"; done",
             f->redis.port, f->redis.port, user);
    return sh_out(cmd);
}

/* Wait (30 s x vg_test_slow()) until Redis holds window state of `user` and the offsets it
 * covers: something was processed and checkpointed. */
static void wait_state_of(struct vg_test_world *f, const char *user)
{
    int64_t deadline = vg_test_now_ms() + 30000LL * vg_test_slow();
    for (;;) {
        char *keys = redis_cli(f, "--scan --pattern 'vg:{brute-force:attempts:*'");
        char *b = buckets_with(f, user);
        bool done = strstr(keys, "@offsets") && strlen(b) > 0;
        free(keys);
        free(b);
        if (done)
            return;
        if (vg_test_now_ms() > deadline)
            fail_msg("no window state of '%s' in Redis", user);
        usleep(100 * 1000);
    }
}

static pid_t start(struct vg_test_world *f)
{
    const char *args[] = {"run", "topologies/brute_force.yaml", NULL};
    return vg_test_vigil_start(args, f->env, f->log);
}

/* Alice's one alert, from a vigil started just before: its group may take a few join
 * rounds of 9 s on the development broker (docs/operations.md). */
static void expect_one_alice_alert(struct vg_test_world *f)
{
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 1, 60000, 3000, &rs);
    assert_int_equal(rs.n, 1);
    assert_non_null(strstr(rs.r[0].value, "\"key\":\"alice\",\"window_start\":1767225360000,"));
    assert_non_null(strstr(rs.r[0].value, "\"attempts\":12,\"ips\":3,"));
    vg_test_records_free(&rs);
}

/* kill -9 in the middle, restart: exactly the result of an uninterrupted run */
static void test_brute_force_state_survives_kill(void **state)
{
    struct vg_test_world *f = *state;
    produce_alice(f, 0, 6);
    pid_t pid = start(f);
    vg_test_wait_assigned(f->log, 2);
    wait_state_of(f, "alice"); /* processed and written behind (every second) */
    char *keys;
    kill(pid, SIGKILL);
    assert_int_equal(vg_test_vigil_stop(pid, 0, 5000), 128 + SIGKILL);
    produce_alice(f, 6, 12);
    produce_ticks(f);
    pid = start(f);
    expect_one_alice_alert(f); /* 12 attempts: the first 6 from Redis, none twice */
    vg_test_vigil_term(pid);
    /* alice's windows closed and were deleted; what is left (ticks' windows) has a TTL */
    keys = buckets_with(f, "alice");
    assert_string_equal(keys, "");
    free(keys);
    keys = buckets_with(f, "zed");
    char *nl = strchr(keys, '\n');
    if (nl)
        *nl = '\0';
    assert_true(strlen(keys) > 0);
    char arg[256];
    snprintf(arg, sizeof(arg), "PTTL '%s'", keys);
    char *ttl = redis_cli(f, arg);
    long long ms = atoll(ttl);
    assert_true(ms > 10 * 60 * 1000 && ms <= (5 * 60 + 5 + 10 * 60) * 1000);
    free(ttl);
    free(keys);
}

/* Redis dies (losing everything) in the middle and comes back: intake pauses and resumes,
 * the state is written again, the result is exact */
static void test_brute_force_redis_outage(void **state)
{
    struct vg_test_world *f = *state;
    produce_alice(f, 0, 6);
    pid_t pid = start(f);
    vg_test_wait_assigned(f->log, 2);
    wait_state_of(f, "alice");
    vg_test_redis_kill(&f->redis);
    produce_alice(f, 6, 9);
    vg_test_wait_log(f->log, "state store unavailable", 1);
    vg_test_redis_restart(&f->redis);
    vg_test_wait_log(f->log, "state store reachable again", 1);
    produce_alice(f, 9, 12);
    produce_ticks(f);
    expect_one_alice_alert(f);
    vg_test_vigil_term(pid);
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Out-of-order events (within lateness) over 4 partitions: the windows' results are exact
 * and the same with 1 and with 2 stream threads. With a topology file whose source is not
 * partitioned by user, the events are keyed by another field and meet on the repartition
 * topic; with kill9, vigil is killed after the first half and restarted, and the results
 * (each window once, however often it was written) are still exact. */
/* `vigil replay yaml --from 0 --output -` with PARALLELISM=par, from the topic (input NULL)
 * or from `--input events=<input>`, standard input read from stdin_path (or /dev/null): the
 * window results it prints (log lines left out), sorted, must be want. */
static void replay_gives(struct vg_test_world *f, const char *yaml, const char *par,
                         const char *input, const char *stdin_path, char **want, size_t n_want)
{
    char env_par[32], in_arg[600], out_path[600];
    snprintf(env_par, sizeof(env_par), "PARALLELISM=%s", par);
    snprintf(in_arg, sizeof(in_arg), "events=%s", input ? input : "");
    snprintf(out_path, sizeof(out_path), "%s/replay-out.txt", f->dir);
    const char *env[16];
    size_t n_env = 0;
    for (size_t i = 0; f->env[i] && n_env < 14; i++)
        env[n_env++] = f->env[i];
    env[n_env++] = env_par;
    env[n_env] = NULL;
    const char *args[] = {"replay", yaml, "--from", "0", "--output", "-",
                          input ? "--input" : NULL, in_arg, NULL};
    int fd = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    unlink(out_path);
    pid_t pid = vg_test_vigil_start_fd(args, env, out_path, fd);
    close(fd);
    int status = vg_test_vigil_stop(pid, 0, 60000 * vg_test_slow());
    char *out = vg_test_read(out_path);
    if (status != 0)
        fail_msg("replay (parallelism %s, input %s) exited %d:\n%s", par, input ? input : "topic",
                 status, out);
    char *log = strdup(out);
    char **got = calloc(n_want + 1024, sizeof(char *));
    size_t n_got = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        if (line[0] == '{' && n_got < n_want + 1024)
            got[n_got++] = line;
    qsort(got, n_got, sizeof(char *), cmp_line);
    if (n_got != n_want)
        fail_msg("replay (parallelism %s, input %s): %zu window results, the live run %zu:\n%s",
                 par, input ? input : "topic", n_got, n_want, log);
    for (size_t i = 0; i < n_want; i++)
        assert_string_equal(got[i], want[i]);
    free(got);
    free(out);
    free(log);
}

/* The events topic as a kcat -J dump (partitions one after the other) at path. */
static void write_dump(struct vg_test_world *f, const char *path, size_t n)
{
    struct vg_test_records rs;
    vg_test_consume(&f->broker, EVENTS, n, 30000, 500, &rs);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int32_t p = 0; p < 4; p++)
        for (size_t i = 0; i < rs.n; i++)
            if (rs.r[i].partition == p) {
                fprintf(fp, "{\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,"
                        "\"tstype\":\"create\",\"ts\":%lld,\"broker\":0,\"key\":null,"
                        "\"payload\":\"", EVENTS, (int)p, (long long)rs.r[i].offset,
                        (long long)rs.r[i].ts);
                for (const char *c = rs.r[i].value; *c; c++)
                    fprintf(fp, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
                fputs("\"}\n", fp);
            }
    fclose(fp);
    vg_test_records_free(&rs);
}

/* The replay of a topology reading through a repartition topic gives the live results from
 * the topic (on 1 and 3 threads), from the events as JSON lines, gzip, a kcat dump, and a
 * kcat dump on standard input. */
static void replays_give(struct vg_test_world *f, const char *yaml, const char *text,
                         size_t n_records, char **want, size_t n_want)
{
    replay_gives(f, yaml, "1", NULL, NULL, want, n_want);
    replay_gives(f, yaml, "3", NULL, NULL, want, n_want);
    char plain[600], gz[600], dump[600], cmd[1400];
    snprintf(plain, sizeof(plain), "%s/events.jsonl", f->dir);
    snprintf(gz, sizeof(gz), "%s/events.jsonl.gz", f->dir);
    snprintf(dump, sizeof(dump), "%s/events.kcat.json", f->dir);
    free(vg_test_write(f->dir, "events.jsonl", text));
    snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s'", plain, gz);
    assert_int_equal(system(cmd), 0);
    write_dump(f, dump, n_records);
    replay_gives(f, yaml, "2", plain, NULL, want, n_want);
    replay_gives(f, yaml, "2", gz, NULL, want, n_want);
    replay_gives(f, yaml, "3", dump, NULL, want, n_want);
    replay_gives(f, yaml, "2", "-", dump, want, n_want);
}

static void exact_results_of(struct vg_test_world *f, const char *parallelism, const char *yaml,
                             const char *key, bool kill9)
{
    enum { USERS = 20, EVENTS_N = 400, MINUTES = 6 }; /* events span 0 .. 5.5 min */
    static long long n[USERS][MINUTES], sum[USERS][MINUTES];
    memset(n, 0, sizeof(n));
    memset(sum, 0, sizeof(sum));
    char *text = NULL;
    size_t len = 0;
    unsigned seed = 7;
    for (int i = 0; i < EVENTS_N; i++) {
        seed = seed * 1103515245u + 12345u;
        int u = (int)(seed >> 8) % USERS;
        /* 0.75 s apart, jittered by up to +-30 s (lateness is 1 m) */
        long long ts = T0 + i * 750LL + (long long)((seed >> 16) % 60001) - 30000;
        if (ts < T0)
            ts = T0;
        int v = (int)(seed >> 4) % 100;
        char line[160];
        int k = snprintf(line, sizeof(line), "{\"ts\":%lld,\"user\":\"u%02d\",\"v\":%d}\n", ts,
                         u, v);
        text = realloc(text, len + (size_t)k + 1);
        memcpy(text + len, line, (size_t)k + 1);
        len += (size_t)k;
        int m = (int)((ts - T0) / 60000);
        n[u][m]++;
        sum[u][m] += v;
    }
    char ticks[16 * 80] = ""; /* move event time on: 4 in each partition, whatever the key */
    for (int t = 0; t < 16; t++)
        snprintf(ticks + strlen(ticks), sizeof(ticks) - strlen(ticks),
                 "{\"ts\":%lld,\"user\":\"tick%02d\",\"v\":%d}\n", T0 + 20 * 60000LL, t, t);
    size_t half;
    if (kill9) { /* the first half of the events, then the rest with the ticks */
        half = 0;
        for (int i = 0; i < EVENTS_N / 2; i++)
            half = (size_t)(strchr(text + half, '\n') - text) + 1;
        char saved = text[half];
        text[half] = '\0';
        vg_test_produce_lines_keyed(&f->broker, EVENTS, 4, text, key);
        text[half] = saved;
    } else {
        half = 0;
    }
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 4, text + half, key);
    vg_test_produce_lines(&f->broker, EVENTS, 4, ticks); /* tick t to partition t % 4 */
    text = realloc(text, len + sizeof(ticks));
    memcpy(text + len, ticks, strlen(ticks) + 1); /* the same events as one file, for replays */
    char *want[USERS * MINUTES];
    size_t n_want = 0;
    for (int u = 0; u < USERS; u++)
        for (int m = 0; m < MINUTES; m++)
            if (n[u][m]) {
                char line[200];
                snprintf(line, sizeof(line),
                         "{\"user\":\"u%02d\",\"n\":%lld,\"s\":%lld,\"window_start\":%lld,"
                         "\"window_end\":%lld}",
                         u, n[u][m], sum[u][m], T0 + m * 60000LL, T0 + (m + 1) * 60000LL);
                want[n_want++] = strdup(line);
            }
    char env_par[32];
    snprintf(env_par, sizeof(env_par), "PARALLELISM=%s", parallelism);
    f->env[5] = env_par;
    const char *args[] = {"run", yaml, NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    if (kill9) {
        /* some state checkpointed (its offsets are in Redis), some not */
        int64_t deadline = vg_test_now_ms() + 30000LL * vg_test_slow();
        for (char *k = NULL;; usleep(100 * 1000)) {
            k = redis_cli(f, "--scan --pattern 'vg:{windows-exchange:*@offsets'");
            bool saved = strstr(k, "@offsets") != NULL;
            free(k);
            if (saved)
                break;
            if (vg_test_now_ms() > deadline)
                fail_msg("no window state checkpointed within the deadline");
        }
        assert_int_equal(vg_test_vigil_stop(pid, SIGKILL, 5000), 128 + SIGKILL);
        pid = vg_test_vigil_start(args, f->env, f->log);
    }
    struct vg_test_records rs;
    /* after a kill the group waits for the dead members' sessions to time out (10 s)
     * and for the new ones to join (9 s on the development broker), maybe twice */
    vg_test_consume(&f->broker, ALERTS, n_want, kill9 ? 120000 : 60000, 3000, &rs);
    char **got = calloc(rs.n + 1, sizeof(char *));
    for (size_t i = 0; i < rs.n; i++)
        got[i] = rs.r[i].value;
    qsort(got, rs.n, sizeof(char *), cmp_line);
    size_t n_got = 0; /* a window written again after the kill is the same line */
    for (size_t i = 0; i < rs.n; i++)
        if (!kill9 || n_got == 0 || strcmp(got[n_got - 1], got[i]) != 0)
            got[n_got++] = got[i];
    assert_int_equal(n_got, n_want);
    qsort(want, n_want, sizeof(char *), cmp_line);
    for (size_t i = 0; i < n_want; i++)
        assert_string_equal(got[i], want[i]);
    free(got);
    vg_test_records_free(&rs);
    vg_test_vigil_term(pid);
    /* a replay of the topic gives the same results, on one thread or several, also when the
     * windows are fed through a repartition topic (kept in memory by the replay) */
    if (!kill9)
        replays_give(f, yaml, text, EVENTS_N + 16, want, n_want);
    free(text);
    for (size_t i = 0; i < n_want; i++)
        free(want[i]);
}

static void exact_results(struct vg_test_world *f, const char *parallelism)
{
    exact_results_of(f, parallelism, "tests/cases/integration/windows_exact.yaml", "user", false);
}

static void test_windows_exchange_parallelism_2(void **state)
{
    struct vg_test_world *f = *state;
    exact_results_of(f, "2", "tests/cases/integration/windows_exchange.yaml", "v", false);
}

static void test_windows_exchange_survives_kill(void **state)
{
    struct vg_test_world *f = *state;
    exact_results_of(f, "2", "tests/cases/integration/windows_exchange.yaml", "v", true);
}

/* Idleness is reported, not guessed: partition 3 never gets a record, its consumer reports
 * its end, and after idle_timeout (2 s) it stops holding event time back, so the windows of
 * the other three partitions close (the last one, [T0+2m, T0+3m), waits for more). */
static void test_windows_empty_partition_becomes_idle(void **state)
{
    struct vg_test_world *f = *state;
    char text[2048] = "";
    for (int i = 0; i < 9; i++) /* partitions 0, 1, 2 in turn; 20 s apart */
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "{\"ts\":%lld,\"user\":\"u%d\"}\n", T0 + i * 20000LL, i % 2);
    const char *args[] = {"run", "tests/cases/integration/windows_idle.yaml", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 1);
    vg_test_produce_lines(&f->broker, EVENTS, 3, text);
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 4, 30000, 3000, &rs);
    char *got[8];
    assert_int_equal(rs.n, 4);
    for (size_t i = 0; i < rs.n; i++)
        got[i] = rs.r[i].value;
    qsort(got, rs.n, sizeof(char *), cmp_line);
    char want[4][160], *wantp[4];
    for (int w = 0; w < 2; w++)
        for (int u = 0; u < 2; u++) { /* minute w: events 3w .. 3w+2 */
            snprintf(want[2 * w + u], sizeof(want[0]),
                     "{\"user\":\"u%d\",\"n\":%d,\"window_start\":%lld,\"window_end\":%lld}",
                     u, (3 * w % 2 == u) ? 2 : 1, T0 + w * 60000LL, T0 + (w + 1) * 60000LL);
            wantp[2 * w + u] = want[2 * w + u];
        }
    qsort(wantp, 4, sizeof(char *), cmp_line);
    for (int i = 0; i < 4; i++)
        assert_string_equal(got[i], wantp[i]);
    vg_test_records_free(&rs);
    vg_test_vigil_term(pid);
}

static void test_windows_exact_parallelism_1(void **state)
{
    struct vg_test_world *f = *state;
    exact_results(f, "1");
}

static void test_windows_exact_parallelism_2(void **state)
{
    struct vg_test_world *f = *state;
    exact_results(f, "2");
}

static void test_brute_force_one_alert_with_its_window(void **state)
{
    struct vg_test_world *f = *state;
    char *text = NULL;
    size_t len = 0;
    const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    for (int i = 0; i < 12; i++) {
        vg_test_auth_line(&text, &len, "alice", T0 + i * 5000, ips[i % 3], "failure");    /* 12, 3 IPs */
        vg_test_auth_line(&text, &len, "bob", T0 + i * 5000, "10.0.0.9", "failure");      /* 12, 1 IP */
        if (i < 6)
            vg_test_auth_line(&text, &len, "carol", T0 + i * 5000, ips[i % 3], "failure"); /* 6, 3 IPs */
        vg_test_auth_line(&text, &len, "dave", T0 + i * 5000, ips[i % 3], "success");     /* successes */
    }
    /* event time moves on in every partition: the windows above close */
    const char *tick[] = {"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"};
    for (int i = 0; i < 8; i++)
        vg_test_auth_line(&text, &len, tick[i], T0 + 20 * 60000, "10.9.9.9", "success");
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2, text, "user");
    free(text);

    const char *args[] = {"run", "topologies/brute_force.yaml", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2); /* a group still forming when stopped takes longer */
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 1, 30000, 3000, &rs);
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
    vg_test_auth_line(&late, &len, "t1", T0 + 20 * 60000 - 10000, "10.9.9.9", "failure");
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 2, late, "user");
    free(late);
    struct vg_test_records dl;
    vg_test_consume(&f->broker, DLQ, 1, 30000, 500, &dl);
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.r[0].headers,
                           "vigil.reason=late: event time 1767226790000 is 5000 ms behind the "
                           "watermark of its partition (lateness 5000 ms)"));
    vg_test_records_free(&dl);
    vg_test_vigil_term(pid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_brute_force_one_alert_with_its_window, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_brute_force_state_survives_kill, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_brute_force_redis_outage, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_windows_exact_parallelism_1, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_windows_empty_partition_becomes_idle, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_windows_exact_parallelism_2, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_windows_exchange_parallelism_2, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_windows_exchange_survives_kill, setup,
                                        vg_test_world_teardown),
    };
    vg_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
