#!/usr/bin/env bash
# bench/run.sh SCENARIO [--duration S] [--rate R] [--out FILE]
#
# Runs one benchmark scenario and, in the same run, the raw librdkafka baseline
# (vigil-bench passthrough on the same broker), then writes a JSON report (--out, default
# bench/results/SCENARIO.json) and a PNG plot next to it (throughput and latency percentiles
# over time). Starts what it needs and stops it again: the development broker (`vigil broker`,
# 128 partitions per topic: the mock keeps at most 5 MiB per partition) unless KAFKA_BROKERS is
# set, and redis-server unless REDIS_URL is set. Fails loudly (exit 1) when the alerts on the
# alert topic differ from what the generator's injected attacks must cause.
#
# Scenarios: passthrough, auth-normal, auth-peak, auth-sustained, rules-1000, rules20, window,
# window-keys, all. window also reports Redis commands per input event (INFO commandstats);
# window-keys reports peak RSS with 100k, 300k and 1M open window keys.
# `make bench` runs `all` and rewrites docs/benchmarks.md (bench/report.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-}
[ -n "$scenario" ] || { sed -n '2,14p' "$0"; exit 2; }
shift
duration="" rate="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

build=${BUILD:-build}
vigil=$build/vigil
bench=$build/vigil-bench
[ -x "$vigil" ] && [ -x "$bench" ] || { echo "bench/run.sh: build first (make build)" >&2; exit 2; }
mkdir -p bench/results

if [ "$scenario" = all ]; then
  for s in passthrough auth-normal auth-peak rules20 rules-1000 window window-keys auth-sustained; do
    extra=()
    [ "$s" = auth-sustained ] && extra=(--duration "${SUSTAINED_S:-120}")
    "$0" "$s" "${extra[@]}"
  done
  python3 bench/report.py bench/results docs/benchmarks.md
  exit 0
fi

out=${out:-bench/results/$scenario.json}
work=$(mktemp -d /tmp/vigil-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[bench $scenario] $*" >&2; }

tag=$$-$RANDOM
case "$scenario" in auth-normal|auth-sustained) partitions=${BENCH_PARTITIONS:-16} ;;
  *) partitions=${BENCH_PARTITIONS:-128} ;; esac
create=()
own_broker=0
if [ -z "${KAFKA_BROKERS:-}" ]; then
  own_broker=1
  # the development broker cannot create topics through the Admin API (librdkafka 2.0.2's
  # mock has no controller): name them all at its start. Pre-loaded topics get 128
  # partitions (the mock keeps at most 5 MiB per partition); live ones 16, because the
  # mock's fetch cost grows with partitions x retained data (measured: at 10k events/s,
  # p99 24 ms on 16 partitions, drifting from 12 to 100+ ms on 128 over a minute)
  topics=()
  for t in ev al dlq; do topics+=(--topic "$t-$tag:$partitions"); done
  if [ "$scenario" = window-keys ]; then
    for k in ${KEYS_LIST:-100000 300000 1000000}; do topics+=(--topic "kev-$k-$tag:$partitions"); done
  fi
  "$vigil" broker "${topics[@]}" --bootstrap-file "$work/boot" \
    >"$work/broker.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/boot" ] && break; sleep 0.1; done
  export KAFKA_BROKERS=$(cat "$work/boot")
else
  create=(--create)
fi
if [ -z "${REDIS_URL:-}" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    >"$work/redis.log" 2>&1 &
  pids+=($!)
  export REDIS_URL=redis://127.0.0.1:$port/0
fi
redis_port=$(echo "$REDIS_URL" | sed -E 's|.*:([0-9]+)(/.*)?$|\1|')
redis_host=$(echo "$REDIS_URL" | sed -E 's|^redis://([^@]*@)?([^:/]+).*|\2|')
for _ in $(seq 50); do redis-cli -h "$redis_host" -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.1; done
# total Redis commands served so far (INFO commandstats, every command counted)
redis_calls() {
  redis-cli -h "$redis_host" -p "$redis_port" INFO commandstats |
    awk -F'[=,]' '/^cmdstat_/ {n += $2} END {print n + 0}'
}

# baseline: N pre-loaded auth events copied in->out by raw librdkafka
# On the development broker the baseline gets a broker of its own, stopped afterwards: the
# mock's fetch cost grows with all the data it holds, and the engine should not pay for the
# baseline's 2 x N records (window scenario 410k -> 320k events/s with 2M of them:
# EXTRA=2000000 bench/window-engine.sh).
baseline() {
  local n=$1 brokers=$KAFKA_BROKERS bpid=""
  if [ "$own_broker" = 1 ]; then
    "$vigil" broker --topic "base-in-$tag:128" --topic "base-out-$tag:128" \
      --bootstrap-file "$work/boot-base" >"$work/broker-base.log" 2>&1 &
    bpid=$!
    for _ in $(seq 100); do [ -s "$work/boot-base" ] && break; sleep 0.1; done
    brokers=$(cat "$work/boot-base")
  fi
  KAFKA_BROKERS=$brokers "$bench" produce --topic "base-in-$tag" --scenario auth --rate 0 \
    --events "$n" --partitions 128 "${create[@]}" 2>"$work/base-produce.log"
  KAFKA_BROKERS=$brokers "$bench" passthrough --in "base-in-$tag" --out "base-out-$tag" \
    --events "$n" >"$work/base.json"
  if [ -n "$bpid" ]; then kill "$bpid"; wait "$bpid" 2>/dev/null || true; fi
  python3 -c "import json;print(int(json.load(open('$work/base.json'))['eps']))"
}

# start vigil on topology $1 (more vigil run options after it); waits until its threads
# have partitions
start_vigil() {
  local topo=$1
  shift
  "$vigil" run "$@" "$topo" 2>"$work/vigil.log" &
  vigil_pid=$!
  pids+=($vigil_pid)
  local want=$(( $(nproc) ))
  for _ in $(seq 300); do
    [ "$(grep -c 'assigned' "$work/vigil.log" 2>/dev/null || true)" -ge "$want" ] && break
    kill -0 "$vigil_pid" 2>/dev/null || { cat "$work/vigil.log" >&2; exit 1; }
    sleep 0.1
  done
}

# sample vigil's RSS (MiB) and CPU seconds once a second into $work/samples
sample_vigil() {
  local hz; hz=$(getconf CLK_TCK)
  while kill -0 "$vigil_pid" 2>/dev/null; do
    if [ -r "/proc/$vigil_pid/status" ]; then
      rss=$(awk '/VmRSS/ {print $2}' "/proc/$vigil_pid/status" 2>/dev/null || echo 0)
      cpu=$(awk -v hz="$hz" '{print ($14 + $15) / hz}' "/proc/$vigil_pid/stat" 2>/dev/null || echo 0)
      echo "$(date +%s.%N) ${rss:-0} ${cpu:-0}" >>"$work/samples"
    fi
    sleep 1
  done
}

stop_vigil() {
  peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$vigil_pid/status" 2>/dev/null || echo 0)
  kill -TERM "$vigil_pid"
  local rc=0
  wait "$vigil_pid" || rc=$?
  [ "$rc" -eq 0 ] || { log "vigil exited with $rc"; cat "$work/vigil.log" >&2; exit 1; }
}

# write the report: $1 scenario, $2 events, $3 throughput, $4 baseline, $5 expected alerts,
# $6 measure.json (or "")
report() {
  python3 - "$@" "$work" "$out" "${peak_kb:-0}" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import json, sys, datetime, os
sc, events, thr, base, expected, measure, work, out, peak_kb, commit = sys.argv[1:11]
m = json.load(open(measure)) if measure else {"alerts": 0, "latency_ms": {}, "series": []}
samples = []
if os.path.exists(work + "/samples"):
    for line in open(work + "/samples"):
        t, rss, cpu = line.split()
        samples.append((float(t), int(rss), float(cpu)))
cpu_cores = 0.0
if len(samples) >= 2:
    cpu_cores = (samples[-1][2] - samples[0][2]) / max(samples[-1][0] - samples[0][0], 1e-9)
thr, base = float(thr), float(base)
rep = {
    "scenario": sc, "events": int(events),
    "duration_s": round(int(events) / thr, 3) if thr > 0 else 0,
    "throughput_eps": round(thr), "baseline_eps": round(base),
    "ratio_to_baseline": round(thr / base, 3) if base > 0 else None,
    "latency_ms": m.get("latency_ms", {}),
    "alerts": {"expected": int(expected), "got": int(m.get("alerts", 0))},
    "rss_mb": round(int(peak_kb) / 1024, 1), "cpu_cores": round(cpu_cores, 2),
    "commit": commit, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "series": m.get("series", []),
    "rss_series_mb": [[round(s[0] - samples[0][0], 1), round(s[1] / 1024, 1)] for s in samples],
}
# drift: RSS after warm-up (20% of the run) against the end; the median per-second p99 of the
# first third against the last third
ser = [p for p in rep["series"] if p["alerts"] > 0]
def med(v):
    v = sorted(v)
    return v[len(v) // 2] if v else None
if len(ser) >= 6 and len(samples) >= 5:
    k = len(ser) // 3
    w = len(samples) // 5
    rep["drift"] = {
        "rss_mb_after_warmup": round(samples[w][1] / 1024, 1),
        "rss_mb_end": round(samples[-1][1] / 1024, 1),
        "p99_ms_first_third": med([p["p99"] for p in ser[:k]]),
        "p99_ms_last_third": med([p["p99"] for p in ser[-k:]]),
    }
json.dump(rep, open(out, "w"), indent=1)
print(json.dumps({k: v for k, v in rep.items() if k not in ("series", "rss_series_mb")}))
PY
}

plot() {
  local png=${out%.json}.png
  python3 - "$out" "$work/plot.dat" "$work/rss.dat" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r.get("series", [])
t0 = s[0]["t"] if s else 0
with open(sys.argv[2], "w") as f:
    for p in s:
        f.write(f'{p["t"] - t0} {p["alerts"]} {p["p50"]} {p["p99"]}\n')
with open(sys.argv[3], "w") as f:
    for t, mb in r.get("rss_series_mb", []):
        f.write(f"{t} {mb}\n")
PY
  [ -s "$work/plot.dat" ] || return 0
  gnuplot <<GP 2>/dev/null || log "gnuplot failed (no plot)"
set terminal png size 900,600
set output "$png"
set multiplot layout 2,1 title "vigil $scenario ($(date -u +%F))"
set xlabel "seconds"
set ylabel "alerts/s"
set y2label "RSS MiB"
set y2tics
plot "$work/plot.dat" using 1:2 with lines title "alerts/s", \
     "$work/rss.dat" using 1:2 axes x1y2 with lines title "vigil RSS"
set ylabel "latency ms"
unset y2label
unset y2tics
plot "$work/plot.dat" using 1:3 with lines title "p50", "$work/plot.dat" using 1:4 with lines title "p99"
unset multiplot
GP
}

check_alerts() {
  python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
a = r["alerts"]
if a["expected"] != a["got"]:
    print(f'FAIL {r["scenario"]}: alerts expected {a["expected"]}, got {a["got"]}', file=sys.stderr)
    sys.exit(1)
PY
}

expected_alerts() { python3 -c "import json;print(json.load(open('$1'))['alerts'])"; }
vigil_eps() { grep -o '[0-9]* records/s' "$work/vigil.log" | tail -1 | cut -d' ' -f1; }

# a pre-loaded backlog of $1 events of scenario $2 on topology $3: throughput
run_backlog() {
  local n=$1 gen=$2 topo=$3 attacks=$4
  export AUTH_TOPIC="ev-$tag" BENCH_TOPIC="ev-$tag" ALERT_TOPIC="al-$tag" BENCH_ALERTS="al-$tag"
  export AUTH_DLQ="dlq-$tag" BENCH_DLQ="dlq-$tag"
  log "baseline: $n events through raw librdkafka"
  base=$(baseline "$n")
  log "loading $n $gen events"
  "$bench" produce --topic "ev-$tag" --scenario "$gen" --rate 0 --events "$n" \
    --attacks "$attacks" --partitions "$partitions" "${create[@]}" --expect-file "$work/expect.json" \
    2>"$work/produce.log"
  [ ${#create[@]} -eq 0 ] || "$bench" produce --topic "al-$tag" --events 0 --rate 0 \
    --partitions "$partitions" --create 2>/dev/null
  expected=$(expected_alerts "$work/expect.json")
  start_vigil "$topo" --exit-idle 3
  sample_vigil &
  pids+=($!)
  "$bench" measure --topic "al-$tag" --expect "$expected" --idle 20 --out "$work/measure.json" || true
  # the engine stops by itself 3 s after the backlog is drained
  peak_kb=0
  while kill -0 "$vigil_pid" 2>/dev/null; do
    peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$vigil_pid/status" 2>/dev/null || echo "$peak_kb")
    sleep 0.5
  done
  local rc=0
  wait "$vigil_pid" || rc=$?
  [ "$rc" -eq 0 ] || { log "vigil exited with $rc"; cat "$work/vigil.log" >&2; exit 1; }
  local records
  records=$(grep -o 'summary: [0-9]* records' "$work/vigil.log" | grep -o '[0-9]*')
  [ "$records" -eq "$n" ] || { log "vigil read $records records, expected $n"; grep -v COMMITFAIL "$work/vigil.log" | tail -20 >&2; exit 1; }
  thr=$(vigil_eps)
  report "$scenario" "$n" "$thr" "$base" "$expected" "$work/measure.json"
}

# events at a rate for a duration on topology $3, measured live: latency
run_rate() {
  local rate=$1 secs=$2 gen=$3 topo=$4 attacks=$5
  export AUTH_TOPIC="ev-$tag" ALERT_TOPIC="al-$tag" AUTH_DLQ="dlq-$tag"
  local n=$(( rate * secs ))
  local bn=$(( n < 300000 ? n : 300000 ))
  log "baseline: $bn events through raw librdkafka"
  base=$(baseline "$bn")
  [ ${#create[@]} -eq 0 ] || "$bench" produce --topic "ev-$tag" --events 0 --rate 0 \
    --partitions "$partitions" --create 2>/dev/null
  [ ${#create[@]} -eq 0 ] || "$bench" produce --topic "al-$tag" --events 0 --rate 0 \
    --partitions "$partitions" --create 2>/dev/null
  start_vigil "$topo"
  sample_vigil &
  pids+=($!)
  "$bench" measure --topic "al-$tag" --idle $(( secs + 30 )) --duration $(( secs + 60 )) \
    --out "$work/measure.json" &
  local mpid=$!
  log "$rate events/s for ${secs}s"
  "$bench" produce --topic "ev-$tag" --scenario "$gen" --rate "$rate" --duration "$secs" \
    --attacks "$attacks" --partitions "$partitions" --expect-file "$work/expect.json" 2>"$work/produce.log"
  expected=$(expected_alerts "$work/expect.json")
  # measure stops once every expected alert is in (or after its idle time)
  kill "$mpid" 2>/dev/null || true
  wait "$mpid" 2>/dev/null || true
  "$bench" measure --topic "al-$tag" --expect "$expected" --idle 15 --out "$work/measure.json" || true
  stop_vigil
  thr=$(vigil_eps)
  report "$scenario" "$n" "$thr" "$base" "$expected" "$work/measure.json"
}

case "$scenario" in
  passthrough)
    n=${EVENTS:-1000000}
    base=$(baseline "$n")
    report passthrough "$n" "$base" "$base" 0 ""
    exit 0 ;;
  auth-normal)
    r=${rate:-10000}; d=${duration:-60}
    run_rate "$r" "$d" auth topologies/auth_anomalies.yaml $(( r * d / 100 )) ;;
  auth-sustained)
    r=${rate:-50000}; d=${duration:-600}
    run_rate "$r" "$d" auth topologies/auth_anomalies.yaml $(( r * d / 1000 )) ;;
  auth-peak)
    n=${EVENTS:-1000000}
    run_backlog "$n" auth topologies/auth_anomalies.yaml $(( n / 100 )) ;;
  rules20)
    n=${EVENTS:-1000000}
    run_backlog "$n" rules20 bench/scenarios/rules20.yaml 0 ;;
  window)
    n=${EVENTS:-1000000}
    calls0=$(redis_calls)
    run_backlog "$n" window bench/scenarios/window.yaml 20
    calls=$(( $(redis_calls) - calls0 ))
    python3 - "$out" "$calls" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["redis_commands"] = int(sys.argv[2])
r["redis_commands_per_event"] = round(int(sys.argv[2]) / int(sys.argv[3]), 4)
json.dump(r, open(sys.argv[1], "w"), indent=1)
print(f'redis commands: {r["redis_commands"]}, per input event {r["redis_commands_per_event"]}')
PY
    ;;
  window-keys)
    # peak RSS against open keys: 2 events per key within one minute of event time, so every
    # key's windows are still open when the backlog is drained
    export BENCH_ALERTS="al-$tag" BENCH_DLQ="dlq-$tag"
    rows=()
    for k in ${KEYS_LIST:-100000 300000 1000000}; do
      n=$(( 2 * k ))
      log "loading $n window events over $k keys"
      export BENCH_TOPIC="kev-$k-$tag"
      "$bench" produce --topic "$BENCH_TOPIC" --scenario window --keys "$k" --span 60 --rate 0 \
        --events "$n" --partitions "$partitions" "${create[@]}" 2>"$work/produce.log"
      # a topic of its own per round, and no state left from the round before
      redis-cli -h "$redis_host" -p "$redis_port" FLUSHALL >/dev/null
      start_vigil bench/scenarios/window.yaml --exit-idle 3
      peak_kb=0
      while kill -0 "$vigil_pid" 2>/dev/null; do
        peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$vigil_pid/status" 2>/dev/null || echo "$peak_kb")
        sleep 0.5
      done
      wait "$vigil_pid" || { log "vigil failed"; cat "$work/vigil.log" >&2; exit 1; }
      records=$(grep -o 'summary: [0-9]* records' "$work/vigil.log" | grep -o '[0-9]*')
      [ "$records" -eq "$n" ] || { log "vigil read $records records, expected $n"; tail -20 "$work/vigil.log" >&2; exit 1; }
      keys_redis=$(redis-cli -h "$redis_host" -p "$redis_port" DBSIZE)
      rows+=("$k $n $peak_kb $(vigil_eps) $keys_redis")
      log "keys $k: peak RSS $(( peak_kb / 1024 )) MiB"
    done
    printf '%s\n' "${rows[@]}" >"$work/rows"
    python3 - "$work/rows" "$out" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import json, sys, datetime
rows = []
for line in open(sys.argv[1]):
    k, n, kb, eps, rk = line.split()
    rows.append({"keys": int(k), "events": int(n), "peak_rss_mb": round(int(kb) / 1024, 1),
                 "events_per_s": int(eps or 0), "redis_keys": int(rk)})
rep = {"scenario": "window-keys", "rows": rows, "alerts": {"expected": 0, "got": 0},
       "commit": sys.argv[3],
       "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
json.dump(rep, open(sys.argv[2], "w"), indent=1)
print(json.dumps(rep))
PY
    exit 0 ;;
  rules-1000)
    "$bench" rules --rules 1000 >"$work/rules.json"
    python3 - "$work/rules.json" "$out" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import json, sys, datetime
r = json.load(open(sys.argv[1]))
rep = {"scenario": "rules-1000", "events": r["events"], "rules": r["rules"],
       "throughput_eps": r["eps_2_threads"], "eps_1_thread": r["eps_1_thread"],
       "eps_2_threads": r["eps_2_threads"], "speedup": r["speedup"],
       "alerts": {"expected": 0, "got": 0}, "commit": sys.argv[3],
       "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
json.dump(rep, open(sys.argv[2], "w"), indent=1)
print(json.dumps(rep))
PY
    exit 0 ;;
  *) echo "bench/run.sh: unknown scenario '$scenario'" >&2; exit 2 ;;
esac
check_alerts
plot
log "report: $out"
