"""Inbound (SITA Incident Push API -> customer ITSM) through real Envoy, written from SPEC §2, §4,
§5, §6 and docs/profiles.md, with the built-in `servicenow` profile (the default).

Every case asserts both sides: what the ITSM stand-in received (method, path, query, headers,
JSON) and what SITA got back (status, content type, the PushResponse or ErrorResponse).

Most validation cases are data: fixtures/inbound/<name>.xml with <name>.expected.json beside it:
  {"itsm": {"method", "path", "query", "json"}, "ack": {"status", "Status", "IncidentNumber",
   "CustomerReferenceNumber"}}                                                    (converted)
  {"status": 400, "code": "E004", "comments": "...", "field": "..."}              (refused)
and optionally "config" (keys merged into the least inbound configuration).  A
"CustomerReferenceNumber" of "$created_sys_id" means: the sys_id the ServiceNow stand-in gave
the incident it created.  create_push.xml, update_push.xml and attachment_push.xml are the
ones the demo (`make run`) sends.  The generic and custom (BMC Helix) profiles are in
test_inbound_profiles.py.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import harness
import pytest
from checks import assert_nothing_upstream, assert_rejected
from conftest import INBOUND_ENV, INBOUND_LEAST, TEST_ITSM_AUTH, TEST_PUSH_KEY
from servicenow_stub import KNOWN_SYS_ID

FIXTURES = harness.REPO / "fixtures" / "inbound"
XML = "application/xml"
MiB = 1024 * 1024
SN_QUERY = "sysparm_input_display_value=true&sysparm_exclude_reference_link=true"
PUSH_PATH = "/sita/push"  # what SITA calls; the filter rewrites the path anyway
UNRESERVED = re.compile(r"^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$")


# ---------------------------------------------------------------------------------------------
# helpers: sending a push, reading both sides
# ---------------------------------------------------------------------------------------------
def push(envoy, body=None, *, key: str | None = TEST_PUSH_KEY, key_header: str = "apikey", headers=None,
         content_type: str | None = XML, method: str = "POST", path: str = PUSH_PATH, request_id=None,
         **kw) -> harness.Response:
    """One push as SITA sends it: key, XML content type, an x-request-id, and an
    Accept-Encoding that must not reach the ITSM."""
    hdrs = [("x-request-id", request_id or f"sita-{uuid.uuid4()}"), ("Accept-Encoding", "gzip, deflate")]
    if key is not None:
        hdrs.append((key_header, key))
    hdrs += list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    return envoy.request(method, path, headers=hdrs, body=body, content_type=content_type, **kw)


def parse_ack(resp: harness.Response) -> dict:
    """SITA's PushResponse as {element: text}; also checks the XML content type."""
    ctype = (resp.header("content-type") or "").split(";")[0].strip().lower()
    assert ctype == "application/xml", f"the ack is XML, got:\n{resp}"
    root = ET.fromstring(resp.body)
    assert root.tag == "PushResponse", f"not a PushResponse:\n{resp}"
    out = {}
    for child in root:
        assert child.tag not in out, f"{child.tag} twice:\n{resp}"
        assert len(child) == 0, f"{child.tag} has children:\n{resp}"
        out[child.tag] = child.text or ""
    return out


def assert_ack(resp: harness.Response, *, status: int, incident: str, crn: str | None = None,
               code: str | None = None, description: str | None = None,
               description_contains: str | None = None, comments: str | None = None,
               comments_contains: str | None = None) -> dict:
    """The PushResponse: Success with IncidentNumber (+ CustomerReferenceNumber), or Failure
    with ErrorCode / ErrorDescription / Comments.  Never the ITSM's raw answer."""
    assert resp.status == status, f"expected HTTP {status}:\n{resp}"
    ack = parse_ack(resp)
    assert ack.get("IncidentNumber") == incident, ack
    assert resp.header("content-length") is None or int(resp.header("content-length")) == len(resp.body)
    assert b'"result"' not in resp.body and not resp.body.lstrip().startswith((b"{", b"[")), \
        f"the ITSM's answer must never be passed through raw:\n{resp}"
    if code is None:
        assert ack.get("Status") == "Success", ack
        assert "ErrorCode" not in ack, ack
        if crn is None:
            assert "CustomerReferenceNumber" not in ack, ack
        else:
            assert ack.get("CustomerReferenceNumber") == crn, ack
    else:
        assert ack.get("Status") == "Failure", ack
        assert ack.get("ErrorCode") == code, ack
        if description is not None:
            assert ack.get("ErrorDescription") == description, ack
        if description_contains is not None:
            assert description_contains in ack.get("ErrorDescription", ""), ack
        if comments is not None:
            assert ack.get("Comments") == comments, ack
        if comments_contains is not None:
            assert comments_contains in ack.get("Comments", ""), ack
    return ack


def assert_e011(resp, incident):
    return assert_ack(resp, status=404, incident=incident, code="E011",
                      description="Ticket Not Found — Customer Reference number not exists",
                      comments="Customer Reference number not exists")


def assert_itsm_500(resp, incident, itsm_status: int, comments_contains: str | None = None):
    """SPEC §4.4: any other status (or an unexpected 2xx body) -> 502, code 500, the ITSM's
    status in ErrorDescription."""
    ack = assert_ack(resp, status=502, incident=incident, code="500",
                     description_contains=str(itsm_status), comments_contains=comments_contains)
    assert f"HTTP {itsm_status}" in ack["ErrorDescription"], ack
    return ack


def one_itsm_request(itsm, resp=None):
    got = itsm.wait_for(1)
    assert len(got) == 1, f"exactly one request to the ITSM, got {len(got)}; SITA saw:\n{resp}"
    rec = got[0]
    assert rec.complete, rec.describe()
    return rec


def assert_itsm_request(rec, *, method: str, path: str, query: str | None, incident: str,
                        request_id: str | None = None, auth_header: str = "authorization",
                        auth: str = TEST_ITSM_AUTH, key_headers=("apikey",)) -> dict | list:
    """SPEC §4.3: method, path, query, JSON content type and accept, a correct length, the
    original x-request-id, x-sita-incident-number, the ITSM credential; never SITA's key,
    never Accept-Encoding.  Returns the parsed JSON body."""
    assert rec.method == method, rec.describe()
    assert rec.path == path, rec.describe()
    if query is not None:
        assert rec.query == query, rec.describe()
    assert rec.header_all("content-type") == ["application/json"], rec.describe()
    assert rec.header_all("accept") == ["application/json"], rec.describe()
    lengths = rec.header_all("content-length")
    if lengths:
        assert lengths == [str(len(rec.body))], rec.describe()
    else:
        assert rec.chunked, f"neither Content-Length nor chunked:\n{rec.describe()}"
    assert rec.header("accept-encoding") is None, rec.describe()
    for name in key_headers:
        assert rec.header(name) is None, f"SITA's key header {name} must not reach the ITSM:\n{rec.describe()}"
    assert all(TEST_PUSH_KEY not in v for _, v in rec.headers + rec.trailers), rec.describe()
    assert rec.header_all("x-sita-incident-number") == [incident], rec.describe()
    assert rec.header_all(auth_header) == [auth], rec.describe()
    if request_id is not None:
        assert rec.header_all("x-request-id") == [request_id], rec.describe()
    return rec.json()


def created_sys_id(servicenow, incident: str) -> str:
    """The sys_id the ServiceNow stand-in gave the incident created for this IncidentNumber."""
    created = [i for i in servicenow.incidents.values() if i.get("correlation_id") == incident]
    assert len(created) == 1, servicenow.incidents
    return created[0]["sys_id"]


def ordered(body: bytes):
    """JSON with key order kept (object_pairs_hook=list of pairs), to check document order."""
    return json.loads(body, object_pairs_hook=lambda pairs: [(k, v) for k, v in pairs])


# ---------------------------------------------------------------------------------------------
# fixture-driven cases
# ---------------------------------------------------------------------------------------------
class Case:
    def __init__(self, path: Path):
        self.name = path.name[: -len(".xml")]
        self.path = path
        self.expected = json.loads((path.parent / f"{self.name}.expected.json").read_text("utf-8"))
        self.config = self.expected.get("config") or {}

    @property
    def body(self) -> bytes:
        return self.path.read_bytes()

    @property
    def converted(self) -> bool:
        return "itsm" in self.expected

    @property
    def incident(self) -> str | None:
        return self.expected.get("ack", {}).get("IncidentNumber")


def _cases():
    found = [Case(p) for p in sorted(FIXTURES.glob("*.xml"))]
    return sorted(found, key=lambda c: (json.dumps(c.config, sort_keys=True), c.name))


CASES = _cases()
CASE = {c.name: c for c in CASES}


def config_for(case: Case) -> dict:
    cfg = dict(INBOUND_LEAST)
    cfg.update(case.config)
    return cfg


def check_case(case: Case, resp: harness.Response, itsm, request_id: str):
    exp = case.expected
    if not case.converted:
        assert_rejected(resp, itsm, status=exp["status"], code=exp["code"], comments=exp.get("comments"),
                        field=exp.get("field"), comments_contains=exp.get("comments_contains"))
        return None
    want = exp["itsm"]
    rec = one_itsm_request(itsm, resp)
    got = assert_itsm_request(rec, method=want["method"], path=want["path"], query=want.get("query"),
                              incident=case.incident, request_id=request_id)
    assert got == want["json"], f"ITSM JSON differs:\n{json.dumps(got, indent=1)}"
    ack = exp["ack"]
    crn = ack.get("CustomerReferenceNumber")
    if crn == "$created_sys_id":
        crn = created_sys_id(itsm, case.incident)
    assert_ack(resp, status=ack["status"], incident=ack["IncidentNumber"], crn=crn)
    return rec


def test_fixture_set_is_complete():
    names = set(CASE)
    for demo in ("create_push", "update_push", "attachment_push"):
        assert CASE[demo].converted, demo
    for prefix in ("create_push_", "update_push_", "attachment_push_", "unknown_root"):
        assert sum(n.startswith(prefix) and not CASE[n].converted for n in names) >= 1, prefix
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case, inbound_with, servicenow):
    envoy = inbound_with(case.config)
    rid = f"fixture-{case.name}-{uuid.uuid4().hex[:8]}"
    resp = push(envoy, case.body, request_id=rid)
    check_case(case, resp, servicenow, rid)


def fixture_body(name: str) -> bytes:
    return CASE[name].body


def with_element(name: str, element: str, value: str) -> bytes:
    """A fixture with one element's text replaced (or added before the closing root tag)."""
    text = fixture_body(name).decode()
    new, n = re.subn(rf"<{element}>.*?</{element}>", lambda _: f"<{element}>{value}</{element}>", text,
                     count=1, flags=re.S)
    if not n:
        root = re.search(r"</(\w+)>\s*$", text).group(1)
        new = text.replace(f"</{root}>", f"  <{element}>{value}</{element}>\n</{root}>")
    return new.encode()


# ---------------------------------------------------------------------------------------------
# §4.1 order of checks: method, key (from the headers alone), then content type, size, body
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_non_post_is_405_before_anything(method, inbound, servicenow):
    body = fixture_body("create_push") if method in ("PUT", "PATCH") else None
    resp = push(inbound, body, method=method)
    assert_rejected(resp, servicenow, status=405, code="E004", comments="Method Not Allowed")


def test_non_post_without_key_is_still_405(inbound, servicenow):
    resp = push(inbound, None, method="GET", key=None, content_type=None)
    assert_rejected(resp, servicenow, status=405, code="E004", comments="Method Not Allowed")


@pytest.mark.parametrize("key", [None, "", "wrong", TEST_PUSH_KEY.upper(), TEST_PUSH_KEY[:-1], TEST_PUSH_KEY + "x",
                                 "X" + TEST_PUSH_KEY[1:], TEST_PUSH_KEY[:-1] + "X"],
                         ids=["absent", "empty", "wrong", "upper_case", "prefix", "longer",
                              "same_length_first_byte", "same_length_last_byte"])
def test_wrong_or_missing_apikey_is_e001(key, inbound, servicenow):
    assert key != TEST_PUSH_KEY
    resp = push(inbound, fixture_body("create_push"), key=key)
    assert_rejected(resp, servicenow, status=401, code="E001")
    assert resp.error()["description"] == "Apikey Validation Failed"


def test_key_in_another_header_is_e001(inbound, servicenow):
    resp = push(inbound, fixture_body("create_push"), key=TEST_PUSH_KEY, key_header="x-apikey")
    assert_rejected(resp, servicenow, status=401, code="E001")
    resp = push(inbound, fixture_body("create_push"), key=None, headers={"authorization": TEST_PUSH_KEY})
    assert_rejected(resp, servicenow, status=401, code="E001")


def test_e001_wins_over_content_type_and_missing_body(inbound, servicenow):
    resp = push(inbound, None, key="wrong", content_type="application/json")
    assert_rejected(resp, servicenow, status=401, code="E001")
    resp = push(inbound, b"", key=None, content_type=None)
    assert_rejected(resp, servicenow, status=401, code="E001")
    resp = push(inbound, b"{not xml", key="wrong", content_type="text/plain")
    assert_rejected(resp, servicenow, status=401, code="E001")


def test_e001_decided_from_headers_alone(inbound, servicenow):
    """Headers announce a body that never comes: the 401 arrives anyway, at once."""
    head = (f"POST {PUSH_PATH} HTTP/1.1\r\nHost: sita.test\r\nContent-Type: application/xml\r\n"
            "apikey: wrong-key\r\nContent-Length: 5000\r\n\r\n").encode()
    resp = harness.request_raw(inbound.port, [head], timeout=10)
    assert_rejected(resp, servicenow, status=401, code="E001")
    assert resp.elapsed < 5, resp.elapsed


def test_valid_key_then_checks_go_on(inbound, servicenow):
    """With the right key, the next checks decide (content type before body)."""
    resp = push(inbound, b"{not xml", content_type="application/json")
    assert_rejected(resp, servicenow, status=415, code="E004", comments="Content-Type must be application/xml")


def test_key_rotation_two_keys_both_accepted(envoys, servicenow):
    config = dict(INBOUND_LEAST, apikeys=[{"env": "SITA_PUSH_APIKEY"}, {"env": "SITA_PUSH_APIKEY_NEXT"}])
    env = dict(INBOUND_ENV, SITA_PUSH_APIKEY_NEXT="next-push-key-0420")
    envoy = envoys.get("inbound", config, env, servicenow,
                       host_env_keys=["SITA_PUSH_APIKEY", "SITA_PUSH_APIKEY_NEXT", "ITSM_AUTH"])
    for key in (TEST_PUSH_KEY, "next-push-key-0420"):
        servicenow.reset()
        resp = push(envoy, fixture_body("update_push_minimal"), key=key)
        assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)
        rec = one_itsm_request(servicenow, resp)
        assert rec.header("apikey") is None
        assert "next-push-key-0420" not in str(rec.headers)
    for key in ("next-push-key-0421", "xext-push-key-0420", TEST_PUSH_KEY[:-1] + "0"):
        servicenow.reset()
        assert_rejected(push(envoy, fixture_body("update_push_minimal"), key=key), servicenow,
                        status=401, code="E001")


def test_custom_apikey_header(inbound_with, servicenow):
    envoy = inbound_with({"apikey": {"header": "X-SITA-Push-Key"}})
    resp = push(envoy, fixture_body("update_push_minimal"), key_header="x-sita-push-key")
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)
    rec = one_itsm_request(servicenow, resp)
    assert_itsm_request(rec, method="PATCH", path=f"/api/now/table/incident/{KNOWN_SYS_ID}", query=SN_QUERY,
                        incident="INC0012345", key_headers=("x-sita-push-key", "apikey"))
    servicenow.reset()
    # the default header name no longer counts
    resp = push(envoy, fixture_body("update_push_minimal"), key_header="apikey")
    assert_rejected(resp, servicenow, status=401, code="E001")


def test_key_header_sent_twice_never_reaches_itsm(inbound, servicenow):
    resp = push(inbound, fixture_body("update_push_minimal"), headers=[("APIKEY", TEST_PUSH_KEY)])
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)
    rec = one_itsm_request(servicenow, resp)
    assert rec.header_all("apikey") == [], rec.describe()


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(ctype, inbound, servicenow):
    resp = push(inbound, fixture_body("create_push"), content_type=ctype)
    assert_rejected(resp, servicenow, status=415, code="E004", comments="Content-Type must be application/xml")


@pytest.mark.parametrize("ctype", ["text/xml", "application/xml; charset=utf-8", "Text/XML;charset=UTF-8"])
def test_accepted_content_types(ctype, inbound, servicenow):
    resp = push(inbound, fixture_body("update_push_minimal"), content_type=ctype)
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)
    one_itsm_request(servicenow, resp)


def test_empty_body_is_refused(inbound, servicenow):
    assert_rejected(push(inbound, b""), servicenow, status=400, code="E004", comments="Missing Request Body")


def test_body_too_large_from_content_length_at_once(inbound, servicenow):
    head = (f"POST {PUSH_PATH} HTTP/1.1\r\nHost: sita.test\r\nContent-Type: application/xml\r\n"
            f"apikey: {TEST_PUSH_KEY}\r\nContent-Length: {10 * MiB + 1}\r\n\r\n").encode()
    resp = harness.request_raw(inbound.port, [head], timeout=10)
    assert_rejected(resp, servicenow, status=413, code="E004", comments_contains="max_body_bytes")
    assert resp.elapsed < 5


def test_body_too_large_chunked_default_limit(inbound, servicenow):
    start = b'<?xml version="1.0"?><CreateIncidentPush><Description>'
    chunks = [start] + [b"x" * (512 * 1024)] * 21  # 10.5 MiB, no Content-Length
    resp = push(inbound, None, chunks=chunks, timeout=60)
    assert_rejected(resp, servicenow, status=413, code="E004", comments_contains="max_body_bytes")


def test_body_limit_configured_both_ways(inbound_with, servicenow):
    body = fixture_body("update_push_minimal")
    envoy = inbound_with({"limits": {"max_body_bytes": len(body)}})
    assert_ack(push(envoy, body), status=200, incident="INC0012345", crn=KNOWN_SYS_ID)
    servicenow.reset()
    big = body + b" "
    assert_rejected(push(envoy, big), servicenow, status=413, code="E004")
    assert_rejected(push(envoy, None, chunks=[big[:100], big[100:]], chunk_delay=0.01), servicenow,
                    status=413, code="E004")


# ---------------------------------------------------------------------------------------------
# §4.3 ServiceNow mapping
# ---------------------------------------------------------------------------------------------
PRIORITY = {"1": ("1", "1"), "2": ("1", "2"), "3": ("2", "2"), "4": ("2", "3"), "5": ("3", "3")}
STATE = {"New": "1", "Work In Progress": "2", "On Hold": "3", "Resolved": "6", "Closed": "7", "Cancelled": "8"}


@pytest.mark.parametrize("priority", sorted(PRIORITY))
def test_priority_to_impact_urgency_on_create(priority, inbound, servicenow):
    resp = push(inbound, with_element("create_push_minimal", "Priority", priority))
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="POST", path="/api/now/table/incident", query=SN_QUERY,
                              incident="INC0012346")
    assert (got["impact"], got["urgency"]) == PRIORITY[priority], got
    assert "priority" not in got
    assert_ack(resp, status=200, incident="INC0012346", crn=created_sys_id(servicenow, "INC0012346"))


@pytest.mark.parametrize("state", sorted(STATE))
def test_state_to_number_on_create(state, inbound, servicenow):
    resp = push(inbound, with_element("create_push_minimal", "State", state.upper()))
    got = one_itsm_request(servicenow, resp).json()
    assert got["state"] == STATE[state], got
    assert resp.status == 200, resp


@pytest.mark.parametrize("state", sorted(STATE))
def test_state_and_priority_on_update(state, inbound, servicenow):
    body = with_element("update_push_minimal", "State", state)
    body = with_element_bytes(body, "Priority", "3")
    if state == "Resolved":
        body = with_element_bytes(body, "ResolutionCode", "Fixed")
        body = with_element_bytes(body, "ResolutionNotes", "Done")
    resp = push(inbound, body)
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="PATCH", path=f"/api/now/table/incident/{KNOWN_SYS_ID}",
                              query=SN_QUERY, incident="INC0012345")
    assert got["state"] == STATE[state] and got["impact"] == "2" and got["urgency"] == "2", got
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)


def with_element_bytes(body: bytes, element: str, value: str) -> bytes:
    text = body.decode()
    root = re.search(r"</(\w+)>\s*$", text).group(1)
    return text.replace(f"</{root}>", f"  <{element}>{value}</{element}>\n</{root}>").encode()


def test_update_absent_elements_are_omitted_never_blanked(inbound, servicenow):
    resp = push(inbound, fixture_body("update_push_minimal"))
    got = one_itsm_request(servicenow, resp).json()
    assert got == {"correlation_id": "INC0012345", "correlation_display": "SITA"}, got
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)


def test_update_path_uses_crn_as_sys_id(inbound, servicenow):
    sys_id = servicenow.add_incident("a1b2c3d4e5f60718293a4b5c6d7e8f90")
    body = fixture_body("update_push_minimal").replace(KNOWN_SYS_ID.encode(), sys_id.encode())
    resp = push(inbound, body)
    rec = one_itsm_request(servicenow, resp)
    assert rec.target == f"/api/now/table/incident/{sys_id}?{SN_QUERY}", rec.describe()
    assert_ack(resp, status=200, incident="INC0012345", crn=sys_id)


def test_worknotes_joined_by_blank_line(inbound, servicenow):
    resp = push(inbound, fixture_body("update_push"))
    got = one_itsm_request(servicenow, resp).json()
    notes = got["work_notes"].split("\n\n")
    assert notes == ["[2026-03-14 07:05:00 j.smith] Engineer dispatched.", "[2026-03-14 08:40:00] Spare part collected.",
                     "[a.lee] Printer swapped.", "Test print OK."], notes


def test_client_supplied_incident_number_header_is_replaced(inbound, servicenow):
    resp = push(inbound, fixture_body("update_push_minimal"),
                headers={"x-sita-incident-number": "SPOOFED", "Content-Encoding": "identity"})
    rec = one_itsm_request(servicenow, resp)
    assert rec.header_all("x-sita-incident-number") == ["INC0012345"], rec.describe()


def test_client_authorization_header_replaced_by_itsm_credential(inbound, servicenow):
    resp = push(inbound, fixture_body("update_push_minimal"), headers={"Authorization": "Bearer from-sita"})
    rec = one_itsm_request(servicenow, resp)
    assert rec.header_all("authorization") == [TEST_ITSM_AUTH], rec.describe()


def test_configured_auth_header_name(inbound_with, servicenow):
    itsm = dict(INBOUND_LEAST["itsm"], auth_header="X-Itsm-Token")
    envoy = inbound_with({"itsm": itsm})
    resp = push(envoy, fixture_body("update_push_minimal"))
    rec = one_itsm_request(servicenow, resp)
    assert_itsm_request(rec, method="PATCH", path=f"/api/now/table/incident/{KNOWN_SYS_ID}", query=SN_QUERY,
                        incident="INC0012345", auth_header="x-itsm-token")
    assert rec.header("authorization") is None, rec.describe()


# ---------------------------------------------------------------------------------------------
# §4.3 attachments through the batch API
# ---------------------------------------------------------------------------------------------
def attachment_push(attachments, crn: str = KNOWN_SYS_ID, incident: str = "INC0012345") -> bytes:
    """attachments: [(file_name, bytes, content_type or None)]."""
    parts = []
    for i, (name, data, ctype) in enumerate(attachments, 1):
        ct = f"<ContentType>{ctype}</ContentType>" if ctype else ""
        name_xml = name.replace("&", "&amp;").replace("<", "&lt;")
        parts.append(f"<Attachment><AttachmentId>ATT-{i}</AttachmentId><FileName>{name_xml}</FileName>{ct}"
                     f"<FileData>{base64.b64encode(data).decode()}</FileData></Attachment>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<UpdateIncidentAttachmentPush>'
            f"<IncidentNumber>{incident}</IncidentNumber><CustomerReferenceNumber>{crn}</CustomerReferenceNumber>"
            f"<UpdatedAt>2026-03-14 09:35:00</UpdatedAt><Attachments>{''.join(parts)}</Attachments>"
            f"</UpdateIncidentAttachmentPush>").encode()


def check_batch(rec, attachments, crn=KNOWN_SYS_ID, incident="INC0012345"):
    doc = assert_itsm_request(rec, method="POST", path="/api/now/v1/batch", query="", incident=incident)
    assert set(doc) == {"batch_request_id", "rest_requests"}, doc.keys()
    assert doc["batch_request_id"] == incident
    subs = doc["rest_requests"]
    assert len(subs) == len(attachments)
    for i, (sub, (name, data, ctype)) in enumerate(zip(subs, attachments), 1):
        assert sub["id"] == str(i) and sub["method"] == "POST", sub
        url = urllib.parse.urlsplit(sub["url"])
        assert url.path == "/api/now/attachment/file", sub["url"]
        raw = [p.split("=", 1) for p in url.query.split("&")]
        assert [k for k, _ in raw] == ["table_name", "table_sys_id", "file_name"], sub["url"]
        for _, v in raw:
            assert UNRESERVED.match(v), f"query values percent-encoded (unreserved kept, %XX upper): {sub['url']}"
        assert dict((k, urllib.parse.unquote(v, errors="strict")) for k, v in raw) == \
            {"table_name": "incident", "table_sys_id": crn, "file_name": name}, sub["url"]
        assert sub["headers"] == [{"name": "Content-Type", "value": ctype or "application/octet-stream"},
                                  {"name": "Accept", "value": "application/json"}], sub
        assert base64.b64decode(sub["body"], validate=True) == data
        assert sub["body"] == base64.b64encode(data).decode(), "canonical base64: one line, padded"
    return doc


ALL_BYTES = bytes(range(256)) * 3 + b"\xff\xfe\x00\x80\xc3\x28"


def test_one_attachment_binary_bytes_round_trip(inbound, servicenow):
    atts = [("dump.bin", ALL_BYTES, None)]
    resp = push(inbound, attachment_push(atts))
    check_batch(one_itsm_request(servicenow, resp), atts)
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)
    assert [a["data"] for a in servicenow.attachments] == [ALL_BYTES]


def test_three_attachments_names_and_types(inbound, servicenow):
    atts = [("my report (1).pdf", b"%PDF-1.7\n\xe2\xe3\xcf\xd3", "application/pdf"),
            ("Überblick 文件 ünï.txt", "naïve text ✓\n".encode(), "text/plain"),
            ("a&b=c+d;e#f?g%h.png", b"\x89PNG\r\n\x1a\n\x00", "image/png")]
    resp = push(inbound, attachment_push(atts))
    doc = check_batch(one_itsm_request(servicenow, resp), atts)
    assert "file_name=my%20report%20%281%29.pdf" in doc["rest_requests"][0]["url"]
    assert "file_name=%C3%9Cberblick%20%E6%96%87%E4%BB%B6%20%C3%BCn%C3%AF.txt" in doc["rest_requests"][1]["url"]
    assert "file_name=a%26b%3Dc%2Bd%3Be%23f%3Fg%25h.png" in doc["rest_requests"][2]["url"]
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)
    assert [(a["file_name"], a["data"]) for a in servicenow.attachments] == [(n, d) for n, d, _ in atts]


def test_filedata_with_line_breaks_is_reencoded_canonically(inbound, servicenow):
    data = bytes(range(200))
    b64 = base64.encodebytes(data).decode()  # 76-char lines with \n
    body = attachment_push([("x.bin", b"", None)]).replace(b"<FileData></FileData>",
                                                            f"<FileData>\n{b64}\n</FileData>".encode())
    resp = push(inbound, body)
    check_batch(one_itsm_request(servicenow, resp), [("x.bin", data, None)])
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)


def test_batch_unknown_sys_id_is_e011(inbound, servicenow):
    atts = [("a.txt", b"a", None), ("b.txt", b"b", None)]
    resp = push(inbound, attachment_push(atts, crn="0000deadbeef"))
    check_batch(one_itsm_request(servicenow, resp), atts, crn="0000deadbeef")
    assert_e011(resp, "INC0012345")


def batch_answer(*codes, body_text="{}"):
    return {"batch_request_id": "INC0012345", "unserviced_requests": [], "serviced_requests": [
        {"id": str(i), "status_code": c, "status_text": "x", "execution_time": 1, "headers": [],
         "body": base64.b64encode((body_text if c >= 300 else '{"result": {}}').encode()).decode()}
        for i, c in enumerate(codes, 1)]}


THREE = [("a.txt", b"a", None), ("b.txt", b"b", None), ("c.txt", b"c", None)]


def test_batch_all_2xx_is_success(inbound, servicenow):
    servicenow.force_next(200, batch_answer(201, 200, 201))
    resp = push(inbound, attachment_push(THREE))
    check_batch(one_itsm_request(servicenow, resp), THREE)
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)


def test_batch_one_sub_request_404_is_e011(inbound, servicenow):
    servicenow.force_next(200, batch_answer(201, 404, 201))
    resp = push(inbound, attachment_push(THREE))
    one_itsm_request(servicenow, resp)
    assert_e011(resp, "INC0012345")


def test_batch_one_sub_request_500_is_502(inbound, servicenow):
    servicenow.force_next(200, batch_answer(201, 201, 500, body_text='{"error": {"message": "disk full"}}'))
    resp = push(inbound, attachment_push(THREE))
    one_itsm_request(servicenow, resp)
    ack = assert_ack(resp, status=502, incident="INC0012345", code="500")
    assert "500" in ack["ErrorDescription"] or "500" in ack["Comments"], ack
    assert "disk full" in ack["Comments"], ack


@pytest.mark.parametrize("answer", [
    {"batch_request_id": "x"},
    {"serviced_requests": [], "unserviced_requests": ["1", "2", "3"]},
    "not json at all",
], ids=["no_serviced_requests", "unserviced", "not_json"])
def test_batch_unexpected_answer_is_502(answer, inbound, servicenow):
    servicenow.force_next(200, answer, content_type="application/json")
    resp = push(inbound, attachment_push(THREE))
    one_itsm_request(servicenow, resp)
    assert_itsm_500(resp, "INC0012345", 200)


def test_batch_itself_failing(inbound, servicenow):
    servicenow.force_next(401, {"error": {"message": "User Not Authenticated"}})
    resp = push(inbound, attachment_push(THREE))
    assert_itsm_500(resp, "INC0012345", 401, comments_contains="User Not Authenticated")
    servicenow.reset()
    servicenow.force_next(404, {"error": {"message": "No such API"}})
    assert_e011(push(inbound, attachment_push(THREE)), "INC0012345")


# ---------------------------------------------------------------------------------------------
# §4.4 acknowledgement
# ---------------------------------------------------------------------------------------------
def test_create_201_gives_sys_id(inbound, servicenow):
    servicenow.force_next(201, {"result": {"sys_id": "f00dfeed1234567890abcdef12345678", "number": "INC0010099"}})
    resp = push(inbound, fixture_body("create_push"))
    one_itsm_request(servicenow, resp)
    assert_ack(resp, status=200, incident="INC0012345", crn="f00dfeed1234567890abcdef12345678")


def test_update_unknown_sys_id_is_e011(inbound, servicenow):
    body = fixture_body("update_push").replace(KNOWN_SYS_ID.encode(), b"ffffffffffffffffffffffffffffffff")
    resp = push(inbound, body)
    rec = one_itsm_request(servicenow, resp)
    assert rec.path == "/api/now/table/incident/ffffffffffffffffffffffffffffffff"
    assert_e011(resp, "INC0012345")


@pytest.mark.parametrize("status", [500, 503, 400, 401, 403, 409, 429, 302])
def test_itsm_error_status_is_502_code_500(status, inbound, servicenow):
    servicenow.force_next(status, {"error": {"message": f"Problem {status} <&>", "detail": "d"}, "status": "failure"})
    resp = push(inbound, fixture_body("create_push"))
    one_itsm_request(servicenow, resp)
    ack = assert_itsm_500(resp, "INC0012345", status)
    assert f"Problem {status} <&>" in ack["Comments"], ack  # error_pointer /error/message, escaped in XML
    assert b"<&>" not in resp.body


def test_itsm_404_on_create_is_e011(inbound, servicenow):
    servicenow.force_next(404, {"error": {"message": "No Record found"}})
    resp = push(inbound, fixture_body("create_push"))
    assert_e011(resp, "INC0012345")


@pytest.mark.parametrize("status,body,ctype", [
    (201, "<html>created</html>", "text/html"),
    (201, "", "application/json"),
    (200, '{"result": {"number": "INC1"}}', "application/json"),
    (201, '{"result": {"sys_id": 12345}}', "application/json"),
    (201, '{"result": {"sys_id": ""}}', "application/json"),
    (201, '{"result": [{"sys_id": "abc"}]}', "application/json"),
    (200, '{"result": {"sys_id": "abc"', "application/json"),
], ids=["html", "empty", "no_sys_id", "sys_id_number", "sys_id_empty", "result_array", "truncated_json"])
def test_2xx_without_expected_json_is_502(status, body, ctype, inbound, servicenow):
    servicenow.force_next(status, body, content_type=ctype)
    resp = push(inbound, fixture_body("create_push"))
    one_itsm_request(servicenow, resp)
    assert_itsm_500(resp, "INC0012345", status)


def test_2xx_without_body_at_all_is_502_for_servicenow(inbound, servicenow):
    servicenow.force_next(204, b"")
    resp = push(inbound, fixture_body("update_push_minimal"))
    one_itsm_request(servicenow, resp)
    assert_itsm_500(resp, "INC0012345", 204)


@pytest.mark.parametrize("as_json", [False, True], ids=["raw_text", "json_error_message"])
def test_itsm_error_text_cut_at_200_chars(as_json, inbound, servicenow):
    text = "".join(f"{i % 10}" for i in range(5000))
    text = "É" + text[1:]  # a multi-byte character first
    body = {"error": {"message": text}} if as_json else text
    servicenow.force_next(500, body, content_type="application/json" if as_json else "text/plain")
    resp = push(inbound, fixture_body("create_push"))
    ack = assert_itsm_500(resp, "INC0012345", 500)
    assert text[:200] in ack["Comments"], ack
    assert text[:201] not in resp.body.decode(), "at most 200 characters of the ITSM's error text"
    assert len(resp.body) < 1200, resp


def test_itsm_error_with_control_characters_stays_valid_xml(inbound, servicenow):
    servicenow.force_next(500, b"bad\x00\x01\x1b[31m </Comments><x> \xff\xfe end", content_type="text/plain")
    resp = push(inbound, fixture_body("create_push"))
    ack = assert_itsm_500(resp, "INC0012345", 500)  # parses as XML
    assert "</Comments><x>" in ack["Comments"] and "end" in ack["Comments"], ack


def test_itsm_response_headers_do_not_describe_json(inbound, servicenow):
    servicenow.force_next(201, {"result": {"sys_id": "abc123"}},
                          headers=[("Content-Type", "application/json;charset=UTF-8")])
    resp = push(inbound, fixture_body("create_push"))
    assert_ack(resp, status=200, incident="INC0012345", crn="abc123")
    assert "json" not in (resp.header("content-type") or "")


def test_ack_does_not_carry_the_itsms_content_encoding(inbound, servicenow):
    """The ack is plain XML (SPEC §4.4), so a Content-Encoding the ITSM put on its own answer
    (an ITSM or a proxy in front of it that compresses regardless of Accept-Encoding) must not
    describe it: SITA would try to gunzip plain XML."""
    servicenow.force_next(500, b"\x1f\x8b\x08\x00\x00\x00\x00\x00", content_type="application/json",
                          headers=[("Content-Encoding", "gzip")])
    resp = push(inbound, fixture_body("create_push"))
    assert_itsm_500(resp, "INC0012345", 500)
    assert resp.header("content-encoding") is None, f"XML body labelled with the ITSM's encoding:\n{resp}"


def test_ack_does_not_pass_on_the_itsms_session_cookies(inbound, servicenow):
    """ServiceNow answers with session cookies (JSESSIONID, glide_user_route, ...): they belong to
    the integration user's session and must not be handed to SITA with the ack."""
    servicenow.force_next(201, {"result": {"sys_id": "abc123"}},
                          headers=[("Set-Cookie", "JSESSIONID=0123456789ABCDEF; Path=/; HttpOnly"),
                                   ("Set-Cookie", "glide_user_route=glide.abc; Path=/")])
    resp = push(inbound, fixture_body("create_push"))
    assert_ack(resp, status=200, incident="INC0012345", crn="abc123")
    assert resp.header("set-cookie") is None, f"the ITSM's session cookie reached SITA:\n{resp}"


def test_itsm_unreachable_is_502(envoys):
    """Envoy's own answer for a dead ITSM (503, connect failure) becomes the 502 ack too."""
    class Dead:  # a port nobody listens on
        def __init__(self):
            import socket
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]

    envoy = envoys.get("inbound", INBOUND_LEAST, INBOUND_ENV, Dead())
    resp = push(envoy, fixture_body("create_push"))
    assert_itsm_500(resp, "INC0012345", 503)


def test_itsm_credential_rejected_by_stub_is_502(inbound, servicenow):
    servicenow.auth = "Basic c29tZW9uZTplbHNl"
    try:
        resp = push(inbound, fixture_body("create_push"))
    finally:
        servicenow.auth = None
    assert_itsm_500(resp, "INC0012345", 401, comments_contains="User Not Authenticated")


# ---------------------------------------------------------------------------------------------
# §2 chunking and trailers: same ITSM request, same ack
# ---------------------------------------------------------------------------------------------
def awkward_splits(body: bytes) -> list[int]:
    cuts = set()
    for marker in (b"\xef\xbb\xbf", b"<?xml", b"<![CDATA[", b"]]>", b"&amp;", b"&lt;", b"</", b"<Attachment>",
                   b"<FileData>", b"</FileData>", b"<WorkNote>", b"xmlns", b"="):
        for m in re.finditer(re.escape(marker), body):
            cuts.update({m.start(), m.start() + 1, m.end() - 1})
    for i, byte in enumerate(body):
        if byte >= 0x80 and (i == 0 or body[i - 1] < 0x80):
            cuts.add(i + 1)
    return sorted(c for c in cuts if 0 < c < len(body))


def reference(inbound, servicenow, name):
    resp = push(inbound, fixture_body(name))
    rec = one_itsm_request(servicenow, resp)
    servicenow.reset()
    return rec, resp


def same_exchange(ref, rec, resp):
    ref_rec, ref_resp = ref
    assert (rec.method, rec.target, rec.body) == (ref_rec.method, ref_rec.target, ref_rec.body), rec.describe()
    assert (resp.status, resp.body) == (ref_resp.status, ref_resp.body), resp


@pytest.mark.parametrize("name", ["update_push", "attachment_push", "update_push_state_lowercase_cdata",
                                  "create_push_bom_multibyte"])
def test_awkward_chunks_same_itsm_request_and_ack(name, inbound, servicenow):
    body = fixture_body(name)
    ref = reference(inbound, servicenow, name)
    bounds = [0] + awkward_splits(body) + [len(body)]
    chunks = [body[a:b] for a, b in zip(bounds, bounds[1:])]
    assert len(chunks) > 10
    resp = push(inbound, None, chunks=chunks, chunk_delay=0.001)
    rec = one_itsm_request(servicenow, resp)
    if name.startswith("create"):  # a new sys_id each time: compare the request, and the ack's shape
        assert (rec.method, rec.target, rec.body) == (ref[0].method, ref[0].target, ref[0].body)
        assert resp.status == 200 and parse_ack(resp)["Status"] == "Success", resp
    else:
        same_exchange(ref, rec, resp)


@pytest.mark.parametrize("name", ["attachment_push", "update_push_worknote_missing_text"])
def test_one_byte_chunks(name, inbound, servicenow):
    body = fixture_body(name)
    chunks = [body[i:i + 1] for i in range(len(body))]
    if CASE[name].converted:
        ref = reference(inbound, servicenow, name)
        resp = push(inbound, None, chunks=chunks, chunk_delay=0.0003, timeout=60)
        same_exchange(ref, one_itsm_request(servicenow, resp), resp)
    else:
        rid = "one-byte-" + uuid.uuid4().hex
        resp = push(inbound, None, chunks=chunks, chunk_delay=0.0003, timeout=60, request_id=rid)
        check_case(CASE[name], resp, servicenow, rid)


def test_trailers_end_the_body(inbound, servicenow):
    body = fixture_body("update_push")
    ref = reference(inbound, servicenow, "update_push")
    resp = push(inbound, None, chunks=[body[:333], body[333:]], trailers=[("x-body-sha", "abc123")],
                chunk_delay=0.01)
    rec = one_itsm_request(servicenow, resp)
    same_exchange(ref, rec, resp)
    assert_itsm_request(rec, method="PATCH", path=f"/api/now/table/incident/{KNOWN_SYS_ID}", query=SN_QUERY,
                        incident="INC0012345")


def test_trailers_on_an_invalid_push(inbound, servicenow):
    body = fixture_body("create_push_missing_shortdescription")
    resp = push(inbound, None, chunks=[body[:40], body[40:]], trailers=[("x-body-sha", "abc")], chunk_delay=0.01)
    assert_rejected(resp, servicenow, status=400, code="E004", comments="Missing Element Is ShortDescription")


def test_apikey_in_trailer_never_reaches_itsm(inbound, servicenow):
    body = fixture_body("update_push_minimal")
    resp = push(inbound, None, chunks=[body], trailers=[("apikey", TEST_PUSH_KEY)])
    rec = one_itsm_request(servicenow, resp)
    assert all(TEST_PUSH_KEY not in v for _, v in rec.headers + rec.trailers), rec.describe()
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)


# ---------------------------------------------------------------------------------------------
# §7 metrics
# ---------------------------------------------------------------------------------------------
def counters(envoy, needle="sita_sm.inbound"):
    return {k: v for k, v in envoy.stats_json().items() if needle in k}


def counter(stats: dict, suffix: str) -> int:
    found = [v for k, v in stats.items() if k.endswith(suffix)]
    assert len(found) == 1, f"one counter ending in {suffix!r}, stats: {json.dumps(stats, indent=1)}"
    return found[0]


def test_metrics_after_conversions(inbound_with, servicenow):
    # a configuration of its own (log_level), so these counts start at zero
    envoy = inbound_with({"log_level": "info"})
    assert push(envoy, fixture_body("create_push")).status == 200
    assert push(envoy, fixture_body("update_push")).status == 200
    assert push(envoy, fixture_body("attachment_push")).status == 200
    servicenow.force_next(503, "down", content_type="text/plain")
    assert push(envoy, fixture_body("update_push_minimal")).status == 502
    assert push(envoy, fixture_body("update_push_minimal"), key="wrong").status == 401
    assert push(envoy, fixture_body("create_push_missing_state")).status == 400
    assert push(envoy, fixture_body("create_push_invalid_state")).status == 400
    time.sleep(0.2)
    stats = counters(envoy)
    assert all(k.startswith("wasmcustom.") for k in stats), stats  # Envoy's prefix for Wasm metrics
    assert counter(stats, "sita_sm.inbound.requests.create_incident_push") == 1
    assert counter(stats, "sita_sm.inbound.requests.update_incident_push") == 2
    assert counter(stats, "sita_sm.inbound.requests.update_incident_attachments_push") == 1
    assert counter(stats, "sita_sm.inbound.converted.createincidentpush") == 1
    assert counter(stats, "sita_sm.inbound.converted.updateincidentpush") == 2
    assert counter(stats, "sita_sm.inbound.converted.updateincidentattachmentpush") == 1
    assert counter(stats, "sita_sm.inbound.acknowledged.success") == 3
    assert counter(stats, "sita_sm.inbound.acknowledged.failure") == 1
    assert counter(stats, "sita_sm.inbound.rejected.e001") == 1
    assert counter(stats, "sita_sm.inbound.rejected.e005") == 1
    assert counter(stats, "sita_sm.inbound.rejected.e004") == 1
    prom = envoy.stats_prometheus()
    # Envoy drops its custom-stat namespace (wasmcustom) in the Prometheus form
    assert re.search(r"^(?:wasmcustom_)?sita_sm_inbound_acknowledged_success\S* 3$", prom, re.M), \
        [ln for ln in prom.splitlines() if "acknowledged" in ln]


def test_rejection_logged_without_secrets(inbound, servicenow):
    rid = "inbound-log-" + uuid.uuid4().hex[:8]
    push(inbound, fixture_body("create_push_invalid_email"), request_id=rid)
    push(inbound, fixture_body("create_push"), key="not-the-key-" + rid)
    deadline = time.monotonic() + 5
    while rid not in inbound.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = inbound.log_text()
    line = next((ln for ln in log.splitlines() if rid in ln and "E006" in ln), None)
    assert line is not None and "Email" in line and "inbound" in line, "one info line per rejection"
    assert TEST_PUSH_KEY not in log and TEST_ITSM_AUTH not in log and "not-the-key-" + rid not in log
    assert "jane.doe.example.com" not in log, "never a body"
    assert_nothing_upstream(servicenow)
