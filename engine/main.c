/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the `vigil` command line: run, validate, graph, replay, broker, help, version.
 *
 * Exit codes (docs/operations.md): 0 success; 1 a topology did not validate; 2 bad usage;
 * 3 a runtime failure (Kafka client, output file, a stream thread that failed).
 *
 * Thread: main. `run` and `broker` block SIGINT and SIGTERM in every thread and wait for
 * them with sigwait, so no work happens in a signal handler.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <pthread.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "kafka.h"
#include "log.h"
#include "expr.h"
#include "rt.h"
#include "topo.h"

enum { EXIT_INVALID = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

static const char *const usage_main =
    "usage: vigil COMMAND [ARGS]\n"
    "\n"
    "vigil is a stream-processing detection engine: topology files (YAML) wire Kafka\n"
    "sources, filters, maps and rules into alerts on an action topic.\n"
    "\n"
    "commands:\n"
    "  run TOPOLOGY.yaml...        run until SIGTERM/SIGINT, then drain, commit and exit 0\n"
    "  validate TOPOLOGY.yaml...   check only; print file:line:col errors, exit 1 if any\n"
    "  graph [--format text|dot|mermaid] TOPOLOGY.yaml\n"
    "                              print the dataflow graph\n"
    "  replay TOPOLOGY.yaml --from T [--to T|end] [--output -|FILE|topic:NAME]\n"
    "                              rerun a topology over its topics' past; exits by itself\n"
    "  broker [--partitions N] [--brokers N] [--topic T]... [--bootstrap-file F]\n"
    "                              a development Kafka broker (librdkafka's mock cluster)\n"
    "\n"
    "  vigil COMMAND --help        help for one command\n"
    "  vigil --version             print the version\n"
    "\n"
    "exit codes: 0 ok, 1 invalid topology, 2 bad usage, 3 runtime failure\n";

static const char *const usage_run =
    "usage: vigil run [--exit-idle S] TOPOLOGY.yaml...\n"
    "\n"
    "Validate and run the topologies until SIGTERM or SIGINT. On a signal, finish the\n"
    "batch in flight, wait up to 3 s for the broker to acknowledge every alert, commit the\n"
    "source offsets they cover, print a summary on stderr and exit 0. Offsets are committed\n"
    "only for events whose alerts were acknowledged, so a restart resumes where it stopped.\n"
    "--exit-idle S: stop the same way once records were read and none came for S seconds\n"
    "(for draining a backlog, e.g. in benchmarks); waiting for a rebalance is not idle.\n"
    "Environment: ${VAR} / ${VAR:-default} in the file; VIGIL_LOG=debug|info|warn|error.\n"
    "Exit codes: 0 ok, 1 invalid topology, 2 bad usage, 3 runtime failure.\n";

static const char *const usage_replay =
    "usage: vigil replay TOPOLOGY.yaml --from T [--to T|end] [--output -|FILE|topic:NAME]\n"
    "                    [--speed max|1x|Nx] [--from-offset [TOPIC:]PARTITION:OFFSET]...\n"
    "                    [--input NODE=PATH]... [--keep-state] [-q]\n"
    "\n"
    "Run the topology over what its source topics hold now, outside its consumer group: each\n"
    "partition from its start to the end offset it has when the replay starts. Only events\n"
    "with event time in [--from, --to] count (RFC 3339 or epoch milliseconds; --to defaults\n"
    "to end). Once everything is read, every window that the event time read allows is\n"
    "closed, the alerts are written and a summary is printed on stderr; exit 0.\n"
    "Alerts go to --output only (default -: stdout), as JSON lines marked \"replay\":true,\n"
    "with the same alert_id as the live run gave them. Nothing live is touched: no offsets are\n"
    "committed, dead letters are counted and logged but not written, and window state stays in\n"
    "memory; --keep-state writes it at the end to a namespace of its own in Redis.\n"
    "Start offsets: --from-offset sets a partition's (of every source topic, or of TOPIC);\n"
    "otherwise a source on Kafka timestamps (no `time:`) starts at the first record at\n"
    "--from minus its lateness, when the broker can look times up; else at the beginning.\n"
    "--input NODE=PATH reads source NODE from files instead of Kafka (a glob, or - for standard\n"
    "input; repeat for more; every source then needs one), no broker needed: JSON lines, gzip\n"
    "or not, and Avro object container files (by their magic), in name order. Pipes and\n"
    "standard input are read from their first byte, by one stream thread. A file whose first\n"
    "non-empty line is a kcat -J envelope (an object with partition, offset, payload) is read as\n"
    "envelopes, as `kcat -C -J -e -b B -t TOPIC > dump.json` writes them: each record keeps\n"
    "its partition, offset and ts (Kafka timestamp), its value is the payload, and alerts get\n"
    "the live run's source and alert_id; the source's windows close when all its files are read.\n"
    "--speed 1x paces events by event time (Nx: N times faster); max (default) does not.\n"
    "Progress on stderr every 2 s; -q: only the summary.\n"
    "Exit codes: 0 ok, 1 invalid topology, 2 bad usage, 3 runtime failure.\n";

static const char *const usage_validate =
    "usage: vigil validate TOPOLOGY.yaml...\n"
    "\n"
    "Check the topologies without connecting anywhere: YAML, keys, types, durations,\n"
    "inputs, cycles, expressions, fields, schemas, rules and Kafka properties. Every error\n"
    "found is printed as file:line:col: error: message. Exit 0 when all are valid, 1 if not.\n";

static const char *const usage_graph =
    "usage: vigil graph [--format text|dot|mermaid] TOPOLOGY.yaml\n"
    "\n"
    "Print the topology's dataflow graph (default text). Exit 1 if the file is invalid.\n";

static const char *const usage_broker =
    "usage: vigil broker [--partitions N] [--brokers N] [--topic T[:N]]... [--bootstrap-file F]\n"
    "\n"
    "Start a development Kafka broker (librdkafka's mock cluster) reachable over TCP on\n"
    "127.0.0.1, print its bootstrap address on stdout (and into F), and serve until SIGTERM\n"
    "or SIGINT. Topics named with --topic are created with N partitions (default 4; T:N\n"
    "gives one topic its own count); other\n"
    "topics are created on first use with the mock cluster's default of 4 partitions.\n"
    "Limits of the mock: at most 5 MiB are kept per partition (older data is dropped\n"
    "silently), data lives in memory only.\n";

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* Load, compile and check one file; prints diagnostics. */
static int load_one(const char *path, struct vg_topology **topo, struct vg_compiled **c)
{
    struct vg_diag diag;
    vg_diag_init(&diag);
    *topo = vg_topo_load(path, &diag);
    *c = NULL;
    if (*topo) {
        bool kafka_ok = vg_kafka_check(*topo, &diag);
        *c = vg_compile(*topo, &diag);
        if (!kafka_ok) {
            vg_compiled_free(*c);
            *c = NULL;
        }
    }
    int rc = 0;
    if (vg_diag_count(&diag) > 0) {
        vg_diag_print(&diag, stderr);
        fprintf(stderr, "%s: %zu error%s\n", path, vg_diag_count(&diag),
                vg_diag_count(&diag) == 1 ? "" : "s");
        vg_compiled_free(*c);
        vg_topo_free(*topo);
        *c = NULL;
        *topo = NULL;
        rc = EXIT_INVALID;
    }
    vg_diag_fini(&diag);
    return rc;
}

static int cmd_validate(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_validate, stdout);
        return 0;
    }
    if (argc < 2) {
        fputs(usage_validate, stderr);
        return EXIT_USAGE;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct vg_topology *topo;
        struct vg_compiled *c;
        if (load_one(argv[i], &topo, &c) != 0) {
            rc = EXIT_INVALID;
            continue;
        }
        printf("%s: ok (%zu nodes)\n", argv[i], topo->n_nodes);
        vg_compiled_free(c);
        vg_topo_free(topo);
    }
    return rc;
}

static int cmd_graph(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_graph, stdout);
        return 0;
    }
    enum vg_graph_format fmt = VG_GRAPH_TEXT;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "text") == 0)
                fmt = VG_GRAPH_TEXT;
            else if (strcmp(f, "dot") == 0)
                fmt = VG_GRAPH_DOT;
            else if (strcmp(f, "mermaid") == 0)
                fmt = VG_GRAPH_MERMAID;
            else {
                fprintf(stderr, "vigil graph: --format: expected text, dot or mermaid, got '%s'\n",
                        f);
                return EXIT_USAGE;
            }
        } else if (!path) {
            path = argv[i];
        } else {
            fputs(usage_graph, stderr);
            return EXIT_USAGE;
        }
    }
    if (!path) {
        fputs(usage_graph, stderr);
        return EXIT_USAGE;
    }
    struct vg_topology *topo;
    struct vg_compiled *c;
    if (load_one(path, &topo, &c) != 0)
        return EXIT_INVALID;
    vg_topo_graph(topo, fmt, stdout);
    vg_compiled_free(c);
    vg_topo_free(topo);
    return 0;
}

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Wait for SIGTERM/SIGINT (returns it) or, with exit_idle > 0, for records to stop
 * arriving for exit_idle seconds after the first (returns 0); a rebalance (a stream thread
 * without its assignment) does not count as idle. A thread writing state or
 * paused by a state store outage is not idle (its last_ns moves on). */
static int wait_for_stop(struct vg_rt *rt, size_t n, const sigset_t *set, double exit_idle)
{
    uint64_t last_records = 0;
    vg_time_ns last_change = vg_mono_ns(), last_active = 0;
    for (;;) {
        struct timespec tick = {0, 200 * 1000000};
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig > 0)
            return sig;
        if (vg_rt_stopping(rt))
            return 0; /* a stream thread failed and asked for the stop */
        if (exit_idle <= 0)
            continue;
        uint64_t records = 0;
        vg_time_ns active = 0;
        uint32_t unsettled = 0;
        for (size_t i = 0; i < n; i++) {
            struct vg_rt_stats s;
            vg_rt_stats(rt, i, &s);
            records += s.records;
            active = VG_MAX(active, s.last_ns);
            unsettled += s.unsettled;
        }
        vg_time_ns now = vg_mono_ns();
        if (records != last_records || active != last_active || unsettled) {
            last_records = records;
            last_active = active;
            last_change = now;
        } else if (records > 0 && (double)(now - last_change) / 1e9 >= exit_idle) {
            return 0;
        }
    }
}

static int cmd_run(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_run, stdout);
        return 0;
    }
    double exit_idle = 0;
    int kept = 1; /* options may come before or after the files: the files move up */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--exit-idle") == 0) {
            char *end = NULL;
            if (i + 1 < argc)
                exit_idle = strtod(argv[i + 1], &end);
            if (i + 1 >= argc || *end || !(exit_idle > 0)) {
                fprintf(stderr, "vigil run: --exit-idle: expected seconds > 0, got '%s'\n",
                        i + 1 < argc ? argv[i + 1] : "");
                return EXIT_USAGE;
            }
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "vigil run: unknown option '%s'\n", argv[i]);
            fputs(usage_run, stderr);
            return EXIT_USAGE;
        }
        argv[kept++] = argv[i];
    }
    argc = kept;
    if (argc < 2) {
        fputs(usage_run, stderr);
        return EXIT_USAGE;
    }
    size_t n = (size_t)argc - 1;
    struct vg_topology **topos = vg_xcalloc(n, sizeof(*topos));
    struct vg_compiled **cs = vg_xcalloc(n, sizeof(*cs));
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (load_one(argv[i + 1], &topos[i], &cs[i]) != 0)
            rc = EXIT_INVALID;
    sigset_t set;
    block_signals(&set);
    struct vg_rt *rt = NULL;
    if (rc == 0) {
        struct vg_err err = {0};
        rt = vg_rt_start(cs, n, NULL, &err);
        if (!rt) {
            vg_log(VG_LOG_ERROR, "cannot start: %s", err.msg);
            rc = EXIT_RUNTIME;
        }
    }
    if (rt) {
        for (size_t i = 0; i < n; i++)
            vg_log(VG_LOG_INFO, "%s: running %s (%zu nodes, parallelism %d)", topos[i]->name,
                   argv[i + 1], topos[i]->n_nodes,
                   topos[i]->parallelism ? topos[i]->parallelism
                                         : (int)sysconf(_SC_NPROCESSORS_ONLN));
        int sig = wait_for_stop(rt, n, &set, exit_idle);
        if (sig)
            vg_log(VG_LOG_INFO, "%s: stopping", strsignal(sig));
        else if (!vg_rt_stopping(rt))
            vg_log(VG_LOG_INFO, "no records for %.1f s: stopping", exit_idle);
        vg_rt_stop(rt);
        if (vg_rt_wait(rt) != 0)
            rc = EXIT_RUNTIME;
        for (size_t i = 0; i < n; i++) {
            struct vg_rt_stats s;
            vg_rt_stats(rt, i, &s);
            double secs = s.last_ns > s.first_ns ? (double)(s.last_ns - s.first_ns) / 1e9 : 0;
            vg_log(VG_LOG_INFO,
                   "%s: summary: %llu records, %llu events, %llu alerts, %llu dead letters, "
                   "%.0f records/s over %.3f s, "
                   "latency p50 %.1f ms p99 %.1f ms max %.1f ms, %llu over budget",
                   topos[i]->name, (unsigned long long)s.records, (unsigned long long)s.events,
                   (unsigned long long)s.alerts, (unsigned long long)s.dead_letters,
                   secs > 0 ? (double)s.records / secs : 0.0, secs,
                   vg_hist_quantile(&s.latency_us, 0.5) / 1000.0,
                   vg_hist_quantile(&s.latency_us, 0.99) / 1000.0,
                   vg_hist_quantile(&s.latency_us, 1.0) / 1000.0,
                   (unsigned long long)s.over_budget);
        }
        vg_rt_free(rt);
    }
    for (size_t i = 0; i < n; i++) {
        vg_compiled_free(cs[i]);
        vg_topo_free(topos[i]);
    }
    vg_free(cs);
    vg_free(topos);
    return rc;
}

/* An event-time bound: epoch milliseconds or RFC 3339. */
static bool parse_when(const char *s, vg_time_ms *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end && !errno) {
        *out = v;
        return true;
    }
    return vg_time_parse_rfc3339(s, strlen(s), out);
}

static int replay_usage(const char *fmt, const char *arg)
{
    fputs("vigil replay: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    fputs(usage_replay, stderr);
    return EXIT_USAGE;
}

/* Point every sink at the replay's output; dead letters are counted and logged only. */
static void replay_outputs(struct vg_compiled *c, const char *output)
{
    for (size_t o = 0; o < c->n_outputs; o++) {
        if (!strcmp(output, "-")) {
            c->outputs[o].kind = VG_OUT_STDOUT;
            c->outputs[o].target = NULL;
        } else if (!strncmp(output, "topic:", 6)) {
            c->outputs[o].kind = VG_OUT_KAFKA;
            c->outputs[o].target = output + 6;
        } else {
            c->outputs[o].kind = VG_OUT_FILE;
            c->outputs[o].target = output;
        }
    }
    for (size_t s = 0; s < c->n_sources; s++)
        c->sources[s].dead_letter = NULL;
}

/* --input NODE=GLOB...: the files of each source (every source needs some); NODE=- is
 * standard input, not a glob, and can be given once. Fills ins[s] for each source s; returns
 * 0 or EXIT_USAGE after a message. */
static int replay_inputs(const struct vg_compiled *c, const char *const *args, size_t n,
                         struct vg_replay_input *ins, glob_t *globs, size_t *n_globs)
{
    static const char *const std_in[] = {"-"};
    int rc = 0;
    bool std_in_used = false;
    for (size_t s = 0; s < c->n_sources; s++)
        ins[s] = (struct vg_replay_input){(int)s, NULL, 0};
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *eq = strchr(args[i], '=');
        size_t s = 0;
        while (s < c->n_sources && (vg_compiled_is_exchange(c, s) ||
                                    strlen(c->sources[s].node->name) != (size_t)(eq - args[i]) ||
                                    strncmp(c->sources[s].node->name, args[i],
                                            (size_t)(eq - args[i])) != 0))
            s++;
        if (s == c->n_sources) {
            fprintf(stderr, "vigil replay: --input: '%.*s' is not a source node of %s\n",
                    (int)(eq - args[i]), args[i], c->topo->name);
            rc = EXIT_USAGE;
            break;
        }
        const char *const *found = std_in;
        size_t n_found = 1;
        if (strcmp(eq + 1, "-") == 0) {
            if (std_in_used) {
                fprintf(stderr, "vigil replay: --input: standard input ('-') can be read once\n");
                rc = EXIT_USAGE;
                break;
            }
            std_in_used = true;
        } else {
            glob_t *g = &globs[(*n_globs)++];
            if (glob(eq + 1, 0, NULL, g) != 0 || g->gl_pathc == 0) {
                fprintf(stderr, "vigil replay: --input: no file matches '%s'\n", eq + 1);
                rc = EXIT_USAGE;
                break;
            }
            found = (const char *const *)g->gl_pathv;
            n_found = g->gl_pathc;
        }
        const char **paths = vg_xcalloc(ins[s].n_paths + n_found, sizeof(*paths));
        if (ins[s].n_paths)
            memcpy(paths, ins[s].paths, ins[s].n_paths * sizeof(*paths));
        memcpy(paths + ins[s].n_paths, found, n_found * sizeof(*paths));
        vg_free((void *)ins[s].paths);
        ins[s].paths = paths;
        ins[s].n_paths += n_found;
    }
    for (size_t s = 0; s < c->n_sources && rc == 0; s++)
        if (!ins[s].n_paths && !vg_compiled_is_exchange(c, s)) {
            fprintf(stderr, "vigil replay: --input: source '%s' has no files (with --input, "
                    "every source reads files)\n", c->sources[s].node->name);
            rc = EXIT_USAGE;
        }
    if (rc)
        for (size_t s = 0; s < c->n_sources; s++)
            vg_free((void *)ins[s].paths);
    return rc;
}

static int cmd_replay(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(usage_replay, stdout);
        return 0;
    }
    const char *path = NULL, *output = "-";
    bool quiet = false, keep = false, have_from = false;
    struct vg_replay r = {.from = INT64_MIN, .to = INT64_MAX};
    struct vg_replay_from offs[256];
    char topics[256][256];
    const char *input_args[64];
    size_t n_input_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--keep-state")) {
            keep = true;
        } else if (!strcmp(a, "--input")) {
            if (!v || !strchr(v, '=') || v[0] == '=' || !strchr(v, '=')[1])
                return replay_usage("--input: expected NODE=PATH, got '%s'", v ? v : "");
            if (n_input_args == 64)
                return replay_usage("%s: at most 64", a);
            input_args[n_input_args++] = v;
            i++;
        } else if (!strcmp(a, "--from") || !strcmp(a, "--to") || !strcmp(a, "--output") ||
                   !strcmp(a, "--speed") || !strcmp(a, "--from-offset")) {
            if (!v)
                return replay_usage("%s: a value is expected", a);
            i++;
            if (!strcmp(a, "--from")) {
                if (!parse_when(v, &r.from))
                    return replay_usage("--from: expected RFC 3339 or epoch ms, got '%s'", v);
                have_from = true;
            } else if (!strcmp(a, "--to")) {
                if (strcmp(v, "end") != 0 && !parse_when(v, &r.to))
                    return replay_usage("--to: expected RFC 3339, epoch ms or end, got '%s'", v);
            } else if (!strcmp(a, "--output")) {
                if (!*v || !strcmp(v, "topic:"))
                    return replay_usage("--output: expected -, a file or topic:NAME, got '%s'", v);
                output = v;
            } else if (!strcmp(a, "--speed")) {
                char *end = NULL;
                r.speed = strcmp(v, "max") == 0 ? 0 : strtod(v, &end);
                if (strcmp(v, "max") != 0 && (!(r.speed > 0) || strcmp(end, "x") != 0))
                    return replay_usage("--speed: expected max, 1x or Nx, got '%s'", v);
            } else {
                if (r.n_offsets == 256)
                    return replay_usage("%s: at most 256", a);
                struct vg_replay_from *f = &offs[r.n_offsets];
                const char *last = strrchr(v, ':');
                const char *first = last ? memrchr(v, ':', (size_t)(last - v)) : NULL;
                char *e1 = NULL, *e2 = NULL;
                long p = last ? strtol(first ? first + 1 : v, &e1, 10) : -1;
                long long o = last ? strtoll(last + 1, &e2, 10) : -1;
                if (!last || e1 != last || *e2 || p < 0 || o < 0 || last[1] == '\0' ||
                    (first && first == v) || (size_t)(first ? first - v : 0) >= sizeof(topics[0]))
                    return replay_usage(
                        "--from-offset: expected [TOPIC:]PARTITION:OFFSET, got '%s'", v);
                f->topic = NULL;
                if (first) {
                    snprintf(topics[r.n_offsets], sizeof(topics[0]), "%.*s", (int)(first - v), v);
                    f->topic = topics[r.n_offsets];
                }
                f->partition = (int32_t)p;
                f->offset = o;
                r.n_offsets++;
            }
        } else if (!strncmp(a, "-", 1) && strcmp(a, "-") != 0) {
            return replay_usage("unknown option '%s'", a);
        } else if (path) {
            return replay_usage("one topology at a time ('%s' is a second)", a);
        } else {
            path = a;
        }
    }
    if (!path)
        return replay_usage("%s", "a topology file is expected");
    if (!have_from)
        return replay_usage("%s", "--from is required (RFC 3339 or epoch ms; 0 for everything)");
    if (r.to < r.from)
        return replay_usage("%s", "--to is before --from");
    r.offsets = offs;
    r.keep_state = keep;
    struct vg_topology *topo;
    struct vg_compiled *c;
    if (load_one(path, &topo, &c) != 0)
        return EXIT_INVALID;
    int rc = 0;
    struct vg_replay_input ins[64];
    glob_t globs[64];
    size_t n_globs = 0;
    if (rc == 0 && n_input_args && (rc = replay_inputs(c, input_args, n_input_args, ins, globs,
                                                       &n_globs)) == 0) {
        r.inputs = ins;
        r.n_inputs = c->n_sources;
    }
    char id[64];
    snprintf(id, sizeof(id), "%lld-%d", (long long)vg_now_ms(), (int)getpid());
    r.id = id;
    replay_outputs(c, output);
    sigset_t set;
    block_signals(&set);
    struct vg_rt *rt = NULL;
    struct vg_err err = {0};
    if (rc == 0 && !(rt = vg_rt_start(&c, 1, &r, &err))) {
        vg_log(VG_LOG_ERROR, "cannot start: %s", err.msg);
        rc = EXIT_RUNTIME;
    }
    if (rt) {
        vg_time_ns t0 = vg_mono_ns(), shown = t0;
        for (;;) {
            /* the end is seen within 10 ms (a 100 ms tick added 50 ms to a 1.4 s replay) */
            struct timespec tick = {0, 10 * 1000000};
            int sig = sigtimedwait(&set, NULL, &tick);
            uint64_t to_read;
            bool finished;
            vg_rt_replay_progress(rt, &to_read, &finished);
            if (sig > 0) {
                vg_log(VG_LOG_INFO, "%s: replay stopped before the end", strsignal(sig));
                rc = EXIT_RUNTIME;
                break;
            }
            if (finished || vg_rt_stopping(rt))
                break;
            vg_time_ns now = vg_mono_ns();
            if (!quiet && now - shown >= 2000000000LL) {
                shown = now;
                struct vg_rt_stats s;
                vg_rt_stats(rt, 0, &s);
                double secs = (double)(now - t0) / 1e9;
                double eps = (double)s.records / secs;
                if (!to_read) /* archives: their size in records is not known ahead */
                    fprintf(stderr, "replay: %llu records, %.0f records/s\n",
                            (unsigned long long)s.records, eps);
                else
                    fprintf(stderr,
                            "replay: %.0f%% (%llu of %llu records), %.0f records/s, ETA %.0f s\n",
                            VG_MIN(100.0, 100.0 * (double)s.records / (double)to_read),
                            (unsigned long long)s.records, (unsigned long long)to_read, eps,
                            to_read > s.records && eps > 0 ? (double)(to_read - s.records) / eps
                                                           : 0.0);
            }
        }
        vg_rt_stop(rt);
        if (vg_rt_wait(rt) != 0)
            rc = EXIT_RUNTIME;
        struct vg_rt_stats s;
        vg_rt_stats(rt, 0, &s);
        double secs = (double)(vg_mono_ns() - t0) / 1e9;
        vg_log(VG_LOG_INFO,
               "%s: replay summary: %llu records read, %llu events, %llu alerts, %llu dead "
               "letters in %.3f s (%.0f events/s)",
               topo->name, (unsigned long long)s.records, (unsigned long long)s.events,
               (unsigned long long)s.alerts, (unsigned long long)s.dead_letters, secs,
               secs > 0 ? (double)s.events / secs : 0.0);
        vg_rt_free(rt);
        if (keep)
            vg_log(VG_LOG_INFO, "%s: replay state kept under 'vg:{replay.%s.%s:'", topo->name,
                   id, topo->name);
    }
    for (size_t i = 0; i < n_globs; i++)
        globfree(&globs[i]);
    for (size_t i = 0; i < r.n_inputs; i++)
        vg_free((void *)ins[i].paths);
    vg_compiled_free(c);
    vg_topo_free(topo);
    return rc;
}

static int cmd_broker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"partitions", required_argument, NULL, 'p'},
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int partitions = 4, brokers = 1;
    const char *file = NULL;
    const char *topics[64];
    int n_topics = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:b:t:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            partitions = atoi(optarg);
            if (partitions < 1 || partitions > 10000) {
                fprintf(stderr, "vigil broker: --partitions: expected 1..10000, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'b':
            brokers = atoi(optarg);
            if (brokers < 1 || brokers > 16) {
                fprintf(stderr, "vigil broker: --brokers: expected 1..16, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (n_topics < 64)
                topics[n_topics++] = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'h':
            fputs(usage_broker, stdout);
            return 0;
        default:
            fputs(usage_broker, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fputs(usage_broker, stderr);
        return EXIT_USAGE;
    }
    sigset_t set;
    block_signals(&set);
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "vigil broker: %s\n", errstr);
        return EXIT_RUNTIME;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "vigil broker: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < n_topics; i++) {
        char name[512];
        snprintf(name, sizeof(name), "%s", topics[i]);
        int parts = partitions;
        char *colon = strrchr(name, ':');
        if (colon) {
            char *end;
            long v = strtol(colon + 1, &end, 10);
            if (*end || v < 1 || v > 10000) {
                fprintf(stderr, "vigil broker: --topic %s: expected NAME or NAME:PARTITIONS\n",
                        topics[i]);
                rd_kafka_mock_cluster_destroy(mc);
                rd_kafka_destroy(rk);
                return EXIT_USAGE;
            }
            *colon = '\0';
            parts = (int)v;
        }
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, 1);
        if (e)
            fprintf(stderr, "vigil broker: topic '%s': %s\n", name, rd_kafka_err2str(e));
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    printf("%s\n", boot);
    fflush(stdout);
    int rc = 0;
    if (file) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", file);
        FILE *fp = fopen(tmp, "w");
        if (!fp || fprintf(fp, "%s\n", boot) < 0 || fclose(fp) != 0 || rename(tmp, file) != 0) {
            fprintf(stderr, "vigil broker: --bootstrap-file %s: %s\n", file, strerror(errno));
            rc = EXIT_RUNTIME;
        }
    }
    if (rc == 0) {
        vg_log(VG_LOG_INFO, "broker: listening on %s (%d broker%s)", boot, brokers,
               brokers == 1 ? "" : "s");
        int sig;
        sigwait(&set, &sig);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    if (file)
        unlink(file);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("vigil %s (librdkafka %s)\n", VG_VERSION, rd_kafka_version_str());
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "graph") == 0)
        return cmd_graph(argc - 1, argv + 1);
    if (strcmp(cmd, "broker") == 0)
        return cmd_broker(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(argc - 1, argv + 1);
    fprintf(stderr, "vigil: unknown command '%s'\n\n%s", cmd, usage_main);
    return EXIT_USAGE;
}
