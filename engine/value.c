/* SPDX-License-Identifier: Apache-2.0 */
/*
 * value.c - equality of field values with the expression language's rules.
 *
 * Thread: any.
 */
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
