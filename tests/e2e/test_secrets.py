"""No secret ever leaves where it belongs (SPEC §3, §4.1, §5, §7; docs/robustness.md "Secrets").

Both directions run with the filter's own ``"log_level": "trace"`` and Envoy at ``info`` (the
harness default) — and, to see every line the filter can write, Envoy's ``wasm`` component raised
to ``trace`` through the admin ``/logging`` endpoint.  Then every line the filter wrote (``wasm
log``), Envoy's whole log, and every answer (headers and body) are searched for the SITA key, the
push keys and the ITSM credential; the upstreams' records are searched for the secrets that must
not reach them:

- outbound: the client's own ``apikey`` value is never forwarded (headers, trailers, body);
  SITA gets exactly the configured key;
- inbound: SITA's push key never reaches the ITSM; the ITSM credential never reaches SITA — not
  in the acknowledgement, not in an error answer;
- the push key is compared in constant time: keys of the same length that differ only in the
  first or only in the last byte are both refused with E001, like shorter and longer ones.
"""

from __future__ import annotations

import base64
import time
import urllib.request

import harness
import pytest
from checks import CLIENT_KEY, TEST_SITA_KEY, assert_nothing_upstream, assert_rejected
from conftest import INBOUND_ENV, INBOUND_LEAST, OUTBOUND_ENV, OUTBOUND_LEAST, TEST_ITSM_AUTH, TEST_PUSH_KEY

XML = "application/xml"
FIXTURES = harness.REPO / "fixtures" / "outbound"
NEXT_PUSH_KEY = "test-push-key-next-3e7c"
SECRETS = {"SITA key": TEST_SITA_KEY, "push key": TEST_PUSH_KEY, "next push key": NEXT_PUSH_KEY,
           "ITSM credential": TEST_ITSM_AUTH, "client's own key": CLIENT_KEY}
# the credential's user:password part too, in case something decoded it
SECRETS["ITSM credential (decoded)"] = base64.b64decode(TEST_ITSM_AUTH.split()[1]).decode()

TRACE = {"log_level": "trace"}
INBOUND_TWO_KEYS = dict(INBOUND_LEAST, apikeys=[{"env": "SITA_PUSH_APIKEY"}, {"env": "SITA_PUSH_APIKEY_NEXT"}], **TRACE)
INBOUND_TWO_KEYS_ENV = dict(INBOUND_ENV, SITA_PUSH_APIKEY_NEXT=NEXT_PUSH_KEY)
HOST_ENV_KEYS = ["SITA_PUSH_APIKEY", "SITA_PUSH_APIKEY_NEXT", "ITSM_AUTH"]

CREATE_PUSH = (b"<CreateIncidentPush><IncidentNumber>INC-SECRET-1</IncidentNumber>"
               b"<ShortDescription>Printer on fire</ShortDescription><Description>Gate B12</Description>"
               b"<State>New</State><Priority>2</Priority><OpenedAt>2024-05-01 10:00:00</OpenedAt></CreateIncidentPush>")
UPDATE_PUSH = (b"<UpdateIncidentPush><IncidentNumber>INC-SECRET-2</IncidentNumber>"
               b"<CustomerReferenceNumber>9d385017c611228701d22104cc95c371</CustomerReferenceNumber>"
               b"<UpdatedAt>2024-05-02 11:00:00</UpdatedAt><State>On Hold</State>"
               b"<WorkNotes><WorkNote><Text>waiting</Text><CreatedBy>agent</CreatedBy></WorkNote></WorkNotes>"
               b"</UpdateIncidentPush>")
ATTACHMENT_PUSH = (b"<UpdateIncidentAttachmentPush><IncidentNumber>INC-SECRET-3</IncidentNumber>"
                   b"<CustomerReferenceNumber>9d385017c611228701d22104cc95c371</CustomerReferenceNumber>"
                   b"<UpdatedAt>2024-05-02 12:00:00</UpdatedAt><Attachments><Attachment><AttachmentId>A1</AttachmentId>"
                   b"<FileName>a.txt</FileName><FileData>aGVsbG8=</FileData></Attachment></Attachments>"
                   b"</UpdateIncidentAttachmentPush>")


def wasm_trace(envoy: harness.EnvoyProcess):
    """Raise Envoy's wasm component to trace, so every line the filter writes is in the log."""
    req = urllib.request.Request(f"http://127.0.0.1:{envoy.admin_port}/logging?wasm=trace", method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def settle_log(envoy: harness.EnvoyProcess, marker: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while marker not in envoy.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    return envoy.log_text()


def leaks(text: str, where: str, names=None) -> list:
    return [f"{name} in {where}" for name, value in SECRETS.items()
            if (names is None or name in names) and value in text]


def answer_text(resp: harness.Response) -> str:
    return "\n".join(f"{k}: {v}" for k, v in resp.headers) + "\n" + resp.text


def record_text(rec) -> str:
    return "\n".join(f"{k}: {v}" for k, v in rec.headers + rec.trailers) + "\n" + \
        rec.target + "\n" + rec.body.decode("utf-8", "replace")


@pytest.fixture
def outbound_trace(outbound_with):
    envoy = outbound_with(TRACE)
    wasm_trace(envoy)
    return envoy


@pytest.fixture
def inbound_trace(envoys, servicenow):
    envoy = envoys.get("inbound", INBOUND_TWO_KEYS, INBOUND_TWO_KEYS_ENV, servicenow, host_env_keys=HOST_ENV_KEYS)
    wasm_trace(envoy)
    return envoy


# ------------------------------------------------------------------------------------------------
# outbound
# ------------------------------------------------------------------------------------------------
def test_outbound_no_secret_in_logs_answers_or_forwarded_requests(outbound_trace, sita):
    envoy = outbound_trace
    valid = (FIXTURES / "create_valid_full.xml").read_bytes()
    invalid = (FIXTURES / "create_invalid_email.xml").read_bytes()
    key = [("apikey", CLIENT_KEY)]
    answers = [
        envoy.request("POST", "/incident", headers=key + [("x-request-id", "sec-out-1")], body=valid, content_type=XML),
        envoy.request("POST", "/incident", headers=key + [("x-request-id", "sec-out-2")], body=invalid, content_type=XML),
        envoy.request("PUT", "/incident", headers=key, content_type=XML,
                      chunks=[valid[:50], valid[50:]], trailers=[("x-checksum", "abc")]),
        envoy.request("GET", "/incidents?ActiveStatus=true", headers=key),
        envoy.request("GET", "/incidents?ActiveStatus=maybe", headers=key),
        envoy.request("GET", "/elsewhere", headers=[("ApiKey", CLIENT_KEY), ("apikey", CLIENT_KEY + "2")]),
        envoy.request("POST", "/incident", headers=key, body=b"<!DOCTYPE x><x/>", content_type=XML),
        envoy.request("POST", "/incident", headers=key, body=valid, content_type="application/json"),
    ]
    problems = []
    for i, resp in enumerate(answers):
        problems += leaks(answer_text(resp), f"answer {i}")
    got = sita.wait_for(4)
    assert len(got) == 4, [r.describe() for r in got]
    for rec in got:
        assert rec.header_all("apikey") == [TEST_SITA_KEY], rec.describe()
        problems += leaks(record_text(rec).replace(TEST_SITA_KEY, "<the configured key>"), f"SITA's record of {rec.target}")
    log = settle_log(envoy, "sec-out-2")
    filter_lines = [ln for ln in log.splitlines() if "wasm log" in ln]
    assert any("sec-out-2" in ln for ln in filter_lines), "the filter's rejection line is in the log"
    problems += leaks("\n".join(filter_lines), "the filter's log lines")
    problems += leaks(log, "Envoy's log")
    assert not problems, problems


def test_outbound_client_key_replaced_in_every_case(outbound_trace, sita):
    """However the client spells or repeats the header, SITA gets the configured key once."""
    body = (FIXTURES / "create_valid_minimal.xml").read_bytes()
    for headers in ([("apikey", CLIENT_KEY)], [("APIKEY", CLIENT_KEY), ("apikey", CLIENT_KEY)],
                    [("apikey", "")], [("apikey", TEST_SITA_KEY[:-1])], []):
        sita.reset()
        resp = outbound_trace.request("POST", "/incident", headers=headers, body=body, content_type=XML)
        assert resp.status == 201, resp
        (rec,) = sita.wait_for(1)
        assert rec.header_all("apikey") == [TEST_SITA_KEY], (headers, rec.describe())
        assert CLIENT_KEY not in record_text(rec)


def test_outbound_client_key_in_a_trailer_never_forwarded(outbound_trace, sita):
    """SPEC §3: a value the client sent under the key's name is never forwarded — in a request
    trailer neither (HTTP/1.1 chunked trailers are kept: the shipped file enables them)."""
    valid = (FIXTURES / "create_valid_full.xml").read_bytes()
    resp = outbound_trace.request("POST", "/incident", content_type=XML, chunks=[valid[:50], valid[50:]],
                                  trailers=[("apikey", CLIENT_KEY)])
    assert resp.status == 201, resp
    (rec,) = sita.wait_for(1)
    assert CLIENT_KEY not in record_text(rec), rec.describe()


def test_inbound_push_key_in_a_trailer_never_reaches_the_itsm(inbound_trace, servicenow):
    resp = inbound_trace.request("POST", "/push", headers=[("apikey", TEST_PUSH_KEY)], content_type=XML,
                                 chunks=[CREATE_PUSH[:40], CREATE_PUSH[40:]], trailers=[("apikey", TEST_PUSH_KEY)])
    assert resp.status == 200, resp
    (rec,) = servicenow.wait_for(1)
    assert TEST_PUSH_KEY not in record_text(rec), rec.describe()


# ------------------------------------------------------------------------------------------------
# inbound
# ------------------------------------------------------------------------------------------------
def test_inbound_no_secret_in_logs_acks_or_itsm_requests(inbound_trace, servicenow):
    envoy = inbound_trace
    answers = []
    for i, (key, body) in enumerate([(TEST_PUSH_KEY, CREATE_PUSH), (NEXT_PUSH_KEY, UPDATE_PUSH),
                                     (TEST_PUSH_KEY, ATTACHMENT_PUSH)]):
        resp = envoy.request("POST", "/push", headers=[("apikey", key), ("x-request-id", f"sec-in-{i}")],
                             body=body, content_type=XML)
        assert resp.status == 200 and b"<Status>Success</Status>" in resp.body, resp
        answers.append(resp)
    # refusals: wrong key, invalid body, wrong method
    answers.append(envoy.request("POST", "/push", headers=[("apikey", TEST_PUSH_KEY[:-1] + "x"),
                                                           ("x-request-id", "sec-in-wrong")], body=CREATE_PUSH,
                                 content_type=XML))
    answers.append(envoy.request("POST", "/push", headers=[("apikey", TEST_PUSH_KEY)],
                                 body=CREATE_PUSH.replace(b"<State>New</State>", b""), content_type=XML))
    answers.append(envoy.request("GET", "/push", headers=[("apikey", TEST_PUSH_KEY)]))
    # the ITSM refuses: its answer becomes a Failure ack
    servicenow.force_next(401, {"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth"},
                                "status": "failure"})
    answers.append(envoy.request("POST", "/push", headers=[("apikey", TEST_PUSH_KEY)], body=CREATE_PUSH,
                                 content_type=XML))
    assert answers[-1].status == 502, answers[-1]
    problems = []
    for i, resp in enumerate(answers):
        problems += leaks(answer_text(resp), f"answer {i}")
    got = servicenow.wait_for(4)
    assert len(got) == 4, [r.describe() for r in got]
    for rec in got:
        assert rec.header_all("authorization") == [TEST_ITSM_AUTH], rec.describe()
        assert rec.header("apikey") is None, rec.describe()
        problems += leaks(record_text(rec).replace(TEST_ITSM_AUTH, "<the credential>"), f"the ITSM's record of {rec.target}",
                          names=["push key", "next push key", "SITA key", "ITSM credential (decoded)"])
    log = settle_log(envoy, "sec-in-wrong")
    filter_lines = [ln for ln in log.splitlines() if "wasm log" in ln]
    assert any("sec-in-wrong" in ln and "E001" in ln for ln in filter_lines), filter_lines[-10:]
    problems += leaks("\n".join(filter_lines), "the filter's log lines")
    problems += leaks(log, "Envoy's log")
    assert not problems, problems


def test_itsm_error_text_never_carries_the_credential_to_sita(inbound_trace, servicenow):
    """An ITSM that echoes the request's Authorization value in its error message (some do, in
    debugging modes): up to 200 characters of that message go into the Failure ack to SITA, and
    with them the ITSM credential."""
    servicenow.force_next(400, {"error": {"message": f"Bad request with Authorization: {TEST_ITSM_AUTH}",
                                          "detail": "echo"}, "status": "failure"})
    resp = inbound_trace.request("POST", "/push", headers=[("apikey", TEST_PUSH_KEY)], body=CREATE_PUSH,
                                 content_type=XML)
    assert resp.status == 502 and b"<Status>Failure</Status>" in resp.body, resp
    assert not leaks(answer_text(resp), "the Failure ack"), resp


@pytest.mark.parametrize("variant", ["first_byte", "last_byte", "middle_byte", "shorter", "longer", "empty",
                                     "absent", "other_direction_key", "itsm_credential", "case_changed"])
def test_push_key_compared_exactly(variant, inbound_trace, servicenow):
    k = TEST_PUSH_KEY
    flip = {"first_byte": 0, "last_byte": len(k) - 1, "middle_byte": len(k) // 2}
    if variant in flip:
        i = flip[variant]
        key = k[:i] + chr(ord(k[i]) ^ 0x01) + k[i + 1:]
        assert len(key) == len(k) and key != k
    else:
        key = {"shorter": k[:-1], "longer": k + "0", "empty": "", "absent": None, "other_direction_key": TEST_SITA_KEY,
               "itsm_credential": TEST_ITSM_AUTH, "case_changed": k.upper()}[variant]
    headers = [] if key is None else [("apikey", key)]
    resp = inbound_trace.request("POST", "/push", headers=headers, body=CREATE_PUSH, content_type=XML)
    assert_rejected(resp, servicenow, status=401, code="E001")
    assert not leaks(answer_text(resp), "the E001 answer")


def test_both_rotation_keys_accepted_and_neither_forwarded(inbound_trace, servicenow):
    for key in (TEST_PUSH_KEY, NEXT_PUSH_KEY):
        servicenow.reset()
        resp = inbound_trace.request("POST", "/push", headers=[("apikey", key)], body=CREATE_PUSH, content_type=XML)
        assert resp.status == 200, resp
        (rec,) = servicenow.wait_for(1)
        assert rec.header("apikey") is None and key not in record_text(rec)


def test_refused_push_reaches_nothing(inbound_trace, servicenow):
    resp = inbound_trace.request("POST", "/push", headers=[("apikey", "nope")], body=CREATE_PUSH, content_type=XML)
    assert resp.status == 401
    assert_nothing_upstream(servicenow)


def test_least_inbound_configuration_too(inbound_with, servicenow):
    """The shipped least form (one key), trace level: the same guarantees."""
    envoy = inbound_with(TRACE)
    wasm_trace(envoy)
    resp = envoy.request("POST", "/push", headers=[("apikey", TEST_PUSH_KEY), ("x-request-id", "sec-least")],
                         body=CREATE_PUSH, content_type=XML)
    assert resp.status == 200, resp
    (rec,) = servicenow.wait_for(1)
    assert rec.header_all("authorization") == [TEST_ITSM_AUTH] and rec.header("apikey") is None
    log = envoy.log_text()
    assert not leaks(log, "Envoy's log") and not leaks(answer_text(resp), "the ack")


def test_outbound_least_configuration_env(outbound_with, sita):
    """Sanity: the shipped least form takes the key only from the environment (OUTBOUND_ENV)."""
    assert OUTBOUND_LEAST == {"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}}
    assert OUTBOUND_ENV == {"SITA_APIKEY": TEST_SITA_KEY}
