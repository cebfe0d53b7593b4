/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table.h - what a `table` node tells the joins that look it up (table.c, join.c).
 *
 * Thread: immutable after load; shared by every stream thread.
 */
#ifndef VG_TABLE_H
#define VG_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct vg_table_conf {
    const char *name;           /* the node's name: a join's output holds the row under it */
    const char *key_pattern;    /* Redis key of a row's hash; "{}" stands for the key */
    size_t cache_rows;          /* per join and stream thread */
    int64_t cache_ttl_ms;       /* a cached row (or its absence) is fetched again after this */
};

/* The Redis key for a join key's text: key_pattern with its "{}" replaced. Returns the length
 * written to out (at most cap - 1, NUL-terminated). */
size_t vg_table_key(const struct vg_table_conf *t, const char *key, size_t klen, char *out,
                    size_t cap);

#endif
