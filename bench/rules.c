/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules.c - `vigil-bench rules`: the rules operator alone, in process, no Kafka.
 *
 * Builds a topology with N generated rules (a mix of indexed equality rules, substring and
 * prefix tests, and regular expressions, in the proportions of a Sigma rule set), decodes a
 * batch of synthetic auth events once, then runs the rules node over the batch repeatedly on
 * a rule pool of 1 thread and then of 2 threads, and prints events/s for each and the
 * speed-up, as one JSON object.
 *
 * Thread: main; the rule pool's threads run the rule shards.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bench.h"
#include "compile.h"
#include "rt_pool.h"
#include "vg_op.h"

static struct vg_rt_pool *bench_pool;

static void bench_parallel(struct vg_op_ctx *ctx, void (*fn)(void *, size_t), void *arg, size_t n)
{
    (void)ctx;
    vg_rt_pool_run(bench_pool, fn, arg, n);
}

static void bench_dead_letter(struct vg_op_ctx *ctx, const struct vg_event *ev, const char *why)
{
    (void)ctx;
    (void)ev;
    fprintf(stderr, "vigil-bench rules: unexpected dead letter: %s\n", why);
    exit(1);
}

static char *make_topology(int n_rules)
{
    struct vg_buf b;
    vg_buf_init(&b);
    vg_buf_puts(&b, "name: bench-rules\nnodes:\n  logins:\n    source: kafka\n    topic: t\n"
                    "  detect:\n    input: logins\n    rules:\n");
    for (int i = 0; i < n_rules; i++) {
        vg_buf_printf(&b, "      - id: R-%04d\n        title: rule %d\n        severity: low\n",
                      i, i);
        switch (i % 4) {
        case 0: /* indexed equality on a field with many values */
            vg_buf_printf(&b, "        when: host == \"h-%d\" && contains(msg, \"x%d\")\n", i,
                          i);
            break;
        case 1: /* indexed on a low-cardinality field: candidates for many events */
            vg_buf_printf(&b,
                          "        when: method == \"password\" && startswith(src_ip, "
                          "\"172.%d.\")\n",
                          i % 256);
            break;
        case 2: /* not indexable: substring tests on every event */
            vg_buf_printf(&b,
                          "        when: contains(lower(msg), \"token-%d\") || endswith(user, "
                          "\"-svc%d\")\n",
                          i, i);
            break;
        default: /* not indexable: a regular expression on every event */
            vg_buf_printf(&b, "        when: matches(msg, \"evil-%d[0-9]+\")\n", i);
            break;
        }
    }
    vg_buf_puts(&b, "  out:\n    sink: stdout\n    input: detect\n");
    char *s = vg_xstrndup(b.data, b.len);
    vg_buf_fini(&b);
    return s;
}

int vg_bench_rules_main(int argc, char **argv)
{
    int n_rules = 1000, n_events = 20000, seconds = 3;
    static const struct option opts[] = {{"rules", required_argument, NULL, 'r'},
                                         {"events", required_argument, NULL, 'e'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:e:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': n_rules = atoi(optarg); break;
        case 'e': n_events = atoi(optarg); break;
        case 's': seconds = atoi(optarg); break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: vigil-bench rules [--rules N] [--events N] [--seconds S]\n"
                    "the rules node alone, in process, on 1 and 2 pool threads\n");
            return c == 'h' ? 0 : 2;
        }
    }
    char *text = make_topology(n_rules);
    struct vg_diag diag;
    vg_diag_init(&diag);
    struct vg_topology *topo = vg_topo_load_string("bench-rules.yaml", text, strlen(text), &diag);
    struct vg_compiled *comp = topo ? vg_compile(topo, &diag) : NULL;
    if (!comp) {
        vg_diag_print(&diag, stderr);
        return 1;
    }
    const struct vg_compiled_node *src = &comp->nodes[0], *rules = &comp->nodes[1];

    /* decode the events once */
    struct vg_batch b;
    vg_batch_init(&b, comp->n_slots);
    char **payloads = vg_xcalloc((size_t)n_events, sizeof(char *));
    static const char *const methods[] = {"password", "ssh-key", "mfa"};
    unsigned seed = 42;
    for (int i = 0; i < n_events; i++) {
        seed = seed * 1103515245u + 12345u;
        char buf[512];
        int n = snprintf(buf, sizeof(buf),
                         "{\"ts\":%d,\"user\":\"u%05u\",\"src_ip\":\"10.%u.%u.%u\","
                         "\"outcome\":\"%s\",\"host\":\"web-%02u\",\"method\":\"%s\","
                         "\"msg\":\"session opened for user u%05u from 10.%u.%u.%u port %u "
                         "ssh2 with request id %u\"}",
                         i, seed % 20000, seed % 256, (seed >> 8) % 256, (seed >> 16) % 256,
                         seed % 5 == 0 ? "failure" : "success", seed % 40,
                         methods[(seed >> 4) % 3], seed % 20000, seed % 256, (seed >> 8) % 256,
                         (seed >> 16) % 256, 1024 + seed % 60000, seed);
        payloads[i] = vg_xstrndup(buf, (size_t)n);
    }
    struct vg_op_ctx ctx = {.expr = vg_expr_ctx_new(), .dead_letter = bench_dead_letter,
                            .parallel = bench_parallel, .n_workers = 1};
    void *src_st, *rules_st;
    src->type->open(src->conf, &ctx, &src_st);
    struct vg_sel all = {0}, decoded = {0};
    for (int i = 0; i < n_events; i++) {
        uint32_t idx = vg_batch_add(&b);
        b.ev[idx].payload = payloads[i];
        b.ev[idx].len = (uint32_t)strlen(payloads[i]);
        b.ev[idx].topic = "t";
        vg_sel_push(&b, &all, idx);
    }
    src->type->process(src_st, &b, &all, &decoded, &ctx);
    size_t n_base = b.n;

    double eps[2] = {0, 0};
    uint64_t alerts = 0;
    for (int threads = 1; threads <= 2; threads++) {
        bench_pool = vg_rt_pool_new((size_t)threads);
        ctx.n_workers = (size_t)threads;
        rules->type->open(rules->conf, &ctx, &rules_st);
        uint64_t done = 0;
        vg_time_ns t0 = vg_mono_ns(), deadline = t0 + (vg_time_ns)seconds * 1000000000;
        while (vg_mono_ns() < deadline) {
            struct vg_sel out = {0};
            b.n = n_base; /* drop the alert events of the previous round */
            rules->type->process(rules_st, &b, &decoded, &out, &ctx);
            done += decoded.n;
            alerts = out.n;
        }
        eps[threads - 1] = (double)done / ((double)(vg_mono_ns() - t0) / 1e9);
        rules->type->close(rules_st);
        vg_rt_pool_free(bench_pool);
    }
    printf("{\"bench\":\"rules\",\"rules\":%d,\"events\":%zu,\"alerts_per_pass\":%llu,"
           "\"eps_1_thread\":%.0f,\"eps_2_threads\":%.0f,\"speedup\":%.2f}\n",
           n_rules, decoded.n, (unsigned long long)alerts, eps[0], eps[1], eps[1] / eps[0]);
    src->type->close(src_st);
    vg_expr_ctx_free(ctx.expr);
    vg_batch_fini(&b);
    for (int i = 0; i < n_events; i++)
        vg_free(payloads[i]);
    vg_free(payloads);
    vg_compiled_free(comp);
    vg_topo_free(topo);
    vg_diag_fini(&diag);
    vg_free(text);
    return 0;
}
