"""The harness itself, with the Wasm filter taken out of the shipped configuration: Envoy starts,
the recording upstreams record exactly what arrives (chunked bodies, trailers), forced answers
work, and the ErrorResponse parser reads SPEC §6's example. Independent of the core's progress."""

import json

import harness
import pytest
from checks import field_matches

SPEC_EXAMPLE = b"""<ErrorResponse>
  <Status>Failure</Status>
  <ErrorCode>E004</ErrorCode>
  <ErrorDescription>Schema Validation Exception</ErrorDescription>
  <Comments>Missing Element Is ShortDescription</Comments>
  <Errors>
    <Error><Code>E004</Code><Field>ShortDescription</Field><Message>Missing Element Is ShortDescription</Message></Error>
    <Error><Code>E006</Code><Field>Email</Field><Message>Invalid Mandatory fields</Message></Error>
  </Errors>
</ErrorResponse>"""


def test_parse_error_reads_the_spec_example():
    err = harness.parse_error(SPEC_EXAMPLE)
    assert err == {
        "status": "Failure", "code": "E004", "description": "Schema Validation Exception",
        "comments": "Missing Element Is ShortDescription",
        "errors": [
            {"code": "E004", "field": "ShortDescription", "message": "Missing Element Is ShortDescription"},
            {"code": "E006", "field": "Email", "message": "Invalid Mandatory fields"},
        ],
    }


def test_field_matching():
    assert field_matches("FileName", "FileName")
    assert field_matches("Attachments/Attachment[2]/FileName", "FileName")
    assert not field_matches("FileData", "FileName")
    assert not field_matches(None, "FileName")


@pytest.fixture
def plain_outbound(envoys, sita):
    return envoys.get("outbound", None, {}, sita, with_wasm=False)


def test_plain_envoy_forwards_get(plain_outbound, sita):
    r = plain_outbound.request("GET", "/incidents?ActiveStatus=true", headers={"apikey": "x"})
    assert r.status == 200, r
    assert b"ListIncidentsResponse" in r.body
    (rec,) = sita.wait_for(1)
    assert rec.method == "GET" and rec.target == "/incidents?ActiveStatus=true"
    assert rec.header("apikey") == "x"


def test_plain_envoy_forwards_body_bytes(plain_outbound, sita):
    body = "\ufeff<CreateIncidentRequest><ShortDescription>é &amp; ü</ShortDescription></CreateIncidentRequest>".encode()
    r = plain_outbound.request("POST", "/incident", body=body, content_type="application/xml")
    assert r.status == 201, r
    (rec,) = sita.wait_for(1)
    assert rec.body == body


def test_chunked_body_and_trailers_reach_upstream(plain_outbound, sita):
    body = b"<UpdateIncidentRequest><IncidentNumber>INC1</IncidentNumber></UpdateIncidentRequest>"
    chunks = [body[:7], body[7:8], body[8:40], body[40:]]
    r = plain_outbound.request("POST", "/incident", chunks=chunks, trailers=[("x-checksum", "abc")],
                               content_type="application/xml", chunk_delay=0.01)
    assert r.status == 200, r
    (rec,) = sita.wait_for(1)
    assert rec.body == body
    assert ("x-checksum", "abc") in [(k.lower(), v) for k, v in rec.trailers]


def test_forced_answer(plain_outbound, sita):
    sita.force_next(503, "<oops/>", content_type="application/xml")
    r = plain_outbound.request("GET", "/anything")
    assert r.status == 503 and r.body == b"<oops/>"
    r = plain_outbound.request("GET", "/anything")
    assert r.status == 200


def test_servicenow_stub_contract(envoys, servicenow):
    envoy = envoys.get("inbound", None, {}, servicenow, with_wasm=False)
    r = envoy.request("POST", "/api/now/table/incident", body=json.dumps({"short_description": "x"}),
                      content_type="application/json")
    assert r.status == 201, r
    sys_id = r.json()["result"]["sys_id"]
    assert len(sys_id) == 32 and int(sys_id, 16) >= 0
    assert r.json()["result"]["number"].startswith("INC")
    r = envoy.request("PATCH", f"/api/now/table/incident/{sys_id}", body="{}", content_type="application/json")
    assert r.status == 200, r
    r = envoy.request("PATCH", "/api/now/table/incident/" + "0" * 32, body="{}", content_type="application/json")
    assert r.status == 404 and r.json()["error"]["message"] == "No Record found"
    batch = {"batch_request_id": "b1", "rest_requests": [{
        "id": "1", "method": "POST",
        "url": f"/api/now/attachment/file?table_name=incident&table_sys_id={sys_id}&file_name=a.txt",
        "headers": [{"name": "Content-Type", "value": "text/plain"}], "body": "aGVsbG8="}]}
    r = envoy.request("POST", "/api/now/v1/batch", body=json.dumps(batch), content_type="application/json")
    assert r.status == 200, r
    doc = r.json()
    assert doc["batch_request_id"] == "b1" and doc["unserviced_requests"] == []
    (sub,) = doc["serviced_requests"]
    assert sub["id"] == "1" and sub["status_code"] == 201
    assert servicenow.attachments[0]["data"] == b"hello"
    assert len(servicenow.wait_for(4)) == 4
