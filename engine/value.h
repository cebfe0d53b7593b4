/* SPDX-License-Identifier: Apache-2.0 */
/*
 * value.h - the decoded value of one event field, and the dense slot array of an event.
 *
 * A topology resolves every field path it uses to a slot number at load time; a decoded
 * event is an array of struct vg_value indexed by slot. A missing field and a JSON null are
 * both VG_T_NULL. Strings are not NUL-terminated and point into the Kafka payload, the
 * batch arena or a compiled constant; all of these outlive the event's processing.
 *
 * Thread: values are plain data; whoever owns the batch owns them.
 */
#ifndef VG_VALUE_H
#define VG_VALUE_H

#include "vg_common.h"

enum vg_type {
    VG_T_NULL = 0, /* missing or null */
    VG_T_BOOL,
    VG_T_INT,
    VG_T_FLOAT,
    VG_T_STR,
    VG_T_LIST,     /* array of scalars: u.list[0..len) */
};

struct vg_value {
    uint8_t type;   /* enum vg_type */
    uint32_t len;   /* VG_T_STR: bytes; VG_T_LIST: items */
    union {
        bool b;
        int64_t i;
        double f;
        const char *s;
        const struct vg_value *list;
    } u;
};

#define VG_NULL_VALUE ((struct vg_value){.type = VG_T_NULL})

static inline struct vg_value vg_value_str(const char *s, size_t n)
{
    struct vg_value v = {.type = VG_T_STR, .len = (uint32_t)n};
    v.u.s = s;
    return v;
}

static inline struct vg_value vg_value_int(int64_t i)
{
    struct vg_value v = {.type = VG_T_INT};
    v.u.i = i;
    return v;
}

static inline struct vg_value vg_value_float(double f)
{
    struct vg_value v = {.type = VG_T_FLOAT};
    v.u.f = f;
    return v;
}

static inline struct vg_value vg_value_bool(bool b)
{
    struct vg_value v = {.type = VG_T_BOOL};
    v.u.b = b;
    return v;
}

#endif
