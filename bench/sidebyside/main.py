#!/usr/bin/env python3
"""Fulcrum side by side with HAProxy and NGINX (and no proxy at all), in one run, interleaved.

Run through bench/run, which installs HAProxy, NGINX and wrk and builds Fulcrum (Release).
Each scenario runs its rounds as A B C D A B C D ...; the report gives medians (min-max).
Every client call has a timeout, so the run always ends.
"""
import argparse, datetime, json, os, platform, resource, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load, procs, report  # noqa: E402
from targets import Backends, Direct, Fulcrum, HAProxy, Nginx  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ALL_SCENARIOS = [s for s, _, _ in report.SCENARIOS]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-release"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"),
                    help="directory for benchmarks.md and benchmarks.json (default: docs/)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5, help="wrk duration per measurement")
    ap.add_argument("--connections", type=int, default=50, help="wrk connections")
    ap.add_argument("--idle", type=int, default=10000, help="idle HTTP connections")
    ap.add_argument("--l4-idle", type=int, default=9500, help="idle L4 connections (2 fds each in the proxy)")
    ap.add_argument("--bulk-mib", type=int, default=2048, help="MiB per L4 bulk download")
    ap.add_argument("--targets", default="direct,fulcrum,haproxy,nginx")
    ap.add_argument("--baseline", help="another Fulcrum build directory, measured in the same run as target "
                    "'baseline' (a before/after comparison); add 'baseline' to --targets")
    ap.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    ap.add_argument("--smoke", action="store_true",
                    help="tiny sizes, one round, output to a temp dir; exit 1 if anything failed (CI)")
    a = ap.parse_args()
    if a.smoke:
        a.rounds, a.seconds, a.idle, a.l4_idle, a.bulk_mib = 1, 1, 200, 200, 64
        a.out = tempfile.mkdtemp(prefix="fulcrum-bench-smoke-")
    if a.rounds < 1 or a.seconds < 1 or a.idle < 1 or not 1 <= a.l4_idle <= 9500:
        ap.error("--rounds, --seconds and --idle must be >= 1; --l4-idle 1..9500 (open-file limit)")
    return a


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}"


def parser_speed(build, min_time, repetitions):
    """GB/s (median of the repetitions) of the request-head parser on the benchmark's heads."""
    exe = f"{build}/bench/bench_http_parser"
    if not os.path.exists(exe):
        return {}
    r = subprocess.run([exe, "--benchmark_filter=requestWhole", "--benchmark_format=json",
                        f"--benchmark_min_time={min_time}", f"--benchmark_repetitions={repetitions}",
                        "--benchmark_report_aggregates_only=true"],
                       capture_output=True, text=True, timeout=300)
    data = json.loads(r.stdout)
    return {b["run_name"].split("/", 1)[-1]: b["bytes_per_second"] / 1e9 for b in data["benchmarks"]
            if b.get("aggregate_name") == "median"}


def main():
    a = parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    procs.pin_self()
    work = tempfile.mkdtemp(prefix="fulcrum-bench-")
    scenarios = [s for s in a.scenarios.split(",") if s]
    unknown = set(scenarios) - set(ALL_SCENARIOS)
    if unknown:
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(f"unknown scenario(s): {', '.join(sorted(unknown))}; known: {', '.join(ALL_SCENARIOS)}")
    backends = Backends(a.build, work)
    makers = {"direct": lambda: Direct(backends, work), "fulcrum": lambda: Fulcrum(backends, work, a.build),
              "haproxy": lambda: HAProxy(backends, work), "nginx": lambda: Nginx(backends, work)}
    if a.baseline:
        makers["baseline"] = lambda: Fulcrum(backends, work, a.baseline, name="baseline")
    names = [t for t in a.targets.split(",") if t]
    if set(names) - set(makers) or not names:
        backends.close()
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(f"--targets: choose from {', '.join(makers)}")
    targets = [makers[t]() for t in names]
    results = {s: {t.name: [] for t in targets} for s in scenarios}
    failures = []
    started = time.monotonic()

    def attempt(scen, target, fn):
        try:
            results[scen][target.name].append(fn())
        except Exception as e:  # one failed measurement must not lose the others
            failures.append(f"{scen} / {target.name}: {e}")
            print(f"  FAILED {scen} / {target.name}: {e}", flush=True)

    try:
        throughput = [s for s in scenarios if not s.startswith("idle_")]
        if throughput:
            for t in list(targets):
                try:
                    t.start()
                except Exception as e:
                    failures.append(f"{t.name} did not start: {e}")
                    print(f"  FAILED {failures[-1]}", flush=True)
                    t.stop()
                    targets.remove(t)
        wrk_cases = {"http_keepalive_64B": ("http64", False), "http_keepalive_16KiB": ("http16k", False),
                     "http_conn_per_request": ("http64", True)}
        for scen in throughput:
            if scen in wrk_cases:
                front, close = wrk_cases[scen]
                for t in targets:  # warm up: pooled server connections, caches; not recorded
                    try:
                        load.wrk(t.ports[front], 1, a.connections, [], close)
                    except Exception as e:
                        print(f"  warm-up of {t.name} failed: {e}", flush=True)
            for rnd in range(a.rounds):
                for t in targets:
                    print(f"{scen} round {rnd + 1}/{a.rounds}: {t.name}", flush=True)
                    if scen in wrk_cases:
                        front, close = wrk_cases[scen]
                        attempt(scen, t, lambda: load.wrk(t.ports[front], a.seconds, a.connections,
                                                          t.pids(), close))
                    else:
                        attempt(scen, t, lambda: load.bulk(t.ports["tcp"], a.bulk_mib << 20, t.pids()))
        for t in targets:
            t.stop()
        for scen in [s for s in scenarios if s.startswith("idle_")]:
            kind, count = ("http", a.idle) if scen == "idle_http" else ("tcp", a.l4_idle)
            front = "http64" if kind == "http" else "tcp"
            for rnd in range(a.rounds):
                for t in targets:
                    if not t.proxy:
                        continue
                    print(f"{scen} round {rnd + 1}/{a.rounds}: {t.name} ({count} connections)", flush=True)
                    def fresh():  # a new process each time: earlier load leaves freed memory behind
                        try:
                            t.start()
                            return load.idle_memory(t.ports[front], count, t.pids(), kind)
                        finally:
                            t.stop()
                    attempt(scen, t, fresh)
    finally:
        for t in targets:
            t.stop()
        backends.close()
        shutil.rmtree(work, ignore_errors=True)

    parser = parser_speed(a.build, 0.01 if a.smoke else 0.3, 2 if a.smoke else 5) if "fulcrum" in names else {}
    summary = report.summarize(results)
    typical = parser.get("browser_get_400B")
    rows = report.targets(summary, typical)
    versions = {"fulcrum": "", "haproxy": "", "nginx": ""}
    for t in targets:
        if t.proxy:
            versions[t.name] = t.version()
    versions["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["bench/run"] + sys.argv[1:]),
        "machine": machine(),
        "versions": {k: v for k, v in versions.items() if v},
        "method": (f"each proxy with one worker pinned to CPU {procs.PROXY_CORE}; wrk (1 thread, "
                   f"{a.connections} connections, {a.seconds} s), the backends (3 fulcrum-testbackend "
                   f"per kind, round robin) and the bulk/idle clients on CPU {procs.LOAD_CORE}; "
                   f"{a.rounds} rounds interleaved, median (min–max); CPU = utime+stime of the proxy's "
                   f"processes from /proc over the measurement; memory = Private_Dirty from "
                   f"/proc/PID/smaps_rollup summed over the proxy's processes, fresh process, "
                   f"{a.idle} HTTP / {a.l4_idle} L4 connections, bulk {a.bulk_mib} MiB per download; "
                   f"direct = clients to the first backend, everything on CPU {procs.LOAD_CORE}"),
        "parser": parser,
        "duration_s": round(time.monotonic() - started),
    }
    os.makedirs(a.out, exist_ok=True)
    md = report.markdown(meta, summary, rows, names)
    md_path = os.path.join(a.out, "benchmarks.md")
    if os.path.exists(md_path):  # keep the sections bench/l4_small and bench/tls write
        old = open(md_path).read()
        for name in ("l4_small", "tls"):
            begin, end = old.find(f"<!-- {name}: begin"), old.find(f"<!-- {name}: end -->")
            if 0 <= begin < end:
                md = md.rstrip("\n") + "\n\n" + old[begin:end + len(f"<!-- {name}: end -->")] + "\n"
    with open(md_path, "w") as f:
        f.write(md)
    with open(os.path.join(a.out, "benchmarks.json"), "w") as f:
        json.dump({"meta": meta, "rounds": results, "summary": summary,
                   "targets": [dict(zip(("target", "fulcrum", "reference", "ratio", "limit", "held"), r))
                               for r in rows], "failures": failures}, f, indent=1)
    print(md)
    print(f"written: {a.out}/benchmarks.md, {a.out}/benchmarks.json ({meta['duration_s']} s)")
    missing = [f"{s} / {t}" for s in scenarios for t in names
               if not results[s][t] and not (s.startswith("idle_") and t == "direct")]
    if failures or missing:
        print("FAILED:\n  " + "\n  ".join(failures + [f"no result: {m}" for m in missing]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
