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
work=$(mktemp -d /tmp/vigil-wengine.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$build/vigil" broker --topic ev:128 --topic al:128 --topic dlq:128 --topic side:128 \
  --bootstrap-file "$work/boot" >"$work/broker.log" 2>&1 &
pids+=($!)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -s "$work/boot" ] && break; sleep 0.1; done
for _ in $(seq 50); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
export KAFKA_BROKERS=$(cat "$work/boot") REDIS_URL=redis://127.0.0.1:$port/0
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
