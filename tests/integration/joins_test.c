/* SPDX-License-Identifier: Apache-2.0 */
/*
 * joins_test.c - the shipped topologies/impossible_travel.yaml (a stream-stream join of
 * logins and VPN sessions, enriched from an asset table in Redis, then a rule) through the
 * real vigil binary, the development broker over TCP and a real redis-server: exactly the
 * expected pairs over four partitions (the `within` boundary, duplicates on both sides, a
 * VPN session before the login, a host without a row); a row changed while running is seen
 * by later events; and two processes sharing the work, one killed -9 in the middle, give
 * exactly the pairs one process gives (repeats only as repeated alert ids).
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

#define LOGINS "it-jn-logins"
#define VPN "it-jn-vpn"
#define ALERTS "it-jn-alerts"
#define DLQ "it-jn-dlq"
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define MIN 60000LL

static const char *const TOPOLOGY = "topologies/impossible_travel.yaml";

static int setup(void **state)
{
    struct vg_test_world *f = calloc(1, sizeof(*f));
    if (vg_test_world_init(f) != 0)
        return -1;
    vg_test_world_broker(f, 1, LOGINS, 4, ALERTS, DLQ);
    vg_test_topic(&f->broker, VPN, 4);
    vg_test_world_redis(f, 4);
    f->env[1] = "LOGIN_TOPIC=" LOGINS;
    f->env[3] = "VPN_TOPIC=" VPN;
    *state = f;
    return 0;
}


static void redis_cmd(struct vg_test_world *f, const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d -n 4 %s >/dev/null", f->redis.port, args);
    assert_int_equal(system(cmd), 0);
}

static void add_line(char **buf, size_t *len, const char *line)
{
    size_t n = strlen(line);
    *buf = realloc(*buf, *len + n + 2);
    memcpy(*buf + *len, line, n);
    (*buf)[*len + n] = '\n';
    (*buf)[*len + n + 1] = '\0';
    *len += n + 1;
}

static void login(char **buf, size_t *len, const char *user, long long ts, const char *country,
                  const char *host)
{
    char line[256];
    snprintf(line, sizeof(line), "{\"ts\":%lld,\"user\":\"%s\",\"country\":\"%s\",\"host\":\"%s\"}",
             ts, user, country, host);
    add_line(buf, len, line);
}

static void vpn(char **buf, size_t *len, const char *user, long long ts, const char *country)
{
    char line[256];
    snprintf(line, sizeof(line), "{\"ts\":%lld,\"user\":\"%s\",\"country\":\"%s\"}", ts, user,
             country);
    add_line(buf, len, line);
}

/* An alert's pair as "user login_ts vpn_ts owner" (owner "-" for no asset row). */
static char *pair_of(const char *alert)
{
    const char *k = strstr(alert, "\"key\":\"");
    const char *l = strstr(alert, "\"logins\":{\"ts\":");
    const char *v = strstr(alert, "\"vpn\":{\"ts\":");
    const char *o = strstr(alert, "\"owner\":\"");
    assert_non_null(k);
    assert_non_null(l);
    assert_non_null(v);
    char user[64] = "", owner[64] = "-";
    sscanf(k + 7, "%63[^\"]", user);
    if (o)
        sscanf(o + 9, "%63[^\"]", owner);
    if (!strstr(alert, "\"assets\":null"))
        assert_non_null(o);
    char out[256];
    snprintf(out, sizeof(out), "%s %lld %lld %s", user, atoll(l + 15) - T0, atoll(v + 12) - T0,
             owner);
    return strdup(out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The alerts' distinct pairs (repeated alert ids counted once), sorted, one per line. */
static char *pairs(struct vg_test_records *rs)
{
    char **ids = calloc(rs->n + 1, sizeof(char *)), **ps = calloc(rs->n + 1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const char *id = strstr(rs->r[i].value, "\"alert_id\":\"");
        assert_non_null(id);
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strncmp(ids[j], id, 12 + 32) == 0;
        if (seen)
            continue;
        ids[n] = (char *)id;
        ps[n++] = pair_of(rs->r[i].value);
    }
    qsort(ps, n, sizeof(char *), cmp_str);
    size_t cap = 1, len = 0;
    for (size_t i = 0; i < n; i++)
        cap += strlen(ps[i]) + 1;
    char *out = calloc(1, cap);
    for (size_t i = 0; i < n; i++) {
        len += (size_t)sprintf(out + len, "%s\n", ps[i]);
        free(ps[i]);
    }
    free(ps);
    free(ids);
    return out;
}

static const char *const EXPECTED =
    "alice 0 300000 it-team\n"          /* US then DE 5 min later */
    "carol 0 600000 -\n"                /* exactly `within` apart; host without a row */
    "erin 120000 180000 it-team\n"      /* two logins x two sessions: four pairs */
    "erin 120000 240000 it-team\n"
    "erin 60000 180000 it-team\n"
    "erin 60000 240000 it-team\n"
    "frank 30000 0 sales\n";            /* the session started before the login */

static void produce_cases_by(struct vg_test_world *f, bool keyed);

static void produce_cases(struct vg_test_world *f)
{
    produce_cases_by(f, true);
}

/* keyed: each topic keyed by user (as impossible_travel.yaml declares); else round-robin */
static void produce_cases_by(struct vg_test_world *f, bool keyed)
{
    char *l = NULL, *v = NULL;
    size_t ll = 0, vl = 0;
    /* each topic in event time order (lateness is 5 s) */
    login(&l, &ll, "alice", T0, "US", "h1");
    login(&l, &ll, "bob", T0, "US", "h2"); /* same country: a pair, no alert */
    login(&l, &ll, "carol", T0, "FR", "h9");
    login(&l, &ll, "dave", T0, "FR", "h1"); /* 1 ms too far apart */
    login(&l, &ll, "frank", T0 + 30000, "US", "h2");
    login(&l, &ll, "erin", T0 + MIN, "US", "h1");
    login(&l, &ll, "erin", T0 + 2 * MIN, "UK", "h1");
    vpn(&v, &vl, "frank", T0, "DE");
    vpn(&v, &vl, "bob", T0 + MIN, "US");
    vpn(&v, &vl, "erin", T0 + 3 * MIN, "DE");
    vpn(&v, &vl, "erin", T0 + 4 * MIN, "DE");
    vpn(&v, &vl, "alice", T0 + 5 * MIN, "DE");
    vpn(&v, &vl, "carol", T0 + 10 * MIN, "DE");
    vpn(&v, &vl, "dave", T0 + 10 * MIN + 1, "DE");
    if (keyed) {
        vg_test_produce_lines_keyed(&f->broker, LOGINS, 4, l, "user");
        vg_test_produce_lines_keyed(&f->broker, VPN, 4, v, "user");
    } else {
        vg_test_produce_lines(&f->broker, LOGINS, 4, l);
        vg_test_produce_lines(&f->broker, VPN, 4, v);
    }
    free(l);
    free(v);
}

static void assets(struct vg_test_world *f)
{
    redis_cmd(f, "HSET asset:h1 owner it-team criticality 3");
    redis_cmd(f, "HSET asset:h2 owner sales criticality 1");
}

static void test_travel_exact_pairs(void **state)
{
    struct vg_test_world *f = *state;
    assets(f);
    const char *args[] = {"run", TOPOLOGY, NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    produce_cases(f);
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 7, 30000, 2000, &rs);
    assert_int_equal(rs.n, 7); /* one alert per pair, none twice */
    char *got = pairs(&rs);
    assert_string_equal(got, EXPECTED);
    free(got);
    /* the whole alert: the pair and its row under their node names */
    bool whole = false;
    for (size_t i = 0; i < rs.n; i++)
        whole |= strstr(rs.r[i].value,
                        "\"fields\":{\"travel\":{\"logins\":{\"ts\":1767225600000,\"user\":"
                        "\"alice\",\"country\":\"US\",\"host\":\"h1\"},\"vpn\":{\"ts\":"
                        "1767225900000,\"user\":\"alice\",\"country\":\"DE\"}},\"assets\":"
                        "{\"owner\":\"it-team\",\"criticality\":3}}") != NULL;
    assert_true(whole);
    vg_test_records_free(&rs);
    vg_test_vigil_term(pid);
}

/* The same events, not keyed by user: each side reaches the join through a repartition
 * topic of its own, keyed by user, and the pairs are exactly the same. */
static void test_travel_through_repartition_topics(void **state)
{
    struct vg_test_world *f = *state;
    assets(f);
    vg_test_topic(&f->broker, "travel-x.travel.left.repartition", 4);
    vg_test_topic(&f->broker, "travel-x.travel.right.repartition", 4);
    const char *args[] = {"run", "tests/cases/integration/travel_repartition.yaml", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    produce_cases_by(f, false);
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 7, 30000, 2000, &rs);
    for (size_t i = 0; getenv("VG_DEBUG") && i < rs.n; i++)
        fprintf(stderr, "%s\n", rs.r[i].value);
    char *got = pairs(&rs);
    assert_string_equal(got, EXPECTED);
    free(got);
    assert_int_equal(rs.n, 7);
    vg_test_records_free(&rs);
    vg_test_vigil_term(pid);
}

/* A row changed in Redis while vigil runs: later events see it once the cache entry is
 * older than cache_ttl. */
static void test_table_row_update_seen(void **state)
{
    struct vg_test_world *f = *state;
    assets(f);
    f->env[5] = "ASSET_CACHE_TTL=1s";
    const char *args[] = {"run", TOPOLOGY, NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    char *l = NULL, *v = NULL;
    size_t ll = 0, vl = 0;
    login(&l, &ll, "gina", T0, "US", "h1");
    vpn(&v, &vl, "gina", T0 + MIN, "DE");
    vg_test_produce_lines_keyed(&f->broker, LOGINS, 4, l, "user");
    vg_test_produce_lines_keyed(&f->broker, VPN, 4, v, "user");
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 1, 30000, 500, &rs);
    assert_int_equal(rs.n, 1);
    assert_non_null(strstr(rs.r[0].value, "\"owner\":\"it-team\""));
    vg_test_records_free(&rs);
    redis_cmd(f, "HSET asset:h1 owner new-team");
    sleep(2);
    login(&l, &ll, "gina", T0 + 2 * MIN, "US", "h1");
    free(v);
    v = NULL;
    vl = 0;
    vg_test_produce_lines_keyed(&f->broker, LOGINS, 4, strrchr(l, '{'), "user"); /* the new one */
    vg_test_consume(&f->broker, ALERTS, 2, 30000, 1000, &rs);
    assert_int_equal(rs.n, 2);
    bool updated = false;
    for (size_t i = 0; i < rs.n; i++)
        updated |= strstr(rs.r[i].value, "\"logins\":{\"ts\":1767225720000") &&
                   strstr(rs.r[i].value, "\"owner\":\"new-team\"");
    assert_true(updated);
    vg_test_records_free(&rs);
    free(l);
    vg_test_vigil_term(pid);
}

struct timed {
    long long ts;
    char line[128];
};

static int cmp_timed(const void *a, const void *b)
{
    const struct timed *x = a, *y = b;
    return (x->ts > y->ts) - (x->ts < y->ts);
}

/* User u's login and VPN session (0..12 min later); users 60 and up half an hour after the
 * first 60. */
static long long login_ts(int u)
{
    return T0 + (u / 60) * 30 * MIN + (u % 60) * 1000LL;
}

static const char *country(int i)
{
    static const char *const c[] = {"US", "DE", "FR"};
    return c[i % 3];
}

static void produce_logins(struct vg_test_world *f, int from, int to)
{
    char *l = NULL;
    size_t ll = 0;
    for (int u = from; u < to; u++) {
        char user[16];
        snprintf(user, sizeof(user), "u%03d", u);
        login(&l, &ll, user, login_ts(u), country(u), "h2");
    }
    vg_test_produce_lines_keyed(&f->broker, LOGINS, 4, l, "user");
    free(l);
}

/* The sessions of users [from, to), in event time order; the pairs an alert is expected for
 * are appended to *expected. */
static void produce_sessions(struct vg_test_world *f, int from, int to, char **expected)
{
    char *v = NULL;
    size_t vl = 0, nv = 0;
    size_t el = *expected ? strlen(*expected) : 0;
    struct timed *vs = calloc((size_t)(to - from) + 1, sizeof(*vs));
    for (int u = from; u < to; u++) {
        long long lt = login_ts(u), vt = lt + (u % 7) * 2 * MIN;
        snprintf(vs[nv].line, sizeof(vs[nv].line),
                 "{\"ts\":%lld,\"user\":\"u%03d\",\"country\":\"%s\"}", vt, u,
                 country(u / 3));
        vs[nv++].ts = vt;
        if (vt - lt <= 10 * MIN && u % 3 != (u / 3) % 3) {
            char line[128];
            int n = snprintf(line, sizeof(line), "u%03d %lld %lld sales\n", u, lt - T0, vt - T0);
            *expected = realloc(*expected, el + (size_t)n + 1);
            memcpy(*expected + el, line, (size_t)n + 1);
            el += (size_t)n;
        }
    }
    qsort(vs, nv, sizeof(*vs), cmp_timed);
    for (size_t i = 0; i < nv; i++)
        add_line(&v, &vl, vs[i].line);
    vg_test_produce_lines_keyed(&f->broker, VPN, 4, v, "user");
    free(vs);
    free(v);
}

/* Two processes in one consumer group; one is killed -9 between logins and the sessions they
 * pair with: the other takes its partitions over from the state and offsets in Redis. */
static void test_two_processes_one_killed(void **state)
{
    struct vg_test_world *f = *state;
    assets(f);
    f->env[5] = "PARALLELISM=1";
    char log2[4096];
    snprintf(log2, sizeof(log2), "%s/vigil-2.log", f->dir);
    const char *args[] = {"run", TOPOLOGY, NULL};
    pid_t a = vg_test_vigil_start(args, f->env, f->log);
    pid_t b = vg_test_vigil_start(args, f->env, log2);
    vg_test_wait_assigned(f->log, 1);
    vg_test_wait_assigned(log2, 1);
    char *expected = NULL;
    produce_logins(f, 0, 120);
    produce_sessions(f, 0, 60, &expected);
    sleep(3); /* read, paired, the logins of users 60 and up buffered and written behind */
    assert_int_equal(vg_test_vigil_stop(b, SIGKILL, 5000), 128 + SIGKILL);
    produce_sessions(f, 60, 120, &expected); /* half of them pair with b's buffered logins */
    /* the survivor takes b's partitions once b's session has timed out */
    char **lines = NULL;
    size_t n_want = 0;
    for (char *p = expected; p && *p; p = strchr(p, '\n') + 1)
        lines = realloc(lines, ++n_want * sizeof(char *)), lines[n_want - 1] = p;
    qsort(lines, n_want, sizeof(char *), cmp_str);
    char *want = calloc(1, strlen(expected) + 1);
    for (size_t i = 0; i < n_want; i++)
        strncat(want, lines[i], (size_t)(strchr(lines[i], '\n') - lines[i]) + 1);
    struct vg_test_records rs;
    char *got = NULL;
    int64_t deadline = vg_test_now_ms() + 120000 * vg_test_slow();
    for (;;) { /* repeats are allowed: wait for the distinct pairs */
        vg_test_consume(&f->broker, ALERTS, n_want, 5000, 1000, &rs);
        free(got);
        got = pairs(&rs);
        vg_test_records_free(&rs);
        if (strcmp(got, want) == 0 || vg_test_now_ms() > deadline)
            break;
    }
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(lines);
    free(expected);
    vg_test_vigil_term(a);
    char *text = vg_test_read(log2);
    fprintf(stderr, "---- second vigil's log ----\n%s", text);
    free(text);
}

static int cmp_record(const void *a, const void *b)
{
    return strcmp(((const struct vg_test_record *)a)->value,
                  ((const struct vg_test_record *)b)->value);
}

static void sort_values(struct vg_test_records *rs)
{
    qsort(rs->r, rs->n, sizeof(*rs->r), cmp_record);
}

/* A table held in a compacted topic: read to its end before the first event, then kept
 * current (an update and a tombstone are seen by later events). */
static void test_kafka_table_kept_current(void **state)
{
    struct vg_test_world *f = *state;
    vg_test_topic(&f->broker, "it-jn-assets", 2);
    vg_test_produce_keyed(&f->broker, "it-jn-assets", 0, "h1", "{\"owner\":\"ops\"}");
    vg_test_produce_keyed(&f->broker, "it-jn-assets", 1, "h2", "{\"owner\":\"dev\"}");
    f->env[5] = "ASSET_TOPIC=it-jn-assets";
    const char *args[] = {"run", "tests/cases/integration/enrich_kafka.yaml", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    vg_test_produce_lines(&f->broker, LOGINS, 1,
                          "{\"n\":1,\"host\":\"h1\"}\n{\"n\":2,\"host\":\"h2\"}\n"
                          "{\"n\":3,\"host\":\"h3\"}\n");
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 3, 30000, 500, &rs);
    assert_int_equal(rs.n, 3);
    sort_values(&rs); /* the output topic has two partitions: in the order of "n" */
    assert_string_equal(rs.r[0].value, "{\"logins\":{\"n\":1,\"host\":\"h1\"},\"assets\":"
                                       "{\"owner\":\"ops\"}}");
    assert_string_equal(rs.r[1].value, "{\"logins\":{\"n\":2,\"host\":\"h2\"},\"assets\":"
                                       "{\"owner\":\"dev\"}}");
    assert_string_equal(rs.r[2].value, "{\"logins\":{\"n\":3,\"host\":\"h3\"},\"assets\":null}");
    vg_test_records_free(&rs);
    vg_test_produce_keyed(&f->broker, "it-jn-assets", 0, "h1", "{\"owner\":\"sec\"}");
    vg_test_produce_keyed(&f->broker, "it-jn-assets", 1, "h2", NULL);
    sleep(1);
    vg_test_produce_lines(&f->broker, LOGINS, 1,
                          "{\"n\":4,\"host\":\"h1\"}\n{\"n\":5,\"host\":\"h2\"}\n");
    vg_test_consume(&f->broker, ALERTS, 5, 30000, 500, &rs);
    assert_int_equal(rs.n, 5);
    sort_values(&rs);
    assert_string_equal(rs.r[3].value, "{\"logins\":{\"n\":4,\"host\":\"h1\"},\"assets\":"
                                       "{\"owner\":\"sec\"}}");
    assert_string_equal(rs.r[4].value, "{\"logins\":{\"n\":5,\"host\":\"h2\"},\"assets\":null}");
    vg_test_records_free(&rs);
    vg_test_vigil_term(pid);
}

/* Redis goes away while a table is looked up: the stream thread pauses and retries, and
 * once Redis is back the event comes out with the row; nothing is lost. */
static void test_table_redis_outage(void **state)
{
    struct vg_test_world *f = *state;
    assets(f);
    const char *args[] = {"run", "tests/cases/integration/enrich_redis.yaml", NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    vg_test_produce_lines(&f->broker, LOGINS, 1, "{\"n\":1,\"host\":\"h1\"}\n");
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, 1, 30000, 200, &rs);
    assert_int_equal(rs.n, 1);
    vg_test_records_free(&rs);
    vg_test_redis_kill(&f->redis);
    vg_test_produce_lines(&f->broker, LOGINS, 1, "{\"n\":2,\"host\":\"h2\"}\n");
    vg_test_wait_log(f->log, "table store unavailable", 1);
    vg_test_redis_restart(&f->redis); /* empty: the row is written again, maybe after the
                                       * retry that finds Redis back (then: no row) */
    redis_cmd(f, "HSET asset:h2 owner restored");
    vg_test_wait_log(f->log, "table store reachable again", 1);
    vg_test_consume(&f->broker, ALERTS, 2, 30000, 500, &rs);
    assert_int_equal(rs.n, 2);
    sort_values(&rs);
    const char *h2 = rs.r[1].value;
    if (strcmp(h2, "{\"logins\":{\"n\":2,\"host\":\"h2\"},\"assets\":null}") != 0)
        assert_string_equal(h2, "{\"logins\":{\"n\":2,\"host\":\"h2\"},\"assets\":"
                                "{\"owner\":\"restored\"}}");
    vg_test_records_free(&rs);
    vg_test_vigil_term(pid);
}

/* Sources joined by partition number must have as many partitions: refused at start. */
static void test_join_partition_counts_differ(void **state)
{
    struct vg_test_world *f = *state;
    vg_test_topic(&f->broker, "it-jn-vpn3", 3);
    f->env[3] = "VPN_TOPIC=it-jn-vpn3";
    const char *args[] = {"run", TOPOLOGY, NULL};
    pid_t pid = vg_test_vigil_start(args, f->env, f->log);
    assert_int_equal(vg_test_vigil_stop(pid, 0, 60000 * vg_test_slow()), 3);
    char *log = vg_test_read(f->log);
    assert_non_null(strstr(log, "join 'travel': topics 'it-jn-logins' (4 partitions) and "
                                "'it-jn-vpn3' (3) must have as many partitions: their keys meet "
                                "by partition number (or drop partitioned_by to join through "
                                "repartition topics)"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_travel_exact_pairs, setup, vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_table_row_update_seen, setup, vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_travel_through_repartition_topics, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_table_redis_outage, setup, vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_join_partition_counts_differ, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_kafka_table_kept_current, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_two_processes_one_killed, setup,
                                        vg_test_world_teardown),
    };
    vg_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
