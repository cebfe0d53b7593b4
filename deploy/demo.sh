#!/usr/bin/env bash
# make demo: a development broker, redis-server, generators of events with injected attacks,
# and every shipped topology: auth-anomalies (single events, its suppression in redis) and
# suspicious-process (stateless) in one vigil process, the windowed brute-force, port-scan and
# error-bursts in a second one (their generators compress 20 minutes of event time into the
# run, so windows of minutes close while you watch). Alerts are printed as they arrive. Stops everything after ~20 s and
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

echo "== vigil demo: ${duration}s of synthetic auth, process, login, flow and app-log events with injected attacks"

# 1. the development broker (librdkafka's mock cluster) and redis-server
"$vigil" broker --partitions 4 --bootstrap-file "$work/bootstrap" \
  --topic auth-events --topic process-events --topic security-alerts \
  --topic auth-events-dlq --topic process-events-dlq --topic login-events \
  --topic login-events-dlq --topic network-flows --topic network-flows-dlq \
  --topic app-logs --topic app-logs-dlq --topic logins --topic vpn-sessions \
  >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
export KAFKA_BROKERS=$(cat "$work/bootstrap")
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
export REDIS_URL=redis://127.0.0.1:$redis_port/0
echo "   broker $KAFKA_BROKERS, redis $REDIS_URL"

for _ in $(seq 50); do redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.1; done
# the asset table of impossible_travel.yaml: asset:host-<user> for the generator's users
python3 - <<'PY' | redis-cli -p "$redis_port" --pipe >/dev/null
for u in range(20000):
    print(f"HSET asset:host-{u:06d} owner team-{u % 7} criticality {u % 5}\r")
PY

# 2. the engine: the single-event topologies in one process, the windowed ones and the join
# (state in redis) in another, reading logins from their own topic
"$vigil" run topologies/auth_anomalies.yaml topologies/suspicious_process.yaml \
  2>"$work/vigil.log" &
vigil_pid=$!
pids+=($vigil_pid)
AUTH_TOPIC=login-events AUTH_DLQ=login-events-dlq \
  "$vigil" run topologies/brute_force.yaml topologies/port_scan.yaml topologies/error_bursts.yaml \
  topologies/impossible_travel.yaml 2>"$work/vigil-win.log" &
win_pid=$!
pids+=($win_pid)

# wait until every stream thread has its partitions (the first group join takes a few
# seconds), so the latencies below are the steady state, not the start-up
wait_assigned() { # log threads pid
  for _ in $(seq 200); do
    [ "$(grep -o '[a-z-]*: thread [0-9]* assigned' "$1" 2>/dev/null | sort -u | wc -l)" -ge "$2" ] && break
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
}
wait_assigned "$work/vigil.log" $((2 + $(nproc))) "$vigil_pid"
wait_assigned "$work/vigil-win.log" $((4 + 2 * $(nproc))) "$win_pid"

# 3. alerts as they arrive, one line each
"$bench" tail --topic security-alerts --duration $((duration + 6)) >"$work/tail.out" &
tail_pid=$!
tail -f "$work/tail.out" --pid "$tail_pid" 2>/dev/null | grep --line-buffered '^\[' &
printer=$!

# 4. the generators: 2,000 auth events/s and 500 process events/s with attacks; logins,
# flows and app logs with 20 minutes of event time each
"$bench" produce --topic auth-events --scenario auth --rate 2000 --duration "$duration" \
  --attacks 40 --bad 5 --partitions 4 --expect-file "$work/auth.expect" 2>"$work/gen-auth.log" &
gen1=$!
"$bench" produce --topic process-events --scenario process --rate 500 --duration "$duration" \
  --attacks 15 --partitions 4 --expect-file "$work/proc.expect" 2>"$work/gen-proc.log" &
gen2=$!
"$bench" produce --topic login-events --scenario brute --rate 2000 --duration "$duration" \
  --keys 20000 --span 1200 --attacks 6 --partitions 4 --expect-file "$work/brute.expect" \
  2>"$work/gen-brute.log" &
gen3=$!
"$bench" produce --topic network-flows --scenario flows --rate 1000 --duration "$duration" \
  --keys 1024 --span 1200 --attacks 6 --partitions 4 --expect-file "$work/flows.expect" \
  2>"$work/gen-flows.log" &
gen4=$!
"$bench" produce --topic app-logs --scenario applog --rate 1000 --duration "$duration" \
  --keys 20000 --span 1200 --attacks 6 --partitions 4 --expect-file "$work/applog.expect" \
  2>"$work/gen-applog.log" &
gen5=$!
for side in logins vpn; do # one generator per side of the join, in step
  "$bench" produce --topic "$([ $side = vpn ] && echo vpn-sessions || echo logins)" \
    --scenario $side --rate 500 --duration "$duration" --keys 20000 --span 1200 --attacks 6 \
    --partitions 4 --expect-file "$work/$side.expect" 2>"$work/gen-$side.log" &
  pids+=($!)
done
gen6=${pids[-2]} gen7=${pids[-1]}
pids+=($gen1 $gen2 $gen3 $gen4 $gen5)
wait "$gen1" "$gen2" "$gen3" "$gen4" "$gen5" "$gen6" "$gen7"

# 5. let the last alerts arrive, then stop the engine and the reader
wait "$tail_pid" || true
kill "$printer" 2>/dev/null || true
kill -TERM "$vigil_pid" "$win_pid"
wait "$vigil_pid" && vigil_rc=0 || vigil_rc=$?
wait "$win_pid" && win_rc=0 || win_rc=$?

echo
echo "== summary"
for g in auth proc brute flows applog logins vpn; do
  grep -h '"produced"' "$work/gen-$g.log" | sed "s/^/   generator $g: /"
done
grep -ho 'summary: .*' "$work/vigil.log" "$work/vigil-win.log" | sed 's/^/   vigil /'
tail -n 1 "$work/tail.out" | sed 's/^/   on the alert topic: /'
expected=$(python3 -c "import json,sys;print(sum(json.load(open(f))['alerts'] for f in sys.argv[1:]))" \
  "$work"/{auth,proc,brute,flows,applog,logins}.expect)
echo "   alerts expected from injected attacks: $expected"
if [ "$vigil_rc" -ne 0 ] || [ "$win_rc" -ne 0 ]; then
  echo "vigil exited with $vigil_rc / $win_rc; its logs:"; cat "$work/vigil.log" "$work/vigil-win.log"; exit 1
fi
