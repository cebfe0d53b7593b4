#!/usr/bin/env bash
# bench/ab.sh SCENARIO BUILD_DIR...: one bench/run.sh scenario (auth-peak, window, ...) for two
# or more builds, the builds taking turns round after round (in reverse order every other
# round: run first or second, the same build measured up to 8% apart), each run with its own
# fresh broker, Redis and raw librdkafka baseline as bench/run.sh makes them.
# Prints per round and build the engine's events/s, the baseline's and their ratio; then per
# build the medians, and for each build after the first the median over the rounds of its
# change against the first in that round (events/s and ratio to the baseline).
# Example: git worktree add /tmp/old HEAD~3 && cmake -S /tmp/old -B build-old &&
#          cmake --build build-old -j2 --target vigil vigil-bench && bench/ab.sh window build-old build
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,11p' "$0"; exit 2; }
scenario=$1
shift
rounds=${ROUNDS:-3}
. bench/lib.sh
out=$(mktemp -d /tmp/vigil-ab.XXXXXX)
trap 'rm -rf "$out"' EXIT
builds=("$@")
for r in $(seq "$rounds"); do
  turn_order "$r" "${builds[@]}"
  for b in "${order[@]}"; do
    tag=$(echo "$b" | tr '/' '_')
    BUILD=$b bench/run.sh "$scenario" --out "$out/$tag.$r.json" >"$out/$tag.$r.log" 2>&1 ||
      { echo "bench/ab.sh: $b round $r failed:" >&2; tail -20 "$out/$tag.$r.log" >&2; exit 1; }
    python3 - "$out/$tag.$r.json" "$r" "$b" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"round {sys.argv[2]} {sys.argv[3]}: {r['throughput_eps']} events/s, "
      f"baseline {r['baseline_eps']}, ratio {r['ratio_to_baseline']}, "
      f"alerts {r['alerts']['got']}/{r['alerts']['expected']}")
PY
  done
done
python3 - "$out" "$rounds" "${builds[@]}" <<'PY'
import json, statistics, sys
out, rounds, builds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def load(b, r):
    return json.load(open(f"{out}/{b.replace('/', '_')}.{r}.json"))
for b in builds:
    runs = [load(b, r) for r in range(1, rounds + 1)]
    eps = statistics.median(x["throughput_eps"] for x in runs)
    ratio = statistics.median(x["ratio_to_baseline"] for x in runs)
    print(f"{b}: median {eps:.0f} events/s, ratio to baseline {ratio:.3f}")
for b in builds[1:]:
    d_eps = statistics.median(load(b, r)["throughput_eps"] / load(builds[0], r)["throughput_eps"] - 1
                              for r in range(1, rounds + 1))
    d_ratio = statistics.median(load(b, r)["ratio_to_baseline"] / load(builds[0], r)["ratio_to_baseline"] - 1
                                for r in range(1, rounds + 1))
    print(f"{b} against {builds[0]}: events/s {d_eps:+.1%}, ratio to baseline {d_ratio:+.1%} (medians of per-round changes)")
PY
