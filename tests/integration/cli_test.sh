#!/usr/bin/env bash
# cli_test.sh - the vigil command line as a user meets it: help, version, exit codes,
# validate on every shipped topology and on broken ones (exact diagnostics), graph formats,
# and the development broker reachable by another client (kcat) over TCP.
set -uo pipefail
cd "${VG_SOURCE_DIR:?}"
vigil=${VG_VIGIL:?}
fails=0
work=$(mktemp -d /tmp/vigil-cli-XXXXXX)
trap 'rm -rf "$work"; [ -n "${broker_pid:-}" ] && kill "$broker_pid" 2>/dev/null' EXIT

check() { # name, expected status, actual status
  if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fails=$((fails + 1)); return 1; fi
  echo "ok   $1"
}
check_out() { # name, expected text, actual text
  if [ "$2" != "$3" ]; then
    echo "FAIL $1"; diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -40; fails=$((fails + 1))
  else echo "ok   $1"; fi
}

out=$("$vigil" --version); check "version exit" 0 $?
[[ "$out" == "vigil 0.1.0 (librdkafka 2.0.2)" ]]; check "version text" 0 $?
"$vigil" --help | grep -q '^  run TOPOLOGY.yaml'; check "help lists run" 0 $?
for c in run validate graph broker replay; do
  "$vigil" $c --help | grep -q "^usage: vigil $c"; check "$c --help" 0 $?
done
"$vigil" frobnicate 2>/dev/null; check "unknown command" 2 $?
"$vigil" 2>/dev/null; check "no command" 2 $?
"$vigil" validate 2>/dev/null; check "validate without file" 2 $?
"$vigil" graph --format svg topologies/auth_anomalies.yaml 2>/dev/null; check "graph bad format" 2 $?
out=$("$vigil" run topologies/brute_force.yaml --exit-idle 2>&1); check "run: --exit-idle after the file, no value" 2 $?
check_out "run: --exit-idle message" "vigil run: --exit-idle: expected seconds > 0, got ''" "$out"
out=$("$vigil" run --exit-idel 3 topologies/brute_force.yaml 2>&1); out=$(head -n1 <<<"$out")
check_out "run: unknown option" "vigil run: unknown option '--exit-idel'" "$out"

# vigil replay: usage errors are named before anything connects
replay_err() { # name, expected first line, args...
  local name=$1 want=$2; shift 2
  out=$("$vigil" replay "$@" 2>&1); st=$? # all of it: a pipe to head could end in SIGPIPE
  out=$(head -n1 <<<"$out")
  check "replay: $name (exit)" 2 "$st"; check_out "replay: $name" "$want" "$out"
}
replay_err "no --from" "vigil replay: --from is required (RFC 3339 or epoch ms; 0 for everything)" \
  topologies/brute_force.yaml
replay_err "bad --from" "vigil replay: --from: expected RFC 3339 or epoch ms, got 'yesterday'" \
  topologies/brute_force.yaml --from yesterday
replay_err "--to before --from" "vigil replay: --to is before --from" \
  topologies/brute_force.yaml --from 2026-11-02T00:00:00Z --to 2026-11-01T00:00:00Z
replay_err "bad --speed" "vigil replay: --speed: expected max, 1x or Nx, got 'fast'" \
  topologies/brute_force.yaml --from 0 --speed fast
replay_err "bad --from-offset" \
  "vigil replay: --from-offset: expected [TOPIC:]PARTITION:OFFSET, got 'x:y'" \
  topologies/brute_force.yaml --from 0 --from-offset x:y
replay_err "two topologies" "vigil replay: one topology at a time ('topologies/port_scan.yaml' is a second)" \
  topologies/brute_force.yaml topologies/port_scan.yaml --from 0
replay_err "unknown option" "vigil replay: unknown option '--form'" \
  topologies/brute_force.yaml --form 0
replay_err "standard input twice" "vigil replay: --input: standard input ('-') can be read once" \
  topologies/brute_force.yaml --from 0 --input logins=- --input logins=-

out=$("$vigil" validate topologies/*.yaml bench/scenarios/*.yaml 2>&1); st=$?
check "validate shipped topologies" 0 $st
[ $st -eq 0 ] || echo "$out"

for f in tests/cases/cli/bad_*.yaml; do
  out=$("$vigil" validate "$f" 2>&1); st=$?
  check "validate $f exit" 1 $st
  check_out "validate $f output" "$(cat "${f%.yaml}.expected")" "$out"
done

"$vigil" graph topologies/auth_anomalies.yaml >"$work/g.txt"; check "graph text" 0 $?
"$vigil" graph --format dot topologies/auth_anomalies.yaml | grep -q '^digraph'; check "graph dot" 0 $?
"$vigil" graph --format mermaid topologies/auth_anomalies.yaml | grep -q '^flowchart LR'; check "graph mermaid" 0 $?

# the development broker, used by another client over TCP
"$vigil" broker --partitions 3 --topic probe --bootstrap-file "$work/boot" >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(cat "$work/boot" 2>/dev/null)
[[ "$boot" == 127.0.0.1:* ]]; check "broker bootstrap file" 0 $?
[ "$(head -n1 "$work/broker.out")" == "$boot" ]; check "broker prints bootstrap" 0 $?
if command -v kcat >/dev/null; then
  # a loaded machine may answer slowly: a few tries each, and what kcat said on failure
  for _ in 1 2 3 4 5; do
    meta=$(kcat -b "$boot" -L -t probe -m 5 2>&1) && grep -q '3 partitions' <<<"$meta" && break
    sleep 1
  done
  grep -q '3 partitions' <<<"$meta"; check "kcat sees 3 partitions" 0 $? || echo "$meta"
  printf 'one\ntwo\n' | kcat -b "$boot" -P -t probe -p 1 -m 10; check "kcat produce" 0 $?
  for _ in 1 2 3 4 5; do
    got=$(kcat -b "$boot" -C -t probe -p 1 -o beginning -e -q -m 10 2>"$work/kcat.err" | tr '\n' ' ')
    [ "$got" == "one two " ] && break
    sleep 1
  done
  [ "$got" == "one two " ]; check "kcat consume back" 0 $? || { echo "got '$got'"; cat "$work/kcat.err"; }
fi
kill -TERM "$broker_pid"; wait "$broker_pid"; check "broker exits 0 on SIGTERM" 0 $?
broker_pid=
[ ! -e "$work/boot" ]; check "broker removes bootstrap file" 0 $?

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
