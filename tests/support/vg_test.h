/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vg_test.h - helpers for integration tests: an in-process development broker (librdkafka's
 * mock cluster, reachable over TCP), producing and consuming records, a redis-server on a
 * free port, and running the real `vigil` binary as a child process.
 *
 * Every helper fails the running cmocka test (fail_msg) instead of returning errors, so tests
 * read as the behaviour they check. Deadlines are multiplied by vg_test_slow() under the
 * sanitizers, never replaced by sleeps.
 *
 * Thread: the test's main thread.
 */
#ifndef VG_TEST_H
#define VG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Deadline multiplier: 3 under VG_SANITIZE=1, else 1. */
int vg_test_slow(void);
/* Path of a file in the source tree ($VG_SOURCE_DIR/rel) in a static buffer. */
const char *vg_test_src(const char *rel);
/* A fresh temporary directory (removed by vg_test_rmdir). */
char *vg_test_tmpdir(void);
void vg_test_rmdir(char *dir);
/* The whole file (malloc'd, NUL-terminated); fails the test when unreadable. */
char *vg_test_read(const char *path);
/* Write text to dir/name; returns the malloc'd path. */
char *vg_test_write(const char *dir, const char *name, const char *text);

/* ---- broker ---- */

struct vg_test_broker {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    const char *bootstraps;
};

void vg_test_broker_start(struct vg_test_broker *b, int n_brokers);
void vg_test_broker_stop(struct vg_test_broker *b);
void vg_test_topic(struct vg_test_broker *b, const char *topic, int partitions);

/* Produce each line of text (one record per '\n'-terminated line) to topic, partition
 * round-robin over n_partitions (or -1 for all to partition 0 when n_partitions == 1);
 * waits for every delivery. */
void vg_test_produce_lines(struct vg_test_broker *b, const char *topic, int n_partitions,
                           const char *text);
/* As vg_test_produce_lines, but each record's partition is chosen by the string value of
 * "field" in the line, a string's text or a number as written (FNV-1a of it modulo
 * n_partitions; lines without the field go to partition 0), so all events of one key land in
 * one partition, as a keyed producer does. */
void vg_test_produce_lines_keyed(struct vg_test_broker *b, const char *topic, int n_partitions,
                                 const char *text, const char *field);
/* Produce one record (binary allowed) to a partition. */
void vg_test_produce(struct vg_test_broker *b, const char *topic, int partition,
                     const void *value, size_t len);

/* Produce one record with a key; value NULL makes it a tombstone. */
void vg_test_produce_keyed(struct vg_test_broker *b, const char *topic, int partition,
                          const char *key, const char *value);

struct vg_test_record {
    char *value;        /* NUL-terminated copy */
    size_t len;
    char *key;
    int32_t partition;
    int64_t offset;
    int64_t ts;         /* its Kafka timestamp (ms), -1 when it has none */
    char *headers;      /* "name=value\n" lines, or NULL */
};

struct vg_test_records {
    struct vg_test_record *r;
    size_t n;
};

/* Read every record of topic from the beginning (all partitions) until at least `expect`
 * arrived and then `settle_ms` passed without more, or until timeout_ms x vg_test_slow(). */
void vg_test_consume(struct vg_test_broker *b, const char *topic, size_t expect, int timeout_ms,
                     int settle_ms, struct vg_test_records *out);
void vg_test_records_free(struct vg_test_records *rs);

/* ---- the vigil binary ---- */

/* Start `vigil args...` (NULL-terminated) with extra environment "K=V" strings (NULL-
 * terminated, may be NULL); stdout and stderr go to log_path (appended). Returns the pid. */
pid_t vg_test_vigil_start(const char *const *args, const char *const *env, const char *log_path);
/* The same with standard input read from stdin_fd (give the other end of a pipe O_CLOEXEC,
 * or the child holds it open and never sees the end); -1: inherited. */
pid_t vg_test_vigil_start_fd(const char *const *args, const char *const *env,
                             const char *log_path, int stdin_fd);
/* Wait (30 s x vg_test_slow()) until the log at `log_path` holds `what` at least n times. */
void vg_test_wait_log(const char *log_path, const char *what, int n);
/* Wait (60 s x vg_test_slow()) until every one of a topology's n_threads stream threads has
 * been given partitions: the consumer group has settled, and records produced from now on
 * are read without a rebalance in between (a rebalance may deliver a record twice:
 * at-least-once). */
void vg_test_wait_assigned(const char *log_path, int n_threads);
/* Send sig and wait up to timeout_ms for the exit; returns the exit status (0-255), or fails
 * the test when it did not exit in time (the child is then killed). */
int vg_test_vigil_stop(pid_t pid, int sig, int timeout_ms);
/* SIGTERM and expect exit 0 (drained, committed, left the group) within 15 s x
 * vg_test_slow(): a group in a rebalance holds the goodbye up to 3 s, and librdkafka's
 * teardown waits on what it has in flight, which on a loaded machine takes seconds more. */
void vg_test_vigil_term(pid_t pid);
/* Kill (SIGKILL) and reap every vigil started by vg_test_vigil_start and not stopped yet;
 * for teardowns, so a failed test leaves no process behind. */
void vg_test_vigil_kill_all(void);
/* Run `vigil args...` to completion capturing stdout+stderr into *output (malloc'd); returns
 * the exit status. */
int vg_test_vigil_run(const char *const *args, char **output);

/* ---- redis ---- */

struct vg_test_redis {
    pid_t pid;
    int port;
    char *dir;
    /* Set before vg_test_redis_start: an append-only file in dir, fsynced before every reply
     * (appendonly yes, appendfsync always), so a kill and restart keeps every acknowledged
     * write. false (the default): nothing on disk. */
    bool durable;
};

void vg_test_redis_start(struct vg_test_redis *r);
/* Stop it (SIGTERM, after a SIGCONT in case it is paused) and remove its dir. */
void vg_test_redis_stop(struct vg_test_redis *r);
/* Kill it (SIGKILL) keeping port and dir; and start it again on the same port and dir: empty,
 * unless durable (then with every write it acknowledged). */
void vg_test_redis_kill(struct vg_test_redis *r);
void vg_test_redis_restart(struct vg_test_redis *r);
/* Freeze it (SIGSTOP: connections stay open, nothing is answered) and let it go on
 * (SIGCONT). */
void vg_test_redis_pause(struct vg_test_redis *r);
void vg_test_redis_resume(struct vg_test_redis *r);

/* Milliseconds on a monotonic clock. */
int64_t vg_test_now_ms(void);

/* ---- an integration test's world ---- */

/* A temp dir with vigil.log, a development broker with the events, alerts and dead-letter
 * topics, optionally a redis-server, and the environment that names them to the shipped
 * topologies: env[0] KAFKA_BROKERS, [1] AUTH_TOPIC, [2] ALERT_TOPIC, [3] AUTH_DLQ, [4]
 * REDIS_URL (or NULL); a test may set the rest (NULL-terminated). */
struct vg_test_world {
    struct vg_test_broker broker;
    struct vg_test_redis redis;
    bool broker_up, redis_up;
    char *dir;
    char *log;
    char env_brokers[512], env_redis[128], env_topics[3][300];
    const char *env[8];
};

/* Setup: chdir to the source tree, make the temp dir; 0, or -1 (for a cmocka setup). */
/* VG_TEST_ONLY=PATTERN runs only the tests whose names match (cmocka's filter). */
void vg_test_filter(void);

int vg_test_world_init(struct vg_test_world *w);
/* The broker (n_brokers) and its topics: events with ev_parts partitions, alerts 2, dlq 1. */
void vg_test_world_broker(struct vg_test_world *w, int n_brokers, const char *events, int ev_parts,
                          const char *alerts, const char *dlq);
/* A redis-server, database db in REDIS_URL. */
void vg_test_world_redis(struct vg_test_world *w, int db);
/* Teardown: kill every vigil left, print the log, stop broker and redis, remove the dir. */
void vg_test_world_fini(struct vg_test_world *w);
/* A cmocka teardown for a world made with calloc and vg_test_world_init: fini and free. */
int vg_test_world_teardown(void **state);
/* Append {"ts":ts,"user":user,"src_ip":ip,"outcome":outcome} and a newline to *buf. */
void vg_test_auth_line(char **buf, size_t *len, const char *user, long long ts, const char *ip,
                       const char *outcome);

#endif
