#!/usr/bin/env python3
"""HTTP/1.1 backend for Fulcrum's HTTP reverse proxy integration tests.

Python 3.11 standard library only. One thread per connection, blocking
sockets, and an HTTP/1.1 parser of its own (request line, header fields,
Content-Length and chunked bodies). Request and response bodies are
streamed, so memory stays flat however large they are. See README.md
beside this file for the exact behaviour of every endpoint.
"""

import argparse
import base64
import hashlib
import http
import json
import os
import re
import resource
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from urllib.parse import parse_qsl, urlsplit

# ---------------------------------------------------------------------------
# The /source stream: byte i is BLOCK[i % len(BLOCK)]. BLOCK is 1 MiB, i.e. the
# 32-byte SEED repeated 32768 times, so byte i is also SEED[i % 32].
SEED = hashlib.sha256(b"fulcrum").digest()
BLOCK = SEED * 32768
BLOCK_LEN = len(BLOCK)  # 1 MiB
BLOCK_MV = memoryview(BLOCK)
SEND_PIECE = 256 * 1024  # sendall() size; divides BLOCK_LEN
SOURCE_CHUNK = 64 * 1024  # chunk size of /source?chunked=1
MAX_SOURCE = 1 << 40
SHA_HEADER_MAX = 1 << 30  # X-Body-Sha256 only up to 1 GiB

# Limits on what a client may send.
MAX_LINE = 64 * 1024  # request line, one header/trailer field line
MAX_HEAD = 256 * 1024  # whole header section (or trailer section)
MAX_FIELDS = 500  # header (or trailer) field lines
MAX_CHUNK_LINE = 4096  # chunk-size line incl. extensions
MAX_EMPTY_LINES = 8  # empty lines tolerated before a request line
MAX_WS_MESSAGE = 16 * 1024 * 1024  # reassembled WebSocket message
MAX_SLEEP_MS = 3_600_000
RECV_SIZE = 64 * 1024
BODY_PIECE = 256 * 1024

TOKEN_RE = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
TOKEN = re.compile(TOKEN_RE)
FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
TARGET = re.compile(rb"[\x21-\x7e]+")
VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")
HOST_VALUE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:\[\]%]*")
QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
CHUNK_LINE = re.compile(
    rb"([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*" + TOKEN_RE + rb"(?:[ \t]*=[ \t]*(?:" + TOKEN_RE + rb"|" + QUOTED + rb"))?)*)"
)
CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")
ABSOLUTE_FORM = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class BadRequest(Exception):
    """A request the server refuses; answered with `status`, then the connection is closed."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class PeerGone(Exception):
    """EOF (or a timeout) in the middle of a message: close without answering."""


def reason_phrase(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Status " + str(status)


class Log:
    """stderr lines, at most 10 per second (the count of dropped lines is reported later)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.window = 0
        self.count = 0
        self.dropped = 0

    def __call__(self, msg):
        with self.lock:
            now = int(time.monotonic())
            if now != self.window:
                self.window, self.count = now, 0
            if self.count >= 10:
                self.dropped += 1
                return
            self.count += 1
            if self.dropped:
                msg += f" ({self.dropped} lines dropped)"
                self.dropped = 0
        try:
            sys.stderr.write(f"httpbackend: {msg}\n")
            sys.stderr.flush()
        except Exception:
            pass


log = Log()


class SourceHasher:
    """sha256 of the first n bytes of the /source stream, with checkpoints every 64 MiB
    (hash states are copied, so later requests of any size up to the largest one so far
    cost at most 64 MiB of hashing)."""

    STEP_BLOCKS = 64

    def __init__(self):
        self.lock = threading.Lock()
        self.checkpoints = [hashlib.sha256()]  # [k]: state after k * 64 MiB
        self.cache = {}

    def hexdigest(self, n):
        step = self.STEP_BLOCKS * BLOCK_LEN
        k = n // step
        with self.lock:
            if n in self.cache:
                return self.cache[n]
            while len(self.checkpoints) <= k:
                h = self.checkpoints[-1].copy()
                for _ in range(self.STEP_BLOCKS):
                    h.update(BLOCK)
                self.checkpoints.append(h)
            h = self.checkpoints[k].copy()
        rem = n - k * step
        while rem >= BLOCK_LEN:
            h.update(BLOCK)
            rem -= BLOCK_LEN
        h.update(BLOCK_MV[:rem])
        digest = h.hexdigest()
        with self.lock:
            if len(self.cache) >= 256:
                self.cache.clear()
            self.cache[n] = digest
        return digest


class Request:
    def __init__(self, method, target, version, headers):
        self.method = method  # str
        self.target = target  # str, as received
        self.version = version  # str, as received, e.g. "HTTP/1.1"
        self.http10 = version == "HTTP/1.0"
        self.headers = headers  # [(name, value)], arrival order, names as received
        self.head = method == "HEAD"
        if target == "*":
            self.path, query = "*", ""
        elif ABSOLUTE_FORM.match(target):
            parts = urlsplit(target)
            self.path, query = parts.path or "/", parts.query
        else:
            self.path, _, query = target.partition("?")
        self.query = dict(parse_qsl(query, keep_blank_values=True))
        # Filled in by Connection.framing(): None (no body), ("length", n) or ("chunked",).
        self.body = None

    def values(self, name):
        name = name.lower()
        return [v for (k, v) in self.headers if k.lower() == name]

    def tokens(self, name):
        """Comma-separated list elements of all field lines `name`, lowercased."""
        out = []
        for v in self.values(name):
            out.extend(t.strip().lower() for t in v.split(","))
        return [t for t in out if t]

    def option(self, name):
        return self.query.get(name) == "1"

    def has_body(self):
        return self.body is not None and (self.body[0] == "chunked" or self.body[1] > 0)


class Connection:
    def __init__(self, server, sock, peer, number):
        self.server = server
        self.sock = sock
        self.peer = peer
        self.number = number
        self.requests = 0
        self.buf = bytearray()
        self.scratch = None
        self.keep_alive = True
        self.tls = None  # with --tls-cert: "TLSv1.3 resumed=0 client=CN" after the handshake

    def tls_handshake(self):
        """Wraps the socket in TLS (--tls-cert). False, after a log line, when the handshake fails."""
        self.sock.settimeout(5.0)
        try:
            self.sock = self.server.tls.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(f"conn {self.number} ({self.peer}): TLS handshake failed: {e}")
            return False
        self.sock.settimeout(None)
        client = "-"
        cert = self.sock.getpeercert()
        if cert:
            for rdn in cert.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        client = value
        self.tls = f"{self.sock.version()} resumed={int(self.sock.session_reused)} client={client}"
        return True

    # ----------------------------------------------------------------- input
    def fill(self):
        data = self.sock.recv(RECV_SIZE)
        if not data:
            return False
        self.buf += data
        return True

    def read_line(self, limit, too_long_status):
        """One line ending in CRLF (returned without it). Bare LF or CR is an error."""
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                break
            if len(self.buf) > limit + 1:
                raise BadRequest(too_long_status, "line too long")
            start = len(self.buf)
            if not self.fill():
                raise PeerGone()
        if i > limit + 1:
            raise BadRequest(too_long_status, "line too long")
        if i == 0 or self.buf[i - 1] != 0x0D:
            raise BadRequest(400, "bare LF")
        line = bytes(self.buf[: i - 1])
        del self.buf[: i + 1]
        if b"\r" in line:
            raise BadRequest(400, "bare CR")
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise PeerGone()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_fields(self, what):
        """Field lines up to the empty line; [(name, value)] as str (latin-1)."""
        fields = []
        total = 0
        while True:
            line = self.read_line(MAX_LINE, 431)
            if not line:
                return fields
            total += len(line) + 2
            if total > MAX_HEAD or len(fields) >= MAX_FIELDS:
                raise BadRequest(431, what + " section too large")
            if line[0] in b" \t":
                raise BadRequest(400, "obsolete line folding or whitespace before a field")
            name, sep, value = line.partition(b":")
            if not sep or not TOKEN.fullmatch(name):
                raise BadRequest(400, "invalid field name")
            value = value.strip(b" \t")
            if not FIELD_VALUE.fullmatch(value):
                raise BadRequest(400, "invalid field value")
            fields.append((name.decode("ascii"), value.decode("latin-1")))

    def read_head(self):
        """The next request head, or None when the client closed (or idled out) between requests."""
        idle = self.server.idle_timeout
        if not self.buf:
            if idle:
                self.sock.settimeout(idle)
            try:
                if not self.fill():
                    return None
            except TimeoutError:
                return None
            finally:
                if idle:
                    self.sock.settimeout(None)
        empties = 0
        while True:
            try:
                line = self.read_line(MAX_LINE, 414)
            except PeerGone:
                if empties or not self.buf:
                    return None  # nothing but empty lines before EOF
                raise
            if line:
                break
            empties += 1
            if empties > MAX_EMPTY_LINES:
                raise BadRequest(400, "too many empty lines before the request line")
        parts = line.split(b" ")
        if len(parts) != 3:
            raise BadRequest(400, "malformed request line")
        method, target, version = parts
        if not TOKEN.fullmatch(method):
            raise BadRequest(400, "invalid method")
        if not TARGET.fullmatch(target):
            raise BadRequest(400, "invalid request target")
        m = VERSION.fullmatch(version)
        if not m:
            raise BadRequest(400, "invalid HTTP version")
        if m.group(1) != b"1":
            raise BadRequest(505, "unsupported HTTP version")
        headers = self.read_fields("header")
        req = Request(method.decode("ascii"), target.decode("ascii"), version.decode("ascii"), headers)
        self.framing(req)
        return req

    def framing(self, req):
        hosts = req.values("host")
        if len(hosts) > 1 or (not req.http10 and not hosts):
            raise BadRequest(400, "missing or repeated Host")
        if hosts and not HOST_VALUE.fullmatch(hosts[0]):
            raise BadRequest(400, "invalid Host")
        te = req.values("transfer-encoding")
        cl = req.values("content-length")
        if te:
            if req.http10:
                raise BadRequest(400, "Transfer-Encoding in an HTTP/1.0 request")
            if cl:
                raise BadRequest(400, "both Transfer-Encoding and Content-Length")
            codings = req.tokens("transfer-encoding")
            if not codings or codings[-1] != "chunked" or codings.count("chunked") > 1:
                raise BadRequest(400, "chunked is not the final transfer coding (exactly once)")
            if len(codings) > 1:
                raise BadRequest(501, "unsupported transfer coding")
            req.body = ("chunked",)
        elif cl:
            values = [p.strip() for v in cl for p in v.split(",")]
            if not all(CONTENT_LENGTH.fullmatch(p) for p in values) or len({int(p) for p in values}) != 1:
                raise BadRequest(400, "invalid Content-Length")
            req.body = ("length", int(values[0]))

    def _read_fixed(self, n, consume):
        while n > 0:
            if self.buf:
                k = min(n, len(self.buf))
                consume(bytes(self.buf[:k]))
                del self.buf[:k]
                n -= k
                continue
            if self.scratch is None:
                self.scratch = bytearray(BODY_PIECE)
            r = self.sock.recv_into(self.scratch, min(n, BODY_PIECE))
            if r == 0:
                raise PeerGone()
            with memoryview(self.scratch) as whole, whole[:r] as piece:
                consume(piece)
            n -= r

    def read_body(self, req, consume):
        """Streams the request body to consume(bytes-like); returns its length. Trailers are skipped."""
        if req.body is None:
            return 0
        if req.body[0] == "length":
            self._read_fixed(req.body[1], consume)
            return req.body[1]
        total = 0
        while True:
            line = self.read_line(MAX_CHUNK_LINE, 400)
            m = CHUNK_LINE.fullmatch(line)
            if not m or len(m.group(1).lstrip(b"0")) > 15:
                raise BadRequest(400, "invalid chunk size line")
            size = int(m.group(1), 16)
            if size == 0:
                break
            self._read_fixed(size, consume)
            total += size
            if self.read_exact(2) != b"\r\n":
                raise BadRequest(400, "chunk data not followed by CRLF")
        self.read_fields("trailer")
        return total

    def expect_continue(self, req):
        return not req.http10 and "100-continue" in req.tokens("expect")

    def drain_body(self, req):
        """Reads and discards the body, after a 100 Continue if the client asked for one."""
        if req.has_body() and self.expect_continue(req):
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        return self.read_body(req, lambda piece: None)

    # ---------------------------------------------------------------- output
    def head(self, status, headers, reason=None):
        lines = [
            f"HTTP/1.1 {status} {reason or reason_phrase(status)}",
            f"X-Backend: {self.server.id}",
            f"X-Conn: {self.number}",
            f"X-Conn-Requests: {self.requests}",
        ]
        if self.tls is not None:
            lines.append(f"X-Tls: {self.tls}")
        lines += [f"{k}: {v}" for (k, v) in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def connection_header(self, req, keep):
        if not keep:
            return [("Connection", "close")]
        if req is not None and req.http10:
            return [("Connection", "keep-alive")]
        return []

    def respond(self, req, status, body=b"", ctype="text/plain", extra=(), close=False):
        """A complete response with a fixed body (or none, as the status demands).
        Returns whether the connection stays open."""
        keep = self.keep_alive and not close and status != 101
        headers = list(extra)
        send_body = False
        if 100 <= status < 200 or status in (204, 304):
            pass  # no content, no Content-Length
        elif status == 205:
            headers.append(("Content-Length", "0"))
        else:
            headers.append(("Content-Type", ctype))
            headers.append(("Content-Length", str(len(body))))
            send_body = req is None or not req.head
        if status != 101:
            headers += self.connection_header(req, keep)
        data = self.head(status, headers)
        if send_body:
            data += body
        self.sock.sendall(data)
        return keep

    def close_gracefully(self):
        """FIN, then discard input for a short while so that the peer gets the response
        (closing with unread input would send an RST that can destroy it)."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 2.0
            drained = 0
            while drained < 64 * 1024 * 1024:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                data = self.sock.recv(RECV_SIZE)
                if not data:
                    break
                drained += len(data)
        except OSError:
            pass

    # ----------------------------------------------------------------- loop
    def run(self):
        graceful = True
        if self.server.tls is not None and not self.tls_handshake():
            self.sock.close()
            return
        try:
            while True:
                counted = False
                try:
                    req = self.read_head()
                    if req is None:
                        graceful = False
                        return
                    self.requests += 1
                    counted = True
                    if not self.handle(req):
                        return
                except BadRequest as e:
                    if not counted:
                        self.requests += 1
                    log(f"conn {self.number} ({self.peer}): {e.status} {e.detail}")
                    self.respond(None, e.status, f"{e.status} {reason_phrase(e.status)}: {e.detail}\n".encode(),
                                 close=True)
                    return
        except ResetDone:
            graceful = False
        except (PeerGone, OSError):
            graceful = False
        except Exception:
            graceful = False
            log(f"conn {self.number}: internal error: {traceback.format_exc()}")
        finally:
            if graceful:
                self.close_gracefully()
            try:
                self.sock.close()
            except OSError:
                pass

    def handle(self, req):
        tokens = req.tokens("connection")
        if req.http10:
            self.keep_alive = "keep-alive" in tokens and "close" not in tokens
        else:
            self.keep_alive = "close" not in tokens
        limit = self.server.max_requests
        if limit and self.requests >= limit:
            self.keep_alive = False
        path = req.path
        if self.server.delay:
            time.sleep(self.server.delay)  # a uniformly slow server (least_response_time tests)
        if req.method == "CONNECT":
            return self.respond(req, 405, b"CONNECT not supported\n", close=True)
        if path == "/headers":
            return self.h_headers(req)
        if path.startswith("/status/"):
            return self.h_status(req, path[len("/status/"):])
        if path.startswith("/source/"):
            return self.h_source(req, path[len("/source/"):])
        if path == "/sink":
            return self.h_sink(req)
        if path.startswith("/sleep/"):
            return self.h_sleep(req, path[len("/sleep/"):])
        if path == "/peak":
            return self.h_peak(req)
        if path == "/hold":
            return self.h_hold(req)
        if path == "/reset":
            return self.h_reset(req)
        if path == "/garbage":
            return self.h_garbage(req)
        if path == "/truncated":
            return self.h_truncated(req)
        if path == "/chunked":
            return self.h_chunked(req)
        if path == "/cookie":
            return self.h_cookie(req)
        if path == "/ws":
            return self.h_ws(req)
        return self.h_default(req)

    # ------------------------------------------------------------- handlers
    def status_response(self, req, code):
        return self.respond(req, code, f"status {code}\n".encode())

    def h_default(self, req):
        self.drain_body(req)
        code = self.server.status_override()
        if code is not None:
            return self.status_response(req, code)
        return self.respond(req, 200, f"hello from {self.server.id}\n".encode())

    def h_headers(self, req):
        self.drain_body(req)
        doc = {
            "method": req.method,
            "target": req.target,
            "version": req.version,
            "headers": [[k, v] for (k, v) in req.headers],
            "peer": self.peer,
        }
        return self.respond(req, 200, (json.dumps(doc) + "\n").encode(), ctype="application/json")

    def h_status(self, req, arg):
        self.drain_body(req)
        if not re.fullmatch(r"[0-9]{3}", arg) or not 100 <= int(arg) <= 599 or (100 <= int(arg) < 200 and arg != "101"):
            return self.respond(req, 400, b"invalid status code\n")
        return self.status_response(req, int(arg))

    def h_source(self, req, arg):
        self.drain_body(req)
        if not re.fullmatch(r"[0-9]{1,20}", arg) or int(arg) > MAX_SOURCE:
            return self.respond(req, 400, b"invalid length\n")
        n = int(arg)
        chunked = req.option("chunked") and not req.http10
        eof = req.option("close") or (req.option("chunked") and req.http10)
        keep = self.keep_alive and not eof
        headers = [("Content-Type", "application/octet-stream")]
        if n <= SHA_HEADER_MAX:
            headers.append(("X-Body-Sha256", self.server.hasher.hexdigest(n)))
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        elif not eof:
            headers.append(("Content-Length", str(n)))
        headers += self.connection_header(req, keep)
        self.sock.sendall(self.head(200, headers))
        if req.head:
            return keep
        sendall = self.sock.sendall
        off = 0
        if chunked:
            while off < n:
                pieces = []
                for _ in range(SEND_PIECE // SOURCE_CHUNK):
                    k = min(SOURCE_CHUNK, n - off)
                    if k == 0:
                        break
                    s = off % BLOCK_LEN
                    pieces += [b"%x\r\n" % k, BLOCK_MV[s:s + k], b"\r\n"]
                    off += k
                sendall(b"".join(pieces))
            sendall(b"0\r\n\r\n")
        else:
            while off < n:
                k = min(SEND_PIECE, n - off)
                s = off % BLOCK_LEN
                sendall(BLOCK_MV[s:s + k])
                off += k
        return keep

    def h_sink(self, req):
        if req.option("reject"):
            return self.respond(req, 417, b"expectation failed\n", close=True)
        h = hashlib.sha256()
        if req.has_body() and self.expect_continue(req):
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        n = self.read_body(req, h.update)
        doc = {
            "bytes": n,
            "sha256": h.hexdigest(),
            "chunked": req.body is not None and req.body[0] == "chunked",
            "expect": ", ".join(req.values("expect")),
        }
        return self.respond(req, 200, (json.dumps(doc) + "\n").encode(), ctype="application/json")

    def h_sleep(self, req, arg):
        self.drain_body(req)
        if not re.fullmatch(r"[0-9]{1,10}", arg) or int(arg) > MAX_SLEEP_MS:
            return self.respond(req, 400, b"invalid duration\n")
        self.server.sleepers(+1)
        try:
            time.sleep(int(arg) / 1000.0)
        finally:
            self.server.sleepers(-1)
        return self.respond(req, 200, f"slept {int(arg)}\n".encode())

    def h_peak(self, req):
        self.drain_body(req)
        return self.respond(req, 200, f"{self.server.peak}\n".encode())

    def h_hold(self, req):
        self.buf.clear()
        while self.sock.recv(RECV_SIZE):
            pass
        raise PeerGone()

    def h_reset(self, req):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        raise ResetDone()

    def h_garbage(self, req):
        self.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello")
        return False

    def h_truncated(self, req):
        data = self.head(200, [("Content-Type", "text/plain"), ("Content-Length", "100")])
        if not req.head:
            data += b"0123456789"
        self.sock.sendall(data)
        return False

    def h_chunked(self, req):
        self.drain_body(req)
        parts = [b"hello ", b"from ", f"{self.server.id}\n".encode()]
        if req.http10:
            keep = False
            headers = [("Content-Type", "text/plain")] + self.connection_header(req, keep)
            body = b"".join(parts)
        else:
            keep = self.keep_alive
            headers = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked"), ("Trailer", "X-Trailer")]
            headers += self.connection_header(req, keep)
            body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\nX-Trailer: yes\r\n\r\n"
        data = self.head(200, headers)
        if not req.head:
            data += body
        self.sock.sendall(data)
        return keep

    def h_cookie(self, req):
        self.drain_body(req)
        return self.respond(req, 200, ("; ".join(req.values("cookie")) + "\n").encode("latin-1"))

    # ------------------------------------------------------------ websocket
    def h_ws(self, req):
        keys = req.values("sec-websocket-key")
        key_ok = False
        if len(keys) == 1:
            try:
                key_ok = len(base64.b64decode(keys[0], validate=True)) == 16
            except ValueError:
                key_ok = False
        if (req.method != "GET" or req.http10 or "websocket" not in req.tokens("upgrade")
                or "upgrade" not in req.tokens("connection") or not key_ok or req.has_body()):
            self.drain_body(req)
            return self.respond(req, 400, b"not a valid WebSocket upgrade request\n")
        if req.values("sec-websocket-version") != ["13"]:
            return self.respond(req, 426, b"unsupported WebSocket version\n",
                                extra=[("Sec-WebSocket-Version", "13")])
        accept = base64.b64encode(hashlib.sha1((keys[0] + WS_GUID).encode("ascii")).digest()).decode("ascii")
        self.sock.sendall(self.head(101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                          ("Sec-WebSocket-Accept", accept)]))
        self.ws_loop()
        return False

    def ws_send(self, opcode, payload):
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        self.sock.sendall(hdr + payload)

    def ws_fail(self, code):
        self.ws_send(0x8, struct.pack("!H", code))

    def ws_loop(self):
        msg_op = None
        msg = bytearray()
        while True:
            b0, b1 = self.read_exact(2)
            fin, rsv, opcode = b0 & 0x80, b0 & 0x70, b0 & 0x0F
            masked, n = b1 & 0x80, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self.read_exact(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self.read_exact(8))
            if rsv or not masked or n >> 63:
                return self.ws_fail(1002)
            if opcode >= 0x8 and (not fin or n > 125):
                return self.ws_fail(1002)
            if n + len(msg) > MAX_WS_MESSAGE:
                return self.ws_fail(1009)
            mask = self.read_exact(4)
            payload = unmask(self.read_exact(n), mask)
            if opcode == 0x8:  # close
                if len(payload) == 1:
                    return self.ws_fail(1002)
                reply = b""
                if len(payload) >= 2:
                    (code,) = struct.unpack("!H", payload[:2])
                    try:
                        payload[2:].decode("utf-8")
                    except UnicodeDecodeError:
                        return self.ws_fail(1007)
                    valid = code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014) \
                        or 3000 <= code <= 4999
                    reply = payload[:2] if valid else struct.pack("!H", 1002)
                return self.ws_send(0x8, reply)
            if opcode == 0x9:  # ping
                self.ws_send(0xA, payload)
                continue
            if opcode == 0xA:  # pong
                continue
            if opcode == 0x0:
                if msg_op is None:
                    return self.ws_fail(1002)
                msg += payload
            elif opcode in (0x1, 0x2):
                if msg_op is not None:
                    return self.ws_fail(1002)
                msg_op = opcode
                msg = bytearray(payload)
            else:
                return self.ws_fail(1002)
            if fin:
                data = bytes(msg)
                if msg_op == 0x1:
                    try:
                        data.decode("utf-8")
                    except UnicodeDecodeError:
                        return self.ws_fail(1007)
                self.ws_send(msg_op, data)
                msg_op = None
                msg = bytearray()


class ResetDone(Exception):
    """The connection was closed with an RST on purpose."""


def unmask(data, mask):
    n = len(data)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


class Server:
    def __init__(self, args):
        self.id = args.id
        self.status_file = args.status_file
        self.idle_timeout = args.idle_timeout / 1000.0 if args.idle_timeout else None
        self.max_requests = args.max_requests
        self.delay = args.delay / 1000.0
        self.tls = None
        if args.tls_cert:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(args.tls_cert, args.tls_key)
            if args.tls_max_version == "1.2":
                self.tls.maximum_version = ssl.TLSVersion.TLSv1_2
            if args.tls_client_ca:
                self.tls.load_verify_locations(args.tls_client_ca)
                self.tls.verify_mode = ssl.CERT_REQUIRED
        self.hasher = SourceHasher()
        self.lock = threading.Lock()
        self.sleeping = 0  # requests inside /sleep now ...
        self.peak = 0      # ... and the most there were at once

    def sleepers(self, delta):
        with self.lock:
            self.sleeping += delta
            self.peak = max(self.peak, self.sleeping)

    def status_override(self):
        if not self.status_file:
            return None
        try:
            with open(self.status_file, "rb") as f:
                text = f.read(64).strip()
        except OSError:
            return None
        if re.fullmatch(rb"[0-9]{3}", text) and 200 <= int(text) <= 599:
            return int(text)
        if text:
            log(f"ignoring status file {self.status_file}: {text!r} is not a status 200..599")
        return None


def fmt_addr(addr):
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main():
    p = argparse.ArgumentParser(description="HTTP/1.1 test backend for Fulcrum's integration tests")
    p.add_argument("--id", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ready-file")
    p.add_argument("--status-file")
    p.add_argument("--idle-timeout", type=int, default=0, metavar="MS")
    p.add_argument("--max-requests", type=int, default=0, metavar="N")
    p.add_argument("--delay", type=int, default=0, metavar="MS")
    p.add_argument("--tls-cert", metavar="FILE")
    p.add_argument("--tls-key", metavar="FILE")
    p.add_argument("--tls-client-ca", metavar="FILE")
    p.add_argument("--tls-max-version", choices=["1.2", "1.3"], default="1.3")
    args = p.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key) or (args.tls_client_ca and not args.tls_cert):
        p.error("--tls-cert and --tls-key go together; --tls-client-ca needs them")
    if not re.fullmatch(r"[\x21-\x7e]+", args.id):
        p.error("--id must be printable ASCII without spaces")
    if not 0 <= args.port <= 65535 or args.idle_timeout < 0 or args.max_requests < 0 or not 0 <= args.delay <= 60000:
        p.error("invalid --port, --idle-timeout, --max-requests or --delay")

    def on_signal(signum, frame):
        try:
            sys.stdout.flush()
        finally:
            os._exit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    threading.stack_size(512 * 1024)

    try:
        server = Server(args)
    except (ssl.SSLError, OSError) as e:
        print(f"httpbackend: cannot load the TLS certificate: {e}", file=sys.stderr)
        return 1
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    try:
        lsock = socket.socket(family, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            lsock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        lsock.bind((args.host, args.port))
        lsock.listen(4096)
    except OSError as e:
        print(f"httpbackend: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    port = lsock.getsockname()[1]
    if args.ready_file:
        try:
            with open(args.ready_file + ".tmp", "w") as f:
                f.write(f"{port}\n")
            os.replace(args.ready_file + ".tmp", args.ready_file)
        except OSError as e:
            print(f"httpbackend: cannot write ready file: {e}", file=sys.stderr)
            return 1
    print(f"ready {'https' if server.tls else 'http'} {fmt_addr((args.host, port))}", flush=True)

    number = 0
    while True:
        try:
            sock, addr = lsock.accept()
        except OSError as e:
            log(f"accept: {e}")
            time.sleep(0.05)
            continue
        number += 1
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(server, sock, fmt_addr(addr), number)
            threading.Thread(target=conn.run, name=f"conn-{number}", daemon=True).start()
        except (OSError, RuntimeError) as e:
            log(f"cannot serve connection {number}: {e}")
            sock.close()


if __name__ == "__main__":
    sys.exit(main())
