#!/usr/bin/env bash
# Installs the Debian 12 packages Fulcrum needs to build, test and run its demo.
# Only what is missing is installed; safe to run again. Arguments name more packages to install
# the same way (bench/run adds the proxies it measures against).
set -euo pipefail
PKGS=(build-essential cmake g++ clang libclang-rt-14-dev pkg-config
      libyaml-cpp-dev libcli11-dev libxxhash-dev libgtest-dev libgmock-dev libbenchmark-dev
      libre2-dev nlohmann-json3-dev curl wrk python3 python3-websocket netcat-openbsd
      prometheus "$@")
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
