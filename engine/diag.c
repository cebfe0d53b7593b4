/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diag.c - collecting, sorting and printing load-time diagnostics (see diag.h).
 *
 * Thread: main (load time).
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void vg_diag_init(struct vg_diag *d)
{
    d->items = NULL;
    d->n = d->cap = 0;
}

void vg_diag_fini(struct vg_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        vg_free(d->items[i].file);
        vg_free(d->items[i].msg);
        vg_free(d->items[i].hint);
    }
    vg_free(d->items);
    vg_diag_init(d);
}

void vg_diag_add(struct vg_diag *d, struct vg_mark mark, const char *hint, const char *fmt, ...)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->items = vg_xrealloc(d->items, d->cap * sizeof(*d->items));
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct vg_diag_item *it = &d->items[d->n++];
    it->file = vg_xstrdup(mark.file ? mark.file : "<input>");
    it->line = mark.line;
    it->col = mark.col;
    it->msg = vg_xstrdup(msg);
    it->hint = hint ? vg_xstrdup(hint) : NULL;
}

static int item_cmp(const void *a, const void *b)
{
    const struct vg_diag_item *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return 0;
}

void vg_diag_format(const struct vg_diag *d, size_t i, char *buf, size_t size)
{
    const struct vg_diag_item *it = &d->items[i];
    if (it->hint)
        snprintf(buf, size, "%s:%d:%d: error: %s (%s)", it->file, it->line, it->col, it->msg,
                 it->hint);
    else
        snprintf(buf, size, "%s:%d:%d: error: %s", it->file, it->line, it->col, it->msg);
}

void vg_diag_print(struct vg_diag *d, FILE *out)
{
    /* insertion sort keeps equal positions in the order they were found (stable) */
    for (size_t i = 1; i < d->n; i++) {
        struct vg_diag_item tmp = d->items[i];
        size_t j = i;
        while (j > 0 && item_cmp(&d->items[j - 1], &tmp) > 0) {
            d->items[j] = d->items[j - 1];
            j--;
        }
        d->items[j] = tmp;
    }
    char buf[2048];
    for (size_t i = 0; i < d->n; i++) {
        vg_diag_format(d, i, buf, sizeof(buf));
        fprintf(out, "%s\n", buf);
    }
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = VG_MIN(sub, VG_MIN(del, ins));
            prev = cur;
        }
    }
    return row[lb];
}

const char *vg_diag_closest(const char *word, const char *const *candidates, size_t n)
{
    size_t best = (size_t)-1;
    const char *pick = NULL;
    size_t limit = strlen(word) / 3;
    if (limit < 2)
        limit = 2;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(word, candidates[i]);
        if (dist < best) {
            best = dist;
            pick = candidates[i];
        }
    }
    return best <= limit ? pick : NULL;
}
