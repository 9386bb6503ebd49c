#!/usr/bin/env bash
# The demo: installs what is missing (scripts/deps.sh demo), builds only the two programs it runs
# (fulcrum and fulcrum-testbackend, in build-demo/, tests and benchmarks off), starts three demo
# HTTP backends and two UDP echo backends on loopback, and runs Fulcrum with a copy of
# examples/fulcrum.yaml in front of them. Each run keeps its config copy, state, logs in a fresh
# temporary directory, so nothing a past run changed (servers drained or added through the API)
# comes back. Ctrl-C stops everything this script started.
#
#   scripts/demo.sh                      install, build, run until Ctrl-C
#   scripts/demo.sh --check              the same, but send one HTTP, TCP and UDP request and a
#                                        metrics scrape, then stop: exit 0 if all answered, else 1
#   scripts/demo.sh --build-dir DIR ...  use the programs already built in DIR (no install, no build);
#                                        the tests run `--check --build-dir` so the demo cannot rot
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
check=0
bin=""
while (($#)); do
  case "$1" in
    --check) check=1 ;;
    --build-dir) bin=${2:?--build-dir needs a directory}; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$bin" ]; then
  scripts/deps.sh demo
  bin=build-demo
  cmake -S . -B "$bin" -DCMAKE_BUILD_TYPE=Release -DFULCRUM_TESTS=OFF -DFULCRUM_BENCH=OFF >/dev/null
  cmake --build "$bin" -j"$(nproc)" --target fulcrum fulcrum-testbackend
fi
fulcrum=$bin/src/exe/fulcrum
backend=$bin/tools/testbackend/fulcrum-testbackend
work=$(mktemp -d "${TMPDIR:-/tmp}/fulcrum-demo.XXXXXX")
# The example's files live under /tmp/fulcrum-demo.*; this run's go to its own directory.
sed "s|/tmp/fulcrum-demo\.|$work/|g" examples/fulcrum.yaml >"$work/fulcrum.yaml"
# The HTTPS listener's certificate: self-signed for localhost, made for this run only.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/localhost.key" -out "$work/localhost.pem" \
  2>/dev/null

pids=()
cleanup() {
  local code=$?
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((check)); then
    ((code == 0)) || { echo "--- fulcrum log"; cat "$work/fulcrum.log"; } >&2
    rm -rf "$work"
  else
    echo "demo stopped; its files stay in $work"
  fi
  exit "$code"
}
trap cleanup INT TERM EXIT
i=1
for port in 9001 9002 9003; do
  "$backend" --id "backend-$i" --mode http --tcp "127.0.0.1:$port" >/dev/null &
  pids+=($!); i=$((i + 1))
done
for port in 9053 9054; do
  "$backend" --id "udp-$port" --udp "127.0.0.1:$port" >/dev/null &
  pids+=($!)
done
"$fulcrum" check "$work/fulcrum.yaml"
"$fulcrum" run -c "$work/fulcrum.yaml" 2>"$work/fulcrum.log" &
fulcrum_pid=$!
pids+=($fulcrum_pid)
# Serving once the HTTP listener answers (at most 10 s); fulcrum exiting (a port in use, say)
# ends the wait at once.
ready=0
for _ in $(seq 100); do
  kill -0 "$fulcrum_pid" 2>/dev/null || break
  if curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:8080/; then ready=1; break; fi
  sleep 0.1
done
if ((!ready)); then
  echo "demo: fulcrum is not serving on 127.0.0.1:8080; its log:" >&2
  cat "$work/fulcrum.log" >&2
  exit 1
fi

if ((check)); then
  http=$(curl -fsS --max-time 5 http://127.0.0.1:8080/)
  tcp=$(curl -fsS --max-time 5 http://127.0.0.1:8081/)
  https=$(curl -fsS --max-time 5 --cacert "$work/localhost.pem" --resolve localhost:8443:127.0.0.1 https://localhost:8443/)
  metrics=$(curl -fsS --max-time 5 http://127.0.0.1:9900/metrics)
  exec 3<>/dev/udp/127.0.0.1/8053
  printf 'hello\n' >&3
  # One read of a whole datagram (bash's read would take one byte of it and drop the rest).
  udp=$(timeout 5 dd bs=65536 count=1 status=none <&3 || true)
  exec 3<&-
  echo "http: $http"
  echo "https: $https"
  echo "tcp: $tcp"
  echo "udp: $udp"
  [[ $http == *backend-* && $https == *backend-* && $tcp == *backend-* && $udp == udp-905?" hello" && $metrics == *fulcrum_* ]] || {
    echo "demo --check: an answer is missing or wrong" >&2
    exit 1
  }
  echo "demo --check: HTTP, HTTPS, TCP, UDP and metrics answered"
  exit 0
fi

cat <<MSG

Fulcrum is balancing across three demo backends (pid $fulcrum_pid).
  HTTP: curl http://127.0.0.1:8080/     (repeat it: backend-1, -2 and -3 share the requests)
        curl http://127.0.0.1:8080/healthz   (a fixed answer from a route)
  HTTPS: curl --cacert $work/localhost.pem https://localhost:8443/   (TLS terminated by Fulcrum)
  TCP:  curl http://127.0.0.1:8081/     (the same pool through the L4 relay)
  UDP:  echo hello | nc -u -w1 127.0.0.1 8053
  Metrics: curl http://127.0.0.1:9900/metrics
  Files of this run (config copy, state, logs): $work
        Fulcrum's log: tail -f $work/fulcrum.log    Access log: $work/access.log
  Control: $fulcrum ctl status
           $fulcrum ctl drain web 127.0.0.1:9001    (then: ctl enable web 127.0.0.1:9001)
           $fulcrum ctl weight web 127.0.0.1:9002 5
  Reload: edit $work/fulcrum.yaml, then kill -HUP $fulcrum_pid  (or: $fulcrum ctl reload)
  Stop: Ctrl-C
MSG
wait "$fulcrum_pid" || true
