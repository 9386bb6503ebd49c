#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. Release build: unit + integration tests (ctest)
#   2. ASan+UBSan build: unit + integration tests
#   3. libFuzzer targets (clang, ASan+UBSan), each for a bounded time on its seed corpus
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "== release build"
scripts/build.sh release
echo "== release tests"
(cd build-release && ctest --output-on-failure --timeout 600 -j1)

echo "== asan+ubsan build"
scripts/build.sh asan
echo "== asan+ubsan tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure --timeout 900 -j1)

echo "== fuzz"
scripts/build.sh fuzz
(cd build-fuzz && ctest --output-on-failure -L fuzz -j1)
echo "all test stages passed"
