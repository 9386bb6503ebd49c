#!/usr/bin/python3
"""Socket activation as systemd does it (sd_listen_fds(3)), for tests: binds the sockets,
puts them on fds 3, 4, ... with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (this process's
pid, kept by exec), and execs PROGRAM in place. Before that it connects to the first TCP
socket and sends one request, which waits in the socket's accept queue: only a program that
adopts that very socket can answer it. A forked helper writes the answer (or "no answer") to
ANSWER_FILE, within 10 s.

usage: sd_launch.py ANSWER_FILE SPEC... -- PROGRAM ARGS...
SPEC: NAME=tcp:PORT[:reuseport] | NAME=udp:PORT    (on 127.0.0.1)
"""
import os
import socket
import sys


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    answer_file, specs, program = args[0], args[1:sep], args[sep + 1:]
    socks, names = [], []
    for spec in specs:
        name, rest = spec.split("=", 1)
        parts = rest.split(":")
        kind, port = parts[0], int(parts[1])
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
        if "reuseport" in parts[2:]:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", port))
        if kind == "tcp":
            s.listen(16)
        socks.append(s)
        names.append(name)

    first_tcp = next(s for s in socks if s.type == socket.SOCK_STREAM)
    client = socket.create_connection(first_tcp.getsockname(), timeout=10)
    client.sendall(b"GET / HTTP/1.1\r\nHost: queued\r\nConnection: close\r\n\r\n")
    if os.fork() == 0:
        for s in socks:
            s.close()
        answer = b""
        try:
            while True:
                chunk = client.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            pass
        with open(answer_file, "wb") as f:
            f.write(answer or b"no answer")
        os._exit(0)
    client.close()

    for i, s in enumerate(socks):
        os.dup2(s.fileno(), 3 + i, inheritable=True)
    env = dict(os.environ)
    env["LISTEN_FDS"] = str(len(socks))
    env["LISTEN_FDNAMES"] = ":".join(names)
    env["LISTEN_PID"] = str(os.getpid())
    os.execve(program[0], program, env)


if __name__ == "__main__":
    main()
