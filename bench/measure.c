/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure.c - `vigil-bench measure`: end-to-end latency of alerts, from Kafka timestamps.
 *
 * Reads every partition of the alert topic from the beginning (no consumer group). For each
 * JSON alert, latency = the alert record's broker timestamp - the alert's `event_time`. The
 * generator (`vigil-bench produce`) sets each event's `ts` field and its Kafka record
 * timestamp to the same generation instant, and the topologies take event time from `ts`, so
 * event_time is the source record's timestamp: latency spans generator -> broker -> vigil ->
 * broker, measured without the engine's clock. Percentiles come from engine/hist.c
 * (log-linear buckets, within 6.25%); the time series has one point per second of alert
 * append time. Stops after --expect alerts, --idle seconds without a new alert (after the
 * first), or --duration seconds, and writes a JSON report to --out (or stdout).
 *
 * Thread: main.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "bench_common.h"
#include "hist.h"

static volatile sig_atomic_t measure_stop;

static void on_signal(int sig)
{
    (void)sig;
    measure_stop = 1;
}

/* The integer after "key": in a JSON text, or -1. */
static long long json_int(const char *s, size_t len, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = memmem(s, len, pat, strlen(pat));
    if (!p)
        return -1;
    p += strlen(pat);
    long long v = 0;
    bool any = false;
    while (p < s + len && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        any = true;
    }
    return any ? v : -1;
}

struct second {
    long long t;
    long long alerts;
    struct vg_hist h;
};

int vg_bench_measure_main(int argc, char **argv)
{
    const char *brokers = getenv("KAFKA_BROKERS"), *topic = "security-alerts", *out = NULL;
    long long expect = 0;
    double idle = 10, duration = 0;
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 't'},
        {"expect", required_argument, NULL, 'e'},  {"idle", required_argument, NULL, 'i'},
        {"duration", required_argument, NULL, 'd'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},          {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'e': expect = atoll(optarg); break;
        case 'i': idle = atof(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'o': out = optarg; break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: vigil-bench measure [--topic T] [--expect N] [--idle S] "
                    "[--duration S] [--out FILE] [--brokers B]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!brokers) {
        fprintf(stderr, "vigil-bench measure: --brokers or KAFKA_BROKERS is required\n");
        return 2;
    }
    rd_kafka_conf_t *conf = vg_bench_conf(brokers, VG_KAFKA_CONSUMER, "vigil-bench-measure");
    if (!conf)
        return 1;
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "vigil-bench measure: %s\n", errstr);
        return 1;
    }
    /* assign every partition from the beginning (waiting for the topic to exist) */
    int n_parts = 0;
    vg_time_ns t0 = vg_mono_ns();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!measure_stop && (vg_mono_ns() - t0) < 60LL * 1000000000 &&
           (n_parts = vg_kafka_partitions(rk, topic, 5000)) == 0) {
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (n_parts == 0) {
        fprintf(stderr, "vigil-bench measure: topic '%s' not found\n", topic);
        rd_kafka_destroy(rk);
        return 1;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n_parts);
    for (int p = 0; p < n_parts; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);

    struct vg_hist all;
    vg_hist_init(&all);
    struct second *series = NULL;
    size_t n_series = 0;
    long long base_sec = 0;
    long long alerts = 0, unparsed = 0;
    vg_time_ns start = vg_mono_ns(), last = start;
    while (!measure_stop) {
        vg_time_ns now = vg_mono_ns();
        if (expect > 0 && alerts >= expect)
            break;
        if (alerts > 0 && idle > 0 && (double)(now - last) / 1e9 > idle)
            break;
        if (duration > 0 && (double)(now - start) / 1e9 > duration)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        rd_kafka_timestamp_type_t tt;
        long long append = rd_kafka_message_timestamp(m, &tt);
        long long et = json_int(m->payload, m->len, "event_time");
        if (et < 0 || append < 0) {
            unparsed++;
            rd_kafka_message_destroy(m);
            continue;
        }
        long long lat = append - et;
        if (lat < 0)
            lat = 0;
        vg_hist_record(&all, (uint64_t)lat);
        /* one bucket per second of append time; alerts of different partitions arrive
         * interleaved, so buckets are found by their second, not appended in order */
        long long sec = append / 1000;
        if (n_series == 0)
            base_sec = sec - 60;
        if (sec >= base_sec && sec - base_sec < 100000) {
            size_t at = (size_t)(sec - base_sec);
            if (at >= n_series) {
                series = vg_xrealloc(series, (at + 1) * sizeof(*series));
                for (size_t k = n_series; k <= at; k++) {
                    series[k].t = base_sec + (long long)k;
                    series[k].alerts = 0;
                    vg_hist_init(&series[k].h);
                }
                n_series = at + 1;
            }
            series[at].alerts++;
            vg_hist_record(&series[at].h, (uint64_t)lat);
        }
        alerts++;
        last = vg_mono_ns();
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        perror(out);
        return 1;
    }
    fprintf(f,
            "{\"alerts\":%lld,\"unparsed\":%lld,\"latency_ms\":{\"p50\":%llu,\"p90\":%llu,"
            "\"p95\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu},\"series\":[",
            alerts, unparsed, (unsigned long long)vg_hist_quantile(&all, 0.5),
            (unsigned long long)vg_hist_quantile(&all, 0.9),
            (unsigned long long)vg_hist_quantile(&all, 0.95),
            (unsigned long long)vg_hist_quantile(&all, 0.99),
            (unsigned long long)vg_hist_quantile(&all, 0.999),
            (unsigned long long)vg_hist_quantile(&all, 1.0));
    bool first = true;
    for (size_t i = 0; i < n_series; i++) {
        if (series[i].alerts == 0 && (first || i + 1 == n_series))
            continue; /* the margin before the first alert */
        fprintf(f, "%s{\"t\":%lld,\"alerts\":%lld,\"p50\":%llu,\"p99\":%llu}", first ? "" : ",",
                series[i].t, series[i].alerts,
                (unsigned long long)vg_hist_quantile(&series[i].h, 0.5),
                (unsigned long long)vg_hist_quantile(&series[i].h, 0.99));
        first = false;
    }
    fprintf(f, "]}\n");
    if (out)
        fclose(f);
    vg_free(series);
    return expect > 0 && alerts < expect ? 1 : 0;
}
