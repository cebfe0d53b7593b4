/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window.c - the `window` operator: keyed tumbling, sliding and session windows.
 *
 * Parsed and key-checked now so topologies that use it get precise errors; rejected with
 * "not supported yet" until event-time state with Redis lands.
 *
 * Thread: main (load time) only, for now.
 */
#include "vg_op.h"

static const struct vg_key_spec window_keys[] = {
    {.name = "input", .type = VG_K_INPUTS, .required = true, .doc = "upstream node(s)"},
    {.name = "key", .type = VG_K_STRLIST, .doc = "key field(s)"},
    {.name = "aggregate", .type = VG_K_MAP, .required = true, .doc = "name: function(...) pairs"},
    {0},
};

const struct vg_op_type vg_op_window = {
    .name = "window",
    .summary = "keyed tumbling, sliding or session window with aggregates",
    .flags = VG_OP_KEYED,
    .keys = window_keys,
    .op_key_type = VG_K_STRING,
    .not_supported_yet = "windows are not supported yet",
};
