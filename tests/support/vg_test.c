/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vg_test.c - integration test helpers (see vg_test.h).
 *
 * Thread: the test's main thread; the mock cluster runs its own librdkafka threads.
 */
#include "vg_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kafka.h"

int64_t vg_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vg_test_slow(void)
{
    const char *s = getenv("VG_SANITIZE");
    return s && (strcmp(s, "1") == 0 || strcmp(s, "ON") == 0 || strcmp(s, "true") == 0) ? 3 : 1;
}

const char *vg_test_src(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("VG_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/%s", root ? root : ".", rel);
    return buf;
}

char *vg_test_tmpdir(void)
{
    char tmpl[] = "/tmp/vigil-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    if (!d)
        fail_msg("mkdtemp: %s", strerror(errno));
    return strdup(d);
}

void vg_test_rmdir(char *dir)
{
    if (!dir)
        return;
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    free(dir);
}

char *vg_test_read(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("read %s: %s", path, strerror(errno));
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
        fail_msg("read %s", path);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

char *vg_test_write(const char *dir, const char *name, const char *text)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
        fail_msg("write %s: %s", path, strerror(errno));
    return path;
}

/* ---- broker ---- */

void vg_test_broker_start(struct vg_test_broker *b, int n_brokers)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!b->rk)
        fail_msg("rd_kafka_new: %s", errstr);
    b->mc = rd_kafka_mock_cluster_new(b->rk, n_brokers);
    if (!b->mc)
        fail_msg("mock cluster");
    b->bootstraps = rd_kafka_mock_cluster_bootstraps(b->mc);
}

void vg_test_broker_stop(struct vg_test_broker *b)
{
    if (b->mc)
        rd_kafka_mock_cluster_destroy(b->mc);
    if (b->rk)
        rd_kafka_destroy(b->rk);
    memset(b, 0, sizeof(*b));
}

void vg_test_topic(struct vg_test_broker *b, const char *topic, int partitions)
{
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(b->mc, topic, partitions, 1);
    if (e)
        fail_msg("create topic %s: %s", topic, rd_kafka_err2str(e));
}

static rd_kafka_t *producer(struct vg_test_broker *b)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", b->bootstraps, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "linger.ms", "1", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk)
        fail_msg("producer: %s", errstr);
    return rk;
}

static void produce_kv(rd_kafka_t *rk, const char *topic, int partition, const char *key,
                       const void *value, size_t len)
{
    rd_kafka_resp_err_t e;
    do {
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                              RD_KAFKA_V_VALUE((void *)value, len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    if (e)
        fail_msg("produce to %s: %s", topic, rd_kafka_err2str(e));
}

static void produce_one(rd_kafka_t *rk, const char *topic, int partition, const void *value,
                        size_t len)
{
    produce_kv(rk, topic, partition, NULL, value, len);
}

static void finish(rd_kafka_t *rk)
{
    if (rd_kafka_flush(rk, 30000 * vg_test_slow()) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail_msg("produce: flush timed out");
    rd_kafka_destroy(rk);
}

void vg_test_produce_lines(struct vg_test_broker *b, const char *topic, int n_partitions,
                           const char *text)
{
    rd_kafka_t *rk = producer(b);
    int i = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0)
            produce_one(rk, topic, i++ % (n_partitions > 0 ? n_partitions : 1), p, len);
        p += len + (nl ? 1 : 0);
    }
    finish(rk);
}

static int key_partition(const char *line, size_t len, const char *field, int n_partitions)
{
    char pat[128];
    snprintf(pat, sizeof(pat), "\"%s\":", field);
    const char *k = memmem(line, len, pat, strlen(pat));
    if (!k)
        return 0;
    k += strlen(pat);
    bool quoted = k < line + len && *k == '"'; /* a string's text, or a number as written */
    k += quoted;
    uint32_t h = 2166136261u;
    for (; k < line + len && (quoted ? *k != '"' : *k != ',' && *k != '}'); k++)
        h = (h ^ (unsigned char)*k) * 16777619u;
    return (int)(h % (uint32_t)n_partitions);
}

void vg_test_produce_lines_keyed(struct vg_test_broker *b, const char *topic, int n_partitions,
                                 const char *text, const char *field)
{
    rd_kafka_t *rk = producer(b);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0)
            produce_one(rk, topic, key_partition(p, len, field, n_partitions), p, len);
        p += len + (nl ? 1 : 0);
    }
    finish(rk);
}

void vg_test_produce(struct vg_test_broker *b, const char *topic, int partition,
                     const void *value, size_t len)
{
    rd_kafka_t *rk = producer(b);
    produce_one(rk, topic, partition, value, len);
    finish(rk);
}

void vg_test_produce_keyed(struct vg_test_broker *b, const char *topic, int partition,
                          const char *key, const char *value)
{
    rd_kafka_t *rk = producer(b);
    produce_kv(rk, topic, partition, key, value, value ? strlen(value) : 0);
    finish(rk);
}

static void add_record(struct vg_test_records *out, const rd_kafka_message_t *m)
{
    out->r = realloc(out->r, (out->n + 1) * sizeof(*out->r));
    struct vg_test_record *r = &out->r[out->n++];
    memset(r, 0, sizeof(*r));
    r->value = malloc(m->len + 1);
    memcpy(r->value, m->payload, m->len);
    r->value[m->len] = '\0';
    r->len = m->len;
    if (m->key) {
        r->key = malloc(m->key_len + 1);
        memcpy(r->key, m->key, m->key_len);
        r->key[m->key_len] = '\0';
    }
    r->partition = m->partition;
    r->offset = m->offset;
    r->ts = rd_kafka_message_timestamp(m, NULL);
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
        size_t cap = 1024, used = 0;
        r->headers = malloc(cap);
        r->headers[0] = '\0';
        const char *name;
        const void *val;
        size_t vlen;
        for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &vlen) == 0; i++) {
            size_t need = strlen(name) + vlen + 3;
            if (used + need >= cap) {
                cap = (used + need) * 2;
                r->headers = realloc(r->headers, cap);
            }
            used += (size_t)sprintf(r->headers + used, "%s=%.*s\n", name, (int)vlen,
                                    (const char *)val);
        }
    }
}

void vg_test_consume(struct vg_test_broker *b, const char *topic, size_t expect, int timeout_ms,
                     int settle_ms, struct vg_test_records *out)
{
    char errstr[512];
    memset(out, 0, sizeof(*out));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", b->bootstraps, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", "vg-test-reader", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk)
        fail_msg("consumer: %s", errstr);
    /* find the partition count, creating nothing */
    int n_parts = 0;
    int64_t deadline = vg_test_now_ms() + (int64_t)timeout_ms * vg_test_slow();
    while (vg_test_now_ms() < deadline) {
        n_parts = vg_kafka_partitions(rk, topic, 5000);
        if (n_parts > 0 || expect == 0)
            break;
        usleep(100 * 1000);
    }
    if (n_parts > 0) {
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n_parts);
        for (int p = 0; p < n_parts; p++)
            rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        int64_t last = vg_test_now_ms();
        for (;;) {
            int64_t now = vg_test_now_ms();
            if (now > deadline)
                break;
            if (out->n >= expect && now - last >= settle_ms)
                break;
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
            if (!m)
                continue;
            if (!m->err) {
                add_record(out, m);
                last = vg_test_now_ms();
            }
            rd_kafka_message_destroy(m);
        }
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

void vg_test_records_free(struct vg_test_records *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->r[i].value);
        free(rs->r[i].key);
        free(rs->r[i].headers);
    }
    free(rs->r);
    memset(rs, 0, sizeof(*rs));
}

/* ---- the vigil binary ---- */

static const char *vigil_path(void)
{
    const char *p = getenv("VG_VIGIL");
    return p ? p : "vigil";
}

/* Children started and not yet reaped, so a failing test does not leave them running. */
static pid_t children[32];

pid_t vg_test_vigil_start(const char *const *args, const char *const *env, const char *log_path)
{
    return vg_test_vigil_start_fd(args, env, log_path, -1);
}

pid_t vg_test_vigil_start_fd(const char *const *args, const char *const *env,
                             const char *log_path, int stdin_fd)
{
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        if (stdin_fd >= 0 && stdin_fd != 0) {
            dup2(stdin_fd, 0);
            close(stdin_fd);
        }
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        size_t n = 0;
        while (args[n])
            n++;
        const char **argv = calloc(n + 2, sizeof(char *));
        argv[0] = vigil_path();
        for (size_t i = 0; i < n; i++)
            argv[i + 1] = args[i];
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (size_t i = 0; i < 32; i++)
        if (children[i] == 0) {
            children[i] = pid;
            break;
        }
    return pid;
}


static void child_forget(pid_t pid)
{
    for (size_t i = 0; i < 32; i++)
        if (children[i] == pid)
            children[i] = 0;
}

void vg_test_vigil_kill_all(void)
{
    for (size_t i = 0; i < 32; i++)
        if (children[i] > 0) {
            int status;
            kill(children[i], SIGKILL);
            waitpid(children[i], &status, 0);
            children[i] = 0;
        }
}

int vg_test_vigil_stop(pid_t pid, int sig, int timeout_ms)
{
    if (sig)
        kill(pid, sig);
    int64_t deadline = vg_test_now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            child_forget(pid);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (vg_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            child_forget(pid);
            fail_msg("vigil (pid %d) did not exit within %d ms", (int)pid, timeout_ms);
        }
        usleep(10 * 1000);
    }
}

void vg_test_vigil_term(pid_t pid)
{
    assert_int_equal(vg_test_vigil_stop(pid, SIGTERM, 15000 * vg_test_slow()), 0);
}

int vg_test_vigil_run(const char *const *args, char **output)
{
    char path[] = "/tmp/vigil-out-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        fail_msg("mkstemp: %s", strerror(errno));
    close(fd);
    pid_t pid = vg_test_vigil_start(args, NULL, path);
    int status = vg_test_vigil_stop(pid, 0, 60000 * vg_test_slow());
    FILE *fp = fopen(path, "r");
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (fp && (got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[n] = '\0';
    if (fp)
        fclose(fp);
    unlink(path);
    *output = buf;
    return status;
}

/* ---- redis ---- */

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0)
        fail_msg("free port: %s", strerror(errno));
    int port = ntohs(a.sin_port);
    close(s);
    return port;
}

void vg_test_redis_start(struct vg_test_redis *r)
{
    r->dir = vg_test_tmpdir();
    r->port = free_port();
    vg_test_redis_restart(r);
}

void vg_test_redis_restart(struct vg_test_redis *r)
{
    r->pid = fork();
    if (r->pid == 0) {
        char port[16];
        snprintf(port, sizeof(port), "%d", r->port);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir",
               r->dir, "--save", "", "--appendonly", r->durable ? "yes" : "no",
               "--appendfsync", "always", (char *)NULL);
        _exit(127);
    }
    int64_t deadline = vg_test_now_ms() + 10000;
    while (vg_test_now_ms() < deadline) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(s);
        if (ok)
            return;
        usleep(20 * 1000);
    }
    fail_msg("redis-server did not start on port %d", r->port);
}

void vg_test_redis_kill(struct vg_test_redis *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
    }
    r->pid = 0;
}

void vg_test_redis_pause(struct vg_test_redis *r)
{
    if (r->pid > 0)
        kill(r->pid, SIGSTOP);
}

void vg_test_redis_resume(struct vg_test_redis *r)
{
    if (r->pid > 0)
        kill(r->pid, SIGCONT);
}

void vg_test_redis_stop(struct vg_test_redis *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGCONT); /* a paused server would never see the SIGTERM */
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
    }
    vg_test_rmdir(r->dir);
    memset(r, 0, sizeof(*r));
}

void vg_test_wait_log(const char *log_path, const char *what, int n)
{
    int64_t deadline = vg_test_now_ms() + 30000 * vg_test_slow();
    while (vg_test_now_ms() < deadline) {
        char *text = access(log_path, R_OK) == 0 ? vg_test_read(log_path) : strdup("");
        int count = 0;
        for (const char *p = text; (p = strstr(p, what)); p++)
            count++;
        free(text);
        if (count >= n)
            return;
        usleep(50 * 1000);
    }
    fail_msg("vigil did not log '%s' %d times", what, n);
}

void vg_test_wait_assigned(const char *log_path, int n_threads)
{
    /* the development broker loses a join round now and then (9 s each): a group member
     * whose SyncGroup arrives after the leader's is sent back to join again */
    int64_t deadline = vg_test_now_ms() + 60000 * vg_test_slow();
    for (;;) {
        char *text = access(log_path, R_OK) == 0 ? vg_test_read(log_path) : strdup("");
        /* only what the latest process logged: a log may hold earlier runs */
        const char *from = text;
        for (const char *p = text; (p = strstr(p, ": running ")); p++)
            from = p;
        int have = 0;
        for (int k = 0; k < n_threads; k++) {
            char what[64];
            snprintf(what, sizeof(what), "thread %d assigned", k);
            have += strstr(from, what) != NULL;
        }
        free(text);
        if (have == n_threads)
            return;
        if (vg_test_now_ms() > deadline)
            fail_msg("vigil's %d stream threads were not all given partitions", n_threads);
        usleep(50 * 1000);
    }
}

/* ---- an integration test's world ---- */

void vg_test_filter(void)
{
    if (getenv("VG_TEST_ONLY"))
        cmocka_set_test_filter(getenv("VG_TEST_ONLY"));
}

int vg_test_world_init(struct vg_test_world *w)
{
    memset(w, 0, sizeof(*w));
    if (chdir(getenv("VG_SOURCE_DIR") ? getenv("VG_SOURCE_DIR") : ".") != 0)
        return -1;
    w->dir = vg_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof(path), "%s/vigil.log", w->dir);
    w->log = strdup(path);
    return 0;
}

void vg_test_world_broker(struct vg_test_world *w, int n_brokers, const char *events, int ev_parts,
                          const char *alerts, const char *dlq)
{
    vg_test_broker_start(&w->broker, n_brokers);
    w->broker_up = true;
    vg_test_topic(&w->broker, events, ev_parts);
    vg_test_topic(&w->broker, alerts, 2);
    vg_test_topic(&w->broker, dlq, 1);
    snprintf(w->env_brokers, sizeof(w->env_brokers), "KAFKA_BROKERS=%s", w->broker.bootstraps);
    snprintf(w->env_topics[0], sizeof(w->env_topics[0]), "AUTH_TOPIC=%s", events);
    snprintf(w->env_topics[1], sizeof(w->env_topics[1]), "ALERT_TOPIC=%s", alerts);
    snprintf(w->env_topics[2], sizeof(w->env_topics[2]), "AUTH_DLQ=%s", dlq);
    w->env[0] = w->env_brokers;
    for (int i = 0; i < 3; i++)
        w->env[1 + i] = w->env_topics[i];
}

void vg_test_world_redis(struct vg_test_world *w, int db)
{
    vg_test_redis_start(&w->redis);
    w->redis_up = true;
    snprintf(w->env_redis, sizeof(w->env_redis), "REDIS_URL=redis://127.0.0.1:%d/%d",
             w->redis.port, db);
    w->env[4] = w->env_redis;
}

void vg_test_world_fini(struct vg_test_world *w)
{
    vg_test_vigil_kill_all();
    if (w->log && access(w->log, R_OK) == 0) {
        char *text = vg_test_read(w->log);
        fprintf(stderr, "---- vigil log ----\n%s-------------------\n", text);
        free(text);
    }
    if (w->broker_up)
        vg_test_broker_stop(&w->broker);
    if (w->redis_up)
        vg_test_redis_stop(&w->redis);
    vg_test_rmdir(w->dir);
    free(w->log);
}

int vg_test_world_teardown(void **state)
{
    struct vg_test_world *w = *state;
    vg_test_world_fini(w);
    free(w);
    return 0;
}

void vg_test_auth_line(char **buf, size_t *len, const char *user, long long ts, const char *ip,
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
