/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_simd.cpp - the extern "C" shim over simdjson On-Demand behind vg_json_decode.
 *
 * codec_json.c hands each event payload here on its stream thread with the source's path
 * trie (codec_paths.h); the walk fills the slots of the paths present and returns. The
 * parser, its padded copy of the input and a scratch stack for list items belong to one
 * struct vg_json_simd, i.e. to one stream thread, and are kept across events.
 *
 * DESIGN: the input is copied into a buffer with SIMDJSON_PADDING bytes after it (Kafka
 * payloads are not padded); offsets in the copy equal offsets in the caller's buffer, so a
 * string without a backslash is returned as a pointer into the caller's payload (no copy)
 * and only strings with escapes are unescaped into the arena. Each object on a path is
 * iterated once, field by field, looking the key up among the trie node's children; so one
 * pass decodes every path, field order does not matter, and a key seen twice is ignored the
 * second time (first wins, tracked per trie node with a generation number). Stage 1 of
 * simdjson checks UTF-8, strings and structural characters of the whole document; the walk
 * then reaches the end of the top-level object and checks that nothing follows it, so a
 * truncated or over-long document is an error. Values the topology does not read are skipped
 * by bracket depth, not parsed: "tru" or a mismatched bracket inside a skipped value is not
 * reported (On-Demand's lazy validation, accepted for speed; docs/decisions.md).
 *
 * Containers that a path itself names yield their raw JSON text: the token start of the
 * value and, after it has been iterated, the iterator's next token position (whitespace
 * trimmed) delimit it, so a container can be both returned as text and descended into.
 *
 * simdjson is used through error codes only; every extern "C" entry point also catches
 * anything thrown (std::bad_alloc) so no exception reaches C.
 *
 * Thread: the caller's; a struct vg_json_simd is not shared.
 */
/* value.h's initialisers name only some members, which C++ warns about */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "json_simd.h"
#pragma GCC diagnostic pop

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace simdjson;

struct vg_json_simd {
    ondemand::parser parser;
    char *pad = nullptr; /* padded copy of the input */
    size_t pad_cap = 0;
    uint32_t *seen = nullptr; /* per trie node: generation of the last decode that set it */
    size_t seen_cap = 0;
    uint32_t gen = 0;
    struct vg_value *stack = nullptr; /* list items being collected */
    size_t stack_n = 0, stack_cap = 0;
};

namespace {

/* State of one decode. */
struct walk {
    vg_json_simd *js;
    ondemand::document *doc;
    const vg_paths *p;
    const char *orig; /* caller's buffer */
    const char *base; /* padded copy */
    size_t len;
    vg_arena *arena;
    vg_value *slots;
    vg_err *err;
};

const char *code_name(error_code e)
{
    switch (e) {
    case CAPACITY: return "CAPACITY: document too large";
    case MEMALLOC: return "MEMALLOC: out of memory";
    case TAPE_ERROR: return "TAPE_ERROR: bad structure (commas, braces, keys)";
    case DEPTH_ERROR: return "DEPTH_ERROR: nested too deep";
    case STRING_ERROR: return "STRING_ERROR: bad string or escape";
    case T_ATOM_ERROR: return "T_ATOM_ERROR: bad literal starting with t";
    case F_ATOM_ERROR: return "F_ATOM_ERROR: bad literal starting with f";
    case N_ATOM_ERROR: return "N_ATOM_ERROR: bad literal starting with n";
    case NUMBER_ERROR: return "NUMBER_ERROR: bad number";
    case UTF8_ERROR: return "UTF8_ERROR: invalid UTF-8";
    case EMPTY: return "EMPTY: no JSON value";
    case UNESCAPED_CHARS: return "UNESCAPED_CHARS: control character in a string";
    case UNCLOSED_STRING: return "UNCLOSED_STRING: string not closed";
    case INCORRECT_TYPE: return "INCORRECT_TYPE: unexpected value type";
    case NUMBER_OUT_OF_RANGE: return "NUMBER_OUT_OF_RANGE: number out of range";
    case INCOMPLETE_ARRAY_OR_OBJECT: return "INCOMPLETE_ARRAY_OR_OBJECT: document ends early";
    case TRAILING_CONTENT: return "TRAILING_CONTENT: content after the value";
    case OUT_OF_BOUNDS: return "OUT_OF_BOUNDS: document ends early";
    default: return error_message(e);
    }
}

int fail(vg_err *err, error_code e)
{
    return VG_ERR_SET(err, VG_EINVAL, "invalid JSON: %s", code_name(e));
}

bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copy buf into the padded buffer, growing it (kept for the next event). */
void pad_input(vg_json_simd *js, const char *buf, size_t len)
{
    if (js->pad_cap < len + SIMDJSON_PADDING) {
        size_t cap = js->pad_cap ? js->pad_cap : 4096;
        while (cap < len + SIMDJSON_PADDING)
            cap *= 2;
        vg_free(js->pad);
        js->pad = static_cast<char *>(vg_xmalloc(cap));
        js->pad_cap = cap;
    }
    std::memcpy(js->pad, buf, len);
    std::memset(js->pad + len, 0, SIMDJSON_PADDING);
}

/* The end of the value that started at start, once the iterator has moved past it. */
const char *value_end(walk &w, const char *start)
{
    const char *end = w.base + w.len;
    const char *loc;
    if (!w.doc->current_location().get(loc) && loc >= start && loc <= end)
        end = loc;
    while (end > start && is_ws(end[-1]))
        end--;
    return end;
}

/* Text between the quotes of a string token, and whether it holds a backslash. */
bool string_body(std::string_view tok, const char **s, size_t *n)
{
    size_t end = tok.size();
    while (end > 0 && is_ws(tok[end - 1]))
        end--;
    if (end < 2 || tok[0] != '"' || tok[end - 1] != '"')
        return false;
    *s = tok.data() + 1;
    *n = end - 2;
    return true;
}

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the number token at the start of tok if it follows the JSON grammar
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and ends at a delimiter, else 0.
 * simdjson's own number parser accepts a few non-JSON forms such as "1."; this check runs
 * first so they are errors. */
size_t number_len(std::string_view tok)
{
    size_t i = 0, n = tok.size();
    if (i < n && tok[i] == '-')
        i++;
    if (i >= n || !is_digit(tok[i]))
        return 0;
    if (tok[i] == '0')
        i++;
    else
        while (i < n && is_digit(tok[i]))
            i++;
    if (i < n && tok[i] == '.') {
        size_t start = ++i;
        while (i < n && is_digit(tok[i]))
            i++;
        if (i == start)
            return 0;
    }
    if (i < n && (tok[i] == 'e' || tok[i] == 'E')) {
        i++;
        if (i < n && (tok[i] == '+' || tok[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && is_digit(tok[i]))
            i++;
        if (i == start)
            return 0;
    }
    if (i < n && !is_ws(tok[i]) && tok[i] != ',' && tok[i] != '}' && tok[i] != ']')
        return 0;
    return i;
}

/* A valid number token that simdjson would not convert (an integer over 20 digits): read it
 * as a double. */
bool big_number(std::string_view tok, size_t n, double *out)
{
    char tmp[512];
    if (n >= sizeof(tmp))
        return false;
    std::memcpy(tmp, tok.data(), n);
    tmp[n] = '\0';
    char *end;
    *out = std::strtod(tmp, &end);
    return end == tmp + n && std::isfinite(*out);
}

/* A number value: int64 when the token is an integer that fits, else double. */
int read_number(ondemand::value &v, vg_value *out, vg_err *err)
{
    std::string_view tok = v.raw_json_token();
    size_t n = number_len(tok);
    if (n == 0)
        return fail(err, NUMBER_ERROR);
    ondemand::number num;
    error_code e = v.get_number().get(num);
    if (e) {
        double d;
        if (big_number(tok, n, &d)) {
            *out = vg_value_float(d);
            return 0;
        }
        return fail(err, e);
    }
    switch (num.get_number_type()) {
    case ondemand::number_type::signed_integer:
        *out = vg_value_int(num.get_int64());
        break;
    case ondemand::number_type::unsigned_integer:
        *out = vg_value_float(static_cast<double>(num.get_uint64()));
        break;
    default:
        *out = vg_value_float(num.get_double());
        break;
    }
    return 0;
}

/* A string value: zero copy into the caller's buffer without escapes, else unescaped into
 * the arena. */
int read_string(walk &w, ondemand::value &v, vg_value *out)
{
    std::string_view tok = v.raw_json_token();
    const char *s;
    size_t n;
    if (!string_body(tok, &s, &n))
        return fail(w.err, STRING_ERROR);
    bool plain = true;
    for (size_t i = 0; i < n && plain; i++)
        plain = s[i] != '\\';
    if (plain) {
        *out = vg_value_str(w.orig + (s - w.base), n);
        return 0;
    }
    std::string_view sv;
    error_code e = v.get_string().get(sv);
    if (e)
        return fail(w.err, e);
    *out = vg_value_str(vg_arena_strndup(w.arena, sv.data(), sv.size()), sv.size());
    return 0;
}

int read_scalar(walk &w, ondemand::value &v, ondemand::json_type t, vg_value *out)
{
    error_code e;
    switch (t) {
    case ondemand::json_type::string:
        return read_string(w, v, out);
    case ondemand::json_type::number:
        return read_number(v, out, w.err);
    case ondemand::json_type::boolean: {
        bool b;
        if ((e = v.get_bool().get(b)))
            return fail(w.err, e);
        *out = vg_value_bool(b);
        return 0;
    }
    default: {
        bool is_null;
        if ((e = v.is_null().get(is_null)))
            return fail(w.err, e);
        if (!is_null)
            return fail(w.err, N_ATOM_ERROR);
        *out = vg_value{}; /* VG_T_NULL */
        return 0;
    }
    }
}

void stack_push(vg_json_simd *js, const vg_value &v)
{
    if (js->stack_n == js->stack_cap) {
        js->stack_cap = js->stack_cap ? js->stack_cap * 2 : 64;
        js->stack = static_cast<vg_value *>(
            vg_xrealloc(js->stack, js->stack_cap * sizeof(*js->stack)));
    }
    js->stack[js->stack_n++] = v;
}

void set_raw(walk &w, int slot, const char *start)
{
    const char *end = value_end(w, start);
    w.slots[slot] = vg_value_str(w.orig + (start - w.base), static_cast<size_t>(end - start));
}

int walk_value(walk &w, ondemand::value v, const vg_paths_node *node);

/* Length of a raw key (the bytes after its opening quote up to the closing one), and
 * whether it holds a backslash. Stage 1 has checked that the string is closed; keys are
 * short, so a plain loop beats a call to memchr. */
size_t raw_key_len(const char *k, bool *escaped)
{
    size_t n = 0;
    *escaped = false;
    for (;;) {
        char c = k[n];
        if (c == '"')
            return n;
        if (c == '\0')
            return n; /* cannot happen after stage 1; bounds the loop anyway */
        if (c == '\\') {
            *escaped = true;
            n++; /* skip the escaped character (it may be a quote) */
        }
        n++;
    }
}

int walk_object(walk &w, ondemand::object obj, const vg_paths_node *node)
{
    for (auto res : obj) {
        /* use the field in place: copying the field object out of the result costs a
         * store-forwarding stall per field */
        ondemand::raw_json_string rk;
        error_code e = res.key().get(rk);
        if (e)
            return fail(w.err, e);
        if (node->n_keys == 0)
            continue; /* the value is skipped by the next step of the iteration */
        bool escaped;
        std::string_view key(rk.raw(), raw_key_len(rk.raw(), &escaped));
        if (escaped && (e = res.unescaped_key().get(key)))
            return fail(w.err, e);
        const vg_paths_node *child = vg_paths_child_key(w.p, node, key.data(), key.size());
        if (!child)
            continue;
        size_t id = static_cast<size_t>(child - w.p->nodes);
        if (w.js->seen[id] == w.js->gen)
            continue; /* duplicate key: the first one wins */
        w.js->seen[id] = w.js->gen;
        ondemand::value v;
        if ((e = res.value().get(v)))
            return fail(w.err, e);
        int rc = walk_value(w, v, child);
        if (rc)
            return rc;
    }
    return 0;
}

int walk_array(walk &w, ondemand::array arr, const vg_paths_node *node, const char *start)
{
    bool want_list = node->slot >= 0;
    bool scalars = true;
    size_t base = w.js->stack_n;
    size_t i = 0;
    for (auto res : arr) {
        ondemand::value ev;
        error_code e = std::move(res).get(ev);
        if (e)
            return fail(w.err, e);
        const vg_paths_node *child = node->n_index ? vg_paths_child_index(w.p, node, i) : nullptr;
        i++;
        if (!want_list || !scalars) {
            if (child) {
                int rc = walk_value(w, ev, child);
                if (rc)
                    return rc;
            }
            continue;
        }
        ondemand::json_type t;
        if ((e = ev.type().get(t)))
            return fail(w.err, e);
        if (t == ondemand::json_type::object || t == ondemand::json_type::array) {
            scalars = false;
            w.js->stack_n = base;
            if (child) {
                int rc = walk_value(w, ev, child);
                if (rc)
                    return rc;
            }
            continue;
        }
        vg_value sv;
        int rc = read_scalar(w, ev, t, &sv);
        if (rc)
            return rc;
        stack_push(w.js, sv);
        if (child && child->slot >= 0)
            w.slots[child->slot] = sv;
    }
    if (want_list) {
        if (scalars) {
            size_t n = w.js->stack_n - base;
            vg_value *items = static_cast<vg_value *>(
                vg_arena_alloc(w.arena, (n ? n : 1) * sizeof(*items)));
            if (n) /* the stack is NULL until the first item ever */
                std::memcpy(items, w.js->stack + base, n * sizeof(*items));
            vg_value lv = vg_value_int(0);
            lv.type = VG_T_LIST;
            lv.len = static_cast<uint32_t>(n);
            lv.u.list = items;
            w.slots[node->slot] = lv;
        } else {
            set_raw(w, node->slot, start);
        }
    }
    w.js->stack_n = base;
    return 0;
}

int walk_value(walk &w, ondemand::value v, const vg_paths_node *node)
{
    ondemand::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(w.err, e);
    switch (t) {
    case ondemand::json_type::object: {
        if (node->slot < 0 && node->n_keys == 0)
            return 0;
        std::string_view tok = v.raw_json_token();
        ondemand::object obj;
        if ((e = v.get_object().get(obj)))
            return fail(w.err, e);
        int rc = walk_object(w, obj, node);
        if (rc)
            return rc;
        if (node->slot >= 0)
            set_raw(w, node->slot, tok.data());
        return 0;
    }
    case ondemand::json_type::array: {
        if (node->slot < 0 && node->n_index == 0)
            return 0;
        std::string_view tok = v.raw_json_token();
        ondemand::array arr;
        if ((e = v.get_array().get(arr)))
            return fail(w.err, e);
        return walk_array(w, arr, node, tok.data());
    }
    default:
        if (node->slot < 0)
            return 0;
        return read_scalar(w, v, t, &w.slots[node->slot]);
    }
}

int decode(vg_json_simd *js, const vg_paths *p, const char *buf, size_t len, vg_arena *arena,
           vg_value *slots, vg_err *err)
{
    if (js->seen_cap < p->n_nodes) {
        vg_free(js->seen);
        js->seen = static_cast<uint32_t *>(vg_xcalloc(p->n_nodes, sizeof(*js->seen)));
        js->seen_cap = p->n_nodes;
        js->gen = 0;
    }
    if (++js->gen == 0) { /* wrapped: forget every mark */
        std::memset(js->seen, 0, js->seen_cap * sizeof(*js->seen));
        js->gen = 1;
    }
    pad_input(js, buf, len);
    ondemand::document doc;
    error_code e = js->parser.iterate(js->pad, len, js->pad_cap).get(doc);
    if (e)
        return fail(err, e);
    ondemand::json_type t;
    if ((e = doc.type().get(t)))
        return fail(err, e);
    if (t != ondemand::json_type::object)
        return VG_ERR_SET(err, VG_EINVAL, "not a JSON object");
    ondemand::object obj;
    if ((e = doc.get_object().get(obj)))
        return fail(err, e);
    walk w{js, &doc, p, buf, js->pad, len, arena, slots, err};
    int rc = walk_object(w, obj, &p->nodes[0]);
    if (rc)
        return rc;
    const char *loc;
    if (!doc.current_location().get(loc))
        return fail(err, TRAILING_CONTENT);
    return 0;
}

/* ---- whole-document trees ---- */

/* Deepest nesting vg_json_simd_tree accepts (its walk recurses once per level). */
const int tree_max_depth = 512;

int tree_value(vg_json_simd *js, ondemand::value v, vg_arena *arena, vg_json_node *out,
               int depth, vg_err *err);

int tree_string(std::string_view sv, vg_arena *arena, const char **s, size_t *n)
{
    *s = vg_arena_strndup(arena, sv.data(), sv.size());
    *n = sv.size();
    return 0;
}

/* Collect the items of a container in a growing arena array (doubling, the old copies are
 * left in the arena: this path serves tools and tests, not events). */
vg_json_node *tree_grow(vg_arena *arena, vg_json_node *items, size_t n, size_t *cap)
{
    if (n < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : 8;
    vg_json_node *ni = static_cast<vg_json_node *>(vg_arena_alloc(arena, ncap * sizeof(*ni)));
    if (n)
        std::memcpy(ni, items, n * sizeof(*ni));
    *cap = ncap;
    return ni;
}

int tree_value(vg_json_simd *js, ondemand::value v, vg_arena *arena, vg_json_node *out,
               int depth, vg_err *err)
{
    ondemand::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(err, e);
    if (depth > tree_max_depth)
        return fail(err, DEPTH_ERROR);
    std::memset(out, 0, sizeof(*out));
    switch (t) {
    case ondemand::json_type::object: {
        ondemand::object obj;
        if ((e = v.get_object().get(obj)))
            return fail(err, e);
        out->kind = VG_JSON_OBJECT;
        size_t cap = 0;
        for (auto res : obj) {
            ondemand::field field;
            std::string_view key;
            if ((e = std::move(res).get(field)) || (e = field.unescaped_key().get(key)))
                return fail(err, e);
            out->items = tree_grow(arena, out->items, out->n, &cap);
            vg_json_node *item = &out->items[out->n];
            int rc = tree_value(js, field.value(), arena, item, depth + 1, err);
            if (rc)
                return rc;
            tree_string(key, arena, &item->key, &item->key_len);
            out->n++;
        }
        return 0;
    }
    case ondemand::json_type::array: {
        ondemand::array arr;
        if ((e = v.get_array().get(arr)))
            return fail(err, e);
        out->kind = VG_JSON_ARRAY;
        size_t cap = 0;
        for (auto res : arr) {
            ondemand::value ev;
            if ((e = std::move(res).get(ev)))
                return fail(err, e);
            out->items = tree_grow(arena, out->items, out->n, &cap);
            int rc = tree_value(js, ev, arena, &out->items[out->n], depth + 1, err);
            if (rc)
                return rc;
            out->n++;
        }
        return 0;
    }
    case ondemand::json_type::string: {
        std::string_view sv;
        if ((e = v.get_string().get(sv)))
            return fail(err, e);
        out->kind = VG_JSON_STR;
        return tree_string(sv, arena, &out->s, &out->len);
    }
    default: {
        vg_value sv;
        int rc;
        if (t == ondemand::json_type::number) {
            rc = read_number(v, &sv, err);
        } else {
            walk w{js, nullptr, nullptr, nullptr, nullptr, 0, arena, nullptr, err};
            rc = read_scalar(w, v, t, &sv);
        }
        if (rc)
            return rc;
        switch (sv.type) {
        case VG_T_BOOL: out->kind = VG_JSON_BOOL; out->b = sv.u.b; break;
        case VG_T_INT: out->kind = VG_JSON_INT; out->i = sv.u.i; break;
        case VG_T_FLOAT: out->kind = VG_JSON_FLOAT; out->f = sv.u.f; break;
        default: out->kind = VG_JSON_NULL; break;
        }
        return 0;
    }
    }
}

int tree(vg_json_simd *js, const char *buf, size_t len, vg_arena *arena, vg_json_node *root,
         vg_err *err)
{
    pad_input(js, buf, len);
    ondemand::document doc;
    error_code e = js->parser.iterate(js->pad, len, js->pad_cap).get(doc);
    if (e)
        return fail(err, e);
    ondemand::json_type t;
    if ((e = doc.type().get(t)))
        return fail(err, e);
    int rc;
    bool scalar = t != ondemand::json_type::object && t != ondemand::json_type::array;
    if (scalar) {
        /* a scalar document cannot be a value: read it as one element of [..] instead */
        std::string wrapped;
        wrapped.reserve(len + 2 + SIMDJSON_PADDING);
        wrapped.append("[").append(buf, len).append("]");
        vg_json_node arr;
        rc = tree(js, wrapped.data(), wrapped.size(), arena, &arr, err);
        if (rc == 0)
            *root = arr.items[0];
        return rc;
    }
    ondemand::value v;
    if ((e = doc.get_value().get(v)))
        return fail(err, e);
    if ((rc = tree_value(js, v, arena, root, 1, err)))
        return rc;
    const char *loc;
    if (!doc.current_location().get(loc))
        return fail(err, TRAILING_CONTENT);
    return 0;
}

} // namespace

extern "C" {

struct vg_json_simd *vg_json_simd_new(void)
{
    try {
        return new vg_json_simd();
    } catch (...) {
        std::fprintf(stderr, "vigil: out of memory creating a JSON parser\n");
        std::abort();
    }
}

void vg_json_simd_free(struct vg_json_simd *js)
{
    if (!js)
        return;
    vg_free(js->pad);
    vg_free(js->seen);
    vg_free(js->stack);
    delete js;
}

int vg_json_simd_decode(struct vg_json_simd *js, const struct vg_paths *p, const char *buf,
                        size_t len, struct vg_arena *arena, struct vg_value *slots,
                        struct vg_err *err)
{
    try {
        js->stack_n = 0;
        return decode(js, p, buf, len, arena, slots, err);
    } catch (...) {
        return VG_ERR_SET(err, VG_ENOMEM, "invalid JSON: out of memory");
    }
}

int vg_json_simd_tree(struct vg_json_simd *js, const char *buf, size_t len,
                      struct vg_arena *arena, struct vg_json_node *root, struct vg_err *err)
{
    try {
        return tree(js, buf, len, arena, root, err);
    } catch (...) {
        return VG_ERR_SET(err, VG_ENOMEM, "invalid JSON: out of memory");
    }
}

} /* extern "C" */
