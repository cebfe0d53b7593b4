/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_envelope.c - kcat's JSON envelope (`kcat -C -J`): one Kafka record per line, as
 *   {"topic":"auth","partition":2,"offset":41,"tstype":"create","ts":1767225600000,
 *    "broker":1,"key":"u1","payload":"{\"user\":\"u1\"}"}
 * read back into what vigil replay gives the engine: the record's partition and offset (so
 * per-partition event time, lateness and alert ids are those of the live run), its timestamp,
 * and its value, the payload string unescaped into the bytes the topic held.
 *
 * file_input.c calls it for every line of a file whose first non-empty line passed
 * vg_file_envelope_is; a line that does not parse is a dead letter with the reason given
 * here.
 *
 * DESIGN: a scanner of its own, not the event decoder (simdjson): kcat copies the value's
 * bytes into the string as they are, escaping only quotes, backslashes and control
 * characters, so a binary value (Avro) is not valid UTF-8 and a validating parser would refuse
 * the line. Inside strings any byte but '"' and '\' is taken as it is; the rest is strict
 * JSON. Values of other fields (headers, a key kcat decoded with -s) are checked and skipped,
 * nested up to 64 deep.
 *
 * Thread: any.
 */
#include "file_envelope.h"

#define MAX_DEPTH 64

struct scan {
    const char *p, *end;
};

/* A value's text in the line; at is NULL when the field is absent. */
struct span {
    const char *at, *end;
};

enum field { F_TOPIC, F_PARTITION, F_OFFSET, F_TS, F_PAYLOAD, F_N };
static const char *const field_names[F_N] = {"topic", "partition", "offset", "ts", "payload"};

static void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A string whose opening quote is at s->p; s->p after its closing quote. */
static bool skip_string(struct scan *s)
{
    if (s->p >= s->end || *s->p != '"')
        return false;
    const char *q = s->p + 1;
    for (;;) {
        while (q < s->end && *q != '"' && *q != '\\')
            q++;
        if (q >= s->end)
            return false;
        if (*q == '"')
            break;
        if (q + 1 >= s->end)
            return false;
        char e = q[1];
        if (e == 'u') {
            if (s->end - q < 6 || hex4(q + 2) < 0)
                return false;
            q += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
            q += 2;
        } else {
            return false;
        }
    }
    s->p = q + 1;
    return true;
}

static bool skip_digits(struct scan *s)
{
    const char *from = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > from;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool skip_number(struct scan *s)
{
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!skip_digits(s))
        return false;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!skip_digits(s))
            return false;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!skip_digits(s))
            return false;
    }
    return true;
}

static bool skip_word(struct scan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool skip_value(struct scan *s, int depth);

/* An object or array whose bracket is at s->p (members "key": value, or values). */
static bool skip_nested(struct scan *s, int depth)
{
    char close = *s->p == '{' ? '}' : ']';
    if (depth >= MAX_DEPTH)
        return false;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    for (;;) {
        if (close == '}') {
            if (!skip_string(s))
                return false;
            ws(s);
            if (s->p >= s->end || *s->p != ':')
                return false;
            s->p++;
            ws(s);
        }
        if (!skip_value(s, depth + 1))
            return false;
        ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == close) {
            s->p++;
            return true;
        }
        if (*s->p != ',')
            return false;
        s->p++;
        ws(s);
    }
}

/* One JSON value starting at s->p; s->p after it. */
static bool skip_value(struct scan *s, int depth)
{
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '"':
        return skip_string(s);
    case '{':
    case '[':
        return skip_nested(s, depth);
    case 't':
        return skip_word(s, "true", 4);
    case 'f':
        return skip_word(s, "false", 5);
    case 'n':
        return skip_word(s, "null", 4);
    default:
        return skip_number(s);
    }
}

/* The top-level object of line: the spans of the fields vigil reads (the last one of a name
 * given twice). false with *bad_at (0-based) where it stops being one well-formed object. */
static bool scan_object(const char *line, size_t len, struct span *spans, size_t *bad_at)
{
    struct scan s = {line, line + len};
    memset(spans, 0, F_N * sizeof(*spans));
    ws(&s);
    bool ok = s.p < s.end && *s.p == '{';
    if (ok) {
        s.p++;
        ws(&s);
        if (s.p < s.end && *s.p == '}')
            s.p++;
        else
            for (;;) {
                const char *key = s.p;
                if (!(ok = skip_string(&s)))
                    break;
                size_t key_len = (size_t)(s.p - key) - 2;
                ws(&s);
                if (!(ok = s.p < s.end && *s.p == ':'))
                    break;
                s.p++;
                ws(&s);
                const char *at = s.p;
                if (!(ok = skip_value(&s, 1)))
                    break;
                for (int f = 0; f < F_N; f++)
                    if (strlen(field_names[f]) == key_len &&
                        memcmp(field_names[f], key + 1, key_len) == 0)
                        spans[f] = (struct span){at, s.p};
                ws(&s);
                if (!(ok = s.p < s.end && (*s.p == ',' || *s.p == '}')))
                    break;
                if (*s.p++ == '}')
                    break;
                ws(&s);
            }
    }
    if (ok) {
        ws(&s);
        ok = s.p == s.end; /* nothing after the object */
    }
    *bad_at = (size_t)(s.p - line);
    return ok;
}

bool vg_file_envelope_is(const char *line, size_t len)
{
    struct span spans[F_N];
    size_t bad_at;
    return scan_object(line, len, spans, &bad_at) && spans[F_PARTITION].at &&
           spans[F_OFFSET].at && spans[F_PAYLOAD].at;
}

static bool is_null(const struct span *v)
{
    return v->end - v->at == 4 && memcmp(v->at, "null", 4) == 0;
}

/* An integer value (no fraction, no exponent) that fits in int64_t. */
static bool int_of(const struct span *v, int64_t *out)
{
    const char *p = v->at;
    bool neg = p < v->end && *p == '-';
    p += neg;
    if (p >= v->end)
        return false;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, n = 0;
    for (; p < v->end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (n > (limit - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *out = neg ? (int64_t)(0 - n) : (int64_t)n;
    return true;
}

static void put_utf8(struct vg_buf *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    vg_buf_append(b, u, n);
}

/* The inside of a string already checked by skip_string, escapes undone, appended to b;
 * false on a \u escape of half a surrogate pair. */
static bool unescape(const char *p, const char *end, struct vg_buf *b)
{
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        if (!bs) {
            vg_buf_append(b, p, (size_t)(end - p));
            return true;
        }
        vg_buf_append(b, p, (size_t)(bs - p));
        char e = bs[1];
        p = bs + 2;
        switch (e) {
        case 'b': vg_buf_putc(b, '\b'); break;
        case 'f': vg_buf_putc(b, '\f'); break;
        case 'n': vg_buf_putc(b, '\n'); break;
        case 'r': vg_buf_putc(b, '\r'); break;
        case 't': vg_buf_putc(b, '\t'); break;
        case 'u': {
            unsigned long cp = (unsigned long)hex4(p);
            p += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return false;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                long lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return false;
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
                p += 6;
            }
            put_utf8(b, cp);
            break;
        }
        default: vg_buf_putc(b, e); break; /* " \ / */
        }
    }
    return true;
}

int vg_file_envelope_parse(const char *line, size_t len, struct vg_buf *buf,
                           struct vg_file_envelope *env, struct vg_err *err)
{
    struct span v[F_N];
    size_t bad_at;
    memset(env, 0, sizeof(*env));
    if (!scan_object(line, len, v, &bad_at)) {
        size_t lead = 0;
        while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        if (lead == len || line[lead] != '{')
            return VG_ERR_SET(err, VG_EINVAL, "envelope: not a JSON object");
        if (bad_at >= len)
            return VG_ERR_SET(err, VG_EINVAL, "envelope: invalid JSON: the line ends inside it");
        return VG_ERR_SET(err, VG_EINVAL, "envelope: invalid JSON at byte %zu", bad_at + 1);
    }
    static const enum field required[] = {F_PARTITION, F_OFFSET, F_PAYLOAD};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!v[required[i]].at)
            return VG_ERR_SET(err, VG_EINVAL, "envelope: no '%s'", field_names[required[i]]);
    int64_t n;
    if (!int_of(&v[F_PARTITION], &n) || n < 0 || n > INT32_MAX)
        return VG_ERR_SET(err, VG_EINVAL,
                          "envelope: 'partition' is not an integer in 0..2147483647");
    env->partition = (int32_t)n;
    if (!int_of(&v[F_OFFSET], &env->offset) || env->offset < 0)
        return VG_ERR_SET(err, VG_EINVAL, "envelope: 'offset' is not an integer >= 0");
    env->ts = INT64_MIN;
    if (v[F_TS].at && !is_null(&v[F_TS]) && !int_of(&v[F_TS], &env->ts))
        return VG_ERR_SET(err, VG_EINVAL, "envelope: 'ts' is not an integer or null");
    if (v[F_TOPIC].at && !is_null(&v[F_TOPIC])) {
        if (*v[F_TOPIC].at != '"')
            return VG_ERR_SET(err, VG_EINVAL, "envelope: 'topic' is not a string or null");
        env->topic = v[F_TOPIC].at + 1;
        env->topic_len = (size_t)(v[F_TOPIC].end - v[F_TOPIC].at) - 2;
    }
    const struct span *pl = &v[F_PAYLOAD];
    if (is_null(pl))
        return 0; /* a tombstone: no value */
    if (*pl->at != '"')
        return VG_ERR_SET(err, VG_EINVAL, "envelope: 'payload' is not a string or null");
    const char *in = pl->at + 1, *in_end = pl->end - 1;
    if (!memchr(in, '\\', (size_t)(in_end - in))) {
        env->payload = in;
        env->payload_len = (size_t)(in_end - in);
        return 0;
    }
    vg_buf_clear(buf);
    if (!unescape(in, in_end, buf))
        return VG_ERR_SET(err, VG_EINVAL,
                          "envelope: 'payload' holds a \\u escape of half a surrogate pair");
    env->payload = buf->data;
    env->payload_len = buf->len;
    env->payload_copied = true;
    return 0;
}
