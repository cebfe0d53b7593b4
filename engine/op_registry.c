/* SPDX-License-Identifier: Apache-2.0 */
/*
 * op_registry.c - the one list of operator types, sorted by name.
 *
 * The topology checker finds a node's operator here by its key ("filter", "rules", ...);
 * the engine reaches operators only through these descriptors. Adding an operator is its
 * file in operators/, one line here, and its test file.
 *
 * Thread: any (read-only data).
 */
#include "vg_op.h"

#include <string.h>

extern const struct vg_op_type vg_op_filter;
extern const struct vg_op_type vg_op_join;
extern const struct vg_op_type vg_op_map;
extern const struct vg_op_type vg_op_rules;
extern const struct vg_op_type vg_op_sink;
extern const struct vg_op_type vg_op_source;
extern const struct vg_op_type vg_op_table;
extern const struct vg_op_type vg_op_window;

static const struct vg_op_type *const op_types[] = {
    &vg_op_filter, &vg_op_join, &vg_op_map, &vg_op_rules,
    &vg_op_sink, &vg_op_source, &vg_op_table, &vg_op_window,
};

const struct vg_op_type *vg_op_find(const char *name)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(op_types); i++)
        if (strcmp(op_types[i]->name, name) == 0)
            return op_types[i];
    return NULL;
}

size_t vg_op_all(const struct vg_op_type *const **types)
{
    *types = op_types;
    return VG_ARRAY_LEN(op_types);
}
