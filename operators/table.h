/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table.h - the row keys of a `table: redis` node (table.c, join.c); the node's config is
 * struct vg_table_conf (vg_op.h).
 *
 * Thread: immutable after load; shared by every stream thread.
 */
#ifndef VG_TABLE_H
#define VG_TABLE_H

#include "vg_op.h"

/* The Redis key for a join key's text: key_pattern with its "{}" replaced. Returns the length
 * written to out (at most cap - 1, NUL-terminated). */
size_t vg_table_key(const struct vg_table_conf *t, const char *key, size_t klen, char *out,
                    size_t cap);

#endif
