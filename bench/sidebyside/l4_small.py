#!/usr/bin/env python3
"""Small messages over L4: real Redis and PostgreSQL through Fulcrum, HAProxy and directly.

Run through bench/l4_small, which installs redis-server, redis-tools, postgresql and HAProxy
(Debian packages) and builds Fulcrum (Release). One redis-server and one throwaway PostgreSQL
cluster (initdb in a temp dir, loopback port, fsync off) serve every target; each proxy is one
worker pinned to CPU 0 in TCP mode; redis-benchmark, pgbench and the servers run on CPU 1.
Scenarios, each in interleaved rounds (direct, fulcrum, haproxy, direct, ...):

  redis_p16  redis-benchmark -P 16 -t get,set -n N -c C: requests/s over both tests,
             proxy CPU µs per request
  pgbench_S  pgbench -S -T S -c C -j 1 (select only, simple protocol): transactions/s,
             proxy CPU µs per transaction

The report gives the median (min–max) of each figure and Fulcrum's median over HAProxy's.
It is written into docs/benchmarks.md between markers (bench/run keeps that section) and to
docs/benchmarks_l4_small.json. Every child has a timeout, and everything started is stopped and
removed on every exit path (errors, Ctrl-C, SIGTERM).
"""
import argparse, datetime, glob, json, os, pwd, re, shutil, signal, statistics, subprocess, sys
import tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BEGIN, END = "<!-- l4_small: begin (written by bench/l4_small) -->", "<!-- l4_small: end -->"
SCENARIOS = {
    "redis_p16": ("Redis, `redis-benchmark -P 16 -t get,set`", "requests/s", "CPU µs/request"),
    "pgbench_S": ("PostgreSQL, `pgbench -S`", "transactions/s", "CPU µs/transaction"),
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-release"), help="Fulcrum build directory")
    ap.add_argument("--baseline", metavar="BUILD",
                    help="also measure the fulcrum of this build directory, as target 'baseline' (A/B)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"),
                    help="directory holding benchmarks.md (section replaced) and benchmarks_l4_small.json")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--redis-requests", type=int, default=1_000_000, help="per redis-benchmark test (-n)")
    ap.add_argument("--redis-clients", type=int, default=50, help="redis-benchmark -c")
    ap.add_argument("--pg-seconds", type=int, default=5, help="pgbench -T")
    ap.add_argument("--pg-clients", type=int, default=8, help="pgbench -c")
    ap.add_argument("--targets", default="direct,fulcrum,haproxy")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--smoke", action="store_true", help="one short round of each, output to a temp dir")
    a = ap.parse_args()
    if a.smoke:
        a.rounds, a.redis_requests, a.pg_seconds = 1, 20_000, 1
        a.out = tempfile.mkdtemp(prefix="fulcrum-l4-small-smoke-")
    if min(a.rounds, a.redis_requests, a.redis_clients, a.pg_seconds, a.pg_clients) < 1:
        ap.error("counts and durations must be >= 1")
    bad = set(a.scenarios.split(",")) - set(SCENARIOS)
    if bad:
        ap.error(f"unknown scenario(s) {', '.join(sorted(bad))}; known: {', '.join(SCENARIOS)}")
    bad = set(a.targets.split(",")) - {"direct", "fulcrum", "haproxy"}
    if bad:
        ap.error("--targets: choose from direct, fulcrum, haproxy")
    return a


class Stopped(Exception):
    pass


def _on_signal(signum, frame):
    raise Stopped(f"stopped by signal {signum}")


def _run(argv, timeout, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{os.path.basename(argv[0])} exited with {r.returncode}: "
                           f"{(r.stderr or r.stdout).strip()[-400:]}")
    return r.stdout


def _stop_group(proc, sig, timeout):
    """Stops a child started in its own session (and whatever it forked) with sig, then SIGKILL."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # PostgreSQL's backends outlive a killed postmaster
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


class Servers:
    """redis-server and a throwaway PostgreSQL cluster on loopback, on the load core."""

    def __init__(self, work):
        self.work, self.redis, self.pg, self.ports = work, None, None, {}
        self.pg_user = "postgres" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name

    def start(self, scenarios):
        if "redis_p16" in scenarios:
            self.start_redis()
        if "pgbench_S" in scenarios:
            self.start_postgres()

    def start_redis(self):
        port = procs.free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--protected-mode", "no", "--dir", self.work, "--daemonize", "no", "--maxclients", "1000"],
            stdout=open(os.path.join(self.work, "redis.log"), "ab"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        procs.wait_listening([port], self.redis)
        self.ports["redis_p16"] = port

    def start_postgres(self):
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                          key=lambda p: int(p.split("/")[4]))
        if not versions:
            raise RuntimeError("PostgreSQL server not found under /usr/lib/postgresql (package postgresql)")
        bindir = os.path.dirname(versions[-1])
        data = os.path.join(self.work, "pgdata")
        os.makedirs(data, mode=0o700)
        demote = None
        if os.getuid() == 0:  # initdb and postgres refuse to run as root
            pw = pwd.getpwnam("postgres")
            os.chmod(self.work, 0o755)
            os.chown(data, pw.pw_uid, pw.pw_gid)

            def demote():
                os.setgid(pw.pw_gid)
                os.setgroups([])
                os.setuid(pw.pw_uid)
        _run([f"{bindir}/initdb", "-D", data, "-U", self.pg_user, "--auth=trust", "--no-sync", "-E", "UTF8"],
             120, preexec_fn=demote, cwd=self.work)
        port = procs.free_port()
        self.pg = subprocess.Popen(
            [f"{bindir}/postgres", "-D", data, "-p", str(port), "-c", "listen_addresses=127.0.0.1",
             "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=100", "-c", "shared_buffers=128MB"],
            stdout=open(os.path.join(self.work, "postgres.log"), "ab"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=demote, cwd=self.work)
        procs.wait_listening([port], self.pg, timeout=30)
        deadline = time.monotonic() + 30
        while True:  # listening is not yet accepting queries (startup, recovery)
            r = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(port), "-U", self.pg_user],
                               capture_output=True, timeout=10)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline or self.pg.poll() is not None:
                raise RuntimeError("PostgreSQL did not become ready in 30 s")
            time.sleep(0.2)
        _run(["pgbench", "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", self.pg_user,
              "postgres"], 120)
        self.ports["pgbench_S"] = port

    def close(self):
        _stop_group(self.redis, signal.SIGTERM, 10)
        _stop_group(self.pg, signal.SIGINT, 20)  # SIGINT: PostgreSQL's fast shutdown


class Target:
    proxy = True

    def __init__(self, name, servers, work):
        self.name, self.servers, self.dir, self.proc, self.ports = name, servers, os.path.join(work, name), None, {}
        os.makedirs(self.dir, exist_ok=True)

    def start(self):
        self.ports = {s: procs.free_port() for s in self.servers.ports}
        self.proc = procs.spawn(self.argv(), os.path.join(self.dir, "out.log"), proxy=True)
        procs.wait_listening(self.ports.values(), self.proc)

    def pids(self):
        return procs.family(self.proc.pid) if self.proc else []

    def stop(self):
        procs.stop(self.proc)
        self.proc = None

    def version(self):
        return ""


class Direct(Target):
    proxy = False

    def start(self):
        self.ports = dict(self.servers.ports)

    def stop(self):
        pass


class Fulcrum(Target):
    def __init__(self, name, servers, work, build):
        super().__init__(name, servers, work)
        self.exe = f"{build}/src/exe/fulcrum"
        if not os.access(self.exe, os.X_OK):
            raise RuntimeError(f"{self.exe}: not built")

    def argv(self):
        cfg = os.path.join(self.dir, "fulcrum.yaml")
        lines = ["workers: 1", "log_level: warn",
                 f"admin: {{bind: 127.0.0.1:{procs.free_port()}, state_file: {self.dir}/state.json, "
                 f"audit_log: {self.dir}/audit.log}}", "timeouts: {idle: 300s}", "listeners:"]
        for s, port in self.ports.items():
            lines.append(f"  - {{name: {s}, bind: 127.0.0.1:{port}, protocol: tcp, pool: {s}}}")
        lines.append("pools:")
        for s in self.ports:
            lines.append(f"  - {{name: {s}, servers: [{{address: 127.0.0.1:{self.servers.ports[s]}}}]}}")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        return [self.exe, "run", "-c", cfg]

    def version(self):
        r = subprocess.run([self.exe, "version"], capture_output=True, text=True, timeout=10)
        return (r.stdout + r.stderr).strip().splitlines()[0]


class HAProxy(Target):
    EXE = shutil.which("haproxy") or "/usr/sbin/haproxy"

    def argv(self):
        cfg = os.path.join(self.dir, "haproxy.cfg")
        text = ("global\n  nbthread 1\n  maxconn 2000\ndefaults\n  mode tcp\n  timeout connect 5s\n"
                "  timeout client 300s\n  timeout server 300s\n")
        for s, port in self.ports.items():
            text += (f"listen {s}\n  bind 127.0.0.1:{port}\n"
                     f"  server s0 127.0.0.1:{self.servers.ports[s]}\n")
        with open(cfg, "w") as f:
            f.write(text)
        return [self.EXE, "-db", "-f", cfg]

    def version(self):
        r = subprocess.run([self.EXE, "-v"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip().splitlines()[0]


def redis_bench(port, a, pids):
    """redis-benchmark -P 16 -t get,set: requests over wall time (both tests), proxy CPU per request."""
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-P", "16", "-t", "get,set",
            "-n", str(a.redis_requests), "-c", str(a.redis_clients), "--csv"]
    cpu0 = procs.cpu_times(pids) if pids else (0, 0)
    t0 = time.perf_counter()
    out = _run(argv, 60 + a.redis_requests // 2000)
    dt = time.perf_counter() - t0
    cpu1 = procs.cpu_times(pids) if pids else (0, 0)
    per_test = {m.group(1): float(m.group(2)) for m in re.finditer(r'^"(SET|GET)","([\d.]+)"', out, re.M)}
    if set(per_test) != {"SET", "GET"}:
        raise RuntimeError(f"unexpected redis-benchmark output: {out.strip()[:200]!r}")
    n = 2 * a.redis_requests
    # Each test's own figure excludes the pause between the two; the total is their harmonic sum.
    rate = n / sum(a.redis_requests / r for r in per_test.values())
    return _figures(rate, n, cpu0, cpu1, pids) | {"set_rps": per_test["SET"], "get_rps": per_test["GET"],
                                                  "wall_rps": n / dt}


def pgbench(port, a, pids, user):
    argv = ["pgbench", "-S", "-n", "-T", str(a.pg_seconds), "-c", str(a.pg_clients), "-j", "1",
            "-h", "127.0.0.1", "-p", str(port), "-U", user, "postgres"]
    cpu0 = procs.cpu_times(pids) if pids else (0, 0)
    out = _run(argv, a.pg_seconds + 60)
    cpu1 = procs.cpu_times(pids) if pids else (0, 0)
    n = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out)
    return _figures(tps, n, cpu0, cpu1, pids) | {"errors": int(failed.group(1)) if failed else 0}


def _figures(rate, n, cpu0, cpu1, pids):
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    return {"rate": rate, "count": n,
            "cpu_us": (user + system) * 1e6 / n if pids else None,
            "user_us": user * 1e6 / n if pids else None,
            "sys_us": system * 1e6 / n if pids else None}


def summarize(results):
    out = {}
    for scen, per_target in results.items():
        out[scen] = {}
        for t, rounds in per_target.items():
            m = {}
            for key in ("rate", "cpu_us", "user_us", "sys_us"):
                vals = [r[key] for r in rounds if r.get(key) is not None]
                if vals:
                    m[key] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
                              "n": len(vals)}
            m["errors"] = sum(r.get("errors", 0) for r in rounds)
            out[scen][t] = m
    return out


def _cell(m, key, fmt):
    if key not in m:
        return "—"
    v = m[key]
    return f"{fmt.format(v['median'])} ({fmt.format(v['min'])}–{fmt.format(v['max'])})"


def markdown(meta, summary, names):
    lines = [BEGIN, "## Small messages over L4: Redis and PostgreSQL", "",
             f"Latest run: {meta['date']}, `{meta['command']}`. Method: {meta['method']}.", "",
             f"- Versions: {'; '.join(f'{k}: {v}' for k, v in meta['versions'].items())}", ""]
    for scen, per_target in summary.items():
        title, rate_h, cpu_h = SCENARIOS[scen]
        lines += [f"### {title}", "", f"| target | {rate_h} | proxy {cpu_h} | of which user | of which kernel "
                  "| errors |", "|---|---:|---:|---:|---:|---:|"]
        for t in names:
            m = per_target.get(t, {})
            lines.append(f"| {t} | {_cell(m, 'rate', '{:,.0f}')} | {_cell(m, 'cpu_us', '{:.2f}')} | "
                         f"{_cell(m, 'user_us', '{:.2f}')} | {_cell(m, 'sys_us', '{:.2f}')} | "
                         f"{m.get('errors', 0)} |")
        lines.append("")
    ratios = ratio_rows(summary)
    if ratios:
        lines += ["### Targets (issue #12, item 8): Fulcrum's median over HAProxy's", "",
                  "| figure | limit | ratio | held |", "|---|---:|---:|---|"]
        for fig, limit, r, held in ratios:
            lines.append(f"| {fig} | {limit} | {r:.2f} | {'yes' if held else 'no'} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def ratio_rows(summary):
    rows = []
    for scen, per_target in summary.items():
        f, h = per_target.get("fulcrum", {}), per_target.get("haproxy", {})
        name = "Redis -P 16" if scen == "redis_p16" else "pgbench -S"
        if "rate" in f and "rate" in h:
            r = f["rate"]["median"] / h["rate"]["median"]
            rows.append((f"{name} throughput", "≥ 1", r, r >= 1))
        if "cpu_us" in f and "cpu_us" in h:
            r = f["cpu_us"]["median"] / h["cpu_us"]["median"]
            rows.append((f"{name} proxy CPU per request", "≤ 0.9", r, r <= 0.9))
    return rows


def write_section(path, section):
    """Replaces the marked section of path (appends it if absent), leaving the rest alone."""
    text = open(path).read() if os.path.exists(path) else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):].lstrip("\n")
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    with open(path, "w") as f:
        f.write(text)


def main():
    a = parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    procs.pin_self()
    scenarios = [s for s in a.scenarios.split(",") if s]
    names = [t for t in a.targets.split(",") if t]
    work = tempfile.mkdtemp(prefix="fulcrum-l4-small-")
    servers = Servers(work)
    targets, failures = [], []
    results = {s: {} for s in scenarios}
    started = time.monotonic()
    try:
        servers.start(scenarios)
        for t in names:
            if t == "direct":
                targets.append(Direct("direct", servers, work))
            elif t == "fulcrum":
                targets.append(Fulcrum("fulcrum", servers, work, a.build))
                if a.baseline:
                    targets.append(Fulcrum("baseline", servers, work, a.baseline))
            else:
                targets.append(HAProxy("haproxy", servers, work))
        for t in targets:
            t.start()
        results = {s: {t.name: [] for t in targets} for s in scenarios}
        for scen in scenarios:
            for t in targets:  # warm-up, not recorded: server caches, connection set-up paths
                try:
                    if scen == "redis_p16":
                        _run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(t.ports[scen]), "-P", "16",
                              "-t", "get,set", "-n", "20000", "-q"], 60)
                    else:
                        _run(["pgbench", "-S", "-n", "-T", "1", "-c", str(a.pg_clients), "-j", "1", "-h",
                              "127.0.0.1", "-p", str(t.ports[scen]), "-U", servers.pg_user, "postgres"], 60)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    print(f"  warm-up of {t.name} failed: {e}", flush=True)
            for rnd in range(a.rounds):
                for t in targets:
                    print(f"{scen} round {rnd + 1}/{a.rounds}: {t.name}", flush=True)
                    try:
                        if scen == "redis_p16":
                            r = redis_bench(t.ports[scen], a, t.pids())
                        else:
                            r = pgbench(t.ports[scen], a, t.pids(), servers.pg_user)
                        results[scen][t.name].append(r)
                        print(f"  {r['rate']:,.0f}/s" + (f", {r['cpu_us']:.2f} µs CPU" if r["cpu_us"] else ""),
                              flush=True)
                    except (RuntimeError, subprocess.TimeoutExpired, AttributeError) as e:
                        failures.append(f"{scen} / {t.name}: {e}")
                        print(f"  FAILED {failures[-1]}", flush=True)
        versions = {t.name: t.version() for t in targets if t.proxy}
        versions["redis-server"] = _run(["redis-server", "--version"], 10).strip()
        versions["pgbench"] = _run(["pgbench", "--version"], 10).strip()
    except Stopped as e:
        print(f"{e}: cleaning up", flush=True)
        return 130
    except Exception as e:
        print(f"FAILED: {e}", flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for t in targets:
            t.stop()
        servers.close()
        shutil.rmtree(work, ignore_errors=True)

    summary = summarize(results)
    order = [t.name for t in targets]
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["bench/l4_small"] + sys.argv[1:]),
        "versions": versions,
        "method": (f"one redis-server and one PostgreSQL cluster (fsync off, scale 1) on CPU {procs.LOAD_CORE} "
                   f"with the clients; each proxy one worker on CPU {procs.PROXY_CORE}, TCP mode; "
                   f"`redis-benchmark -P 16 -t get,set -n {a.redis_requests} -c {a.redis_clients}` "
                   f"(rate: both tests' requests over the sum of their durations) and "
                   f"`pgbench -S -n -T {a.pg_seconds} -c {a.pg_clients} -j 1`; {a.rounds} rounds interleaved, "
                   f"median (min–max); CPU = utime+stime of the proxy from /proc per request or transaction"),
        "duration_s": round(time.monotonic() - started),
    }
    section = markdown(meta, summary, order)
    os.makedirs(a.out, exist_ok=True)
    write_section(os.path.join(a.out, "benchmarks.md"), section)
    with open(os.path.join(a.out, "benchmarks_l4_small.json"), "w") as f:
        json.dump({"meta": meta, "rounds": results, "summary": summary, "failures": failures,
                   "targets": [dict(zip(("figure", "limit", "ratio", "held"), r)) for r in ratio_rows(summary)]},
                  f, indent=1)
    print(section)
    print(f"written: {a.out}/benchmarks.md (section), {a.out}/benchmarks_l4_small.json ({meta['duration_s']} s)")
    missing = [f"{s} / {t}" for s in scenarios for t in order if not results[s].get(t)]
    if failures or missing:
        print("FAILED:\n  " + "\n  ".join(failures + [f"no result: {m}" for m in missing]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
