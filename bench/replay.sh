#!/usr/bin/env bash
# bench/replay.sh: replay speed of topologies/brute_force.yaml, against the raw librdkafka
# consume baseline measured in the same run on the same topic (`vigil-bench passthrough
# --out -`: consume only, vigil's client settings).
#   1. KAFKA_EVENTS (default 2,000,000) brute events into a 128-partition topic of a fresh
#      development broker (it keeps at most 5 MiB per partition), keyed by user;
#   2. the baseline consumes them all; 3. `vigil replay --from 0` reads them all;
#   4. FILE_EVENTS (default 10,000,000) brute events as a JSON lines file; `vigil replay
#      --input logins=FILE` reads it (no broker; one stream thread).
# Writes bench/results/replay-kafka.json and bench/results/replay-file.json (bench/report.py
# puts them in docs/benchmarks.md) and prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
vigil=$build/vigil
bench=$build/vigil-bench
kn=${KAFKA_EVENTS:-2000000}
fn=${FILE_EVENTS:-10000000}
. bench/lib.sh
bench_world vigil-replay-bench "$build" rp:128
log() { echo "[bench replay] $*" >&2; }
export AUTH_TOPIC=rp ALERT_TOPIC=rp-alerts AUTH_DLQ=rp-dlq

log "loading $kn brute events into 128 partitions"
"$bench" produce --topic rp --scenario brute --rate 0 --events "$kn" --keys 100000 \
  --span 3600 --attacks 20 --partitions 128 2>"$work/produce.log"
log "baseline: raw librdkafka consume of the same topic"
"$bench" passthrough --in rp --out - --events "$kn" >"$work/base.json"
base=$(python3 -c "import json;print(int(json.load(open('$work/base.json'))['eps']))")
log "baseline $base events/s; vigil replay from the topic"
/usr/bin/time -v ${WRAP:-} "$vigil" replay topologies/brute_force.yaml --from 0 -q \
  --output "$work/alerts-kafka.jsonl" 2>"$work/replay-kafka.log"
log "writing $fn brute events to a file"
"$bench" produce --out "$work/events.jsonl" --scenario brute --rate 0 --events "$fn" \
  --keys 100000 --span 3600 --attacks 20 2>"$work/produce-file.log"
log "vigil replay from the file ($(du -h "$work/events.jsonl" | cut -f1))"
/usr/bin/time -v "$vigil" replay topologies/brute_force.yaml --from 0 -q \
  --input "logins=$work/events.jsonl" --output "$work/alerts-file.jsonl" \
  2>"$work/replay-file.log"

report() { # name, events, replay log, alerts file
  python3 - "$1" "$2" "$3" "$4" "$base" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import json, re, sys, datetime
name, n, logf, alerts, base, commit = sys.argv[1:]
text = open(logf).read()
m = re.search(r"replay summary: (\d+) records read, (\d+) events, (\d+) alerts, (\d+) dead "
              r"letters in ([\d.]+) s \((\d+) events/s\)", text)
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
eps = int(m.group(6))
rep = {"scenario": name, "events": int(n), "read": int(m.group(1)),
       "duration_s": float(m.group(5)), "throughput_eps": eps, "baseline_eps": int(base),
       "ratio_to_baseline": round(eps / int(base), 3),
       "alerts": {"expected": "", "got": int(m.group(3))},
       "rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
       "commit": commit,
       "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
json.dump(rep, open(f"bench/results/{name}.json", "w"), indent=1)
print(json.dumps(rep))
PY
}
mkdir -p bench/results
report replay-kafka "$kn" "$work/replay-kafka.log" "$work/alerts-kafka.jsonl"
report replay-file "$fn" "$work/replay-file.log" "$work/alerts-file.jsonl"
