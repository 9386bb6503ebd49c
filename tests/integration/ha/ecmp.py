#!/usr/bin/python3
"""Active-active Fulcrum balancers behind a router over BGP/ECMP with BIRD 2, in network
namespaces this script creates (issue #14). Prints one line per trial and a summary; exits 0
when every check held, 1 otherwise, 77 when namespaces cannot be made (or bird is missing).
Everything it starts is ended by PID and every namespace deleted, on every exit path.

Topology: a router namespace r with a bridge (10.78.1.1/24) to balancers l1..lN
(10.78.1.11..) and a veth to the client namespace c (10.78.2.2, the router 10.78.2.1). Each
balancer holds the service address 10.78.0.100/32 on lo and runs fulcrum (a `respond` route
naming the balancer, `timeouts.withdraw`; or HAProxy, BALANCER=haproxy), BIRD (examples/ha/bird.conf with this topology's
addresses: eBGP to the router with BFD, the service route in the static protocol fulcrum_vip,
`disabled` at start, exported only from there) and `fulcrum watch --bird-socket ...
--bird-protocol fulcrum_vip`. The router runs BIRD (examples/ha/router-bird.conf: one BGP
session per balancer, BFD, the kernel protocol merging the paths into one multipath route) with
net.ipv4.fib_multipath_hash_policy=1 (L4 hash). ROUTER=plain: BIRD installs the multipath
route itself (hash-threshold: any change of the path set moves flows between every path).
ROUTER=resilient: BIRD writes its route to table 100 and a small relay here mirrors the
paths into a resilient nexthop group (`ip nexthop ... type resilient`, Linux >= 5.13) that
the forwarding route uses: removing a path moves only that path's buckets, and a new path
takes only buckets idle for `idle_timer`, so a returning balancer moves no live flow.

The load, from c: NEW new connections per second (one request each) and KA keep-alive
connections sending KA_RATE requests per second in total; a keep-alive connection the server
closed (Connection: close, or a FIN while idle) is replaced, not counted as a failure; a
reset, an early end or a 1 s timeout of a request is a failure.

Scenarios (each TRIALS times, on balancers in turn; the fault at 1 s of a 3 s load):
  kill    SIGKILL of one fulcrum: `fulcrum watch` sees it through its pidfd and disables
          fulcrum_vip; the figure is the time from the kill to the router's route without
          that path. The fulcrum and its watcher are started again afterwards.
  drain   SIGTERM of one fulcrum (timeouts.withdraw): /readyz fails, the watcher withdraws
          the route while fulcrum still accepts and closes keep-alive connections at request
          boundaries; then it drains and exits. New connections: 0 failed.
  return  a drained balancer starts again and is announced while the load runs.
  bird    SIGKILL of one balancer's BIRD (its BGP session closes with the process); BIRD is
          started again and the watcher, reconnecting, announces the route again.
  link    the balancer's link cut (its veth down): only BFD can tell (30 ms x 3).

usage: ecmp.py FULCRUM_BIN WORKDIR [TRIALS=1] [SCENARIOS=kill,drain,return,bird,link]
       [ROUTER=resilient] [BALANCERS=3]
       environment: BALANCER=fulcrum|haproxy (FULCRUM_BIN's watcher runs for either; HAProxy's
       graceful stop is SIGUSR1 with `grace` WITHDRAW_MS and `monitor fail if { stopping }`,
       its equivalent of timeouts.withdraw), WITHDRAW_MS=400
"""
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
from netns import adopt, cleanup, in_ns, print_tails, run, sh, start, stop, wait_until  # noqa: E402

CLIENT = len(sys.argv) > 1 and sys.argv[1] == "--client"
FULCRUM, WORK = ("", "") if CLIENT else (sys.argv[1], sys.argv[2])
TRIALS = int(sys.argv[3]) if not CLIENT and len(sys.argv) > 3 else 1
SCENARIOS = (sys.argv[4] if not CLIENT and len(sys.argv) > 4 else "kill,drain,return,bird,link").split(",")
ROUTER = sys.argv[5] if not CLIENT and len(sys.argv) > 5 else "resilient"
BALANCERS = int(sys.argv[6]) if not CLIENT and len(sys.argv) > 6 else 3
BIRD = "/usr/sbin/bird"
TAG = str(os.getpid() % 100000)
LBS = [f"l{i + 1}" for i in range(BALANCERS)]
NS = {n: f"fe{n}{TAG}" for n in ["r", "c"] + LBS}
ADDR = {n: f"10.78.1.{11 + i}" for i, n in enumerate(LBS)}
ROUTER_LAN, ROUTER_C, CLIENT_ADDR = "10.78.1.1", "10.78.2.1", "10.78.2.2"
VIP = "10.78.0.100"
NEW_RATE, KA_CONNS, KA_RATE = 100.0, 20, 100.0
WITHDRAW_MS = int(os.environ.get("WITHDRAW_MS", "400"))  # 0: what a drain did before timeouts.withdraw
BALANCER = os.environ.get("BALANCER", "fulcrum")
HAPROXY = "/usr/sbin/haproxy"


def dev(n):
    return f"e{n}{TAG}"


def network():
    for n in NS.values():
        sh("ip", "netns", "add", n)
    r = NS["r"]
    sh("ip", "-n", r, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", r, "addr", "add", ROUTER_LAN + "/24", "dev", "br0")
    sh("ip", "-n", r, "link", "set", "br0", "up")
    sh("ip", "-n", r, "link", "set", "lo", "up")
    for k in ("net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1"):
        sh("ip", "netns", "exec", r, "sysctl", "-qw", k)
    for n in LBS:
        sh("ip", "link", "add", dev(n), "netns", NS[n], "type", "veth", "peer", "name", dev(n) + "r", "netns", r)
        sh("ip", "-n", r, "link", "set", dev(n) + "r", "master", "br0", "up")
        sh("ip", "-n", NS[n], "addr", "add", ADDR[n] + "/24", "dev", dev(n))
        sh("ip", "-n", NS[n], "link", "set", dev(n), "up")
        sh("ip", "-n", NS[n], "link", "set", "lo", "up")
        sh("ip", "-n", NS[n], "addr", "add", VIP + "/32", "dev", "lo")
        sh("ip", "-n", NS[n], "route", "add", "default", "via", ROUTER_LAN)
    sh("ip", "link", "add", dev("c"), "netns", NS["c"], "type", "veth", "peer", "name", dev("c") + "r", "netns", r)
    sh("ip", "-n", r, "addr", "add", ROUTER_C + "/24", "dev", dev("c") + "r")
    sh("ip", "-n", r, "link", "set", dev("c") + "r", "up")
    sh("ip", "-n", NS["c"], "addr", "add", CLIENT_ADDR + "/24", "dev", dev("c"))
    sh("ip", "-n", NS["c"], "link", "set", dev("c"), "up")
    sh("ip", "-n", NS["c"], "link", "set", "lo", "up")
    sh("ip", "-n", NS["c"], "route", "add", "default", "via", ROUTER_C)


EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../examples/ha")


def example(name, subs):
    """examples/ha/NAME with this topology's addresses: the test runs the shipped configs."""
    with open(os.path.join(EXAMPLES, name)) as f:
        text = f.read().replace("log syslog all;", "log stderr all;")
    for a, b in subs:
        if a not in text:
            raise RuntimeError(f"examples/ha/{name} has no \"{a}\" any more: update ecmp.py")
        text = text.replace(a, b)
    return text


def start_router_bird():
    cfg = f"{WORK}/r.bird.conf"
    peers = "\n".join(f"protocol bgp {n} from balancer {{ neighbor {ADDR[n]} as 65001; }}" for n in LBS)
    subs = [("protocol bgp balancer1 from balancer { neighbor 192.0.2.11 as 65001; }\n"
             "protocol bgp balancer2 from balancer { neighbor 192.0.2.12 as 65001; }\n"
             "protocol bgp balancer3 from balancer { neighbor 192.0.2.13 as 65001; }", peers),
            ("192.0.2.1", ROUTER_LAN), ("198.51.100.10", VIP)]
    if ROUTER == "resilient":
        subs.append(("protocol kernel {", "protocol kernel {\n  kernel table 100;"))
    with open(cfg, "w") as f:
        f.write(example("router-bird.conf", subs))
    return start("bird-r", NS["r"], [BIRD, "-f", "-c", cfg, "-s", f"{WORK}/r.ctl", "-P", f"{WORK}/r.bird.pid"],
                 f"{WORK}/r.bird.log", append=True)


def start_bird(n):
    cfg = f"{WORK}/{n}.bird.conf"
    with open(cfg, "w") as f:
        f.write(example("bird.conf", [("192.0.2.11", ADDR[n]), ("192.0.2.1", ROUTER_LAN),
                                      ("198.51.100.10", VIP)]))
    return start(f"bird-{n}", NS[n], [BIRD, "-f", "-c", cfg, "-s", f"{WORK}/{n}.ctl", "-P", f"{WORK}/{n}.bird.pid"],
                 f"{WORK}/{n}.bird.log", append=True)


def balancer_config(n):
    if BALANCER == "haproxy":
        # HAProxy's own withdrawal: `grace` keeps it accepting after SIGUSR1 (soft stop) while
        # `stopping` is true, and the monitor-uri fails then, so the watcher withdraws the route.
        cfg = f"{WORK}/{n}.haproxy.cfg"
        with open(cfg, "w") as f:
            f.write(f"""global
    nbthread 1
    grace {WITHDRAW_MS}ms
    hard-stop-after 5s
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend vip
    bind {VIP}:80
    http-request return status 200 content-type text/plain string {n}
frontend monitor
    bind 127.0.0.1:9900
    monitor-uri /readyz
    monitor fail if {{ stopping }}
""")
        return [HAPROXY, "-db", "-f", cfg]
    cfg = f"{WORK}/{n}.yaml"
    with open(cfg, "w") as f:
        f.write(f"""workers: 1
timeouts:
  withdraw: {WITHDRAW_MS}ms
  drain: 5s
listeners:
  - name: vip
    bind: {VIP}:80
    protocol: http
    http:
      routes:
        - respond: {{status: 200, body: "{n}\\n"}}
pools:
  - name: unused
    servers:
      - address: 127.0.0.1:9
admin:
  bind: 127.0.0.1:9900
""")
    return [FULCRUM, "run", "-c", cfg]


# The graceful stop: fulcrum's SIGTERM (timeouts.withdraw first), HAProxy's SIGUSR1 (soft stop,
# `grace` first).
DRAIN_SIGNAL = signal.SIGUSR1 if BALANCER == "haproxy" else signal.SIGTERM


def start_fulcrum(n):
    """The balancer (fulcrum or HAProxy) and its watcher."""
    fp = start(f"{BALANCER}-{n}", NS[n], balancer_config(n), f"{WORK}/{n}.balancer.log", append=True)
    w = start(f"watch-{n}", NS[n], [FULCRUM, "watch", "--pid", str(fp.pid), "--ready",
                                    "http://127.0.0.1:9900/readyz", "--bird-socket", f"{WORK}/{n}.ctl",
                                    "--bird-protocol", "fulcrum_vip", "--interval", "50", "--timeout", "100"],
              f"{WORK}/{n}.watch.log", append=True)
    return fp, w


class RouteLog:
    """The router's routes to the service address, as `ip monitor` reports them, timestamped
    (time.monotonic) as they arrive. In resilient mode, mirrors BIRD's route (table 100) into
    a resilient nexthop group that the forwarding route uses."""

    def __init__(self):
        self.events = []  # (t, frozenset of gateways)
        self.lock = threading.Lock()
        self.mon = subprocess.Popen(["ip", "-n", NS["r"], "-o", "monitor", "route"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        adopt("ip-monitor", self.mon)
        self.batch = None
        if ROUTER == "resilient":
            self.batch = subprocess.Popen(["ip", "-n", NS["r"], "-force", "-batch", "-"], stdin=subprocess.PIPE,
                                          stdout=subprocess.DEVNULL, stderr=open(f"{WORK}/r.relay.log", "w"),
                                          text=True)
            adopt("ip-batch", self.batch)
            for i, n in enumerate(LBS):
                sh("ip", "-n", NS["r"], "nexthop", "add", "id", str(11 + i), "via", ADDR[n], "dev", "br0")
        self.group = False
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.mon.stdout:
            if not line.startswith(("Deleted " + VIP + " ", VIP + " ")) or "nhid" in line:
                continue
            t = time.monotonic()
            if ROUTER == "resilient" and "table 100" not in line:
                continue
            gws = frozenset() if line.startswith("Deleted") else frozenset(re.findall(r"via (\S+)", line))
            with self.lock:
                self.events.append((t, gws))
            if self.batch:
                self.relay(gws)

    def relay(self, gws):
        ids = "/".join(str(11 + i) for i, n in enumerate(LBS) if ADDR[n] in gws)
        if ids:
            self.batch.stdin.write(f"nexthop replace id 100 group {ids} type resilient buckets 512 idle_timer 1 "
                             "unbalanced_timer 0\n")
            if not self.group:
                self.batch.stdin.write(f"route replace {VIP}/32 nhid 100\n")
                self.group = True
        else:
            self.batch.stdin.write(f"route del {VIP}/32\nnexthop del id 100\n")
            self.group = False
        self.batch.stdin.flush()

    def current(self):
        with self.lock:
            return self.events[-1][1] if self.events else frozenset()

    def first_after(self, t0, pred):
        with self.lock:
            for t, gws in self.events:
                if t >= t0 and pred(gws):
                    return t
        return None


# --- the client (runs inside namespace c) -------------------------------------------------

async def request(reader, writer, keepalive):
    writer.write(b"GET / HTTP/1.1\r\nHost: vip\r\n" + (b"" if keepalive else b"Connection: close\r\n") + b"\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise OSError("status " + head[:12].decode(errors="replace"))
    m = re.search(rb"content-length: *(\d+)", head, re.I)
    body = await asyncio.wait_for(reader.readexactly(int(m.group(1))), 1) if m else b""
    return body.decode().strip(), b"connection: close" in head.lower()


async def new_conn(t, out):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(VIP, 80), 1)
        try:
            who, _ = await request(reader, writer, False)
            out.append(("new", t, True, who))
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
        out.append(("new", t, False, type(e).__name__))


async def ka_conn(period, offset, t0, seconds, out, counts):
    loop = asyncio.get_running_loop()
    conn = None
    k = 0
    while True:
        t = t0 + offset + k * period
        if t > t0 + seconds:
            break
        k += 1
        await asyncio.sleep(max(0, t - loop.time()))
        if conn and conn[0].at_eof():  # closed by the server between requests: replace it
            conn[1].close()
            conn = None
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection(VIP, 80), 1)
                counts["connections"] += 1
            who, close = await request(conn[0], conn[1], True)
            out.append(("ka", time.monotonic(), True, who))
            if close:
                conn[1].close()
                conn = None
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            out.append(("ka", time.monotonic(), False, type(e).__name__))
            if conn:
                conn[1].close()
            conn = None
    if conn:
        conn[1].close()


async def load(seconds):
    loop = asyncio.get_running_loop()
    out, tasks, counts = [], [], {"connections": 0}
    t0 = loop.time()
    for i in range(KA_CONNS):
        period = KA_CONNS / KA_RATE
        tasks.append(asyncio.ensure_future(ka_conn(period, period * i / KA_CONNS, t0, seconds, out, counts)))
    for i in range(int(NEW_RATE * seconds)):
        delay = t0 + i / NEW_RATE - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(new_conn(time.monotonic(), out)))
    await asyncio.wait_for(asyncio.gather(*tasks), 15)
    return out, counts


def client_main():
    out, counts = asyncio.run(load(float(sys.argv[2])))
    print(json.dumps({"results": out, "ka_connections": counts["connections"]}))


# --- the scenarios ------------------------------------------------------------------------

class Balancer:
    def __init__(self, n):
        self.n = n
        self.bird = start_bird(n)
        self.fulcrum, self.watch = start_fulcrum(n)

    def restart_fulcrum(self):
        stop(self.watch)
        self.fulcrum.wait(10)
        self.fulcrum, self.watch = start_fulcrum(self.n)


def run_trial(scenario, victim, routes, lbs, failures, figures):
    v = lbs[victim]
    gw = ADDR[victim]
    everyone = frozenset(ADDR[n] for n in LBS)
    if scenario == "return":
        # The drained balancer is down when the load starts; it comes back during it.
        if v.fulcrum.poll() is None:
            v.fulcrum.send_signal(DRAIN_SIGNAL)
            v.fulcrum.wait(10)
        wait_until(lambda: gw not in routes.current(), 10, f"{victim}'s route withdrawn")
    else:
        wait_until(lambda: routes.current() == everyone, 20, "every balancer's route on the router")
    time.sleep(0.3)
    seconds = 3.0
    client = subprocess.Popen(in_ns(NS["c"], sys.executable, __file__, "--client", str(seconds)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    t_fault = time.monotonic()
    if scenario == "kill":
        v.fulcrum.send_signal(signal.SIGKILL)
    elif scenario == "drain":
        v.fulcrum.send_signal(DRAIN_SIGNAL)
    elif scenario == "return":
        v.fulcrum, v.watch = start_fulcrum(victim)
    elif scenario == "bird":
        v.bird.send_signal(signal.SIGKILL)
    elif scenario == "link":
        sh("ip", "-n", NS[victim], "link", "set", dev(victim), "down")
    stdout, stderr = client.communicate(timeout=seconds + 30)
    if client.returncode != 0:
        failures.append(f"{scenario}: the client failed: {stderr.strip()[-500:]}")
        return
    data = json.loads(stdout)
    res = data["results"]
    new_failed = [r for r in res if r[0] == "new" and not r[2]]
    ka_failed = [r for r in res if r[0] == "ka" and not r[2]]
    sent = len(res)
    if scenario == "return":
        t_route = routes.first_after(t_fault, lambda g: gw in g)
        what = "announced"
    else:
        t_route = routes.first_after(t_fault, lambda g: gw not in g)
        what = "withdrawn"
    took = f"{(t_route - t_fault) * 1000:.1f} ms" if t_route else "never"
    served_after = sorted({r[3] for r in res if r[2] and r[1] > t_fault + 0.6})
    line = (f"{scenario}: {victim}: route {what} on the router after {took}; requests {sent}, new connections "
            f"failed {len(new_failed)}, keep-alive requests failed {len(ka_failed)} "
            f"({','.join(sorted({r[3] for r in new_failed + ka_failed})) or '-'}); keep-alive connections opened "
            f"{data['ka_connections']}; served after: {','.join(served_after)}")
    print(line, flush=True)
    figures.setdefault(scenario, []).append((t_route - t_fault) * 1000 if t_route else None)
    figures.setdefault(scenario + "_new", []).append(len(new_failed))
    figures.setdefault(scenario + "_ka", []).append(len(ka_failed))
    if t_route is None:
        failures.append(f"{scenario}: the route was never {what}: {line}")
    # A new connection is refused only when it reaches a balancer that no longer accepts: a
    # drain must keep accepting until the route is gone (timeouts.withdraw). One caught in
    # flight when the path set changes is reset (its next packets go to another balancer):
    # that is what stateless ECMP loses, reported, not asserted.
    refused = [r for r in new_failed if r[3] == "ConnectionRefusedError"]
    if scenario in ("drain", "return") and refused:
        failures.append(f"{scenario}: new connections refused: {line}")
    if scenario == "return" and victim not in served_after:
        failures.append(f"{scenario}: {victim} took no traffic after it came back: {line}")
    if scenario != "return" and victim in served_after:
        failures.append(f"{scenario}: {victim} still took traffic: {line}")
    # Put things back for the next trial.
    if scenario == "kill":
        v.restart_fulcrum()
    elif scenario == "drain":
        v.fulcrum.wait(10)
        stop(v.watch)
        v.fulcrum, v.watch = start_fulcrum(victim)
    elif scenario == "bird":
        v.bird.wait(5)
        t_restart = time.monotonic()
        v.bird = start_bird(victim)
        wait_until(lambda: gw in routes.current(), 20, f"{victim}'s route after BIRD restarted")
        print(f"bird: {victim}: BIRD started again; the watcher re-announced the route, on the router after "
              f"{(routes.first_after(t_restart, lambda g: gw in g) - t_restart) * 1000:.0f} ms (BGP connect delay 1 s)",
              flush=True)
        with open(f"{WORK}/{victim}.watch.log") as f:
            if "connected to BIRD" not in f.read().split("BIRD closed its control socket")[-1]:
                failures.append(f"bird: {victim}'s watcher did not reconnect to the new BIRD")
    elif scenario == "link":
        sh("ip", "-n", NS[victim], "link", "set", dev(victim), "up")
        sh("ip", "-n", NS[victim], "route", "replace", "default", "via", ROUTER_LAN)  # gone with the link


def summary(scenario, figures):
    ms = [x for x in figures.get(scenario, []) if x is not None]
    if not ms:
        return
    print(f"summary {scenario}: {len(ms)} trials, {BALANCER}; route change median {statistics.median(ms):.1f} ms, "
          f"{min(ms):.1f}-{max(ms):.1f} ms; new connections "
          f"failed {figures[scenario + '_new']}; keep-alive requests failed {figures[scenario + '_ka']} "
          f"(router: {ROUTER}; {NEW_RATE:.0f} new connections/s + {KA_CONNS} keep-alive connections at "
          f"{KA_RATE:.0f} requests/s)", flush=True)


def main():
    if not os.path.exists(BIRD):
        print(f"SKIP: {BIRD} is missing (scripts/deps.sh installs bird2)")
        return 77
    if BALANCER == "haproxy" and not os.path.exists(HAPROXY):
        print(f"SKIP: {HAPROXY} is missing (scripts/deps.sh haproxy, as bench/run installs it)")
        return 77
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    try:
        network()
    except subprocess.CalledProcessError as e:
        print(f"SKIP: cannot make network namespaces here: {e.stderr.strip()}")
        cleanup(NS.values())
        return 77
    try:
        routes = RouteLog()
        start_router_bird()
        lbs = {n: Balancer(n) for n in LBS}
        everyone = frozenset(ADDR[n] for n in LBS)
        wait_until(lambda: routes.current() == everyone, 20, "every balancer's route on the router")
        failures, figures = [], {}
        k = 0
        for i, scenario in enumerate(SCENARIOS):
            for _ in range(TRIALS):
                run_trial(scenario, LBS[k % len(LBS)], routes, lbs, failures, figures)
                if scenario != "drain":
                    k += 1  # a drain is followed by the same balancer's return
            if scenario not in SCENARIOS[i + 1:]:
                summary(scenario, figures)
        for f in failures:
            print("FAIL: " + f)
        return 1 if failures else 0
    except Exception as e:  # noqa: BLE001 - report and clean up whatever went wrong
        print(f"FAIL: {type(e).__name__}: {e}")
        print_tails(WORK, ["r"] + LBS, ("bird", "watch", "balancer"), 12)
        return 1
    finally:
        cleanup(NS.values())


if __name__ == "__main__":
    if CLIENT:
        client_main()
        sys.exit(0)
    run(main)
