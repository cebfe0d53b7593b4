/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch.c - batches of events and index selections over them (see vg_op.h).
 *
 * DESIGN: a batch is reused by its stream thread for every poll: reset keeps the event
 * array and the arena's chunks, so steady-state processing allocates nothing. Slot arrays
 * live in the arena and are zeroed (null) when an event is added.
 *
 * Thread: the owning stream thread.
 */
#include "vg_op.h"

#include <string.h>

void vg_batch_init(struct vg_batch *b, size_t n_slots)
{
    memset(b, 0, sizeof(*b));
    vg_arena_init(&b->arena, 256 * 1024);
    b->n_slots = n_slots;
}

void vg_batch_fini(struct vg_batch *b)
{
    if (!b)
        return;
    vg_arena_fini(&b->arena);
    vg_free(b->ev);
    b->ev = NULL;
    b->n = b->cap = 0;
}

void vg_batch_reset(struct vg_batch *b)
{
    vg_arena_reset(&b->arena);
    b->n = 0;
}

uint32_t vg_batch_add(struct vg_batch *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->ev = vg_xrealloc(b->ev, b->cap * sizeof(*b->ev));
    }
    struct vg_event *ev = &b->ev[b->n];
    memset(ev, 0, sizeof(*ev));
    if (b->n_slots) {
        ev->slots = vg_arena_alloc(&b->arena, b->n_slots * sizeof(struct vg_value));
        memset(ev->slots, 0, b->n_slots * sizeof(struct vg_value));
    }
    return (uint32_t)b->n++;
}

void vg_sel_reserve(struct vg_batch *b, struct vg_sel *s, size_t n)
{
    if (s->cap - s->n >= n)
        return;
    size_t cap = s->cap ? s->cap * 2 : 256;
    while (cap - s->n < n)
        cap *= 2;
    uint32_t *idx = vg_arena_alloc(&b->arena, cap * sizeof(*idx));
    if (s->n)
        memcpy(idx, s->idx, s->n * sizeof(*idx));
    s->idx = idx;
    s->cap = cap;
}

void vg_sel_push(struct vg_batch *b, struct vg_sel *s, uint32_t idx)
{
    if (s->n == s->cap)
        vg_sel_reserve(b, s, 1);
    s->idx[s->n++] = idx;
}

bool vg_event_fields(const struct vg_event *ev, struct vg_buf *out)
{
    if (ev->fields_fn) {
        ev->fields_fn(ev, out);
        return true;
    }
    if (ev->fields_json) {
        vg_buf_append(out, ev->fields_json,
                      ev->fields_len ? ev->fields_len : strlen(ev->fields_json));
        return true;
    }
    return false;
}
