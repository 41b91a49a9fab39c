#!/usr/bin/env python3
"""Soak run: a bounded, seeded mix of valid, invalid and hostile requests through two real Envoys
(the shipped envoy/outbound.yaml and envoy/inbound.yaml, rendered by tests/support/harness.py) in
front of the recording SITA and ServiceNow stand-ins.  Every answer is checked; so is what each
upstream received (exact bytes outbound, exact JSON inbound), correlated by ``x-soak-id``.

    SOAK_REQUESTS=100000 SOAK_CONCURRENCY=32 .venv/bin/python tests/soak/soak.py
    make soak          # the same, defaults 100000 / 32
    make soak-short    # SOAK_REQUESTS=5000 (CI)

Knobs (environment or flags): SOAK_REQUESTS, SOAK_CONCURRENCY, SOAK_SEED, SOAK_TIME_LIMIT (seconds;
the run stops by itself and fails when it is reached), SOAK_MAX_GROWTH_MB (memory growth allowed
between the warm-up and the end), SOAK_OUT (logs + summary.json, default .run/soak).

Exit status 0 only when no request was lost, none mismatched, nothing invalid reached an upstream,
no upstream request was left uncorrelated, no Wasm VM failed or was recreated, no secret appeared
in a log, and Envoy's memory did not grow beyond the bound.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "support"))
sys.path.insert(0, str(HERE))

import aioclient  # noqa: E402
import cases  # noqa: E402
import harness  # noqa: E402
from servicenow_stub import ServiceNowStub  # noqa: E402
from sita_stub import SitaStub  # noqa: E402

MiB = 1024 * 1024


# ------------------------------------------------------------------------------------------------
# upstream side: what arrived, by x-soak-id, kept small (digests, not bodies)
# ------------------------------------------------------------------------------------------------
class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.arrived = collections.defaultdict(list)   # soak id -> [upstream name] (at header time)
        self.complete = collections.defaultdict(list)  # soak id -> [summary dict]
        self.uncorrelated = []                         # requests without x-soak-id
        self.total = 0

    def arrive(self, upstream: str, rec):
        sid = rec.header("x-soak-id")
        with self.lock:
            self.total += 1
            if sid is None:
                self.uncorrelated.append(f"{upstream}: {rec.method} {rec.target}")
            else:
                self.arrived[sid].append(upstream)

    def finish(self, upstream: str, rec):
        sid = rec.header("x-soak-id")
        if sid is None:
            return
        body = rec.body
        summary = {"upstream": upstream, "method": rec.method, "target": rec.target, "headers": rec.headers,
                   "trailers": rec.trailers, "body_sha256": hashlib.sha256(body).hexdigest(), "body_len": len(body)}
        if upstream == "itsm" and len(body) < 4 * MiB:
            try:
                summary["json"] = json.loads(body)
            except ValueError:
                summary["json"] = None
        with self.lock:
            self.complete[sid].append(summary)

    def take(self, sid: str) -> tuple:
        with self.lock:
            return self.arrived.pop(sid, []), self.complete.pop(sid, [])


class SoakSita(SitaStub):
    """The SITA stand-in, recording into the ledger instead of keeping every body in memory."""

    name = "sita"
    _root = re.compile(rb"<(?:[\w.-]+:)?(CreateIncidentRequest|UpdateIncidentRequest)[\s>/]")
    _crn = re.compile(rb"<(?:[\w.-]+:)?CustomerReferenceNumber>\s*(?:<!\[CDATA\[)?([^<\]]*?)\s*[<\]]")

    def __init__(self, ledger: Ledger):
        super().__init__()
        self.ledger = ledger

    def _add(self, rec):
        self.ledger.arrive("sita", rec)

    def _completed(self, rec):
        self.ledger.finish("sita", rec)

    def respond(self, rec):
        if len(rec.body) <= 256 * 1024:
            return super().respond(rec)
        # large bodies: the same answers without building a tree of 10 MiB in Python
        m, crn = self._root.search(rec.body[:4096]), self._crn.search(rec.body)
        crn = crn.group(1).decode("utf-8", "replace") if crn else ""
        if m and m.group(1) == b"CreateIncidentRequest":
            return 201, [("Content-Type", "application/xml")], (
                "<CreateIncidentResponse><Status>Success</Status><IncidentNumber>INC0099999</IncidentNumber>"
                f"<CustomerReferenceNumber>{crn}</CustomerReferenceNumber></CreateIncidentResponse>")
        return 200, [("Content-Type", "application/xml")], "<Status>OK</Status>"


class SoakServiceNow(ServiceNowStub):
    name = "servicenow"

    def __init__(self, ledger: Ledger):
        super().__init__()
        self.ledger = ledger
        self._respond_lock = threading.Lock()

    def _add(self, rec):
        self.ledger.arrive("itsm", rec)

    def _completed(self, rec):
        self.ledger.finish("itsm", rec)

    def respond(self, rec):
        with self._respond_lock:  # the stub's tables are not thread-safe; keep them small too
            answer = super().respond(rec)
            self.attachments.clear()
            if len(self.incidents) > 1000:
                known = self.incidents[cases.KNOWN_SYS_ID]
                self.incidents = {cases.KNOWN_SYS_ID: known}
            return answer


# ------------------------------------------------------------------------------------------------
# checking one exchange
# ------------------------------------------------------------------------------------------------
def check(case: cases.Case, ans: aioclient.Answer, arrived: list, complete: list) -> list:
    """Every way ``ans`` and the upstream records differ from the case's expectation."""
    bad = []
    if ans.status != case.status:
        bad.append(f"status {ans.status}, expected {case.status}")
    code = ans.header("x-sm-error-code")
    if code != case.code:
        bad.append(f"x-sm-error-code {code!r}, expected {case.code!r}")
    if case.code is not None:
        try:
            err = harness.parse_error(ans.body)
        except (ValueError, SyntaxError) as e:
            err = {"code": None, "comments": None, "status": f"unreadable ErrorResponse: {e}"}
        if err["code"] != case.code or err["status"] != "Failure":
            bad.append(f"ErrorResponse code {err['code']!r} status {err['status']!r}")
        if case.comments is not None and err["comments"] != case.comments:
            bad.append(f"ErrorResponse comments {err['comments']!r}, expected {case.comments!r}")
    for needle in case.answer_contains:
        if needle not in ans.body:
            bad.append(f"answer lacks {needle[:60]!r}")
    for k, v in ans.headers:
        for s in cases.SECRETS:
            if s in v:
                bad.append(f"secret in answer header {k}")
    for s in cases.SECRETS:
        if s.encode() in ans.body:
            bad.append("secret in answer body")
    fwd = case.forward
    if fwd is None:
        return bad  # arrivals of a refused request are counted separately
    if len(complete) != 1 or len(arrived) != 1:
        bad.append(f"upstream received {len(complete)} complete / {len(arrived)} started requests, expected 1")
        if not complete:
            return bad
    got = complete[0]
    if got["upstream"] != fwd["upstream"]:
        bad.append(f"reached {got['upstream']}, expected {fwd['upstream']}")
    if got["method"] != fwd["method"]:
        bad.append(f"upstream method {got['method']}, expected {fwd['method']}")
    if got["target"] != fwd["target"]:
        bad.append(f"upstream target {got['target']!r}, expected {fwd['target']!r}")
    hdrs = [(k.lower(), v) for k, v in got["headers"]]
    values = [v for _, v in hdrs] + [v for _, v in got["trailers"]]
    if cases.CLIENT_KEY in " ".join(values):
        bad.append("the client's own apikey was forwarded")
    if fwd["upstream"] == "sita":
        if "body_sha256" in fwd and got["body_sha256"] != fwd["body_sha256"]:
            bad.append(f"upstream body differs from the client's ({got['body_len']} bytes)")
        keys = [v for k, v in hdrs if k == "apikey"]
        if keys != [cases.SITA_KEY]:
            bad.append(f"apikey upstream is {len(keys)} value(s), not exactly the configured key")
        if cases.ITSM_AUTH in values or cases.PUSH_KEY in values:
            bad.append("an inbound secret reached SITA")
    else:
        if any(k == "apikey" for k, _ in hdrs) or cases.PUSH_KEY in " ".join(values):
            bad.append("SITA's push key reached the ITSM")
        if [v for k, v in hdrs if k == "authorization"] != [cases.ITSM_AUTH]:
            bad.append("ITSM credential missing or not exactly once")
        if dict(hdrs).get("x-sita-incident-number") != fwd["incident"]:
            bad.append("x-sita-incident-number")
        if not dict(hdrs).get("content-type", "").startswith("application/json"):
            bad.append("content-type to the ITSM is not application/json")
        doc = got.get("json")
        if "json" in fwd and doc != fwd["json"]:
            bad.append(f"ITSM JSON {json.dumps(doc)[:300]} != expected {json.dumps(fwd['json'])[:300]}")
        if "batch" in fwd:
            bad += check_batch(doc, fwd["batch"])
    return bad


def check_batch(doc, expected: list) -> list:
    if not isinstance(doc, dict) or not isinstance(doc.get("rest_requests"), list):
        return ["batch body is not ServiceNow's batch request"]
    subs = doc["rest_requests"]
    if len(subs) != len(expected):
        return [f"batch has {len(subs)} sub-requests, expected {len(expected)}"]
    bad = []
    for sub, exp in zip(subs, expected):
        if sub.get("method") != "POST":
            bad.append("batch sub-request method")
        if urllib.parse.unquote(sub.get("url", "")) != exp["url"]:
            bad.append(f"batch url {sub.get('url')!r} != {exp['url']!r}")
        ctype = {h.get("name", "").lower(): h.get("value") for h in sub.get("headers", [])}.get("content-type")
        if ctype != exp["content_type"]:
            bad.append(f"batch content-type {ctype!r} != {exp['content_type']!r}")
        try:
            data = base64.b64decode(sub.get("body", ""), validate=True)
        except ValueError:
            data = b"not base64"
        if hashlib.sha256(data).hexdigest() != exp["sha256"]:
            bad.append("batch sub-request bytes differ from the pushed FileData")
    return bad


# ------------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------------
class Tally:
    def __init__(self):
        self.done = 0
        self.by_kind = collections.Counter()
        self.lost = []
        self.mismatched = []
        self.leaked = []  # invalid request reached an upstream
        self.latency = collections.defaultdict(list)

    def ok(self) -> bool:
        return not (self.lost or self.mismatched or self.leaked)


def admin_get(env: harness.EnvoyProcess, path: str) -> bytes:
    return env.admin(path)


def snapshot(env: harness.EnvoyProcess) -> dict:
    stats = env.stats_json()
    mem = json.loads(env.admin("/memory"))
    keep = {k: v for k, v in stats.items()
            if k.startswith("wasm.") or k.startswith("server.memory") or "downstream_rq_" in k
            or k.endswith(".rs_too_large") or k.startswith("wasmcustom.") or "upstream_rq_5xx" in k}
    rss = 0
    try:
        for line in Path(f"/proc/{env.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"stats": keep, "memory": {k: int(v) for k, v in mem.items() if str(v).isdigit()}, "rss": rss,
            "time": time.time()}


async def run(args) -> int:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger()
    sita, itsm = SoakSita(ledger).start(), SoakServiceNow(ledger).start()
    envs = {}
    try:
        for direction, upstream, env in (("outbound", sita, {"SITA_APIKEY": cases.SITA_KEY}),
                                         ("inbound", itsm, {"SITA_PUSH_APIKEY": cases.PUSH_KEY,
                                                            "ITSM_AUTH": cases.ITSM_AUTH})):
            boot = harness.render_config(direction, filter_config=None, admin_port=harness.free_port(),
                                         listener_port=harness.free_port(), upstream_port=upstream.port)
            log = out / f"envoy-{direction}.log"
            if log.exists():
                log.unlink()
            envs[direction] = harness.EnvoyProcess(boot, out, env, name=f"envoy-{direction}").start()
        return await drive(args, envs, ledger, out)
    finally:
        for e in envs.values():
            e.stop()
        sita.stop()
        itsm.stop()


async def drive(args, envs: dict, ledger: Ledger, out: Path) -> int:
    tally = Tally()
    n, conc = args.requests, args.concurrency
    warm_at = min(n, max(200, n // 20))
    snaps = {"start": {d: snapshot(e) for d, e in envs.items()}}
    counter = iter(range(n))
    t0 = time.monotonic()
    deadline = t0 + args.time_limit
    timed_out = False
    ports = {d: e.port for d, e in envs.items()}
    rss_max = {d: 0 for d in envs}

    async def one(i: int):
        case = cases.make_case(args.seed, i)
        port = ports[case.direction]
        if case.declared_length is not None:
            head = aioclient.build_head(case.method, case.target, case.headers + [("Content-Length",
                                        str(case.declared_length))], body_len=None, chunked=False)
            coro = aioclient.exchange(port, head, [], method=case.method, timeout=args.timeout)
        elif case.chunks is not None:
            coro = aioclient.request(port, case.method, case.target, case.headers, chunks=case.chunks,
                                     timeout=args.timeout, piece_delay=case.piece_delay)
        else:
            coro = aioclient.request(port, case.method, case.target, case.headers, case.body, timeout=args.timeout)
        try:
            ans = await coro
        except aioclient.Lost as e:
            tally.lost.append(f"{case.uid} {case.kind}: {e}")
            ledger.take(case.uid)
            return
        arrived, complete = ledger.take(case.uid)
        if case.forward is None and arrived:
            tally.leaked.append(f"{case.uid} {case.kind}: reached {arrived}")
        problems = check(case, ans, arrived, complete)
        if problems:
            tally.mismatched.append(f"{case.uid} {case.kind}: " + "; ".join(problems)
                                    + f"\n    answer: HTTP {ans.status} {ans.body[:300]!r}")
        tally.by_kind[case.kind.split(".chunked")[0]] += 1
        tally.latency[case.category].append(ans.elapsed)

    async def worker():
        nonlocal timed_out
        for i in counter:
            if time.monotonic() > deadline:
                timed_out = True
                return
            await one(i)
            tally.done += 1

    async def monitor():
        last, last_t = 0, time.monotonic()
        while True:
            await asyncio.sleep(args.progress)
            now = time.monotonic()
            for d, e in envs.items():
                rss_max[d] = max(rss_max[d], snapshot_rss(e))
            print(f"[soak] {tally.done}/{n} done, {(tally.done - last) / (now - last_t):.0f} req/s, "
                  f"lost {len(tally.lost)}, mismatched {len(tally.mismatched)}, leaked {len(tally.leaked)}, "
                  f"elapsed {now - t0:.0f}s", flush=True)
            last, last_t = tally.done, now

    async def warm_snapshot():
        while tally.done < warm_at:
            await asyncio.sleep(0.2)
        snaps["warm"] = {d: snapshot(e) for d, e in envs.items()}

    mon = asyncio.ensure_future(monitor())
    warm = asyncio.ensure_future(warm_snapshot())
    await asyncio.gather(*[worker() for _ in range(conc)])
    elapsed = time.monotonic() - t0
    mon.cancel()
    if not warm.done():
        warm.cancel()
        snaps["warm"] = snaps["start"]
    await asyncio.sleep(2)  # let Envoy release what the last exchanges held
    snaps["end"] = {d: snapshot(e) for d, e in envs.items()}
    # anything that reached an upstream and was never claimed by an answered valid request
    with ledger.lock:
        stray = {sid: ups for sid, ups in ledger.arrived.items()}
    for d, e in envs.items():
        rss_max[d] = max(rss_max[d], snapshot_rss(e))
    return report(args, tally, ledger, stray, snaps, envs, elapsed, timed_out, rss_max, out)


def snapshot_rss(env) -> int:
    try:
        for line in Path(f"/proc/{env.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pct(values, q):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


VM_FAIL_PATTERNS = re.compile(r"panicked|wasm.*(fail|crash|abort|trap)|Plugin.*fail|VM.*(fail|restart)|"
                              r"sita-sm-filter: internal error|\]\[critical\]", re.I)


def report(args, tally, ledger, stray, snaps, envs, elapsed, timed_out, rss_max, out) -> int:
    failures = []
    if timed_out:
        failures.append(f"time limit {args.time_limit}s reached after {tally.done} of {args.requests} requests")
    if tally.lost:
        failures.append(f"{len(tally.lost)} lost")
    if tally.mismatched:
        failures.append(f"{len(tally.mismatched)} mismatched")
    if tally.leaked:
        failures.append(f"{len(tally.leaked)} invalid requests reached an upstream")
    if stray:
        failures.append(f"{len(stray)} upstream requests not claimed by any answered valid request")
    if ledger.uncorrelated:
        failures.append(f"{len(ledger.uncorrelated)} upstream requests without x-soak-id")
    vm = {}
    for d, e in envs.items():
        s0, s1 = snaps["start"][d]["stats"], snaps["end"][d]["stats"]
        wasm_keys = sorted(k for k in set(s0) | set(s1) if k.startswith("wasm.") and not k.startswith("wasmcustom."))
        vm[d] = {k: (s0.get(k, 0), s1.get(k, 0)) for k in wasm_keys}
        for k, (a, b) in vm[d].items():
            if (k.endswith("vm_reload") or "failure" in k or "fail" in k or k.endswith(".created")) and b != a:
                failures.append(f"{d}: {k} went {a} -> {b}")
        if s1.get("wasm.envoy.wasm.runtime.v8.active", 0) < s0.get("wasm.envoy.wasm.runtime.v8.active", 0):
            failures.append(f"{d}: fewer active V8 VMs at the end")
        log = e.log_text()
        bad_lines = [ln for ln in log.splitlines() if VM_FAIL_PATTERNS.search(ln)]
        if bad_lines:
            failures.append(f"{d}: {len(bad_lines)} log lines about VM/filter failures, first: {bad_lines[0][:300]}")
        for s in cases.SECRETS:
            if s in log:
                failures.append(f"{d}: a secret appears in Envoy's log")
        if not e.alive:
            failures.append(f"{d}: Envoy exited")
    mem = {}
    for d in envs:
        a0 = snaps["warm"][d]["stats"].get("server.memory_allocated", 0)
        a1 = snaps["end"][d]["stats"].get("server.memory_allocated", 0)
        r0, r1 = snaps["warm"][d]["rss"], snaps["end"][d]["rss"]
        mem[d] = {"allocated_start": snaps["start"][d]["stats"].get("server.memory_allocated", 0),
                  "allocated_warm": a0, "allocated_end": a1, "rss_start": snaps["start"][d]["rss"],
                  "rss_warm": r0, "rss_end": r1, "rss_max": rss_max[d]}
        limit = args.max_growth_mb * MiB
        if a1 - a0 > limit:
            failures.append(f"{d}: server.memory_allocated grew {(a1 - a0) / MiB:.1f} MiB after warm-up")
        if r1 - r0 > limit:
            failures.append(f"{d}: RSS grew {(r1 - r0) / MiB:.1f} MiB after warm-up")

    cats = collections.Counter()
    for k, v in tally.by_kind.items():
        cats[".".join(k.split(".")[:2])] += v
    lines = [
        "=" * 78,
        f"soak: {tally.done} requests (asked {args.requests}), concurrency {args.concurrency}, seed {args.seed}",
        f"      {elapsed:.1f}s, {tally.done / elapsed if elapsed else 0:.0f} req/s overall",
        "      mix: " + ", ".join(f"{k} {v}" for k, v in sorted(cats.items())),
        f"      lost {len(tally.lost)}, mismatched {len(tally.mismatched)}, invalid reached upstream "
        f"{len(tally.leaked)}, stray upstream {len(stray)}, uncorrelated upstream {len(ledger.uncorrelated)}",
        f"      upstream requests received: {ledger.total}",
        "      latency by category (p50 / p99 / max, ms): " + ", ".join(
            f"{c} {pct(v, .5) * 1e3:.1f}/{pct(v, .99) * 1e3:.1f}/{max(v) * 1e3:.0f}"
            for c, v in sorted(tally.latency.items())),
    ]
    for d in envs:
        m = mem[d]
        lines.append(f"      {d}: server.memory_allocated start {m['allocated_start'] / MiB:.1f} MiB, "
                     f"after warm-up {m['allocated_warm'] / MiB:.1f}, end {m['allocated_end'] / MiB:.1f}; "
                     f"RSS start {m['rss_start'] / MiB:.0f} MiB, warm {m['rss_warm'] / MiB:.0f}, "
                     f"end {m['rss_end'] / MiB:.0f}, max {m['rss_max'] / MiB:.0f}")
        lines.append(f"      {d}: " + ", ".join(f"{k} {a}->{b}" for k, (a, b) in vm[d].items()
                                                  if not k.startswith("wasm.remote_load")))
    for title, items in (("LOST", tally.lost), ("MISMATCHED", tally.mismatched), ("REACHED UPSTREAM", tally.leaked),
                         ("STRAY", [f"{k}: {v}" for k, v in list(stray.items())]), ("UNCORRELATED", ledger.uncorrelated)):
        if items:
            lines.append(f"{title} (first 20 of {len(items)}):")
            lines += ["  " + x for x in items[:20]]
    lines.append("RESULT: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
    print("\n".join(lines), flush=True)
    summary = {"requests": tally.done, "asked": args.requests, "concurrency": args.concurrency, "seed": args.seed,
               "elapsed_s": round(elapsed, 1), "by_kind": dict(tally.by_kind), "by_category": dict(cats),
               "lost": tally.lost, "mismatched": tally.mismatched, "leaked": tally.leaked, "stray": list(stray),
               "uncorrelated": ledger.uncorrelated, "upstream_total": ledger.total, "memory": mem, "wasm_stats": vm,
               "snapshots": snaps, "failures": failures,
               "latency_ms": {c: {"p50": pct(v, .5) * 1e3, "p99": pct(v, .99) * 1e3, "max": max(v) * 1e3}
                              for c, v in tally.latency.items()}}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"summary: {out / 'summary.json'}; Envoy logs in {out}", flush=True)
    return 0 if not failures else 1


def main(argv=None) -> int:
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=int(env("SOAK_REQUESTS", "100000")))
    ap.add_argument("--concurrency", type=int, default=int(env("SOAK_CONCURRENCY", "32")))
    ap.add_argument("--seed", type=int, default=int(env("SOAK_SEED", "20240601")))
    ap.add_argument("--time-limit", type=float, default=float(env("SOAK_TIME_LIMIT", "3600")))
    ap.add_argument("--timeout", type=float, default=float(env("SOAK_REQUEST_TIMEOUT", "60")),
                    help="seconds one exchange may take before it counts as lost")
    ap.add_argument("--max-growth-mb", type=float, default=float(env("SOAK_MAX_GROWTH_MB", "64")))
    ap.add_argument("--progress", type=float, default=float(env("SOAK_PROGRESS", "10")))
    ap.add_argument("--out", default=env("SOAK_OUT", str(harness.REPO / ".run" / "soak")))
    args = ap.parse_args(argv)
    if not harness.WASM.exists():
        print(f"{harness.WASM} is missing: run `make build`", file=sys.stderr)
        return 2
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
