/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chaos_test.c - failure injection: the guarantees of DESIGN.md (Guarantees) checked under
 * crashes, restarts, rebalances and Redis outages. One topology (three windows keyed by
 * fields that are not the partitioning, so every window reads a repartition topic; a rules
 * node after each, one with suppress) runs twice on the same unkeyed, out-of-order events:
 *
 *   reference  one `vigil run`, never interrupted, its own group, Redis and alert topic;
 *   chaos      VG_CHAOS_PROCS `vigil run` processes in one group, killed -9 at random
 *              instants and restarted after random delays (some longer than idle_timeout
 *              and the session timeout), while their redis-server is killed (its append-only
 *              file fsynced on every write, so it comes back with every acknowledged write)
 *              or frozen for a few seconds.
 *
 * Once both runs have closed their last windows (by their groups' committed offsets), the
 * chaos run must give exactly the reference's alerts: the same distinct (rule_id, key,
 * window_start, window_end, fields), repeats only as repeated alert_ids, one id per window
 * and one window per id, each alert's key the window's key, no event dead-lettered (or, by
 * a window, dropped) as late that the reference took, no process exiting by itself. Ids
 * differ between the runs (the topology name is in them): the runs are compared by content.
 * On failure it prints what differs and the seed; in any case a one-line summary
 * ("chaos summary: seed=... result=PASS|FAIL"), which bench/chaos.sh reads.
 *
 * Knobs (environment): VG_CHAOS_SEED=N replays a run (the same events, partitions and chaos
 * schedule; only the timing of real processes differs), VG_CHAOS_SECONDS (default 40),
 * VG_CHAOS_RATE events/s (default 300), VG_CHAOS_PROCS (2 or 3, default 3), VG_CHAOS_KEEP=1
 * keeps the work dir with the logs, VG_CHAOS_GAP_PCT scales the gaps between failures
 * (default 100: mostly 8-18 s; 250 lets a long run's group read between failures),
 * VG_CHAOS_CALM=1 is a control run: the same harness with
 * no failures injected (what differs then comes from running in several processes).
 *
 * Threads: the test's main thread runs the chaos schedule and the checks; a producer thread
 * paces the events; a collector thread reads the alert and dead-letter topics as they fill
 * (so hours-long runs never depend on what the development broker still retains).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vg_test.h"

#define EVENTS "chaos-events"
#define REF "chaos-ref"     /* the reference's topology name */
#define RUN "chaos-run"     /* the chaos run's */
#define N_PARTS 4
#define T0 1767225600000LL  /* 2026-01-01T00:00:00Z */
#define SPEEDUP 10          /* event time runs 10x faster than the producer's wall clock */
#define JITTER_MS 1500      /* events are up to 1.5 s older than the stream's front */
#define SLOT_MS 4000        /* a user is active or not for 4 s of event time at a time */
#define N_USERS 30
#define N_HOSTS 10
#define N_SENTINEL 80
#define MAX_PROCS 3
#define SHOW 20             /* lines of each kind of difference printed */

/* The rules. The sentinels' alerts of the rules without suppress (a suppressed rule may hold
 * its sentinel back) show that a run got to its last windows: the reference must have them. */
enum { R_TUMBLE, R_SLIDE, R_SESSION, N_RULES };
static const char *const RULE_ID[N_RULES] = {"CH-TUMBLE", "CH-SLIDE", "CH-SESSION"};
static const char *const RULE_KEY[N_RULES] = {"user", "host", "user"}; /* the window's key */

static const char TOPOLOGY[] =
    "# written by tests/integration/chaos_test.c\n"
    "name: %s\n"
    "parallelism: ${PARALLELISM:-1}\n"
    "rule_threads: 1\n"
    "kafka:\n"
    "  bootstrap.servers: %s\n"
    "  session.timeout.ms: 6000\n"
    "  heartbeat.interval.ms: 1000\n"
    "redis:\n"
    "  url: redis://127.0.0.1:%d/0\n"
    "nodes:\n"
    "  events:\n"
    "    source: kafka\n"
    "    topic: " EVENTS "\n"
    "    time: ts\n"
    "    lateness: 2s\n"
    "    idle_timeout: 3s\n"
    "    dead_letter: %s-dlq\n"
    "  failures:\n"
    "    filter: outcome == \"failure\"\n"
    "    input: events\n"
    "  user_fail:\n"
    "    window: tumbling 10s\n"
    "    key: [user]\n"
    "    aggregate: {n: count(), ips: distinct(src_ip), first: min(ts), last: max(ts)}\n"
    "    input: failures\n"
    "  host_load:\n"
    "    window: sliding 30s every 10s\n"
    "    key: [host]\n"
    "    aggregate: {n: count(), users: distinct(user), first: min(ts), last: max(ts)}\n"
    "    input: events\n"
    "  user_burst:\n"
    "    window: session 2s\n"
    "    key: [user]\n"
    "    aggregate: {n: count(), hosts: distinct(host), first: min(ts), last: max(ts)}\n"
    "    input: events\n"
    "  fail_rules:\n"
    "    rules:\n"
    "      - {id: CH-TUMBLE, title: Failures of a user, severity: medium, when: n >= 12,\n"
    "         suppress: 30s}\n"
    "    input: user_fail\n"
    "  load_rules:\n"
    "    rules:\n"
    "      - {id: CH-SLIDE, title: Load on a host, severity: low, when: n >= 60}\n"
    "    input: host_load\n"
    "  burst_rules:\n"
    "    rules:\n"
    "      - {id: CH-SESSION, title: A user's burst, severity: low, when: n >= 25}\n"
    "    input: user_burst\n"
    "  alerts:\n"
    "    sink: kafka\n"
    "    topic: %s-alerts\n"
    "    input: [fail_rules, load_rules, burst_rules]\n";

static const char *const WINDOW_NODES[] = {"user_fail", "host_load", "user_burst"};

/* ---- seeded randomness: every event and the chaos schedule follow from the seed ---- */

static uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t rng_next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return mix64(*s);
}

/* ---- the events ---- */

struct gen {
    uint64_t seed;
    int rate;                 /* events per second of wall clock */
    uint64_t n_events;        /* paced events; then the sentinels and the final events */
};

/* Event time of event i before jitter: SPEEDUP x the wall-clock time it is due at. */
static long long gen_front(const struct gen *g, uint64_t i)
{
    return T0 + (long long)(i * SPEEDUP * 1000 / (uint64_t)g->rate);
}

static bool user_active(const struct gen *g, int u, long long slot)
{
    int pct = 25 + (u * 37) % 50; /* 25..74 % of the slots */
    return (int)(mix64(g->seed ^ mix64((uint64_t)slot * 1000003u + (uint64_t)u)) % 100) < pct;
}

/* Users are active in stretches of slots (sessions) and chosen by weight 1/(u+1) among the
 * active; hosts by weight 1/(h+1); some users fail much more often than others. */
static int gen_event(const struct gen *g, uint64_t i, char *line, size_t size)
{
    uint64_t s = g->seed ^ mix64(i + 1);
    long long front = gen_front(g, i);
    long long ts = front - (long long)(rng_next(&s) % (JITTER_MS + 1));
    long long slot = (front - T0) / SLOT_MS;
    int total = 0, user = 0;
    for (int u = 0; u < N_USERS; u++)
        total += user_active(g, u, slot) ? 600 / (u + 1) : 0;
    if (total > 0) {
        int x = (int)(rng_next(&s) % (uint64_t)total);
        for (user = 0; user < N_USERS; user++) {
            int w = user_active(g, user, slot) ? 600 / (user + 1) : 0;
            if (x < w)
                break;
            x -= w;
        }
    }
    int hosts = 0;
    for (int h = 0; h < N_HOSTS; h++)
        hosts += 600 / (h + 1);
    int x = (int)(rng_next(&s) % (uint64_t)hosts), host = 0;
    for (; host < N_HOSTS - 1 && x >= 600 / (host + 1); host++)
        x -= 600 / (host + 1);
    int fail_pct = 15 + (user * 53) % 70;
    bool failure = (int)(rng_next(&s) % 100) < fail_pct;
    snprintf(line, size,
             "{\"ts\":%lld,\"user\":\"u%02d\",\"host\":\"h%02d\",\"src_ip\":\"10.1.%d.%d\","
             "\"outcome\":\"%s\"}",
             ts, user, host, user, (int)(rng_next(&s) % 6), failure ? "failure" : "success");
    return (int)(rng_next(&s) % N_PARTS); /* no key: any partition */
}

/* After the paced events: N_SENTINEL events of one user and host within one tumbling window
 * just ahead of everything, then one event an hour ahead in every partition, which closes
 * every window. The sentinels' windows alert in every rule, and last. */
static long long gen_sentinel_start(const struct gen *g)
{
    long long front = g->n_events ? gen_front(g, g->n_events - 1) : T0;
    return (front / 10000 + 1) * 10000 + 1000;
}

static int gen_tail(const struct gen *g, int k, char *line, size_t size)
{
    long long s0 = gen_sentinel_start(g);
    if (k < N_SENTINEL) {
        snprintf(line, size,
                 "{\"ts\":%lld,\"user\":\"zzsent\",\"host\":\"hzzsent\",\"src_ip\":\"10.9.9.%d\","
                 "\"outcome\":\"failure\"}",
                 s0 + k * 5, k % 4);
        return k % N_PARTS;
    }
    k -= N_SENTINEL;
    snprintf(line, size,
             "{\"ts\":%lld,\"user\":\"zzfinal\",\"host\":\"hzzfinal\",\"src_ip\":\"10.9.9.9\","
             "\"outcome\":\"success\"}",
             s0 + 3600 * 1000LL);
    return k;
}

#define N_TAIL (N_SENTINEL + N_PARTS)

/* ---- what the runs wrote ---- */

struct alert {
    char *id, *rule, *key, *fields;
    char *wkey;    /* the window's key value: its user or host in fields (NULL: none) */
    int r;         /* the rule's index, N_RULES: unknown */
    long long ws, we;
    char *win;     /* the window: rule \t its key field=value (from fields) \t start \t end */
    char *content; /* rule \t key (as emitted) \t start \t end \t fields */
};

struct dead {
    char *reason;
    char *pos;     /* source topic/partition/offset */
};

struct run_out {
    struct alert *a;
    size_t n, cap;
    struct dead *d;
    size_t n_dead, cap_dead;
    size_t n_unparsed;
    bool sentinel[N_RULES];
};

static char *dup_span(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static int rule_index(const char *rule_id)
{
    int r = 0;
    while (r < N_RULES && strcmp(rule_id, RULE_ID[r]) != 0)
        r++;
    return r;
}

/* A JSON string value's text after `"name":"` in text (malloc'd), or NULL. */
static char *json_str_after(const char *text, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":\"", name);
    const char *p = strstr(text, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    const char *e = strchr(p, '"');
    return e ? dup_span(p, (size_t)(e - p)) : NULL;
}

/* One alert as vg_alert_to_json writes it (fixed field order; fields last). */
static bool parse_alert(const char *v, size_t len, struct alert *a)
{
    memset(a, 0, sizeof(*a));
    const char *key = strstr(v, ",\"key\":");
    const char *ws = key ? strstr(key, ",\"window_start\":") : NULL;
    const char *we = ws ? strstr(ws, ",\"window_end\":") : NULL;
    const char *fields = we ? strstr(we, ",\"fields\":") : NULL;
    a->id = json_str_after(v, "alert_id");
    a->rule = json_str_after(v, "rule_id");
    if (!fields || !a->id || !a->rule || len < 2 || v[len - 1] != '}') {
        free(a->id);
        free(a->rule);
        return false;
    }
    key += strlen(",\"key\":");
    a->key = dup_span(key, (size_t)(ws - key));
    a->ws = strncmp(ws + 16, "null", 4) == 0 ? -1 : atoll(ws + 16);
    a->we = strncmp(we + 14, "null", 4) == 0 ? -1 : atoll(we + 14);
    fields += strlen(",\"fields\":");
    const char *end = v + len - 1; /* the alert's closing brace */
    const char *replay = strstr(fields, "},\"replay\":true}");
    if (replay && replay + strlen("},\"replay\":true}") == v + len)
        end = replay + 1;
    a->fields = dup_span(fields, (size_t)(end - fields));
    a->r = rule_index(a->rule);
    a->wkey = a->r < N_RULES ? json_str_after(a->fields, RULE_KEY[a->r]) : NULL;
    a->win = fmt("%s\t%s=%s\t%lld\t%lld", a->rule, a->r < N_RULES ? RULE_KEY[a->r] : "?",
                 a->wkey ? a->wkey : "?", a->ws, a->we);
    a->content = fmt("%s\t%s\t%lld\t%lld\t%s", a->rule, a->key, a->ws, a->we, a->fields);
    return true;
}

static void alert_free(struct alert *a)
{
    free(a->id);
    free(a->rule);
    free(a->key);
    free(a->fields);
    free(a->wkey);
    free(a->win);
    free(a->content);
}

static void run_out_free(struct run_out *o)
{
    for (size_t i = 0; i < o->n; i++)
        alert_free(&o->a[i]);
    for (size_t i = 0; i < o->n_dead; i++) {
        free(o->d[i].reason);
        free(o->d[i].pos);
    }
    free(o->a);
    free(o->d);
    memset(o, 0, sizeof(*o));
}

/* ---- the world ---- */

struct proc {
    char name[16];
    char *yaml, *log;
    char env_par[32];
    const char *env[2];
    int parallelism;
    pid_t pid;              /* 0: not running */
};

enum act_kind { A_START, A_REDIS_UP, A_KILL, A_REDIS_DOWN }; /* order on equal times */

struct action {
    int64_t at_ms;          /* from the start of the events */
    enum act_kind kind;
    int proc;               /* A_START, A_KILL */
    bool freeze;            /* A_REDIS_DOWN/UP: SIGSTOP/SIGCONT instead of kill and restart */
};

struct chaos {
    char *dir;
    struct vg_test_broker broker;
    bool broker_up;
    struct vg_test_redis ref_redis, run_redis;
    struct proc ref, procs[MAX_PROCS];
    int n_procs;
    struct gen gen;
    int seconds;
    int gap_pct;            /* the gaps between failures, in percent of next_gap's */
    bool keep, calm, passed;

    pthread_mutex_t mu;     /* everything below, between the threads */
    bool stop;              /* teardown: threads leave */
    bool tail_go;           /* main -> producer: chaos is over, produce the tail */
    bool produced;          /* producer -> main: all events acknowledged */
    char thread_err[256];   /* the producer's or the collector's failure */
    uint64_t n_produced;
    struct run_out out[2];  /* 0 reference, 1 chaos run */
    int64_t last_alert_ms;  /* when the collector last got an alert */
    bool producer_on, collector_on;
    pthread_t producer, collector;

    int64_t start_ms;       /* the events' wall-clock start; the schedule counts from it */
    int64_t next_status_ms;
    rd_kafka_t *grp[2];     /* readers of the runs' committed offsets (group_reader) */
    int kills, restarts, outages, crashes;
    char crash_text[512];   /* "chaos-1 status 139 (SIGSEGV), ..." */
};

static const char *const OUT_NAME[2] = {"reference", "chaos run"};

static int env_int(const char *name, int def, int min, int max)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    int v = atoi(s);
    return v < min ? min : v > max ? max : v;
}

static void proc_init(struct chaos *c, struct proc *p, const char *name, const char *topo_file,
                      int parallelism)
{
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->yaml = fmt("%s/%s", c->dir, topo_file);
    p->log = fmt("%s/%s.log", c->dir, name);
    p->parallelism = parallelism;
    snprintf(p->env_par, sizeof(p->env_par), "PARALLELISM=%d", parallelism);
    p->env[0] = p->env_par;
    p->env[1] = NULL;
}

static void proc_start(struct proc *p)
{
    const char *args[] = {"run", p->yaml, NULL};
    p->pid = vg_test_vigil_start(args, p->env, p->log);
}

/* Exited by itself (not reaped here: vg_test_vigil_stop reaps it and forgets it)? */
static bool proc_exited(const struct proc *p)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    return p->pid > 0 && waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           si.si_pid == p->pid;
}

static void print_tail(const char *path, int lines)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "tail -n %d '%s' 2>/dev/null | sed 's/^/    /' >&2", lines, path);
    if (system(cmd) != 0)
        fprintf(stderr, "    (no log)\n");
}

static void write_topology(struct chaos *c, const char *file, const char *name, int redis_port)
{
    char *text = fmt(TOPOLOGY, name, c->broker.bootstraps, redis_port, name, name);
    free(vg_test_write(c->dir, file, text));
    free(text);
}

static int setup(void **state)
{
    struct chaos *c = calloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    *state = c;
    if (chdir(getenv("VG_SOURCE_DIR") ? getenv("VG_SOURCE_DIR") : ".") != 0)
        return -1;
    c->dir = vg_test_tmpdir();
    c->keep = getenv("VG_CHAOS_KEEP") && strcmp(getenv("VG_CHAOS_KEEP"), "1") == 0;
    c->calm = getenv("VG_CHAOS_CALM") && strcmp(getenv("VG_CHAOS_CALM"), "1") == 0;
    c->seconds = env_int("VG_CHAOS_SECONDS", 40, 5, 7 * 24 * 3600);
    c->n_procs = env_int("VG_CHAOS_PROCS", 3, 2, MAX_PROCS);
    c->gen.rate = env_int("VG_CHAOS_RATE", 300, 10, 5000);
    c->gap_pct = env_int("VG_CHAOS_GAP_PCT", 100, 50, 1000);
    const char *seed = getenv("VG_CHAOS_SEED");
    if (seed && *seed)
        c->gen.seed = strtoull(seed, NULL, 10);
    else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        c->gen.seed = mix64((uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
                            (uint64_t)getpid()) % 1000000000u;
    }
    c->gen.n_events = (uint64_t)c->seconds * (uint64_t)c->gen.rate;
    return 0;
}

static void *producer_main(void *arg);
static void *collector_main(void *arg);

static void stop_threads(struct chaos *c)
{
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_mutex_unlock(&c->mu);
    if (c->producer_on)
        pthread_join(c->producer, NULL);
    if (c->collector_on)
        pthread_join(c->collector, NULL);
    c->producer_on = c->collector_on = false;
}

static int teardown(void **state)
{
    struct chaos *c = *state;
    stop_threads(c);
    vg_test_vigil_kill_all();
    if (!c->passed && c->dir) {
        struct proc *all[MAX_PROCS + 1] = {&c->ref};
        for (int i = 0; i < c->n_procs; i++)
            all[1 + i] = &c->procs[i];
        for (int i = 0; i <= c->n_procs; i++)
            if (all[i]->log) {
                fprintf(stderr, "---- %s: the last lines of %s ----\n", all[i]->name,
                        all[i]->log);
                print_tail(all[i]->log, 25);
            }
    }
    if (c->ref_redis.dir)
        vg_test_redis_stop(&c->ref_redis);
    if (c->run_redis.dir) /* also when killed at the failure: its dir goes */
        vg_test_redis_stop(&c->run_redis);
    for (int r = 0; r < 2; r++)
        if (c->grp[r])
            rd_kafka_destroy(c->grp[r]);
    if (c->broker_up)
        vg_test_broker_stop(&c->broker);
    if (c->keep && c->dir) {
        fprintf(stderr, "chaos: work dir kept: %s\n", c->dir);
        free(c->dir);
    } else {
        vg_test_rmdir(c->dir);
    }
    for (int i = 0; i < 2; i++)
        run_out_free(&c->out[i]);
    struct proc *all[MAX_PROCS + 1] = {&c->ref, &c->procs[0], &c->procs[1], &c->procs[2]};
    for (int i = 0; i <= MAX_PROCS; i++) {
        free(all[i]->yaml);
        free(all[i]->log);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
    return 0;
}

static void say(const struct chaos *c, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    if (c->start_ms)
        printf("chaos [%+7.1f s] ", (double)(vg_test_now_ms() - c->start_ms) / 1000.0);
    else
        printf("chaos: ");
    vprintf(f, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

static bool stopping(struct chaos *c)
{
    pthread_mutex_lock(&c->mu);
    bool v = c->stop;
    pthread_mutex_unlock(&c->mu);
    return v;
}

/* ---- the producer thread ---- */

static void thread_fail(struct chaos *c, const char *what, const char *why)
{
    pthread_mutex_lock(&c->mu);
    if (!c->thread_err[0])
        snprintf(c->thread_err, sizeof(c->thread_err), "%.60s: %.180s", what, why);
    pthread_mutex_unlock(&c->mu);
}

static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    if (m->err)
        thread_fail(opaque, "delivery", rd_kafka_err2str(m->err));
}

static bool produce_line(struct chaos *c, rd_kafka_t *rk, int partition, const char *line)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(EVENTS), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_VALUE((void *)line, strlen(line)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
        if (!e)
            return true;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || stopping(c)) {
            thread_fail(c, "produce", rd_kafka_err2str(e));
            return false;
        }
        rd_kafka_poll(rk, 10);
    }
}

/* Paced events (event i is due at start + i / rate), then, once the main thread says the
 * chaos is over, the sentinels and the final events; then every delivery acknowledged. */
static void *producer_main(void *arg)
{
    struct chaos *c = arg;
    char errstr[512], line[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", c->broker.bootstraps, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)); /* in order */
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_dr_msg_cb(conf, delivered);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        thread_fail(c, "producer", errstr);
        return NULL;
    }
    const struct gen *g = &c->gen;
    uint64_t i = 0;
    while (i < g->n_events && !stopping(c)) {
        uint64_t due = (uint64_t)(vg_test_now_ms() - c->start_ms) * (uint64_t)g->rate / 1000 + 1;
        for (; i < due && i < g->n_events; i++) {
            int p = gen_event(g, i, line, sizeof(line));
            if (!produce_line(c, rk, p, line))
                goto out;
        }
        pthread_mutex_lock(&c->mu);
        c->n_produced = i;
        pthread_mutex_unlock(&c->mu);
        rd_kafka_poll(rk, 5); /* delivery reports; the pace */
    }
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool go = c->tail_go, stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            goto out;
        if (go)
            break;
        rd_kafka_poll(rk, 20);
    }
    for (int k = 0; k < N_TAIL; k++) {
        int p = gen_tail(g, k, line, sizeof(line));
        if (!produce_line(c, rk, p, line))
            goto out;
    }
    while (rd_kafka_outq_len(rk) > 0 && !stopping(c))
        rd_kafka_poll(rk, 20);
    pthread_mutex_lock(&c->mu);
    c->n_produced = g->n_events + N_TAIL;
    c->produced = rd_kafka_outq_len(rk) == 0;
    pthread_mutex_unlock(&c->mu);
out:
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(rk);
    return NULL;
}

/* ---- the collector thread: both runs' alerts and dead letters, as they come ---- */

static const char *header(const rd_kafka_message_t *m, const char *name, char *buf, size_t size)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t n;
    buf[0] = '\0';
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h &&
        rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
        snprintf(buf, size, "%.*s", (int)n, (const char *)v);
    return buf;
}

static void collect(struct chaos *c, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    int run = strncmp(topic, RUN "-", strlen(RUN "-")) == 0;
    bool dlq = strstr(topic, "-dlq") != NULL;
    pthread_mutex_lock(&c->mu);
    struct run_out *o = &c->out[run];
    if (dlq) {
        char reason[512], t[256], p[32], off[32];
        header(m, "vigil.reason", reason, sizeof(reason));
        header(m, "vigil.source.topic", t, sizeof(t));
        header(m, "vigil.source.partition", p, sizeof(p));
        header(m, "vigil.source.offset", off, sizeof(off));
        if (o->n_dead == o->cap_dead) {
            o->cap_dead = o->cap_dead ? 2 * o->cap_dead : 64;
            o->d = realloc(o->d, o->cap_dead * sizeof(*o->d));
        }
        o->d[o->n_dead].reason = strdup(reason);
        o->d[o->n_dead++].pos = fmt("%s/%s/%s", t, p, off);
    } else {
        struct alert a;
        char *v = dup_span(m->payload, m->len);
        if (!parse_alert(v, m->len, &a)) {
            o->n_unparsed++;
        } else {
            if (o->n == o->cap) {
                o->cap = o->cap ? 2 * o->cap : 256;
                o->a = realloc(o->a, o->cap * sizeof(*o->a));
            }
            o->a[o->n++] = a;
            if (a.r < N_RULES && a.wkey &&
                strcmp(a.wkey, a.r == R_SLIDE ? "hzzsent" : "zzsent") == 0)
                o->sentinel[a.r] = true;
        }
        free(v);
        c->last_alert_ms = vg_test_now_ms();
    }
    pthread_mutex_unlock(&c->mu);
}

static void *collector_main(void *arg)
{
    struct chaos *c = arg;
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", c->broker.bootstraps, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", "vg-chaos-collector", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        thread_fail(c, "collector", errstr);
        return NULL;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(6);
    const char *names[2] = {REF, RUN};
    for (int r = 0; r < 2; r++) {
        char t[64];
        snprintf(t, sizeof(t), "%s-alerts", names[r]);
        for (int p = 0; p < 2; p++)
            rd_kafka_topic_partition_list_add(parts, t, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        snprintf(t, sizeof(t), "%s-dlq", names[r]);
        rd_kafka_topic_partition_list_add(parts, t, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    while (!stopping(c)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err)
            collect(c, m);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

/* ---- the groups' progress, from their committed offsets ---- */

/* A consumer with a run's group.id that never joins the group: it reads what the group has
 * committed. */
static rd_kafka_t *group_reader(struct chaos *c, const char *topology)
{
    char errstr[512], group[64];
    snprintf(group, sizeof(group), "vigil.%s", topology);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", c->broker.bootstraps, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk)
        fail_msg("consumer: %s", errstr);
    return rk;
}

static bool high_marks(rd_kafka_t *rk, const char *topic, int64_t *hi, int timeout_ms)
{
    for (int p = 0; p < N_PARTS; p++) {
        int64_t lo;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], timeout_ms))
            return false;
    }
    return true;
}

/* The group's committed offset of each partition of topic (-1: none yet). */
static bool committed(rd_kafka_t *grp, const char *topic, int64_t *off, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(N_PARTS);
    for (int p = 0; p < N_PARTS; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p);
    bool ok = rd_kafka_committed(grp, parts, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int p = 0; p < N_PARTS && ok; p++)
        off[p] = parts->elems[p].err || parts->elems[p].offset < 0 ? -1 : parts->elems[p].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    return ok;
}

/* Every partition of topic committed at or past want[p]? */
static bool committed_past(rd_kafka_t *grp, const char *topic, const int64_t *want)
{
    int64_t off[N_PARTS];
    if (!committed(grp, topic, off, 5000))
        return false;
    for (int p = 0; p < N_PARTS; p++)
        if (want[p] > 0 && off[p] < want[p])
            return false;
    return true;
}

/* What the group has yet to read of topic: the sum of end - committed; -1: unknown. With
 * text, also "committed/end" per partition. */
static int64_t group_lag(rd_kafka_t *grp, const char *topic, int timeout_ms, char *text,
                         size_t size)
{
    int64_t hi[N_PARTS], off[N_PARTS], lag = 0;
    if (!high_marks(grp, topic, hi, timeout_ms) || !committed(grp, topic, off, timeout_ms))
        return -1;
    for (int p = 0; p < N_PARTS; p++) {
        lag += hi[p] - (off[p] < 0 ? 0 : off[p]);
        if (text)
            snprintf(text + strlen(text), size - strlen(text), " %lld/%lld", (long long)off[p],
                     (long long)hi[p]);
    }
    return lag;
}

/* Every 15 s: what was produced, what each run has yet to read, what it alerted. */
static void status(struct chaos *c)
{
    int64_t now = vg_test_now_ms();
    if (!c->start_ms || now < c->next_status_ms)
        return;
    c->next_status_ms = now + 15000;
    pthread_mutex_lock(&c->mu);
    uint64_t n_ev = c->n_produced;
    size_t n_alerts[2] = {c->out[0].n, c->out[1].n};
    pthread_mutex_unlock(&c->mu);
    long long lag[2];
    for (int r = 0; r < 2; r++)
        lag[r] = (long long)group_lag(c->grp[r], EVENTS, 1000, NULL, 0);
    say(c, "status: %" PRIu64 " events; reference %zu alerts, %lld events to read; chaos run "
        "%zu alerts, %lld events to read",
        n_ev, n_alerts[0], lag[0], n_alerts[1], lag[1]);
}

/* ---- the chaos schedule ---- */

static int cmp_action(const void *x, const void *y)
{
    const struct action *a = x, *b = y;
    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms ? -1 : 1;
    return (int)a->kind - (int)b->kind;
}

/* Time to the next action: mostly 8-18 s, so the group settles between failures (the
 * development broker's coordinator takes 5-20 s per rebalance, and a group whose members
 * change every few seconds never reads anything), a quarter of the time a burst, 1.5-5 s. */
static int64_t next_gap(uint64_t *s)
{
    return rng_next(s) % 4 == 0 ? 1500 + (int64_t)(rng_next(s) % 3500)
                                : 8000 + (int64_t)(rng_next(s) % 10000);
}

/* From the seed alone: at each action, mostly a kill -9 of a running process (restarted
 * 0.5-12 s later: past idle_timeout 3 s and the session timeout 6 s about half the time),
 * sometimes a Redis outage of 1.5-6 s (a kill and restart from its append-only file, or a
 * freeze); at least one outage. Everything is back before the events end. */
static struct action *make_schedule(const struct chaos *c, size_t *n_out)
{
    uint64_t s = mix64(c->gen.seed ^ 0xc4a05c4a05ULL);
    int64_t end = c->seconds * 1000LL;
    size_t cap = (size_t)(end / 1500) * 2 + 8, n = 0;
    struct action *a = calloc(cap, sizeof(*a));
    if (c->calm) {
        *n_out = 0;
        return a;
    }
    int64_t back_at[MAX_PROCS] = {0};
    int64_t redis_free_at = 0;
    bool outage = false;
    for (int64_t t = 2000 + (int64_t)(rng_next(&s) % 6000); t < end - 1000;
         t += next_gap(&s) * c->gap_pct / 100) {
        if (rng_next(&s) % 100 < 20 && t >= redis_free_at) {
            int64_t up = t + 1500 + (int64_t)(rng_next(&s) % 4500);
            bool freeze = rng_next(&s) % 3 == 0;
            up = up < end ? up : end;
            a[n++] = (struct action){t, A_REDIS_DOWN, -1, freeze};
            a[n++] = (struct action){up, A_REDIS_UP, -1, freeze};
            redis_free_at = up + 3000;
            outage = true;
            continue;
        }
        int alive[MAX_PROCS], n_alive = 0;
        for (int i = 0; i < c->n_procs; i++)
            if (back_at[i] <= t)
                alive[n_alive++] = i;
        if (n_alive == 0)
            continue;
        int v = alive[rng_next(&s) % (uint64_t)n_alive];
        int64_t back = t + 500 + (int64_t)(rng_next(&s) % 11500);
        back_at[v] = back < end ? back : end;
        a[n++] = (struct action){t, A_KILL, v, false};
        a[n++] = (struct action){back_at[v], A_START, v, false};
    }
    if (!outage) {
        int64_t t = end / 3 + (int64_t)(rng_next(&s) % (uint64_t)(end / 3 + 1));
        int64_t up = t + 3000 < end ? t + 3000 : end;
        a[n++] = (struct action){t, A_REDIS_DOWN, -1, false};
        a[n++] = (struct action){up, A_REDIS_UP, -1, false};
    }
    qsort(a, n, sizeof(*a), cmp_action);
    *n_out = n;
    return a;
}

static void describe(const struct chaos *c, const struct action *a, char *buf, size_t size)
{
    switch (a->kind) {
    case A_KILL:
        snprintf(buf, size, "kill -9 %s", c->procs[a->proc].name);
        break;
    case A_START:
        snprintf(buf, size, "restart %s", c->procs[a->proc].name);
        break;
    case A_REDIS_DOWN:
        snprintf(buf, size, "redis %s", a->freeze ? "freeze (SIGSTOP)" : "kill -9");
        break;
    case A_REDIS_UP:
        snprintf(buf, size, "redis %s", a->freeze ? "resume (SIGCONT)" : "restart (its AOF)");
        break;
    }
}

/* Between actions: the reference must keep running; a chaos process that exits by itself
 * is a crash (counted, its log shown) and is started again. */
static void watch(struct chaos *c)
{
    if (proc_exited(&c->ref)) {
        int st = vg_test_vigil_stop(c->ref.pid, 0, 1000);
        c->ref.pid = 0;
        print_tail(c->ref.log, 40);
        fail_msg("the reference vigil exited by itself (status %d); seed %" PRIu64, st,
                 c->gen.seed);
    }
    for (int i = 0; i < c->n_procs; i++) {
        struct proc *p = &c->procs[i];
        if (!proc_exited(p))
            continue;
        int st = vg_test_vigil_stop(p->pid, 0, 1000);
        c->crashes++;
        size_t used = strlen(c->crash_text);
        snprintf(c->crash_text + used, sizeof(c->crash_text) - used, "%s%s status %d%s",
                 used ? ", " : "", p->name, st, st == 128 + SIGSEGV ? " (SIGSEGV)" : "");
        say(c, "%s exited by itself (status %d); its log ends:", p->name, st);
        print_tail(p->log, 20);
        proc_start(p);
    }
    pthread_mutex_lock(&c->mu);
    char err[256];
    snprintf(err, sizeof(err), "%s", c->thread_err);
    pthread_mutex_unlock(&c->mu);
    if (err[0])
        fail_msg("the test's producer or collector failed: %s", err);
}

/* Wait until start + at_ms, watching the processes. */
static void wait_until(struct chaos *c, int64_t at_ms)
{
    while (vg_test_now_ms() < c->start_ms + at_ms) {
        watch(c);
        status(c);
        int64_t left = c->start_ms + at_ms - vg_test_now_ms();
        usleep((useconds_t)(left > 20 ? 20000 : left > 0 ? left * 1000 : 0));
    }
}

static void run_schedule(struct chaos *c, const struct action *acts, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const struct action *a = &acts[k];
        wait_until(c, a->at_ms);
        struct proc *p = a->proc >= 0 ? &c->procs[a->proc] : NULL;
        char what[64];
        describe(c, a, what, sizeof(what));
        switch (a->kind) {
        case A_KILL:
            if (!p->pid)
                continue;
            vg_test_vigil_stop(p->pid, SIGKILL, 5000 * vg_test_slow());
            p->pid = 0;
            c->kills++;
            break;
        case A_START:
            if (p->pid)
                continue;
            proc_start(p);
            c->restarts++;
            break;
        case A_REDIS_DOWN:
            if (a->freeze)
                vg_test_redis_pause(&c->run_redis);
            else
                vg_test_redis_kill(&c->run_redis);
            c->outages++;
            break;
        case A_REDIS_UP:
            if (a->freeze)
                vg_test_redis_resume(&c->run_redis);
            else
                vg_test_redis_restart(&c->run_redis);
            break;
        }
        pthread_mutex_lock(&c->mu);
        uint64_t n_ev = c->n_produced;
        pthread_mutex_unlock(&c->mu);
        say(c, "%s (%" PRIu64 " events so far)", what, n_ev);
    }
}

/* ---- the end: both runs closed their last windows ---- */

/* A run's progress through what it has to read, from its group's committed offsets (read
 * with a consumer of that group.id that never joins). Offsets are committed only after what
 * their records produced is acknowledged (DESIGN.md, Guarantees), so: once every source
 * offset is committed up to the end, every event's repartition records are written; the
 * writers' control records with the final watermark follow within 200 ms; once every
 * repartition offset is committed past the ends those partitions had 2 s later, every window
 * has closed and every alert is on the alert topic. */
struct progress {
    const char *topology;
    rd_kafka_t *grp;    /* c->grp[] */
    int phase;          /* 0 sources, 1 settling, 2 repartition topics, 3 done */
    int64_t at_ms;
    int64_t target[3][N_PARTS];
};

static void progress_step(struct progress *pg, int64_t now)
{
    char topic[128];
    int64_t want[N_PARTS];
    switch (pg->phase) {
    case 0:
        if (high_marks(pg->grp, EVENTS, want, 5000) && committed_past(pg->grp, EVENTS, want)) {
            pg->phase = 1;
            pg->at_ms = now;
        }
        break;
    case 1:
        if (now - pg->at_ms < 2000)
            break;
        for (int w = 0; w < 3; w++) {
            snprintf(topic, sizeof(topic), "%s.%s.repartition", pg->topology, WINDOW_NODES[w]);
            if (!high_marks(pg->grp, topic, pg->target[w], 5000))
                return;
        }
        pg->phase = 2;
        break;
    case 2:
        for (int w = 0; w < 3; w++) {
            snprintf(topic, sizeof(topic), "%s.%s.repartition", pg->topology, WINDOW_NODES[w]);
            if (!committed_past(pg->grp, topic, pg->target[w]))
                return;
        }
        pg->phase = 3;
        pg->at_ms = now;
        break;
    }
}

/* Wait until both runs are done by their committed offsets and no alert came for 2 s, with a
 * deadline of 60 s x vg_test_slow() (a group settles in about 25 s on the development broker,
 * a session timeout and a few join rounds) after the chaos run last read more of the events
 * topic or gave another alert: a long run ends with a backlog (a group whose members change
 * every few seconds reads little), which it must be given the time to read. false: the deadline passed (the
 * comparison then shows what is missing). */
static bool wait_complete(struct chaos *c)
{
    int slow = vg_test_slow();
    int64_t deadline = vg_test_now_ms() + 60000LL * slow, lag_ms = 0;
    long long lag = -1;
    size_t alerts_seen = 0;
    struct progress pg[2] = {{.topology = REF, .grp = c->grp[0]},
                             {.topology = RUN, .grp = c->grp[1]}};
    bool done = false;
    for (;;) {
        watch(c);
        status(c);
        int64_t now = vg_test_now_ms();
        for (int r = 0; r < 2; r++)
            if (pg[r].phase < 3)
                progress_step(&pg[r], now);
        pthread_mutex_lock(&c->mu);
        int64_t quiet = now - c->last_alert_ms;
        pthread_mutex_unlock(&c->mu);
        if (pg[0].phase == 3 && pg[1].phase == 3 && quiet >= 2000) {
            done = true;
            break;
        }
        if (now - lag_ms >= 5000) { /* reading on, or alerting on: more time */
            lag_ms = now;
            long long l = (long long)group_lag(c->grp[1], EVENTS, 1000, NULL, 0);
            pthread_mutex_lock(&c->mu);
            size_t n_alerts = c->out[1].n;
            pthread_mutex_unlock(&c->mu);
            if ((l >= 0 && lag >= 0 && l < lag) || n_alerts > alerts_seen)
                deadline = now + 60000LL * slow;
            if (l >= 0)
                lag = l;
            alerts_seen = n_alerts;
        }
        if (now > deadline)
            break;
        usleep(250 * 1000);
    }
    const char *phase[] = {"reading its sources", "settling", "reading its repartition topics",
                           "done"};
    say(c, "%s: the reference %s (sentinels %s), the chaos run %s (sentinels %s)",
        done ? "both runs complete" : "DEADLINE: the runs did not complete", phase[pg[0].phase],
        c->out[0].sentinel[R_SLIDE] && c->out[0].sentinel[R_SESSION] ? "seen" : "NOT seen",
        phase[pg[1].phase],
        c->out[1].sentinel[R_SLIDE] && c->out[1].sentinel[R_SESSION] ? "seen" : "NOT seen");
    for (int r = 0; r < 2 && !done; r++) { /* where a run stopped: committed/end */
        for (int w = -1; w < 3 && pg[r].phase < 3; w++) {
            char topic[128], text[512] = "";
            if (w < 0)
                snprintf(topic, sizeof(topic), "%s", EVENTS);
            else
                snprintf(topic, sizeof(topic), "%s.%s.repartition", pg[r].topology,
                         WINDOW_NODES[w]);
            long long lag = (long long)group_lag(pg[r].grp, topic, 5000, text, sizeof(text));
            say(c, "  %s: %s: %lld to read (committed/end:%s)", OUT_NAME[r], topic, lag, text);
        }
    }
    return done;
}

/* ---- the comparison ---- */

static int cmp_content(const void *x, const void *y)
{
    const struct alert *a = *(struct alert *const *)x, *b = *(struct alert *const *)y;
    int d = strcmp(a->content, b->content);
    return d ? d : strcmp(a->id, b->id);
}

static int cmp_id(const void *x, const void *y)
{
    const struct alert *a = *(struct alert *const *)x, *b = *(struct alert *const *)y;
    int d = strcmp(a->id, b->id);
    return d ? d : strcmp(a->content, b->content);
}

static int cmp_win(const void *x, const void *y)
{
    const struct alert *a = *(struct alert *const *)x, *b = *(struct alert *const *)y;
    int d = strcmp(a->win, b->win);
    return d ? d : strcmp(a->id, b->id);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static struct alert **sorted_alerts(const struct run_out *o, int (*cmp)(const void *, const void *))
{
    struct alert **v = calloc(o->n + 1, sizeof(*v));
    for (size_t i = 0; i < o->n; i++)
        v[i] = &o->a[i];
    qsort(v, o->n, sizeof(*v), cmp);
    return v;
}

static void print_alert(const char *prefix, const struct alert *a)
{
    printf("  %s%s key=%s window [%lld, %lld) (+%.1f s) id %s fields %s\n", prefix, a->rule,
           a->key, a->ws, a->we, a->ws >= 0 ? (double)(a->ws - T0) / 1000.0 : -1.0, a->id,
           a->fields);
}

struct run_check {
    size_t records, distinct, ids, duplicates, id_shared, window_ids, key_mismatches;
    struct alert **uniq; /* one alert per distinct content, sorted by content */
};

/* One run on its own: distinct alerts, repeats, id consistency, keys. */
static void check_run(const struct run_out *o, const char *name, bool verbose,
                      struct run_check *rc)
{
    memset(rc, 0, sizeof(*rc));
    rc->records = o->n;
    struct alert **v = sorted_alerts(o, cmp_id);
    size_t shown_dup = 0, shown_shared = 0;
    for (size_t i = 0; i < o->n;) {
        size_t j = i + 1, contents = 1;
        for (; j < o->n && strcmp(v[j]->id, v[i]->id) == 0; j++)
            contents += strcmp(v[j]->content, v[j - 1]->content) != 0;
        rc->ids++;
        rc->duplicates += (j - i) - contents;
        if (j - i > contents && verbose && shown_dup++ < 5)
            printf("  %s: alert %s written %zu times\n", name, v[i]->id, j - i);
        if (contents > 1) {
            rc->id_shared++;
            if (verbose && shown_shared++ < SHOW) {
                printf("  %s: id %s names %zu different alerts:\n", name, v[i]->id, contents);
                for (size_t k = i; k < j && k < i + 4; k++)
                    print_alert("    ", v[k]);
            }
        }
        i = j;
    }
    free(v);
    v = sorted_alerts(o, cmp_win);
    size_t shown = 0;
    for (size_t i = 0; i < o->n;) {
        size_t j = i + 1, ids = 1;
        for (; j < o->n && strcmp(v[j]->win, v[i]->win) == 0; j++)
            ids += strcmp(v[j]->id, v[j - 1]->id) != 0;
        if (ids > 1) {
            rc->window_ids++;
            if (verbose && shown++ < SHOW) {
                printf("  %s: one rule, key and window with %zu ids:\n", name, ids);
                for (size_t k = i; k < j && k < i + 4; k++)
                    print_alert("    ", v[k]);
            }
        }
        i = j;
    }
    free(v);
    v = sorted_alerts(o, cmp_content);
    size_t n = 0;
    shown = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (n > 0 && strcmp(v[n - 1]->content, v[i]->content) == 0)
            continue;
        v[n++] = v[i];
        const struct alert *a = v[i];
        char *want = a->wkey ? fmt("\"%s\"", a->wkey) : NULL; /* one key field: a string */
        if (!want || strcmp(want, a->key) != 0) {
            rc->key_mismatches++;
            if (shown++ < 3)
                printf("  %s: alert key %s is not the window's %s %s (%s [%lld, %lld))\n", name,
                       a->key, a->r < N_RULES ? RULE_KEY[a->r] : "key", want ? want : "?",
                       a->rule, a->ws, a->we);
        }
        free(want);
    }
    rc->distinct = n;
    rc->uniq = v;
}

struct verdict {
    size_t missing, extra, differing, late, late_ref;
    size_t by_rule[N_RULES][3]; /* missing, extra, differing */
    size_t late_logged[2]; /* window-stage late drops logged: reference, chaos run */
    struct run_check ref, run;
};

/* Late drops the engine logs but writes to no topic (a window reading a repartition topic
 * has no dead_letter): lines "dead letter #N from <topic>[p]@offset: late..." naming another
 * topic than the events'. The engine logs #1-5 and then powers of two: a lower bound. */
static size_t logged_late(const char *log, int show)
{
    FILE *fp = fopen(log, "r");
    if (!fp)
        return 0;
    char line[2048];
    size_t n = 0;
    while (fgets(line, sizeof(line), fp)) {
        const char *p = strstr(line, "dead letter #");
        const char *from = p ? strstr(p, " from ") : NULL;
        if (!from || !strstr(from, ": late") ||
            strncmp(from + 6, EVENTS "[", strlen(EVENTS "[")) == 0)
            continue;
        if ((int)n++ < show)
            printf("  %s", line);
    }
    fclose(fp);
    return n;
}

static bool late_reason(const char *r)
{
    return strncmp(r, "late", 4) == 0;
}

static int rule_of(const struct alert *a)
{
    return a->r < N_RULES ? a->r : 0;
}

/* The chaos run against the reference; prints every kind of difference (SHOW of each). */
static void compare(struct chaos *c, struct verdict *vd)
{
    memset(vd, 0, sizeof(*vd));
    printf("---- chaos: the checks (seed %" PRIu64 ") ----\n", c->gen.seed);
    check_run(&c->out[0], OUT_NAME[0], false, &vd->ref);
    check_run(&c->out[1], OUT_NAME[1], true, &vd->run);
    for (int r = 0; r < 2; r++) {
        const struct run_check *rc = r ? &vd->run : &vd->ref;
        printf("%s: %zu alert records, %zu distinct alerts, %zu ids, %zu repeated, %zu ids "
               "shared by different alerts, %zu windows with several ids, %zu keys not the "
               "window's, %zu unparsable records, %zu dead letters\n",
               OUT_NAME[r], rc->records, rc->distinct, rc->ids, rc->duplicates, rc->id_shared,
               rc->window_ids, rc->key_mismatches, c->out[r].n_unparsed, c->out[r].n_dead);
    }
    /* distinct alerts: in the reference only, in the chaos run only */
    struct alert **R = vd->ref.uniq, **C = vd->run.uniq;
    size_t nr = vd->ref.distinct, nc = vd->run.distinct, i = 0, j = 0;
    struct alert **miss = calloc(nr + 1, sizeof(*miss)), **extra = calloc(nc + 1, sizeof(*extra));
    size_t n_miss = 0, n_extra = 0;
    while (i < nr || j < nc) {
        int d = i == nr ? 1 : j == nc ? -1 : strcmp(R[i]->content, C[j]->content);
        if (d < 0)
            miss[n_miss++] = R[i++];
        else if (d > 0)
            extra[n_extra++] = C[j++];
        else
            i++, j++;
    }
    /* the same rule, window key and window on both sides, otherwise other: differing */
    qsort(miss, n_miss, sizeof(*miss), cmp_win);
    qsort(extra, n_extra, sizeof(*extra), cmp_win);
    bool *miss_diff = calloc(n_miss + 1, 1), *extra_diff = calloc(n_extra + 1, 1);
    size_t shown = 0;
    printf("DIFFERING (same rule, window key and window; other key or fields):\n");
    for (i = 0, j = 0; i < n_miss && j < n_extra;) {
        int d = strcmp(miss[i]->win, extra[j]->win);
        if (d < 0) {
            i++;
        } else if (d > 0) {
            j++;
        } else {
            size_t i2 = i, j2 = j;
            while (i2 < n_miss && strcmp(miss[i2]->win, miss[i]->win) == 0)
                miss_diff[i2++] = true;
            while (j2 < n_extra && strcmp(extra[j2]->win, extra[j]->win) == 0)
                extra_diff[j2++] = true;
            vd->differing++;
            vd->by_rule[rule_of(miss[i])][2]++;
            if (shown++ < SHOW) {
                print_alert("reference ", miss[i]);
                print_alert("chaos run ", extra[j]);
            }
            i = i2;
            j = j2;
        }
    }
    printf("MISSING (in the reference, not in the chaos run):\n");
    shown = 0;
    for (i = 0; i < n_miss; i++)
        if (!miss_diff[i] && (vd->missing++, vd->by_rule[rule_of(miss[i])][0]++, shown++ < SHOW))
            print_alert("", miss[i]);
    printf("EXTRA (in the chaos run, not in the reference):\n");
    shown = 0;
    for (j = 0; j < n_extra; j++)
        if (!extra_diff[j] && (vd->extra++, vd->by_rule[rule_of(extra[j])][1]++, shown++ < SHOW))
            print_alert("", extra[j]);
    free(miss);
    free(extra);
    free(miss_diff);
    free(extra_diff);
    /* late dead letters of the chaos run at source positions the reference took */
    char **ref_late = calloc(c->out[0].n_dead + 1, sizeof(char *));
    size_t n_ref_late = 0;
    for (i = 0; i < c->out[0].n_dead; i++)
        if (late_reason(c->out[0].d[i].reason))
            ref_late[n_ref_late++] = c->out[0].d[i].pos;
    qsort(ref_late, n_ref_late, sizeof(char *), cmp_str);
    vd->late_ref = n_ref_late;
    struct dead **late = calloc(c->out[1].n_dead + 1, sizeof(*late));
    size_t n_late = 0;
    for (i = 0; i < c->out[1].n_dead; i++) {
        struct dead *d = &c->out[1].d[i];
        if (late_reason(d->reason) &&
            !bsearch(&d->pos, ref_late, n_ref_late, sizeof(char *), cmp_str))
            late[n_late++] = d;
    }
    for (int r = 0; r < N_RULES; r++)
        printf("%s%s: %zu missing, %zu extra, %zu differing%s", r ? "; " : "by rule: ",
               RULE_ID[r], vd->by_rule[r][0], vd->by_rule[r][1], vd->by_rule[r][2],
               r == N_RULES - 1 ? "\n" : "");
    printf("LATE (dead-lettered as late by the chaos run, taken by the reference):\n");
    shown = 0;
    for (i = 0; i < n_late; i++) { /* one per source position (a replay repeats them) */
        bool seen = false;
        for (j = 0; j < i && !seen; j++)
            seen = strcmp(late[j]->pos, late[i]->pos) == 0;
        if (!seen && (vd->late++, shown++ < SHOW))
            printf("  %s: %s\n", late[i]->pos, late[i]->reason);
    }
    if (n_ref_late)
        printf("(the reference dead-lettered %zu events as late: the events are never late by "
               "construction)\n",
               n_ref_late);
    free(late);
    free(ref_late);
    printf("LATE, logged only (window inputs dropped as late; sampled lines):\n");
    vd->late_logged[0] = logged_late(c->ref.log, SHOW);
    for (int k = 0; k < c->n_procs; k++)
        vd->late_logged[1] += logged_late(c->procs[k].log, 5);
    printf("  %zu such lines in the reference's log, %zu in the chaos run's\n",
           vd->late_logged[0], vd->late_logged[1]);
    if (c->crashes)
        printf("CRASHED (chaos processes that exited by themselves): %s\n", c->crash_text);
    for (int r = 0; r < 2; r++)
        for (i = 0; i < c->out[r].n_dead; i++)
            if (!late_reason(c->out[r].d[i].reason)) {
                printf("%s: other dead letter: %s (%s)\n", OUT_NAME[r], c->out[r].d[i].reason,
                       c->out[r].d[i].pos);
                break;
            }
}

/* ---- the test ---- */

static void make_world(struct chaos *c)
{
    vg_test_broker_start(&c->broker, 1);
    c->broker_up = true;
    vg_test_topic(&c->broker, EVENTS, N_PARTS);
    const char *names[2] = {REF, RUN};
    for (int r = 0; r < 2; r++) {
        char t[128];
        snprintf(t, sizeof(t), "%s-alerts", names[r]);
        vg_test_topic(&c->broker, t, 2);
        snprintf(t, sizeof(t), "%s-dlq", names[r]);
        vg_test_topic(&c->broker, t, 1);
        for (size_t w = 0; w < sizeof(WINDOW_NODES) / sizeof(*WINDOW_NODES); w++) {
            snprintf(t, sizeof(t), "%s.%s.repartition", names[r], WINDOW_NODES[w]);
            vg_test_topic(&c->broker, t, N_PARTS);
        }
    }
    c->grp[0] = group_reader(c, REF);
    c->grp[1] = group_reader(c, RUN);
    vg_test_redis_start(&c->ref_redis);
    c->run_redis.durable = true; /* acknowledged writes survive its kill -9 */
    vg_test_redis_start(&c->run_redis);
    write_topology(c, "ref.yaml", REF, c->ref_redis.port);
    write_topology(c, "run.yaml", RUN, c->run_redis.port);
    proc_init(c, &c->ref, "reference", "ref.yaml", 1);
    for (int i = 0; i < c->n_procs; i++) {
        char name[16];
        snprintf(name, sizeof(name), "chaos-%d", i % 10);
        proc_init(c, &c->procs[i], name, "run.yaml", i == 0 ? 2 : 1);
    }
}

static void test_chaos_matches_reference(void **state)
{
    struct chaos *c = *state;
    int64_t t_begin = vg_test_now_ms();
    say(c, "seed %" PRIu64 " (replay: VG_CHAOS_SEED=%" PRIu64 "), %d s of events at %d/s, "
        "%d processes%s; work dir %s",
        c->gen.seed, c->gen.seed, c->seconds, c->gen.rate, c->n_procs,
        c->calm ? ", CALM: no failures injected" : "", c->dir);
    make_world(c);
    if (pthread_create(&c->collector, NULL, collector_main, c) != 0)
        fail_msg("pthread_create");
    c->collector_on = true;
    proc_start(&c->ref);
    for (int i = 0; i < c->n_procs; i++)
        proc_start(&c->procs[i]);
    vg_test_wait_assigned(c->ref.log, c->ref.parallelism);
    for (int i = 0; i < c->n_procs; i++)
        vg_test_wait_assigned(c->procs[i].log, c->procs[i].parallelism);
    say(c, "every process has partitions after %.1f s",
        (double)(vg_test_now_ms() - t_begin) / 1000.0);

    size_t n_acts;
    struct action *acts = make_schedule(c, &n_acts);
    say(c, "schedule (from the start of the events):");
    for (size_t k = 0; k < n_acts; k++) {
        char what[64];
        describe(c, &acts[k], what, sizeof(what));
        printf("    %+7.1f s  %s\n", (double)acts[k].at_ms / 1000.0, what);
    }
    c->start_ms = vg_test_now_ms();
    if (pthread_create(&c->producer, NULL, producer_main, c) != 0)
        fail_msg("pthread_create");
    c->producer_on = true;
    run_schedule(c, acts, n_acts);
    free(acts);
    wait_until(c, c->seconds * 1000LL);
    for (int i = 0; i < c->n_procs; i++) /* all up (the schedule restarts every one by now) */
        if (!c->procs[i].pid)
            proc_start(&c->procs[i]);
    say(c, "chaos over: %d kills, %d restarts, %d Redis outages; the sentinels and the final "
        "events", c->kills, c->restarts, c->outages);
    pthread_mutex_lock(&c->mu);
    c->tail_go = true;
    pthread_mutex_unlock(&c->mu);
    int64_t deadline = vg_test_now_ms() + 60000LL * vg_test_slow();
    for (;;) {
        watch(c);
        pthread_mutex_lock(&c->mu);
        bool produced = c->produced;
        pthread_mutex_unlock(&c->mu);
        if (produced)
            break;
        if (vg_test_now_ms() > deadline)
            fail_msg("the events were not all acknowledged by the broker within 60 s");
        usleep(20 * 1000);
    }
    bool complete = wait_complete(c);
    complete &= c->out[0].sentinel[R_SLIDE] && c->out[0].sentinel[R_SESSION];
    stop_threads(c); /* the collector's tables are ours from here */
    struct verdict vd;
    compare(c, &vd);
    bool ok = complete && vd.missing == 0 && vd.extra == 0 && vd.differing == 0 &&
              vd.late == 0 && (vd.late_logged[1] == 0 || vd.late_logged[0] > 0) &&
              vd.run.id_shared == 0 && vd.run.window_ids == 0 &&
              vd.ref.key_mismatches + vd.run.key_mismatches == 0 && c->crashes == 0;
    double wall = (double)(vg_test_now_ms() - t_begin) / 1000.0;
    printf("chaos summary: seed=%" PRIu64 " mode=%s seconds=%d rate=%d procs=%d kills=%d "
           "restarts=%d redis_outages=%d crashes=%d events=%" PRIu64 " ref_alerts=%zu "
           "chaos_alerts=%zu "
           "missing=%zu extra=%zu differing=%zu duplicates=%zu id_conflicts=%zu "
           "key_mismatches=%zu late_dead_letters=%zu late_logged=%zu complete=%s wall_s=%.0f "
           "result=%s\n",
           c->gen.seed, c->calm ? "calm" : "chaos", c->seconds, c->gen.rate, c->n_procs,
           c->kills, c->restarts, c->outages,
           c->crashes, c->n_produced, vd.ref.distinct, vd.run.distinct, vd.missing, vd.extra,
           vd.differing, vd.run.duplicates, vd.run.id_shared + vd.run.window_ids,
           vd.ref.key_mismatches + vd.run.key_mismatches, vd.late, vd.late_logged[1],
           complete ? "yes" : "no",
           wall, ok ? "PASS" : "FAIL");
    fflush(stdout);
    free(vd.ref.uniq);
    free(vd.run.uniq);
    c->passed = ok;
    if (!ok)
        fail_msg("the chaos run differs from the reference (seed %" PRIu64
                 "; replay with VG_CHAOS_SEED=%" PRIu64 "): see above",
                 c->gen.seed, c->gen.seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chaos_matches_reference, setup, teardown),
    };
    vg_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
