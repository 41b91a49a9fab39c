#!/usr/bin/env python3
"""`make run`: both demonstration upstreams and both Envoys, in the foreground until Ctrl-C.

  SITA Incident API stand-in   127.0.0.1:18081   (checks apikey = $SITA_APIKEY)
  ServiceNow stand-in          127.0.0.1:18082   (checks Authorization = $ITSM_AUTH)
  outbound Envoy               127.0.0.1:10000   admin :9901   envoy/outbound.yaml as shipped
  inbound Envoy                127.0.0.1:10001   admin :9902   envoy/inbound.yaml as shipped

Demo keys come from the environment when set, else SITA_APIKEY=demo-sita-key,
SITA_PUSH_APIKEY=demo-push-key, ITSM_AUTH='Basic ZGVtbzpkZW1v'.  Envoy logs go to .run/.
Every request the upstreams receive is printed (method, path, headers, body).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from servicenow_stub import KNOWN_SYS_ID, ServiceNowStub  # noqa: E402
from sita_stub import SitaStub  # noqa: E402

DEMO_ENV = {
    "SITA_APIKEY": "demo-sita-key",
    "SITA_PUSH_APIKEY": "demo-push-key",
    "ITSM_AUTH": "Basic ZGVtbzpkZW1v",
}


def curl_help(env: dict, outbound: bool, inbound: bool) -> str:
    o, i = "http://127.0.0.1:10000", "http://127.0.0.1:10001"
    x = "-H 'Content-Type: application/xml'"
    lines = ["", "Try it (from the repository root):", ""]
    if outbound:
        lines += [
            "# outbound (ITSM -> SITA): a valid CREATE, forwarded with the SITA apikey injected",
            f"curl -i {o}/incident {x} --data-binary @fixtures/outbound/create_valid_full.xml",
            "# an invalid CREATE (no ShortDescription): E004, answered by the filter, never reaches SITA",
            f"curl -i {o}/incident {x} --data-binary @fixtures/outbound/create_missing_shortdescription.xml",
            "# an UPDATE",
            f"curl -i -X PUT {o}/incident {x} --data-binary @fixtures/outbound/update_valid_full.xml",
            "# LIST, then LIST without ActiveStatus (E012)",
            f"curl -i '{o}/incidents?ActiveStatus=true&FromTimeStamp=2024-01-01+00:00:00'",
            f"curl -i '{o}/incidents'",
            "",
        ]
    if inbound:
        k = f"-H 'apikey: {env['SITA_PUSH_APIKEY']}'"
        lines += [
            "# inbound (SITA push -> ServiceNow): CREATE push -> POST /api/now/table/incident",
            f"curl -i {i}/push {x} {k} --data-binary @fixtures/inbound/create_push.xml",
            f"# UPDATE push -> PATCH /api/now/table/incident/{KNOWN_SYS_ID}",
            f"curl -i {i}/push {x} {k} --data-binary @fixtures/inbound/update_push.xml",
            "# UPDATE ATTACHMENTS push -> POST /api/now/v1/batch",
            f"curl -i {i}/push {x} {k} --data-binary @fixtures/inbound/attachment_push.xml",
            "# a push with a wrong apikey: E001, 401",
            f"curl -i {i}/push {x} -H 'apikey: wrong' --data-binary @fixtures/inbound/create_push.xml",
            "",
        ]
    lines += ["Metrics: curl -s http://127.0.0.1:9901/stats/prometheus | grep -i wasm",
              "Envoy logs: .run/envoy-outbound.log, .run/envoy-inbound.log", "Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def main() -> int:
    env = {k: os.environ.get(k) or v for k, v in DEMO_ENV.items()}
    if not harness.WASM.exists():
        print(f"{harness.WASM} is missing: run `make build`", file=sys.stderr)
        return 1
    run_dir = harness.REPO / ".run"
    started: list = []
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        try:
            sita = SitaStub(18081, apikey=env["SITA_APIKEY"], verbose=True).start()
            started.append(sita)
            itsm = ServiceNowStub(18082, auth=env["ITSM_AUTH"], verbose=True).start()
            started.append(itsm)
        except OSError as e:
            print(f"cannot start the demo upstreams on 18081/18082: {e}", file=sys.stderr)
            return 1
        print(f"SITA stand-in on {sita.url}, ServiceNow stand-in on {itsm.url}", flush=True)
        up = {}
        for direction in ("outbound", "inbound"):
            proc = harness.EnvoyProcess(None, run_dir, env, config_path=harness.ENVOY_DIR / f"{direction}.yaml",
                                        name=f"envoy-{direction}")
            proc.log_path.write_text("")
            try:
                proc.start(timeout=60)
                started.append(proc)
                up[direction] = True
                print(f"{direction} Envoy on 127.0.0.1:{proc.port} (admin {proc.admin_port})", flush=True)
            except (harness.EnvoyStartError, OSError) as e:
                up[direction] = False
                print(f"!! {direction} Envoy did not start: {e}", file=sys.stderr, flush=True)
        if not any(up.values()):
            return 1
        print(curl_help(env, up["outbound"], up["inbound"]), flush=True)
        while not stop.wait(0.5):
            for proc in started:
                if isinstance(proc, harness.EnvoyProcess) and not proc.alive:
                    print(f"!! {proc.name} exited:\n{proc.log_tail()}", file=sys.stderr)
                    return 1
        print("\nstopping", flush=True)
        return 0
    finally:
        for item in reversed(started):
            item.stop()


if __name__ == "__main__":
    sys.exit(main())
