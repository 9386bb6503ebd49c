#!/usr/bin/env bash
# Usage: scripts/build.sh [release|asan|tsan|fuzz]   -> build dir build-<kind>
set -euo pipefail
kind=${1:-release}
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
case "$kind" in
  release) cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release >/dev/null ;;
  tsan) cmake -S "$root" -B "$root/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFULCRUM_TSAN=ON \
          -DFULCRUM_BENCH=OFF >/dev/null ;;
  asan) cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DFULCRUM_SANITIZE=ON \
          -DFULCRUM_BENCH=OFF >/dev/null ;;
  fuzz) CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-fuzz" -DCMAKE_BUILD_TYPE=Debug -DFULCRUM_FUZZ=ON -DFULCRUM_TESTS=OFF \
          >/dev/null ;;
  *) echo "unknown build kind: $kind" >&2; exit 2 ;;
esac
if [ "$kind" = fuzz ]; then
  cmake --build "$root/build-fuzz" -j"$jobs" --target fuzz_targets
else
  cmake --build "$root/build-$kind" -j"$jobs"
fi
