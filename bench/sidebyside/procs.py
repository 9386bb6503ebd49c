"""Processes: start, pin, wait for, read CPU time and memory of, stop."""
import os, signal, socket, subprocess, time

PROXY_CORE = 0  # the proxy under test
LOAD_CORE = 1   # load generator, backends and this script


def pin_self():
    """Children inherit the affinity: wrk, backends and the clients run on LOAD_CORE."""
    if os.cpu_count() and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {LOAD_CORE})


def _pin_proxy():
    if os.cpu_count() and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {PROXY_CORE})


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def spawn(argv, log_path, proxy=False):
    log = open(log_path, "ab")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=_pin_proxy if proxy else None, start_new_session=True)


def wait_listening(ports, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
                time.sleep(0.05)


def stop(proc, timeout=10.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def family(pid):
    """pid and its descendants (nginx's workers), from /proc/PID/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def cpu_times(pids):
    """(user, system) time of the processes (all their threads), in seconds."""
    user = system = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        user += int(fields[11])
        system += int(fields[12])
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


def cpu_seconds(pids):
    """user + system time of the processes (all their threads), in seconds."""
    return sum(cpu_times(pids))


def private_dirty_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    total += int(line.split()[1])
    return total
