/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passthrough.c - `vigil-bench passthrough`: the raw librdkafka consume->produce baseline
 * (--out -: consume only, the baseline of vigil replay).
 *
 * One consumer (vigil's consumer defaults, its own group, from the beginning) and one
 * idempotent producer (vigil's producer defaults); every record goes unchanged to the output
 * topic, same key, same partition number. Stops after --events records or --idle seconds
 * without input (after the first record), waits for every delivery, and prints
 * {"events","seconds","eps"} where seconds runs from the first record polled to the last
 * delivery. This is the ceiling a vigil topology is compared with in the same run.
 *
 * Thread: main (plus librdkafka's own threads).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_common.h"

static volatile sig_atomic_t pass_stop;

static void on_signal(int sig)
{
    (void)sig;
    pass_stop = 1;
}

int vg_bench_passthrough_main(int argc, char **argv)
{
    const char *brokers = getenv("KAFKA_BROKERS"), *in = NULL, *out = NULL;
    long long events = 0;
    double idle = 5;
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'}, {"in", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},     {"events", required_argument, NULL, 'n'},
        {"idle", required_argument, NULL, 'I'},    {"help", no_argument, NULL, 'h'},
        {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'n': events = atoll(optarg); break;
        case 'I': idle = atof(optarg); break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: vigil-bench passthrough --in TOPIC --out TOPIC|- [--events N] "
                    "[--idle S] [--brokers B]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!brokers || !in || !out) {
        fprintf(stderr, "vigil-bench passthrough: --in, --out and --brokers (or KAFKA_BROKERS) "
                        "are required\n");
        return 2;
    }
    char group[64], errstr[512];
    snprintf(group, sizeof(group), "vigil-bench-passthrough-%d", (int)getpid());
    rd_kafka_conf_t *cc = vg_bench_conf(brokers, VG_KAFKA_CONSUMER, group);
    rd_kafka_conf_t *pc = vg_bench_conf(brokers, VG_KAFKA_PRODUCER, NULL);
    if (!cc || !pc)
        return 1;
    rd_kafka_t *cons = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof(errstr));
    bool consume_only = strcmp(out, "-") == 0;
    rd_kafka_t *prod = NULL;
    if (consume_only)
        rd_kafka_conf_destroy(pc);
    else if (cons)
        prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof(errstr));
    if (!cons || (!prod && !consume_only)) {
        fprintf(stderr, "vigil-bench passthrough: %s\n", errstr);
        return 1;
    }
    rd_kafka_poll_set_consumer(cons);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, in, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(cons, t);
    rd_kafka_topic_partition_list_destroy(t);
    rd_kafka_topic_t *rkt = prod ? rd_kafka_topic_new(prod, out, NULL) : NULL;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    long long n = 0;
    vg_time_ns first = 0, last = vg_mono_ns();
    rd_kafka_message_t *msgs[1000];
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(cons);
    while (!pass_stop && (events == 0 || n < events)) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 100, msgs, 1000);
        vg_time_ns now = vg_mono_ns();
        if (got <= 0) {
            if (n > 0 && (double)(now - last) / 1e9 > idle)
                break;
            continue;
        }
        if (!first)
            first = now;
        last = now;
        for (ssize_t i = 0; i < got; i++) {
            rd_kafka_message_t *m = msgs[i];
            if (!m->err && !rkt) {
                n++;
            } else if (!m->err) {
                while (rd_kafka_produce(rkt, m->partition, RD_KAFKA_MSG_F_COPY, m->payload,
                                        m->len, m->key, m->key_len, NULL) != 0) {
                    if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                    rd_kafka_poll(prod, 5);
                }
                n++;
            }
            rd_kafka_message_destroy(m);
        }
        if (prod)
            rd_kafka_poll(prod, 0);
    }
    rd_kafka_queue_destroy(q);
    if (prod)
        rd_kafka_flush(prod, 30000);
    vg_time_ns end = vg_mono_ns();
    double secs = first ? (double)(end - first) / 1e9 : 0;
    printf("{\"events\":%lld,\"seconds\":%.3f,\"eps\":%.0f}\n", n, secs,
           secs > 0 ? (double)n / secs : 0.0);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (prod)
        rd_kafka_destroy(prod);
    rd_kafka_consumer_close(cons);
    rd_kafka_destroy(cons);
    return 0;
}
