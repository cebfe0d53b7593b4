/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena.c - the bump allocator and byte buffer of arena.h.
 *
 * DESIGN: chunks form a singly linked list; reset moves them all to the spare list so a
 * stream thread that processes batches of similar size stops allocating after the first
 * few batches. Allocations larger than the chunk size get a chunk of their own.
 *
 * Thread: the owner's.
 */
#include "arena.h"

#include <stdio.h>
#include <string.h>

struct vg_arena_chunk {
    struct vg_arena_chunk *next;
    size_t cap;
    size_t used;
    _Alignas(16) char data[];
};

void vg_arena_init(struct vg_arena *a, size_t chunk_bytes)
{
    a->head = NULL;
    a->spare = NULL;
    a->chunk_bytes = chunk_bytes ? chunk_bytes : 64 * 1024;
}

static void free_list(struct vg_arena_chunk *c)
{
    while (c) {
        struct vg_arena_chunk *next = c->next;
        vg_free(c);
        c = next;
    }
}

void vg_arena_fini(struct vg_arena *a)
{
    if (!a)
        return;
    free_list(a->head);
    free_list(a->spare);
    a->head = a->spare = NULL;
}

void vg_arena_reset(struct vg_arena *a)
{
    struct vg_arena_chunk *c = a->head;
    while (c) {
        struct vg_arena_chunk *next = c->next;
        if (c->cap == a->chunk_bytes) {
            c->used = 0;
            c->next = a->spare;
            a->spare = c;
        } else {
            vg_free(c); /* oversize chunk: do not keep */
        }
        c = next;
    }
    a->head = NULL;
}

void *vg_arena_alloc(struct vg_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    struct vg_arena_chunk *c = a->head;
    if (c && c->cap - c->used >= n) {
        void *p = c->data + c->used;
        c->used += n;
        return p;
    }
    if (n <= a->chunk_bytes && a->spare) {
        c = a->spare;
        a->spare = c->next;
    } else {
        size_t cap = n > a->chunk_bytes ? n : a->chunk_bytes;
        c = vg_xmalloc(sizeof(*c) + cap);
        c->cap = cap;
    }
    c->used = n;
    c->next = a->head;
    a->head = c;
    return c->data;
}

char *vg_arena_strndup(struct vg_arena *a, const char *s, size_t n)
{
    char *d = vg_arena_alloc(a, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void vg_buf_init(struct vg_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void vg_buf_fini(struct vg_buf *b)
{
    if (!b)
        return;
    vg_free(b->data);
    vg_buf_init(b);
}

char *vg_buf_reserve(struct vg_buf *b, size_t n)
{
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n + 1)
            cap *= 2;
        b->data = vg_xrealloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

void vg_buf_append(struct vg_buf *b, const void *p, size_t n)
{
    memcpy(vg_buf_reserve(b, n), p, n);
    b->len += n;
}

void vg_buf_puts(struct vg_buf *b, const char *s)
{
    vg_buf_append(b, s, strlen(s));
}

void vg_buf_putc(struct vg_buf *b, char c)
{
    *vg_buf_reserve(b, 1) = c;
    b->len++;
}

void vg_buf_printf(struct vg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    char *w = vg_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(w, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void vg_buf_put_i64(struct vg_buf *b, int64_t v)
{
    char tmp[24], *e = tmp + sizeof(tmp), *w = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        *--w = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--w = '-';
    vg_buf_append(b, w, (size_t)(e - w));
}

void vg_buf_json_str(struct vg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *w = vg_buf_reserve(b, n * 6 + 2);
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = (char)c;
        } else if (c >= 0x20) {
            *w++ = (char)c;
        } else if (c == '\n') {
            *w++ = '\\';
            *w++ = 'n';
        } else if (c == '\t') {
            *w++ = '\\';
            *w++ = 't';
        } else if (c == '\r') {
            *w++ = '\\';
            *w++ = 'r';
        } else {
            memcpy(w, "\\u00", 4);
            w[4] = hex[c >> 4];
            w[5] = hex[c & 15];
            w += 6;
        }
    }
    *w++ = '"';
    b->len = (size_t)(w - b->data);
}

const char *vg_buf_cstr(struct vg_buf *b)
{
    *vg_buf_reserve(b, 0) = '\0';
    return b->data;
}

const char *vg_intern(struct vg_intern *in, const char *s, size_t n)
{
    for (size_t i = 0; i < in->n; i++)
        if (strlen(in->s[i]) == n && !memcmp(in->s[i], s, n))
            return in->s[i];
    in->s = vg_xrealloc(in->s, (in->n + 1) * sizeof(*in->s));
    return in->s[in->n++] = vg_xstrndup(s, n);
}

void vg_intern_fini(struct vg_intern *in)
{
    for (size_t i = 0; i < in->n; i++)
        vg_free(in->s[i]);
    vg_free(in->s);
    in->s = NULL;
    in->n = 0;
}
