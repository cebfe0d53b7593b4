/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table.c - the `table` operator: keyed lookups from Redis hashes or a compacted topic.
 *
 * Parsed and key-checked now; rejected with "not supported yet" until tables land.
 *
 * Thread: main (load time) only, for now.
 */
#include "vg_op.h"

static const struct vg_key_spec table_keys[] = {
    {.name = "key_pattern", .type = VG_K_STRING, .doc = "redis: key of the hash, {} is the key"},
    {.name = "topic", .type = VG_K_STRING, .doc = "kafka: the compacted topic"},
    {.name = "format", .type = VG_K_ENUM, .enum_values = "json|avro", .defval = "json",
     .doc = "kafka: record format"},
    {0},
};

const struct vg_op_type vg_op_table = {
    .name = "table",
    .summary = "keyed lookup table (Redis hashes or a compacted Kafka topic)",
    .flags = 0,
    .keys = table_keys,
    .op_key_type = VG_K_ENUM,
    .op_key_values = "redis|kafka",
    .not_supported_yet = "tables are not supported yet",
};
