/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail.c - `vigil-bench tail`: print alerts from an alert topic as they arrive.
 *
 * One readable line per JSON alert ("[high] AUTH-101 key=carol latency=12ms Title"), where
 * latency is the alert record's Kafka timestamp minus the alert's event_time (the generator
 * stamps events with their creation time, so this is creation -> alert on the topic, measured
 * without trusting the engine's clock). An alert from a window shows the window instead
 * ("window=12:00:00-12:05:00"): its event time is the window's end, and the demo generators
 * compress event time; so does any other alert whose event time is more than a minute older
 * than its record (a join's over compressed event time: "event=12:03:10"). On SIGINT/SIGTERM,
 * or after --duration seconds, it prints a summary line: alerts and the latency p50/p99/max of
 * the others. Used by `make demo`.
 *
 * Thread: main.
 */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "codec.h"
#include "hist.h"

static volatile sig_atomic_t tail_stop;

static void on_signal(int sig)
{
    (void)sig;
    tail_stop = 1;
}

/* "HH:MM:SS" (UTC) of an epoch-ms time, into buf[16] */
static const char *clock_of(int64_t ms, char buf[16])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 16, "%H:%M:%S", &tm);
    return buf;
}

int vg_bench_tail_main(int argc, char **argv)
{
    const char *brokers = getenv("KAFKA_BROKERS"), *topic = "security-alerts";
    int duration = 0;
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"duration", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:t:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'd': duration = atoi(optarg); break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: vigil-bench tail [--brokers B] [--topic T] [--duration S]\n"
                    "print JSON alerts as they arrive, then a latency summary\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!brokers) {
        fprintf(stderr, "vigil-bench tail: --brokers or KAFKA_BROKERS is required\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char errstr[512], group[64];
    snprintf(group, sizeof(group), "vigil-tail-%d", (int)getpid());
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "allow.auto.create.topics", "true", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "vigil-bench tail: %s\n", errstr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);

    struct vg_paths *p = vg_paths_new();
    const char *names[] = {"rule_id", "severity", "key", "event_time", "title", "window_start",
                           "window_end"};
    for (int i = 0; i < 7; i++)
        vg_paths_add(p, names[i], i, NULL);
    struct vg_json_parser *jp = vg_json_parser_new();
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    struct vg_hist h;
    vg_hist_init(&h);
    unsigned long long alerts = 0, timed = 0;
    vg_time_ns end = duration > 0 ? vg_mono_ns() + (vg_time_ns)duration * 1000000000 : 0;
    while (!tail_stop && (!end || vg_mono_ns() < end)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        struct vg_value v[7];
        struct vg_err err;
        if (!m->err && vg_json_decode(jp, p, m->payload, m->len, &arena, v, &err) == 0 &&
            v[0].type == VG_T_STR) {
            char when[64];
            alerts++;
            if (v[5].type == VG_T_INT && v[6].type == VG_T_INT) {
                char a[16], z[16];
                snprintf(when, sizeof(when), "window=%s-%s", clock_of(v[5].u.i, a),
                         clock_of(v[6].u.i, z));
            } else {
                rd_kafka_timestamp_type_t tt;
                int64_t lat = rd_kafka_message_timestamp(m, &tt) - v[3].u.i;
                if (lat < 0)
                    lat = 0;
                if (lat > 60000) { /* compressed event time: not a latency */
                    char t[16];
                    snprintf(when, sizeof(when), "event=%s", clock_of(v[3].u.i, t));
                    timed++;
                } else {
                    vg_hist_record(&h, (uint64_t)lat);
                    snprintf(when, sizeof(when), "latency=%lldms", (long long)lat);
                }
            }
            printf("[%.*s] %.*s key=%.*s %s %.*s\n", (int)v[1].len, v[1].u.s, (int)v[0].len,
                   v[0].u.s, v[2].type == VG_T_STR ? (int)v[2].len : 1,
                   v[2].type == VG_T_STR ? v[2].u.s : "-", when, (int)v[4].len, v[4].u.s);
            fflush(stdout);
        }
        vg_arena_reset(&arena);
        rd_kafka_message_destroy(m);
    }
    printf("alerts: %llu (%llu from windows, %llu on compressed event time), latency of the "
           "others p50 %llu ms, p99 %llu ms, max %llu ms\n",
           alerts, alerts - (unsigned long long)h.count - timed, timed,
           (unsigned long long)vg_hist_quantile(&h, 0.5),
           (unsigned long long)vg_hist_quantile(&h, 0.99),
           (unsigned long long)vg_hist_quantile(&h, 1.0));
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    vg_arena_fini(&arena);
    vg_json_parser_free(jp);
    vg_paths_free(p);
    return 0;
}
