"""Inbound through real Envoy with the other profiles (SPEC §4.3, docs/profiles.md): the built-in
lossless `generic` profile, and custom profiles given in the configuration alone — the BMC Helix
example of docs/profiles.md §4 (read from the document itself, so the documented text is the
tested one) and the `extends` example of §5.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from checks import assert_rejected
from test_inbound import (KNOWN_SYS_ID, SN_QUERY, assert_ack, assert_e011, assert_itsm_500, assert_itsm_request,
                          fixture_body, one_itsm_request, ordered, push)

import harness

ITSM_BASE = {"auth_header": "authorization", "auth": {"env": "ITSM_AUTH"}}


def pairs(obj):
    """A JSON value as ``ordered`` reads it: objects as lists of (key, value), order kept."""
    if isinstance(obj, dict):
        return [(k, pairs(v)) for k, v in obj.items()]
    if isinstance(obj, list):
        return [pairs(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------
# generic
# ---------------------------------------------------------------------------------------------
GENERIC = {
    "itsm": dict(ITSM_BASE, profile="generic", generic={
        "path": "/sita/push",
        "always_array": ["UpdateIncidentPush/WorkNotes/WorkNote", "UpdateIncidentAttachmentPush/Attachments/Attachment"],
    }),
    # elements the catalogue does not know pass validation, so the lossless form can show them
    "unknown_elements": "ignore",
}


@pytest.fixture
def generic(inbound_with):
    return inbound_with(GENERIC)


def accepts(itsm, times: int = 1):
    """The generic ITSM (the ServiceNow stand-in knows no /sita/push) answers 202 this time."""
    itsm.force_next(202, {"received": True}, times=times)


UPDATE_GENERIC = """<?xml version="1.0" encoding="UTF-8"?>
<UpdateIncidentPush version="2" source="sita">
  <IncidentNumber>0007</IncidentNumber>
  <CustomerReferenceNumber>00042</CustomerReferenceNumber>
  <UpdatedAt>2026-03-14 09:30:00</UpdatedAt>
  <Priority>3</Priority>
  <WorkNotes><WorkNote><CreatedBy>bob</CreatedBy><Text>Called back</Text></WorkNote></WorkNotes>
  <Comments>
     true &amp; 1.50 &lt;ok&gt;
  </Comments>
  <Tagged lang="en">x</Tagged>
  <Empty/>
  <Mixed a="1" b="&quot;2&quot;"><Inner>i</Inner> tail <![CDATA[text]]> </Mixed>
  <Rep>1</Rep>
  <Other>o</Other>
  <Rep>3</Rep>
  <ZFirst>z</ZFirst>
  <AFirst>a</AFirst>
</UpdateIncidentPush>
"""

UPDATE_GENERIC_JSON = {"UpdateIncidentPush": {
    "@version": "2", "@source": "sita",
    "IncidentNumber": "0007", "CustomerReferenceNumber": "00042", "UpdatedAt": "2026-03-14 09:30:00",
    "Priority": "3",
    "WorkNotes": {"WorkNote": [{"CreatedBy": "bob", "Text": "Called back"}]},
    "Comments": "true & 1.50 <ok>",
    "Tagged": {"@lang": "en", "#text": "x"},
    "Empty": "",
    "Mixed": {"@a": "1", "@b": '"2"', "Inner": "i", "#text": "tail text"},
    "Rep": ["1", "3"],
    "Other": "o",
    "ZFirst": "z",
    "AFirst": "a",
}}


def test_generic_lossless_json_in_document_order(generic, servicenow):
    accepts(servicenow)
    resp = push(generic, UPDATE_GENERIC.encode(), request_id="generic-1")
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="POST", path="/sita/push", query="", incident="0007",
                              request_id="generic-1")
    mixed_text = got["UpdateIncidentPush"]["Mixed"]["#text"]
    expected = json.loads(json.dumps(UPDATE_GENERIC_JSON))
    # how the whitespace between a child, text and CDATA is joined is the reader's business;
    # the trimmed text must hold both pieces in order
    assert re.fullmatch(r"tail\s*text", mixed_text), mixed_text
    expected["UpdateIncidentPush"]["Mixed"]["#text"] = mixed_text
    assert got == expected, json.dumps(got, indent=1)
    assert ordered(rec.body) == pairs(expected), "key order follows the document"
    # status mode: any 2xx is success, the push's own CustomerReferenceNumber goes back
    assert_ack(resp, status=200, incident="0007", crn="00042")


def test_generic_repeated_siblings_without_always_array(generic, servicenow):
    accepts(servicenow)
    body = UPDATE_GENERIC.replace(
        "<WorkNotes><WorkNote><CreatedBy>bob</CreatedBy><Text>Called back</Text></WorkNote></WorkNotes>",
        "<WorkNotes><WorkNote><Text>one</Text></WorkNote><WorkNote><Text>two</Text></WorkNote></WorkNotes>")
    resp = push(generic, body.encode())
    got = one_itsm_request(servicenow, resp).json()["UpdateIncidentPush"]
    assert got["WorkNotes"] == {"WorkNote": [{"Text": "one"}, {"Text": "two"}]}, got
    assert got["Rep"] == ["1", "3"] and got["Tagged"] == {"@lang": "en", "#text": "x"}, got


def test_generic_single_element_not_in_always_array_is_not_an_array(generic, servicenow):
    accepts(servicenow)
    resp = push(generic, fixture_body("create_push"))
    got = one_itsm_request(servicenow, resp).json()
    assert list(got) == ["CreateIncidentPush"], got
    inner = got["CreateIncidentPush"]
    assert inner["Priority"] == "2" and inner["State"] == "Work In Progress", inner
    assert inner["Description"] == 'Since 06:10 the kiosk at gate B12 shows "printer offline" & rejects every print <retry>.'
    assert list(inner) == ["IncidentNumber", "ShortDescription", "Description", "State", "Priority", "OpenedAt",
                           "AffectedEndUser", "Email", "AssignmentGroup", "Module", "Location", "ConfigurationItem",
                           "DowntimeStartTime", "DowntimeEndTime", "Comments"], list(inner)
    assert all(isinstance(v, str) for v in inner.values()), inner
    # a CREATE without CustomerReferenceNumber: none in the ack
    assert_ack(resp, status=200, incident="INC0012345", crn=None)


def test_generic_namespace_prefix_dropped(generic, servicenow):
    accepts(servicenow)
    body = (b'<?xml version="1.0"?>\n<sp:CreateIncidentPush xmlns:sp="urn:sita:push" xmlns="urn:default">'
            b"<sp:IncidentNumber>INC77</sp:IncidentNumber><ShortDescription>s</ShortDescription>"
            b"<sp:Description>d</sp:Description><State>New</State><sp:Priority>1</sp:Priority>"
            b"<OpenedAt>2026-01-02 03:04:05</OpenedAt></sp:CreateIncidentPush>")
    resp = push(generic, body)
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="POST", path="/sita/push", query="", incident="INC77")
    assert got == {"CreateIncidentPush": {"IncidentNumber": "INC77", "ShortDescription": "s", "Description": "d",
                                          "State": "New", "Priority": "1", "OpenedAt": "2026-01-02 03:04:05"}}, got
    assert_ack(resp, status=200, incident="INC77")


def test_generic_attachments_always_array_and_filedata_as_sent(generic, servicenow):
    accepts(servicenow)
    b64 = base64.b64encode(bytes(range(256))).decode()
    body = (f'<?xml version="1.0"?>\n<UpdateIncidentAttachmentPush><IncidentNumber>INC5</IncidentNumber>'
            f"<CustomerReferenceNumber>abc</CustomerReferenceNumber><UpdatedAt>2026-03-14 09:35:00</UpdatedAt>"
            f"<Attachments><Attachment><AttachmentId>1</AttachmentId><FileName>a b.bin</FileName>"
            f"<FileData>\n  {b64}\n  </FileData></Attachment></Attachments></UpdateIncidentAttachmentPush>").encode()
    resp = push(generic, body)
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="POST", path="/sita/push", query="", incident="INC5")
    assert got == {"UpdateIncidentAttachmentPush": {
        "IncidentNumber": "INC5", "CustomerReferenceNumber": "abc", "UpdatedAt": "2026-03-14 09:35:00",
        "Attachments": {"Attachment": [{"AttachmentId": "1", "FileName": "a b.bin", "FileData": b64}]}}}, got
    assert_ack(resp, status=200, incident="INC5", crn="abc")


def test_generic_still_validates(generic, servicenow):
    body = fixture_body("create_push_missing_shortdescription")
    assert_rejected(push(generic, body), servicenow, status=400, code="E004",
                    comments="Missing Element Is ShortDescription")
    # no profile requirement: an UPDATE without CustomerReferenceNumber is converted
    body = re.sub(rb"\s*<CustomerReferenceNumber>.*?</CustomerReferenceNumber>", b"", fixture_body("update_push_minimal"))
    accepts(servicenow)
    resp = push(generic, body)
    got = one_itsm_request(servicenow, resp).json()
    assert "CustomerReferenceNumber" not in got["UpdateIncidentPush"]
    assert_ack(resp, status=200, incident="INC0012345", crn=None)


@pytest.mark.parametrize("status,body", [(200, "garbage, not json"), (202, ""), (204, "")])
def test_generic_any_2xx_is_success(status, body, generic, servicenow):
    servicenow.force_next(status, body, content_type="text/plain")
    resp = push(generic, fixture_body("update_push_minimal"))
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)


def test_generic_failures(generic, servicenow):
    servicenow.force_next(404, "nope", content_type="text/plain")
    assert_e011(push(generic, fixture_body("update_push_minimal")), "INC0012345")
    servicenow.reset()
    servicenow.force_next(503, "maintenance " * 100, content_type="text/plain")
    ack = assert_itsm_500(push(generic, fixture_body("update_push_minimal")), "INC0012345", 503)
    assert "maintenance" in ack["Comments"] and len(ack["Comments"]) <= 250, ack


# ---------------------------------------------------------------------------------------------
# BMC Helix, from the configuration alone (docs/profiles.md §4)
# ---------------------------------------------------------------------------------------------
def documented_bmc_profile() -> dict:
    text = (harness.REPO / "docs" / "profiles.md").read_text("utf-8")
    section = text.split("## 4.", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```json\n(.*?)\n```", section, re.S).group(1)
    return json.loads(block)


BMC = {"itsm": dict(ITSM_BASE, profile="bmc", profiles={"bmc": documented_bmc_profile()})}
HELIX_ID = "INC000000000123"
CREATE_PATH = "/api/arsys/v1/entry/HPD:IncidentInterface_Create"


@pytest.fixture
def bmc(inbound_with):
    return inbound_with(BMC)


def test_bmc_create(bmc, servicenow):
    servicenow.force_next(201, {"values": {"Incident Number": HELIX_ID}})
    resp = push(bmc, fixture_body("create_push"), request_id="bmc-create")
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="POST", path=CREATE_PATH, query="fields=values%28Incident%20Number%29",
                              incident="INC0012345", request_id="bmc-create")
    assert rec.header_all("x-requested-by") == ["SITA"], rec.describe()
    assert got == {"values": {
        "z1D_Action": "CREATE",
        "First_Name": "Jane Doe",
        "Internet E-mail": "jane.doe@example.com",
        "Description": "Check-in kiosk B12 does not print boarding passes",
        "Detailed_Decription": 'Since 06:10 the kiosk at gate B12 shows "printer offline" & rejects every print <retry>.',
        "Impact": "1-Extensive/Widespread",
        "Urgency": "2-High",
        "Status": "In Progress",
        "Reported Source": "Other",
        "Service_Type": "User Service Restoration",
        "Assigned Group": "Airport Kiosk Support",
        "Vendor Ticket Number": "INC0012345",
        "Vendor Name": "SITA",
    }}, json.dumps(got, indent=1)
    assert_ack(resp, status=200, incident="INC0012345", crn=HELIX_ID)


@pytest.mark.parametrize("priority,impact,urgency", [
    ("1", "1-Extensive/Widespread", "1-Critical"), ("3", "2-Significant/Large", "2-High"),
    ("4", "3-Moderate/Limited", "3-Medium"), ("5", "4-Minor/Localized", "4-Low")])
def test_bmc_priority_maps(priority, impact, urgency, bmc, servicenow):
    servicenow.force_next(201, {"values": {"Incident Number": HELIX_ID}})
    body = re.sub(rb"<Priority>\d</Priority>", f"<Priority>{priority}</Priority>".encode(),
                  fixture_body("create_push_minimal"))
    resp = push(bmc, body)
    values = one_itsm_request(servicenow, resp).json()["values"]
    assert (values["Impact"], values["Urgency"], values["Status"]) == (impact, urgency, "New"), values
    assert "First_Name" not in values and "Assigned Group" not in values, "absent elements are omitted"


def test_bmc_create_errors(bmc, servicenow):
    servicenow.force_next(400, [{"messageType": "ERROR", "messageText": "Required field (Last Name) missing",
                                 "messageNumber": 326}])
    ack = assert_itsm_500(push(bmc, fixture_body("create_push")), "INC0012345", 400)
    assert "Required field (Last Name) missing" in ack["Comments"], ack  # error_pointer /0/messageText
    assert "messageNumber" not in ack["Comments"], ack
    servicenow.reset()
    servicenow.force_next(201, {"values": {"Request ID": "000000000000123"}})
    assert_itsm_500(push(bmc, fixture_body("create_push")), "INC0012345", 201)


def bmc_update_body() -> bytes:
    return fixture_body("update_push").replace(KNOWN_SYS_ID.encode(), HELIX_ID.encode())


def test_bmc_update(bmc, servicenow):
    servicenow.force_next(204, b"")
    resp = push(bmc, bmc_update_body())
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="PUT", path=f"/api/arsys/v1/entry/HPD:IncidentInterface/{HELIX_ID}%7C{HELIX_ID}",
                              query="", incident="INC0012345")
    assert rec.header_all("x-requested-by") == ["SITA"]
    assert got == {"values": {
        "Description": "Kiosk B12 printer replaced",
        "Detailed_Decription": "Printer module swapped; test prints OK.",
        "Impact": "3-Moderate/Limited",
        "Urgency": "3-Medium",
        "Status": "Resolved",
        "Assigned Group": "Airport Kiosk Support",
        "Resolution": "Faulty thermal printer replaced by spare SN-4411.",
        "z1D_Details": "2026-03-14 07:05:00 j.smith: Engineer dispatched.\n2026-03-14 08:40:00: Spare part collected."
                       "\na.lee: Printer swapped.\nTest print OK.",
    }}, json.dumps(got, indent=1)
    # "mode": "status": the 204 is a success, the push's CustomerReferenceNumber goes back
    assert_ack(resp, status=200, incident="INC0012345", crn=HELIX_ID)


def test_bmc_update_needs_crn_and_maps_404(bmc, servicenow):
    body = re.sub(rb"\s*<CustomerReferenceNumber>.*?</CustomerReferenceNumber>", b"", bmc_update_body())
    assert_rejected(push(bmc, body), servicenow, status=400, code="E010", field="CustomerReferenceNumber")
    servicenow.force_next(404, [{"messageType": "ERROR", "messageText": "Entry does not exist"}])
    assert_e011(push(bmc, bmc_update_body()), "INC0012345")


def test_bmc_attachments_as_work_log(bmc, servicenow):
    servicenow.force_next(201, b"", headers=[("Location", "/api/arsys/v1/entry/HPD:WorkLog/000000000000777")])
    body = fixture_body("attachment_push").replace(KNOWN_SYS_ID.encode(), HELIX_ID.encode())
    resp = push(bmc, body)
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="POST", path="/api/arsys/v1/entry/HPD:WorkLog", query="",
                              incident="INC0012345")
    assert got == {"values": {"Incident Number": HELIX_ID, "Work Log Type": "General Information",
                              "Description": "Attachments from SITA INC0012345",
                              "Detailed Description": "service report (1).pdf, kiosk.log"}}, got
    assert_ack(resp, status=200, incident="INC0012345", crn=HELIX_ID)


# ---------------------------------------------------------------------------------------------
# extending a built-in (docs/profiles.md §5)
# ---------------------------------------------------------------------------------------------
def documented_snx_itsm() -> dict:
    text = (harness.REPO / "docs" / "profiles.md").read_text("utf-8")
    section = text.split("## 5.", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```json\n(.*?)\n```", section, re.S).group(1)
    return json.loads("{" + block + "}")["itsm"]


def test_extends_servicenow_maps_module_and_keeps_the_rest(inbound_with, servicenow):
    itsm = dict(documented_snx_itsm(), **ITSM_BASE)
    envoy = inbound_with({"itsm": itsm})
    resp = push(envoy, fixture_body("create_push"))
    got = assert_itsm_request(one_itsm_request(servicenow, resp), method="POST", path="/api/now/table/incident",
                              query=SN_QUERY, incident="INC0012345")
    assert got == {"correlation_id": "INC0012345", "correlation_display": "SITA",
                   "short_description": "Check-in kiosk B12 does not print boarding passes",
                   "description": 'Since 06:10 the kiosk at gate B12 shows "printer offline" & rejects every print <retry>.',
                   "u_sita_module": "Kiosk"}, got
    assert resp.status == 200 and "CustomerReferenceNumber" in resp.text, resp
    servicenow.reset()
    # UPDATE and its acknowledgement come from servicenow
    resp = push(envoy, fixture_body("update_push_minimal"))
    rec = one_itsm_request(servicenow, resp)
    assert rec.method == "PATCH" and rec.target == f"/api/now/table/incident/{KNOWN_SYS_ID}?{SN_QUERY}"
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)


# ---------------------------------------------------------------------------------------------
# a small custom profile: templates, encoding, constants, $each, $unmapped error (docs §1)
# ---------------------------------------------------------------------------------------------
MINI = {
    "acknowledge": {"mode": "id", "id_pointer": "/data/id", "error_pointer": "/why"},
    "messages": {
        "CreateIncidentPush": {
            "method": "put",
            "path": "/t/{ShortDescription}/x",
            "query": {"q": "{Description}", "opt": "{Email}"},
            "headers": {"X-Source": "SITA {IncidentNumber}", "X-User": "{AffectedEndUser}"},
            "body": {"json": {"s": {"$path": "State", "$map": {"new": 1}, "$unmapped": "error"},
                              "$$ref": "r", "n": None, "k": True, "arr": [{"$path": "Email"}, "c"],
                              "who": {"$template": ["{AffectedEndUser} <{Email}>", "{AffectedEndUser}", "nobody"]},
                              "list": ["{AffectedEndUser} <{Email}>", "{AffectedEndUser}", "x"]}},
        },
        "UpdateIncidentPush": {"method": "PATCH", "path": "/u/{IncidentNumber}", "body": {"generic": {}}},
        "UpdateIncidentAttachmentPush": {
            "method": "POST", "path": "/a",
            "body": {"json": {"files": {"$each": "Attachments/Attachment",
                                        "$item": {"name": {"$path": "FileName"}, "id": {"$path": "AttachmentId"}}}}},
            "acknowledge": {"mode": "status"},
        },
    },
}
MINI_CONFIG = {"itsm": dict(ITSM_BASE, profile="mini", profiles={"mini": MINI})}


def mini_create(state="New", extra="") -> bytes:
    return (f'<?xml version="1.0"?>\n<CreateIncidentPush><IncidentNumber>INC9</IncidentNumber>'
            f"<ShortDescription>a b/c?d</ShortDescription><Description>d&amp;e=f g+h</Description>"
            f"<State>{state}</State><Priority>3</Priority><OpenedAt>2026-01-02 03:04:05</OpenedAt>{extra}"
            f"</CreateIncidentPush>").encode()


def test_custom_profile_templates_and_encoding(inbound_with, servicenow):
    envoy = inbound_with(MINI_CONFIG)
    servicenow.force_next(200, {"data": {"id": "X-1"}})
    resp = push(envoy, mini_create(extra="<AffectedEndUser>Ann Lee</AffectedEndUser>"))
    rec = one_itsm_request(servicenow, resp)
    got = assert_itsm_request(rec, method="PUT", path="/t/a%20b%2Fc%3Fd/x", query="q=d%26e%3Df%20g%2Bh",
                              incident="INC9")
    assert rec.header_all("x-source") == ["SITA INC9"] and rec.header_all("x-user") == ["Ann Lee"], rec.describe()
    # a JSON array in the template is an array (an item without value dropped); alternatives
    # are written with $template
    assert ordered(rec.body) == [("s", 1), ("$ref", "r"), ("n", None), ("k", True), ("arr", ["c"]),
                                 ("who", "Ann Lee"), ("list", ["Ann Lee", "x"])], rec.body
    assert_ack(resp, status=200, incident="INC9", crn="X-1")


def test_custom_profile_unmapped_error_is_the_filters_500(inbound_with, servicenow):
    envoy = inbound_with(MINI_CONFIG)
    resp = push(envoy, mini_create(state="Closed"))
    assert_rejected(resp, servicenow, status=500, code="500")


def test_custom_profile_header_injection_never_reaches_itsm(inbound_with, servicenow):
    envoy = inbound_with(MINI_CONFIG)
    resp = push(envoy, mini_create(extra="<AffectedEndUser>Ann&#13;&#10;X-Evil: 1</AffectedEndUser>"))
    assert resp.status in (400, 500) and resp.header("x-sm-error-code") in ("E006", "500"), resp
    assert all(r.header("x-evil") is None for r in servicenow.received())
    assert not servicenow.received(), "refused, so nothing reaches the ITSM"


def test_custom_profile_each_and_generic_body_with_own_path(inbound_with, servicenow):
    envoy = inbound_with(MINI_CONFIG)
    servicenow.force_next(201, b"")
    resp = push(envoy, fixture_body("attachment_push"))
    got = assert_itsm_request(one_itsm_request(servicenow, resp), method="POST", path="/a", query="",
                              incident="INC0012345")
    assert got == {"files": [{"name": "service report (1).pdf", "id": "ATT-1"}, {"name": "kiosk.log", "id": "ATT-2"}]}
    assert_ack(resp, status=200, incident="INC0012345", crn=KNOWN_SYS_ID)
    servicenow.reset()
    servicenow.force_next(200, {"ok": 1})
    resp = push(envoy, fixture_body("update_push_minimal"))
    rec = one_itsm_request(servicenow, resp)
    assert (rec.method, rec.target) == ("PATCH", "/u/INC0012345"), rec.describe()
    assert list(rec.json()) == ["UpdateIncidentPush"]
    assert_itsm_500(resp, "INC0012345", 200)  # the profile's id mode: no /data/id in the answer


# ---------------------------------------------------------------------------------------------
# §5 a broken inbound configuration is refused at load, naming the key (each costs an Envoy
# start, ~5 s: the profile-related ones; the rest is covered by the unit tests of config.rs)
# ---------------------------------------------------------------------------------------------
def _inbound(**itsm):
    return {"direction": "inbound", "apikeys": [{"env": "SITA_PUSH_APIKEY"}], "itsm": dict(ITSM_BASE, **itsm)}


BAD_INBOUND = {
    "profile_typo": (_inbound(profile="bad", profiles={"bad": {"extends": "servicenow", "messages": {
        "CreateIncidentPush": {"method": "POST", "path": "/x", "body": {"json": {"a": {"$mapp": "State"}}}}}}}),
        "$mapp"),
    "generic_without_path": (_inbound(profile="generic"), "generic"),
    "reserved_header": (_inbound(profile="h", profiles={"h": {"extends": "servicenow", "messages": {
        "CreateIncidentPush": {"method": "POST", "path": "/x", "headers": {"Content-Type": "text/plain"},
                               "body": {"json": {}}}}}}), "content-type"),
    "auth_env_unset": (_inbound(auth={"env": "ITSM_AUTH_NOT_SET"}), "ITSM_AUTH_NOT_SET"),
}


@pytest.mark.parametrize("name", sorted(BAD_INBOUND))
def test_broken_inbound_configuration_refused(name, envoys, servicenow):
    config, key = BAD_INBOUND[name]
    env = {"SITA_PUSH_APIKEY": "k", "ITSM_AUTH": "Basic eA=="}
    with pytest.raises(harness.EnvoyStartError) as info:
        envoys.start("inbound", config, env, servicenow, timeout=30).stop()
    assert key.lower() in str(info.value).lower(), f"the log should name {key!r}:\n{info.value}"
    assert "Basic eA==" not in str(info.value), "never a secret in the log"
