/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec_paths.h - private to the codec files: the compiled trie behind struct vg_paths.
 *
 * codec_paths.c builds it at load time from the path strings the topology adds; the JSON
 * walker (json_simd.cpp) and the Avro decoder (codec_avro.c) read it per event. Each node is
 * one path segment (a key or an [index]); its key children are contiguous in nodes[] and
 * sorted by (length, bytes) so a decoder can look up every field name of an object with a
 * binary search, and its index children are contiguous and sorted by index. A decoder walks
 * each object of an event once and descends only where the trie has a child.
 *
 * This header is plain C that C++ can include (json_simd.cpp); it is not part of the public
 * codec API in codec.h.
 *
 * Thread: built on the main thread at load, then read-only and shared.
 */
#ifndef VG_CODEC_PATHS_H
#define VG_CODEC_PATHS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "vg_common.h"

/* The most segments one path may have, and the longest path string accepted. */
#define VG_PATHS_MAX_SEGS 32
#define VG_PATHS_MAX_LEN 1024

struct vg_paths_node {
    const char *name;     /* key segment, NUL-terminated; NULL for an index segment */
    uint64_t pre;         /* key segment: vg_prefix8 of name */
    uint32_t name_len;
    int32_t index;        /* index segment: >= 0; key segment: -1 */
    int32_t slot;         /* slot of the path that ends here, or -1 */
    uint32_t first_key;   /* key children: nodes[first_key .. first_key + n_keys) */
    uint32_t n_keys;
    uint32_t first_index; /* index children: nodes[first_index .. first_index + n_index) */
    uint32_t n_index;
};

struct vg_paths_entry {
    char *path;
    int slot;
};

struct vg_paths {
    struct vg_paths_node *nodes; /* nodes[0] is the root: the event object */
    uint32_t n_nodes;
    int32_t *slots;              /* the slot of every path, for nulling before a decode */
    size_t n_slots;
    struct vg_paths_entry *entries; /* the paths as added, in order (the trie is rebuilt) */
    size_t n_entries;
    uint64_t version;               /* unique to each build of nodes (decoders' memos) */
};

/* One parsed segment of a path string. name points into the path (not NUL-terminated). */
struct vg_paths_seg {
    const char *name; /* NULL for an index segment */
    size_t len;
    int32_t index;    /* -1 for a key segment */
};

/* Split path into at most VG_PATHS_MAX_SEGS segments. Returns the number of segments, or
 * VG_EINVAL with err naming the path and the problem. The first segment is always a key.
 * Thread: any. */
int vg_paths_split(const char *path, struct vg_paths_seg *segs, struct vg_err *err);

/* The key child of n named key[0..len), or NULL: a binary search over the children, in
 * (length, bytes) order, comparing prefixes before bytes. Thread: any. */
static inline const struct vg_paths_node *vg_paths_child_key(const struct vg_paths *p,
                                                             const struct vg_paths_node *n,
                                                             const char *key, size_t len)
{
    size_t lo = n->first_key, hi = (size_t)n->first_key + n->n_keys;
    uint64_t pre = vg_prefix8(key, len);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct vg_paths_node *c = &p->nodes[mid];
        int cmp = c->name_len != len ? (c->name_len < len ? -1 : 1)
                  : c->pre != pre    ? (c->pre < pre ? -1 : 1)
                  : len <= 8         ? 0
                                     : memcmp(c->name + 8, key + 8, len - 8);
        if (cmp == 0)
            return c;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The index child of n for array position i, or NULL. Thread: any. */
static inline const struct vg_paths_node *vg_paths_child_index(const struct vg_paths *p,
                                                               const struct vg_paths_node *n,
                                                               size_t i)
{
    for (uint32_t k = 0; k < n->n_index; k++) {
        const struct vg_paths_node *c = &p->nodes[n->first_index + k];
        if ((size_t)c->index == i)
            return c;
        if ((size_t)c->index > i)
            break;
    }
    return NULL;
}

#ifdef __cplusplus
}
#endif

#endif
