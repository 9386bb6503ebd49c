"""What the namespace harnesses (pair.py, ecmp.py) share: running commands, starting processes
inside a network namespace and ending them by PID, waiting with a bound, and cleaning up on
every exit path. Every process started through start() is remembered and ended by cleanup()."""
import signal
import subprocess
import sys
import time

procs = []  # (name, Popen), in start order


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def in_ns(ns, *args):
    return ["ip", "netns", "exec", ns, *args]


def start(name, ns, args, log, append=False):
    """args run inside namespace ns, output to log; ended by cleanup() if still running."""
    p = subprocess.Popen(in_ns(ns, *args), stdout=open(log, "a" if append else "w"), stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    procs.append((name, p))
    return p


def adopt(name, p):
    """A process started otherwise, ended by cleanup() too."""
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


def cleanup(namespaces):
    for _, p in reversed(procs):
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            except OSError:
                pass
        stop(p)
    for n in namespaces:
        sh("ip", "netns", "del", n, check=False)


def wait_until(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out ({seconds} s) waiting for {what}")


def print_tails(work, nodes, kinds, lines=15):
    for n in nodes:
        for kind in kinds:
            try:
                with open(f"{work}/{n}.{kind}.log") as f:
                    print(f"--- {n}.{kind}.log (tail)\n" + "".join(f.readlines()[-lines:]))
            except OSError:
                pass


def run(main):
    """Exits with main()'s code; SIGTERM and SIGINT exit through main's finally (cleanup)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(1))
    sys.exit(main())
