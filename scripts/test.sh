#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. Release build: unit + integration tests (ctest)
#   2. ASan+UBSan build: unit + integration tests
#   3. TSan build: unit + integration tests (workers and the control thread share state);
#      any ThreadSanitizer report from any process fails the stage
#   4. libFuzzer targets (clang, ASan+UBSan), each for a bounded time on its seed corpus
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

echo "== tsan build"
scripts/build.sh tsan
echo "== tsan tests"
reports=$(mktemp -d)
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 log_path=$reports/tsan" ctest --output-on-failure --timeout 900 -j1)
if compgen -G "$reports/tsan*" >/dev/null; then
  echo "ThreadSanitizer reports:"; cat "$reports"/tsan*; exit 1
fi
rm -rf "$reports"

echo "== fuzz"
scripts/build.sh fuzz
(cd build-fuzz && ctest --output-on-failure -L fuzz -j1)
echo "all test stages passed"
