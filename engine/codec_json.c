/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec_json.c - JSON in and out for events: vg_json_decode (path-driven: a one-pass fast
 * path here, else the simdjson shim in json_simd.cpp) and vg_json_write_value.
 *
 * The source operator calls vg_json_decode once per Kafka payload on its stream thread, with
 * the source's compiled paths; the values land in the event's slots (strings pointing into
 * the payload or the batch arena). Sinks and the rules operator call vg_json_write_value to
 * render slot values into alert fields.
 *
 * DESIGN: the decode rules are json_simd.cpp's (zero-copy strings, first of duplicate keys
 * wins, raw text for containers, lazy validation of values no path reads). flat_decode below
 * reads the common small events by those rules in one pass and hands anything it does not
 * take, and every invalid document, to the simdjson walk (C++: On-Demand values are C++
 * iterators), so results and error messages are simdjson's (D24).
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

/* ---- the fast path ----
 * Most events are one object of short strings and integers, a hundred bytes or so; for them
 * simdjson's fixed costs (a padded copy, stage 1 over whole blocks, the On-Demand iterator)
 * were most of a decode (D24). flat_decode reads such documents in one pass over the bytes,
 * checking them as it goes, and leaves the rest to simdjson: it returns true only for a valid
 * document whose slots it filled as the simdjson walk would, and false, having changed nothing
 * that matters, for what it does not take: a number a path reads with a fraction or exponent,
 * -0 or more than 18 digits, a field name with a backslash, an array whose items paths name
 * one by one or with more than 64 items a path takes as a list, nesting deeper than 64 in a
 * skipped value or 32 along the paths, a lone surrogate in a string a path reads, and every
 * invalid document (so every error message stays simdjson's). What no path reads is still
 * checked against the JSON grammar, with its strings' escapes and UTF-8. */

static const char *json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int flat_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The code unit of the 4 hex digits at p (end - p >= 4), or -1. */
static int32_t flat_hex4(const char *p)
{
    int32_t u = 0;
    for (int i = 0; i < 4; i++) {
        int h = flat_hex(p[i]);
        if (h < 0)
            return -1;
        u = u << 4 | h;
    }
    return u;
}

/* Length of the valid UTF-8 sequence of 2 to 4 bytes at p (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t flat_utf8(const char *p, const char *end)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t n = b[0] >= 0xf0 ? 4 : b[0] >= 0xe0 ? 3 : 2;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (b[0] < 0xc2 || b[0] > 0xf4 || end - p < (ptrdiff_t)n)
        return 0;
    if (b[0] == 0xe0)
        lo = 0xa0;
    else if (b[0] == 0xed)
        hi = 0x9f;
    else if (b[0] == 0xf0)
        lo = 0x90;
    else if (b[0] == 0xf4)
        hi = 0x8f;
    if (b[1] < lo || b[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (b[i] < 0x80 || b[i] > 0xbf)
            return 0;
    return n;
}

/* Bit 7 set in the bytes of w that are a quote, a backslash, a control character or not
 * ASCII. The lowest byte marked is always the first such byte; bytes after it may be marked
 * wrongly (borrows), which the caller never looks at. */
static uint64_t flat_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    return ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | (w & ones * 0x80);
}

/* Just past the closing quote of the string opening at p, checked (escapes, UTF-8, no control
 * characters), or NULL; *escaped: it holds a backslash. */
static const char *flat_str(const char *p, const char *end, bool *escaped)
{
    *escaped = false;
    for (p++; p < end;) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (end - p >= 8) { /* plain text 8 bytes a step */
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t m = flat_special(w) & 0x8080808080808080ull;
            if (m) {
                p += __builtin_ctzll(m) >> 3;
                break;
            }
            p += 8;
        }
        if (p == end)
            return NULL;
#endif
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            *escaped = true;
            if (++p == end)
                return NULL;
            if (*p == 'u') {
                if (end - p < 5 || flat_hex4(p + 1) < 0)
                    return NULL;
                p += 5;
            } else if (strchr("\"\\/bfnrt", *p) && *p) {
                p++;
            } else {
                return NULL;
            }
        } else if (c < 0x80) {
            if (c < 0x20)
                return NULL;
            p++;
        } else {
            size_t n = flat_utf8(p, end);
            if (!n)
                return NULL;
            p += n;
        }
    }
    return NULL;
}

/* The text of the checked string [s, e) (between its quotes) with its escapes undone, in
 * arena; NULL for a lone surrogate (the full decoder's error). */
static const char *flat_unescape(const char *s, const char *e, struct vg_arena *arena,
                                 size_t *len)
{
    char *out = vg_arena_alloc(arena, (size_t)(e - s) + 1), *o = out;
    while (s < e) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        char c = s[1];
        s += 2;
        if (c != 'u') {
            *o++ = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r'
                 : c == 't' ? '\t' : c;
            continue;
        }
        uint32_t u = (uint32_t)flat_hex4(s);
        s += 4;
        if (u >= 0xdc00 && u <= 0xdfff)
            return NULL;
        if (u >= 0xd800 && u <= 0xdbff) {
            int32_t low = e - s >= 6 && s[0] == '\\' && s[1] == 'u' ? flat_hex4(s + 2) : -1;
            if (low < 0xdc00 || low > 0xdfff)
                return NULL;
            u = 0x10000 + ((u - 0xd800) << 10) + ((uint32_t)low - 0xdc00);
            s += 6;
        }
        if (u < 0x80) {
            *o++ = (char)u;
        } else if (u < 0x800) {
            *o++ = (char)(0xc0 | u >> 6);
            *o++ = (char)(0x80 | (u & 0x3f));
        } else if (u < 0x10000) {
            *o++ = (char)(0xe0 | u >> 12);
            *o++ = (char)(0x80 | (u >> 6 & 0x3f));
            *o++ = (char)(0x80 | (u & 0x3f));
        } else {
            *o++ = (char)(0xf0 | u >> 18);
            *o++ = (char)(0x80 | (u >> 12 & 0x3f));
            *o++ = (char)(0x80 | (u >> 6 & 0x3f));
            *o++ = (char)(0x80 | (u & 0x3f));
        }
    }
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
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
    bool escaped, is_int;
    switch (*p) {
    case '"': return flat_str(p, end, &escaped);
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
    bool escaped;
    if (!(p = flat_str(p, end, &escaped)) || escaped) /* "us\\u0065r": the full decoder's */
        return NULL;
    *key_len = (size_t)(p - 1 - *key);
    p = json_ws(p, end);
    if (p == end || *p != ':')
        return NULL;
    p = json_ws(p + 1, end);
    return p < end ? p : NULL;
}

/* After a value of a container closed by `closer`: the start of the next item (*more) or just
 * past the closer (!*more), or NULL. */
static const char *flat_after(const char *p, const char *end, char closer, bool *more)
{
    p = json_ws(p, end);
    if (p < end && *p == ',') {
        *more = true;
        p = json_ws(p + 1, end);
        return p < end ? p : NULL;
    }
    *more = false;
    return p < end && *p == closer ? p + 1 : NULL;
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
        bool obj = is_obj >> (depth - 1) & 1, more;
        if (!(p = flat_after(p, end, obj ? '}' : ']', &more)))
            return NULL;
        if (more) {
            if (obj && !(p = flat_member(p, end, &key, &key_len)))
                return NULL;
            at_value = true;
        } else if (--depth == 0) {
            return p;
        }
    }
}

/* Just past the value at p, checked against the grammar, or NULL. */
static const char *flat_skip(const char *p, const char *end)
{
    return *p == '{' || *p == '[' ? flat_skip_container(p, end) : flat_scalar(p, end);
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

/* A scalar that a path reads, at p, into *v: a plain string, an integer of at most 18 digits
 * (not -0), true, false or null. Just past it, or NULL for anything else. */
static const char *flat_value(const char *p, const char *end, struct vg_arena *arena,
                              struct vg_value *v)
{
    const char *start = p;
    bool is_int;
    if (*p == '"') {
        bool escaped;
        if (!(p = flat_str(p, end, &escaped)))
            return NULL;
        size_t n = (size_t)(p - 2 - start);
        const char *text = start + 1;
        if (escaped && !(text = flat_unescape(start + 1, p - 1, arena, &n)))
            return NULL;
        *v = vg_value_str(text, n);
        return p;
    }
    if (*p == 't' || *p == 'f' || *p == 'n') {
        if ((p = flat_scalar(p, end)))
            *v = *start == 'n' ? VG_NULL_VALUE : vg_value_bool(*start == 't');
        return p;
    }
    if (!(p = flat_num(p, end, &is_int)) || !is_int)
        return NULL;
    bool neg = *start == '-';
    const char *d = start + neg;
    if (p - d > 18 || (neg && *d == '0'))
        return NULL; /* simdjson's: past int64 maybe, and -0 is a float */
    int64_t i = 0;
    for (; d < p; d++)
        i = i * 10 + (*d - '0');
    *v = vg_value_int(neg ? -i : i);
    return p;
}

/* The array opening at p, whose path wants it whole: a list of its scalars (in arena), or its
 * raw text once an item is a container. Just past it, or NULL. */
static const char *flat_list(const char *p, const char *end, struct vg_arena *arena,
                             struct vg_value *out)
{
    const char *start = p;
    struct vg_value items[64];
    size_t n = 0;
    bool scalars = true;
    p = json_ws(p + 1, end);
    if (p < end && *p == ']') {
        p++;
    } else {
        for (;;) {
            if (p == end)
                return NULL;
            if (*p == '{' || *p == '[') {
                scalars = false;
                p = flat_skip_container(p, end);
            } else if (!scalars) {
                p = flat_scalar(p, end);
            } else if (n == VG_ARRAY_LEN(items)) {
                return NULL;
            } else {
                p = flat_value(p, end, arena, &items[n++]);
            }
            bool more;
            if (!p || !(p = flat_after(p, end, ']', &more)))
                return NULL;
            if (!more)
                break;
        }
    }
    if (!scalars) {
        *out = vg_value_str(start, (size_t)(p - start));
        return p;
    }
    struct vg_value *list = vg_arena_alloc(arena, (n ? n : 1) * sizeof(*list));
    if (n)
        memcpy(list, items, n * sizeof(*list));
    *out = (struct vg_value){.type = VG_T_LIST, .len = (uint32_t)n};
    out->u.list = list;
    return p;
}

/* The object opening at p, read for trie node `node` (the root at depth 0, whose field names
 * go through the memo): a path's scalar into its slot, an object a path descends into walked
 * the same way (and its raw text into the slot a path may also give it), an array a path
 * wants whole through flat_list, everything else checked and skipped. Just past the object,
 * or NULL: the full decoder's. */
static const char *flat_object(struct vg_json_parser *jp, const struct vg_paths_node *node,
                               const char *p, const char *end, struct vg_arena *arena,
                               struct vg_value *slots, int depth)
{
    const struct vg_paths *paths = jp->memo_paths;
    if (node->n_keys > 64 || depth > 32)
        return NULL;
    uint64_t seen = 0; /* by child of node: the first of a key seen twice wins */
    size_t i = 0;
    p = json_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        const char *key;
        size_t key_len;
        if (!(p = flat_member(p, end, &key, &key_len)))
            return NULL;
        const struct vg_paths_node *ch = NULL;
        if (node->n_keys)
            ch = depth == 0 ? flat_child(jp, key, key_len, end, i++)
                            : vg_paths_child_key(paths, node, key, key_len);
        if (ch) {
            uint64_t bit = 1ull << (ch - paths->nodes - node->first_key);
            if (seen & bit)
                ch = NULL;
            seen |= bit;
        }
        const char *start = p;
        if (*p == '{' && ch && (ch->slot >= 0 || ch->n_keys)) {
            if ((p = flat_object(jp, ch, p, end, arena, slots, depth + 1)) && ch->slot >= 0)
                slots[ch->slot] = vg_value_str(start, (size_t)(p - start));
        } else if (*p == '[' && ch && ch->n_index) {
            return NULL; /* items a path names one by one */
        } else if (*p == '[' && ch && ch->slot >= 0) {
            p = flat_list(p, end, arena, &slots[ch->slot]);
        } else if (*p == '{' || *p == '[' || !ch || ch->slot < 0) {
            p = flat_skip(p, end);
        } else {
            p = flat_value(p, end, arena, &slots[ch->slot]);
        }
        bool more;
        if (!p || !(p = flat_after(p, end, '}', &more)) || !more)
            return p;
    }
}

static bool flat_decode(struct vg_json_parser *jp, const struct vg_paths *paths,
                        const char *buf, size_t len, struct vg_arena *arena,
                        struct vg_value *slots)
{
    if (jp->memo_paths != paths || jp->memo_version != paths->version) {
        jp->memo_paths = paths;
        jp->memo_version = paths->version;
        for (size_t i = 0; i < FLAT_MEMO; i++)
            jp->memo[i].len = UINT32_MAX;
    }
    const char *p = json_ws(buf, buf + len), *end = buf + len;
    if (p == end || *p != '{' || !(p = flat_object(jp, &paths->nodes[0], p, end, arena, slots, 0)))
        return false;
    return json_ws(p, end) == end;
}

int vg_json_decode(struct vg_json_parser *jp, const struct vg_paths *p, const char *buf,
                   size_t len, struct vg_arena *arena, struct vg_value *slots,
                   struct vg_err *err)
{
    for (size_t i = 0; i < p->n_slots; i++)
        slots[p->slots[i]] = VG_NULL_VALUE;
    if (!buf)
        buf = "";
    if (flat_decode(jp, p, buf, len, arena, slots))
        return 0;
    for (size_t i = 0; i < p->n_slots; i++) /* what the fast path set before it stopped */
        slots[p->slots[i]] = VG_NULL_VALUE;
    return vg_json_simd_decode(jp->js, p, buf, len, arena, slots, err);
}

/* ---- top-level strings without a decode (the fast path's scanners) ---- */

int vg_json_top_strings(const char *buf, size_t len, const char *const *names,
                        const size_t *name_lens, size_t n, struct vg_value *vals)
{
    const char *p = buf, *end = buf + len;
    uint8_t found = 0, all = (uint8_t)((1u << n) - 1);
    if (!buf || n > 8 || (p = json_ws(p, end)) == end || *p != '{')
        return -1;
    p = json_ws(p + 1, end);
    bool more = p == end || *p != '}'; /* {} */
    while (more) {
        const char *key;
        size_t key_len;
        if (!(p = flat_member(p, end, &key, &key_len))) /* "us\u0065r" is "user": -1 */
            return -1;
        uint8_t match = 0;
        for (size_t i = 0; i < n; i++)
            if (!(found >> i & 1) && name_lens[i] == key_len && !memcmp(names[i], key, key_len))
                match |= (uint8_t)(1u << i);
        if (match) { /* the first of a key seen twice counts, as in vg_json_decode */
            const char *v = p + 1;
            bool escaped;
            if (*p != '"' || !(p = flat_str(p, end, &escaped)) || escaped)
                return -1;
            for (size_t i = 0; i < n; i++)
                if (match >> i & 1)
                    vals[i] = vg_value_str(v, (size_t)(p - 1 - v));
            if ((found |= match) == all)
                return 0;
        } else if (!(p = flat_skip(p, end))) {
            return -1;
        }
        if (!(p = flat_after(p, end, '}', &more)))
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
