#!/usr/bin/env bash
# Install the Debian packages vigil needs that are not installed yet (and nothing else).
# Used by `make demo`, `make test` and CI. Needs root or sudo when something is missing.
set -euo pipefail
pkgs=(build-essential g++ cmake pkg-config
      librdkafka-dev libavro-dev libhiredis-dev libck-dev libjemalloc-dev libcmocka-dev
      libyaml-dev libpcre2-dev libmicrohttpd-dev libsimdjson-dev zlib1g-dev
      redis-server kcat gnuplot-nox python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
