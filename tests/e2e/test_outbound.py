"""Outbound (customer ITSM -> SITA) through real Envoy, written from SPEC §2, §3, §5, §6.

Most cases are data: fixtures/outbound/<name>.xml (a POST/PUT body) or <name>.query (a GET
request target) with <name>.expected.json beside it:
  {"status": 400, "code": "E004", "comments": "...", "field": "...", "message": "..."}
  {"status": 201, "forwarded": true}
and optionally "config" (keys merged into the least outbound configuration), "method", "path",
"content_type".  The rest — content types, sizes, chunking, trailers, keys, clock, limits,
configuration errors, metrics — is below.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time
from pathlib import Path

import harness
import pytest
from checks import (CLIENT_KEY, TEST_SITA_KEY, assert_forwarded, assert_nothing_upstream,
                    assert_rejected)

FIXTURES = harness.REPO / "fixtures" / "outbound"
XML = "application/xml"
MiB = 1024 * 1024


# ---------------------------------------------------------------------------------------------
# fixture-driven cases
# ---------------------------------------------------------------------------------------------
class Case:
    def __init__(self, path: Path):
        self.name = path.name.split(".")[0]
        self.path = path
        self.expected = json.loads((path.parent / f"{self.name}.expected.json").read_text("utf-8"))
        self.config = self.expected.get("config") or {}
        self.is_get = path.suffix == ".query"

    @property
    def root(self) -> str:
        return self.name.split("_")[0]

    def send(self, envoy, **kw) -> harness.Response:
        headers = {"apikey": CLIENT_KEY}
        if self.is_get:
            target = self.path.read_text("utf-8").strip()
            return envoy.request(self.expected.get("method", "GET"), target, headers=headers, **kw)
        method = self.expected.get("method", "PUT" if self.root == "update" else "POST")
        return envoy.request(method, self.expected.get("path", "/incident"), headers=headers,
                             body=self.body, content_type=self.expected.get("content_type", XML), **kw)

    @property
    def body(self) -> bytes:
        return self.path.read_bytes()

    @property
    def target(self) -> str | None:
        return self.path.read_text("utf-8").strip() if self.is_get else None


def _cases():
    found = [Case(p) for p in FIXTURES.iterdir() if p.suffix in (".xml", ".query")]
    # same configuration next to each other, so one Envoy serves a run of cases
    return sorted(found, key=lambda c: (json.dumps(c.config, sort_keys=True), c.name))


CASES = _cases()


def check_case(case: Case, resp: harness.Response, sita):
    exp = case.expected
    if exp.get("forwarded"):
        assert_forwarded(resp, sita, status=exp["status"], body=None if case.is_get else case.body,
                         target=case.target)
    else:
        assert_rejected(resp, sita, status=exp["status"], code=exp["code"], comments=exp.get("comments"),
                        field=exp.get("field"), message=exp.get("message"))


def test_fixture_set_is_complete():
    names = {c.name for c in CASES}
    assert len(CASES) >= 150
    for prefix in ("create_valid", "create_", "update_valid", "update_", "list_valid", "list_", "read_valid",
                   "activitylog_valid", "attachments_valid", "unknown_root"):
        assert any(n.startswith(prefix) for n in names), prefix
    for c in CASES:
        assert c.expected.get("forwarded") or c.expected.get("code"), c.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case, outbound_with, sita):
    envoy = outbound_with(case.config)
    resp = case.send(envoy)
    check_case(case, resp, sita)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def fixture_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.xml").read_bytes()


VALID_CREATE = "create_valid_full"


def post(envoy, body, content_type=XML, headers=None, **kw):
    hdrs = {"apikey": CLIENT_KEY}
    hdrs.update(headers or {})
    return envoy.request("POST", "/incident", headers=hdrs, body=body, content_type=content_type, **kw)


def wrap_create(extra: str) -> bytes:
    """A valid CREATE with ``extra`` inserted before the closing tag."""
    body = fixture_body("create_valid_minimal").decode()
    return body.replace("</CreateIncidentRequest>", extra + "</CreateIncidentRequest>").encode()


# ---------------------------------------------------------------------------------------------
# §3.1 content type, §2 body size / empty body
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ctype", ["application/json", "text/plain", "application/x-www-form-urlencoded",
                                   "application/xml-dtd", "multipart/form-data; boundary=x"])
def test_wrong_content_type_is_415(outbound, sita, ctype):
    resp = post(outbound, fixture_body(VALID_CREATE), content_type=ctype)
    assert_rejected(resp, sita, status=415, code="E004", comments="Content-Type must be application/xml")


def test_missing_content_type_is_415(outbound, sita):
    resp = post(outbound, fixture_body(VALID_CREATE), content_type=None)
    assert_rejected(resp, sita, status=415, code="E004", comments="Content-Type must be application/xml")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_wrong_content_type_on_put_patch(outbound, sita, method):
    resp = outbound.request(method, "/incident", body=fixture_body("update_valid_full"), content_type="application/json")
    assert_rejected(resp, sita, status=415, code="E004", comments="Content-Type must be application/xml")


@pytest.mark.parametrize("ctype", ["application/xml", "text/xml", "application/xml; charset=utf-8",
                                   "text/xml;charset=UTF-8", "Application/XML"])
def test_accepted_content_types(outbound, sita, ctype):
    body = fixture_body(VALID_CREATE)
    resp = post(outbound, body, content_type=ctype)
    assert_forwarded(resp, sita, body=body, status=201)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_update_by_any_body_method(outbound, sita, method):
    body = fixture_body("update_valid_full")
    resp = outbound.request(method, "/incident", headers={"apikey": CLIENT_KEY}, body=body, content_type=XML)
    assert_forwarded(resp, sita, body=body, method=method, status=200)


def test_empty_body(outbound, sita):
    resp = post(outbound, b"")
    assert_rejected(resp, sita, status=400, code="E004", comments="Missing Request Body")


def test_whitespace_only_body_is_refused(outbound, sita):
    resp = post(outbound, b"  \n\t ")
    assert_rejected(resp, sita, status=400, code="E004")


def test_body_too_large_from_content_length_at_once(outbound, sita):
    """Content-Length above 10 MiB: 413 from the headers, before any body byte is sent."""
    head = ("POST /incident HTTP/1.1\r\nHost: sita.test\r\nContent-Type: application/xml\r\n"
            f"apikey: {CLIENT_KEY}\r\nContent-Length: {10 * MiB + 1}\r\n\r\n").encode()
    resp = harness.request_raw(outbound.port, [head], timeout=10)
    assert_rejected(resp, sita, status=413, code="E004")
    assert resp.elapsed < 5


@pytest.mark.slow
def test_body_too_large_chunked(outbound, sita):
    """No Content-Length: the filter counts the bytes and answers 413 once past 10 MiB."""
    start = b'<?xml version="1.0"?><CreateIncidentRequest><Description>'
    block = b"x" * (256 * 1024)
    chunks = [start] + [block] * 44  # 11 MiB
    resp = outbound.request("POST", "/incident", headers={"apikey": CLIENT_KEY}, content_type=XML,
                            chunks=chunks, timeout=60)
    assert_rejected(resp, sita, status=413, code="E004")


def test_body_limit_is_configurable(outbound_with, sita):
    envoy = outbound_with({"limits": {"max_body_bytes": 4096}})
    body = fixture_body("create_valid_minimal")
    assert len(body) < 4096
    assert_forwarded(post(envoy, body), sita, body=body, status=201)
    sita.reset()
    big = wrap_create("<!--" + "p" * 4096 + "-->")
    assert_rejected(post(envoy, big), sita, status=413, code="E004")
    sita.reset()
    assert_rejected(envoy.request("POST", "/incident", content_type=XML, chunks=[big[:3000], big[3000:]]),
                    sita, status=413, code="E004")


def test_body_exactly_at_limit_passes(outbound_with, sita):
    body = fixture_body("create_valid_minimal")
    limit = len(body) + 10
    envoy = outbound_with({"limits": {"max_body_bytes": limit}})
    padded = body.rstrip(b"\n") + b" " * (limit - len(body.rstrip(b"\n")))
    assert len(padded) == limit
    assert_forwarded(post(envoy, padded), sita, body=padded, status=201)
    sita.reset()
    assert_rejected(post(envoy, padded + b" "), sita, status=413, code="E004")


# ---------------------------------------------------------------------------------------------
# §3 apikey
# ---------------------------------------------------------------------------------------------
def test_apikey_injected_when_client_sends_none(outbound, sita):
    body = fixture_body(VALID_CREATE)
    resp = outbound.request("POST", "/incident", body=body, content_type=XML)
    assert_forwarded(resp, sita, body=body, status=201)


def test_client_apikey_replaced_not_forwarded(outbound, sita):
    body = fixture_body(VALID_CREATE)
    resp = outbound.request("POST", "/incident", body=body, content_type=XML,
                            headers=[("apikey", CLIENT_KEY), ("APIKEY", CLIENT_KEY + "-2")])
    rec = assert_forwarded(resp, sita, body=body, status=201)
    assert rec.header_all("apikey") == [TEST_SITA_KEY]


def test_get_passthrough_gets_key(outbound, sita):
    resp = outbound.request("GET", "/some/other/resource?x=1", headers={"apikey": CLIENT_KEY})
    assert_forwarded(resp, sita, target="/some/other/resource?x=1", status=200)


def test_sita_response_reaches_client_untouched(outbound, sita):
    resp = post(outbound, fixture_body(VALID_CREATE))
    assert resp.status == 201, resp
    assert b"<CreateIncidentResponse><Status>Success</Status><IncidentNumber>INC" in resp.body
    sita.reset()
    sita.force_next(400, "<ErrorResponse><Status>Failure</Status><ErrorCode>E007</ErrorCode>"
                         "<ErrorDescription>SITA decides</ErrorDescription></ErrorResponse>", content_type=XML)
    resp = post(outbound, fixture_body(VALID_CREATE))
    assert resp.status == 400 and b"<ErrorCode>E007</ErrorCode>" in resp.body, resp


def test_custom_apikey_header(outbound_with, sita):
    envoy = outbound_with(replace={"direction": "outbound", "apikey": {"env": "SITA_APIKEY", "header": "x-sita-key"}})
    body = fixture_body(VALID_CREATE)
    resp = envoy.request("POST", "/incident", body=body, content_type=XML, headers={"x-sita-key": CLIENT_KEY})
    assert_forwarded(resp, sita, body=body, key_header="x-sita-key", status=201)


def test_insecure_inline_key(outbound_with, sita):
    envoy = outbound_with(replace={"direction": "outbound", "insecure_inline": True,
                                   "apikey": {"value": "inline-test-key"}}, env={})
    body = fixture_body(VALID_CREATE)
    resp = post(envoy, body)
    assert_forwarded(resp, sita, body=body, key="inline-test-key", status=201)


# ---------------------------------------------------------------------------------------------
# §2 chunking and trailers
# ---------------------------------------------------------------------------------------------
def awkward_splits(body: bytes) -> list[int]:
    """Byte offsets that cut through the BOM, multi-byte UTF-8, markup, CDATA, entities."""
    cuts = set()
    for marker in (b"\xef\xbb\xbf", b"<?xml", "é".encode(), b"<![CDATA[", b"]]>", b"&amp;", b"&#233;", b"</",
                   b"/>", b"xmlns", b"Attachment", b"="):
        i = body.find(marker)
        if i >= 0:
            cuts.update({i, i + 1, i + len(marker) - 1})
    for i, byte in enumerate(body):
        if byte >= 0x80 and (i == 0 or body[i - 1] < 0x80):
            cuts.add(i + 1)
    return sorted(c for c in cuts if 0 < c < len(body))


CHUNK_CASES = ["create_valid_bom", "create_valid_cdata", "create_valid_entities", "create_valid_multibyte_160_chars",
               "create_valid_namespace_prefix", "create_valid_full", "update_valid_full",
               "create_missing_shortdescription", "create_shortdescription_multibyte_161_chars", "create_dtd",
               "create_malformed_truncated", "create_invalid_utf8", "create_duplicate_shortdescription", "unknown_root"]


@pytest.mark.parametrize("name", CHUNK_CASES)
def test_chunked_awkward_splits_same_verdict(name, outbound, sita):
    case = next(c for c in CASES if c.name == name)
    body = case.body
    cuts = awkward_splits(body)
    # every awkward cut at once, as separate TCP writes
    bounds = [0] + cuts + [len(body)]
    chunks = [body[a:b] for a, b in zip(bounds, bounds[1:])]
    resp = outbound.request("POST" if case.root != "update" else "PUT", "/incident",
                            headers={"apikey": CLIENT_KEY}, content_type=XML, chunks=chunks, chunk_delay=0.002)
    check_case(case, resp, sita)


@pytest.mark.parametrize("name", ["create_valid_bom", "create_missing_shortdescription"])
def test_one_byte_chunks(name, outbound, sita):
    case = next(c for c in CASES if c.name == name)
    chunks = [case.body[i:i + 1] for i in range(len(case.body))]
    resp = outbound.request("POST", "/incident", headers={"apikey": CLIENT_KEY}, content_type=XML,
                            chunks=chunks, chunk_delay=0.0005)
    check_case(case, resp, sita)


def test_each_single_cut_of_a_multibyte_body(outbound, sita):
    """Two chunks, cut at every position of the first 40 bytes of a BOM + UTF-8 body."""
    case = next(c for c in CASES if c.name == "create_valid_bom")
    body = case.body
    for cut in range(1, 40):
        sita.reset()
        resp = outbound.request("POST", "/incident", content_type=XML, chunks=[body[:cut], body[cut:]],
                                chunk_delay=0.003)
        assert_forwarded(resp, sita, body=body, status=201)


def test_valid_body_with_trailers(outbound, sita):
    body = fixture_body(VALID_CREATE)
    resp = outbound.request("POST", "/incident", headers={"apikey": CLIENT_KEY}, content_type=XML,
                            chunks=[body[:100], body[100:]], trailers=[("x-body-sha", "abc123")], chunk_delay=0.01)
    rec = assert_forwarded(resp, sita, body=body, status=201)
    assert CLIENT_KEY not in str(rec.trailers)


def test_invalid_body_with_trailers(outbound, sita):
    body = fixture_body("create_missing_shortdescription")
    resp = outbound.request("POST", "/incident", content_type=XML, chunks=[body[:50], body[50:]],
                            trailers=[("x-body-sha", "abc123")], chunk_delay=0.01)
    assert_rejected(resp, sita, status=400, code="E004", comments="Missing Element Is ShortDescription")


def test_client_apikey_in_trailer_not_forwarded(outbound, sita):
    body = fixture_body(VALID_CREATE)
    resp = outbound.request("POST", "/incident", content_type=XML, chunks=[body],
                            trailers=[("apikey", CLIENT_KEY)])
    rec = assert_forwarded(resp, sita, body=body, status=201)
    assert all(v != CLIENT_KEY for _, v in rec.trailers)


# ---------------------------------------------------------------------------------------------
# §3.2 order of checks, §6 Errors list, echo limits, escaping
# ---------------------------------------------------------------------------------------------
def test_first_violation_in_catalogue_order_and_all_listed(outbound, sita):
    body = fixture_body("create_missing_crn").replace(b"<ShortDescription>", b"<Ignored>").replace(
        b"</ShortDescription>", b"</Ignored>")
    body = body.replace(b"<Ignored>Check-in kiosk B12 does not print boarding passes</Ignored>\n", b"")
    body = body.replace(b"<Email>jane.doe@example.com</Email>", b"<Email>bad-email</Email>")
    body = body.replace(b"<Priority>2</Priority>", b"<Priority>9</Priority>")
    err = assert_rejected(post(outbound, body), sita, status=400, code="E010", field="CustomerReferenceNumber")
    codes = [(e["code"], e["field"]) for e in err["errors"]]
    assert ("E004", "ShortDescription") in codes, codes
    assert ("E006", "Email") in codes, codes
    assert ("E004", "Priority") in codes, codes
    # catalogue order: CRN, ..., Email, ShortDescription, ..., Priority
    fields = [e["field"] for e in err["errors"]]
    assert fields.index("CustomerReferenceNumber") < fields.index("Email") < fields.index("ShortDescription") \
        < fields.index("Priority"), fields


def test_update_incidentnumber_checked_before_crn(outbound, sita):
    body = fixture_body("update_valid_minimal")
    body = re.sub(rb"\s*<IncidentNumber>.*?</IncidentNumber>", b"", body)
    body = re.sub(rb"\s*<CustomerReferenceNumber>.*?</CustomerReferenceNumber>", b"", body)
    err = assert_rejected(post(outbound, body), sita, status=400, code="E004",
                          comments="Missing Element Is IncidentNumber", field="IncidentNumber")
    assert "E010" in [e["code"] for e in err["errors"]]


def test_errors_list_capped_at_20(outbound, sita):
    extra = "".join(f"<Unknown{i}>x</Unknown{i}>" for i in range(30))
    err = assert_rejected(post(outbound, wrap_create(extra)), sita, status=400, code="E004",
                          comments="Unexpected Element Is Unknown0")
    assert 1 <= len(err["errors"]) <= 20, len(err["errors"])


def test_offending_value_not_echoed_beyond_100_chars(outbound, sita):
    secret_like = "Q" * 5000
    body = fixture_body(VALID_CREATE).replace(b"jane.doe@example.com", secret_like.encode())
    resp = post(outbound, body)
    assert_rejected(resp, sita, status=400, code="E006", field="Email")
    assert b"Q" * 101 not in resp.body


def test_values_escaped_in_error_response(outbound, sita):
    body = wrap_create("<Severity>&lt;/Comments&gt;&lt;x&gt;&amp;</Severity>")
    resp = post(outbound, body)
    err = assert_rejected(resp, sita, status=400, code="E004", comments="Unexpected Element Is Severity")
    assert b"</Comments><x>" not in resp.body
    assert err["comments"] == "Unexpected Element Is Severity"


def test_attachment_size_limit(outbound_with, sita):
    envoy = outbound_with({"max_attachment_bytes": 16})
    ok = base64.b64encode(b"a" * 16).decode()
    too_big = base64.b64encode(b"a" * 17).decode()
    body = wrap_create(f"<Attachments><Attachment><FileName>a.txt</FileName><FileData>{ok}</FileData></Attachment></Attachments>")
    assert_forwarded(post(envoy, body), sita, body=body, status=201)
    sita.reset()
    body = wrap_create(f"<Attachments><Attachment><FileName>a.txt</FileName><FileData>{too_big}</FileData></Attachment></Attachments>")
    assert_rejected(post(envoy, body), sita, status=400, code="E006", field="FileData")


@pytest.mark.slow
def test_default_attachment_limit_5mib(outbound, sita):
    too_big = base64.b64encode(b"\0" * (5 * MiB + 1)).decode()
    body = wrap_create(f"<Attachments><Attachment><FileName>big.bin</FileName><FileData>{too_big}</FileData></Attachment></Attachments>")
    assert_rejected(post(outbound, body, timeout=60), sita, status=400, code="E006", field="FileData")
    sita.reset()
    fits = base64.b64encode(b"\0" * (5 * MiB)).decode()
    body = wrap_create(f"<Attachments><Attachment><FileName>big.bin</FileName><FileData>{fits}</FileData></Attachment></Attachments>")
    assert_forwarded(post(outbound, body, timeout=60), sita, body=body, status=201)


# ---------------------------------------------------------------------------------------------
# §2 reader limits (each E004 with a detail naming the limit)
# ---------------------------------------------------------------------------------------------
def test_depth_limit_default_32(outbound, sita):
    nest = "<Attachments>" + "<Attachment>" * 40 + "</Attachment>" * 40 + "</Attachments>"
    assert_rejected(post(outbound, wrap_create(nest)), sita, status=400, code="E004", comments_contains="depth")


def test_depth_limit_configurable(outbound_with, sita):
    envoy = outbound_with({"limits": {"max_depth": 2}})
    body = fixture_body(VALID_CREATE)  # Attachments/Attachment/FileName is depth 4
    assert_rejected(post(envoy, body), sita, status=400, code="E004", comments_contains="depth")
    sita.reset()
    minimal = fixture_body("create_valid_minimal")  # depth 2
    assert_forwarded(post(envoy, minimal), sita, body=minimal, status=201)


def test_element_count_limit_default_10000(outbound, sita):
    many = "<!-- many -->" + "<Attachments>" + "<Attachment/>" * 10001 + "</Attachments>"
    assert_rejected(post(outbound, wrap_create(many)), sita, status=400, code="E004", comments_contains="element")


def test_element_count_limit_configurable(outbound_with, sita):
    envoy = outbound_with({"limits": {"max_elements": 5}})
    assert_rejected(post(envoy, fixture_body("create_valid_minimal")), sita, status=400, code="E004",
                    comments_contains="element")


def test_attribute_limit_default_16(outbound, sita):
    attrs = " ".join(f'a{i}="v"' for i in range(17))
    body = fixture_body("create_valid_minimal").replace(b"<ShortDescription>", f"<ShortDescription {attrs}>".encode())
    assert_rejected(post(outbound, body), sita, status=400, code="E004", comments_contains="attribute")
    sita.reset()
    attrs = " ".join(f'a{i}="v"' for i in range(16))
    body = fixture_body("create_valid_minimal").replace(b"<ShortDescription>", f"<ShortDescription {attrs}>".encode())
    assert_forwarded(post(outbound, body), sita, body=body, status=201)


def test_name_length_limit_default_128(outbound, sita):
    name = "N" * 129
    assert_rejected(post(outbound, wrap_create(f"<{name}>x</{name}>")), sita, status=400, code="E004",
                    comments_contains="name")


def test_text_length_limit_configurable(outbound_with, sita):
    envoy = outbound_with({"limits": {"max_text_bytes": 1000}})
    body = fixture_body("create_valid_minimal").replace(b"</Description>", b"d" * 1000 + b"</Description>")
    assert_rejected(post(envoy, body), sita, status=400, code="E004", comments_contains="text")


# ---------------------------------------------------------------------------------------------
# §3.4 "the future" by the real clock
# ---------------------------------------------------------------------------------------------
def ts(delta_seconds: float) -> str:
    t = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%d+%H:%M:%S")


def test_from_timestamp_future_by_real_clock(outbound, sita):
    resp = outbound.request("GET", f"/incidents?ActiveStatus=true&FromTimeStamp={ts(3600)}")
    assert_rejected(resp, sita, status=400, code="E013", field="FromTimeStamp")


def test_to_timestamp_future_by_real_clock(outbound, sita):
    resp = outbound.request("GET", f"/incidents?ActiveStatus=true&ToTimeStamp={ts(3600)}")
    assert_rejected(resp, sita, status=400, code="E014", field="ToTimeStamp")


def test_recent_past_timestamps_pass(outbound, sita):
    target = f"/incidents?ActiveStatus=true&FromTimeStamp={ts(-3600)}&ToTimeStamp={ts(-60)}"
    assert_forwarded(outbound.request("GET", target), sita, target=target, status=200)


def test_future_within_default_tolerance_passes(outbound, sita):
    target = f"/incidents?ActiveStatus=true&ToTimeStamp={ts(120)}"
    assert_forwarded(outbound.request("GET", target), sita, target=target, status=200)


def test_future_tolerance_configurable(outbound_with, sita):
    envoy = outbound_with({"future_tolerance_seconds": 0})
    resp = envoy.request("GET", f"/incidents?ActiveStatus=true&FromTimeStamp={ts(120)}")
    assert_rejected(resp, sita, status=400, code="E013", field="FromTimeStamp")
    sita.reset()
    envoy = outbound_with({"future_tolerance_seconds": 7200})
    target = f"/incidents?ActiveStatus=true&FromTimeStamp={ts(3600)}"
    assert_forwarded(envoy.request("GET", target), sita, target=target, status=200)


def test_list_with_query_in_other_order_and_extra_params(outbound, sita):
    target = "/incidents?page=2&ActiveStatus=false&limit=10"
    assert_forwarded(outbound.request("GET", target), sita, target=target, status=200)


# ---------------------------------------------------------------------------------------------
# §5 configuration: a broken one fails loudly at load
# ---------------------------------------------------------------------------------------------
BAD_CONFIGS = {
    "unknown_key": ({"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}, "apikye_header": "x"}, "apikye_header"),
    "wrong_type": ({"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}, "future_tolerance_seconds": "soon"},
                   "future_tolerance_seconds"),
    "bad_unknown_elements": ({"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}, "unknown_elements": "maybe"},
                             "unknown_elements"),
    "inline_secret_without_flag": ({"direction": "outbound", "apikey": {"value": "x"}}, "apikey"),
    "bad_direction": ({"direction": "sideways", "apikey": {"env": "SITA_APIKEY"}}, "direction"),
    "unknown_limit": ({"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}, "limits": {"max_depht": 3}}, "max_depht"),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_broken_configuration_refused_at_load(name, envoys, sita):
    config, key = BAD_CONFIGS[name]
    with pytest.raises(harness.EnvoyStartError) as info:
        proc = envoys.start("outbound", config, {"SITA_APIKEY": TEST_SITA_KEY}, sita, timeout=30)
        proc.stop()
    assert key in str(info.value), f"the log should name {key!r}:\n{info.value}"


# ---------------------------------------------------------------------------------------------
# §7 operating it: metrics, logs, never a secret
# ---------------------------------------------------------------------------------------------
def test_rejections_counted_in_prometheus(outbound, sita):
    for _ in range(2):
        post(outbound, fixture_body("create_missing_shortdescription"))
    text = outbound.stats_prometheus()
    lines = [ln for ln in text.splitlines() if not ln.startswith("#") and re.search("e004", ln, re.I)]
    assert lines, "a rejection-by-code metric mentioning E004"
    assert any(float(ln.rsplit(" ", 1)[1]) >= 2 for ln in lines), lines
    stats = outbound.stats_json()
    assert any("e004" in k.lower() for k in stats), "the same metric in /stats?format=json"


def _counter(envoy, name: str) -> float:
    """A filter counter from /stats?format=json (0 when not yet defined)."""
    stats = envoy.stats_json()
    return float(next((v for k, v in stats.items() if k.endswith(name)), 0))


def test_requests_counted_by_operation(outbound, sita):
    before = _counter(outbound, "sita_sm.outbound.requests.create_incident")
    post(outbound, fixture_body(VALID_CREATE))
    assert _counter(outbound, "sita_sm.outbound.requests.create_incident") == before + 1


def test_sitas_own_codes_pass_through_untouched_and_are_counted(outbound, sita):
    answer = ("<ErrorResponse><Status>Failure</Status><ErrorCode>E007</ErrorCode>"
              "<ErrorDescription>decided by SITA</ErrorDescription></ErrorResponse>")
    before = _counter(outbound, "sita_sm.outbound.sita_error.e007")
    sita.force_next(400, answer, content_type="application/xml")
    resp = post(outbound, fixture_body(VALID_CREATE))
    assert resp.status == 400
    assert resp.body == answer.encode(), "SITA's answer reaches the client byte for byte"
    assert resp.header("x-sm-error-code") is None, "the filter never invents SITA's codes"
    assert _counter(outbound, "sita_sm.outbound.sita_error.e007") == before + 1


def test_rejection_logged_without_secrets(outbound, sita):
    post(outbound, fixture_body("create_invalid_email"), headers={"x-request-id": "req-log-check-1"})
    post(outbound, fixture_body(VALID_CREATE))
    deadline = time.monotonic() + 5
    while "req-log-check-1" not in outbound.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = outbound.log_text()
    line = next((ln for ln in log.splitlines() if "req-log-check-1" in ln), None)
    assert line is not None, "one info line per rejection, with the request id"
    assert "E006" in line and "Email" in line, line
    assert TEST_SITA_KEY not in log and CLIENT_KEY not in log
    assert "jane.doe@example.com" not in log, "never a body"
