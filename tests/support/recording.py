"""A recording HTTP/1.1 server (stdlib only) that the demo upstreams build on.

It keeps exactly what it received — method, request target (path and query), headers in order,
raw body bytes (chunked bodies de-chunked, trailers kept) — in memory for tests, and lets a test
force the status, headers and body of the next answer(s).  A request is recorded as soon as its
headers arrive (``complete`` turns true once its body is read), so even a request abandoned
half-way shows up: "nothing reached the upstream" really means nothing.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Recorded", "Forced", "RecordingServer"]


@dataclasses.dataclass
class Recorded:
    method: str
    target: str  # path + query, exactly as received
    headers: list  # [(name, value)] in the order received
    body: bytes = b""
    trailers: list = dataclasses.field(default_factory=list)
    chunked: bool = False
    complete: bool = False
    received_at: float = dataclasses.field(default_factory=time.time)

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urllib.parse.urlsplit(self.target).query

    @property
    def params(self) -> dict:
        return dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))

    def header(self, name: str, default=None):
        """First value of a header, name matched case-insensitively."""
        values = self.header_all(name)
        return values[0] if values else default

    def header_all(self, name: str) -> list:
        name = name.lower()
        return [v for (k, v) in self.headers if k.lower() == name]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def describe(self, limit: int = 2000) -> str:
        lines = [f"{self.method} {self.target}"]
        lines += [f"  {k}: {v}" for k, v in self.headers]
        body = self.body[:limit].decode("utf-8", "replace")
        more = f" ... ({len(self.body)} bytes)" if len(self.body) > limit else ""
        lines.append(f"  body: {body}{more}")
        if self.trailers:
            lines += [f"  trailer {k}: {v}" for k, v in self.trailers]
        return "\n".join(lines)


@dataclasses.dataclass
class Forced:
    status: int
    body: bytes = b""
    headers: list = dataclasses.field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "recording-upstream"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: the server logs requests itself when verbose
        pass

    def _dispatch(self):
        srv: RecordingServer = self.server  # type: ignore[assignment]
        rec = Recorded(self.command, self.path, list(self.headers.items()))
        srv._add(rec)
        try:
            self._read_body(rec)
        except (ConnectionError, ValueError, socket.timeout):
            self.close_connection = True
            return
        rec.complete = True
        srv._completed(rec)
        forced = srv._take_forced()
        if forced is not None:
            status, headers, body = forced.status, forced.headers, forced.body
        else:
            status, headers, body = srv.respond(rec)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        names = {k.lower() for k, _ in headers}
        for k, v in headers:
            self.send_header(k, v)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _read_body(self, rec: Recorded):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            rec.chunked = True
            parts = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunk size")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    break
                data = self.rfile.read(size)
                if len(data) != size:
                    raise ConnectionError("eof in chunk")
                parts.append(data)
                self.rfile.readline(3)  # CRLF after the chunk
            rec.body = b"".join(parts)
            while True:  # trailers, then the empty line
                line = self.rfile.readline(65537)
                if not line or line in (b"\r\n", b"\n"):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                rec.trailers.append((k.strip(), v.strip()))
        else:
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n else b""
            if len(data) != n:
                raise ConnectionError("eof in body")
            rec.body = data

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class RecordingServer(ThreadingHTTPServer):
    """Records every request; ``respond(rec)`` (overridden) builds the normal answer."""

    daemon_threads = True
    allow_reuse_address = True
    name = "upstream"

    def __init__(self, port: int = 0, host: str = "127.0.0.1", verbose: bool = False):
        super().__init__((host, port), _Handler)
        self.verbose = verbose
        self.requests: list[Recorded] = []
        self._forced: collections.deque[Forced] = collections.deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "RecordingServer":
        self._thread = threading.Thread(target=self.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- what tests use ----------------------------------------------------------------------
    def reset(self):
        """Forget recorded requests and forced answers."""
        with self._cond:
            self.requests.clear()
            self._forced.clear()

    def force_next(self, status: int, body=b"", headers=None, content_type=None, times: int = 1):
        """Answer the next ``times`` requests with this status/body instead of the normal answer."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            content_type = content_type or "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = list(headers or [])
        if content_type:
            hdrs.append(("Content-Type", content_type))
        with self._cond:
            for _ in range(times):
                self._forced.append(Forced(status, body, hdrs))

    def received(self) -> list[Recorded]:
        with self._cond:
            return list(self.requests)

    def wait_for(self, n: int = 1, timeout: float = 5.0) -> list[Recorded]:
        """Wait until ``n`` complete requests were received; returns all requests so far."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while sum(r.complete for r in self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self.requests)

    # --- internals ---------------------------------------------------------------------------
    def _add(self, rec: Recorded):
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()

    def _completed(self, rec: Recorded):
        if self.verbose:
            print(f"[{self.name}] received:\n{rec.describe()}", file=sys.stderr, flush=True)
        with self._cond:
            self._cond.notify_all()

    def _take_forced(self):
        with self._cond:
            return self._forced.popleft() if self._forced else None

    def respond(self, rec: Recorded):
        return 200, [("Content-Type", "text/plain")], b"ok\n"
