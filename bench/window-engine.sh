#!/usr/bin/env bash
# bench/window-engine.sh: the engine alone on the window scenario's backlog, no baseline in
# the run: for comparing changes to the window path quickly (bench/run.sh window is the
# reference with its same-run baseline). Starts a development broker and redis-server on free
# ports, loads EVENTS (default 1,000,000) `vigil-bench produce --scenario window` events over
# SPAN seconds of event time (default 1200) into 128 partitions, optionally EXTRA records of
# the auth scenario into a side topic of the same broker, runs `vigil run --exit-idle 3
# bench/scenarios/window.yaml` under /usr/bin/time, and prints the engine's summary line, its
# peak RSS, the Redis commands served and the Redis memory and keys left. WRAP runs the engine
# under a profiler, e.g. WRAP='perf record -g -o /tmp/window.perf' BUILD=build-prof.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
. bench/lib.sh
bench_world vigil-wengine "$build" ev:128 al:128 dlq:128 side:128
port=$redis_port
export BENCH_TOPIC=ev BENCH_ALERTS=al BENCH_DLQ=dlq
if [ "${EXTRA:-0}" -gt 0 ]; then
  "$build/vigil-bench" produce --topic side --scenario auth --rate 0 --events "$EXTRA" \
    --partitions 128 2>/dev/null
fi
"$build/vigil-bench" produce --topic ev --scenario window --rate 0 --events "${EVENTS:-1000000}" \
  --attacks 20 --partitions 128 --span "${SPAN:-1200}" 2>"$work/produce.log"
/usr/bin/time -v ${WRAP:-} "$build/vigil" run --exit-idle 3 "${TOPO:-bench/scenarios/window.yaml}" 2>"$work/vigil.log"
grep -o 'summary: .*' "$work/vigil.log"
grep 'Maximum resident' "$work/vigil.log" | sed 's/^\s*/vigil /'
echo "redis commands: $(redis-cli -p "$port" INFO commandstats |
  awk -F'[=,]' '/^cmdstat_/ {n += $2} END {print n + 0}')"
echo "redis $(redis-cli -p "$port" INFO memory | grep '^used_memory:' | tr -d '\r'), keys $(redis-cli -p "$port" DBSIZE)"
