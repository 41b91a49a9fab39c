#!/usr/bin/env python3
"""Benchmark: the shipped Envoy bootstrap WITH the Wasm filter vs the same bootstrap WITHOUT it
(bare Envoy), in the same run, in front of the same upstream, for four workloads:

  out_create_small   outbound valid CREATE (fixtures/outbound/create_valid_full.xml, ~0.9 KiB)
  out_create_1mib    outbound CREATE with one 1 MiB attachment (~1.4 MiB of XML)
  out_list_get       outbound LIST INCIDENTS (GET /incidents?ActiveStatus=true)
  in_create_push     inbound CreateIncidentPush -> ServiceNow JSON (bare: the XML is just forwarded)

each sequentially (1 connection) and concurrently (BENCH_CONCURRENCY keep-alive connections), a
fixed number of requests (scaled by BENCH_SCALE).  Reports requests/s, p50 and p99 latency and the
filter/bare ratios.  Nothing fails on timing; the run fails only if an answer is not the expected
one (wrong status), so a broken setup cannot produce a table.

    .venv/bin/python tests/bench/bench.py          # make bench
    BENCH_SCALE=0.1 .venv/bin/python tests/bench/bench.py   # make bench-short
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "support"))
sys.path.insert(0, str(HERE.parents[0] / "soak"))

import aioclient  # noqa: E402
import harness  # noqa: E402

FIXTURES = harness.REPO / "fixtures" / "outbound"
SITA_KEY = "bench-sita-key"
PUSH_KEY = "bench-push-key"
ITSM_AUTH = "Basic YmVuY2g6YmVuY2g="


# ------------------------------------------------------------------------------------------------
# the upstream: one asyncio process, keep-alive, fixed answers (same for filter and bare)
# ------------------------------------------------------------------------------------------------
CREATE_ANSWER = (b"<CreateIncidentResponse><Status>Success</Status><IncidentNumber>INC0010001</IncidentNumber>"
                 b"<CustomerReferenceNumber>CUST-1</CustomerReferenceNumber></CreateIncidentResponse>")
LIST_ANSWER = (b"<ListIncidentsResponse><Status>Success</Status><Incidents><Incident><IncidentNumber>INC0010001"
               b"</IncidentNumber><State>New</State></Incident></Incidents></ListIncidentsResponse>")
SN_ANSWER = json.dumps({"result": {"sys_id": "6bdf53c81e1b430fa027d13585ea8ed4", "number": "INC0010001"}}).encode()


async def _serve_conn(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            if "chunked" in headers.get("transfer-encoding", ""):
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    await reader.readexactly(size + 2)
            elif headers.get("content-length"):
                await reader.readexactly(int(headers["content-length"]))
            if method == "GET":
                status, ctype, body = b"200 OK", b"application/xml", LIST_ANSWER
            elif target.startswith("/api/now/") or target.startswith("/push"):
                status, ctype, body = b"201 Created", b"application/json", SN_ANSWER
            else:
                status, ctype, body = b"201 Created", b"application/xml", CREATE_ANSWER
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


def upstream_main(port_queue):
    async def main():
        server = await asyncio.start_server(_serve_conn, "127.0.0.1", 0, limit=1 << 20)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ------------------------------------------------------------------------------------------------
# keep-alive client
# ------------------------------------------------------------------------------------------------
class Conn:
    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def send(self, raw: bytes, method: str) -> tuple:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
        t0 = time.perf_counter()
        self.writer.write(raw)
        await self.writer.drain()
        status, headers, body = await aioclient._read_answer(self.reader, method)
        elapsed = time.perf_counter() - t0
        if dict(headers).get("connection", "").lower() == "close":
            self.close()
        return status, elapsed

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


def raw_request(method: str, target: str, headers, body: bytes | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: sita.test"] + [f"{k}: {v}" for k, v in headers]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def workloads() -> dict:
    small = (FIXTURES / "create_valid_full.xml").read_bytes()
    minimal = (FIXTURES / "create_valid_minimal.xml").read_bytes().decode()
    data = base64.b64encode(bytes(range(256)) * 4096).decode()  # 1 MiB decoded
    big = minimal.replace("</CreateIncidentRequest>", "<Attachments><Attachment><FileName>big.bin</FileName>"
                          f"<FileData>{data}</FileData></Attachment></Attachments></CreateIncidentRequest>").encode()
    push = (b"<CreateIncidentPush><IncidentNumber>INC0012345</IncidentNumber><ShortDescription>Printer on fire"
            b"</ShortDescription><Description>Gate B12 kiosk does not print boarding passes</Description>"
            b"<State>New</State><Priority>2</Priority><OpenedAt>2024-05-01 10:00:00</OpenedAt>"
            b"<AffectedEndUser>Jane Doe</AffectedEndUser><AssignmentGroup>Service Desk</AssignmentGroup>"
            b"<Comments>Reported by the gate agent</Comments></CreateIncidentPush>")
    xml = [("Content-Type", "application/xml"), ("apikey", "client-key")]
    return {  # name: (direction, raw request, expected status with filter, expected status bare, base count)
        "out_create_small": ("outbound", raw_request("POST", "/incident", xml, small), 201, 201, 3000),
        "out_create_1mib": ("outbound", raw_request("POST", "/incident", xml, big), 201, 201, 300),
        "out_list_get": ("outbound", raw_request("GET", "/incidents?ActiveStatus=true", [("apikey", "c")], None),
                         200, 200, 3000),
        "in_create_push": ("inbound", raw_request("POST", "/push", [("Content-Type", "application/xml"),
                                                                     ("apikey", PUSH_KEY)], push), 200, 201, 3000),
    }


async def measure(port: int, raw: bytes, method: str, expect: int, count: int, concurrency: int) -> dict:
    lat = []
    errors = []
    it = iter(range(count))

    async def worker():
        conn = Conn(port)
        try:
            for _ in it:
                try:
                    status, elapsed = await conn.send(raw, method)
                except (ConnectionError, asyncio.IncompleteReadError, aioclient.Lost) as e:
                    errors.append(repr(e))
                    conn.close()
                    continue
                if status != expect:
                    errors.append(f"HTTP {status}")
                lat.append(elapsed)
        finally:
            conn.close()

    # warm-up outside the measurement
    warm = Conn(port)
    for _ in range(min(50, count)):
        await warm.send(raw, method)
    warm.close()
    t0 = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    wall = time.perf_counter() - t0
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3 if lat else float("nan")  # noqa: E731
    return {"count": count, "rps": count / wall, "p50": q(0.50), "p99": q(0.99), "errors": errors}


async def run(args) -> int:
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    up = ctx.Process(target=upstream_main, args=(ports,), daemon=True)
    up.start()
    upstream_port = ports.get(timeout=30)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    envoys = {}
    results = []
    try:
        for direction, env in (("outbound", {"SITA_APIKEY": SITA_KEY}),
                               ("inbound", {"SITA_PUSH_APIKEY": PUSH_KEY, "ITSM_AUTH": ITSM_AUTH})):
            for with_wasm in (True, False):
                boot = harness.render_config(direction, filter_config=None, admin_port=harness.free_port(),
                                             listener_port=harness.free_port(), upstream_port=upstream_port,
                                             with_wasm=with_wasm)
                name = f"{direction}-{'filter' if with_wasm else 'bare'}"
                envoys[(direction, with_wasm)] = harness.EnvoyProcess(boot, out, env, name=name,
                                                                      log_level="warn").start()
        for name, (direction, raw, exp_filter, exp_bare, base) in workloads().items():
            method = raw.split(b" ", 1)[0].decode()
            count = max(20, int(base * args.scale))
            for mode, conc in (("sequential", 1), ("concurrent", args.concurrency)):
                row = {"workload": name, "mode": mode, "concurrency": conc}
                for with_wasm, label, exp in ((True, "filter", exp_filter), (False, "bare", exp_bare)):
                    port = envoys[(direction, with_wasm)].port
                    row[label] = await measure(port, raw, method, exp, count, conc)
                results.append(row)
                f, b = row["filter"], row["bare"]
                print(f"{name:17} {mode:10} c={conc:<3} n={count:<5} filter {f['rps']:8.0f} req/s "
                      f"p50 {f['p50']:7.2f} p99 {f['p99']:7.2f} ms | bare {b['rps']:8.0f} req/s p50 {b['p50']:7.2f} "
                      f"p99 {b['p99']:7.2f} ms | rps ratio {f['rps'] / b['rps']:.2f}, p50 ratio "
                      f"{f['p50'] / b['p50']:.2f}", flush=True)
    finally:
        for e in envoys.values():
            e.stop()
        up.terminate()
        up.join(5)
    errors = [(r["workload"], r["mode"], k, r[k]["errors"][:3]) for r in results for k in ("filter", "bare")
              if r[k]["errors"]]
    print(table(results, args))
    (out / "bench.json").write_text(json.dumps({"machine": machine(), "results": results}, indent=1))
    if errors:
        print("UNEXPECTED ANSWERS:", errors)
        return 1
    return 0


def machine() -> str:
    return f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"


def table(results, args) -> str:
    lines = [f"\nmachine: {machine()}; Envoy --concurrency 1 each; client and upstream in Python asyncio, keep-alive",
             "| workload | mode | n | filter req/s | bare req/s | req/s filter/bare | filter p50 / p99 ms | "
             "bare p50 / p99 ms | p50 filter/bare | p99 filter/bare |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        f, b = r["filter"], r["bare"]
        lines.append(f"| {r['workload']} | {r['mode']} (c={r['concurrency']}) | {f['count']} | {f['rps']:.0f} | "
                     f"{b['rps']:.0f} | {f['rps'] / b['rps']:.2f} | {f['p50']:.2f} / {f['p99']:.2f} | "
                     f"{b['p50']:.2f} / {b['p99']:.2f} | {f['p50'] / b['p50']:.2f} | {f['p99'] / b['p99']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=float(env("BENCH_SCALE", "1")))
    ap.add_argument("--concurrency", type=int, default=int(env("BENCH_CONCURRENCY", "16")))
    ap.add_argument("--out", default=env("BENCH_OUT", str(harness.REPO / ".run" / "bench")))
    args = ap.parse_args(argv)
    if not harness.WASM.exists():
        print(f"{harness.WASM} is missing: run `make build`", file=sys.stderr)
        return 2
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
