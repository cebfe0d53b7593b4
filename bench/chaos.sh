#!/usr/bin/env bash
# bench/chaos.sh [--duration S] [--seed N] [--runs N] [--rate R] [--procs 2|3] [--gap PCT] [--calm]
#
# Failure injection for minutes to hours: runs the harness of tests/integration/chaos_test.c
# (the same binary `make test` runs, $BUILD/it_chaos_test) with a longer chaos phase. A
# reference vigil that is never interrupted and a group of --procs vigil processes that are
# killed -9 and restarted at random, with their Redis killed or frozen now and then, read the
# same events; every run must give exactly the reference's alerts (docs/operations.md,
# Failure injection). Prints a summary per run and a total; the full output of each run (the
# differences, the schedule, the ends of the logs) stays in the log directory it names.
#
#   --duration S  seconds of events and chaos per run (default 600)
#   --seed N      the first run's seed (default: random); run k uses N+k-1. Same seed, same
#                 events and schedule: `bench/chaos.sh --seed N --duration S` replays a run
#   --runs N      runs one after another (default 1)
#   --rate R      events per second (default 300)
#   --procs P     processes in the chaos group (default 3)
#   --gap PCT     the gaps between failures in percent of the test's (default 100: mostly
#                 8-18 s, when the development broker's group barely reads between them; 250
#                 gives it 20-45 s to work, and a backlog to catch up on still)
#   --calm        control runs: the same harness with no failures injected
# Exit 0 when every run passed, 1 when one found a difference, 2 on bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=600 seed="" runs=1 rate="" procs="" gap="" calm=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --procs) procs=$2; shift 2 ;;
    --gap) gap=$2; shift 2 ;;
    --calm) calm=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "bench/chaos.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

build=${BUILD:-build}
bin=$build/it_chaos_test
[ -x "$bin" ] && [ -x "$build/vigil" ] || {
  echo "bench/chaos.sh: build first (cmake --build $build --target vigil it_chaos_test)" >&2
  exit 2
}
logdir=$(mktemp -d /tmp/vigil-chaos.XXXXXX)
log() { echo "[chaos] $*" >&2; }

failed=0
declare -A total=()
for ((k = 1; k <= runs; k++)); do
  if [ -n "$seed" ]; then s=$((seed + k - 1)); else s=$(( (RANDOM << 15 | RANDOM) % 1000000000 )); fi
  out="$logdir/run-$k-seed-$s.log"
  log "run $k/$runs: seed $s, $duration s of chaos (log $out)"
  env VG_SOURCE_DIR="$PWD" VG_VIGIL="$build/vigil" VG_CHAOS_SEED="$s" VG_CHAOS_SECONDS="$duration" \
    ${rate:+VG_CHAOS_RATE=$rate} ${procs:+VG_CHAOS_PROCS=$procs} ${gap:+VG_CHAOS_GAP_PCT=$gap} VG_CHAOS_CALM="$calm" \
    "$bin" >"$out" 2>&1 || true
  line=$(grep '^chaos summary:' "$out" | tail -n 1 || true)
  if [ -z "$line" ]; then
    failed=1
    echo "seed $s: the harness stopped before its checks; the end of its output:"
    tail -n 30 "$out" | sed 's/^/    /'
    continue
  fi
  declare -A v=()
  for kv in ${line#chaos summary: }; do v[${kv%%=*}]=${kv#*=}; done
  [ "${v[result]}" = PASS ] || failed=1
  for f in kills restarts redis_outages crashes events ref_alerts chaos_alerts missing extra \
           differing duplicates id_conflicts key_mismatches late_dead_letters late_logged; do
    total[$f]=$(( ${total[$f]:-0} + ${v[$f]:-0} ))
  done
  total[runs]=$(( ${total[runs]:-0} + 1 ))
  [ "${v[result]}" = PASS ] && total[passed]=$(( ${total[passed]:-0} + 1 ))
  cat <<EOF
seed ${v[seed]} (${v[mode]}): ${v[result]}   replay: bench/chaos.sh --seed ${v[seed]} --duration ${v[seconds]}
  duration        ${v[seconds]} s of events at ${v[rate]}/s, ${v[procs]} processes, ${v[wall_s]} s in all
  chaos           ${v[kills]} kills, ${v[restarts]} restarts, ${v[redis_outages]} Redis outages, ${v[crashes]} crashes (exits nobody asked for)
  events          ${v[events]}
  alerts          reference ${v[ref_alerts]}, chaos run ${v[chaos_alerts]} (distinct), run complete: ${v[complete]}
  differences     ${v[missing]} missing, ${v[extra]} extra, ${v[differing]} differing, ${v[duplicates]} duplicates (repeated ids, allowed)
  ids and keys    ${v[id_conflicts]} id conflicts, ${v[key_mismatches]} alert keys that are not the window's
  late            ${v[late_dead_letters]} late dead letters the reference took, ${v[late_logged]} late drops logged by windows
EOF
  grep -E '^(by rule|CRASHED)' "$out" | sed 's/^/  /' || true
  unset v
done
if [ "${total[runs]:-0}" -gt 1 ]; then
  echo "total: ${total[passed]:-0}/${total[runs]} runs passed; ${total[kills]} kills, ${total[restarts]} restarts," \
       "${total[redis_outages]} Redis outages, ${total[crashes]} crashes, ${total[events]} events;" \
       "${total[missing]} missing, ${total[extra]} extra, ${total[differing]} differing," \
       "${total[duplicates]} duplicates, ${total[late_dead_letters]} late dead letters"
fi
log "logs: $logdir"
exit "$failed"
