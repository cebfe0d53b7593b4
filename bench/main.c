/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - `vigil-bench COMMAND [options]`: the benchmark harness's entry point.
 *
 * Thread: main.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const struct {
    const char *name;
    int (*main)(int, char **);
    const char *summary;
} commands[] = {
    {"produce", vg_bench_produce_main, "generate events of a scenario at a rate, with attacks"},
    {"measure", vg_bench_measure_main, "consume alerts, report end-to-end latency percentiles"},
    {"passthrough", vg_bench_passthrough_main, "raw librdkafka consume->produce baseline"},
    {"tail", vg_bench_tail_main, "print alerts as they arrive, then a latency summary"},
    {"rules", vg_bench_rules_main, "rule evaluation speed with pool sizes 1 and 2"},
    {"json", vg_bench_json_main, "JSON decode speed of the event codec"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: vigil-bench COMMAND [options]   (COMMAND --help for its options)\n\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "vigil-bench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
