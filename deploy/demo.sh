#!/usr/bin/env bash
# make demo: a development broker, redis-server, generators of auth and process events with
# injected attacks, the shipped auth-anomalies and suspicious-process topologies in one
# vigil process, and the alerts printed as they arrive. Stops everything after ~20 s and
# prints a summary. Usage: deploy/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
vigil=$build/vigil
bench=$build/vigil-bench
duration=${DEMO_SECONDS:-20}
work=$(mktemp -d /tmp/vigil-demo-XXXXXX)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "== vigil demo: ${duration}s of synthetic auth and process events with injected attacks"

# 1. the development broker (librdkafka's mock cluster) and redis-server
"$vigil" broker --partitions 4 --bootstrap-file "$work/bootstrap" \
  --topic auth-events --topic process-events --topic security-alerts \
  --topic auth-events-dlq --topic process-events-dlq >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
export KAFKA_BROKERS=$(cat "$work/bootstrap")
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
export REDIS_URL=redis://127.0.0.1:$redis_port/0
echo "   broker $KAFKA_BROKERS, redis $REDIS_URL"

# 2. the engine, running two shipped topologies
"$vigil" run topologies/auth_anomalies.yaml topologies/suspicious_process.yaml \
  2>"$work/vigil.log" &
vigil_pid=$!
pids+=($vigil_pid)

# wait until every stream thread has its partitions (the first group join takes a few
# seconds), so the latencies below are the steady state, not the start-up
threads=$((2 + $(nproc)))
for _ in $(seq 150); do
  [ "$(grep -o '[a-z-]*: thread [0-9]* assigned' "$work/vigil.log" 2>/dev/null | sort -u | wc -l)" -ge "$threads" ] && break
  kill -0 "$vigil_pid" 2>/dev/null || break
  sleep 0.1
done

# 3. alerts as they arrive, one line each
"$bench" tail --topic security-alerts --duration $((duration + 6)) >"$work/tail.out" &
tail_pid=$!
tail -f "$work/tail.out" --pid "$tail_pid" 2>/dev/null | grep --line-buffered '^\[' &
printer=$!

# 4. the generators: 2,000 auth events/s and 500 process events/s with attacks
"$bench" produce --topic auth-events --scenario auth --rate 2000 --duration "$duration" \
  --attacks 40 --bad 5 --partitions 4 --expect-file "$work/auth.expect" 2>"$work/gen-auth.log" &
gen1=$!
"$bench" produce --topic process-events --scenario process --rate 500 --duration "$duration" \
  --attacks 15 --partitions 4 --expect-file "$work/proc.expect" 2>"$work/gen-proc.log" &
gen2=$!
pids+=($gen1 $gen2)
wait "$gen1" "$gen2"

# 5. let the last alerts arrive, then stop the engine and the reader
wait "$tail_pid" || true
kill "$printer" 2>/dev/null || true
kill -TERM "$vigil_pid"
wait "$vigil_pid" && vigil_rc=0 || vigil_rc=$?

echo
echo "== summary"
grep -h '"produced"' "$work/gen-auth.log" "$work/gen-proc.log" | sed 's/^/   generator: /'
grep -o 'summary: .*' "$work/vigil.log" | sed 's/^/   vigil /'
tail -n 1 "$work/tail.out" | sed 's/^/   on the alert topic: /'
expected=$(( $(python3 -c "import json;print(json.load(open('$work/auth.expect'))['alerts'])") + \
             $(python3 -c "import json;print(json.load(open('$work/proc.expect'))['alerts'])") ))
echo "   alerts expected from injected attacks: $expected"
if [ "$vigil_rc" -ne 0 ]; then
  echo "vigil exited with $vigil_rc; its log:"; cat "$work/vigil.log"; exit 1
fi
