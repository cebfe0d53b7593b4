/* SPDX-License-Identifier: Apache-2.0 */
/*
 * binio.h - the engine's binary form of numbers and field values: little-endian fixed-width
 * integers, varints, and a type byte before each value. Used for window state in Redis and for records
 * on repartition topics; both are read back only by vigil.
 *
 * Thread: any (plain functions over caller-owned buffers).
 */
#ifndef VG_BINIO_H
#define VG_BINIO_H

#include "arena.h"
#include "value.h"

void vg_put_u64(struct vg_buf *out, uint64_t v);
void vg_put_u32(struct vg_buf *out, uint32_t v);
/* Read at *p (advanced); -1 when fewer bytes than needed remain before end. */
int vg_get_u64(const char **p, const char *end, uint64_t *v);
int vg_get_u32(const char **p, const char *end, uint32_t *v);
int vg_get_i64(const char **p, const char *end, int64_t *v);

/* A signed integer in 1 to 10 bytes (zigzag, then 7 bits per byte, low first). */
void vg_put_varint(struct vg_buf *out, int64_t v);
int vg_get_varint(const char **p, const char *end, int64_t *v);

/* A scalar value (a list is written as null). */
void vg_value_save(const struct vg_value *v, struct vg_buf *out);
/* Read a value written by vg_value_save. Strings are copied into arena, or onto the heap
 * (vg_xstrndup, the caller frees) when arena is NULL. 0, or -1 when the bytes are not one. */
int vg_value_load(struct vg_value *v, const char **p, const char *end, struct vg_arena *arena);

#endif
