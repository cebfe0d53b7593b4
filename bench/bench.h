/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.h - the subcommands of `vigil-bench` (bench/main.c dispatches to them).
 *
 * Each takes the argv after the subcommand name (argv[0] is the subcommand) and returns the
 * process exit status: 0 ok, 1 the run failed, 2 bad usage.
 *
 * Thread: main.
 */
#ifndef VG_BENCH_H
#define VG_BENCH_H

int vg_bench_produce_main(int argc, char **argv);
int vg_bench_measure_main(int argc, char **argv);
int vg_bench_passthrough_main(int argc, char **argv);
int vg_bench_tail_main(int argc, char **argv);
int vg_bench_rules_main(int argc, char **argv);
int vg_bench_json_main(int argc, char **argv);

#endif
