#!/usr/bin/env bash
# bench/replay.sh: replay speed of topologies/brute_force.yaml, against the raw librdkafka
# consume baseline measured in the same run on the same topic (`vigil-bench passthrough
# --out -`: consume only, vigil's client settings).
#   1. FILE_EVENTS (default 10,000,000) brute events as a JSON lines file; KAFKA_EVENTS
#      (default 2,000,000) brute events into a 128-partition topic of a fresh development
#      broker (it keeps at most 5 MiB per partition), keyed by user, in batches of BATCH
#      (default 1000) records: the topic's layout is then the same in every run (with the
#      producer's timing deciding, batches came out anywhere from 90 to 900 records, and the
#      baseline moved with them);
#   2. ROUNDS (default 3) times, one after the other: the baseline consumes the topic,
#      `vigil replay --from 0` reads it, `vigil replay --input logins=FILE` reads the file
#      (no broker). Each round's ratios are to that round's baseline (the machine is shared
#      and its speed drifts between minutes); the reports carry every round and the medians.
#      Before each measurement `sync` writes out what the previous step wrote (the kernel's
#      write-back of a 1 GB file otherwise takes CPU from whatever runs next).
# Writes bench/results/replay-kafka.json and bench/results/replay-file.json (bench/report.py
# puts them in docs/benchmarks.md) and prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
vigil=$build/vigil
bench=$build/vigil-bench
kn=${KAFKA_EVENTS:-2000000}
fn=${FILE_EVENTS:-10000000}
rounds=${ROUNDS:-3}
batch=${BATCH:-1000}
. bench/lib.sh
bench_world vigil-replay-bench "$build" rp:128
log() { echo "[bench replay] $*" >&2; }
export AUTH_TOPIC=rp ALERT_TOPIC=rp-alerts AUTH_DLQ=rp-dlq

log "writing $fn brute events to a file"
"$bench" produce --out "$work/events.jsonl" --scenario brute --rate 0 --events "$fn" \
  --keys 100000 --span 3600 --attacks 20 2>"$work/produce-file.log"
log "loading $kn brute events into 128 partitions"
"$bench" produce --topic rp --scenario brute --rate 0 --events "$kn" --keys 100000 \
  --span 3600 --attacks 20 --partitions 128 --batch "$batch" 2>"$work/produce.log"
for r in $(seq "$rounds"); do
  sync # written files go to disk now, not while the next measurement runs
  "$bench" passthrough --in rp --out - --events "$kn" >"$work/base-$r.json"
  log "round $r: baseline $(python3 -c "import json;print(int(json.load(open('$work/base-$r.json'))['eps']))") events/s; replay from the topic, then from the file"
  /usr/bin/time -v ${WRAP:-} "$vigil" replay topologies/brute_force.yaml --from 0 -q \
    --output "$work/alerts-kafka.jsonl" 2>"$work/replay-kafka-$r.log"
  sync
  /usr/bin/time -v "$vigil" replay topologies/brute_force.yaml --from 0 -q \
    --input "logins=$work/events.jsonl" --output "$work/alerts-file.jsonl" \
    2>"$work/replay-file-$r.log"
done

report() { # name, events, log prefix
  python3 - "$1" "$2" "$3" "$work" "$rounds" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import json, re, sys, datetime, statistics
name, n, prefix, work, rounds, commit = sys.argv[1:]
runs = []
for r in range(1, int(rounds) + 1):
    text = open(f"{work}/{prefix}-{r}.log").read()
    m = re.search(r"replay summary: (\d+) records read, (\d+) events, (\d+) alerts, (\d+) dead "
                  r"letters in ([\d.]+) s \((\d+) events/s\)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    base = int(json.load(open(f"{work}/base-{r}.json"))["eps"])
    eps = int(m.group(6))
    runs.append({"read": int(m.group(1)), "alerts": int(m.group(3)),
                 "duration_s": float(m.group(5)), "throughput_eps": eps, "baseline_eps": base,
                 "ratio_to_baseline": round(eps / base, 3),
                 "rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None})
med = lambda k: statistics.median(x[k] for x in runs)
rep = {"scenario": name, "events": int(n), "rounds": len(runs), "read": runs[-1]["read"],
       "duration_s": med("duration_s"), "throughput_eps": int(med("throughput_eps")),
       "baseline_eps": int(med("baseline_eps")), "ratio_to_baseline": med("ratio_to_baseline"),
       "ratios": [x["ratio_to_baseline"] for x in runs],
       "alerts": {"expected": "", "got": runs[-1]["alerts"]},
       "alerts_every_round": sorted(set(x["alerts"] for x in runs)),
       "rss_mb": max(x["rss_mb"] or 0 for x in runs), "runs": runs, "commit": commit,
       "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
json.dump(rep, open(f"bench/results/{name}.json", "w"), indent=1)
print(json.dumps({k: rep[k] for k in ("scenario", "rounds", "throughput_eps", "baseline_eps",
                                      "ratio_to_baseline", "ratios", "alerts_every_round",
                                      "rss_mb", "commit")}))
PY
}
mkdir -p bench/results
report replay-kafka "$kn" replay-kafka
report replay-file "$fn" replay-file
