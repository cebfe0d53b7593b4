/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common.c - what the harness's subcommands share: Kafka configurations with the engine's
 * own defaults (so baselines are measured with the same client settings), and the
 * partition a key goes to.
 *
 * Thread: main.
 */
#include "bench_common.h"

#include <stdio.h>
#include <string.h>

rd_kafka_conf_t *vg_bench_conf(const char *brokers, enum vg_kafka_role role, const char *group)
{
    struct vg_kv kv = {.key = "bootstrap.servers", .value = (char *)brokers};
    struct vg_topology topo = {.name = "bench", .kafka = &kv, .n_kafka = 1};
    struct vg_err err = {0};
    rd_kafka_conf_t *conf = vg_kafka_conf(&topo, role, group, &err);
    if (!conf)
        fprintf(stderr, "vigil-bench: %s\n", err.msg);
    return conf;
}

int32_t vg_bench_partition(const char *key, size_t len, int n_partitions)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return (int32_t)(h % (uint32_t)(n_partitions > 0 ? n_partitions : 1));
}
