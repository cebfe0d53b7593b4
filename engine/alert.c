/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alert.c - the deterministic alert id and the JSON and text forms of an alert.
 *
 * The rules operator fills a struct vg_alert and calls vg_alert_id on its stream thread;
 * the sink calls vg_alert_to_json or vg_alert_to_text (or the Avro encoder in codec_avro.c,
 * whose JSON decoding reuses vg_alert_to_json so both shapes are one). Nothing here keeps
 * state or allocates beyond the output buffer.
 *
 * DESIGN: the id is SipHash-2-4 with 128-bit output under a fixed key ("vigil.alert.id.1")
 * over an unambiguous encoding of the identifying fields: each string as its length (8 bytes,
 * little-endian) and bytes, each integer as 8 bytes little-endian, in the order topology,
 * rule_id, key_json (NULL or "" hashed as "null"), then either 'W' window_start window_end
 * (window_start >= 0) or 'S' src_topic src_partition src_offset, then 'P' src_ident when it is
 * not 0 (a join's pair, which shares its source position with other pairs). The 16 bytes in
 * SipHash's byte order are printed as 32 lowercase hex digits. Byte order and word size are
 * fixed by the arithmetic, so the id is the same on every platform and run; changing the
 * encoding or the key changes every id and needs a new key version.
 *
 * Thread: any.
 */
#include "alert.h"

#include <inttypes.h>
#include <string.h>

/* ---- SipHash-2-4-128, streaming ---- */

struct sip {
    uint64_t v0, v1, v2, v3;
    uint64_t tail; /* pending bytes, little-endian */
    size_t n_tail;
    uint64_t len;
};

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(struct sip *s)
{
    s->v0 += s->v1;
    s->v1 = ROTL(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = ROTL(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = ROTL(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = ROTL(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = ROTL(s->v2, 32);
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void sip_init(struct sip *s, const unsigned char key[16])
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    s->v0 = k0 ^ 0x736f6d6570736575ULL;
    s->v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee;
    s->v2 = k0 ^ 0x6c7967656e657261ULL;
    s->v3 = k1 ^ 0x7465646279746573ULL;
    s->tail = 0;
    s->n_tail = 0;
    s->len = 0;
}

static void sip_word(struct sip *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

static void sip_update(struct sip *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->len += n;
    for (size_t i = 0; i < n; i++) {
        s->tail |= (uint64_t)p[i] << (8 * s->n_tail);
        if (++s->n_tail == 8) {
            sip_word(s, s->tail);
            s->tail = 0;
            s->n_tail = 0;
        }
    }
}

static void sip_final(struct sip *s, unsigned char out[16])
{
    sip_word(s, s->tail | (s->len << 56));
    uint64_t w[2];
    s->v2 ^= 0xee;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 4; i++)
            sip_round(s);
        w[k] = s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
        s->v1 ^= 0xdd;
    }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 8; i++)
            out[8 * k + i] = (unsigned char)(w[k] >> (8 * i));
}

static void put_u64(struct sip *s, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    sip_update(s, b, sizeof(b));
}

static void put_str(struct sip *s, const char *str)
{
    size_t n = str ? strlen(str) : 0;
    put_u64(s, n);
    sip_update(s, str, n);
}

void vg_alert_id(const struct vg_alert *a, char out[33])
{
    static const unsigned char key[16] = "vigil.alert.id.1";
    static const char hex[] = "0123456789abcdef";
    struct sip s;
    sip_init(&s, key);
    put_str(&s, a->topology);
    put_str(&s, a->rule_id);
    put_str(&s, a->key_json && *a->key_json ? a->key_json : "null");
    if (a->window_start >= 0) {
        sip_update(&s, "W", 1);
        put_u64(&s, (uint64_t)a->window_start);
        put_u64(&s, (uint64_t)a->window_end);
    } else {
        sip_update(&s, "S", 1);
        put_str(&s, a->src_topic);
        put_u64(&s, (uint64_t)(int64_t)a->src_partition);
        put_u64(&s, (uint64_t)a->src_offset);
        if (a->src_ident) { /* a join's pair: the other event too */
            sip_update(&s, "P", 1);
            put_u64(&s, a->src_ident);
        }
    }
    unsigned char h[16];
    sip_final(&s, h);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[32] = '\0';
}

/* ---- JSON and text ---- */

static void put_json_str(struct vg_buf *out, const char *s)
{
    vg_buf_json_str(out, s ? s : "", s ? strlen(s) : 0);
}

/* text (the field's name and what comes before it), then v in decimal */
static void put_i64_after(struct vg_buf *out, const char *text, int64_t v)
{
    vg_buf_puts(out, text);
    vg_buf_put_i64(out, v);
}

static void put_time(struct vg_buf *out, vg_time_ms t)
{
    if (t < 0)
        vg_buf_puts(out, "null");
    else
        vg_buf_put_i64(out, t);
}

void vg_alert_to_json(const struct vg_alert *a, struct vg_buf *out)
{
    vg_buf_puts(out, "{\"alert_id\":");
    vg_buf_json_str(out, a->alert_id, strnlen(a->alert_id, sizeof(a->alert_id) - 1));
    vg_buf_puts(out, ",\"rule_id\":");
    put_json_str(out, a->rule_id);
    vg_buf_puts(out, ",\"title\":");
    put_json_str(out, a->title);
    vg_buf_puts(out, ",\"severity\":");
    put_json_str(out, a->severity);
    vg_buf_puts(out, ",\"tags\":[");
    for (size_t i = 0; i < a->n_tags; i++) {
        if (i)
            vg_buf_putc(out, ',');
        put_json_str(out, a->tags[i]);
    }
    vg_buf_puts(out, "],\"topology\":");
    put_json_str(out, a->topology);
    vg_buf_puts(out, ",\"key\":");
    vg_buf_puts(out, a->key_json && *a->key_json ? a->key_json : "null");
    vg_buf_puts(out, ",\"window_start\":");
    put_time(out, a->window_start);
    vg_buf_puts(out, ",\"window_end\":");
    put_time(out, a->window_end);
    put_i64_after(out, ",\"event_time\":", a->event_time);
    put_i64_after(out, ",\"detected_at\":", a->detected_at);
    vg_buf_puts(out, ",\"source\":{\"topic\":");
    put_json_str(out, a->src_topic);
    put_i64_after(out, ",\"partition\":", a->src_partition);
    put_i64_after(out, ",\"offset\":", a->src_offset);
    put_i64_after(out, "},\"latency_ms\":", a->latency_ms);
    vg_buf_puts(out, ",\"fields\":");
    size_t n = a->fields_json ? (a->fields_len ? a->fields_len : strlen(a->fields_json)) : 0;
    if (n)
        vg_buf_append(out, a->fields_json, n);
    else
        vg_buf_puts(out, "{}");
    if (a->replay)
        vg_buf_puts(out, ",\"replay\":true");
    vg_buf_putc(out, '}');
}

void vg_alert_to_text(const struct vg_alert *a, struct vg_buf *out)
{
    vg_buf_printf(out, "[%s] %s key=%s latency=%" PRId64 "ms %s",
                  a->severity ? a->severity : "?", a->rule_id ? a->rule_id : "?",
                  a->key_text && *a->key_text ? a->key_text : "-", a->latency_ms,
                  a->title ? a->title : "");
}
