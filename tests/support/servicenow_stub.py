#!/usr/bin/env python3
"""A stand-in for a ServiceNow instance's Table, Attachment and Batch APIs (stdlib only).

    python3 tests/support/servicenow_stub.py [--port 18082] [--auth 'Basic ZGVtbzpkZW1v']

POST  /api/now/table/incident            -> 201 {"result": {"sys_id": <32 hex>, "number": "INC..."}}
PATCH /api/now/table/incident/<sys_id>   -> 200 for a known sys_id, else 404 "No Record found"
POST  /api/now/v1/batch                  -> 200 with one serviced request per rest_request
                                            (attachment uploads: 201, or 404 for an unknown sys_id)
Anything else                            -> 400 "Requested URI does not represent any resource"

``KNOWN_SYS_ID`` exists from the start, so a demo UPDATE push has something to update.  With
``auth`` set, a request without that Authorization value is answered 401.  Every request is
recorded (see recording.RecordingServer) and, when verbose, logged.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import sys
import urllib.parse
import uuid

try:
    from recording import RecordingServer
except ImportError:  # imported as part of a package
    from .recording import RecordingServer  # type: ignore[no-redef]

KNOWN_SYS_ID = "9d385017c611228701d22104cc95c371"
JSON = [("Content-Type", "application/json;charset=UTF-8")]
_PATCH = re.compile(r"^/api/now/table/incident/([^/]+)$")


def sn_error(message: str, detail: str = ""):
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


class ServiceNowStub(RecordingServer):
    name = "servicenow"

    def __init__(self, port: int = 0, auth: str | None = None, verbose: bool = False):
        super().__init__(port=port, verbose=verbose)
        self.auth = auth
        self._numbers = itertools.count(10001)
        self.incidents: dict[str, dict] = {}
        self.attachments: list[dict] = []
        self.add_incident(KNOWN_SYS_ID, {"number": "INC0010000"})

    def reset(self):
        super().reset()
        self.incidents = {}
        self.attachments = []
        self.add_incident(KNOWN_SYS_ID, {"number": "INC0010000"})

    def add_incident(self, sys_id: str | None = None, fields: dict | None = None) -> str:
        sys_id = sys_id or uuid.uuid4().hex
        rec = {"sys_id": sys_id, "number": f"INC{next(self._numbers):07d}"}
        rec.update(fields or {})
        self.incidents[sys_id] = rec
        return sys_id

    def _answer(self, status: int, doc):
        return status, JSON, json.dumps(doc)

    def respond(self, rec):
        if self.auth is not None and rec.header("authorization") != self.auth:
            return self._answer(401, sn_error("User Not Authenticated", "Required to provide Auth information"))
        path = rec.path
        try:
            doc = json.loads(rec.body) if rec.body else {}
        except ValueError:
            return self._answer(400, sn_error("Exception while reading request", "The payload is not valid JSON."))
        if rec.method == "POST" and path == "/api/now/table/incident":
            fields = doc if isinstance(doc, dict) else {}
            sys_id = self.add_incident(None, fields)
            return self._answer(201, {"result": self.incidents[sys_id]})
        m = _PATCH.match(path)
        if m and rec.method in ("PATCH", "PUT"):
            sys_id = m.group(1)
            if sys_id not in self.incidents:
                return self._answer(404, sn_error("No Record found",
                                                  "Record doesn't exist or ACL restricts the record retrieval"))
            if isinstance(doc, dict):
                self.incidents[sys_id].update(doc)
            return self._answer(200, {"result": self.incidents[sys_id]})
        if rec.method == "POST" and path == "/api/now/v1/batch":
            return self._answer(200, self._batch(doc))
        return self._answer(400, sn_error("Requested URI does not represent any resource", path))

    def _batch(self, doc):
        serviced, unserviced = [], []
        for sub in (doc.get("rest_requests") or []) if isinstance(doc, dict) else []:
            sub_id = sub.get("id", "")
            url = urllib.parse.urlsplit(sub.get("url", ""))
            params = dict(urllib.parse.parse_qsl(url.query))
            if url.path != "/api/now/attachment/file" or sub.get("method") != "POST":
                unserviced.append(sub_id)
                continue
            table_sys_id = params.get("table_sys_id", "")
            if table_sys_id in self.incidents:
                try:
                    data = base64.b64decode(sub.get("body", ""), validate=True)
                except ValueError:
                    data = b""
                att = {
                    "sys_id": uuid.uuid4().hex,
                    "table_name": params.get("table_name", ""),
                    "table_sys_id": table_sys_id,
                    "file_name": params.get("file_name", ""),
                    "size_bytes": str(len(data)),
                }
                self.attachments.append(dict(att, data=data))
                status, body = 201, {"result": att}
            else:
                status, body = 404, sn_error("Invalid table or sys_id", table_sys_id)
            serviced.append({
                "id": sub_id,
                "status_code": status,
                "status_text": "Created" if status == 201 else "Not Found",
                "headers": [{"name": "Content-Type", "value": "application/json;charset=UTF-8"}],
                "body": base64.b64encode(json.dumps(body).encode()).decode(),
                "execution_time": 12,
            })
        return {
            "batch_request_id": (doc.get("batch_request_id") if isinstance(doc, dict) else None) or "1",
            "serviced_requests": serviced,
            "unserviced_requests": unserviced,
        }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=18082)
    ap.add_argument("--auth", default=None, help="answer 401 unless this Authorization value arrives")
    args = ap.parse_args(argv)
    srv = ServiceNowStub(args.port, auth=args.auth, verbose=True)
    print(f"ServiceNow stand-in on {srv.url} (known sys_id {KNOWN_SYS_ID})", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
