#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. Release build: unit + integration tests (ctest), then a smoke run of bench/run
#   2. ASan+UBSan build: unit + integration tests
#   3. TSan build: integration tests and the unit tests of modules with shared state (workers
#      and the control thread); any ThreadSanitizer report from any process fails the stage
#   4. libFuzzer targets (clang, ASan+UBSan), each for a bounded time on its seed corpus
# Tests run two at a time (the CI machine has 2 cores and most tests wait on sockets and
# timers); each test uses its own ports and temporary directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "== release build ($(date +%T))"
scripts/build.sh release
echo "== release tests ($(date +%T))"
(cd build-release && ctest --output-on-failure --timeout 600 -j2)
echo "== benchmark smoke run ($(date +%T))"
# Not a measurement (nothing is timed or compared): the side-by-side suite runs end to end
# with tiny sizes against HAProxy and NGINX (and the TLS suite against Caddy too), so that it
# cannot rot.
bench/run --smoke
bench/tls --smoke

echo "== asan+ubsan build ($(date +%T))"
scripts/build.sh asan
echo "== asan+ubsan tests ($(date +%T))"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure --timeout 900 -j2)

echo "== tsan build ($(date +%T))"
scripts/build.sh tsan
echo "== tsan tests ($(date +%T))"
reports=$(mktemp -d)
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 log_path=$reports/tsan" ctest --output-on-failure --timeout 900 -j2)
if compgen -G "$reports/tsan*" >/dev/null; then
  echo "ThreadSanitizer reports:"; cat "$reports"/tsan*; exit 1
fi
rm -rf "$reports"

echo "== fuzz ($(date +%T))"
scripts/build.sh fuzz
(cd build-fuzz && ctest --output-on-failure -L fuzz -j2)
echo "all test stages passed"
