#!/usr/bin/env bash
# Installs the Debian 12 packages Fulcrum needs. Only what is missing is installed; safe to run again.
#   scripts/deps.sh demo          what scripts/demo.sh needs: build fulcrum and its demo backend, curl
#   scripts/deps.sh [PACKAGE...]  everything to build and test (and the demo), plus the named packages
#                                 (bench/run adds the proxies it measures against)
set -euo pipefail
DEMO=(build-essential cmake g++ pkg-config libyaml-cpp-dev libcli11-dev libxxhash-dev libre2-dev libhiredis-dev
      nlohmann-json3-dev libssl-dev libnghttp2-dev libcurl4-openssl-dev openssl curl netcat-openbsd)
TEST=(clang libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev wrk python3 python3-websocket
      prometheus keepalived redis-server redis-sentinel bird2 pebble testssl.sh nghttp2-client python3-h2)
if [ "${1:-}" = demo ]; then
  shift
  PKGS=("${DEMO[@]}" "$@")
else
  PKGS=("${DEMO[@]}" "${TEST[@]}" "$@")
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
