"""The clients: wrk for HTTP, a socket reader for bulk TCP, and a holder of idle connections."""
import re, socket, subprocess, time

from procs import cpu_seconds, cpu_times, private_dirty_kib

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def wrk(port, seconds, connections, pids, close=False):
    """One wrk run (one thread: the load core is shared with the backends); the proxy's CPU time
    over it is divided by the requests wrk completed."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://127.0.0.1:{port}/")
    user0, sys0 = cpu_times(pids)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    user1, sys1 = cpu_times(pids)
    user, system = user1 - user0, sys1 - sys0
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(lat.get("50", "")), "p99_ms": _ms(lat.get("99", "")),
        "cpu_us_per_req": (user + system) * 1e6 / requests if pids and requests else None,
        "user_us_per_req": user * 1e6 / requests if pids and requests else None,
        "sys_us_per_req": system * 1e6 / requests if pids and requests else None,
        "requests": requests, "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
    }


def bulk(port, nbytes, pids):
    """Downloads nbytes (the backend's SOURCE stream); Gbit/s and proxy CPU seconds per GiB."""
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray(1 << 20)
    view, got = memoryview(buf), 0
    cpu0 = cpu_seconds(pids)
    t0 = time.perf_counter()
    s.sendall(b"SOURCE %d 1\n" % nbytes)
    while True:
        k = s.recv_into(view)
        if k == 0:
            break
        got += k
    dt = time.perf_counter() - t0
    cpu = cpu_seconds(pids) - cpu0
    s.close()
    if got != nbytes:
        raise RuntimeError(f"short transfer: {got} of {nbytes} bytes")
    return {"gbit_s": nbytes * 8 / dt / 1e9,
            "cpu_s_per_gib": cpu / (nbytes / (1 << 30)) if pids else None}


def _http_once(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before the response head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected response: {head[:40]!r}")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed in the response body")
        body += chunk


def _tcp_once(s):
    s.sendall(b"WHO\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(256)
        if not chunk:
            raise RuntimeError("connection closed before the WHO reply")
        data += chunk


def idle_memory(port, count, pids, kind):
    """Opens count connections, each after one exchange (HTTP: a keep-alive request; TCP: a WHO
    round trip, so the proxy holds its server connection), and returns the proxy's Private_Dirty
    growth per connection in KiB."""
    once = _http_once if kind == "http" else _tcp_once
    before = private_dirty_kib(pids)
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            socks.append(s)
            once(s)
        time.sleep(1.0)  # let the proxy finish whatever it does after the exchange
        after = private_dirty_kib(pids)
        # The connections must still be open and usable: a proxy that closed idle ones early
        # would look cheaper than it is.
        for s in socks[:: max(1, count // 20)]:
            once(s)
    finally:
        for s in socks:
            s.close()
    return {"kib_per_conn": (after - before) / count, "before_kib": before, "after_kib": after,
            "connections": count}
