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

/* flat_decode's memo: the field names of the last document it read, in order, with their
 * trie children (or none). Events of one source mostly repeat their fields in one order, so
 * a name equal to the one at its place last time needs no search among the paths (the
 * search's branches were a third of a flat decode). Names of up to 16 bytes, held whole as
 * two prefixes. */
#define FLAT_MEMO 32
struct flat_name {
    uint64_t pre, pre2;             /* bytes 0-7 and 8-15, as vg_prefix8 */
    uint32_t len;                   /* UINT32_MAX: nothing here */
    const struct vg_paths_node *ch;
};

struct vg_json_parser {
    struct vg_json_simd *js;
    const struct vg_paths *memo_paths; /* the paths memo[] is of, at memo_version */
    uint64_t memo_version;
    struct flat_name memo[FLAT_MEMO];
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

/* ---- the flat fast path ----
 * Most events are one object of short ASCII strings and integers, a few dozen bytes each;
 * for them simdjson's fixed costs (a padded copy, stage 1 over whole blocks, the On-Demand
 * iterator) were most of a decode (D24). flat_decode takes exactly those documents in one
 * pass over the bytes, and leaves everything else to simdjson: it returns true only for a
 * valid document whose slots it filled as the simdjson walk would, and false, having changed
 * nothing that matters, on anything it does not take: a byte outside printable ASCII, any
 * backslash, a number with a fraction or exponent, -0 or more than 18 digits, an object or
 * array that a path reads or descends into, nesting deeper than 64 in a skipped value, and
 * every invalid document (so every error message stays simdjson's). A value that no path
 * reads is still checked against the JSON grammar. */

static const char *json_ws(const char *p, const char *end);

/* Just past the closing quote of the plain string opening at p (printable ASCII, no
 * backslash), or NULL. */
static const char *flat_str(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return NULL;
    }
    return NULL;
}

static bool flat_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Just past the JSON number at p, or NULL; *is_int: no fraction, no exponent. */
static const char *flat_num(const char *p, const char *end, bool *is_int)
{
    *is_int = true;
    if (p < end && *p == '-')
        p++;
    if (p == end || !flat_digit(*p))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < end && flat_digit(*p))
            p++;
    if (p < end && *p == '.') {
        *is_int = false;
        const char *d = ++p;
        while (p < end && flat_digit(*p))
            p++;
        if (p == d)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < end && flat_digit(*p))
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

/* Just past the literal word at p, or NULL. */
static const char *flat_word(const char *p, const char *end, const char *word, size_t n)
{
    return (size_t)(end - p) >= n && !memcmp(p, word, n) ? p + n : NULL;
}

/* Just past the scalar at p (string, number or literal), or NULL. */
static const char *flat_scalar(const char *p, const char *end)
{
    bool is_int;
    switch (*p) {
    case '"': return flat_str(p, end);
    case 't': return flat_word(p, end, "true", 4);
    case 'f': return flat_word(p, end, "false", 5);
    case 'n': return flat_word(p, end, "null", 4);
    default: return flat_num(p, end, &is_int);
    }
}

/* The member whose key's opening quote is at p: its (plain) key in [*key, *key + *key_len)
 * and the first byte of its value, or NULL. */
static const char *flat_member(const char *p, const char *end, const char **key, size_t *key_len)
{
    if (p == end || *p != '"')
        return NULL;
    *key = p + 1;
    if (!(p = flat_str(p, end)))
        return NULL;
    *key_len = (size_t)(p - 1 - *key);
    p = json_ws(p, end);
    if (p == end || *p != ':')
        return NULL;
    p = json_ws(p + 1, end);
    return p < end ? p : NULL;
}

/* Just past the object or array opening at p, checked against the grammar, or NULL. */
static const char *flat_skip_container(const char *p, const char *end)
{
    uint64_t is_obj = 0; /* bit d: the container at depth d is an object */
    int depth = 0;
    bool at_value = true; /* else just past a value, or at the closer of an empty container */
    const char *key;
    size_t key_len;
    for (;;) {
        if (at_value) {
            if (*p != '{' && *p != '[') {
                if (!(p = flat_scalar(p, end)))
                    return NULL;
                at_value = false;
                continue;
            }
            if (depth == 64)
                return NULL;
            bool obj = *p == '{';
            is_obj = (is_obj & ~(1ull << depth)) | ((uint64_t)obj << depth);
            depth++;
            p = json_ws(p + 1, end);
            if (p == end)
                return NULL;
            if (*p == (obj ? '}' : ']'))
                at_value = false;
            else if (obj && !(p = flat_member(p, end, &key, &key_len)))
                return NULL;
            continue;
        }
        p = json_ws(p, end);
        if (p == end)
            return NULL;
        bool obj = is_obj >> (depth - 1) & 1;
        if (*p == ',') {
            p = json_ws(p + 1, end);
            if (p == end || (obj && !(p = flat_member(p, end, &key, &key_len))))
                return NULL;
            at_value = true;
            continue;
        }
        if (*p != (obj ? '}' : ']'))
            return NULL;
        p++;
        if (--depth == 0)
            return p;
    }
}

/* The first n (at most 8) bytes of s as vg_prefix8 gives them; a whole load when 8 bytes are
 * there to read before end. */
static uint64_t flat_prefix(const char *s, size_t n, const char *end)
{
    if (n == 0)
        return 0;
    if (n >= 8 || end - s < 8)
        return vg_prefix8(s, n);
    uint64_t v;
    memcpy(&v, s, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v & ~0ull << (8 * (8 - n));
}

/* The root's trie child for the name key[0..len), the i-th of its document (flat_name). */
static const struct vg_paths_node *flat_child(struct vg_json_parser *jp, const char *key,
                                              size_t len, const char *end, size_t i)
{
    const struct vg_paths *paths = jp->memo_paths;
    if (i >= FLAT_MEMO || len > 16)
        return vg_paths_child_key(paths, &paths->nodes[0], key, len);
    uint64_t pre = flat_prefix(key, VG_MIN(len, 8), end);
    uint64_t pre2 = len > 8 ? flat_prefix(key + 8, len - 8, end) : 0;
    struct flat_name *m = &jp->memo[i];
    if (m->len == len && m->pre == pre && m->pre2 == pre2)
        return m->ch;
    *m = (struct flat_name){pre, pre2, (uint32_t)len,
                            vg_paths_child_key(paths, &paths->nodes[0], key, len)};
    return m->ch;
}

static bool flat_decode(struct vg_json_parser *jp, const struct vg_paths *paths,
                        const char *buf, size_t len, struct vg_value *slots)
{
    const struct vg_paths_node *root = &paths->nodes[0];
    if (root->n_keys > 64)
        return false;
    if (jp->memo_paths != paths || jp->memo_version != paths->version) {
        jp->memo_paths = paths;
        jp->memo_version = paths->version;
        for (size_t i = 0; i < FLAT_MEMO; i++)
            jp->memo[i].len = UINT32_MAX;
    }
    size_t n_members = 0;
    uint64_t seen = 0; /* by child of root: the first of a key seen twice wins */
    const char *p = buf, *end = buf + len;
    p = json_ws(p, end);
    if (p == end || *p != '{')
        return false;
    p = json_ws(p + 1, end);
    if (p < end && *p == '}')
        return json_ws(p + 1, end) == end;
    for (;;) {
        const char *key;
        size_t key_len;
        if (!(p = flat_member(p, end, &key, &key_len)))
            return false;
        const struct vg_paths_node *ch = flat_child(jp, key, key_len, end, n_members++);
        if (ch) {
            uint64_t bit = 1ull << (ch - paths->nodes - root->first_key);
            if (seen & bit)
                ch = NULL;
            seen |= bit;
        }
        if (*p == '{' || *p == '[') {
            if (ch && (ch->slot >= 0 || ch->n_keys || ch->n_index))
                return false; /* raw text or a descent: the full decoder's */
            if (!(p = flat_skip_container(p, end)))
                return false;
        } else if (!ch || ch->slot < 0) {
            if (!(p = flat_scalar(p, end)))
                return false;
        } else {
            struct vg_value *v = &slots[ch->slot];
            const char *start = p;
            bool is_int;
            if (*p == '"') {
                if (!(p = flat_str(p, end)))
                    return false;
                *v = vg_value_str(start + 1, (size_t)(p - 2 - start));
            } else if (*p == 't' || *p == 'f' || *p == 'n') {
                if (!(p = flat_scalar(p, end)))
                    return false;
                *v = *start == 'n' ? VG_NULL_VALUE : vg_value_bool(*start == 't');
            } else {
                if (!(p = flat_num(p, end, &is_int)) || !is_int)
                    return false;
                bool neg = *start == '-';
                const char *d = start + neg;
                if (p - d > 18 || (neg && *d == '0'))
                    return false; /* simdjson's: past int64 maybe, and -0 is a float */
                int64_t i = 0;
                for (; d < p; d++)
                    i = i * 10 + (*d - '0');
                *v = vg_value_int(neg ? -i : i);
            }
        }
        p = json_ws(p, end);
        if (p < end && *p == ',') {
            p = json_ws(p + 1, end);
            continue;
        }
        return p < end && *p == '}' && json_ws(p + 1, end) == end;
    }
}

int vg_json_decode(struct vg_json_parser *jp, const struct vg_paths *p, const char *buf,
                   size_t len, struct vg_arena *arena, struct vg_value *slots,
                   struct vg_err *err)
{
    for (size_t i = 0; i < p->n_slots; i++)
        slots[p->slots[i]] = VG_NULL_VALUE;
    if (!buf)
        buf = "";
    if (flat_decode(jp, p, buf, len, slots))
        return 0;
    for (size_t i = 0; i < p->n_slots; i++) /* what the fast path set before it stopped */
        slots[p->slots[i]] = VG_NULL_VALUE;
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
