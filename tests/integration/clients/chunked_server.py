#!/usr/bin/python3
"""An HTTP server that answers every request chunked, whatever the request's version (as some
real servers do to HTTP/1.0 requests), with X-Backend: ID and X-Version: the request's version.
Keep-alive for HTTP/1.1 requests. Writes its port to READY_FILE once listening; exits after
60 s at the latest (tests kill it sooner).

usage: chunked_server.py ID READY_FILE
"""
import socket
import sys
import threading
import time


def serve(conn, ident):
    conn.settimeout(10)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            version = head.split(b"\r\n", 1)[0].split(b" ")[-1].decode()
            body = b"hello from " + ident.encode() + b"\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Backend: " + ident.encode() + b"\r\nX-Version: " +
                         version.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n" +
                         b"%x\r\n" % len(body) + body + b"\r\n0\r\nX-Trailer: t\r\n\r\n")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    ident, ready = sys.argv[1], sys.argv[2]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(ready + ".tmp", ready)
    s.settimeout(1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn, ident), daemon=True).start()


if __name__ == "__main__":
    main()
