/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diag.h - the collected diagnostics of one topology load.
 *
 * Every check (YAML, keys, expressions, DAG) appends here and keeps going, so
 * `vigil validate` reports all problems of a file in one run. Each diagnostic carries the
 * topology file, 1-based line and column (inside an expression: the column of the offending
 * character in the file), a message and an optional hint, and prints as
 *   file:line:col: error: message (hint)
 * sorted by file, line and column.
 *
 * Thread: main (load time).
 */
#ifndef VG_DIAG_H
#define VG_DIAG_H

#include <stdio.h>

#include "vg_common.h"

/* A position in a topology file. line and col are 1-based; 0 means unknown. */
struct vg_mark {
    const char *file;
    int line;
    int col;
};

struct vg_diag_item {
    char *file;
    int line;
    int col;
    char *msg;
    char *hint; /* NULL or e.g. "did you mean 'topic'?" */
};

struct vg_diag {
    struct vg_diag_item *items;
    size_t n;
    size_t cap;
};

void vg_diag_init(struct vg_diag *d);
void vg_diag_fini(struct vg_diag *d);
/* Append an error at mark. hint may be NULL. */
void vg_diag_add(struct vg_diag *d, struct vg_mark mark, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Number of errors collected. */
static inline size_t vg_diag_count(const struct vg_diag *d) { return d->n; }
/* Sort by (file, line, col), stable, and print each as "file:line:col: error: msg (hint)". */
void vg_diag_print(struct vg_diag *d, FILE *out);
/* The i-th diagnostic formatted as above (no newline) into buf. */
void vg_diag_format(const struct vg_diag *d, size_t i, char *buf, size_t size);

/* Edit distance used for "did you mean" hints: the candidate closest to word, or NULL when
 * none is within a third of the word's length (at least 2 edits). */
const char *vg_diag_closest(const char *word, const char *const *candidates, size_t n);

#endif
