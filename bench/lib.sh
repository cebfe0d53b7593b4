# bench/lib.sh: sourced by the bench scripts that need a scratch world of their own.
# bench_world PREFIX BUILD TOPIC:N...: a work dir ($work, removed at exit with everything
# started), a development broker with those topics and a redis-server on a free port;
# exports KAFKA_BROKERS and REDIS_URL, sets $redis_port.
bench_world() {
  local prefix=$1 build=$2
  shift 2
  work=$(mktemp -d "/tmp/$prefix.XXXXXX")
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
  local topics=()
  for t in "$@"; do topics+=(--topic "$t"); done
  "$build/vigil" broker "${topics[@]}" --bootstrap-file "$work/boot" >"$work/broker.log" 2>&1 &
  pids+=($!)
  redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    >"$work/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do [ -s "$work/boot" ] && break; sleep 0.1; done
  for _ in $(seq 50); do redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.1; done
  export KAFKA_BROKERS=$(cat "$work/boot") REDIS_URL=redis://127.0.0.1:$redis_port/0
}

# turn_order ROUND BUILD...: the builds in the order of that round, reversed every other
# round (run first or second, the same build measured up to 8% apart); sets the array order.
turn_order() {
  local r=$1
  shift
  order=("$@")
  if [ $((r % 2)) = 0 ]; then
    order=()
    local i
    for ((i = $#; i >= 1; i--)); do order+=("${!i}"); done
  fi
}
