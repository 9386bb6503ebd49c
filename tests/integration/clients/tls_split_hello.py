#!/usr/bin/env python3
"""A TLS client whose every handshake byte goes in its own write (TCP_NODELAY, a pause
between bytes), so the server sees its ClientHello in one-byte pieces; then one HTTP/1.1
request. Prints the response head. Usage: tls_split_hello.py HOST PORT SNI CAFILE [PREFIX_FILE]
(PREFIX_FILE: bytes sent first, also one byte a write, e.g. a PROXY protocol header). Bounded:
every socket operation has a timeout, and the whole run ends within about 15 s."""
import socket
import ssl
import sys
import time


def main():
    host, port, sni, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.create_default_context(cafile=cafile)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    sock = socket.create_connection((host, port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    deadline = time.monotonic() + 15
    if len(sys.argv) > 5:
        with open(sys.argv[5], "rb") as f:
            outgoing.write(f.read())

    def flush(one_byte):
        data = outgoing.read()
        if one_byte:
            for i in range(len(data)):
                sock.sendall(data[i:i + 1])
                time.sleep(0.0005)
        elif data:
            sock.sendall(data)

    first = True
    if len(sys.argv) > 5:
        flush(True)  # the prefix first, so the ClientHello's bytes do not share its writes
    while time.monotonic() < deadline:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush(first)
            first = False
            chunk = sock.recv(65536)
            if not chunk:
                print("the server closed during the handshake")
                return 1
            incoming.write(chunk)
    else:
        print("handshake timed out")
        return 1
    flush(False)
    tls.write(b"GET / HTTP/1.1\r\nHost: " + sni.encode() + b"\r\nConnection: close\r\n\r\n")
    flush(False)
    response = b""
    while time.monotonic() < deadline and b"\r\n\r\n" not in response:
        try:
            response += tls.read(65536)
        except ssl.SSLWantReadError:
            chunk = sock.recv(65536)
            if not chunk:
                break
            incoming.write(chunk)
    print(response.split(b"\r\n\r\n")[0].decode(errors="replace"))
    return 0 if response.startswith(b"HTTP/1.") else 1


if __name__ == "__main__":
    sys.exit(main())
