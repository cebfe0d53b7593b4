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

/* ---- top-level strings without a decode ---- */

static const char *json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Just past the closing quote of the string opening at p, or NULL; *escaped: a backslash. */
static const char *json_str_end(const char *p, const char *end, bool *escaped)
{
    *escaped = false;
    for (p++; p < end; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\') {
            *escaped = true;
            p++;
        }
    }
    return NULL;
}

/* The ',' or closing bracket that ends the value starting at p, or NULL. */
static const char *json_skip_value(const char *p, const char *end)
{
    int depth = 0;
    bool escaped;
    for (; p < end; p++) {
        if (*p == '"') {
            if (!(p = json_str_end(p, end, &escaped)))
                return NULL;
            p--;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth-- == 0)
                return p;
        } else if (*p == ',' && depth == 0) {
            return p;
        }
    }
    return NULL;
}

int vg_json_top_strings(const char *buf, size_t len, const char *const *names,
                        const size_t *name_lens, size_t n, struct vg_value *vals)
{
    const char *p = buf, *end = buf + len;
    uint8_t found = 0, all = (uint8_t)((1u << n) - 1);
    bool escaped;
    if (!buf || n > 8 || (p = json_ws(p, end)) == end || *p != '{')
        return -1;
    p = json_ws(p + 1, end);
    if (p < end && *p == '}')
        p = NULL; /* {} */
    while (p) {
        if (p == end || *p != '"')
            return -1;
        const char *key = p + 1;
        if (!(p = json_str_end(p, end, &escaped)) || escaped) /* "us\u0065r" is "user" */
            return -1;
        size_t key_len = (size_t)(p - 1 - key);
        p = json_ws(p, end);
        if (p == end || *p != ':')
            return -1;
        p = json_ws(p + 1, end);
        uint8_t match = 0;
        for (size_t i = 0; i < n; i++)
            if (!(found >> i & 1) && name_lens[i] == key_len && !memcmp(names[i], key, key_len))
                match |= (uint8_t)(1u << i);
        if (match) { /* the first of a key seen twice counts, as in vg_json_decode */
            const char *v = p + 1;
            if (p == end || *p != '"' || !(p = json_str_end(p, end, &escaped)) || escaped)
                return -1;
            for (size_t i = 0; i < n; i++)
                if (match >> i & 1)
                    vals[i] = vg_value_str(v, (size_t)(p - 1 - v));
            if ((found |= match) == all)
                return 0;
        } else if (!(p = json_skip_value(p, end))) {
            return -1;
        }
        p = json_ws(p, end);
        if (p < end && *p == ',')
            p = json_ws(p + 1, end);
        else if (p < end && *p == '}')
            p = NULL;
        else
            return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!(found >> i & 1))
            vals[i] = VG_NULL_VALUE;
    return 0;
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
