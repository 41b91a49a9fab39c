"""Inbound (SITA push -> customer ITSM) through real Envoy, from SPEC §4 (and §2, §6).

The ITSM is the recording ServiceNow stand-in; the filter must rewrite each push into the Table /
Batch API call of §4.3 and turn the answer into the PushResponse of §4.4.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
import xml.etree.ElementTree as ET

import harness
import pytest
from checks import assert_nothing_upstream, assert_rejected
from conftest import TEST_ITSM_AUTH, TEST_PUSH_KEY
from servicenow_stub import KNOWN_SYS_ID

FIXTURES = harness.REPO / "fixtures" / "inbound"
XML = "application/xml"
SN_QUERY = {"sysparm_input_display_value": "true", "sysparm_exclude_reference_link": "true"}


def push_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.xml").read_bytes()


def push(envoy, body, key=TEST_PUSH_KEY, content_type=XML, headers=None, method="POST"):
    hdrs = {"x-request-id": "push-req-1"}
    if key is not None:
        hdrs["apikey"] = key
    hdrs.update(headers or {})
    return envoy.request(method, "/push", headers=hdrs, body=body, content_type=content_type)


def push_response(resp) -> dict:
    assert (resp.header("content-type") or "").split(";")[0].strip().lower() == "application/xml", str(resp)
    root = ET.fromstring(resp.body)
    assert root.tag.rsplit("}", 1)[-1] == "PushResponse", str(resp)
    return {c.tag.rsplit("}", 1)[-1]: (c.text or "").strip() for c in root}


def one_itsm_request(servicenow):
    got = servicenow.wait_for(1, timeout=2)
    assert len(got) == 1, [r.describe() for r in got]
    rec = got[0]
    assert rec.header("content-type", "").split(";")[0] == "application/json"
    assert rec.header("accept") == "application/json"
    assert rec.header("authorization") == TEST_ITSM_AUTH
    assert rec.header("apikey") is None, "the SITA key never reaches the ITSM"
    assert rec.header("accept-encoding") is None
    assert rec.header("x-request-id") == "push-req-1"
    cl = rec.header("content-length")
    assert cl is None or int(cl) == len(rec.body)
    return rec


def s(v):
    return None if v is None else str(v)


# ---------------------------------------------------------------------------------------------
# §4.1 method and key
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_method_not_allowed(inbound, servicenow, method):
    body = None if method in ("GET", "DELETE") else push_body("create_push")
    resp = push(inbound, body, method=method, content_type=None if body is None else XML)
    assert_rejected(resp, servicenow, status=405, code="E004", comments="Method Not Allowed")


@pytest.mark.parametrize("key", [None, "", "wrong-key", TEST_PUSH_KEY + "x", TEST_PUSH_KEY[:-1]])
def test_bad_or_missing_apikey_is_e001(inbound, servicenow, key):
    resp = push(inbound, push_body("create_push"), key=key)
    assert_rejected(resp, servicenow, status=401, code="E001")


def test_apikey_checked_from_headers_before_body(inbound, servicenow):
    resp = push(inbound, b"<not even xml", key="wrong")
    assert_rejected(resp, servicenow, status=401, code="E001")


def test_several_keys_for_rotation(inbound_with, servicenow):
    envoy = inbound_with({"apikeys": [{"env": "SITA_PUSH_APIKEY"}, {"env": "SITA_PUSH_APIKEY_NEXT"}]},
                         env={"SITA_PUSH_APIKEY": TEST_PUSH_KEY, "SITA_PUSH_APIKEY_NEXT": "next-key",
                              "ITSM_AUTH": TEST_ITSM_AUTH},
                         host_env_keys=["SITA_PUSH_APIKEY", "SITA_PUSH_APIKEY_NEXT", "ITSM_AUTH"])
    for key in (TEST_PUSH_KEY, "next-key"):
        servicenow.reset()
        resp = push(envoy, push_body("create_push"), key=key)
        assert 200 <= resp.status < 300, str(resp)


# ---------------------------------------------------------------------------------------------
# §4.1 step 3: content type, body, root, fields
# ---------------------------------------------------------------------------------------------
def test_wrong_content_type(inbound, servicenow):
    resp = push(inbound, push_body("create_push"), content_type="application/json")
    assert_rejected(resp, servicenow, status=415, code="E004", comments="Content-Type must be application/xml")


def test_unknown_push_root(inbound, servicenow):
    resp = push(inbound, b"<CreateIncidentRequest><CustomerReferenceNumber>A</CustomerReferenceNumber></CreateIncidentRequest>")
    assert_rejected(resp, servicenow, status=400, code="E004", comments="Unknown Message CreateIncidentRequest")


def test_dtd_refused(inbound, servicenow):
    body = b'<?xml version="1.0"?>\n<!DOCTYPE CreateIncidentPush>\n' + push_body("create_push").split(b"?>", 1)[1]
    assert_rejected(push(inbound, body), servicenow, status=400, code="E004", comments="DTD is not allowed")


def _drop(body: bytes, el: str) -> bytes:
    return re.sub(rb"\s*<%s>.*?</%s>" % (el.encode(), el.encode()), b"", body, flags=re.S)


def _set(body: bytes, el: str, value: str) -> bytes:
    return re.sub(rb"<%s>.*?</%s>" % (el.encode(), el.encode()), f"<{el}>{value}</{el}>".encode(), body, count=1, flags=re.S)


CREATE_PUSH_CASES = {
    "missing_incidentnumber": (lambda b: _drop(b, "IncidentNumber"), "E004", "Missing Element Is IncidentNumber", "IncidentNumber"),
    "missing_shortdescription": (lambda b: _drop(b, "ShortDescription"), "E004", "Missing Element Is ShortDescription", "ShortDescription"),
    "missing_description": (lambda b: _drop(b, "Description"), "E004", "Missing Element Is Description", "Description"),
    "missing_state": (lambda b: _drop(b, "State"), "E005", None, "State"),
    "missing_priority": (lambda b: _drop(b, "Priority"), "E005", None, "Priority"),
    "missing_openedat": (lambda b: _drop(b, "OpenedAt"), "E005", None, "OpenedAt"),
    "invalid_state": (lambda b: _set(b, "State", "Escalated"), "E004", "Invalid State", "State"),
    "invalid_priority": (lambda b: _set(b, "Priority", "0"), "E004", "Valid Priority Value Is 1 to 5", "Priority"),
    "invalid_openedat": (lambda b: _set(b, "OpenedAt", "2024-03-01"), "E006", None, "OpenedAt"),
    "invalid_incidentnumber": (lambda b: _set(b, "IncidentNumber", "INC 1"), "E006", None, "IncidentNumber"),
    "shortdescription_161": (lambda b: _set(b, "ShortDescription", "s" * 161), "E006", None, "ShortDescription"),
    "comments_4001": (lambda b: _set(b, "Comments", "c" * 4001), "E006", None, "Comments"),
    "duplicate_state": (lambda b: b.replace(b"</CreateIncidentPush>", b"<State>New</State></CreateIncidentPush>"),
                        "E004", "Duplicate Element Is State", "State"),
    "unexpected_element": (lambda b: b.replace(b"</CreateIncidentPush>", b"<Foo>x</Foo></CreateIncidentPush>"),
                           "E004", "Unexpected Element Is Foo", "Foo"),
}


@pytest.mark.parametrize("name", sorted(CREATE_PUSH_CASES))
def test_create_push_rules(name, inbound, servicenow):
    mutate, code, comments, field = CREATE_PUSH_CASES[name]
    resp = push(inbound, mutate(push_body("create_push")))
    assert_rejected(resp, servicenow, status=400, code=code, comments=comments, field=field)


UPDATE_PUSH_CASES = {
    "missing_crn": (lambda b: _drop(b, "CustomerReferenceNumber"), "E010", None, "CustomerReferenceNumber"),
    "missing_updatedat": (lambda b: _drop(b, "UpdatedAt"), "E005", None, "UpdatedAt"),
    "invalid_resolvedat": (lambda b: _set(b, "ResolvedAt", "yesterday"), "E006", None, "ResolvedAt"),
    "worknote_without_text": (lambda b: _drop(b, "Text"), None, None, None),
    "downtime_end_bad": (lambda b: b.replace(b"</UpdateIncidentPush>", b"<DowntimeEndTime>soon</DowntimeEndTime></UpdateIncidentPush>"),
                         "E046", None, "DowntimeEndTime"),
}


@pytest.mark.parametrize("name", sorted(UPDATE_PUSH_CASES))
def test_update_push_rules(name, inbound, servicenow):
    mutate, code, comments, field = UPDATE_PUSH_CASES[name]
    resp = push(inbound, mutate(push_body("update_push")))
    if code is None:  # SPEC gives no code: a refusal of some kind, and nothing reaches the ITSM
        assert resp.status == 400 and resp.header("x-sm-error-code"), str(resp)
        assert_nothing_upstream(servicenow)
        return
    assert_rejected(resp, servicenow, status=400, code=code, comments=comments, field=field)


ATTACHMENT_PUSH_CASES = {
    "missing_attachments": (lambda b: re.sub(rb"\s*<Attachments>.*</Attachments>", b"", b, flags=re.S),
                            "Missing Element Is Attachments", "Attachments"),
    "missing_attachmentid": (lambda b: _drop(b, "AttachmentId"), "Missing Element Is AttachmentId", "AttachmentId"),
    "four_attachments": (lambda b: re.sub(rb"(<Attachment>.*</Attachment>)", lambda m: m.group(1) * 4, b, flags=re.S),
                         "More than 3 attachments are not allowed", None),
    "missing_filename": (lambda b: _drop(b, "FileName"), "Missing File Name", "FileName"),
    "missing_filedata": (lambda b: _drop(b, "FileData"), "Missing File Data", "FileData"),
}


@pytest.mark.parametrize("name", sorted(ATTACHMENT_PUSH_CASES))
def test_attachment_push_rules(name, inbound, servicenow):
    mutate, comments, field = ATTACHMENT_PUSH_CASES[name]
    resp = push(inbound, mutate(push_body("attachment_push")))
    assert_rejected(resp, servicenow, status=400, code="E004", comments=comments, field=field)


def test_attachment_push_bad_base64(inbound, servicenow):
    resp = push(inbound, _set(push_body("attachment_push"), "FileData", "%%%"))
    assert_rejected(resp, servicenow, status=400, code="E006", field="FileData")


# ---------------------------------------------------------------------------------------------
# §4.3 servicenow profile, §4.4 acknowledgement
# ---------------------------------------------------------------------------------------------
def test_create_push_to_servicenow(inbound, servicenow):
    resp = push(inbound, push_body("create_push"))
    rec = one_itsm_request(servicenow)
    assert rec.method == "POST"
    assert rec.path == "/api/now/table/incident"
    assert rec.params == SN_QUERY
    assert rec.header("x-sita-incident-number") == "INC0042001"
    doc = rec.json()
    assert s(doc.get("correlation_id")) == "INC0042001"
    assert s(doc.get("correlation_display")) == "SITA"
    assert doc.get("short_description") == "Baggage belt 4 stopped at GVA"
    assert doc.get("description", "").startswith("Belt 4 in the sorting hall")
    assert (s(doc.get("impact")), s(doc.get("urgency"))) == ("1", "2")  # Priority 2
    assert s(doc.get("state")) == "1"  # New
    assert doc.get("caller_id") == "Ground Ops Duty Manager"
    assert doc.get("assignment_group") == "Baggage Systems"
    assert doc.get("location") == "GVA Sorting Hall"
    assert doc.get("cmdb_ci") == "BELT-04"
    assert doc.get("comments") == "Raised by SITA monitoring."
    assert doc.get("opened_at") == "2024-03-01 05:45:00"
    assert 200 <= resp.status < 300, str(resp)
    ack = push_response(resp)
    sys_id = [k for k in servicenow.incidents if k != KNOWN_SYS_ID][0]
    assert ack == {"Status": "Success", "IncidentNumber": "INC0042001", "CustomerReferenceNumber": sys_id}


@pytest.mark.parametrize("priority,impact,urgency", [("1", "1", "1"), ("2", "1", "2"), ("3", "2", "2"),
                                                     ("4", "2", "3"), ("5", "3", "3")])
def test_priority_to_impact_urgency(inbound, servicenow, priority, impact, urgency):
    push(inbound, _set(push_body("create_push"), "Priority", priority))
    doc = one_itsm_request(servicenow).json()
    assert (s(doc.get("impact")), s(doc.get("urgency"))) == (impact, urgency)


@pytest.mark.parametrize("state,value", [("New", "1"), ("Work In Progress", "2"), ("On Hold", "3"),
                                         ("Resolved", "6"), ("Closed", "7"), ("Cancelled", "8"), ("on hold", "3")])
def test_state_mapping(inbound, servicenow, state, value):
    push(inbound, _set(push_body("create_push"), "State", state))
    assert s(one_itsm_request(servicenow).json().get("state")) == value


def test_update_push_to_servicenow(inbound, servicenow):
    resp = push(inbound, push_body("update_push"))
    rec = one_itsm_request(servicenow)
    assert rec.method == "PATCH"
    assert rec.path == f"/api/now/table/incident/{KNOWN_SYS_ID}"
    assert rec.params == SN_QUERY
    doc = rec.json()
    assert s(doc.get("correlation_id")) == "INC0042001"
    assert s(doc.get("state")) == "6"
    assert (s(doc.get("impact")), s(doc.get("urgency"))) == ("2", "2")
    assert doc.get("close_code") == "Solved (Permanently)"
    assert doc.get("close_notes") == "Motor controller replaced."
    assert doc.get("resolved_at") == "2024-03-01 07:10:00"
    assert doc.get("work_notes") == ("[2024-03-01 06:20:00 J. Smith] Technician on site.\n\n"
                                     "[2024-03-01 07:05:00 J. Smith] Controller swapped, belt running.")
    assert 200 <= resp.status < 300, str(resp)
    assert push_response(resp) == {"Status": "Success", "IncidentNumber": "INC0042001",
                                   "CustomerReferenceNumber": KNOWN_SYS_ID}


def test_update_push_unknown_sys_id_is_e011(inbound, servicenow):
    resp = push(inbound, _set(push_body("update_push"), "CustomerReferenceNumber", "0" * 32))
    assert one_itsm_request(servicenow).method == "PATCH"
    assert resp.status == 404, str(resp)
    ack = push_response(resp)
    assert ack.get("Status") == "Failure"
    assert ack.get("ErrorCode") == "E011", ack
    assert resp.header("x-sm-error-code") in (None, "E011")


def test_attachment_push_to_servicenow_batch(inbound, servicenow):
    resp = push(inbound, push_body("attachment_push"))
    rec = one_itsm_request(servicenow)
    assert rec.method == "POST" and rec.path == "/api/now/v1/batch"
    doc = rec.json()
    assert doc.get("batch_request_id")
    (sub,) = doc["rest_requests"]
    assert sub["method"] == "POST" and sub.get("id")
    url = urllib.parse.urlsplit(sub["url"])
    assert url.path == "/api/now/attachment/file"
    assert dict(urllib.parse.parse_qsl(url.query)) == {
        "table_name": "incident", "table_sys_id": KNOWN_SYS_ID, "file_name": "belt4-controller.log"}
    hdrs = {h["name"].lower(): h["value"] for h in sub["headers"]}
    assert hdrs.get("content-type") == "text/plain" and hdrs.get("accept") == "application/json"
    assert base64.b64decode(sub["body"], validate=True) == b"05:40 motor controller fault E17\n07:05 controller replaced\n"
    assert 200 <= resp.status < 300, str(resp)
    ack = push_response(resp)
    assert ack.get("Status") == "Success" and ack.get("IncidentNumber") == "INC0042001"
    assert servicenow.attachments[0]["data"].startswith(b"05:40 motor")


def test_attachment_content_type_default(inbound, servicenow):
    push(inbound, _drop(push_body("attachment_push"), "ContentType"))
    sub = one_itsm_request(servicenow).json()["rest_requests"][0]
    hdrs = {h["name"].lower(): h["value"] for h in sub["headers"]}
    assert hdrs.get("content-type") == "application/octet-stream"


def test_attachment_base64_reencoded_canonically(inbound, servicenow):
    data = b"line one of a log file that is long enough to wrap\n" * 4
    wrapped = "\n        ".join(re.findall(".{1,40}", base64.b64encode(data).decode()))
    push(inbound, _set(push_body("attachment_push"), "FileData", wrapped))
    sub = one_itsm_request(servicenow).json()["rest_requests"][0]
    assert sub["body"] == base64.b64encode(data).decode()


@pytest.mark.parametrize("status", [500, 503, 400, 409])
def test_itsm_error_becomes_502_failure(inbound, servicenow, status):
    servicenow.force_next(status, {"error": {"message": "boom", "detail": "x"}, "status": "failure"})
    resp = push(inbound, push_body("create_push"))
    assert resp.status == 502, str(resp)
    ack = push_response(resp)
    assert ack.get("Status") == "Failure" and ack.get("ErrorCode") == "500", ack
    assert str(status) in ack.get("ErrorDescription", ""), ack


def test_itsm_garbage_body_is_failure(inbound, servicenow):
    servicenow.force_next(201, "<html>not json</html>", content_type="text/html")
    resp = push(inbound, push_body("create_push"))
    assert resp.status == 502, str(resp)
    ack = push_response(resp)
    assert ack.get("Status") == "Failure" and ack.get("ErrorCode") == "500", ack


def test_itsm_error_body_truncated(inbound, servicenow):
    servicenow.force_next(500, {"error": {"message": "Z" * 1000}})
    resp = push(inbound, push_body("create_push"))
    assert resp.status == 502
    assert b"Z" * 201 not in resp.body


def test_batch_sub_request_failure_is_failure(inbound, servicenow):
    resp = push(inbound, _set(push_body("attachment_push"), "CustomerReferenceNumber", "f" * 32))
    one_itsm_request(servicenow)
    assert not 200 <= resp.status < 300, str(resp)
    assert push_response(resp).get("Status") == "Failure"


# ---------------------------------------------------------------------------------------------
# §4.3 generic profile
# ---------------------------------------------------------------------------------------------
def test_generic_profile_lossless_json(inbound_with, servicenow):
    envoy = inbound_with({"itsm": {"profile": "generic", "auth_header": "authorization", "auth": {"env": "ITSM_AUTH"},
                                   "generic": {"path": "/api/sita/push",
                                               "always_array": ["UpdateIncidentPush/WorkNotes/WorkNote"]}}})
    body = re.sub(rb"<WorkNotes>.*?</WorkNotes>", b"<WorkNotes><WorkNote><Text>only</Text></WorkNote></WorkNotes>",
                  push_body("update_push"), flags=re.S)
    body = body.replace(b"<Priority>3</Priority>", b'<Priority scale="sita">3</Priority>')
    servicenow.force_next(200, {"ok": True})
    push(envoy, body)
    rec = one_itsm_request(servicenow)
    assert rec.method == "POST" and rec.path == "/api/sita/push"
    doc = rec.json()
    assert list(doc) == ["UpdateIncidentPush"]
    inner = doc["UpdateIncidentPush"]
    assert list(inner)[:3] == ["IncidentNumber", "CustomerReferenceNumber", "UpdatedAt"]
    assert inner["IncidentNumber"] == "INC0042001"
    assert inner["Priority"] == {"@scale": "sita", "#text": "3"}
    assert inner["WorkNotes"] == {"WorkNote": [{"Text": "only"}]}
