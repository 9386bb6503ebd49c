#!/usr/bin/python3
"""A real WebSocket client (python3-websocket): connects to URL, sends a text message and a
256 KiB binary message, then a burst of 50 small ones, and prints "ok" when all come back
unchanged. Bounded by a 10 s
timeout on every operation. Usage: ws_echo.py URL [CAFILE] — with a CA file, a wss:// URL's
certificate chain is verified against it (the name is not: the URL names 127.0.0.1)."""
import os
import sys

import websocket

sslopt = {"ca_certs": sys.argv[2], "check_hostname": False} if len(sys.argv) > 2 else None
ws = websocket.create_connection(sys.argv[1], timeout=10, sslopt=sslopt)
ws.send("hello through fulcrum")
text = ws.recv()
blob = os.urandom(256 * 1024)
ws.send_binary(blob)
back = ws.recv()
# A burst: small messages sent back to back arrive together (one read holds several of them,
# or several TLS records), then are read back in order.
burst = [f"message {i}" for i in range(50)]
for m in burst:
    ws.send(m)
echoed = [ws.recv() for _ in burst]
ws.close()
if text != "hello through fulcrum" or back != blob:
    sys.exit("echo mismatch")
if echoed != burst:
    sys.exit("burst mismatch")
print("ok")
