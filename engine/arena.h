/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena.h - bump allocator that frees everything at once, and a growable byte buffer.
 *
 * A batch owns an arena: decoded values, unescaped strings and scratch data of its events
 * are carved from it and released together by vg_arena_reset/vg_arena_fini, so nothing
 * on the per-event path calls malloc once the arena has warmed up (its chunks are kept
 * across resets). vg_buf is the output side: encoders append to it, it grows by doubling.
 *
 * Thread: an arena or buf is used by one thread at a time; no locks.
 */
#ifndef VG_ARENA_H
#define VG_ARENA_H

#include "vg_common.h"

struct vg_arena_chunk;

struct vg_arena {
    struct vg_arena_chunk *head;   /* chunk being carved */
    struct vg_arena_chunk *spare;  /* chunks kept from before the last reset */
    size_t chunk_bytes;            /* default chunk size */
};

/* Initialise an empty arena whose chunks are at least chunk_bytes (0: 64 KiB). */
void vg_arena_init(struct vg_arena *a, size_t chunk_bytes);
/* Free every chunk. NULL-safe. */
void vg_arena_fini(struct vg_arena *a);
/* Forget every allocation but keep the chunks for reuse. */
void vg_arena_reset(struct vg_arena *a);
/* n bytes aligned to 8, valid until the next reset/fini. Never NULL. */
void *vg_arena_alloc(struct vg_arena *a, size_t n);
/* A NUL-terminated copy of s[0..n) in the arena. */
char *vg_arena_strndup(struct vg_arena *a, const char *s, size_t n);

/* A growable byte buffer; data is not NUL-terminated unless vg_buf_cstr is called. */
struct vg_buf {
    char *data;
    size_t len;
    size_t cap;
};

/* A few strings kept once each (e.g. the topic names that state outlives batches with):
 * vg_intern returns the kept copy of s[0..n), made on first use. Linear: for a handful. */
struct vg_intern {
    char **s;
    size_t n;
};
const char *vg_intern(struct vg_intern *in, const char *s, size_t n);
void vg_intern_fini(struct vg_intern *in);

void vg_buf_init(struct vg_buf *b);
void vg_buf_fini(struct vg_buf *b);
static inline void vg_buf_clear(struct vg_buf *b) { b->len = 0; }
/* Make room for n more bytes; returns the write position. */
char *vg_buf_reserve(struct vg_buf *b, size_t n);
void vg_buf_append(struct vg_buf *b, const void *p, size_t n);
void vg_buf_puts(struct vg_buf *b, const char *s);
void vg_buf_putc(struct vg_buf *b, char c);
void vg_buf_printf(struct vg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v in decimal, as "%" PRId64 prints it (without printf: alerts and JSON output). */
void vg_buf_put_i64(struct vg_buf *b, int64_t v);
/* Append s as a JSON string literal (quotes included), escaping as RFC 8259 requires. */
void vg_buf_json_str(struct vg_buf *b, const char *s, size_t n);
/* NUL-terminate (not counted in len) and return data. */
const char *vg_buf_cstr(struct vg_buf *b);

#endif
