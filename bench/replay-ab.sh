#!/usr/bin/env bash
# bench/replay-ab.sh BUILD_DIR...: replays of two (or more) builds compared on one world, the
# way the before/after figures of docs/decisions.md and docs/benchmarks.md were taken. The
# machine's speed drifts by 15-30% between minutes, so the builds take turns, round after round:
#   1. KAFKA_EVENTS (default 2,000,000) brute events into a 128-partition topic of a fresh
#      development broker in batches of BATCH (default 1000) records, as bench/replay.sh; and
#      FILE_EVENTS (default 2,000,000) of them as a JSON lines file;
#   2. ROUNDS (default 5) times: each build's `vigil replay topologies/brute_force.yaml --from 0`
#      of the topic, then each build's replay of the file (`--input logins=FILE`).
# Prints, per build and input, the median wall and CPU (user + system) seconds from
# /usr/bin/time, the alert counts seen (they must agree between builds), and for each build
# after the first the median over the rounds of its change against the first in that round
# (the builds run in turn, in reverse order every other round).
# Example: git worktree add /tmp/old HEAD~1 && cmake -S /tmp/old -B build-old &&
#          cmake --build build-old -j2 --target vigil && bench/replay-ab.sh build-old build
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/replay-ab.sh BUILD_DIR..." >&2; exit 2; }
kn=${KAFKA_EVENTS:-2000000}
fn=${FILE_EVENTS:-2000000}
rounds=${ROUNDS:-5}
. bench/lib.sh
gen=${!#} # the last build's broker and generator (an old build may have only vigil)
bench_world vigil-replay-ab "$gen" rp:128
export AUTH_TOPIC=rp ALERT_TOPIC=rp-alerts AUTH_DLQ=rp-dlq
"$gen/vigil-bench" produce --out "$work/events.jsonl" --scenario brute --rate 0 --events "$fn" \
  --keys 100000 --span 3600 --attacks 20 2>/dev/null
"$gen/vigil-bench" produce --topic rp --scenario brute --rate 0 --events "$kn" --keys 100000 \
  --span 3600 --attacks 20 --partitions 128 --batch "${BATCH:-1000}" 2>/dev/null
builds=("$@")
for r in $(seq "$rounds"); do
  turn_order "$r" "${builds[@]}"
  for input in kafka file; do
    for b in "${order[@]}"; do
      args=(--output "$work/alerts.jsonl")
      [ "$input" = file ] && args+=(--input "logins=$work/events.jsonl")
      /usr/bin/time -f "%e %U %S" -o "$work/time" "$b/vigil" replay topologies/brute_force.yaml \
        --from 0 -q "${args[@]}" 2>/dev/null
      echo "$r $b $input $(cat "$work/time") $(wc -l <"$work/alerts.jsonl")" >>"$work/runs"
    done
  done
done
python3 - "$work/runs" "$1" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
by_round = {}
for line in open(sys.argv[1]):
    rnd, build, inp, wall, user, sys_, alerts = line.split()
    x = (float(wall), float(user) + float(sys_), int(alerts))
    runs[(build, inp)].append(x)
    by_round[(rnd, build, inp)] = x
for (build, inp), xs in runs.items():
    line = (f"{build} {inp}: wall median {statistics.median(x[0] for x in xs):.3f} s, "
            f"cpu median {statistics.median(x[1] for x in xs):.3f} s, "
            f"alerts {sorted(set(x[2] for x in xs))}, rounds {len(xs)}")
    if build != sys.argv[2]:  # against the first build, round by round
        pairs = [(by_round[(r, sys.argv[2], inp)], by_round[(r, build, inp)])
                 for (r, b, i) in by_round if b == build and i == inp]
        dw = statistics.median(b[0] / a[0] - 1 for a, b in pairs)
        dc = statistics.median(b[1] / a[1] - 1 for a, b in pairs)
        line += f"; against {sys.argv[2]}, median of the rounds: wall {dw:+.1%}, cpu {dc:+.1%}"
    print(line)
PY
