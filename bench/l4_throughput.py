#!/usr/bin/env python3
"""L4 bulk throughput on loopback: direct to a backend vs through fulcrum, interleaved.

Usage: bench/l4_throughput.py BUILD_DIR [--bytes N] [--rounds R]
Starts one fulcrum-testbackend and one fulcrum (1 worker) on loopback, then for each
round downloads N bytes (backend SOURCE command) directly and through fulcrum, and prints
the medians (min-max) in Gbit/s plus fulcrum's CPU seconds per GiB. Bounded: every
transfer has a 120 s socket timeout. The full side-by-side suite (HAProxy, NGINX) is
issue #6's bench/; this is the foundation's quick figure.
"""
import argparse, os, socket, statistics, subprocess, sys, tempfile, time


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def download(port, n):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.sendall(b"SOURCE %d 1\n" % n)
    buf = bytearray(1 << 20); view = memoryview(buf); got = 0
    t0 = time.perf_counter()
    while True:
        k = s.recv_into(view)
        if k == 0:
            break
        got += k
    dt = time.perf_counter() - t0
    s.close()
    if got != n:
        raise SystemExit(f"short transfer: {got} of {n}")
    return n * 8 / dt / 1e9


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--bytes", type=int, default=2 << 30)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    ready = os.path.join(tmp, "ready")
    backend = subprocess.Popen([f"{a.build}/tools/testbackend/fulcrum-testbackend", "--id", "b", "--tcp",
                                "127.0.0.1:0", "--ready-file", ready], stdout=subprocess.DEVNULL)
    procs = [backend]
    try:
        for _ in range(500):
            if os.path.exists(ready):
                break
            time.sleep(0.01)
        bport = int(open(ready).read().split()[1].rsplit(":", 1)[1])
        fport = free_port()
        cfg = os.path.join(tmp, "f.yaml")
        open(cfg, "w").write(f"listeners:\n  - name: l\n    bind: 127.0.0.1:{fport}\n    pool: p\n"
                             f"pools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:{bport}\n")
        fulcrum = subprocess.Popen([f"{a.build}/src/exe/fulcrum", "run", "-c", cfg, "--workers", "1"],
                                   stderr=subprocess.DEVNULL)
        procs.append(fulcrum)
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", fport), timeout=1).close(); break
            except OSError:
                time.sleep(0.01)
        direct, proxied, cpu = [], [], []
        for _ in range(a.rounds):
            direct.append(download(bport, a.bytes))
            c0 = cpu_seconds(fulcrum.pid)
            proxied.append(download(fport, a.bytes))
            cpu.append((cpu_seconds(fulcrum.pid) - c0) / (a.bytes / (1 << 30)))
        fmt = lambda v: f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"
        print(f"direct   Gbit/s: {fmt(direct)}")
        print(f"fulcrum  Gbit/s: {fmt(proxied)}   ratio {statistics.median(proxied) / statistics.median(direct):.2f}")
        print(f"fulcrum  CPU s/GiB: {fmt(cpu)}")
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


if __name__ == "__main__":
    main()
