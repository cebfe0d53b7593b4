/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_simd.h - private to the codec files: the extern "C" shim over simdjson On-Demand
 * (json_simd.cpp), the only C++ in vigil.
 *
 * codec_json.c calls vg_json_simd_decode per event on a stream thread (the path-driven
 * decode behind vg_json_decode); codec_avro.c calls vg_json_simd_tree to read whole JSON
 * documents when it encodes them as Avro (generators and tests, not the event path).
 * No C++ exception crosses this interface: simdjson is used through its error codes and
 * each entry point catches anything else.
 *
 * Thread: a struct vg_json_simd is used by one thread at a time.
 */
#ifndef VG_JSON_SIMD_H
#define VG_JSON_SIMD_H

#ifdef __cplusplus
extern "C" {
#endif

#include "arena.h"
#include "codec_paths.h"
#include "value.h"

struct vg_json_simd;

/* A parser with its padded input buffer; both grow as needed and are kept. Never NULL. */
struct vg_json_simd *vg_json_simd_new(void);
void vg_json_simd_free(struct vg_json_simd *js);

/* The walk behind vg_json_decode (codec.h): buf[0..len) must be one JSON object; fills the
 * slots of p that are present (the caller nulls them all first). Strings without escapes
 * point into buf, others are unescaped into arena. Returns 0, or VG_EINVAL with err->msg
 * "invalid JSON: <CODE>: <what>" or "not a JSON object". */
int vg_json_simd_decode(struct vg_json_simd *js, const struct vg_paths *p, const char *buf,
                        size_t len, struct vg_arena *arena, struct vg_value *slots,
                        struct vg_err *err);

enum vg_json_kind {
    VG_JSON_NULL = 0,
    VG_JSON_BOOL,
    VG_JSON_INT,   /* integer token that fits int64 */
    VG_JSON_FLOAT, /* any other number */
    VG_JSON_STR,
    VG_JSON_ARRAY,
    VG_JSON_OBJECT,
};

/* One value of a whole parsed document; everything lives in the arena given. */
struct vg_json_node {
    uint8_t kind;            /* enum vg_json_kind */
    bool b;
    int64_t i;
    double f;
    const char *s;           /* VG_JSON_STR: unescaped, NUL-terminated */
    size_t len;
    const char *key;         /* member of an object: its name, unescaped, NUL-terminated */
    size_t key_len;
    struct vg_json_node *items; /* VG_JSON_ARRAY / VG_JSON_OBJECT: n items (members) */
    size_t n;
};

/* Parse a whole document (any JSON value, fully validated) into a tree in arena. Returns 0,
 * or VG_EINVAL with err->msg as for vg_json_simd_decode. */
int vg_json_simd_tree(struct vg_json_simd *js, const char *buf, size_t len,
                      struct vg_arena *arena, struct vg_json_node *root, struct vg_err *err);

#ifdef __cplusplus
}
#endif

#endif
