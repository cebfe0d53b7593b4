/* SPDX-License-Identifier: Apache-2.0 */
/*
 * value.c - equality of field values with the expression language's rules, and their binary
 * form (binio.h).
 *
 * Thread: any.
 */
#include "binio.h"
#include "expr.h"

#include <string.h>

bool vg_value_equal(const struct vg_value *a, const struct vg_value *b)
{
    if (a->type == VG_T_NULL || b->type == VG_T_NULL)
        return a->type == b->type;
    if ((a->type == VG_T_INT || a->type == VG_T_FLOAT) &&
        (b->type == VG_T_INT || b->type == VG_T_FLOAT)) {
        if (a->type == VG_T_INT && b->type == VG_T_INT)
            return a->u.i == b->u.i;
        double x = a->type == VG_T_INT ? (double)a->u.i : a->u.f;
        double y = b->type == VG_T_INT ? (double)b->u.i : b->u.f;
        return x == y;
    }
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case VG_T_BOOL:
        return a->u.b == b->u.b;
    case VG_T_STR:
        return a->len == b->len && (a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0);
    case VG_T_LIST:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!vg_value_equal(&a->u.list[i], &b->u.list[i]))
                return false;
        return true;
    default:
        return false;
    }
}

/* ---- binary form (binio.h) ---- */

void vg_put_u64(struct vg_buf *out, uint64_t v)
{
    char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (char)(v >> (8 * i));
    vg_buf_append(out, b, 8);
}

void vg_put_u32(struct vg_buf *out, uint32_t v)
{
    char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (char)(v >> (8 * i));
    vg_buf_append(out, b, 4);
}

static int get_n(const char **p, const char *end, int n, uint64_t *v)
{
    if (end - *p < n)
        return -1;
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x |= (uint64_t)(unsigned char)(*p)[i] << (8 * i);
    *p += n;
    *v = x;
    return 0;
}

int vg_get_u64(const char **p, const char *end, uint64_t *v)
{
    return get_n(p, end, 8, v);
}

int vg_get_i64(const char **p, const char *end, int64_t *v)
{
    uint64_t x = 0;
    int rc = get_n(p, end, 8, &x);
    *v = (int64_t)x;
    return rc;
}

void vg_put_varint(struct vg_buf *out, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); /* zigzag: small magnitudes, few bytes */
    char b[10];
    int n = 0;
    do {
        b[n++] = (char)((z & 0x7f) | (z > 0x7f ? 0x80 : 0));
        z >>= 7;
    } while (z);
    vg_buf_append(out, b, (size_t)n);
}

int vg_get_varint(const char **p, const char *end, int64_t *v)
{
    uint64_t z = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return -1;
        unsigned char c = (unsigned char)*(*p)++;
        z |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
            return 0;
        }
    }
    return -1;
}

int vg_get_u32(const char **p, const char *end, uint32_t *v)
{
    uint64_t x = 0;
    int rc = get_n(p, end, 4, &x);
    *v = (uint32_t)x;
    return rc;
}

void vg_value_save(const struct vg_value *v, struct vg_buf *out)
{
    uint8_t t = v->type == VG_T_LIST ? VG_T_NULL : v->type;
    vg_buf_putc(out, (char)t);
    switch (t) {
    case VG_T_BOOL: vg_buf_putc(out, v->u.b ? 1 : 0); break;
    case VG_T_INT: vg_put_u64(out, (uint64_t)v->u.i); break;
    case VG_T_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &v->u.f, 8);
        vg_put_u64(out, bits);
        break;
    }
    case VG_T_STR:
        vg_put_u32(out, v->len);
        vg_buf_append(out, v->u.s, v->len);
        break;
    default: break;
    }
}

int vg_value_load(struct vg_value *v, const char **p, const char *end, struct vg_arena *arena)
{
    *v = VG_NULL_VALUE;
    if (*p >= end)
        return -1;
    uint8_t t = (uint8_t)*(*p)++;
    uint64_t x;
    uint32_t n;
    switch (t) {
    case VG_T_NULL: return 0;
    case VG_T_BOOL:
        if (*p >= end)
            return -1;
        *v = vg_value_bool(*(*p)++ != 0);
        return 0;
    case VG_T_INT:
        if (vg_get_u64(p, end, &x))
            return -1;
        *v = vg_value_int((int64_t)x);
        return 0;
    case VG_T_FLOAT: {
        if (vg_get_u64(p, end, &x))
            return -1;
        double f;
        memcpy(&f, &x, 8);
        *v = vg_value_float(f);
        return 0;
    }
    case VG_T_STR:
        if (vg_get_u32(p, end, &n) || (uint64_t)(end - *p) < n)
            return -1;
        *v = vg_value_str(arena ? vg_arena_strndup(arena, *p, n) : vg_xstrndup(*p, n), n);
        *p += n;
        return 0;
    default:
        return -1;
    }
}
