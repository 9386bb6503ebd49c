#!/usr/bin/python3
"""A keepalived pair of Fulcrum balancers in network namespaces this script creates, and kill -9
of the master under load (issue #14). Prints one line per trial and a summary; exits 0 when
every trial failed over to the other balancer, 1 otherwise, 77 when namespaces cannot be made.
Everything it starts is ended by PID and every namespace deleted, on every exit path.

Topology: namespaces c (client 10.77.0.1), a (10.77.0.11) and b (10.77.0.12), each with a
veth to a bridge in namespace s; the service address 10.77.0.100 is held by keepalived on a or
b. Each balancer runs fulcrum (listening on the service address with freebind: true),
`fulcrum watch` (pidfd + /readyz, writing keepalived's track_file) and keepalived (VRRPv3,
unicast, examples/ha/keepalived.conf's settings: 50 ms adverts, priorities 250 and 249,
nopreempt, the track file with weight 0).

Scenarios (each TRIALS times, alternating masters): kill (SIGKILL of the master's fulcrum; it
is started again and must stay backup: nopreempt), stop (SIGSTOP: a hung fulcrum; the
watcher's probes fail; SIGCONT after), worker (the master's worker thread stopped alone with
ptrace, as a loop stuck in a call: /readyz fails after worker_stall, 300 ms here), busy (no fault, every core busy with CPU burners for
BUSY_SECONDS: the master must not change — no flap; failed requests are reported).

usage: pair.py FULCRUM_BIN WORKDIR [TRIALS] [RATE] [SCENARIOS=kill] [BUSY_SECONDS=10]
"""
import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time

CLIENT = len(sys.argv) > 1 and sys.argv[1] == "--client"  # the load, run inside namespace c
FULCRUM, WORK = ("", "") if CLIENT else (sys.argv[1], sys.argv[2])
TRIALS = int(sys.argv[3]) if not CLIENT and len(sys.argv) > 3 else 3
RATE = float(sys.argv[3] if CLIENT else sys.argv[4] if len(sys.argv) > 4 else 200.0)
SCENARIOS = (sys.argv[5] if not CLIENT and len(sys.argv) > 5 else "kill").split(",")
BUSY_SECONDS = float(sys.argv[6]) if not CLIENT and len(sys.argv) > 6 else 10.0
KEEPALIVED = "/usr/sbin/keepalived"
TAG = str(os.getpid() % 100000)
NS = {n: f"fx{n}{TAG}" for n in ("s", "c", "a", "b")}
ADDR = {"c": "10.77.0.1", "a": "10.77.0.11", "b": "10.77.0.12"}
VIP = "10.77.0.100"
PRIORITY = {"a": 250, "b": 249}
procs = []  # (name, Popen)


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def dev(n):
    return f"f{n}{TAG}"


def in_ns(n, *args):
    return ["ip", "netns", "exec", NS[n], *args]


def start(name, n, args, log):
    p = subprocess.Popen(in_ns(n, *args), stdout=open(log, "w"), stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    procs.append((name, p))
    return p


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def cleanup():
    for _, p in reversed(procs):
        stop(p)
    for n in NS.values():
        sh("ip", "netns", "del", n, check=False)


def wait_until(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out ({seconds} s) waiting for {what}")


def holds_vip(n):
    out = sh("ip", "-n", NS[n], "-o", "addr", "show", "dev", dev(n), check=False).stdout
    return f"{VIP}/" in out


def track(n):
    try:
        with open(f"{WORK}/{n}.track") as f:
            return f.read()
    except OSError:
        return ""


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


def start_fulcrum(n):
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
    fp = start(f"fulcrum-{n}", n, [FULCRUM, "run", "-c", cfg], f"{WORK}/{n}.fulcrum.log")
    start(f"watch-{n}", n, [FULCRUM, "watch", "--pid", str(fp.pid), "--ready", "http://127.0.0.1:9900/readyz",
                            "--track-file", f"{WORK}/{n}.track", "--interval", "50", "--timeout", "100"],
          f"{WORK}/{n}.watch.log")
    return fp


def start_keepalived(n):
    peer = "b" if n == "a" else "a"
    cfg = f"{WORK}/{n}.keepalived.conf"
    with open(cfg, "w") as f:
        f.write(f"""global_defs {{
    vrrp_version 3
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 3
    vrrp_rt_priority 50
}}
vrrp_track_file fulcrum_ready {{
    file {WORK}/{n}.track
}}
vrrp_instance fulcrum_vip {{
    state BACKUP
    nopreempt
    interface {dev(n)}
    virtual_router_id 51
    priority {PRIORITY[n]}
    advert_int 0.05
    unicast_src_ip {ADDR[n]}
    unicast_peer {{
        {ADDR[peer]}
    }}
    virtual_ipaddress {{
        {VIP}/24 dev {dev(n)}
    }}
    track_file {{
        fulcrum_ready weight 0
    }}
}}
""")
    start(f"keepalived-{n}", n, [KEEPALIVED, "--dont-fork", "--log-console", "--vrrp", "-f", cfg,
                                 "-p", f"{WORK}/{n}.kd.pid", "-r", f"{WORK}/{n}.vrrp.pid"],
          f"{WORK}/{n}.keepalived.log")


async def one(sent, results):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(VIP, 80), 1)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n")
            data = await asyncio.wait_for(reader.read(), 1)
            ok = data.startswith(b"HTTP/1.1 200")
            results.append((sent, ok, data.rsplit(b"\n", 2)[-2].decode() if ok else "status"))
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError) as e:
        results.append((sent, False, type(e).__name__))


async def load(seconds, kill_at, victim):
    """Open loop: RATE new connections per second; `victim` is signalled at kill_at s."""
    loop = asyncio.get_running_loop()
    results, tasks = [], []
    start_t = loop.time()
    killed_at = None
    for i in range(int(RATE * seconds)):
        t = start_t + i / RATE
        if killed_at is None and t - start_t >= kill_at:
            victim.fault()
            killed_at = loop.time() - start_t
        delay = t - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(loop.time() - start_t, results)))
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    return sorted(results), killed_at


def client_main():
    """Runs inside namespace c: prints the trial's figures as one line."""
    victim_pid, sig, seconds = int(sys.argv[2]), sys.argv[4], float(sys.argv[5])

    class Victim:
        def fault(self):
            if sig != "NONE":
                os.kill(victim_pid, getattr(signal, "SIG" + sig))

    results, killed_at = asyncio.run(load(seconds, 1.0, Victim()))
    ok_times = [t for t, ok, _ in results if ok]
    before = [t for t in ok_times if t <= killed_at]
    after = [t for t in ok_times if t > killed_at]
    gap = (after[0] - before[-1]) * 1000 if before and after else -1
    failed = sum(1 for _, ok, _ in results if not ok)
    servers_after = sorted({who for t, ok, who in results if ok and t > killed_at + 0.5})
    print(f"sent {len(results)} failed {failed} gap_ms {gap:.1f} served_after {','.join(servers_after) or '-'}")


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


def run_scenario(scenario, fulcrum, failures):
    gaps, fails = [], []
    for trial in range(TRIALS if scenario != "busy" else 1):
        master = "a" if holds_vip("a") else "b"
        other = "b" if master == "a" else "a"
        wait_until(lambda: track(other) == "0\n", 15, f"{other} to be ready")
        time.sleep(0.3)  # the backup's keepalived has seen its track file
        sig = {"kill": "KILL", "stop": "STOP", "busy": "NONE", "worker": "NONE"}[scenario]
        seconds = BUSY_SECONDS if scenario == "busy" else 3.0
        burners = []
        stuck = StuckWorker(fulcrum[master].pid, "fulcrum-w0") if scenario == "worker" else None
        if scenario == "busy":
            before = masters()
            burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
            procs.extend(("burner", p) for p in burners)
        try:
            client = subprocess.Popen(in_ns("c", sys.executable, __file__, "--client", str(fulcrum[master].pid),
                                            str(RATE), sig, str(seconds)),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if stuck:
                # One second into the load, as the client does its faults (ptrace from this
                # thread: the tracer must be the thread that detaches).
                time.sleep(1.0)
                stuck.stop()
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
                 "busy": f"{seconds:.0f} s with every core busy, no fault on"}
        print(f"{scenario} {trial + 1}: {label[scenario]} {master}'s fulcrum: {line}", flush=True)
        if out.returncode != 0 or "failed" not in fields:
            failures.append(f"{scenario} {trial + 1}: the client failed: {line} {out.stderr.strip()}")
            continue
        failed = int(fields[fields.index("failed") + 1])
        if scenario == "busy":
            if not holds_vip(master) or masters() != before:
                failures.append(f"{scenario}: the address moved with no fault (a flap): {line}; master "
                                f"transitions {masters() - before}")
            continue
        if "served_after " + other not in line:
            failures.append(f"{scenario} {trial + 1}: did not fail over to {other}: {line}")
        else:
            gaps.append(float(fields[fields.index("gap_ms") + 1]))
            fails.append(failed)
        if scenario == "kill":
            # The killed balancer comes back (a new process and watcher) as the backup.
            fulcrum[master].wait(5)
            fulcrum[master] = start_fulcrum(master)
        elif scenario == "stop":
            os.kill(fulcrum[master].pid, signal.SIGCONT)
        wait_until(lambda: track(master) == "0\n", 15, f"{master}'s fulcrum back")
        time.sleep(0.3)
        if holds_vip(master):
            failures.append(f"{scenario} {trial + 1}: {master} took the address back (nopreempt)")
    if gaps:
        gaps.sort()
        print(f"summary {scenario}: {len(gaps)} trials at {RATE:.0f} new connections/s; gap median "
              f"{gaps[len(gaps) // 2]:.1f} ms, worst {gaps[-1]:.1f} ms; failed requests per trial {sorted(fails)}",
              flush=True)


def main():
    os.makedirs(WORK, exist_ok=True)
    try:
        network()
    except subprocess.CalledProcessError as e:
        print(f"SKIP: cannot make network namespaces here: {e.stderr.strip()}")
        return 77
    try:
        fulcrum = {n: start_fulcrum(n) for n in ("a", "b")}
        for n in ("a", "b"):
            wait_until(lambda n=n: track(n) == "0\n", 15, f"{n}'s fulcrum to be ready")
            start_keepalived(n)
        wait_until(lambda: holds_vip("a") or holds_vip("b"), 15, "a master")
        failures = []
        for scenario in SCENARIOS:
            run_scenario(scenario, fulcrum, failures)
        for f in failures:
            print("FAIL: " + f)
        return 1 if failures else 0
    except Exception as e:  # noqa: BLE001 - report and clean up whatever went wrong
        print(f"FAIL: {e}")
        for n in ("a", "b"):
            for kind in ("keepalived", "watch", "fulcrum"):
                try:
                    with open(f"{WORK}/{n}.{kind}.log") as f:
                        print(f"--- {n}.{kind}.log (tail)\n" + "".join(f.readlines()[-15:]))
                except OSError:
                    pass
        return 1
    finally:
        cleanup()


if __name__ == "__main__":
    if CLIENT:
        client_main()
        sys.exit(0)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(1))  # finally: cleanup() runs
    sys.exit(main())
