/* SPDX-License-Identifier: Apache-2.0 */
/*
 * htab.h - a chained hash table of intrusive links, for operators' keyed state (windows'
 * keys, joins' keys and cached rows). An entry embeds struct vg_hlink as its first member
 * and carries its own key; the caller walks the chain of vg_htab_head(t, hash) comparing
 * keys. The table doubles when it is half full.
 *
 * Thread: one owner.
 */
#ifndef VG_HTAB_H
#define VG_HTAB_H

#include "vg_common.h"

#include <string.h>

struct vg_hlink {
    struct vg_hlink *next;
    uint64_t hash;
};

struct vg_htab {
    struct vg_hlink **slots;
    size_t cap;     /* 0 or a power of two */
    size_t n;
};

/* The chain holding hash (NULL while the table is empty). */
static inline struct vg_hlink *vg_htab_head(const struct vg_htab *t, uint64_t hash)
{
    return t->cap ? t->slots[hash & (t->cap - 1)] : NULL;
}

/* Ask the CPU to bring hash's slot in ahead of a lookup (batches look up many keys). */
static inline void vg_htab_prefetch(const struct vg_htab *t, uint64_t hash)
{
    if (t->cap)
        vg_prefetch(&t->slots[hash & (t->cap - 1)]);
}

/* Add l (its hash set), growing first when full. */
static inline void vg_htab_insert(struct vg_htab *t, struct vg_hlink *l)
{
    if (t->n * 2 >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct vg_hlink **s = vg_xcalloc(cap, sizeof(*s));
        for (size_t i = 0; i < t->cap; i++)
            for (struct vg_hlink *e = t->slots[i], *next; e; e = next) {
                next = e->next;
                e->next = s[e->hash & (cap - 1)];
                s[e->hash & (cap - 1)] = e;
            }
        vg_free(t->slots);
        t->slots = s;
        t->cap = cap;
    }
    struct vg_hlink **head = &t->slots[l->hash & (t->cap - 1)];
    l->next = *head;
    *head = l;
    t->n++;
}

/* Take l (in the table) out. */
static inline void vg_htab_remove(struct vg_htab *t, struct vg_hlink *l)
{
    struct vg_hlink **pp = &t->slots[l->hash & (t->cap - 1)];
    while (*pp != l)
        pp = &(*pp)->next;
    *pp = l->next;
    t->n--;
}

/* Forget every entry (they are not touched), keeping the slots for reuse. */
static inline void vg_htab_reset(struct vg_htab *t)
{
    if (t->cap)
        memset(t->slots, 0, t->cap * sizeof(*t->slots));
    t->n = 0;
}

/* Call fn(l, ud) for every entry (fn may free it); then the table is empty. */
static inline void vg_htab_clear(struct vg_htab *t, void (*fn)(struct vg_hlink *l, void *ud),
                                 void *ud)
{
    for (size_t i = 0; i < t->cap; i++)
        for (struct vg_hlink *e = t->slots[i], *next; e; e = next) {
            next = e->next;
            fn(e, ud);
        }
    vg_free(t->slots);
    *t = (struct vg_htab){0};
}

#endif
