/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec_avro.c - Avro binary in and out with Apache Avro C: event records decoded into slots
 * or JSON, JSON encoded into records (generators, tests), alerts encoded against
 * schemas/alert.avsc and decoded back to JSON.
 *
 * Schemas are loaded once on the main thread by the source and sink operators and shared
 * read-only. A decoder (source, one per stream thread) or an encoder (sink) owns a generic
 * Avro value of its schema and a memory reader, created once and reused for every record:
 * no Avro class or value is created per event. Strings Avro hands back live in that reused
 * value, so they are copied into the batch arena.
 *
 * DESIGN: every record is first checked by check_record(), a walk of the bytes against the
 * schema that never allocates: it bounds every length and count by the bytes left, checks
 * varints, union branches, enum indexes and the UTF-8 of strings, and finds where the record
 * ends. Only bytes that pass are given to avro_value_read, so a truncated, over-long or
 * hostile record is an error with a short reason ("avro: truncated record", "avro: trailing
 * bytes", ...) and never reaches Avro C's allocations (a length prefix of 2^62 would
 * otherwise be malloc'ed) or its error paths. Avro C has no way to ask a memory reader how far
 * it read; the same walk answers that.
 *
 * Thread: main for schemas; a decoder or encoder belongs to one thread.
 */
#include "codec.h"

#include <avro.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec_paths.h"
#include "json_simd.h"

/* Nesting bound for recursive schemas (records that refer to themselves). */
#define AVRO_MAX_DEPTH 64
/* Items an array or map of zero-byte items (null) may claim in one record. */
#define AVRO_MAX_EMPTY_ITEMS 65536
/* Largest .avsc file we read. */
#define AVRO_MAX_SCHEMA_BYTES (1 << 20)

struct vg_avro_schema {
    avro_schema_t schema;
    char **names; /* top-level field names */
    size_t n_names;
};

struct vg_avro_decoder {
    const struct vg_avro_schema *s;
    const struct vg_paths *p;
    avro_value_iface_t *iface;
    avro_value_t value;
    avro_reader_t reader;
    struct vg_buf scratch; /* raw JSON of containers before it is copied into the arena */
};

/* Field order of schemas/alert.avsc, checked by vg_avro_encoder_new. */
enum {
    AF_ALERT_ID,
    AF_RULE_ID,
    AF_TITLE,
    AF_SEVERITY,
    AF_TAGS,
    AF_TOPOLOGY,
    AF_KEY,
    AF_WINDOW_START,
    AF_WINDOW_END,
    AF_EVENT_TIME,
    AF_DETECTED_AT,
    AF_SOURCE,
    AF_LATENCY_MS,
    AF_FIELDS,
    AF_COUNT
};

struct vg_avro_encoder {
    const struct vg_avro_schema *s;
    avro_value_iface_t *iface;
    avro_value_t value;
    avro_reader_t reader;
    int null_branch; /* branch of "null" in the window unions */
    struct vg_buf tmp;
    const char **tags;
    size_t tags_cap;
};

/* ---- schemas ---- */

static avro_schema_t resolve(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

struct vg_avro_schema *vg_avro_schema_load(const char *path, struct vg_err *err)
{
    struct vg_avro_schema *s = NULL;
    char *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        VG_ERR_SET(err, VG_EIO, "avro schema '%s': %s", path, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > AVRO_MAX_SCHEMA_BYTES) {
        VG_ERR_SET(err, VG_EINVAL, "avro schema '%s': not a file of at most %d bytes", path,
                   AVRO_MAX_SCHEMA_BYTES);
        goto out;
    }
    text = vg_xmalloc((size_t)st.st_size + 1);
    size_t n = fread(text, 1, (size_t)st.st_size, f);
    text[n] = '\0';
    avro_schema_t schema;
    if (avro_schema_from_json_length(text, n, &schema) != 0) {
        VG_ERR_SET(err, VG_EINVAL, "avro schema '%s': %s", path, avro_strerror());
        goto out;
    }
    if (!is_avro_record(schema)) {
        VG_ERR_SET(err, VG_EINVAL, "avro schema '%s': top level must be a record, got %s", path,
                   avro_schema_type_name(schema));
        avro_schema_decref(schema);
        goto out;
    }
    s = vg_xcalloc(1, sizeof(*s));
    s->schema = schema;
    s->n_names = avro_schema_record_size(schema);
    s->names = vg_xcalloc(s->n_names, sizeof(*s->names));
    for (size_t i = 0; i < s->n_names; i++)
        s->names[i] = vg_xstrdup(avro_schema_record_field_name(schema, (int)i));
out:
    if (f)
        fclose(f);
    vg_free(text);
    return s;
}

void vg_avro_schema_free(struct vg_avro_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_names; i++)
        vg_free(s->names[i]);
    vg_free(s->names);
    avro_schema_decref(s->schema);
    vg_free(s);
}

size_t vg_avro_schema_fields(const struct vg_avro_schema *s, const char *const **names)
{
    *names = (const char *const *)s->names;
    return s->n_names;
}

/* Does the schema s (through links and unions) have the segments segs[0..n)? */
static bool schema_has(avro_schema_t s, const struct vg_paths_seg *segs, int n, int depth)
{
    s = resolve(s);
    if (n == 0)
        return true;
    if (!s || depth > AVRO_MAX_DEPTH)
        return false;
    if (is_avro_union(s)) {
        for (size_t i = 0; i < avro_schema_union_size(s); i++)
            if (schema_has(avro_schema_union_branch(s, (int)i), segs, n, depth + 1))
                return true;
        return false;
    }
    if (segs[0].name) {
        if (is_avro_map(s))
            return schema_has(avro_schema_map_values(s), segs + 1, n - 1, depth + 1);
        if (!is_avro_record(s))
            return false;
        for (size_t i = 0; i < avro_schema_record_size(s); i++) {
            const char *name = avro_schema_record_field_name(s, (int)i);
            if (strlen(name) == segs[0].len && memcmp(name, segs[0].name, segs[0].len) == 0)
                return schema_has(avro_schema_record_field_get_by_index(s, (int)i), segs + 1,
                                  n - 1, depth + 1);
        }
        return false;
    }
    return is_avro_array(s) && schema_has(avro_schema_array_items(s), segs + 1, n - 1, depth + 1);
}

bool vg_avro_schema_has_path(const struct vg_avro_schema *s, const char *path)
{
    struct vg_paths_seg segs[VG_PATHS_MAX_SEGS];
    int n = vg_paths_split(path, segs, NULL);
    return n > 0 && schema_has(s->schema, segs, n, 0);
}

/* ---- checking a record's bytes against its schema ---- */

struct cursor {
    const unsigned char *p;
    const unsigned char *end;
    struct vg_err *err;
};

static int trunc_err(struct cursor *c)
{
    return VG_ERR_SET(c->err, VG_EINVAL, "avro: truncated record");
}

static int read_varint(struct cursor *c, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (c->p >= c->end)
            return trunc_err(c);
        unsigned char b = *c->p++;
        if (shift == 63 && b > 1)
            break;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return VG_ERR_SET(c->err, VG_EINVAL, "avro: bad varint");
}

/* A length or count prefix: >= 0 and at most what is left when each unit takes a byte. */
static int read_len(struct cursor *c, int64_t *len)
{
    int rc = read_varint(c, len);
    if (rc)
        return rc;
    if (*len < 0)
        return VG_ERR_SET(c->err, VG_EINVAL, "avro: negative length %lld", (long long)*len);
    if (*len > c->end - c->p)
        return trunc_err(c);
    return 0;
}

/* RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return false;
        }
        if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

/* Fewest bytes a value of schema s takes (0 or 1 is all that matters here). */
static bool takes_bytes(avro_schema_t s, int depth)
{
    s = resolve(s);
    if (!s || depth > AVRO_MAX_DEPTH)
        return false;
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return false;
    case AVRO_FIXED:
        return avro_schema_fixed_size(s) > 0;
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(s); i++)
            if (takes_bytes(avro_schema_record_field_get_by_index(s, (int)i), depth + 1))
                return true;
        return false;
    default:
        return true;
    }
}

static int check_value(struct cursor *c, avro_schema_t s, int depth);

/* A length-prefixed string or bytes value; strings must be UTF-8. */
static int check_string(struct cursor *c, bool utf8)
{
    int64_t n;
    int rc = read_len(c, &n);
    if (rc)
        return rc;
    if (utf8 && !utf8_valid(c->p, (size_t)n))
        return VG_ERR_SET(c->err, VG_EINVAL, "avro: invalid UTF-8 in string");
    c->p += n;
    return 0;
}

static int check_blocks(struct cursor *c, avro_schema_t items, bool map, int depth)
{
    bool sized = map || takes_bytes(items, 0);
    int64_t total = 0;
    for (;;) {
        int64_t count;
        int rc = read_varint(c, &count);
        if (rc)
            return rc;
        if (count == 0)
            return 0;
        if (count < 0) {
            int64_t block_bytes;
            if (count == INT64_MIN)
                return VG_ERR_SET(c->err, VG_EINVAL, "avro: bad block count");
            count = -count;
            if ((rc = read_len(c, &block_bytes)))
                return rc;
        }
        total += count;
        if (sized ? count > c->end - c->p : total > AVRO_MAX_EMPTY_ITEMS)
            return sized ? trunc_err(c)
                         : VG_ERR_SET(c->err, VG_EINVAL, "avro: too many items");
        for (int64_t i = 0; i < count; i++) {
            if (map && (rc = check_string(c, true)))
                return rc;
            if ((rc = check_value(c, items, depth + 1)))
                return rc;
        }
    }
}

static int check_value(struct cursor *c, avro_schema_t s, int depth)
{
    s = resolve(s);
    if (depth > AVRO_MAX_DEPTH)
        return VG_ERR_SET(c->err, VG_EINVAL, "avro: nested too deep");
    int64_t v;
    int rc;
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (c->p >= c->end)
            return trunc_err(c);
        if (*c->p > 1)
            return VG_ERR_SET(c->err, VG_EINVAL, "avro: bad boolean");
        c->p++;
        return 0;
    case AVRO_INT32:
        if ((rc = read_varint(c, &v)))
            return rc;
        if (v < INT32_MIN || v > INT32_MAX)
            return VG_ERR_SET(c->err, VG_EINVAL, "avro: int out of range");
        return 0;
    case AVRO_INT64:
        return read_varint(c, &v);
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        int64_t n = avro_typeof(s) == AVRO_FLOAT ? 4 : 8;
        if (c->end - c->p < n)
            return trunc_err(c);
        c->p += n;
        return 0;
    }
    case AVRO_STRING:
    case AVRO_BYTES:
        return check_string(c, avro_typeof(s) == AVRO_STRING);
    case AVRO_FIXED:
        v = avro_schema_fixed_size(s);
        if (c->end - c->p < v)
            return trunc_err(c);
        c->p += v;
        return 0;
    case AVRO_ENUM:
        if ((rc = read_varint(c, &v)))
            return rc;
        if (v < 0 || v >= avro_schema_enum_number_of_symbols(s))
            return VG_ERR_SET(c->err, VG_EINVAL, "avro: bad enum index %lld", (long long)v);
        return 0;
    case AVRO_ARRAY:
        return check_blocks(c, avro_schema_array_items(s), false, depth);
    case AVRO_MAP:
        return check_blocks(c, avro_schema_map_values(s), true, depth);
    case AVRO_UNION:
        if ((rc = read_varint(c, &v)))
            return rc;
        if (v < 0 || (uint64_t)v >= avro_schema_union_size(s))
            return VG_ERR_SET(c->err, VG_EINVAL, "avro: bad union branch %lld", (long long)v);
        return check_value(c, avro_schema_union_branch(s, (int)v), depth + 1);
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(s); i++)
            if ((rc = check_value(c, avro_schema_record_field_get_by_index(s, (int)i),
                                  depth + 1)))
                return rc;
        return 0;
    default:
        return VG_ERR_SET(c->err, VG_EINVAL, "avro: unsupported schema type %s",
                          avro_schema_type_name(s));
    }
}

/* Check buf[0..len) is exactly one record of schema s. */
static int check_record(avro_schema_t s, const char *buf, size_t len, struct vg_err *err)
{
    struct cursor c = {(const unsigned char *)buf, (const unsigned char *)buf + len, err};
    int rc = check_value(&c, s, 0);
    if (rc)
        return rc;
    if (c.p != c.end)
        return VG_ERR_SET(err, VG_EINVAL, "avro: trailing bytes (%zu after the record)",
                          (size_t)(c.end - c.p));
    return 0;
}

/* Check then read buf into value (reset first). */
static int read_record(avro_schema_t s, avro_reader_t reader, avro_value_t *value,
                       const char *buf, size_t len, struct vg_err *err)
{
    int rc = check_record(s, buf, len, err);
    if (rc)
        return rc;
    avro_value_reset(value);
    avro_reader_memory_set_source(reader, len ? buf : "", (int64_t)len);
    if (avro_value_read(reader, value) != 0)
        return VG_ERR_SET(err, VG_EINVAL, "avro: %s", avro_strerror());
    return 0;
}

/* ---- Avro values to JSON and to slot values ---- */

static void write_bytes_json(struct vg_buf *out, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    vg_buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\') {
            vg_buf_putc(out, '\\');
            vg_buf_putc(out, (char)ch);
        } else if (ch < 0x20 || ch >= 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            vg_buf_append(out, e, sizeof(e));
        } else {
            vg_buf_putc(out, (char)ch);
        }
    }
    vg_buf_putc(out, '"');
}

static const char *get_str(avro_value_t *v, size_t *n)
{
    const char *s = NULL;
    size_t size = 0;
    if (avro_value_get_string(v, &s, &size) != 0 || !s) {
        *n = 0;
        return "";
    }
    *n = size ? size - 1 : 0;
    return s;
}

/* Append v as JSON: records and maps as objects, unions as their branch, bytes and fixed as
 * strings of code points 0-255 (Avro's JSON encoding), enums as their symbol. */
static void write_json(struct vg_buf *out, avro_value_t *v)
{
    avro_schema_t s = avro_value_get_schema(v);
    switch (avro_value_get_type(v)) {
    case AVRO_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(v, &b);
        vg_buf_puts(out, b ? "true" : "false");
        return;
    }
    case AVRO_INT32: {
        int32_t i = 0;
        avro_value_get_int(v, &i);
        vg_buf_printf(out, "%d", i);
        return;
    }
    case AVRO_INT64: {
        int64_t i = 0;
        avro_value_get_long(v, &i);
        vg_buf_printf(out, "%lld", (long long)i);
        return;
    }
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        double d = 0;
        float f = 0;
        if (avro_value_get_type(v) == AVRO_FLOAT && avro_value_get_float(v, &f) == 0)
            d = f;
        else
            avro_value_get_double(v, &d);
        struct vg_value fv = vg_value_float(d);
        vg_json_write_value(out, &fv);
        return;
    }
    case AVRO_STRING: {
        size_t n;
        const char *str = get_str(v, &n);
        vg_buf_json_str(out, str, n);
        return;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const void *p = NULL;
        size_t n = 0;
        if (avro_value_get_type(v) == AVRO_BYTES)
            avro_value_get_bytes(v, &p, &n);
        else
            avro_value_get_fixed(v, &p, &n);
        write_bytes_json(out, p, n);
        return;
    }
    case AVRO_ENUM: {
        int i = 0;
        avro_value_get_enum(v, &i);
        const char *sym = avro_schema_enum_get(s, i);
        vg_buf_json_str(out, sym ? sym : "", sym ? strlen(sym) : 0);
        return;
    }
    case AVRO_ARRAY:
    case AVRO_MAP:
    case AVRO_RECORD: {
        bool arr = avro_value_get_type(v) == AVRO_ARRAY;
        size_t n = 0;
        avro_value_get_size(v, &n);
        vg_buf_putc(out, arr ? '[' : '{');
        for (size_t i = 0; i < n; i++) {
            avro_value_t child;
            const char *name = NULL;
            if (avro_value_get_by_index(v, i, &child, &name) != 0)
                continue;
            if (i)
                vg_buf_putc(out, ',');
            if (!arr) {
                vg_buf_json_str(out, name ? name : "", name ? strlen(name) : 0);
                vg_buf_putc(out, ':');
            }
            write_json(out, &child);
        }
        vg_buf_putc(out, arr ? ']' : '}');
        return;
    }
    case AVRO_UNION: {
        avro_value_t branch;
        if (avro_value_get_current_branch(v, &branch) == 0)
            write_json(out, &branch);
        else
            vg_buf_puts(out, "null");
        return;
    }
    default:
        vg_buf_puts(out, "null");
        return;
    }
}

static avro_type_t branch_of(avro_value_t *v)
{
    while (avro_value_get_type(v) == AVRO_UNION) {
        avro_value_t b;
        if (avro_value_get_current_branch(v, &b) != 0)
            return AVRO_NULL;
        *v = b;
    }
    return avro_value_get_type(v);
}

/* A scalar Avro value as a slot value (strings copied into arena); false for containers. */
static bool scalar_value(avro_value_t *v, struct vg_arena *arena, struct vg_value *out)
{
    switch (branch_of(v)) {
    case AVRO_NULL:
        *out = VG_NULL_VALUE;
        return true;
    case AVRO_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(v, &b);
        *out = vg_value_bool(b != 0);
        return true;
    }
    case AVRO_INT32: {
        int32_t i = 0;
        avro_value_get_int(v, &i);
        *out = vg_value_int(i);
        return true;
    }
    case AVRO_INT64: {
        int64_t i = 0;
        avro_value_get_long(v, &i);
        *out = vg_value_int(i);
        return true;
    }
    case AVRO_FLOAT: {
        float f = 0;
        avro_value_get_float(v, &f);
        *out = vg_value_float(f);
        return true;
    }
    case AVRO_DOUBLE: {
        double d = 0;
        avro_value_get_double(v, &d);
        *out = vg_value_float(d);
        return true;
    }
    case AVRO_STRING: {
        size_t n;
        const char *s = get_str(v, &n);
        *out = vg_value_str(vg_arena_strndup(arena, s, n), n);
        return true;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const void *p = NULL;
        size_t n = 0;
        if (avro_value_get_type(v) == AVRO_BYTES)
            avro_value_get_bytes(v, &p, &n);
        else
            avro_value_get_fixed(v, &p, &n);
        *out = vg_value_str(vg_arena_strndup(arena, p ? p : "", n), n);
        return true;
    }
    case AVRO_ENUM: {
        int i = 0;
        avro_value_get_enum(v, &i);
        const char *sym = avro_schema_enum_get(avro_value_get_schema(v), i);
        size_t n = sym ? strlen(sym) : 0;
        *out = vg_value_str(vg_arena_strndup(arena, sym ? sym : "", n), n);
        return true;
    }
    default:
        return false;
    }
}

/* The slot value of v: a scalar, a list for an array of scalars, else raw JSON text. */
static void slot_value(struct vg_avro_decoder *d, avro_value_t *v, struct vg_arena *arena,
                       struct vg_value *out)
{
    if (scalar_value(v, arena, out))
        return;
    if (avro_value_get_type(v) == AVRO_ARRAY) {
        size_t n = 0;
        avro_value_get_size(v, &n);
        struct vg_value *items = vg_arena_alloc(arena, (n ? n : 1) * sizeof(*items));
        size_t i;
        for (i = 0; i < n; i++) {
            avro_value_t item;
            if (avro_value_get_by_index(v, i, &item, NULL) != 0 ||
                !scalar_value(&item, arena, &items[i]))
                break;
        }
        if (i == n) {
            *out = (struct vg_value){.type = VG_T_LIST, .len = (uint32_t)n};
            out->u.list = items;
            return;
        }
    }
    vg_buf_clear(&d->scratch);
    write_json(&d->scratch, v);
    *out = vg_value_str(vg_arena_strndup(arena, d->scratch.data, d->scratch.len),
                        d->scratch.len);
}

static void fill(struct vg_avro_decoder *d, avro_value_t *v, const struct vg_paths_node *node,
                 struct vg_arena *arena, struct vg_value *slots)
{
    avro_type_t t = branch_of(v);
    if (node->slot >= 0)
        slot_value(d, v, arena, &slots[node->slot]);
    if (node->n_keys && (t == AVRO_RECORD || t == AVRO_MAP)) {
        for (uint32_t k = 0; k < node->n_keys; k++) {
            const struct vg_paths_node *child = &d->p->nodes[node->first_key + k];
            avro_value_t cv = {NULL, NULL};
            if (avro_value_get_by_name(v, child->name, &cv, NULL) == 0 && cv.self)
                fill(d, &cv, child, arena, slots);
        }
    }
    if (node->n_index && t == AVRO_ARRAY) {
        size_t n = 0;
        avro_value_get_size(v, &n);
        for (uint32_t k = 0; k < node->n_index; k++) {
            const struct vg_paths_node *child = &d->p->nodes[node->first_index + k];
            avro_value_t cv;
            if ((size_t)child->index < n &&
                avro_value_get_by_index(v, (size_t)child->index, &cv, NULL) == 0)
                fill(d, &cv, child, arena, slots);
        }
    }
}

/* ---- decoder ---- */

struct vg_avro_decoder *vg_avro_decoder_new(const struct vg_avro_schema *s,
                                            const struct vg_paths *p)
{
    struct vg_avro_decoder *d = vg_xcalloc(1, sizeof(*d));
    d->s = s;
    d->p = p;
    d->iface = avro_generic_class_from_schema(s->schema);
    if (!d->iface || avro_generic_value_new(d->iface, &d->value) != 0) {
        fprintf(stderr, "vigil: avro: cannot create a value: %s\n", avro_strerror());
        abort(); /* out of memory: the schema was checked at load */
    }
    d->reader = avro_reader_memory("", 0);
    vg_buf_init(&d->scratch);
    return d;
}

void vg_avro_decoder_free(struct vg_avro_decoder *d)
{
    if (!d)
        return;
    avro_value_decref(&d->value);
    avro_value_iface_decref(d->iface);
    avro_reader_free(d->reader);
    vg_buf_fini(&d->scratch);
    vg_free(d);
}

int vg_avro_decode(struct vg_avro_decoder *d, const char *buf, size_t len, struct vg_arena *arena,
                   struct vg_value *slots, struct vg_err *err)
{
    for (size_t i = 0; d->p && i < d->p->n_slots; i++)
        slots[d->p->slots[i]] = VG_NULL_VALUE;
    int rc = read_record(d->s->schema, d->reader, &d->value, buf, len, err);
    if (rc)
        return rc;
    if (d->p)
        fill(d, &d->value, &d->p->nodes[0], arena, slots);
    return 0;
}

int vg_avro_to_json(struct vg_avro_decoder *d, const char *buf, size_t len, struct vg_buf *out,
                    struct vg_err *err)
{
    int rc = read_record(d->s->schema, d->reader, &d->value, buf, len, err);
    if (rc)
        return rc;
    write_json(out, &d->value);
    return 0;
}

/* ---- JSON to Avro ---- */

static const char *kind_name(uint8_t kind)
{
    static const char *const names[] = {"null", "a boolean", "an integer", "a number",
                                        "a string", "an array", "an object"};
    return kind < VG_ARRAY_LEN(names) ? names[kind] : "?";
}

/* Can a JSON value of this kind be stored as schema s? (Used to pick a union branch.) */
static bool kind_fits(const struct vg_json_node *j, avro_schema_t s)
{
    s = resolve(s);
    switch (avro_typeof(s)) {
    case AVRO_NULL: return j->kind == VG_JSON_NULL;
    case AVRO_BOOLEAN: return j->kind == VG_JSON_BOOL;
    case AVRO_INT32: return j->kind == VG_JSON_INT && j->i >= INT32_MIN && j->i <= INT32_MAX;
    case AVRO_INT64: return j->kind == VG_JSON_INT;
    case AVRO_FLOAT:
    case AVRO_DOUBLE: return j->kind == VG_JSON_INT || j->kind == VG_JSON_FLOAT;
    case AVRO_STRING:
    case AVRO_BYTES:
    case AVRO_FIXED: return j->kind == VG_JSON_STR;
    case AVRO_ENUM:
        return j->kind == VG_JSON_STR && avro_schema_enum_get_by_name(s, j->s) >= 0;
    case AVRO_ARRAY: return j->kind == VG_JSON_ARRAY;
    case AVRO_MAP:
    case AVRO_RECORD: return j->kind == VG_JSON_OBJECT;
    default: return false;
    }
}

/* Decode a JSON string of code points 0-255 (Avro's JSON form of bytes) into arena bytes. */
static int codepoints_to_bytes(const struct vg_json_node *j, struct vg_arena *arena,
                               char **out, size_t *n)
{
    const unsigned char *s = (const unsigned char *)j->s;
    char *b = vg_arena_alloc(arena, j->len + 1);
    size_t k = 0;
    for (size_t i = 0; i < j->len; i++) {
        if (s[i] < 0x80) {
            b[k++] = (char)s[i];
        } else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < j->len) {
            b[k++] = (char)(((s[i] & 0x03) << 6) | (s[i + 1] & 0x3f));
            i++;
        } else {
            return -1;
        }
    }
    *out = b;
    *n = k;
    return 0;
}

static int set_from_json(avro_value_t *v, const struct vg_json_node *j, const char *field,
                         struct vg_arena *arena, struct vg_err *err);

/* Can a field of schema s be null (null itself, or a union with a null branch)? */
static bool takes_null(avro_schema_t s)
{
    s = resolve(s);
    if (is_avro_null(s))
        return true;
    if (!is_avro_union(s))
        return false;
    for (size_t b = 0; b < avro_schema_union_size(s); b++)
        if (is_avro_null(resolve(avro_schema_union_branch(s, (int)b))))
            return true;
    return false;
}

static int type_err(struct vg_err *err, const char *field, avro_schema_t s,
                    const struct vg_json_node *j)
{
    return VG_ERR_SET(err, VG_EINVAL, "avro: field '%s': expected %s, got %s", field,
                      avro_schema_type_name(resolve(s)), kind_name(j->kind));
}

static int set_record(avro_value_t *v, avro_schema_t s, const struct vg_json_node *j,
                      struct vg_arena *arena, struct vg_err *err)
{
    for (size_t i = 0; i < avro_schema_record_size(s); i++) {
        const char *name = avro_schema_record_field_name(s, (int)i);
        avro_schema_t fs = resolve(avro_schema_record_field_get_by_index(s, (int)i));
        const struct vg_json_node *m = NULL;
        for (size_t k = 0; k < j->n && !m; k++)
            if (strcmp(j->items[k].key, name) == 0 && strlen(name) == j->items[k].key_len)
                m = &j->items[k]; /* first of duplicate keys */
        static const struct vg_json_node json_null = {.kind = VG_JSON_NULL};
        if (!m) {
            if (!takes_null(fs))
                return VG_ERR_SET(err, VG_EINVAL, "avro: field '%s' missing", name);
            m = &json_null;
        }
        avro_value_t child;
        if (avro_value_get_by_index(v, i, &child, NULL) != 0)
            return VG_ERR_SET(err, VG_EINVAL, "avro: %s", avro_strerror());
        int rc = set_from_json(&child, m, name, arena, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int set_from_json(avro_value_t *v, const struct vg_json_node *j, const char *field,
                         struct vg_arena *arena, struct vg_err *err)
{
    avro_schema_t s = resolve(avro_value_get_schema(v));
    int rc = 0;
    if (avro_typeof(s) != AVRO_UNION && !kind_fits(j, s))
        return type_err(err, field, s, j);
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        rc = avro_value_set_null(v);
        break;
    case AVRO_BOOLEAN:
        rc = avro_value_set_boolean(v, j->b);
        break;
    case AVRO_INT32:
        rc = avro_value_set_int(v, (int32_t)j->i);
        break;
    case AVRO_INT64:
        rc = avro_value_set_long(v, j->i);
        break;
    case AVRO_FLOAT:
        rc = avro_value_set_float(v, (float)(j->kind == VG_JSON_INT ? (double)j->i : j->f));
        break;
    case AVRO_DOUBLE:
        rc = avro_value_set_double(v, j->kind == VG_JSON_INT ? (double)j->i : j->f);
        break;
    case AVRO_STRING:
        rc = avro_value_set_string_len(v, j->s, j->len + 1);
        break;
    case AVRO_BYTES:
    case AVRO_FIXED: {
        char *b;
        size_t n;
        if (codepoints_to_bytes(j, arena, &b, &n) != 0)
            return VG_ERR_SET(err, VG_EINVAL,
                              "avro: field '%s': bytes must be code points 0-255", field);
        if (avro_typeof(s) == AVRO_FIXED && (int64_t)n != avro_schema_fixed_size(s))
            return VG_ERR_SET(err, VG_EINVAL, "avro: field '%s': expected %lld bytes, got %zu",
                              field, (long long)avro_schema_fixed_size(s), n);
        rc = avro_typeof(s) == AVRO_BYTES ? avro_value_set_bytes(v, b, n)
                                          : avro_value_set_fixed(v, b, n);
        break;
    }
    case AVRO_ENUM:
        rc = avro_value_set_enum(v, avro_schema_enum_get_by_name(s, j->s));
        break;
    case AVRO_ARRAY:
        for (size_t i = 0; i < j->n && rc == 0; i++) {
            avro_value_t child;
            if ((rc = avro_value_append(v, &child, NULL)) == 0 &&
                (rc = set_from_json(&child, &j->items[i], field, arena, err)) != 0)
                return rc;
        }
        break;
    case AVRO_MAP:
        for (size_t i = 0; i < j->n && rc == 0; i++) {
            avro_value_t child;
            int is_new = 0;
            if ((rc = avro_value_add(v, j->items[i].key, &child, NULL, &is_new)) == 0 && is_new &&
                (rc = set_from_json(&child, &j->items[i], j->items[i].key, arena, err)) != 0)
                return rc;
        }
        break;
    case AVRO_RECORD:
        return set_record(v, s, j, arena, err);
    case AVRO_UNION: {
        for (size_t b = 0; b < avro_schema_union_size(s); b++) {
            if (!kind_fits(j, avro_schema_union_branch(s, (int)b)))
                continue;
            avro_value_t branch;
            if ((rc = avro_value_set_branch(v, (int)b, &branch)) != 0)
                break;
            return set_from_json(&branch, j, field, arena, err);
        }
        if (rc == 0)
            return VG_ERR_SET(err, VG_EINVAL, "avro: field '%s': no branch of its union takes %s",
                              field, kind_name(j->kind));
        break;
    }
    default:
        return type_err(err, field, s, j);
    }
    if (rc != 0)
        return VG_ERR_SET(err, VG_EINVAL, "avro: field '%s': %s", field, avro_strerror());
    return 0;
}

/* Append the binary encoding of value to out. */
static int write_value(avro_value_t *value, struct vg_buf *out, struct vg_err *err)
{
    size_t size = 0;
    if (avro_value_sizeof(value, &size) != 0)
        return VG_ERR_SET(err, VG_EINVAL, "avro: %s", avro_strerror());
    char *w = vg_buf_reserve(out, size);
    avro_writer_t writer = avro_writer_memory(w, (int64_t)size);
    int rc = avro_value_write(writer, value);
    avro_writer_free(writer);
    if (rc != 0)
        return VG_ERR_SET(err, VG_EINVAL, "avro: %s", avro_strerror());
    out->len += size;
    return 0;
}

int vg_avro_from_json(const struct vg_avro_schema *s, const char *json, size_t len,
                      struct vg_buf *out, struct vg_err *err)
{
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    struct vg_json_simd *js = vg_json_simd_new();
    avro_value_iface_t *iface = avro_generic_class_from_schema(s->schema);
    avro_value_t value = {NULL, NULL};
    struct vg_json_node root;
    int rc = vg_json_simd_tree(js, json, len, &arena, &root, err);
    if (rc)
        goto out;
    if (root.kind != VG_JSON_OBJECT) {
        rc = VG_ERR_SET(err, VG_EINVAL, "not a JSON object");
        goto out;
    }
    if (!iface || avro_generic_value_new(iface, &value) != 0) {
        rc = VG_ERR_SET(err, VG_EINVAL, "avro: %s", avro_strerror());
        goto out;
    }
    rc = set_record(&value, s->schema, &root, &arena, err);
    if (rc == 0)
        rc = write_value(&value, out, err);
out:
    if (value.self)
        avro_value_decref(&value);
    if (iface)
        avro_value_iface_decref(iface);
    vg_json_simd_free(js);
    vg_arena_fini(&arena);
    return rc;
}

/* ---- alerts ---- */

static const struct {
    const char *name;
    avro_type_t type;
} alert_fields[AF_COUNT] = {
    [AF_ALERT_ID] = {"alert_id", AVRO_STRING},
    [AF_RULE_ID] = {"rule_id", AVRO_STRING},
    [AF_TITLE] = {"title", AVRO_STRING},
    [AF_SEVERITY] = {"severity", AVRO_STRING},
    [AF_TAGS] = {"tags", AVRO_ARRAY},
    [AF_TOPOLOGY] = {"topology", AVRO_STRING},
    [AF_KEY] = {"key", AVRO_STRING},
    [AF_WINDOW_START] = {"window_start", AVRO_UNION},
    [AF_WINDOW_END] = {"window_end", AVRO_UNION},
    [AF_EVENT_TIME] = {"event_time", AVRO_INT64},
    [AF_DETECTED_AT] = {"detected_at", AVRO_INT64},
    [AF_SOURCE] = {"source", AVRO_RECORD},
    [AF_LATENCY_MS] = {"latency_ms", AVRO_INT64},
    [AF_FIELDS] = {"fields", AVRO_STRING},
};

/* Is s the schema of schemas/alert.avsc (field names, order and types)? On success
 * *null_branch is the branch of "null" in the window unions. */
static int check_alert_schema(avro_schema_t s, int *null_branch, struct vg_err *err)
{
    if (avro_schema_record_size(s) != AF_COUNT)
        return VG_ERR_SET(err, VG_EINVAL, "avro: not the alert schema: %zu fields, expected %d",
                          avro_schema_record_size(s), AF_COUNT);
    for (int i = 0; i < AF_COUNT; i++) {
        const char *name = avro_schema_record_field_name(s, i);
        avro_schema_t fs = resolve(avro_schema_record_field_get_by_index(s, i));
        if (strcmp(name, alert_fields[i].name) != 0 || avro_typeof(fs) != alert_fields[i].type)
            return VG_ERR_SET(err, VG_EINVAL,
                              "avro: not the alert schema: field %d is '%s' (%s), expected "
                              "'%s'",
                              i, name, avro_schema_type_name(fs), alert_fields[i].name);
        bool ok = true;
        if (i == AF_TAGS)
            ok = is_avro_string(resolve(avro_schema_array_items(fs)));
        if (i == AF_WINDOW_START || i == AF_WINDOW_END) {
            ok = avro_schema_union_size(fs) == 2;
            for (int b = 0; ok && b < 2; b++) {
                avro_schema_t bs = resolve(avro_schema_union_branch(fs, b));
                if (is_avro_null(bs))
                    *null_branch = b;
                else
                    ok = is_avro_int64(bs);
            }
        }
        if (i == AF_SOURCE) {
            static const char *const names[] = {"topic", "partition", "offset"};
            static const avro_type_t types[] = {AVRO_STRING, AVRO_INT32, AVRO_INT64};
            ok = avro_schema_record_size(fs) == 3;
            for (int k = 0; ok && k < 3; k++)
                ok = strcmp(avro_schema_record_field_name(fs, k), names[k]) == 0 &&
                     avro_typeof(resolve(avro_schema_record_field_get_by_index(fs, k))) ==
                         types[k];
        }
        if (!ok)
            return VG_ERR_SET(err, VG_EINVAL, "avro: not the alert schema: field '%s' has the "
                                              "wrong shape", name);
    }
    return 0;
}

struct vg_avro_encoder *vg_avro_encoder_new(const struct vg_avro_schema *s, struct vg_err *err)
{
    int null_branch = 0;
    if (check_alert_schema(s->schema, &null_branch, err) != 0)
        return NULL;
    struct vg_avro_encoder *e = vg_xcalloc(1, sizeof(*e));
    e->s = s;
    e->null_branch = null_branch;
    e->iface = avro_generic_class_from_schema(s->schema);
    if (!e->iface || avro_generic_value_new(e->iface, &e->value) != 0) {
        VG_ERR_SET(err, VG_EINVAL, "avro: %s", avro_strerror());
        if (e->iface)
            avro_value_iface_decref(e->iface);
        vg_free(e);
        return NULL;
    }
    e->reader = avro_reader_memory("", 0);
    vg_buf_init(&e->tmp);
    return e;
}

void vg_avro_encoder_free(struct vg_avro_encoder *e)
{
    if (!e)
        return;
    avro_value_decref(&e->value);
    avro_value_iface_decref(e->iface);
    avro_reader_free(e->reader);
    vg_buf_fini(&e->tmp);
    vg_free(e->tags);
    vg_free(e);
}

/* Set a string field from s[0..n) (not necessarily NUL-terminated). */
static int set_str(struct vg_avro_encoder *e, avro_value_t *v, const char *s, size_t n)
{
    vg_buf_clear(&e->tmp);
    vg_buf_append(&e->tmp, s ? s : "", s ? n : 0);
    vg_buf_putc(&e->tmp, '\0');
    return avro_value_set_string_len(v, e->tmp.data, e->tmp.len);
}

static int set_cstr(struct vg_avro_encoder *e, avro_value_t *v, const char *s)
{
    return set_str(e, v, s, s ? strlen(s) : 0);
}

static int set_window(struct vg_avro_encoder *e, avro_value_t *v, vg_time_ms t)
{
    avro_value_t branch;
    if (t < 0)
        return avro_value_set_branch(v, e->null_branch, &branch) ||
               avro_value_set_null(&branch);
    return avro_value_set_branch(v, 1 - e->null_branch, &branch) ||
           avro_value_set_long(&branch, t);
}

int vg_avro_encode_alert(struct vg_avro_encoder *e, const struct vg_alert *a, struct vg_buf *out,
                         struct vg_err *err)
{
    avro_value_t f[AF_COUNT], src, item;
    avro_value_reset(&e->value);
    for (int i = 0; i < AF_COUNT; i++)
        if (avro_value_get_by_index(&e->value, (size_t)i, &f[i], NULL) != 0)
            return VG_ERR_SET(err, VG_EINVAL, "avro: %s", avro_strerror());
    const char *key = a->key_json && *a->key_json ? a->key_json : "null";
    size_t fields_len = a->fields_json ? (a->fields_len ? a->fields_len : strlen(a->fields_json))
                                       : 0;
    int rc = set_cstr(e, &f[AF_ALERT_ID], a->alert_id) ||
             set_cstr(e, &f[AF_RULE_ID], a->rule_id) || set_cstr(e, &f[AF_TITLE], a->title) ||
             set_cstr(e, &f[AF_SEVERITY], a->severity) ||
             set_cstr(e, &f[AF_TOPOLOGY], a->topology) || set_cstr(e, &f[AF_KEY], key) ||
             set_window(e, &f[AF_WINDOW_START], a->window_start) ||
             set_window(e, &f[AF_WINDOW_END], a->window_end) ||
             avro_value_set_long(&f[AF_EVENT_TIME], a->event_time) ||
             avro_value_set_long(&f[AF_DETECTED_AT], a->detected_at) ||
             avro_value_set_long(&f[AF_LATENCY_MS], a->latency_ms) ||
             (fields_len ? set_str(e, &f[AF_FIELDS], a->fields_json, fields_len)
                         : set_cstr(e, &f[AF_FIELDS], "{}"));
    for (size_t i = 0; rc == 0 && i < a->n_tags; i++)
        rc = avro_value_append(&f[AF_TAGS], &item, NULL) || set_cstr(e, &item, a->tags[i]);
    for (int k = 0; rc == 0 && k < 3; k++) {
        rc = avro_value_get_by_index(&f[AF_SOURCE], (size_t)k, &src, NULL);
        if (rc == 0)
            rc = k == 0   ? set_cstr(e, &src, a->src_topic)
                 : k == 1 ? avro_value_set_int(&src, a->src_partition)
                          : avro_value_set_long(&src, a->src_offset);
    }
    if (rc != 0)
        return VG_ERR_SET(err, VG_EINVAL, "avro: %s", avro_strerror());
    return write_value(&e->value, out, err);
}

static vg_time_ms get_window(avro_value_t *v)
{
    int64_t t = -1;
    if (branch_of(v) == AVRO_INT64)
        avro_value_get_long(v, &t);
    return t;
}

static int64_t get_long(avro_value_t *v)
{
    int64_t t = 0;
    avro_value_get_long(v, &t);
    return t;
}

int vg_avro_alert_to_json(struct vg_avro_encoder *e, const char *buf, size_t len,
                          struct vg_buf *out, struct vg_err *err)
{
    int rc = read_record(e->s->schema, e->reader, &e->value, buf, len, err);
    if (rc)
        return rc;
    avro_value_t f[AF_COUNT], src[3];
    for (int i = 0; i < AF_COUNT; i++)
        avro_value_get_by_index(&e->value, (size_t)i, &f[i], NULL);
    for (int k = 0; k < 3; k++)
        avro_value_get_by_index(&f[AF_SOURCE], (size_t)k, &src[k], NULL);
    struct vg_alert a = {0};
    size_t n;
    const char *id = get_str(&f[AF_ALERT_ID], &n);
    memcpy(a.alert_id, id, VG_MIN(n, sizeof(a.alert_id) - 1));
    a.rule_id = get_str(&f[AF_RULE_ID], &n);
    a.title = get_str(&f[AF_TITLE], &n);
    a.severity = get_str(&f[AF_SEVERITY], &n);
    a.topology = get_str(&f[AF_TOPOLOGY], &n);
    a.key_json = get_str(&f[AF_KEY], &n);
    a.fields_json = get_str(&f[AF_FIELDS], &a.fields_len);
    a.window_start = get_window(&f[AF_WINDOW_START]);
    a.window_end = get_window(&f[AF_WINDOW_END]);
    a.event_time = get_long(&f[AF_EVENT_TIME]);
    a.detected_at = get_long(&f[AF_DETECTED_AT]);
    a.latency_ms = get_long(&f[AF_LATENCY_MS]);
    a.src_topic = get_str(&src[0], &n);
    avro_value_get_int(&src[1], &a.src_partition);
    a.src_offset = get_long(&src[2]);
    avro_value_get_size(&f[AF_TAGS], &a.n_tags);
    if (a.n_tags > e->tags_cap) {
        e->tags_cap = a.n_tags;
        e->tags = vg_xrealloc(e->tags, e->tags_cap * sizeof(*e->tags));
    }
    for (size_t i = 0; i < a.n_tags; i++) {
        avro_value_t item;
        avro_value_get_by_index(&f[AF_TAGS], i, &item, NULL);
        e->tags[i] = get_str(&item, &n);
    }
    a.tags = e->tags;
    vg_alert_to_json(&a, out);
    return 0;
}
