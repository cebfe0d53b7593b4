/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec_json.c - JSON in and out for events: vg_json_decode (path-driven, over the
 * simdjson shim in json_simd.cpp) and vg_json_write_value.
 *
 * The source operator calls vg_json_decode once per Kafka payload on its stream thread, with
 * the source's compiled paths; the values land in the event's slots (strings pointing into
 * the payload or the batch arena). Sinks and the rules operator call vg_json_write_value to
 * render slot values into alert fields.
 *
 * DESIGN: the C side only nulls the slots and delegates; the walk itself is C++ because
 * simdjson's On-Demand values are C++ iterators (see json_simd.cpp for the decode rules:
 * zero-copy strings, first of duplicate keys wins, raw text for containers, lazy validation
 * of values no path reads).
 *
 * Thread: a vg_json_parser belongs to one stream thread; vg_json_write_value is any.
 */
#include "codec.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_simd.h"

struct vg_json_parser {
    struct vg_json_simd *js;
};

struct vg_json_parser *vg_json_parser_new(void)
{
    struct vg_json_parser *jp = vg_xcalloc(1, sizeof(*jp));
    jp->js = vg_json_simd_new();
    return jp;
}

void vg_json_parser_free(struct vg_json_parser *jp)
{
    if (!jp)
        return;
    vg_json_simd_free(jp->js);
    vg_free(jp);
}

int vg_json_decode(struct vg_json_parser *jp, const struct vg_paths *p, const char *buf,
                   size_t len, struct vg_arena *arena, struct vg_value *slots,
                   struct vg_err *err)
{
    for (size_t i = 0; i < p->n_slots; i++)
        slots[p->slots[i]] = VG_NULL_VALUE;
    if (!buf)
        buf = "";
    return vg_json_simd_decode(jp->js, p, buf, len, arena, slots, err);
}

/* Shortest of %.15g..%.17g that reads back as the same double; ".0" added when the text
 * would otherwise read back as an integer, so a float stays a float through JSON. */
static void write_double(struct vg_buf *out, double f)
{
    char tmp[40];
    if (!isfinite(f)) {
        vg_buf_puts(out, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    vg_buf_puts(out, tmp);
    if (!strpbrk(tmp, ".eEn"))
        vg_buf_puts(out, ".0");
}

void vg_value_text(struct vg_buf *out, const struct vg_value *v)
{
    if (v->type == VG_T_STR)
        vg_buf_append(out, v->u.s, v->len);
    else
        vg_json_write_value(out, v);
}

void vg_json_write_value(struct vg_buf *out, const struct vg_value *v)
{
    switch (v->type) {
    case VG_T_BOOL:
        vg_buf_puts(out, v->u.b ? "true" : "false");
        break;
    case VG_T_INT:
        vg_buf_put_i64(out, v->u.i);
        break;
    case VG_T_FLOAT:
        write_double(out, v->u.f);
        break;
    case VG_T_STR:
        vg_buf_json_str(out, v->u.s ? v->u.s : "", v->u.s ? v->len : 0);
        break;
    case VG_T_LIST:
        vg_buf_putc(out, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                vg_buf_putc(out, ',');
            vg_json_write_value(out, &v->u.list[i]);
        }
        vg_buf_putc(out, ']');
        break;
    default:
        vg_buf_puts(out, "null");
        break;
    }
}
