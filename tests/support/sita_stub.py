#!/usr/bin/env python3
"""A stand-in for SITA's Incident API (stdlib only): what the outbound filter forwards to.

    python3 tests/support/sita_stub.py [--port 18081] [--apikey demo-sita-key]

CREATE (root CreateIncidentRequest) -> 201 CreateIncidentResponse, UPDATE -> 200
UpdateIncidentResponse, GET /incidents, /incident, /incident/activitylog, /incident/attachment ->
200 with a small XML list/record, any other request -> 200 <Status>OK</Status>.  With ``apikey``
set, a request without that key is answered 401 E001, as SITA would.  Every request is recorded
(see recording.RecordingServer) and, when verbose, logged: method, path, headers, body.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

try:
    from recording import RecordingServer
except ImportError:  # imported as part of a package
    from .recording import RecordingServer  # type: ignore[no-redef]

XML = [("Content-Type", "application/xml")]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _field(root, name: str) -> str:
    for el in root.iter():
        if _local(el.tag) == name:
            return (el.text or "").strip()
    return ""


def error_xml(code: str, description: str, comments: str = "") -> str:
    return (
        "<ErrorResponse><Status>Failure</Status>"
        f"<ErrorCode>{code}</ErrorCode><ErrorDescription>{escape(description)}</ErrorDescription>"
        f"<Comments>{escape(comments)}</Comments></ErrorResponse>"
    )


class SitaStub(RecordingServer):
    name = "sita"

    def __init__(self, port: int = 0, apikey: str | None = None, apikey_header: str = "apikey",
                 verbose: bool = False):
        super().__init__(port=port, verbose=verbose)
        self.apikey = apikey
        self.apikey_header = apikey_header
        self._numbers = itertools.count(10001)

    def respond(self, rec):
        if self.apikey is not None and rec.header(self.apikey_header) != self.apikey:
            return 401, XML, error_xml("E001", "Apikey Validation Failed")
        path = rec.path.rstrip("/") or "/"
        if rec.method in ("POST", "PUT", "PATCH"):
            try:
                root = ET.fromstring(rec.body)
            except ET.ParseError as e:
                return 400, XML, error_xml("E004", "Schema Validation Exception", f"Malformed XML: {e}")
            kind = _local(root.tag)
            crn = escape(_field(root, "CustomerReferenceNumber"))
            if kind == "CreateIncidentRequest":
                number = f"INC{next(self._numbers):07d}"
                return 201, XML, (
                    "<CreateIncidentResponse><Status>Success</Status>"
                    f"<IncidentNumber>{number}</IncidentNumber>"
                    f"<CustomerReferenceNumber>{crn}</CustomerReferenceNumber>"
                    "<Message>Incident created successfully</Message></CreateIncidentResponse>"
                )
            if kind == "UpdateIncidentRequest":
                number = escape(_field(root, "IncidentNumber"))
                return 200, XML, (
                    "<UpdateIncidentResponse><Status>Success</Status>"
                    f"<IncidentNumber>{number}</IncidentNumber>"
                    f"<CustomerReferenceNumber>{crn}</CustomerReferenceNumber>"
                    "<Message>Incident updated successfully</Message></UpdateIncidentResponse>"
                )
            return 400, XML, error_xml("E004", "Schema Validation Exception", f"Unknown Message {kind}")
        if rec.method == "GET":
            number = escape(rec.params.get("IncidentNumber", "INC0010001"))
            if path == "/incidents":
                return 200, XML, (
                    "<ListIncidentsResponse><Status>Success</Status><Incidents>"
                    "<Incident><IncidentNumber>INC0010001</IncidentNumber><State>New</State>"
                    "<ShortDescription>Printer on fire</ShortDescription></Incident>"
                    "<Incident><IncidentNumber>INC0010002</IncidentNumber><State>Work In Progress</State>"
                    "<ShortDescription>Check-in kiosk frozen</ShortDescription></Incident>"
                    "</Incidents></ListIncidentsResponse>"
                )
            if path == "/incident":
                return 200, XML, (
                    "<ReadIncidentResponse><Status>Success</Status><Incident>"
                    f"<IncidentNumber>{number}</IncidentNumber><State>New</State><Priority>3</Priority>"
                    "<ShortDescription>Printer on fire</ShortDescription></Incident></ReadIncidentResponse>"
                )
            if path == "/incident/activitylog":
                return 200, XML, (
                    "<ReadActivityLogResponse><Status>Success</Status>"
                    f"<IncidentNumber>{number}</IncidentNumber><Activities>"
                    "<Activity><CreatedAt>2024-01-01 10:00:00</CreatedAt><Text>Created</Text></Activity>"
                    "</Activities></ReadActivityLogResponse>"
                )
            if path == "/incident/attachment":
                return 200, XML, (
                    "<ReadAttachmentsResponse><Status>Success</Status>"
                    f"<IncidentNumber>{number}</IncidentNumber><Attachments>"
                    "<Attachment><AttachmentId>ATT0001</AttachmentId><FileName>log.txt</FileName>"
                    "<FileData>aGVsbG8K</FileData></Attachment>"
                    "</Attachments></ReadAttachmentsResponse>"
                )
        return 200, XML, "<Status>OK</Status>"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=18081)
    ap.add_argument("--apikey", default=None, help="answer E001 unless this key arrives")
    ap.add_argument("--apikey-header", default="apikey")
    args = ap.parse_args(argv)
    srv = SitaStub(args.port, apikey=args.apikey, apikey_header=args.apikey_header, verbose=True)
    print(f"SITA Incident API stand-in on {srv.url}", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
