/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay_test.c - `vigil replay` on the shipped topologies/brute_force.yaml, with the real
 * binary, the development broker over TCP and a real redis-server: a replay of the whole
 * range gives the live run's alerts with the same ids (marked replay), while the live run
 * goes on untouched (its alert topic, its state, its offsets); --from mid-range gives exactly
 * the alerts of the events at or after it; the replay's state namespace is deleted at the end,
 * or kept with --keep-state; the same events from files (JSON lines, gzip JSON lines, an Avro
 * object container) give the same alerts as from Kafka, without a broker.
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

#include <avro.h>
#include <cmocka.h>

#include "codec.h"
#include "vg_test.h"

#define EVENTS "it-rp-events"
#define ALERTS "it-rp-alerts"
#define DLQ "it-rp-dlq"
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define USERS 6

static int setup(void **state)
{
    struct vg_test_world *f = calloc(1, sizeof(*f));
    if (vg_test_world_init(f) != 0)
        return -1;
    vg_test_world_broker(f, 1, EVENTS, 4, ALERTS, DLQ);
    vg_test_world_redis(f, 2);
    *state = f;
    return 0;
}


/* The history as JSON lines (what produce_history sends), malloc'd. */
static char *history_text(void);

/* User u1..u6: 12 failures from three addresses, 5 s apart, starting at T0 + k x 10 min
 * (one alert each: the rule suppresses repeats for 15 min); then event time moves on to
 * T0 + 90 min on every partition, so all their windows close. */
static void produce_history(struct vg_test_world *f)
{
    char *text = history_text();
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 4, text, "user");
    free(text);
}

static char *history_text(void)
{
    const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    char *text = NULL;
    size_t len = 0;
    for (int k = 1; k <= USERS; k++) {
        char user[8];
        snprintf(user, sizeof(user), "u%d", k);
        for (int i = 0; i < 12; i++)
            vg_test_auth_line(&text, &len, user, T0 + k * 600000LL + i * 5000, ips[i % 3], "failure");
    }
    const char *tick[] = {"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"};
    for (int i = 0; i < 8; i++)
        vg_test_auth_line(&text, &len, tick[i], T0 + 90 * 60000LL, "10.9.9.9", "success");
    return text;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The n lines (malloc'd, freed here) sorted and joined, each ending in a newline. */
static char *sorted_lines(char **lines, size_t n)
{
    qsort(lines, n, sizeof(char *), cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    char *out = calloc(len, 1);
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    return out;
}

/* "KEY ALERT_ID" per alert, sorted, one per line; counts alerts marked replay in *marked. */
static char *summarize(char **values, size_t n, size_t *marked)
{
    char **lines = calloc(n + 1, sizeof(char *));
    *marked = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = strstr(values[i], "\"alert_id\":\"");
        const char *key = strstr(values[i], "\"key\":\"");
        assert_non_null(id);
        assert_non_null(key);
        lines[i] = calloc(128, 1);
        snprintf(lines[i], 128, "%.*s %.32s", (int)strcspn(key + 7, "\""), key + 7, id + 12);
        *marked += strstr(values[i], ",\"replay\":true}") != NULL;
    }
    char *out = sorted_lines(lines, n);
    free(lines);
    return out;
}

/* The live alerts on the alert topic, summarized (expects n of them; the live run may have
 * just started, and its group may take a few join rounds of 9 s on the development broker). */
static char *live_alerts(struct vg_test_world *f, size_t n)
{
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, n, 60000, 2000, &rs);
    assert_int_equal(rs.n, n);
    char **values = calloc(rs.n + 1, sizeof(char *));
    for (size_t i = 0; i < rs.n; i++)
        values[i] = rs.r[i].value;
    size_t marked;
    char *out = summarize(values, rs.n, &marked);
    assert_int_equal(marked, 0);
    free(values);
    vg_test_records_free(&rs);
    return out;
}

/* Start vigil replay of topo with the extra arguments, its output into f->dir/replay.jsonl,
 * standard input the in_len bytes of in through a pipe (in NULL: inherited); wait for its exit
 * with 0. Returns the output file's path in a static buffer. */
static const char *replay_run(struct vg_test_world *f, const char *topo, const char *in,
                              size_t in_len, va_list ap)
{
    const char *args[16] = {"replay", topo, "-q", "--output"};
    static char out[4096];
    snprintf(out, sizeof(out), "%s/replay.jsonl", f->dir);
    size_t n = 4;
    args[n++] = out;
    for (const char *a; (a = va_arg(ap, const char *)) && n < 15;)
        args[n++] = a;
    args[n] = NULL;
    int p[2] = {-1, -1};
    if (in)
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = vg_test_vigil_start_fd(args, f->env, f->log, p[0]);
    if (in) { /* then the end: vigil must read it all before it exits */
        close(p[0]);
        for (size_t done = 0; done < in_len;) {
            ssize_t w = write(p[1], in + done, in_len - done);
            assert_true(w > 0);
            done += (size_t)w;
        }
        close(p[1]);
    }
    assert_int_equal(vg_test_vigil_stop(pid, 0, 60000 * vg_test_slow()), 0);
    return out;
}

/* The alerts of a replay output file, summarized. */
static char *replay_summary(const char *out, size_t *n_alerts, size_t *marked)
{
    char *text = vg_test_read(out);
    char *values[64];
    size_t k = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && k < 64;
         l = strtok_r(NULL, "\n", &save))
        values[k++] = l;
    *n_alerts = k;
    char *sum = summarize(values, k, marked);
    free(text);
    return sum;
}

/* Run vigil replay of topo with the extra arguments (NULL-terminated) into a file; it exits
 * by itself with 0. Returns the alerts summarized. */
static char *replay(struct vg_test_world *f, const char *topo, size_t *n_alerts, size_t *marked, ...)
{
    va_list ap;
    va_start(ap, marked);
    const char *out = replay_run(f, topo, NULL, 0, ap);
    va_end(ap);
    return replay_summary(out, n_alerts, marked);
}

/* The same with standard input the in_len bytes of in, through a pipe. */
static char *replay_stdin(struct vg_test_world *f, const char *topo, const char *in,
                          size_t in_len, size_t *n_alerts, size_t *marked, ...)
{
    va_list ap;
    va_start(ap, marked);
    const char *out = replay_run(f, topo, in, in_len, ap);
    va_end(ap);
    return replay_summary(out, n_alerts, marked);
}

/* Run vigil replay as replay does; returns its output file's path (a static buffer). */
static const char *replay_file(struct vg_test_world *f, const char *topo, ...)
{
    va_list ap;
    va_start(ap, topo);
    const char *out = replay_run(f, topo, NULL, 0, ap);
    va_end(ap);
    return out;
}

/* Redis keys matching a pattern, one per line. */
static char *redis_keys(struct vg_test_world *f, const char *pattern)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d -n 2 --scan --pattern '%s'", f->redis.port,
             pattern);
    FILE *p = popen(cmd, "r");
    char buf[8192] = "";
    size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
    buf[n] = '\0';
    if (p)
        pclose(p);
    return strdup(buf);
}

/* Live run, then a replay of everything while it is still running: the same alerts with the
 * same ids, marked replay; the live alert topic, state and offsets untouched. */
static void test_replay_matches_live_and_leaves_it_alone(void **state)
{
    struct vg_test_world *f = *state;
    const char *args[] = {"run", "topologies/brute_force.yaml", NULL};
    pid_t live = vg_test_vigil_start(args, f->env, f->log);
    vg_test_wait_assigned(f->log, 2);
    produce_history(f);
    char *want = live_alerts(f, USERS);

    size_t n, marked;
    char *got = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", NULL);
    assert_string_equal(got, want);
    assert_int_equal(marked, USERS);
    free(got);
    char *keys = redis_keys(f, "vg:{replay.*");
    assert_string_equal(keys, ""); /* its namespace is gone */
    free(keys);
    keys = redis_keys(f, "vg:{brute-force:attempts:*}:@offsets");
    assert_true(strlen(keys) > 0); /* the live state is still there */
    free(keys);

    /* nothing was added to the live alert topic, and the live run carries on: a new burst */
    char *text = NULL;
    size_t len = 0;
    for (int i = 0; i < 12; i++)
        vg_test_auth_line(&text, &len, "u9", T0 + 100 * 60000LL + i * 5000,
            i % 2 ? "10.0.0.7" : (i % 3 ? "10.0.0.8" : "10.0.0.9"), "failure");
    for (int i = 0; i < 8; i++) {
        char tick[8];
        snprintf(tick, sizeof(tick), "t%d", i + 1);
        vg_test_auth_line(&text, &len, tick, T0 + 120 * 60000LL, "10.9.9.9", "success");
    }
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 4, text, "user");
    free(text);
    struct vg_test_records rs;
    vg_test_consume(&f->broker, ALERTS, USERS + 1, 30000, 2000, &rs);
    assert_int_equal(rs.n, USERS + 1);
    size_t u9 = 0;
    for (size_t i = 0; i < rs.n; i++)
        u9 += strstr(rs.r[i].value, "\"key\":\"u9\"") != NULL;
    assert_int_equal(u9, 1);
    vg_test_records_free(&rs);
    vg_test_vigil_term(live);
    free(want);
}

/* --from mid-range: exactly the alerts of the users whose events are all at or after it;
 * --keep-state leaves the replay's namespace in Redis. */
static void test_replay_from_mid_range(void **state)
{
    struct vg_test_world *f = *state;
    produce_history(f);
    size_t n, marked;
    char *all = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", NULL);
    assert_int_equal(n, USERS);
    /* one stream thread instead of two: the same alerts */
    char *text = vg_test_read("topologies/brute_force.yaml");
    char *one_text = malloc(strlen(text) + 32);
    sprintf(one_text, "%sparallelism: 1\n", text);
    char *one = vg_test_write(f->dir, "bf1.yaml", one_text);
    char *got = replay(f, one, &n, &marked, "--from", "0", NULL);
    assert_string_equal(got, all);
    free(got);
    free(one);
    free(one_text);
    free(text);
    /* u1..u3 start before 00:35, u4..u6 after */
    char *mid = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from",
                       "2026-01-01T00:35:00Z", "--keep-state", NULL);
    assert_int_equal(n, 3);
    assert_int_equal(marked, 3);
    const char *nl = all;
    for (int i = 0; i < 3; i++)
        nl = strchr(nl, '\n') + 1;
    assert_string_equal(mid, nl); /* the last three lines of the full replay: u4, u5, u6 */
    char *keys = redis_keys(f, "vg:{replay.*");
    assert_non_null(strstr(keys, ".brute-force:attempts:"));
    free(keys);
    /* --to before the first burst: nothing */
    char *none = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", "--to",
                        "1767225900000", NULL);
    assert_int_equal(n, 0);
    free(none);
    free(all);
    free(mid);
}

/* The same events from files as from Kafka: JSON lines, gzip, split over a glob; no broker
 * is needed (the topology's is pointed at a closed port). */
static void test_replay_files_match_kafka(void **state)
{
    struct vg_test_world *f = *state;
    produce_history(f);
    size_t n, marked;
    char *want = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", NULL);
    assert_int_equal(n, USERS);
    char *text = history_text();
    char *half = text + strlen(text) / 2;
    half = strchr(half, '\n') + 1;
    char *first = strndup(text, (size_t)(half - text));
    char *a = vg_test_write(f->dir, "part-1.jsonl", first);
    free(first);
    char *b = vg_test_write(f->dir, "part-2.jsonl", half);
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s/part-2.jsonl.gz'", b, f->dir);
    assert_int_equal(system(cmd), 0);
    f->env[0] = "KAFKA_BROKERS=127.0.0.1:1"; /* nothing there: files only */
    char in[4096];
    snprintf(in, sizeof(in), "logins=%s/part-*.jsonl", f->dir);
    char *got = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", "--input",
                       in, NULL);
    assert_string_equal(got, want);
    free(got);
    char gz1[4096], gz2[4096];
    snprintf(gz1, sizeof(gz1), "logins=%s", a);
    snprintf(gz2, sizeof(gz2), "logins=%s/part-2.jsonl.gz", f->dir);
    got = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", "--input", gz1,
                 "--input", gz2, NULL);
    assert_string_equal(got, want);
    free(got);
    f->env[0] = f->env_brokers;
    free(a);
    free(b);
    free(text);
    free(want);
}

/* The last replay summary in a log (fails the test when there is none). */
static const char *last_summary(const char *log)
{
    const char *sum = strstr(log, "replay summary: "), *p;
    while (sum && (p = strstr(sum + 1, "replay summary: ")))
        sum = p;
    assert_non_null(sum);
    return sum;
}

/* An archive split over the two stream threads by user, with bad lines among good ones:
 * each bad line is one dead letter, counted by one thread, whether its owner was told from
 * its user without decoding it (lines 2 and 4: only that thread reads them) or every thread
 * decoded it (1 and 3: not JSON, an escaped user); a user that is not a string (5) is
 * decoded by both and kept by one, which finds it late. The alerts are those of the clean
 * archive. */
static void test_replay_files_bad_lines_once(void **state)
{
    struct vg_test_world *f = *state;
    f->env[0] = "KAFKA_BROKERS=127.0.0.1:1"; /* files only */
    char *text = history_text();
    char *clean = vg_test_write(f->dir, "clean.jsonl", text);
    size_t n, marked;
    char in[4200];
    snprintf(in, sizeof(in), "logins=%s", clean);
    char *want = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", "--input",
                        in, NULL);
    assert_int_equal(n, USERS);
    static const char *bad[] = {
        "not json at all\n",
        "{\"ts\":1767225600000,\"user\":\"u1\",\"src_ip\":\"10.0.0.1\",\"outcome\":\"fail\n",
        "{\"user\":\"u\\u0032\",\"ts\":\"bad\"}\n",
        "{\"ts\":\"nope\",\"user\":\"u3\",\"outcome\":\"failure\"}\n",
        "{\"ts\":1767225600000,\"user\":7,\"outcome\":\"success\"}\n",
    };
    char *mixed = calloc(strlen(text) + 512, 1);
    size_t cut = 0;
    for (size_t i = 0; i < 5; i++) { /* bad line i after 8 (i + 1) good ones: index 9 i + 8 */
        size_t from = cut;
        for (int k = 0; k < 8; k++)
            cut = (size_t)(strchr(text + cut, '\n') - text) + 1;
        strncat(mixed, text + from, cut - from);
        strcat(mixed, bad[i]);
    }
    strcat(mixed, text + cut);
    char *path = vg_test_write(f->dir, "mixed.jsonl", mixed);
    snprintf(in, sizeof(in), "logins=%s", path);
    char *got = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", "--input",
                       in, NULL);
    assert_string_equal(got, want);
    char *log = vg_test_read(f->log);
    assert_non_null(strstr(last_summary(log), " 5 dead letters "));
    for (int i = 0; i < 5; i++) { /* each logged once (the log holds the clean replay too) */
        char what[4300];
        snprintf(what, sizeof(what), "from %s[0]@%d: ", path, 9 * i + 8);
        const char *at = strstr(log, what);
        assert_non_null(at);
        assert_null(strstr(at + 1, what));
    }
    f->env[0] = f->env_brokers;
    free(log);
    free(got);
    free(path);
    free(mixed);
    free(want);
    free(clean);
    free(text);
}

/* --speed paces the replay by event time: 201 events 10 ms apart (2 s) take at least the
 * 1.8 s from the first batch of 20 to the last at 1x, a quarter of that at 4x, from the topic
 * (its partitions read apart) and from a file. */
static void test_replay_speed_paces(void **state)
{
    struct vg_test_world *f = *state;
    char *text = NULL;
    size_t len = 0;
    for (int i = 0; i <= 200; i++)
        vg_test_auth_line(&text, &len, "pace", T0 + i * 10LL, "10.0.0.1", "success");
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 4, text, "user");
    char *path = vg_test_write(f->dir, "pace.jsonl", text);
    char in[4200];
    snprintf(in, sizeof(in), "logins=%s", path);
    struct {
        const char *speed;
        bool file;
        int64_t at_least_ms;
    } runs[] = {{"1x", false, 1700}, {"1x", true, 1700}, {"4x", false, 420}};
    for (size_t r = 0; r < 3; r++) {
        size_t n, marked;
        int64_t t0 = vg_test_now_ms();
        char *got = runs[r].file ? replay(f, "topologies/brute_force.yaml", &n, &marked, "--from",
                                          "0", "--speed", runs[r].speed, "--input", in, NULL)
                                 : replay(f, "topologies/brute_force.yaml", &n, &marked, "--from",
                                          "0", "--speed", runs[r].speed, NULL);
        int64_t took = vg_test_now_ms() - t0;
        if (took < runs[r].at_least_ms)
            fail_msg("--speed %s (%s) took %lld ms, less than %lld", runs[r].speed,
                     runs[r].file ? "file" : "topic", (long long)took,
                     (long long)runs[r].at_least_ms);
        assert_int_equal(n, 0); /* successes only */
        free(got);
        char *log = vg_test_read(f->log);
        assert_non_null(strstr(last_summary(log),
                               ": 201 records read, 201 events, 0 alerts, 0 dead letters"));
        free(log);
    }
    free(path);
    free(text);
}

/* Alerts summarized without ids (single-event alerts are identified by their source
 * position, which differs between a topic and a file): "RULE KEY EVENT_TIME" lines. */
static char *without_ids(const char *path)
{
    char *text = vg_test_read(path);
    char *lines[64];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 64;
         l = strtok_r(NULL, "\n", &save)) {
        const char *rule = strstr(l, "\"rule_id\":\""), *key = strstr(l, "\"key\":\"");
        const char *et = strstr(l, "\"event_time\":");
        assert_non_null(rule);
        assert_non_null(key);
        assert_non_null(et);
        lines[n] = calloc(160, 1);
        snprintf(lines[n], 160, "%.*s %.*s %lld", (int)strcspn(rule + 11, "\""), rule + 11,
                 (int)strcspn(key + 7, "\""), key + 7, atoll(et + 13));
        n++;
    }
    free(text);
    return sorted_lines(lines, n);
}

/* Avro: the same records from a topic and from an object container file. */
static void test_replay_avro_container(void **state)
{
    struct vg_test_world *f = *state;
    static const char *events[] = {
        "{\"ts\":1767225600000,\"user\":\"root\",\"src_ip\":\"10.1.1.1\",\"outcome\":"
        "\"success\",\"host\":\"h1\",\"method\":\"password\",\"geo\":null}",
        "{\"ts\":1767225601000,\"user\":\"bob\",\"src_ip\":\"185.220.101.7\",\"outcome\":"
        "\"failure\",\"host\":\"h2\",\"method\":\"password\",\"geo\":null}",
        "{\"ts\":1767225602000,\"user\":\"amy\",\"src_ip\":\"10.1.1.2\",\"outcome\":"
        "\"success\",\"host\":\"h1\",\"method\":\"publickey\",\"geo\":null}",
        "{\"ts\":1767225603000,\"user\":\"root\",\"src_ip\":\"185.220.100.1\",\"outcome\":"
        "\"success\",\"host\":\"h3\",\"method\":\"password\",\"geo\":null}",
    };
    struct vg_err err = {0};
    struct vg_avro_schema *schema = vg_avro_schema_load("schemas/auth_event.avsc", &err);
    assert_non_null(schema);
    char *schema_text = vg_test_read("schemas/auth_event.avsc");
    avro_schema_t as;
    assert_int_equal(avro_schema_from_json_length(schema_text, strlen(schema_text), &as), 0);
    char path[4096];
    snprintf(path, sizeof(path), "%s/auth.avro", f->dir);
    avro_file_writer_t w;
    assert_int_equal(avro_file_writer_create(path, as, &w), 0);
    vg_test_topic(&f->broker, "it-rp-avro", 2);
    struct vg_buf datum;
    vg_buf_init(&datum);
    for (size_t i = 0; i < 4; i++) {
        vg_buf_clear(&datum);
        assert_int_equal(vg_avro_from_json(schema, events[i], strlen(events[i]), &datum, &err), 0);
        assert_int_equal(avro_file_writer_append_encoded(w, datum.data, (int64_t)datum.len), 0);
        vg_test_produce(&f->broker, "it-rp-avro", (int)(i % 2), datum.data, datum.len);
    }
    assert_int_equal(avro_file_writer_close(w), 0);
    vg_buf_fini(&datum);
    avro_schema_decref(as);
    free(schema_text);
    vg_avro_schema_free(schema);

    f->env[1] = "AUTH_TOPIC=it-rp-avro";
    size_t n, marked;
    free(replay(f, "topologies/auth_avro.yaml", &n, &marked, "--from", "0", NULL));
    assert_int_equal(n, 4); /* root with a password twice, two Tor addresses (one root's) */
    char out[4096];
    snprintf(out, sizeof(out), "%s/replay.jsonl", f->dir);
    char *want = without_ids(out);
    char in[4200];
    snprintf(in, sizeof(in), "logins=%s", path);
    free(replay(f, "topologies/auth_avro.yaml", &n, &marked, "--from", "0", "--input", in, NULL));
    char *got = without_ids(out);
    assert_string_equal(got, want);
    assert_non_null(strstr(got, "AUTH-103 bob 1767225601000\n"));
    f->env[1] = "AUTH_TOPIC=" EVENTS;
    free(want);
    free(got);
}

/* The summary of the last replay in the log, from its record count to its dead letters
 * (without the time it took), malloc'd. */
static char *summary_counts(struct vg_test_world *f)
{
    char *log = vg_test_read(f->log);
    const char *sum = strstr(last_summary(log), "summary: ") + 9;
    char *out = strndup(sum, (size_t)(strstr(sum, " in ") - sum));
    free(log);
    return out;
}

/* Standard input through a pipe, by "-" and by /dev/stdin, plain and gzip: the same alerts and
 * counts as the same file read by its name. The first line is u0's first of exactly 10
 * failures: read twice over (the bytes sniffed for gzip and Avro, then a second open), it was
 * lost, its alert with it, and the rest of the line was a dead letter. */
static void test_replay_stdin_matches_path(void **state)
{
    struct vg_test_world *f = *state;
    f->env[0] = "KAFKA_BROKERS=127.0.0.1:1"; /* files only */
    const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    char *text = NULL;
    size_t len = 0;
    for (int i = 0; i < 10; i++)
        vg_test_auth_line(&text, &len, "u0", T0 + 60000LL + i * 5000, ips[i % 3], "failure");
    char *rest = history_text();
    text = realloc(text, len + strlen(rest) + 1);
    strcpy(text + len, rest);
    len += strlen(rest);
    free(rest);
    char *path = vg_test_write(f->dir, "stdin.jsonl", text);
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s/stdin.jsonl.gz'", path, f->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s/stdin.jsonl.gz", f->dir);
    size_t gz_len = 0;
    char *gz = vg_test_read(cmd); /* (binary: its length from the file) */
    FILE *fp = fopen(cmd, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    gz_len = (size_t)ftell(fp);
    fclose(fp);

    char in[4200];
    snprintf(in, sizeof(in), "logins=%s", path);
    size_t n, marked;
    char *want = replay(f, "topologies/brute_force.yaml", &n, &marked, "--from", "0", "--input",
                        in, NULL);
    assert_int_equal(n, USERS + 1);
    assert_non_null(strstr(want, "u0 "));
    char *want_counts = summary_counts(f);
    assert_non_null(strstr(want_counts, " 0 dead letters"));
    static const char *names[] = {"logins=/dev/stdin", "logins=-"};
    for (int k = 0; k < 4; k++) {
        const char *name = names[k % 2];
        bool plain = k < 2;
        char *got = replay_stdin(f, "topologies/brute_force.yaml", plain ? text : gz,
                                 plain ? len : gz_len, &n, &marked, "--from", "0", "--input",
                                 name, NULL);
        if (strcmp(got, want) != 0)
            fail_msg("--input %s (%s): alerts\n%s\ninstead of\n%s", name,
                     plain ? "plain" : "gzip", got, want);
        char *counts = summary_counts(f);
        assert_string_equal(counts, want_counts);
        free(counts);
        free(got);
    }
    f->env[0] = f->env_brokers;
    free(want_counts);
    free(want);
    free(gz);
    free(path);
    free(text);
}

/* ---- kcat envelopes ---- */

#define EXECS "it-rp-execs"
#define ENV_USERS 8

/* Logins on event time (a sliding window, and a rule on single events whose alert ids are
 * their source positions) and execs on Kafka timestamps (a tumbling window), both keyed by
 * user; parallelism %d. */
static const char envelope_topo[] =
    "name: rp-envelope\n"
    "kafka:\n"
    "  bootstrap.servers: ${KAFKA_BROKERS}\n"
    "parallelism: %d\n"
    "nodes:\n"
    "  logins:\n"
    "    source: kafka\n"
    "    topic: ${AUTH_TOPIC}\n"
    "    time: ts\n"
    "    lateness: 5s\n"
    "    partitioned_by: [user]\n"
    "  failures:\n"
    "    filter: outcome == \"failure\"\n"
    "    input: logins\n"
    "  attempts:\n"
    "    window: sliding 2m every 30s\n"
    "    key: [user]\n"
    "    aggregate:\n"
    "      n: count()\n"
    "      ips: distinct(src_ip)\n"
    "      last_ip: last(src_ip)\n"
    "    input: failures\n"
    "  bursts:\n"
    "    rules:\n"
    "      - id: T-BURST\n"
    "        title: burst\n"
    "        severity: low\n"
    "        when: n >= 6 && ips >= 3\n"
    "    key: [user]\n"
    "    input: attempts\n"
    "  odd:\n"
    "    rules:\n"
    "      - id: T-ODD\n"
    "        title: odd address\n"
    "        severity: low\n"
    "        when: src_ip == \"10.0.0.3\"\n"
    "    key: [user]\n"
    "    input: failures\n"
    "  execs:\n"
    "    source: kafka\n"
    "    topic: ${EXEC_TOPIC}\n"
    "    lateness: 5s\n"
    "    partitioned_by: [user]\n"
    "  runs:\n"
    "    window: tumbling 1m\n"
    "    key: [user]\n"
    "    aggregate:\n"
    "      n: count()\n"
    "    input: execs\n"
    "  busy:\n"
    "    rules:\n"
    "      - id: T-BUSY\n"
    "        title: busy\n"
    "        severity: low\n"
    "        when: n >= 3\n"
    "    key: [user]\n"
    "    input: runs\n"
    "  alerts:\n"
    "    sink: kafka\n"
    "    topic: ${ALERT_TOPIC}\n"
    "    input: [bursts, odd, busy]\n";

/* The replay's alerts, whole but for detected_at and latency_ms, sorted, one per line. */
static char *alert_lines(const char *path, size_t *n_out)
{
    char *text = vg_test_read(path);
    char *lines[256];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 256;
         l = strtok_r(NULL, "\n", &save)) {
        char *line = strdup(l);
        static const char *drop[] = {"\"detected_at\":", "\"latency_ms\":"};
        for (int d = 0; d < 2; d++) {
            char *at = strstr(line, drop[d]);
            assert_non_null(at);
            char *end = at + strlen(drop[d]);
            end += strspn(end, "-0123456789");
            if (*end == ',')
                end++;
            memmove(at, end, strlen(end) + 1);
        }
        lines[n++] = line;
    }
    free(text);
    *n_out = n;
    return sorted_lines(lines, n);
}

/* Produce value to topic's partition with the Kafka timestamp ts_ms. */
static void produce_at(rd_kafka_t *rk, const char *topic, int partition, const char *value,
                       int64_t ts_ms)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_VALUE((void *)value, strlen(value)), RD_KAFKA_V_TIMESTAMP(ts_ms),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    assert_int_equal(e, RD_KAFKA_RESP_ERR_NO_ERROR);
}

static int cmp_position(const void *a, const void *b)
{
    const struct vg_test_record *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Every record of topic (n expected), ordered as `kcat -C` writes them: partition after
 * partition, each in offset order. */
static void consume_sorted(struct vg_test_world *f, const char *topic, size_t n,
                           struct vg_test_records *rs)
{
    vg_test_consume(&f->broker, topic, n, 30000, 500, rs);
    assert_int_equal(rs->n, n);
    qsort(rs->r, rs->n, sizeof(*rs->r), cmp_position);
}

/* The records as `kcat -C -J` lines (envelope true) or as their values alone, into dir/name. */
static char *write_dump(struct vg_test_world *f, const char *name, const char *topic,
                        const struct vg_test_records *rs, bool envelope)
{
    struct vg_buf b;
    vg_buf_init(&b);
    for (size_t i = 0; i < rs->n; i++) {
        const struct vg_test_record *r = &rs->r[i];
        if (envelope) {
            vg_buf_printf(&b, "{\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,\"tstype\":"
                          "\"create\",\"ts\":%lld,\"broker\":0,\"key\":", topic,
                          (int)r->partition, (long long)r->offset, (long long)r->ts);
            if (r->key)
                vg_buf_json_str(&b, r->key, strlen(r->key));
            else
                vg_buf_puts(&b, "null");
            vg_buf_puts(&b, ",\"payload\":");
            vg_buf_json_str(&b, r->value, r->len);
            vg_buf_puts(&b, "}\n");
        } else {
            vg_buf_append(&b, r->value, r->len);
            vg_buf_putc(&b, '\n');
        }
    }
    char *path = vg_test_write(f->dir, name, vg_buf_cstr(&b));
    vg_buf_fini(&b);
    return path;
}

/* Topics dumped by kcat -C -J (4 partitions one after the other, events out of order within
 * each, within lateness) replay as the topics do: the same alerts (rule, key, window, source
 * position, alert_id, fields), no dead letters, on one stream thread and on two (which split
 * the envelopes by partition); a gzip dump too. The same records as plain lines, partitions
 * one after the other, are one partition to the replay: events of the later partitions are
 * late, and alerts are missed. */
static void test_replay_envelopes_match_topic(void **state)
{
    struct vg_test_world *f = *state;
    f->env[5] = "EXEC_TOPIC=" EXECS;
    f->env[6] = NULL;
    vg_test_topic(&f->broker, EXECS, 4);
    /* user k: 10 failures 4 s apart from 3 addresses from T0 + k x 5 min, and 4 execs 4 s
     * apart 10 s later, each pair in turn sent in the reverse order (4 s late, lateness 5 s);
     * then a success at T0 + 60 min for each of 8 users t1..t8 (over the partitions) */
    const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    char *text = NULL;
    size_t len = 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", f->broker.bootstraps, errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    size_t n_execs = 0;
    for (int k = 1; k <= ENV_USERS; k++) {
        char user[8];
        snprintf(user, sizeof(user), "u%d", k);
        int64_t base = T0 + k * 300000LL;
        for (int i = 0; i < 10; i++) {
            int j = i ^ 1;
            vg_test_auth_line(&text, &len, user, base + j * 4000, ips[j % 3], "failure");
        }
        for (int i = 0; i < 4; i++, n_execs++) {
            char v[128];
            int j = i ^ 1;
            snprintf(v, sizeof(v), "{\"user\":\"%s\",\"cmd\":\"run-%d\"}", user, j);
            produce_at(rk, EXECS, k % 4, v, base + 10000 + j * 4000);
        }
    }
    for (int k = 1; k <= 8; k++) {
        char user[8];
        snprintf(user, sizeof(user), "t%d", k);
        vg_test_auth_line(&text, &len, user, T0 + 3600000LL, "10.9.9.9", "success");
    }
    assert_int_equal(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
    vg_test_produce_lines_keyed(&f->broker, EVENTS, 4, text, "user");
    free(text);
    size_t n_logins = ENV_USERS * 10 + 8;

    char body[4096];
    snprintf(body, sizeof(body), envelope_topo, 2);
    char *topo2 = vg_test_write(f->dir, "env2.yaml", body);
    snprintf(body, sizeof(body), envelope_topo, 1);
    char *topo1 = vg_test_write(f->dir, "env1.yaml", body);

    /* from the topics: one thread or two, the same */
    size_t n_want, n;
    /* (--from-offset: the development broker answers a time lookup with offset -1, no error,
     * which reads as "nothing at or after --from" and would skip the execs) */
    char *want = alert_lines(replay_file(f, topo2, "--from", "0", "--from-offset", EXECS ":0:0",
                                         "--from-offset", EXECS ":1:0", "--from-offset",
                                         EXECS ":2:0", "--from-offset", EXECS ":3:0", NULL),
                             &n_want);
    char *counts = summary_counts(f);
    char total[64];
    snprintf(total, sizeof(total), "%zu records read", n_logins + n_execs);
    assert_non_null(strstr(counts, total));
    assert_non_null(strstr(counts, " 0 dead letters"));
    free(counts);
    assert_non_null(strstr(want, "\"rule_id\":\"T-BURST\""));
    assert_non_null(strstr(want, "\"rule_id\":\"T-BUSY\""));
    assert_non_null(strstr(want, "\"rule_id\":\"T-ODD\""));
    assert_non_null(strstr(want, "\"source\":{\"topic\":\"" EVENTS "\",\"partition\":"));
    char *got = alert_lines(replay_file(f, topo1, "--from", "0", "--from-offset", EXECS ":0:0",
                                        "--from-offset", EXECS ":1:0", "--from-offset",
                                        EXECS ":2:0", "--from-offset", EXECS ":3:0", NULL),
                            &n);
    assert_string_equal(got, want);
    free(got);

    /* the dumps: logins plain, execs gzip */
    struct vg_test_records logins, execs;
    consume_sorted(f, EVENTS, n_logins, &logins);
    consume_sorted(f, EXECS, n_execs, &execs);
    char *env_logins = write_dump(f, "logins.json", EVENTS, &logins, true);
    char *env_execs = write_dump(f, "execs.json", EXECS, &execs, true);
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "gzip '%s'", env_execs);
    assert_int_equal(system(cmd), 0);
    char in_logins[4200], in_execs[4200];
    snprintf(in_logins, sizeof(in_logins), "logins=%s", env_logins);
    snprintf(in_execs, sizeof(in_execs), "execs=%s.gz", env_execs);
    f->env[0] = "KAFKA_BROKERS=127.0.0.1:1"; /* files only */
    /* --speed: batches of 20 records, so the dump spans batches as a large one does (in one
     * batch every record is read before any window closes); the factor makes the pace nil */
    for (int t = 0; t < 2; t++) {
        got = alert_lines(replay_file(f, t ? topo1 : topo2, "--from", "0", "--speed",
                                      "1000000x", "--input", in_logins, "--input", in_execs,
                                      NULL),
                          &n);
        if (strcmp(got, want) != 0)
            fail_msg("envelopes on %d thread(s): alerts\n%s\ninstead of\n%s", t ? 1 : 2, got,
                     want);
        counts = summary_counts(f);
        assert_non_null(strstr(counts, total));
        assert_non_null(strstr(counts, " 0 dead letters"));
        free(counts);
        free(got);
    }

    /* the values alone, partitions one after the other: late events, alerts missed */
    char *plain_logins = write_dump(f, "logins.jsonl", EVENTS, &logins, false);
    snprintf(in_logins, sizeof(in_logins), "logins=%s", plain_logins);
    got = alert_lines(replay_file(f, topo1, "--from", "0", "--speed", "1000000x", "--input",
                                  in_logins, "--input", in_execs, NULL),
                      &n);
    assert_true(n < n_want);
    counts = summary_counts(f);
    assert_null(strstr(counts, " 0 dead letters"));
    char *log = vg_test_read(f->log);
    assert_non_null(strstr(log, "late: event time"));
    free(log);
    free(counts);
    free(got);

    f->env[0] = f->env_brokers;
    f->env[5] = NULL;
    vg_test_records_free(&logins);
    vg_test_records_free(&execs);
    free(plain_logins);
    free(env_logins);
    free(env_execs);
    free(topo1);
    free(topo2);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_matches_live_and_leaves_it_alone, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_replay_from_mid_range, setup, vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_replay_files_match_kafka, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_replay_avro_container, setup, vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_replay_files_bad_lines_once, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_replay_speed_paces, setup, vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_replay_stdin_matches_path, setup,
                                        vg_test_world_teardown),
        cmocka_unit_test_setup_teardown(test_replay_envelopes_match_topic, setup,
                                        vg_test_world_teardown),
    };
    signal(SIGPIPE, SIG_IGN); /* a replay that dies early fails its test, not the writer */
    vg_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
