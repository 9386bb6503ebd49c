#!/usr/bin/python3
"""A keepalived pair of balancers in network namespaces this script creates, and faults of the
master under load (issue #14). Prints one line per trial and a summary per scenario; exits 0
when every check held, 1 otherwise, 77 when namespaces cannot be made. Everything it starts is
ended by PID and every namespace deleted, on every exit path (netns.py).

Topology: namespaces c (client 10.77.0.1), a (10.77.0.11) and b (10.77.0.12), each with a
veth to a bridge in namespace s; the service address 10.77.0.100 is held by keepalived on a or
b. Each balancer runs the balancer (BALANCER=fulcrum: a `respond` route on the service address
with freebind: true; BALANCER=haproxy: HAProxy with `http-request return` and a monitor-uri,
the service address bindable through net.ipv4.ip_nonlocal_bind), `fulcrum watch` (pidfd +
the readiness URL, writing keepalived's track_file: the same watcher for both balancers, so the
comparison is of the balancers) and keepalived (VRRPv3, unicast, examples/ha/keepalived.conf's
settings: ADVERT s adverts, 0.05 by default, priorities 250 and 249, nopreempt, the track file
with weight 0).

The load, from c, open loop: RATE new connections per second (one request each) and RATE
requests per second over KA_CONNS (20) keep-alive connections. A keep-alive connection the
server closed between requests is replaced, not counted; a reset, an early end or a 1 s
timeout of a request is a failure. Gap = the longest time between two answered requests (by
the time they were sent).

Scenarios (each TRIALS times, alternating masters; the fault 1 s into a 3 s load):
  kill    SIGKILL of the master's balancer; it is started again after the trial and must stay
          backup (nopreempt)
  stop    SIGSTOP of it (hung: the watcher's probes fail); SIGCONT after
  worker  the master's worker thread stopped alone with ptrace (fulcrum only: /readyz fails
          after worker_stall, 300 ms here)
  link    the master's veth set down (ip link set down): only VRRP adverts can tell; set up
          again after the trial, the node must come back as backup
  repair  the master's balancer killed before the load; 1 s into it, started again: it must
          stay backup (no failback) and not one request may fail while it returns
  busy    no fault, every core busy with CPU burners for BUSY_SECONDS: the master must not
          change (no flap)

usage: pair.py BALANCER_BIN WORKDIR [TRIALS=3] [RATE=200] [SCENARIOS=kill] [BUSY_SECONDS=10]
       environment: BALANCER=fulcrum|haproxy (BALANCER_BIN is the fulcrum binary either way:
       its watcher runs), ADVERT=0.05, KA_CONNS=20, PRIORITIES=250,249, CHECK=watch|script (script: no watcher;
       keepalived runs curl on the readiness URL every second, fall 2, as usually configured)
"""
import asyncio
import ctypes
import os
import re
import signal
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
from netns import adopt, cleanup, in_ns, print_tails, procs, run, sh, start, stop, wait_until  # noqa: E402

CLIENT = len(sys.argv) > 1 and sys.argv[1] == "--client"  # the load, run inside namespace c
FULCRUM, WORK = ("", "") if CLIENT else (sys.argv[1], sys.argv[2])
TRIALS = int(sys.argv[3]) if not CLIENT and len(sys.argv) > 3 else 3
RATE = float(sys.argv[4]) if not CLIENT and len(sys.argv) > 4 else 200.0
SCENARIOS = (sys.argv[5] if not CLIENT and len(sys.argv) > 5 else "kill").split(",")
BUSY_SECONDS = float(sys.argv[6]) if not CLIENT and len(sys.argv) > 6 else 10.0
BALANCER = os.environ.get("BALANCER", "fulcrum")
ADVERT = os.environ.get("ADVERT", "0.05")
CHECK = os.environ.get("CHECK", "watch")
KA_CONNS = int(os.environ.get("KA_CONNS", "20"))
KEEPALIVED = "/usr/sbin/keepalived"
HAPROXY = "/usr/sbin/haproxy"
TAG = str(os.getpid() % 100000)
NS = {n: f"fx{n}{TAG}" for n in ("s", "c", "a", "b")}
ADDR = {"c": "10.77.0.1", "a": "10.77.0.11", "b": "10.77.0.12"}
VIP = "10.77.0.100"
PRIORITY = dict(zip("ab", map(int, os.environ.get("PRIORITIES", "250,249").split(","))))


def dev(n):
    return f"f{n}{TAG}"


def holds_vip(n):
    out = sh("ip", "-n", NS[n], "-o", "addr", "show", "dev", dev(n), check=False).stdout
    return f"{VIP}/" in out


def track(n):
    try:
        with open(f"{WORK}/{n}.track") as f:
            return f.read()
    except OSError:
        return ""


def ready(n):
    """The balancer on n can serve, as keepalived is told."""
    if CHECK == "watch":
        return track(n) == "0\n"
    return sh("ip", "netns", "exec", NS[n], *CURL_CHECK.split(), check=False).returncode == 0


CURL_CHECK = "/usr/bin/curl -fsm1 -o /dev/null http://127.0.0.1:9900/readyz"


def network():
    for n in NS.values():
        sh("ip", "netns", "add", n)
    sh("ip", "-n", NS["s"], "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", NS["s"], "link", "set", "br0", "up")
    for n in ("c", "a", "b"):
        sh("ip", "link", "add", dev(n), "netns", NS[n], "type", "veth", "peer", "name", dev(n) + "s",
           "netns", NS["s"])
        sh("ip", "-n", NS["s"], "link", "set", dev(n) + "s", "master", "br0", "up")
        sh("ip", "-n", NS[n], "addr", "add", ADDR[n] + "/24", "dev", dev(n))
        sh("ip", "-n", NS[n], "link", "set", dev(n), "up")
        sh("ip", "-n", NS[n], "link", "set", "lo", "up")
        if BALANCER == "haproxy" and n != "c":
            sh("ip", "netns", "exec", NS[n], "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1")


def balancer_config(n):
    if BALANCER == "haproxy":
        cfg = f"{WORK}/{n}.haproxy.cfg"
        with open(cfg, "w") as f:
            f.write(f"""global
    nbthread 1
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
""")
        return [HAPROXY, "-db", "-f", cfg]
    cfg = f"{WORK}/{n}.yaml"
    with open(cfg, "w") as f:
        f.write(f"""workers: 1
timeouts:
  worker_stall: 300ms
listeners:
  - name: vip
    bind: {VIP}:80
    protocol: http
    freebind: true
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


def start_balancer(n):
    """The balancer and its watcher; the balancer's Popen."""
    fp = start(f"{BALANCER}-{n}", NS[n], balancer_config(n), f"{WORK}/{n}.balancer.log", append=True)
    if CHECK == "script":
        return fp
    start(f"watch-{n}", NS[n], [FULCRUM, "watch", "--pid", str(fp.pid), "--ready", "http://127.0.0.1:9900/readyz",
                                "--track-file", f"{WORK}/{n}.track", "--interval", "50", "--timeout", "100"],
          f"{WORK}/{n}.watch.log", append=True)
    return fp


def start_keepalived(n):
    peer = "b" if n == "a" else "a"
    cfg = f"{WORK}/{n}.keepalived.conf"
    # CHECK=script: keepalived as usually configured, a curl of the readiness URL every second
    # (fall 2), in place of the watcher's track file.
    check = (f"""vrrp_script fulcrum_ready {{
    script "{CURL_CHECK}"
    interval 1
    timeout 1
    fall 2
    rise 2
}}""" if CHECK == "script" else f"""vrrp_track_file fulcrum_ready {{
    file {WORK}/{n}.track
}}""")
    tracked = "track_script" if CHECK == "script" else "track_file"
    with open(cfg, "w") as f:
        f.write(f"""global_defs {{
    vrrp_version 3
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 3
    vrrp_rt_priority 50
    script_user root
    enable_script_security
}}
{check}
vrrp_instance fulcrum_vip {{
    state BACKUP
    nopreempt
    interface {dev(n)}
    virtual_router_id 51
    priority {PRIORITY[n]}
    advert_int {ADVERT}
    unicast_src_ip {ADDR[n]}
    unicast_peer {{
        {ADDR[peer]}
    }}
    virtual_ipaddress {{
        {VIP}/24 dev {dev(n)}
    }}
    {tracked} {{
        fulcrum_ready weight 0
    }}
}}
""")
    start(f"keepalived-{n}", NS[n], [KEEPALIVED, "--dont-fork", "--log-console", "--vrrp", "-f", cfg,
                                     "-p", f"{WORK}/{n}.kd.pid", "-r", f"{WORK}/{n}.vrrp.pid"],
          f"{WORK}/{n}.keepalived.log")


# --- the client (runs inside namespace c) -------------------------------------------------

async def request(reader, writer, keepalive):
    writer.write(b"GET / HTTP/1.1\r\nHost: vip\r\n" + (b"" if keepalive else b"Connection: close\r\n") + b"\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise OSError("status " + head[:12].decode(errors="replace"))
    m = re.search(rb"content-length: *(\d+)", head, re.I)
    body = await asyncio.wait_for(reader.readexactly(int(m.group(1))), 1) if m else b""
    return body.decode().strip(), b"connection: close" in head.lower()


async def new_conn(t, results):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(VIP, 80), 1)
        try:
            who, _ = await request(reader, writer, False)
            results.append((t, True, who, "new"))
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
        results.append((t, False, type(e).__name__, "new"))


async def ka_conn(period, offset, t0, seconds, results, state):
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
        sent = loop.time() - t0
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection(VIP, 80), 1)
            who, close = await request(conn[0], conn[1], True)
            results.append((sent, True, who, "ka"))
            state["last"] = who
            if close:
                conn[1].close()
                conn = None
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            results.append((sent, False, type(e).__name__, "ka"))
            if conn:
                conn[1].close()
            conn = None
            state["last"] = None
    if conn:
        conn[1].close()


async def load(seconds, fault_at, fault):
    loop = asyncio.get_running_loop()
    results, tasks, states = [], [], [{"last": None} for _ in range(KA_CONNS)]
    t0 = loop.time()
    for i in range(KA_CONNS):
        period = KA_CONNS / RATE
        tasks.append(asyncio.ensure_future(ka_conn(period, period * i / KA_CONNS, t0, seconds, results, states[i])))
    held = None
    for i in range(int(RATE * seconds)):
        t = t0 + i / RATE
        if held is None and t - t0 >= fault_at:
            held = [s["last"] for s in states]  # who served each keep-alive connection last
            fault()
        delay = t - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(new_conn(loop.time() - t0, results)))
    await asyncio.wait_for(asyncio.gather(*tasks), 15)
    return sorted(results), held


def client_main():
    """Runs inside namespace c: prints the trial's figures as one line."""
    victim_pid, sig, seconds, master = int(sys.argv[2]), sys.argv[4], float(sys.argv[5]), sys.argv[6]

    def fault():
        if sig != "NONE":
            os.kill(victim_pid, getattr(signal, "SIG" + sig))

    results, held = asyncio.run(load(seconds, 1.0, fault))
    ok_times = [t for t, ok, _, _ in results if ok and t > 0.2]
    gap = max((b - a for a, b in zip(ok_times, ok_times[1:])), default=-1) * 1000
    new_failed = sum(1 for _, ok, _, kind in results if not ok and kind == "new")
    ka_failed = sum(1 for _, ok, _, kind in results if not ok and kind == "ka")
    errors = sorted({who for _, ok, who, _ in results if not ok})
    served_after = sorted({who for t, ok, who, _ in results if ok and t > 1.5})
    print(f"sent {len(results)} failed {new_failed + ka_failed} new_failed {new_failed} ka_failed {ka_failed} "
          f"ka_held_by_master {sum(1 for w in held or [] if w == master)} gap_ms {gap:.1f} "
          f"served_after {','.join(served_after) or '-'} errors {','.join(errors) or '-'}")


# --- the scenarios ------------------------------------------------------------------------

def masters():
    """How many times each keepalived entered MASTER state so far."""
    n = 0
    for x in ("a", "b"):
        try:
            with open(f"{WORK}/{x}.keepalived.log") as f:
                n += f.read().count("Entering MASTER STATE")
        except OSError:
            pass
    return n


class StuckWorker:
    """Stops one thread of a process with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT), the others
    running on; resume() lets it go."""
    PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207

    def __init__(self, pid, name):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.tid = None
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/comm") as f:
                if f.read().strip() == name:
                    self.tid = int(t)
        if self.tid is None:
            raise RuntimeError(f"no thread {name} in process {pid}")

    def stop(self):
        for req in (self.PTRACE_SEIZE, self.PTRACE_INTERRUPT):
            if self.libc.ptrace(req, self.tid, None, None) != 0:
                raise RuntimeError(f"ptrace: {os.strerror(ctypes.get_errno())}")
        os.waitpid(self.tid, 0x40000000)  # __WALL: the thread has stopped

    def resume(self):
        self.libc.ptrace(self.PTRACE_DETACH, self.tid, None, None)


def field(fields, name, kind=int):
    return kind(fields[fields.index(name) + 1])


def run_scenario(scenario, balancer, failures):
    trials = []  # (gap_ms, failed, new_failed, ka_failed, ka_held)
    for trial in range(TRIALS if scenario != "busy" else 1):
        master = "a" if holds_vip("a") else "b"
        other = "b" if master == "a" else "a"
        wait_until(lambda: ready(other), 15, f"{other} to be ready")
        time.sleep(0.3)  # the backup's keepalived has seen its track file
        if scenario == "repair":
            # The fault before the load: the load sees only the return.
            balancer[master].send_signal(signal.SIGKILL)
            balancer[master].wait(5)
            wait_until(lambda: holds_vip(other), 5, f"{other} to take the address")
            time.sleep(0.5)
        sig = {"kill": "KILL", "stop": "STOP"}.get(scenario, "NONE")
        seconds = BUSY_SECONDS if scenario == "busy" else 3.0
        burners = []
        stuck = StuckWorker(balancer[master].pid, "fulcrum-w0") if scenario == "worker" else None
        before = masters()
        if scenario == "busy":
            burners = [adopt("burner", subprocess.Popen([sys.executable, "-c", "while True: pass"]))
                       for _ in range(os.cpu_count() or 2)]
        serving = other if scenario == "repair" else master
        try:
            client = subprocess.Popen(in_ns(NS["c"], sys.executable, __file__, "--client", str(balancer[master].pid),
                                            str(RATE), sig, str(seconds), serving),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if scenario in ("worker", "link", "repair"):
                # One second into the load, as the client does its faults (ptrace from this
                # thread: the tracer must be the thread that detaches).
                time.sleep(1.0)
                if stuck:
                    stuck.stop()
                elif scenario == "link":
                    sh("ip", "-n", NS[master], "link", "set", dev(master), "down")
                else:
                    balancer[master] = start_balancer(master)
            stdout, stderr = client.communicate(timeout=seconds + 30)
            out = subprocess.CompletedProcess(client.args, client.returncode, stdout, stderr)
        finally:
            for p in burners:
                stop(p, signal.SIGKILL)
            if stuck:
                stuck.resume()
        line = out.stdout.strip()
        fields = line.split()
        label = {"kill": "kill -9 of", "stop": "SIGSTOP of", "worker": "a stuck worker thread in",
                 "link": "the link down under", "repair": "the return of",
                 "busy": f"{seconds:.0f} s with every core busy, no fault on"}
        print(f"{scenario} {trial + 1}: {label[scenario]} {master}'s {BALANCER}: {line}", flush=True)
        if out.returncode != 0 or "failed" not in fields:
            failures.append(f"{scenario} {trial + 1}: the client failed: {line} {out.stderr.strip()[-800:]}")
            continue
        failed = field(fields, "failed")
        if scenario == "busy":
            if not holds_vip(master) or masters() != before:
                failures.append(f"{scenario}: the address moved with no fault (a flap): {line}; master "
                                f"transitions {masters() - before}")
            continue
        trials.append((field(fields, "gap_ms", float), failed, field(fields, "new_failed"),
                       field(fields, "ka_failed"), field(fields, "ka_held_by_master")))
        if scenario == "repair":
            if failed != 0:
                failures.append(f"repair {trial + 1}: {failed} requests failed while {master} returned: {line}")
            if masters() != before or not holds_vip(other):
                failures.append(f"repair {trial + 1}: the address moved when {master} returned (failback): {line}")
            wait_until(lambda: ready(master), 15, f"{master}'s balancer back")
            continue
        if "served_after " + other not in line:
            failures.append(f"{scenario} {trial + 1}: did not fail over to {other}: {line}")
        if scenario == "kill":
            # The killed balancer comes back (a new process and watcher) as the backup.
            balancer[master].wait(5)
            balancer[master] = start_balancer(master)
        elif scenario == "stop":
            os.kill(balancer[master].pid, signal.SIGCONT)
        elif scenario == "link":
            sh("ip", "-n", NS[master], "link", "set", dev(master), "up")
        wait_until(lambda: ready(master), 15, f"{master}'s balancer back")
        time.sleep(0.5)
        if holds_vip(master):
            failures.append(f"{scenario} {trial + 1}: {master} took the address back (nopreempt)")
    if trials:
        gaps = sorted(t[0] for t in trials)
        print(f"summary {scenario}: {len(trials)} trials, {BALANCER}, {RATE:.0f} new connections/s + {RATE:.0f} "
              f"requests/s over {KA_CONNS} keep-alive connections, adverts {ADVERT} s, priorities {PRIORITY['a']}/{PRIORITY['b']}, check {CHECK}; gap median "
              f"{statistics.median(gaps):.1f} ms, worst {gaps[-1]:.1f} ms, spread {gaps[0]:.1f}-{gaps[-1]:.1f} ms; "
              f"failed requests per trial {[t[1] for t in trials]} (new connections {[t[2] for t in trials]}, "
              f"keep-alive {[t[3] for t in trials]}; keep-alive connections the master held "
              f"{[t[4] for t in trials]})", flush=True)


def main():
    os.makedirs(WORK, exist_ok=True)
    if BALANCER not in ("fulcrum", "haproxy"):
        print(f"FAIL: BALANCER={BALANCER}: fulcrum or haproxy")
        return 1
    if BALANCER == "haproxy" and not os.path.exists(HAPROXY):
        print(f"SKIP: {HAPROXY} is missing (scripts/deps.sh haproxy, as bench/run installs it)")
        return 77
    if BALANCER == "haproxy" and "worker" in SCENARIOS:
        print("FAIL: the worker scenario stops a fulcrum worker thread: not with BALANCER=haproxy")
        return 1
    try:
        network()
    except subprocess.CalledProcessError as e:
        print(f"SKIP: cannot make network namespaces here: {e.stderr.strip()}")
        cleanup(NS.values())
        return 77
    try:
        balancer = {n: start_balancer(n) for n in ("a", "b")}
        for n in ("a", "b"):
            wait_until(lambda n=n: ready(n), 15, f"{n}'s {BALANCER} to be ready")
            start_keepalived(n)
        wait_until(lambda: holds_vip("a") or holds_vip("b"), 15, "a master")
        failures = []
        for scenario in SCENARIOS:
            run_scenario(scenario, balancer, failures)
        for f in failures:
            print("FAIL: " + f)
        return 1 if failures else 0
    except Exception as e:  # noqa: BLE001 - report and clean up whatever went wrong
        print(f"FAIL: {type(e).__name__}: {e}")
        print_tails(WORK, ("a", "b"), ("keepalived", "watch", "balancer"))
        return 1
    finally:
        cleanup(NS.values())


if __name__ == "__main__":
    if CLIENT:
        RATE = float(sys.argv[3])
        client_main()
        sys.exit(0)
    run(main)
