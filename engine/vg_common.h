/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vg_common.h - status codes, error details, allocation wrappers and time units.
 *
 * Every engine and operator file includes this first. Fallible functions return 0 or a
 * negative enum vg_status; details travel in a caller-provided struct vg_err, filled with
 * VG_ERR_SET without allocating. Allocation failure aborts (vg_xmalloc and friends): bad
 * data never reaches an allocation without a bound checked before it.
 *
 * Thread: any.
 */
#ifndef VG_COMMON_H
#define VG_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum vg_status {
    VG_OK = 0,
    VG_ENOMEM = -1,
    VG_EINVAL = -2,   /* bad data: an event that cannot be decoded, a bad argument */
    VG_EIO = -3,      /* file or socket I/O */
    VG_EKAFKA = -4,   /* a Kafka client error */
    VG_EREDIS = -5,   /* a Redis error */
    VG_ECONFIG = -6,  /* a topology that does not check */
    VG_ETOOBIG = -7,  /* input over a configured bound */
    VG_EAGAIN = -8,   /* try again later (full queue, outage) */
};

/* Milliseconds and nanoseconds since the Unix epoch (or a monotonic origin, as named). */
typedef int64_t vg_time_ms;
typedef int64_t vg_time_ns;

#define VG_ERR_MSG_MAX 256

/* Details of one failure: its code, a message, and the C source position that set it. */
struct vg_err {
    int code;
    const char *file;
    int line;
    char msg[VG_ERR_MSG_MAX];
};

/* Fill err (may be NULL) with code and a printf-style message; returns code. */
int vg_err_set(struct vg_err *err, int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define VG_ERR_SET(err, code, ...) vg_err_set((err), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Allocation that aborts with a message on failure; never returns NULL. Thread: any. */
void *vg_xmalloc(size_t size);
void *vg_xcalloc(size_t n, size_t size);
void *vg_xrealloc(void *p, size_t size);
char *vg_xstrdup(const char *s);
char *vg_xstrndup(const char *s, size_t n);
void vg_free(void *p);

#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VG_MAX(a, b) ((a) > (b) ? (a) : (b))

/* FNV-1a over n bytes, continuing from h (VG_HASH_SEED to start): the engine's stable hash,
 * for what outlives the process or crosses it (repartition keys, alert ids, state names). */
#define VG_HASH_SEED 1469598103934665603ull
static inline uint64_t vg_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* The hash of in-memory tables' keys (window keys, join keys and rows, rule indexes): eight
 * bytes a step, about four times FNV-1a's speed on short keys. Not stable across versions:
 * never stored, never used to place records. */
static inline uint64_t vg_hash_mem(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = VG_HASH_SEED ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    for (; n >= 8; b += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)b[i] << (8 * i);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

/* The first 8 bytes of s[0..len) (fewer when shorter) as a big-endian number, zero-padded:
 * between texts of one length it orders as memcmp of those bytes does, and for texts of up to
 * 8 bytes equal prefixes are equal texts (window keys, JSON field names). */
static inline uint64_t vg_prefix8(const void *s, size_t len)
{
    const unsigned char *b = (const unsigned char *)s;
    uint64_t v = 0;
    if (len >= 8) { /* one load (a byte loop was 2% of a replay's samples) */
        memcpy(&v, b, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap64(v);
#endif
        return v;
    }
    for (size_t i = 0; i < len; i++)
        v = v << 8 | b[i];
    return len ? v << (8 * (8 - len)) : 0;
}

/* Ask the CPU for the cache line at p (about to be read). The empty asm is what keeps it: GCC
 * 12's mod/ref analysis takes __builtin_prefetch for a function without effects, and a helper
 * made only of prefetches, with every call to it, vanished from the binary. */
static inline void vg_prefetch(const void *p)
{
    __builtin_prefetch(p);
    __asm__ volatile("" : : "r"(p));
}

/* Wall-clock time in epoch milliseconds, and a monotonic clock in nanoseconds. */
vg_time_ms vg_now_ms(void);
vg_time_ns vg_mono_ns(void);

#endif
