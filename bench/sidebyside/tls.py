#!/usr/bin/env python3
"""TLS side by side: Fulcrum, HAProxy, NGINX and Caddy terminating TLS in one run, interleaved.

Run through bench/tls, which installs what is missing and builds Fulcrum and tls_load (Release).
Every proxy: one worker (Caddy: GOMAXPROCS=1) pinned to CPU 0; ECDSA P-256 certificate; the
clients offer TLS 1.3 only and X25519 only; three fulcrum-testbackend per body size (64 B,
16 KiB, 1 MiB) on CPU 1 with the clients. Scenarios:

  full_handshakes     tls_load: connect, full handshake, one GET (64 B), close; proxy CPU per handshake
  resumed_handshakes  the same, every handshake resuming the last ticket
  https_64B           h2load --h1, keep-alive, 64 B responses: proxy CPU per request
  https_16KiB         the same, 16 KiB responses
  https_bulk_1MiB     h2load --h1, 4 connections, 1 MiB responses: proxy CPU seconds per GiB
  idle_tls            tls_load holds N connections after one GET each: Private_Dirty per connection

Written into docs/benchmarks.md between markers (bench/run and bench/l4_small keep it) and to
docs/benchmarks_tls.json. Rounds interleave the proxies (A B C D A B C D ...); medians (min–max).
"""
import argparse, datetime, json, os, re, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402
from procs import cpu_times, family, free_port, private_dirty_kib, spawn, stop, wait_listening  # noqa: E402
from report import summarize, _cell  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BEGIN, END = "<!-- tls: begin (written by bench/tls) -->", "<!-- tls: end -->"
FRONTS = ("https64", "https16k", "https1m")
SIZES = {"https64": 64, "https16k": 16384, "https1m": 1 << 20}
SCENARIOS = [
    ("full_handshakes", "Full handshakes (TLS 1.3, X25519, ECDSA P-256), one 64 B GET each",
     [("rate", "handshakes/s", "{:,.0f}"), ("cpu_us", "proxy CPU µs/handshake", "{:.0f}"),
      ("per_core", "per proxy core/s", "{:,.0f}")]),
    ("resumed_handshakes", "Resumed handshakes (TLS 1.3 tickets), one 64 B GET each",
     [("rate", "handshakes/s", "{:,.0f}"), ("cpu_us", "proxy CPU µs/handshake", "{:.0f}"),
      ("per_core", "per proxy core/s", "{:,.0f}"), ("resumed_pct", "resumed %", "{:.1f}")]),
    ("https_64B", "HTTPS keep-alive, 64 B responses (h2load --h1)",
     [("rps", "requests/s", "{:,.0f}"), ("cpu_us", "proxy CPU µs/request", "{:.1f}"),
      ("user_us", "of which user", "{:.1f}"), ("sys_us", "of which kernel", "{:.1f}")]),
    ("https_16KiB", "HTTPS keep-alive, 16 KiB responses (h2load --h1)",
     [("rps", "requests/s", "{:,.0f}"), ("cpu_us", "proxy CPU µs/request", "{:.1f}"),
      ("user_us", "of which user", "{:.1f}"), ("sys_us", "of which kernel", "{:.1f}")]),
    ("https_bulk_1MiB", "HTTPS bulk, 1 MiB responses (h2load --h1, 4 connections)",
     [("gbit_s", "Gbit/s", "{:.2f}"), ("cpu_s_per_gib", "proxy CPU s/GiB", "{:.2f}")]),
    ("idle_tls", "Memory per idle TLS connection (after one keep-alive GET)",
     [("kib_per_conn", "KiB/connection", "{:.2f}")]),
]
ALL = [s for s, _, _ in SCENARIOS]
# The issue's targets for Fulcrum (#15): (scenario, metric, limit, at_most, statement).
TARGETS = [
    ("full_handshakes", "per_core", 3000, False, "full handshakes per proxy core ≥ 3,000/s"),
    ("resumed_handshakes", "per_core", 3600, False, "resumed handshakes per proxy core ≥ 3,600/s"),
    ("https_64B", "cpu_us", 17, True, "HTTPS keep-alive 64 B ≤ 17 µs/request"),
    ("https_16KiB", "cpu_us", 32, True, "HTTPS keep-alive 16 KiB ≤ 32 µs/request"),
    ("https_bulk_1MiB", "cpu_s_per_gib", 0.9, True, "HTTPS bulk ≤ 0.9 s/GiB"),
    ("idle_tls", "kib_per_conn", 4, True, "idle TLS connection ≤ 4 KiB"),
]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-release"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"),
                    help="directory holding benchmarks.md (section replaced) and benchmarks_tls.json")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5, help="duration of each measurement")
    ap.add_argument("--connections", type=int, default=50, help="concurrent connections (handshakes, keep-alive)")
    ap.add_argument("--idle", type=int, default=5000, help="idle TLS connections held")
    ap.add_argument("--targets", default="fulcrum,haproxy,nginx,caddy")
    ap.add_argument("--scenarios", default=",".join(ALL))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one round, temp output; exit 1 on failure")
    a = ap.parse_args()
    if a.smoke:
        a.rounds, a.seconds, a.idle = 1, 1, 50
        a.out = tempfile.mkdtemp(prefix="fulcrum-bench-tls-smoke-")
    if a.rounds < 1 or a.seconds < 1 or not 1 <= a.idle <= 9000:
        ap.error("--rounds and --seconds >= 1; --idle 1..9000 (open-file limit: the proxy holds a client "
                 "and maybe a server connection for each)")
    return a


class Backends:
    def __init__(self, build, workdir):
        self.procs, self.addrs = [], {f: [] for f in FRONTS}
        exe = f"{build}/tools/testbackend/fulcrum-testbackend"
        try:
            for front in FRONTS:
                for i in range(3):
                    port = free_port()
                    p = spawn([exe, "--id", f"{front}-{i}", "--tcp", f"127.0.0.1:{port}", "--mode", "http",
                               "--http-body-size", str(SIZES[front])], os.path.join(workdir, f"backend-{front}-{i}.log"))
                    self.procs.append(p)
                    wait_listening([port], p)
                    self.addrs[front].append(port)
        except Exception:
            self.close()
            raise

    def close(self):
        for p in self.procs:
            stop(p)


def make_cert(workdir):
    """An ECDSA P-256 self-signed certificate for bench.test: cert.pem, key.pem, both.pem (HAProxy)."""
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", "/CN=bench.test", "-addext", "subjectAltName=DNS:bench.test",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    both = os.path.join(workdir, "both.pem")
    with open(both, "w") as f:
        f.write(open(cert).read() + open(key).read())
    return cert, key, both


class Target:
    name = ""

    def __init__(self, backends, workdir, cert):
        self.backends, self.cert = backends, cert
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.proc, self.ports = None, {}

    def env(self):
        return None

    def start(self):
        self.ports = {f: free_port() for f in FRONTS}
        log = open(os.path.join(self.dir, "out.log"), "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=procs._pin_proxy, start_new_session=True, env=self.env())
        wait_listening(self.ports.values(), self.proc)

    def pids(self):
        return family(self.proc.pid) if self.proc else []

    def stop(self):
        stop(self.proc)
        self.proc = None

    def version(self):
        return ""


def _first_line(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    return (r.stdout + r.stderr).strip().splitlines()[0]


class Fulcrum(Target):
    name = "fulcrum"

    def __init__(self, backends, workdir, cert, build):
        super().__init__(backends, workdir, cert)
        self.exe = f"{build}/src/exe/fulcrum"

    def argv(self):
        cert, key, _ = self.cert
        fwd = "{x_forwarded_for: true, x_forwarded_proto: false, x_forwarded_host: false, x_real_ip: false}"
        lines = ["workers: 1", "log_level: warn",
                 f"admin: {{bind: 127.0.0.1:{free_port()}, state_file: {self.dir}/state.json, "
                 f"audit_log: {self.dir}/audit.log}}",
                 "timeouts: {keepalive: 300s, idle: 300s}", "listeners:"]
        for front in FRONTS:
            lines += [f"  - {{name: {front}, bind: 127.0.0.1:{self.ports[front]}, protocol: http, pool: {front}, "
                      f"http: {{forwarded: {fwd}}}, tls: {{certificates: [{{cert: {cert}, key: {key}}}]}}}}"]
        lines.append("pools:")
        for front in FRONTS:
            servers = ", ".join(f"{{address: 127.0.0.1:{p}}}" for p in self.backends.addrs[front])
            lines += [f"  - {{name: {front}, algorithm: round_robin, servers: [{servers}]}}"]
        cfg = os.path.join(self.dir, "fulcrum.yaml")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        return [self.exe, "run", "-c", cfg]

    def version(self):
        return _first_line([self.exe, "version"])


class HAProxy(Target):
    name = "haproxy"

    def argv(self):
        _, _, both = self.cert
        text = """global
  nbthread 1
  maxconn 10100
  ulimit-n 20000
  no strict-limits
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  maxconn 10100
  option forwardfor
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
"""
        for front in FRONTS:
            text += (f"frontend f_{front}\n  bind 127.0.0.1:{self.ports[front]} ssl crt {both} alpn http/1.1\n"
                     f"  default_backend b_{front}\nbackend b_{front}\n  balance roundrobin\n"
                     + "".join(f"  server s{i} 127.0.0.1:{p}\n" for i, p in enumerate(self.backends.addrs[front])))
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(text)
        return [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", cfg]

    def version(self):
        return _first_line([shutil.which("haproxy") or "/usr/sbin/haproxy", "-v"])


class Nginx(Target):
    name = "nginx"

    def argv(self):
        cert, key, _ = self.cert
        d = self.dir
        os.makedirs(f"{d}/tmp", exist_ok=True)
        http = ""
        for front in FRONTS:
            servers = "".join(f"    server 127.0.0.1:{p};\n" for p in self.backends.addrs[front])
            http += f"""  upstream u_{front} {{
{servers}    keepalive 1024;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }}
  server {{
    listen 127.0.0.1:{self.ports[front]} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {{
      proxy_pass http://u_{front};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
    }}
  }}
"""
        text = f"""daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {d}/nginx.pid;
events {{ worker_connections 19900; }}
http {{
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
{http}}}
"""
        cfg = os.path.join(d, "nginx.conf")
        with open(cfg, "w") as f:
            f.write(text)
        return [shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-c", cfg, "-e", f"{d}/error.log"]

    def version(self):
        return _first_line([shutil.which("nginx") or "/usr/sbin/nginx", "-v"])


class Caddy(Target):
    name = "caddy"

    def env(self):
        e = dict(os.environ)
        e.update({"GOMAXPROCS": "1", "HOME": self.dir, "XDG_DATA_HOME": f"{self.dir}/data",
                  "XDG_CONFIG_HOME": f"{self.dir}/config"})
        return e

    def argv(self):
        cert, key, _ = self.cert
        text = "{\n  admin off\n  auto_https off\n  default_sni bench.test\n" \
               "  servers {\n    protocols h1\n  }\n}\n"
        for front in FRONTS:
            ups = " ".join(f"127.0.0.1:{p}" for p in self.backends.addrs[front])
            text += (f"https://:{self.ports[front]} {{\n  tls {cert} {key}\n  reverse_proxy {ups} {{\n"
                     f"    lb_policy round_robin\n    flush_interval -1\n  }}\n}}\n")
        cfg = os.path.join(self.dir, "Caddyfile")
        with open(cfg, "w") as f:
            f.write(text)
        return [shutil.which("caddy") or "/usr/bin/caddy", "run", "--config", cfg, "--adapter", "caddyfile"]

    def version(self):
        return "caddy " + _first_line([shutil.which("caddy") or "/usr/bin/caddy", "version"])


def tls_load(build, args, timeout):
    r = subprocess.run([f"{build}/bench/tls_load"] + args, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"tls_load {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
    return json.loads(r.stdout)


def handshakes(build, port, pids, seconds, conns, resume):
    u0, s0 = cpu_times(pids)
    out = tls_load(build, ["handshakes", "--port", str(port), "--conns", str(conns), "--seconds", str(seconds)]
                   + (["--resume"] if resume else []), seconds + 60)
    u1, s1 = cpu_times(pids)
    n = out["handshakes"]
    if n == 0:
        raise RuntimeError(f"no handshake completed: {out}")
    cpu_us = ((u1 - u0) + (s1 - s0)) * 1e6 / n
    r = {"rate": n / out["seconds"], "cpu_us": cpu_us, "per_core": 1e6 / cpu_us if cpu_us else None,
         "errors": out["errors"], "handshakes": n}
    if resume:
        r["resumed_pct"] = 100.0 * out["resumed"] / n
        if r["resumed_pct"] < 80:  # (the few that do not are reported: a proxy may refuse a ticket)
            raise RuntimeError(f"only {r['resumed_pct']:.1f}% of the handshakes resumed")
    return r


def h2load(port, pids, seconds, conns, size):
    """h2load over keep-alive connections; the proxy's CPU over the run (the connections'
    handshakes included: 50 of them against tens of thousands of requests) per request."""
    argv = ["h2load", "--h1", "-t1", f"-c{conns}", f"-D{seconds}", f"--connect-to=127.0.0.1:{port}",
            "https://bench.test/"]
    u0, s0 = cpu_times(pids)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    u1, s1 = cpu_times(pids)
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded", out)
    if not m or int(m.group(4)) == 0:
        raise RuntimeError(f"h2load said: {out[-400:]}")
    done, ok = int(m.group(3)), int(m.group(4))
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    user, system = u1 - u0, s1 - s0
    return {"rps": rps, "cpu_us": (user + system) * 1e6 / done, "user_us": user * 1e6 / done,
            "sys_us": system * 1e6 / done, "errors": done - ok, "requests": done, "bytes": done * size,
            "cpu_s": user + system}


def bulk(port, pids, seconds):
    r = h2load(port, pids, seconds, 4, 1 << 20)
    gib = r["bytes"] / (1 << 30)
    return {"gbit_s": r["rps"] * (1 << 20) * 8 / 1e9, "cpu_s_per_gib": r["cpu_s"] / gib, "errors": r["errors"]}


def idle(build, target, count):
    target.start()
    try:
        pids = target.pids()
        before = private_dirty_kib(pids)
        p = subprocess.Popen([f"{build}/bench/tls_load", "idle", "--port", str(target.ports["https64"]),
                              "--conns", str(count)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline()
            if not line.startswith("ready"):
                raise RuntimeError(f"tls_load idle: {line.strip() or 'no answer'}")
            time.sleep(1.0)  # whatever the proxy does after the exchange
            after = private_dirty_kib(pids)
            p.stdin.write("check\n")
            p.stdin.flush()
            checked = p.stdout.readline()
            p.wait(60)
            if p.returncode != 0:
                raise RuntimeError(f"held connections no longer answer: {checked.strip()}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return {"kib_per_conn": (after - before) / count, "errors": 0}
    finally:
        target.stop()


def write_section(path, section):
    text = open(path).read() if os.path.exists(path) else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):].lstrip("\n")
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    with open(path, "w") as f:
        f.write(text)


def markdown(meta, summary, names):
    lines = [BEGIN, "## TLS termination: Fulcrum, HAProxy, NGINX and Caddy (issue #15)", "",
             f"Latest run: {meta['date']}, `{meta['command']}`. Method: {meta['method']}", "",
             "- Versions: " + "; ".join(f"{k}: {v}" for k, v in meta["versions"].items()), ""]
    for scen, title, cols in SCENARIOS:
        if scen not in summary:
            continue
        lines += [f"### {title}", "", "| target | " + " | ".join(h for _, h, _ in cols) + " | errors |",
                  "|---|" + "---:|" * (len(cols) + 1)]
        for t in names:
            m = summary[scen].get(t)
            if m is None:
                continue
            lines.append(f"| {t} | " + " | ".join(_cell(m.get(k), fmt) for k, _, fmt in cols) + f" | {m['errors']} |")
        lines.append("")
    lines += ["### Targets (issue #15): Fulcrum's median, and its ratio to the best other proxy's", "",
              "| target | Fulcrum | best other | ratio | held |", "|---|---:|---:|---:|:---:|"]
    for scen, metric, limit, at_most, desc in TARGETS:
        f = summary.get(scen, {}).get("fulcrum", {}).get(metric, {}).get("median")
        others = [summary[scen][t][metric]["median"] for t in names
                  if t != "fulcrum" and metric in summary.get(scen, {}).get(t, {})]
        best = (min if at_most else max)(others) if others else None
        ratio = f / best if f is not None and best else None
        held = None if f is None else (f <= limit if at_most else f >= limit)
        fmt = lambda v: "—" if v is None else f"{v:,.3g}"
        lines.append(f"| {desc} | {fmt(f)} | {fmt(best)} | {fmt(ratio)} | "
                     f"{'—' if held is None else ('yes' if held else '**no**')} |")
    lines += ["", END, ""]
    return "\n".join(lines)


def main():
    a = parse_args()
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    procs.pin_self()
    scenarios = [s for s in a.scenarios.split(",") if s]
    if set(scenarios) - set(ALL):
        sys.exit(f"unknown scenario(s): {', '.join(sorted(set(scenarios) - set(ALL)))}; known: {', '.join(ALL)}")
    work = tempfile.mkdtemp(prefix="fulcrum-bench-tls-")
    cert = make_cert(work)
    backends = Backends(a.build, work)
    makers = {"fulcrum": lambda: Fulcrum(backends, work, cert, a.build), "haproxy": lambda: HAProxy(backends, work, cert),
              "nginx": lambda: Nginx(backends, work, cert), "caddy": lambda: Caddy(backends, work, cert)}
    names = [t for t in a.targets.split(",") if t]
    if not names or set(names) - set(makers):
        backends.close()
        sys.exit(f"--targets: choose from {', '.join(makers)}")
    targets = [makers[t]() for t in names]
    results = {s: {t.name: [] for t in targets} for s in scenarios}
    failures = []
    started = time.monotonic()

    def attempt(scen, t, fn):
        try:
            results[scen][t.name].append(fn())
        except Exception as e:
            failures.append(f"{scen} / {t.name}: {e}")
            print(f"  FAILED {scen} / {t.name}: {e}", flush=True)

    try:
        busy = [s for s in scenarios if s != "idle_tls"]
        live = []
        if busy:
            for t in targets:
                try:
                    t.start()
                    live.append(t)
                except Exception as e:
                    failures.append(f"{t.name} did not start: {e}")
                    t.stop()
        for scen in busy:
            for rnd in range(a.rounds):
                for t in live:
                    print(f"{scen} round {rnd + 1}/{a.rounds}: {t.name}", flush=True)
                    pids = t.pids()
                    if scen in ("full_handshakes", "resumed_handshakes"):
                        attempt(scen, t, lambda: handshakes(a.build, t.ports["https64"], pids, a.seconds,
                                                            a.connections, scen == "resumed_handshakes"))
                    elif scen == "https_bulk_1MiB":
                        attempt(scen, t, lambda: bulk(t.ports["https1m"], pids, a.seconds))
                    else:
                        front, size = ("https64", 64) if scen == "https_64B" else ("https16k", 16384)
                        attempt(scen, t, lambda: h2load(t.ports[front], pids, a.seconds, a.connections, size))
        for t in live:
            t.stop()
        if "idle_tls" in scenarios:
            for rnd in range(a.rounds):
                for t in targets:
                    print(f"idle_tls round {rnd + 1}/{a.rounds}: {t.name} ({a.idle} connections)", flush=True)
                    attempt("idle_tls", t, lambda: idle(a.build, t, a.idle))
    finally:
        for t in targets:
            t.stop()
        backends.close()
    versions = {t.name: t.version() for t in targets}
    versions["h2load"] = _first_line(["h2load", "--version"])
    versions["openssl"] = _first_line(["openssl", "version"])
    shutil.rmtree(work, ignore_errors=True)
    summary = summarize(results)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["bench/tls"] + sys.argv[1:]),
        "method": (f"each proxy with one worker pinned to CPU {procs.PROXY_CORE} (Caddy: GOMAXPROCS=1); ECDSA "
                   f"P-256 certificate; clients offer TLS 1.3 and X25519 only; handshakes: tls_load "
                   f"(bench/tools/tls_load.cc), {a.connections} connections at a time, each one handshake, one "
                   f"64 B GET, close; keep-alive: h2load --h1 -t1 -c{a.connections} -D{a.seconds} (bulk: -c4); "
                   f"clients and backends (3 fulcrum-testbackend per size) on CPU {procs.LOAD_CORE}; {a.rounds} "
                   f"rounds of {a.seconds} s interleaved, median (min–max); CPU = utime+stime of the proxy's "
                   f"processes from /proc/PID/stat over the measurement; memory = Private_Dirty "
                   f"(/proc/PID/smaps_rollup), fresh process, {a.idle} connections"),
        "versions": versions,
        "duration_s": round(time.monotonic() - started),
    }
    os.makedirs(a.out, exist_ok=True)
    md = markdown(meta, summary, names)
    write_section(os.path.join(a.out, "benchmarks.md"), md)
    with open(os.path.join(a.out, "benchmarks_tls.json"), "w") as f:
        json.dump({"meta": meta, "rounds": results, "summary": summary, "failures": failures}, f, indent=1)
    print(md)
    print(f"written: {a.out}/benchmarks.md (section), {a.out}/benchmarks_tls.json ({meta['duration_s']} s)")
    missing = [f"{s} / {t}" for s in scenarios for t in names if not results[s][t]]
    if failures or missing:
        print("FAILED:\n  " + "\n  ".join(failures + [f"no result: {m}" for m in missing]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
