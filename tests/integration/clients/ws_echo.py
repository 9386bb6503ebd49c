#!/usr/bin/python3
"""A real WebSocket client (python3-websocket): connects to URL, sends a text message and a
256 KiB binary message, and prints "ok" when both come back unchanged. Bounded by a 10 s
timeout on every operation."""
import os
import sys

import websocket

ws = websocket.create_connection(sys.argv[1], timeout=10)
ws.send("hello through fulcrum")
text = ws.recv()
blob = os.urandom(256 * 1024)
ws.send_binary(blob)
back = ws.recv()
ws.close()
if text != "hello through fulcrum" or back != blob:
    sys.exit("echo mismatch")
print("ok")
