#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts three demo HTTP backends and two
# UDP echo backends on loopback, and runs Fulcrum with examples/fulcrum.yaml in front
# of them. Ctrl-C stops everything this script started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh
scripts/build.sh release
bin=build-release
pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped"
}
trap cleanup INT TERM EXIT
i=1
for port in 9001 9002 9003; do
  "$bin/tools/testbackend/fulcrum-testbackend" --id "backend-$i" --mode http --tcp "127.0.0.1:$port" >/dev/null &
  pids+=($!); i=$((i + 1))
done
for port in 9053 9054; do
  "$bin/tools/testbackend/fulcrum-testbackend" --id "udp-$port" --udp "127.0.0.1:$port" >/dev/null &
  pids+=($!)
done
"$bin/src/exe/fulcrum" check -c examples/fulcrum.yaml
"$bin/src/exe/fulcrum" run -c examples/fulcrum.yaml &
fulcrum_pid=$!
pids+=($fulcrum_pid)
sleep 1
cat <<MSG

Fulcrum is balancing across three demo backends (pid $fulcrum_pid).
  HTTP: curl http://127.0.0.1:8080/     (repeat it: backend-1, -2 and -3 share the requests)
        curl http://127.0.0.1:8080/healthz   (a fixed answer from a route)
  TCP:  curl http://127.0.0.1:8081/     (the same pool through the L4 relay)
  UDP:  echo hello | nc -u -w1 127.0.0.1 8053
  Metrics: curl http://127.0.0.1:9900/metrics      Access log: /tmp/fulcrum-demo.access.log
  Control: $bin/src/exe/fulcrum ctl status
           $bin/src/exe/fulcrum ctl drain web 127.0.0.1:9001    (then: ctl enable web 127.0.0.1:9001)
           $bin/src/exe/fulcrum ctl weight web 127.0.0.1:9002 5
  Reload the config:  kill -HUP $fulcrum_pid  (or: fulcrum ctl reload)      Stop: Ctrl-C
MSG
wait "$fulcrum_pid" || true
