/* SPDX-License-Identifier: Apache-2.0 */
/*
 * join.c - the `join` operator: stream-table enrichment and stream-stream window joins.
 *
 * Parsed and key-checked now; rejected with "not supported yet" until joins land.
 *
 * Thread: main (load time) only, for now.
 */
#include "vg_op.h"

static const struct vg_key_spec join_keys[] = {
    {.name = "input", .type = VG_K_INPUTS, .doc = "unused: a join names left and right"},
    {0},
};

const struct vg_op_type vg_op_join = {
    .name = "join",
    .summary = "stream-table enrichment or stream-stream window join",
    .flags = VG_OP_KEYED,
    .keys = join_keys,
    .op_key_type = VG_K_MAP,
    .not_supported_yet = "joins are not supported yet",
};
