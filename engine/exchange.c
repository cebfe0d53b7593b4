/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exchange.c - repartition records and their readers (exchange.h).
 *
 * Data record:    'E' writer:u32 offset:i64 ts:i64 append:i64 n:u32 value*n
 * Control record: 'W' n:u32 (writer:u32 wm:i64 idle:u8)*n
 * A reader holds a few partitions with a few dozen writers each: linear scans.
 *
 * Thread: a reader belongs to one stream thread.
 */
#include "exchange.h"

#include <string.h>

void vg_x_key(struct vg_buf *out, const struct vg_value *slots, const int *key_slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_value_save(&slots[key_slots[i]], out);
}

void vg_x_encode_data(struct vg_buf *out, const struct vg_x_head *h, const struct vg_value *slots,
                      const int *val_slots, size_t n)
{
    vg_buf_putc(out, VG_X_DATA);
    vg_put_u32(out, h->writer);
    vg_put_u64(out, (uint64_t)h->offset);
    vg_put_u64(out, (uint64_t)h->ts);
    vg_put_u64(out, (uint64_t)h->append_ms);
    vg_put_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        vg_value_save(&slots[val_slots[i]], out);
}

void vg_x_encode_control(struct vg_buf *out, const struct vg_x_mark *marks, size_t n,
                         vg_time_ms sent_ms)
{
    vg_buf_putc(out, VG_X_CONTROL);
    vg_put_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        vg_put_u32(out, marks[i].writer);
        vg_put_u64(out, (uint64_t)marks[i].wm);
        vg_buf_putc(out, marks[i].idle ? 1 : 0);
    }
    vg_put_u64(out, (uint64_t)sent_ms);
}

int vg_x_decode_data(const char *p, size_t len, struct vg_x_head *h, struct vg_value *slots,
                     const int *val_slots, size_t n, struct vg_arena *arena, const char **rest)
{
    const char *end = p + len;
    uint32_t count;
    if (len < 1 || *p++ != VG_X_DATA || vg_get_u32(&p, end, &h->writer) ||
        vg_get_i64(&p, end, &h->offset) || vg_get_i64(&p, end, &h->ts) ||
        vg_get_i64(&p, end, &h->append_ms) || vg_get_u32(&p, end, &count) || count != n)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (vg_value_load(&slots[val_slots[i]], &p, end, arena) != 0)
            return -1;
    if (rest) {
        *rest = p;
        return 0;
    }
    return p == end ? 0 : -1;
}

/* ---- reader ---- */

void vg_x_reader_init(struct vg_x_reader *r)
{
    memset(r, 0, sizeof(*r));
}

void vg_x_reader_fini(struct vg_x_reader *r)
{
    for (size_t i = 0; i < r->n; i++)
        vg_free(r->parts[i].w);
    vg_free(r->parts);
    memset(r, 0, sizeof(*r));
}

static struct vg_x_part *part_get(struct vg_x_reader *r, int32_t partition, bool make)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->parts[i].partition == partition)
            return &r->parts[i];
    if (!make)
        return NULL;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->parts = vg_xrealloc(r->parts, r->cap * sizeof(*r->parts));
    }
    struct vg_x_part *p = &r->parts[r->n++];
    memset(p, 0, sizeof(*p));
    p->partition = partition;
    return p;
}

static struct vg_x_writer_state *writer_get(struct vg_x_part *p, uint32_t writer)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->w[i].writer == writer)
            return &p->w[i];
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->w = vg_xrealloc(p->w, p->cap * sizeof(*p->w));
    }
    struct vg_x_writer_state *w = &p->w[p->n++];
    *w = (struct vg_x_writer_state){.writer = writer, .offset = -1, .wm = INT64_MIN};
    return w;
}

bool vg_x_accept(struct vg_x_reader *r, int32_t partition, uint32_t writer, int64_t offset)
{
    struct vg_x_writer_state *w = writer_get(part_get(r, partition, true), writer);
    if (offset <= w->offset)
        return false;
    w->offset = offset;
    return true;
}

int vg_x_control(struct vg_x_reader *r, int32_t partition, const char *p, size_t len)
{
    const char *end = p + len;
    uint32_t n;
    int64_t sent_ms = 0;
    if (len < 1 || *p++ != VG_X_CONTROL || vg_get_u32(&p, end, &n) ||
        (uint64_t)(end - p) != (uint64_t)n * 13 + 8)
        return -1;
    const char *tail = end - 8;
    vg_get_i64(&tail, end, &sent_ms);
    end -= 8;
    struct vg_x_part *part = part_get(r, partition, true);
    if (sent_ms > part->latest_ms)
        part->latest_ms = sent_ms;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t writer;
        int64_t wm;
        vg_get_u32(&p, end, &writer);
        vg_get_i64(&p, end, &wm);
        struct vg_x_writer_state *w = writer_get(part, writer);
        if (wm > w->wm)
            w->wm = wm; /* a writer restarted with less history never moves time back */
        w->idle = *p++ != 0;
        w->heard = true;
        w->said_ms = sent_ms;
    }
    return 0;
}

/* A writer's idle claim holds while it keeps repeating it: one that has not spoken for
 * VG_X_SILENT_MS of the other writers' time (its owner died, or is stuck) holds event time
 * back at its watermark until its partition's next owner speaks. */
static bool writer_idle(const struct vg_x_part *p, const struct vg_x_writer_state *w)
{
    return w->idle && p->latest_ms - w->said_ms <= VG_X_SILENT_MS;
}

vg_time_ms vg_x_watermark(const struct vg_x_reader *r, int32_t partition, bool *idle)
{
    *idle = false;
    const struct vg_x_part *p = part_get((struct vg_x_reader *)r, partition, false);
    if (!p || r->n_writers == 0)
        return INT64_MIN;
    size_t heard = 0;
    vg_time_ms active = INT64_MAX, any = INT64_MIN;
    for (size_t i = 0; i < p->n; i++) {
        const struct vg_x_writer_state *w = &p->w[i];
        if (!w->heard)
            continue;
        heard++;
        if (w->wm > any)
            any = w->wm;
        if (!writer_idle(p, w) && w->wm < active)
            active = w->wm;
    }
    if (heard < r->n_writers)
        return INT64_MIN;
    *idle = active == INT64_MAX;
    return *idle ? any : active;
}

void vg_x_restore(struct vg_x_reader *r, int32_t partition, uint32_t writer, int64_t offset,
                  vg_time_ms wm)
{
    struct vg_x_writer_state *w = writer_get(part_get(r, partition, true), writer);
    w->offset = VG_MAX(w->offset, offset);
    if (wm > w->wm)
        w->wm = wm;
    /* what it said before the checkpoint holds for everything it wrote after */
    w->heard = w->heard || wm != INT64_MIN;
}

const struct vg_x_part *vg_x_part(const struct vg_x_reader *r, int32_t partition)
{
    return part_get((struct vg_x_reader *)r, partition, false);
}

void vg_x_forget(struct vg_x_reader *r, int32_t partition)
{
    struct vg_x_part *p = part_get(r, partition, false);
    if (!p)
        return;
    vg_free(p->w);
    *p = r->parts[--r->n];
}
