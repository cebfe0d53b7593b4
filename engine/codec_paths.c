/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec_paths.c - struct vg_paths: the field paths a topology reads from one source,
 * compiled into a trie the decoders walk (see codec_paths.h for the layout).
 *
 * The compiler (compile.c) adds one path per field an expression uses, on the main thread at
 * load time; decoders (json_simd.cpp, codec_avro.c) then read the trie per event on the
 * stream threads, read-only.
 *
 * DESIGN: adding a path re-parses every path added so far and rebuilds the flat node array
 * from scratch. That is quadratic in the number of paths, which is a few dozen at most and
 * only at load; in exchange the per-event layout is one contiguous array where the children
 * of a node are adjacent and sorted, so a decoder does a binary search per object field and
 * nothing else.
 *
 * Grammar: path := key ( '.' key | '[' digits ']' )*; a key is one or more bytes other than
 * '.', '[', ']', space and control characters; an index is 0..999999999.
 *
 * Thread: main (build), any (read).
 */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_paths.h"

struct vg_paths *vg_paths_new(void)
{
    struct vg_paths *p = vg_xcalloc(1, sizeof(*p));
    p->nodes = vg_xcalloc(1, sizeof(*p->nodes));
    p->nodes[0] = (struct vg_paths_node){.index = -1, .slot = -1};
    p->n_nodes = 1;
    return p;
}

static void free_nodes(struct vg_paths *p)
{
    for (uint32_t i = 0; i < p->n_nodes; i++)
        vg_free((char *)p->nodes[i].name);
    vg_free(p->nodes);
    vg_free(p->slots);
    p->nodes = NULL;
    p->slots = NULL;
    p->n_nodes = 0;
    p->n_slots = 0;
}

void vg_paths_free(struct vg_paths *p)
{
    if (!p)
        return;
    free_nodes(p);
    for (size_t i = 0; i < p->n_entries; i++)
        vg_free(p->entries[i].path);
    vg_free(p->entries);
    vg_free(p);
}

size_t vg_paths_count(const struct vg_paths *p)
{
    return p->n_slots;
}

static bool is_key_byte(unsigned char c)
{
    return c > 0x20 && c != 0x7f && c != '.' && c != '[' && c != ']';
}

int vg_paths_split(const char *path, struct vg_paths_seg *segs, struct vg_err *err)
{
    size_t len = strlen(path);
    if (len == 0)
        return VG_ERR_SET(err, VG_EINVAL, "empty field path");
    if (len > VG_PATHS_MAX_LEN)
        return VG_ERR_SET(err, VG_EINVAL, "field path of %zu bytes: at most %d allowed", len,
                          VG_PATHS_MAX_LEN);
    int n = 0;
    size_t i = 0;
    bool want_key = true; /* at the start and after '.' */
    while (i < len || want_key) {
        if (n == VG_PATHS_MAX_SEGS)
            return VG_ERR_SET(err, VG_EINVAL, "path '%s': more than %d segments", path,
                              VG_PATHS_MAX_SEGS);
        if (want_key) {
            size_t start = i;
            while (i < len && is_key_byte((unsigned char)path[i]))
                i++;
            if (i == start)
                return VG_ERR_SET(err, VG_EINVAL,
                                  "path '%s': expected a field name at column %zu", path,
                                  start + 1);
            segs[n++] = (struct vg_paths_seg){.name = path + start, .len = i - start,
                                              .index = -1};
            want_key = false;
        } else if (path[i] == '.') {
            i++;
            want_key = true;
        } else if (path[i] == '[') {
            size_t start = ++i;
            int64_t idx = 0;
            while (i < len && path[i] >= '0' && path[i] <= '9' && i - start < 9)
                idx = idx * 10 + (path[i++] - '0');
            if (i == start || i >= len || path[i] != ']')
                return VG_ERR_SET(err, VG_EINVAL,
                                  "path '%s': expected an index like [0] at column %zu", path,
                                  start);
            i++;
            segs[n++] = (struct vg_paths_seg){.name = NULL, .len = 0, .index = (int32_t)idx};
        } else {
            return VG_ERR_SET(err, VG_EINVAL,
                              "path '%s': unexpected '%c' at column %zu, expected '.' or '['",
                              path, path[i], i + 1);
        }
    }
    return n;
}

/* ---- building the trie ---- */

/* A node of the temporary pointer tree the flat array is made from. */
struct tnode {
    struct vg_paths_seg seg;
    int slot;
    struct tnode **kids;
    size_t n_kids;
};

static void tnode_free(struct tnode *t)
{
    for (size_t i = 0; i < t->n_kids; i++)
        tnode_free(t->kids[i]);
    vg_free(t->kids);
    vg_free(t);
}

static bool seg_eq(const struct vg_paths_seg *a, const struct vg_paths_seg *b)
{
    if (!a->name || !b->name)
        return !a->name && !b->name && a->index == b->index;
    return a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
}

static struct tnode *tnode_child(struct tnode *t, const struct vg_paths_seg *seg)
{
    for (size_t i = 0; i < t->n_kids; i++)
        if (seg_eq(&t->kids[i]->seg, seg))
            return t->kids[i];
    struct tnode *c = vg_xcalloc(1, sizeof(*c));
    c->seg = *seg;
    c->slot = -1;
    t->kids = vg_xrealloc(t->kids, (t->n_kids + 1) * sizeof(*t->kids));
    t->kids[t->n_kids++] = c;
    return c;
}

/* Order of the children in the flat array: keys by (length, bytes), then indexes. */
static int kid_cmp(const void *a, const void *b)
{
    const struct vg_paths_seg *x = &(*(struct tnode *const *)a)->seg;
    const struct vg_paths_seg *y = &(*(struct tnode *const *)b)->seg;
    if (!x->name || !y->name) {
        if (x->name)
            return -1;
        if (y->name)
            return 1;
        return x->index < y->index ? -1 : x->index > y->index;
    }
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->name, y->name, x->len);
}

static uint32_t tnode_count(const struct tnode *t)
{
    uint32_t n = 1;
    for (size_t i = 0; i < t->n_kids; i++)
        n += tnode_count(t->kids[i]);
    return n;
}

/* Breadth-first flattening: the children of each node land next to each other. */
static void flatten(struct vg_paths *p, struct tnode *root)
{
    uint32_t total = tnode_count(root);
    struct tnode **queue = vg_xmalloc(total * sizeof(*queue));
    p->nodes = vg_xcalloc(total, sizeof(*p->nodes));
    p->slots = vg_xmalloc(total * sizeof(*p->slots));
    p->n_slots = 0;
    queue[0] = root;
    uint32_t head = 0, tail = 1;
    while (head < tail) {
        struct tnode *t = queue[head];
        struct vg_paths_node *n = &p->nodes[head];
        head++;
        n->index = t->seg.index;
        n->slot = t->slot;
        if (t->seg.name) {
            n->name = vg_xstrndup(t->seg.name, t->seg.len);
            n->name_len = (uint32_t)t->seg.len;
            n->pre = vg_prefix8(n->name, n->name_len);
        }
        if (t->slot >= 0)
            p->slots[p->n_slots++] = t->slot;
        if (t->n_kids > 1)
            qsort(t->kids, t->n_kids, sizeof(*t->kids), kid_cmp);
        n->first_key = n->first_index = tail;
        for (size_t i = 0; i < t->n_kids; i++) {
            if (t->kids[i]->seg.name)
                n->n_keys++;
            else
                n->n_index++;
            queue[tail++] = t->kids[i];
        }
        n->first_index = n->first_key + n->n_keys;
    }
    p->n_nodes = total;
    vg_free(queue);
}

/* Every trie ever built gets its own version, so a decoder's memo of one can never be taken
 * for another's (even at the same address). */
static uint64_t versions;

static void rebuild(struct vg_paths *p)
{
    struct tnode *root = vg_xcalloc(1, sizeof(*root));
    root->seg.index = -1;
    root->slot = -1;
    for (size_t i = 0; i < p->n_entries; i++) {
        struct vg_paths_seg segs[VG_PATHS_MAX_SEGS];
        int n = vg_paths_split(p->entries[i].path, segs, NULL);
        struct tnode *t = root;
        for (int k = 0; k < n; k++)
            t = tnode_child(t, &segs[k]);
        if (n > 0 && t->slot < 0)
            t->slot = p->entries[i].slot; /* the same path twice keeps the first slot */
    }
    free_nodes(p);
    flatten(p, root);
    tnode_free(root);
    p->version = __atomic_add_fetch(&versions, 1, __ATOMIC_RELAXED);
}

int vg_paths_add(struct vg_paths *p, const char *path, int slot, struct vg_err *err)
{
    struct vg_paths_seg segs[VG_PATHS_MAX_SEGS];
    int n = vg_paths_split(path, segs, err);
    if (n < 0)
        return n;
    if (slot < 0)
        return VG_ERR_SET(err, VG_EINVAL, "path '%s': negative slot %d", path, slot);
    p->entries = vg_xrealloc(p->entries, (p->n_entries + 1) * sizeof(*p->entries));
    p->entries[p->n_entries++] = (struct vg_paths_entry){.path = vg_xstrdup(path), .slot = slot};
    rebuild(p);
    return 0;
}
