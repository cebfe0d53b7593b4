/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.c - `vigil-bench json`: events per second per core of vg_json_decode.
 *
 * bench/main.c dispatches `vigil-bench json [-n EVENTS] [-r RUNS] [-s SEED]` here (argv[0] is
 * "json", options follow). We build
 * N synthetic auth events of about 300 bytes in memory (fixed seed, so every run decodes the
 * same bytes), then decode all of them on this one thread, extracting user, src_ip, outcome
 * and geo.country as the source operator would (one parser, one arena reset per 1,024
 * events like a batch), RUNS times. One line of JSON goes to stdout with the best and median
 * run; the checksum (bytes extracted) shows every run did the same work. Comparable to
 * peers/RESULTS.md section 3 ("memcpy into padded buffer" row: the payload is copied, as for
 * Kafka messages).
 *
 * Thread: the caller's, alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int vg_bench_json_main(int argc, char **argv);

#define BATCH_EVENTS 1024

static uint64_t next_rand(uint64_t *s)
{
    /* xorshift64*: fixed sequence for a seed on every platform */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static const char *pick(uint64_t *s, const char *const *xs, size_t n)
{
    return xs[next_rand(s) % n];
}

/* Append event number i to buf. */
static void gen_event(struct vg_buf *buf, uint64_t *s, uint64_t i)
{
    static const char *const users[] = {"alice", "bob", "carol", "dave", "eve", "mallory",
                                        "trent", "peggy", "victor", "walter"};
    static const char *const hosts[] = {"web-1", "web-2", "db-1", "vpn-gw", "bastion"};
    static const char *const countries[] = {"FR", "DE", "US", "BR", "JP", "IN", "NG"};
    static const char *const cities[] = {"Paris", "Berlin", "New York", "S\\u00e3o Paulo",
                                         "Tokyo", "Mumbai", "Lagos"};
    static const char *const outcomes[] = {"success", "failure", "failure", "failure"};
    uint64_t r = next_rand(s);
    size_t c = next_rand(s) % VG_ARRAY_LEN(countries);
    vg_buf_printf(buf,
                  "{\"ts\":%llu,\"user\":\"%s%llu\",\"src_ip\":\"10.%u.%u.%u\","
                  "\"outcome\":\"%s\",\"host\":\"%s\",\"geo\":{\"country\":\"%s\","
                  "\"city\":\"%s\"},\"msg\":\"Failed password for %s from port %u "
                  "ssh2\\n\\tsession=\\\"%016llx\\\" attempt %llu of the current window, "
                  "client OpenSSH_9.2p1 Debian-2+deb12u3\"}",
                  1700000000000ULL + i * 7, pick(s, users, VG_ARRAY_LEN(users)),
                  (unsigned long long)(r % 1000), (unsigned)(r >> 8) & 255,
                  (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255,
                  pick(s, outcomes, VG_ARRAY_LEN(outcomes)), pick(s, hosts, VG_ARRAY_LEN(hosts)),
                  countries[c], cities[c], pick(s, users, VG_ARRAY_LEN(users)),
                  (unsigned)(1024 + r % 60000), (unsigned long long)next_rand(s),
                  (unsigned long long)(i % 97));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(void)
{
    fprintf(stderr, "usage: vigil-bench json [-n EVENTS] [-r RUNS] [-s SEED]\n");
}

int vg_bench_json_main(int argc, char **argv)
{
    long long n = 1000000, runs = 3;
    unsigned long long seed = 42;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
            n = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "-r") == 0)
            runs = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "-s") == 0)
            seed = strtoull(argv[++i], NULL, 10);
        else {
            usage();
            return 2;
        }
    }
    if (n < 1 || n > 100000000 || runs < 1 || runs > 100) {
        usage();
        return 2;
    }

    /* the corpus: one buffer, events back to back */
    struct vg_buf corpus;
    vg_buf_init(&corpus);
    size_t *off = vg_xmalloc((size_t)(n + 1) * sizeof(*off));
    uint64_t s = seed ? seed : 1;
    for (long long i = 0; i < n; i++) {
        off[i] = corpus.len;
        gen_event(&corpus, &s, (uint64_t)i);
    }
    off[n] = corpus.len;

    struct vg_err err = {0};
    struct vg_paths *p = vg_paths_new();
    const char *paths[] = {"user", "src_ip", "outcome", "geo.country"};
    for (int i = 0; i < 4; i++)
        vg_paths_add(p, paths[i], i, &err);
    struct vg_json_parser *jp = vg_json_parser_new();
    struct vg_arena arena;
    vg_arena_init(&arena, 0);
    struct vg_value slots[4];
    double *eps = vg_xmalloc((size_t)runs * sizeof(*eps));
    unsigned long long checksum = 0, errors = 0;

    for (long long r = 0; r < runs; r++) {
        unsigned long long sum = 0;
        errors = 0;
        vg_time_ns t0 = vg_mono_ns();
        for (long long i = 0; i < n; i++) {
            if (i % BATCH_EVENTS == 0)
                vg_arena_reset(&arena);
            if (vg_json_decode(jp, p, corpus.data + off[i], off[i + 1] - off[i], &arena, slots,
                               &err) != 0) {
                errors++;
                continue;
            }
            for (int k = 0; k < 4; k++)
                sum += slots[k].type == VG_T_STR ? slots[k].len + (unsigned char)slots[k].u.s[0]
                                                 : 0;
        }
        vg_time_ns t1 = vg_mono_ns();
        eps[r] = (double)n / ((double)(t1 - t0) / 1e9);
        checksum = sum;
    }
    qsort(eps, (size_t)runs, sizeof(*eps), cmp_double);
    double best = eps[runs - 1], median = eps[runs / 2];
    double bytes = (double)corpus.len / (double)n;
    printf("{\"bench\":\"json\",\"events\":%lld,\"runs\":%lld,\"seed\":%llu,"
           "\"avg_event_bytes\":%.1f,\"fields\":[\"user\",\"src_ip\",\"outcome\",\"geo.country\"],"
           "\"events_per_s_per_core\":%.0f,\"best_events_per_s\":%.0f,\"mb_per_s\":%.1f,"
           "\"errors\":%llu,\"checksum\":%llu}\n",
           n, runs, seed, bytes, median, best, median * bytes / 1e6, errors, checksum);

    vg_free(eps);
    vg_arena_fini(&arena);
    vg_json_parser_free(jp);
    vg_paths_free(p);
    vg_free(off);
    vg_buf_fini(&corpus);
    return errors ? 1 : 0;
}
