#!/usr/bin/python3
"""Plays one HTTP/2 exchange with raw frames (hyperframe and hpack, python3-h2's parts) against
a proxy speaking h2c with prior knowledge, so a test can send what a well-behaved client
library refuses to: wrong content-length, uppercase names, connection-specific fields.
Prints what came back for each stream, one line each, then "done":

  stream <id> status <code> bytes <n>      a response (body bytes received so far)
  stream <id> rst <error code>             RST_STREAM
  goaway <error code>                      GOAWAY, if any
  body <id> <text>                         the body of a small response (cookie)

Bounded: every read times out after 5 s, and the whole run after 10 s.

usage: h2_probe.py PORT CASE
  cl-excess      POST, content-length: 5, DATA of 10 bytes with END_STREAM
  cl-short       POST, content-length: 100, DATA of 10 bytes with END_STREAM
  te-gzip        GET with "te: gzip"
  te-trailers    GET with "te: trailers" (allowed)
  uppercase      GET with the field name "X-Upper"
  connection     GET with "connection: keep-alive"
  transfer-enc   POST with "transfer-encoding: chunked" and a chunked-looking DATA
  crlf-value     GET with a value holding CR LF
  cookie         GET /cookie with the crumbs "a=1" and "b=2" as two fields
  trailers       POST /sink without content-length, DATA, then trailers ending the stream
  slow-reader    stream 1 GET /source/4194304 never given window; stream 3 GET / meanwhile
  drain PID      stream 1 GET /sleep/300, then SIGTERM to PID; after the first GOAWAY, stream 3
                 GET /; prints every GOAWAY with its last stream id ("goaway <code> last <id>")
                 and reads until the proxy closes
"""
import os
import signal
import socket
import sys
import time

import hpack
from hyperframe.frame import (DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.buf = b""
        self.out = b""
        self.sock.sendall(PREFACE + SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 65535}).serialize())

    def headers(self, sid, fields, end=True):
        # Raw HPACK: no validation or lowercasing by the encoder.
        block = self.enc.encode(fields, huffman=False)
        f = HeadersFrame(sid, block)
        f.flags.add("END_HEADERS")
        if end:
            f.flags.add("END_STREAM")
        self.out += f.serialize()

    def data(self, sid, payload, end=True):
        f = DataFrame(sid, payload)
        if end:
            f.flags.add("END_STREAM")
        self.out += f.serialize()

    def send(self, frame):
        self.out += frame.serialize()
        self.flush()

    # What headers() and data() queued goes in one write (one read at the proxy: the malformed
    # request is judged whole before anything could go to a server).
    def flush(self):
        self.sock.sendall(self.out)
        self.out = b""

    def frame(self):
        while True:
            if len(self.buf) >= 9:
                f, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) >= 9 + length:
                    f.parse_body(memoryview(self.buf[9:9 + length]))
                    self.buf = self.buf[9 + length:]
                    return f
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk


def base(method, path, extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)] + list(extra)


def run(port, case, arg=None):
    c = Conn(port)
    want = {1}
    if case == "cl-excess":
        c.headers(1, base("POST", "/sink", [("content-length", "5")]), end=False)
        c.data(1, b"0123456789")
    elif case == "cl-short":
        c.headers(1, base("POST", "/sink", [("content-length", "100")]), end=False)
        c.data(1, b"0123456789")
    elif case == "te-gzip":
        c.headers(1, base("GET", "/", [("te", "gzip")]))
    elif case == "te-trailers":
        c.headers(1, base("GET", "/", [("te", "trailers")]))
    elif case == "uppercase":
        c.headers(1, base("GET", "/", [("X-Upper", "1")]))
    elif case == "connection":
        c.headers(1, base("GET", "/", [("connection", "keep-alive")]))
    elif case == "transfer-enc":
        c.headers(1, base("POST", "/sink", [("transfer-encoding", "chunked")]), end=False)
        c.data(1, b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    elif case == "crlf-value":
        c.headers(1, base("GET", "/", [("x-a", "1\r\nX-Injected: 1")]))
    elif case == "cookie":
        c.headers(1, base("GET", "/cookie", [("cookie", "a=1"), ("cookie", "b=2")]))
    elif case == "trailers":
        c.headers(1, base("POST", "/sink"), end=False)
        c.data(1, b"hello", end=False)
        c.headers(1, [("x-checksum", "abc")], end=True)
    elif case == "slow-reader":
        # The connection's window is opened wide, stream 1's never: it stalls at 65535 bytes.
        c.send(WindowUpdateFrame(0, window_increment=1 << 30))
        c.headers(1, base("GET", "/source/4194304"))
        want = {3}
    elif case == "drain":
        c.headers(1, base("GET", "/sleep/300"))
        c.flush()
        time.sleep(0.1)
        os.kill(int(arg), signal.SIGTERM)
        want = {1, 3}
    else:
        print("unknown case", case)
        return 2
    c.flush()
    statuses = {}
    got = {}
    ended = set()
    deadline = time.time() + 10
    started3 = False
    while time.time() < deadline:
        try:
            f = c.frame()
        except socket.timeout:
            break
        if f is None:
            break
        if isinstance(f, SettingsFrame) and "ACK" not in f.flags:
            ack = SettingsFrame(0)
            ack.flags.add("ACK")
            c.send(ack)
        elif isinstance(f, PingFrame) and "ACK" not in f.flags:
            pong = PingFrame(0, opaque_data=f.opaque_data)
            pong.flags.add("ACK")
            c.send(pong)
        elif isinstance(f, HeadersFrame):
            fields = dict(c.dec.decode(f.data))
            if ":status" in fields and not fields[":status"].startswith("1"):
                statuses[f.stream_id] = fields[":status"]
                got.setdefault(f.stream_id, b"")
            if "END_STREAM" in f.flags:
                ended.add(f.stream_id)
        elif isinstance(f, DataFrame):
            got[f.stream_id] = got.get(f.stream_id, b"") + f.data
            if f.stream_id != 1 or case != "slow-reader":
                if f.flow_controlled_length:
                    c.send(WindowUpdateFrame(f.stream_id, window_increment=f.flow_controlled_length))
            if "END_STREAM" in f.flags:
                ended.add(f.stream_id)
        elif isinstance(f, RstStreamFrame):
            print("stream %d rst %d" % (f.stream_id, f.error_code))
            ended.add(f.stream_id)
        elif isinstance(f, GoAwayFrame):
            if case != "drain":
                print("goaway %d" % f.error_code)
                break
            print("goaway %d last %d" % (f.error_code, f.last_stream_id), flush=True)
            if 3 not in statuses and 3 not in ended and f.last_stream_id > 3:
                c.headers(3, base("GET", "/"))  # sent between the two GOAWAYs: still served
                c.flush()
        if case == "slow-reader" and not started3 and len(got.get(1, b"")) >= 65535:
            started3 = True  # stream 1 is stalled on its window: another stream must still be served
            c.headers(3, base("GET", "/"))
            c.flush()
        if want <= ended and case != "drain":
            break
    for sid in sorted(set(statuses) | set(got)):
        if sid in statuses:
            print("stream %d status %s bytes %d%s" % (sid, statuses[sid], len(got.get(sid, b"")),
                                                    " ended" if sid in ended else ""))
    if case in ("cookie", "trailers"):
        print("body 1 %s" % got.get(1, b"").decode(errors="replace").strip())
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(run(int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
