/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka.h - librdkafka configuration for the engine's consumers and producers.
 *
 * The engine's defaults account for librdkafka 2.0.2 behaviour measured on this machine
 * (docs/decisions.md): the consumer's pre-fetch queue is sized to hold well over a second
 * of input (smaller queues make 2.0.2 stop fetching for a whole second), fetch.wait.max.ms
 * is 10 ms (the development broker holds empty fetches for the full wait), offsets are
 * stored by the engine only after delivery, and the producer is idempotent, keyed, and not
 * sticky. A topology's `kafka:` properties are applied after the defaults and win.
 *
 * Thread: main (building configurations); the handles are used by their stream thread.
 */
#ifndef VG_KAFKA_H
#define VG_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "diag.h"
#include "topo.h"

enum vg_kafka_role { VG_KAFKA_CONSUMER, VG_KAFKA_PRODUCER };

/* A configuration for role with the engine's defaults and then the topology's properties.
 * group is the consumer group (consumer only). Returns NULL with err filled when a property
 * is rejected by librdkafka. Thread: any. */
rd_kafka_conf_t *vg_kafka_conf(const struct vg_topology *topo, enum vg_kafka_role role,
                               const char *group, struct vg_err *err);

/* Check the topology's `kafka:` properties against librdkafka, reporting each rejected one
 * at its position. Returns true when all are accepted. Thread: main. */
bool vg_kafka_check(const struct vg_topology *topo, struct vg_diag *diag);

/* Create topic with n_partitions unless it exists (Admin API). Returns 0, or VG_EKAFKA with
 * err filled. Thread: any (blocking, up to timeout_ms). */
int vg_kafka_create_topic(rd_kafka_t *rk, const char *topic, int n_partitions, int timeout_ms,
                          struct vg_err *err);

/* The partition count of topic from the broker's metadata, creating nothing; 0 when the topic
 * is unknown or the broker did not answer within timeout_ms. Thread: any (blocking). */
int32_t vg_kafka_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms);

#endif
