/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_common.h - helpers shared by the harness's subcommands (common.c).
 *
 * Thread: main.
 */
#ifndef VG_BENCH_COMMON_H
#define VG_BENCH_COMMON_H

#include <librdkafka/rdkafka.h>

#include "kafka.h"

/* A client configuration with vigil's defaults for role and bootstrap servers brokers;
 * NULL after a message on stderr. */
rd_kafka_conf_t *vg_bench_conf(const char *brokers, enum vg_kafka_role role, const char *group);
/* The partition of a key: FNV-1a modulo n (the same for a key on every run). */
int32_t vg_bench_partition(const char *key, size_t len, int n_partitions);

#endif
