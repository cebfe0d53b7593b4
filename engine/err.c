/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err.c - struct vg_err filling, allocation wrappers and clocks (see vg_common.h).
 *
 * Thread: any. Nothing here allocates on a failure path.
 */
#include "vg_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int vg_err_set(struct vg_err *err, int code, const char *file, int line, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->file = file;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

static void oom(size_t size)
{
    fprintf(stderr, "vigil: out of memory allocating %zu bytes\n", size);
    abort();
}

void *vg_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *vg_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *vg_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        oom(size);
    return q;
}

char *vg_xstrndup(const char *s, size_t n)
{
    char *d = vg_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *vg_xstrdup(const char *s)
{
    return vg_xstrndup(s, strlen(s));
}

void vg_free(void *p)
{
    free(p);
}

vg_time_ms vg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (vg_time_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

vg_time_ns vg_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (vg_time_ns)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
