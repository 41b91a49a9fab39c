"""A small asyncio HTTP/1.1 client for the soak run and the benchmark (stdlib only).

One request per fresh connection (``Connection: close``), so that a server that answers early and
closes (413 mid-upload, a refused request) never poisons the next request, and "lost" means
exactly one thing: this request got no complete answer.  The body is written while the answer is
read, so an early answer is read even when the server stops reading the upload.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time


@dataclasses.dataclass
class Answer:
    status: int
    headers: list  # [(lower-case name, value)]
    body: bytes
    elapsed: float

    def header(self, name: str, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def header_all(self, name: str) -> list:
        name = name.lower()
        return [v for k, v in self.headers if k == name]


class Lost(Exception):
    """No complete answer: connection refused/reset before the answer, timeout, garbage."""


def build_head(method: str, target: str, headers, *, body_len: int | None, chunked: bool,
               host: str = "sita.test") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    names = set()
    for k, v in headers:
        names.add(k.lower())
        lines.append(f"{k}: {v}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    elif body_len is not None and "content-length" not in names:
        lines.append(f"Content-Length: {body_len}")
    if "connection" not in names:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk_frames(pieces) -> list:
    out = [b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces if p]
    out.append(b"0\r\n\r\n")
    return out


async def _read_answer(reader: asyncio.StreamReader, method: str) -> tuple:
    line = await reader.readline()
    if not line:
        raise Lost("connection closed before the status line")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise Lost(f"bad status line {line[:80]!r}")
    status = int(parts[1])
    headers = []
    while True:
        h = await reader.readline()
        if not h:
            raise Lost("connection closed inside the headers")
        if h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers.append((k.strip().lower(), v.strip()))
    hmap = dict(headers)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, headers, b""
    if "chunked" in hmap.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size_line = await reader.readline()
            if not size_line:
                raise Lost("connection closed inside a chunked answer")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailers
                    t = await reader.readline()
                    if not t or t in (b"\r\n", b"\n"):
                        break
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        return status, headers, b"".join(parts)
    if "content-length" in hmap:
        return status, headers, await reader.readexactly(int(hmap["content-length"]))
    return status, headers, await reader.read()


async def exchange(port: int, head: bytes, pieces=(), *, method: str = "POST", timeout: float = 60.0,
                   piece_delay: float = 0.0) -> Answer:
    """Send ``head`` then ``pieces`` (already framed) on a fresh connection; return the answer.

    Raises ``Lost`` when no complete answer arrives within ``timeout``."""
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, limit=1 << 20), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        raise Lost(f"connect: {e!r}") from None
    answered = asyncio.Event()

    async def send():
        try:
            writer.write(head)
            await writer.drain()
            for i, p in enumerate(pieces):
                if answered.is_set():
                    return  # the server already answered: stop uploading
                if piece_delay and i:
                    await asyncio.sleep(piece_delay)
                writer.write(p)
                await writer.drain()
        except (ConnectionError, OSError):
            pass  # the server answered and closed while we were still sending: fine

    sender = asyncio.ensure_future(send())
    try:
        status, headers, body = await asyncio.wait_for(_read_answer(reader, method), timeout)
        answered.set()
    except asyncio.IncompleteReadError as e:
        raise Lost(f"incomplete answer ({len(e.partial)} bytes)") from None
    except asyncio.TimeoutError:
        raise Lost(f"no answer within {timeout}s") from None
    except (ConnectionError, OSError, ValueError) as e:
        raise Lost(f"{type(e).__name__}: {e}") from None
    finally:
        answered.set()
        try:
            await asyncio.wait_for(sender, 5)
        except (asyncio.TimeoutError, Exception):
            sender.cancel()
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 2)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
    return Answer(status, headers, body, time.monotonic() - t0)


async def request(port: int, method: str, target: str, headers=(), body: bytes | None = None, *,
                  chunks=None, timeout: float = 60.0, piece_delay: float = 0.0) -> Answer:
    """Convenience: plain body (Content-Length) or ``chunks`` (Transfer-Encoding: chunked)."""
    if chunks is not None:
        head = build_head(method, target, headers, body_len=None, chunked=True)
        return await exchange(port, head, chunk_frames(chunks), method=method, timeout=timeout,
                              piece_delay=piece_delay)
    data = body or b""
    send_len = len(data) if (body is not None or method in ("POST", "PUT", "PATCH")) else None
    head = build_head(method, target, headers, body_len=send_len, chunked=False)
    return await exchange(port, head, [data] if data else [], method=method, timeout=timeout)
