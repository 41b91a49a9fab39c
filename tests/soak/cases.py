"""The soak mix: deterministic (seeded) requests for both directions, each with its expectation.

``make_case(seed, i)`` builds request number ``i`` from its own RNG (``Random(f"{seed}:{i}")``), so a
run is reproducible whatever the concurrency.  Every case carries the unique id ``S<i>`` in
``x-request-id`` / ``x-soak-id``; a valid case also carries a unique CustomerReferenceNumber or
IncidentNumber built from it.

Expectations:
  ``status`` and ``code`` (x-sm-error-code, None for a passed request);
  ``forward``: None (nothing may reach an upstream) or what the upstream must receive exactly:
      {"upstream": "sita"|"itsm", "method", "target", "body_sha256"?, "json"?, "batch"?};
  ``answer_contains``: byte strings the client's answer must contain.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import random
import re
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "outbound"
MiB = 1024 * 1024
MAX_BODY = 10 * MiB  # the shipped default max_body_bytes

SITA_KEY = "soak-sita-key-5c1e0f77"
PUSH_KEY = "soak-push-key-a81d3b90"
ITSM_AUTH = "Basic c29hay1pdHNtOnMwYWstczNjcjN0"
CLIENT_KEY = "client-key-must-never-leak-4d2e"
SECRETS = (SITA_KEY, PUSH_KEY, ITSM_AUTH, CLIENT_KEY)

KNOWN_SYS_ID = "9d385017c611228701d22104cc95c371"  # servicenow_stub.KNOWN_SYS_ID
UNKNOWN_SYS_ID = "0" * 32
SN_QUERY = "sysparm_input_display_value=true&sysparm_exclude_reference_link=true"

PRIORITY_IMPACT = {"1": "1", "2": "1", "3": "2", "4": "2", "5": "3"}
PRIORITY_URGENCY = {"1": "1", "2": "2", "3": "2", "4": "3", "5": "3"}
STATE = {"New": "1", "Work In Progress": "2", "On Hold": "3", "Resolved": "6", "Closed": "7", "Cancelled": "8"}


@dataclasses.dataclass
class Case:
    uid: str
    kind: str                 # e.g. "out.valid.create", "out.hostile.dtd", "in.wrong_key"
    direction: str            # "outbound" | "inbound"
    method: str
    target: str
    headers: list
    body: bytes | None = None
    chunks: list | None = None
    declared_length: int | None = None  # send this Content-Length and only ``body`` (over-limit cases)
    status: int = 200
    code: str | None = None
    forward: dict | None = None
    answer_contains: tuple = ()
    comments: str | None = None  # the ErrorResponse's <Comments>, when the case knows it
    piece_delay: float = 0.0

    @property
    def category(self) -> str:
        return self.kind.split(".")[1]


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------------------------------------
# fixtures: the e2e suite's outbound cases with their expected answers (default configuration only)
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def fixture_cases() -> list:
    out = []
    for p in sorted(FIXTURES.iterdir()):
        if p.suffix not in (".xml", ".query"):
            continue
        name = p.name.split(".")[0]
        exp = json.loads((p.parent / f"{name}.expected.json").read_text("utf-8"))
        if exp.get("config"):
            continue
        out.append((name, p.suffix, p.read_bytes(), exp))
    return out


def fixture_case(rng: random.Random, uid: str) -> Case:
    name, suffix, data, exp = rng.choice(fixture_cases())
    hdrs = [("apikey", CLIENT_KEY)]
    if suffix == ".query":
        method, target, body = exp.get("method", "GET"), data.decode().strip(), None
    else:
        method = exp.get("method", "PUT" if name.startswith("update") else "POST")
        target, body = exp.get("path", "/incident"), data
        hdrs.append(("Content-Type", exp.get("content_type", "application/xml")))
    c = Case(uid, f"out.fixture.{name}", "outbound", method, target, hdrs, body=body, status=exp["status"],
             code=None if exp.get("forwarded") else exp["code"])
    if exp.get("forwarded"):
        c.forward = {"upstream": "sita", "method": method, "target": target,
                     "body_sha256": sha(body) if body is not None else sha(b"")}
    else:
        c.comments = exp.get("comments")
    return c


# ------------------------------------------------------------------------------------------------
# outbound: generated valid requests (unique CustomerReferenceNumber / IncidentNumber)
# ------------------------------------------------------------------------------------------------
WORDS = ["kiosk", "printer", "gate", "baggage", "belt", "B12", "offline", "boarding", "pass", "scanner",
         "café", "Zürich", "日本", "naïve", "x&y", "<tag>", "CUTE", "SITA", "résumé", "Ωmega"]


def text(rng: random.Random, max_chars: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 12))]
    return " ".join(words)[:max_chars].strip() or "x"


def elem(name: str, value: str, rng: random.Random, prefix: str = "", cdata: bool = True) -> str:
    tag = f"{prefix}{name}"
    if cdata and rng.random() < 0.1 and "]]>" not in value:
        return f"<{tag}><![CDATA[{value}]]></{tag}>"
    return f"<{tag}>{esc(value)}</{tag}>"


def attachment_xml(name: str, data: bytes, prefix: str = "", wrap: int = 0) -> str:
    b64 = base64.b64encode(data).decode()
    if wrap:
        b64 = "\n".join(b64[i:i + wrap] for i in range(0, len(b64), wrap))
    return (f"<{prefix}Attachment><{prefix}FileName>{name}</{prefix}FileName>"
            f"<{prefix}FileData>{b64}</{prefix}FileData></{prefix}Attachment>")


def create_xml(rng: random.Random, crn: str, attachments: str = "", plain: bool = False) -> bytes:
    """A valid CREATE. ``plain``: no namespace prefix, BOM or CDATA (for textual edits)."""
    ns = not plain and rng.random() < 0.15
    p = "s:" if ns else ""
    e = functools.partial(elem, rng=rng, prefix=p, cdata=not plain)
    fields = [e("CustomerReferenceNumber", crn), e("AffectedEndUser", "Jane Doe"),
              e("ShortDescription", text(rng, 160)), e("Description", text(rng, 4000)),
              e("Module", "Airport Operations")]
    if rng.random() < 0.5:
        fields.append(e("Email", f"user{rng.randint(1, 999)}@example.com"))
    if rng.random() < 0.5:
        fields.append(e("Priority", str(rng.randint(1, 5))))
    if rng.random() < 0.3:
        fields.append(e("AssignmentGroup", "Service Desk"))
    if rng.random() < 0.3:
        fields.append(e("Location", "GVA Terminal 1"))
    if rng.random() < 0.3:
        fields += [e("DowntimeStartTime", "2024-03-01 06:00:00"),
                   e("DowntimeEndTime", "2024-03-01 08:30:00")]
    if not attachments and rng.random() < 0.2:
        n = rng.randint(1, 3)
        attachments = "".join(attachment_xml(f"f{i}.log", rng.randbytes(rng.randint(1, 3000)), p, 76 * rng.randint(0, 1))
                              for i in range(n))
    if attachments:
        fields.append(f"<{p}Attachments>{attachments}</{p}Attachments>")
    rng.shuffle(fields)
    root = f"{p}CreateIncidentRequest"
    decl = f' xmlns:s="urn:sita:incident"' if ns else ""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if rng.random() < 0.7 else ""
    bom = "\ufeff" if not plain and rng.random() < 0.05 else ""
    return (bom + head + f"<{root}{decl}>" + "".join(fields) + f"</{root}>").encode()


def update_xml(rng: random.Random, number: str, crn: str) -> bytes:
    fields = [elem("IncidentNumber", number, rng), elem("CustomerReferenceNumber", crn, rng)]
    state = rng.choice(list(STATE))
    if rng.random() < 0.6:
        fields.append(elem("State", state, rng))
        if state == "Resolved":
            fields += [elem("ResolutionCode", "Fixed", rng), elem("ResolutionNotes", text(rng, 4000), rng)]
    if rng.random() < 0.5:
        fields.append(elem("WorkNotes", text(rng, 4000), rng))
    if rng.random() < 0.3:
        fields.append(elem("Priority", str(rng.randint(1, 5)), rng))
    rng.shuffle(fields)
    return ("<UpdateIncidentRequest>" + "".join(fields) + "</UpdateIncidentRequest>").encode()


def split(rng: random.Random, body: bytes, max_pieces: int = 8) -> list:
    cuts = sorted(rng.sample(range(1, len(body)), min(max_pieces - 1, len(body) - 1))) if len(body) > 1 else []
    bounds = [0] + cuts + [len(body)]
    return [body[a:b] for a, b in zip(bounds, bounds[1:])]


def out_valid(rng: random.Random, uid: str) -> Case:
    hdrs = [("apikey", CLIENT_KEY)] if rng.random() < 0.7 else []
    ctype = rng.choice(["application/xml", "text/xml; charset=utf-8", "application/xml;charset=UTF-8"])
    roll = rng.random()
    if roll < 0.45:
        body = create_xml(rng, f"SOAK-{uid}")
        kind, method, status, needle = "create", "POST", 201, f"<CustomerReferenceNumber>SOAK-{uid}<".encode()
    elif roll < 0.7:
        body = update_xml(rng, f"INC-{uid}", f"SOAK-{uid}")
        kind, method, status, needle = "update", rng.choice(["PUT", "POST", "PATCH"]), 200, f"<IncidentNumber>INC-{uid}<".encode()
    else:
        path, params, kind = rng.choice([
            ("/incidents", {"ActiveStatus": rng.choice(["true", "false"]), "soak": uid}, "list"),
            ("/incident", {"IncidentNumber": f"INC-{uid}"}, "read"),
            ("/incident/activitylog", {"IncidentNumber": f"INC-{uid}"}, "activitylog"),
            ("/incident/attachment", {"IncidentNumber": f"INC-{uid}", "AttachmentId": "ATT1"}, "attachments"),
            ("/status/ping", {"soak": uid}, "passthrough")])
        if kind == "list" and rng.random() < 0.5:
            params["FromTimeStamp"] = "2024-01-01 00:00:00"
        target = path + "?" + urllib.parse.urlencode(params)
        c = Case(uid, f"out.valid.{kind}", "outbound", "GET", target, hdrs, status=200)
        c.forward = {"upstream": "sita", "method": "GET", "target": target, "body_sha256": sha(b"")}
        return c
    hdrs = hdrs + [("Content-Type", ctype)]
    c = Case(uid, f"out.valid.{kind}", "outbound", method, "/incident", hdrs, status=status, answer_contains=(needle,))
    if rng.random() < 0.25:
        c.kind += ".chunked"
        c.chunks = split(rng, body)
    else:
        c.body = body
    c.forward = {"upstream": "sita", "method": method, "target": "/incident", "body_sha256": sha(body)}
    return c


@functools.lru_cache(maxsize=8)
def _large_attachments(variant: int) -> str:
    r = random.Random(f"large:{variant}")
    # 3 attachments of 1-2.25 MiB each: the whole body stays below max_body_bytes (10 MiB) after base64
    return "".join(attachment_xml(f"big{i}.bin", r.randbytes(r.randint(1 * MiB, 9 * MiB // 4)), wrap=76)
                   for i in range(3))


def out_large(rng: random.Random, uid: str) -> Case:
    body = create_xml(rng, f"SOAK-{uid}", attachments=_large_attachments(rng.randrange(4)))
    assert len(body) < MAX_BODY, len(body)
    c = Case(uid, "out.large.create_3x_attachments", "outbound", "POST", "/incident",
             [("apikey", CLIENT_KEY), ("Content-Type", "application/xml")], status=201,
             answer_contains=(f"<CustomerReferenceNumber>SOAK-{uid}<".encode(),))
    if rng.random() < 0.3:
        c.kind += ".chunked"
        c.chunks = [body[i:i + 256 * 1024] for i in range(0, len(body), 256 * 1024)]
    else:
        c.body = body
    c.forward = {"upstream": "sita", "method": "POST", "target": "/incident", "body_sha256": sha(body)}
    return c


# ------------------------------------------------------------------------------------------------
# hostile bodies (every one refused with E004, nothing upstream)
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def hostile_body(name: str) -> bytes:
    minimal = create_xml(random.Random("hostile"), "HOSTILE-1", plain=True).decode()
    end = "</CreateIncidentRequest>"
    if name == "dtd_internal":
        return b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><CreateIncidentRequest>&e;</CreateIncidentRequest>'
    if name == "billion_laughs":
        ents = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
                                          for i in range(1, 10)]
        return ('<?xml version="1.0"?><!DOCTYPE lolz [' + "".join(ents) + ']><lolz>&lol9;</lolz>').encode()
    if name == "xxe_external":
        return b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><CreateIncidentRequest>&x;</CreateIncidentRequest>'
    if name == "depth_10000":
        return ("<CreateIncidentRequest>" + "<a>" * 10000 + "</a>" * 10000 + end).encode()
    if name == "giant_attribute":  # one attribute value of 9 MiB: above max_text_bytes, below max_body_bytes
        return minimal.replace("<CreateIncidentRequest>", '<CreateIncidentRequest a="' + "A" * (9 * MiB) + '">', 1).encode()
    if name == "attributes_100000":
        attrs = " ".join(f"a{i}='v'" for i in range(100000))
        return minimal.replace("<CreateIncidentRequest>", f"<CreateIncidentRequest {attrs}>", 1).encode()
    if name == "elements_10001":
        return minimal.replace(end, "<Attachments>" + "<Attachment/>" * 10001 + "</Attachments>" + end).encode()
    if name == "invalid_utf8":
        return minimal.replace("Jane Doe", "Jane \udcff Doe").encode("utf-8", "surrogateescape")
    if name == "truncated":
        return minimal.encode()[: len(minimal) // 2]
    if name == "not_xml":
        return b"\x00\x01\x02 this is not XML at all {\"json\": true}"
    if name == "name_129":
        return minimal.replace(end, f"<{'N' * 129}>x</{'N' * 129}>" + end).encode()
    raise KeyError(name)


HOSTILE = ["dtd_internal", "billion_laughs", "xxe_external", "depth_10000", "giant_attribute", "attributes_100000",
           "elements_10001", "invalid_utf8", "truncated", "not_xml", "name_129"]
HOSTILE_WEIGHTS = [10, 10, 10, 6, 1, 3, 4, 10, 10, 10, 6]


def hostile(rng: random.Random, uid: str, direction: str) -> Case:
    name = rng.choices(HOSTILE, HOSTILE_WEIGHTS)[0]
    body = hostile_body(name)
    port_hdrs = [("apikey", PUSH_KEY if direction == "inbound" else CLIENT_KEY), ("Content-Type", "application/xml")]
    target = "/push" if direction == "inbound" else "/incident"
    c = Case(uid, f"{'in' if direction == 'inbound' else 'out'}.hostile.{name}", direction, "POST", target, port_hdrs,
             status=400, code="E004")
    if rng.random() < 0.3 and len(body) > 1:
        c.kind += ".chunked"
        c.chunks = split(rng, body) if len(body) < MiB else [body[i:i + 256 * 1024] for i in range(0, len(body), 256 * 1024)]
    else:
        c.body = body
    return c


def oversize(rng: random.Random, uid: str, direction: str) -> Case:
    """A body over max_body_bytes: 413, declared (Content-Length, no body sent) or chunked (11 MiB)."""
    hdrs = [("apikey", PUSH_KEY if direction == "inbound" else CLIENT_KEY), ("Content-Type", "application/xml")]
    target = "/push" if direction == "inbound" else "/incident"
    short = "in" if direction == "inbound" else "out"
    if rng.random() < 0.6:
        return Case(uid, f"{short}.hostile.oversize_declared", direction, "POST", target, hdrs,
                    body=b"", declared_length=MAX_BODY + 1 + rng.randrange(1 << 30), status=413, code="E004")
    block = b"<a>" + b"x" * (256 * 1024 - 7) + b"</a>"
    chunks = [b"<CreateIncidentRequest>"] + [block] * 44  # 11 MiB
    return Case(uid, f"{short}.hostile.oversize_chunked", direction, "POST", target, hdrs, chunks=chunks,
                status=413, code="E004")


# ------------------------------------------------------------------------------------------------
# outbound: invalid requests generated around a unique id (each with its expected code)
# ------------------------------------------------------------------------------------------------
def out_invalid(rng: random.Random, uid: str) -> Case:
    crn = f"SOAK-{uid}"
    base = create_xml(rng, crn, plain=True).decode()
    end = "</CreateIncidentRequest>"

    def drop(xml, name):
        return re.sub(rf"<{name}>.*?</{name}>", "", xml, count=1, flags=re.S)

    options = {
        "missing_shortdescription": (lambda: drop(base, "ShortDescription"), 400, "E004"),
        "missing_crn": (lambda: drop(base, "CustomerReferenceNumber"), 400, "E010"),
        "bad_crn": (lambda: base.replace(f">{crn}<", f">{crn} bad!<"), 400, "E006"),
        "empty_description": (lambda: re.sub(r"<Description>.*?</Description>", "<Description>  </Description>",
                                             base, count=1, flags=re.S), 400, "E005"),
        "priority_9": (lambda: drop(base, "Priority").replace(end, "<Priority>9</Priority>" + end), 400, "E004"),
        "bad_email": (lambda: drop(base, "Email").replace(end, "<Email>not-an-email</Email>" + end), 400, "E006"),
        "downtime_backwards": (lambda: drop(drop(base, "DowntimeStartTime"), "DowntimeEndTime").replace(
            end, "<DowntimeStartTime>2024-03-02 06:00:00</DowntimeStartTime>"
                 "<DowntimeEndTime>2024-03-01 06:00:00</DowntimeEndTime>" + end), 400, "E035"),
        "four_attachments": (lambda: drop(base, "Attachments").replace(
            end, "<Attachments>" + attachment_xml("a.txt", b"hi") * 4 + "</Attachments>" + end), 400, "E004"),
        "unknown_root": (lambda: base.replace("CreateIncidentRequest", "DeleteIncidentRequest"), 400, "E004"),
        "duplicate": (lambda: base.replace(end, "<Module>Again</Module>" + end), 400, "E004"),
        "unexpected_element": (lambda: base.replace(end, "<Severity>high</Severity>" + end), 400, "E004"),
        "user_email_mismatch": (lambda: drop(drop(base, "AffectedEndUser"), "Email").replace(
            end, "<AffectedEndUser>a@example.com</AffectedEndUser><Email>b@example.com</Email>" + end), 400, "E043"),
        "wrong_content_type": (lambda: base, 415, "E004"),
        "empty_body": (lambda: "", 400, "E004"),
    }
    gets = {
        "list_no_activestatus": (f"/incidents?soak={uid}", "E012"),
        "list_bad_activestatus": (f"/incidents?ActiveStatus=maybe&soak={uid}", "E004"),
        "list_future_from": ("/incidents?ActiveStatus=true&FromTimeStamp="
                             + urllib.parse.quote((dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2))
                                                  .strftime("%Y-%m-%d %H:%M:%S")) + f"&soak={uid}", "E013"),
        "list_both_bad": (f"/incidents?ActiveStatus=true&FromTimeStamp=x&ToTimeStamp=y&soak={uid}", "E038"),
        "read_no_number": (f"/incident?soak={uid}", "E004"),
        "read_bad_number": (f"/incident?IncidentNumber=INC+{uid}", "E006"),
    }
    name = rng.choice(sorted(options) + sorted(gets))
    hdrs = [("apikey", CLIENT_KEY)]
    if name in gets:
        target, code = gets[name]
        return Case(uid, f"out.invalid.{name}", "outbound", "GET", target, hdrs, status=400, code=code)
    make, status, code = options[name]
    body = make().encode()
    hdrs.append(("Content-Type", "application/json" if name == "wrong_content_type" else "application/xml"))
    c = Case(uid, f"out.invalid.{name}", "outbound", "POST", "/incident", hdrs, status=status, code=code)
    if body and rng.random() < 0.25:
        c.kind += ".chunked"
        c.chunks = split(rng, body)
    else:
        c.body = body
    return c


# ------------------------------------------------------------------------------------------------
# inbound: SITA pushes
# ------------------------------------------------------------------------------------------------
def push_create(rng: random.Random, uid: str) -> tuple:
    number = f"INC-{uid}"
    vals = {"IncidentNumber": number, "ShortDescription": text(rng, 160), "Description": text(rng, 4000),
            "State": rng.choice(list(STATE)), "Priority": str(rng.randint(1, 5)), "OpenedAt": "2024-05-01 10:00:00"}
    for k, v in (("AffectedEndUser", "Jane Doe"), ("AssignmentGroup", "Service Desk"), ("Location", "GVA T1"),
                 ("ConfigurationItem", "KIOSK-B12"), ("Comments", text(rng, 4000))):
        if rng.random() < 0.4:
            vals[k] = v
    items = list(vals.items())
    rng.shuffle(items)
    xml = "<CreateIncidentPush>" + "".join(elem(k, v, rng) for k, v in items) + "</CreateIncidentPush>"
    return xml.encode(), vals


def sn_json(vals: dict) -> dict:
    """The ServiceNow Table API body the servicenow profile must produce (SPEC §4.3)."""
    out = {"correlation_id": vals["IncidentNumber"], "correlation_display": "SITA"}
    simple = {"ShortDescription": "short_description", "Description": "description", "AffectedEndUser": "caller_id",
              "AssignmentGroup": "assignment_group", "Location": "location", "ConfigurationItem": "cmdb_ci",
              "Comments": "comments", "ResolutionCode": "close_code", "ResolutionNotes": "close_notes",
              "OpenedAt": "opened_at", "ResolvedAt": "resolved_at"}
    for k, f in simple.items():
        if k in vals:
            out[f] = vals[k].strip()
    if "Priority" in vals:
        out["impact"], out["urgency"] = PRIORITY_IMPACT[vals["Priority"]], PRIORITY_URGENCY[vals["Priority"]]
    if "State" in vals:
        out["state"] = STATE[vals["State"]]
    if vals.get("WorkNotes"):
        out["work_notes"] = "\n\n".join(f"[{n['CreatedAt']} {n['CreatedBy']}] {n['Text']}" for n in vals["WorkNotes"])
    return out


def push_update(rng: random.Random, uid: str, sys_id: str) -> tuple:
    vals = {"IncidentNumber": f"INC-{uid}", "CustomerReferenceNumber": sys_id, "UpdatedAt": "2024-05-02 11:00:00"}
    if rng.random() < 0.6:
        vals["State"] = rng.choice(["Work In Progress", "On Hold", "Closed", "Cancelled"])
    if rng.random() < 0.4:
        vals["Priority"] = str(rng.randint(1, 5))
    if rng.random() < 0.4:
        vals["Comments"] = text(rng, 4000)
    parts = [elem(k, v, rng) for k, v in vals.items()]
    if rng.random() < 0.5:
        notes = [{"Text": text(rng, 4000), "CreatedBy": f"agent{j}", "CreatedAt": f"2024-05-02 1{j}:00:00"}
                 for j in range(rng.randint(1, 4))]
        vals["WorkNotes"] = notes
        parts.append("<WorkNotes>" + "".join(
            f"<WorkNote><Text>{esc(n['Text'])}</Text><CreatedBy>{n['CreatedBy']}</CreatedBy>"
            f"<CreatedAt>{n['CreatedAt']}</CreatedAt></WorkNote>" for n in notes) + "</WorkNotes>")
    rng.shuffle(parts)
    return ("<UpdateIncidentPush>" + "".join(parts) + "</UpdateIncidentPush>").encode(), vals


def push_attachments(rng: random.Random, uid: str) -> tuple:
    files = []
    for j in range(rng.randint(1, 3)):
        data = rng.randbytes(rng.randint(1, 48 * 1024))
        ctype = rng.choice([None, "text/plain", "image/png"])
        files.append((f"ATT{j}", f"file{j}-{uid}.bin", data, ctype))
    atts = "".join(
        f"<Attachment><AttachmentId>{a}</AttachmentId><FileName>{n}</FileName>"
        f"<FileData>{base64.b64encode(d).decode()}</FileData>"
        + (f"<ContentType>{t}</ContentType>" if t else "") + "</Attachment>" for a, n, d, t in files)
    xml = (f"<UpdateIncidentAttachmentPush><IncidentNumber>INC-{uid}</IncidentNumber>"
           f"<CustomerReferenceNumber>{KNOWN_SYS_ID}</CustomerReferenceNumber>"
           f"<UpdatedAt>2024-05-02 12:00:00</UpdatedAt><Attachments>{atts}</Attachments></UpdateIncidentAttachmentPush>")
    batch = [{"url": f"/api/now/attachment/file?table_name=incident&table_sys_id={KNOWN_SYS_ID}&file_name={n}",
              "content_type": t or "application/octet-stream", "sha256": sha(d)} for _, n, d, t in files]
    return xml.encode(), batch


def inbound(rng: random.Random, uid: str, sub: str) -> Case:
    hdrs = [("apikey", PUSH_KEY), ("Content-Type", "application/xml")]
    number = f"INC-{uid}"
    if sub == "create":
        body, vals = push_create(rng, uid)
        c = Case(uid, "in.valid.create_push", "inbound", "POST", "/push", hdrs, body=body, status=200,
                 answer_contains=(b"<Status>Success</Status>", f"<IncidentNumber>{number}<".encode()))
        c.forward = {"upstream": "itsm", "method": "POST", "target": f"/api/now/table/incident?{SN_QUERY}",
                     "json": sn_json(vals), "incident": number}
    elif sub == "update":
        body, vals = push_update(rng, uid, KNOWN_SYS_ID)
        c = Case(uid, "in.valid.update_push", "inbound", "POST", "/push", hdrs, body=body, status=200,
                 answer_contains=(b"<Status>Success</Status>", f"<CustomerReferenceNumber>{KNOWN_SYS_ID}<".encode()))
        c.forward = {"upstream": "itsm", "method": "PATCH",
                     "target": f"/api/now/table/incident/{KNOWN_SYS_ID}?{SN_QUERY}", "json": sn_json(vals),
                     "incident": number}
    elif sub == "update_unknown":  # forwarded; the ITSM answers 404: Failure E011 to SITA
        body, vals = push_update(rng, uid, UNKNOWN_SYS_ID)
        c = Case(uid, "in.valid.update_push_unknown_record", "inbound", "POST", "/push", hdrs, body=body, status=404,
                 answer_contains=(b"<Status>Failure</Status>", b"E011"))
        c.forward = {"upstream": "itsm", "method": "PATCH",
                     "target": f"/api/now/table/incident/{UNKNOWN_SYS_ID}?{SN_QUERY}", "json": sn_json(vals),
                     "incident": number}
    elif sub == "attachments":
        body, batch = push_attachments(rng, uid)
        c = Case(uid, "in.valid.attachment_push", "inbound", "POST", "/push", hdrs, body=body, status=200,
                 answer_contains=(b"<Status>Success</Status>",))
        c.forward = {"upstream": "itsm", "method": "POST", "target": "/api/now/v1/batch", "batch": batch,
                     "incident": number}
    elif sub == "wrong_key":
        body, _ = push_create(rng, uid)
        variant = rng.choice(["absent", "first_byte", "last_byte", "other", "prefix", "longer", "empty"])
        key = {"absent": None, "first_byte": chr(ord(PUSH_KEY[0]) ^ 1) + PUSH_KEY[1:],
               "last_byte": PUSH_KEY[:-1] + chr(ord(PUSH_KEY[-1]) ^ 1), "other": "x" * len(PUSH_KEY),
               "prefix": PUSH_KEY[:-1], "longer": PUSH_KEY + "0", "empty": ""}[variant]
        h = [("Content-Type", "application/xml")] + ([("apikey", key)] if key is not None else [])
        c = Case(uid, f"in.wrong_key.{variant}", "inbound", "POST", "/push", h, body=body, status=401, code="E001")
    elif sub == "method":
        c = Case(uid, "in.invalid.get", "inbound", rng.choice(["GET", "DELETE"]), "/push", [("apikey", PUSH_KEY)],
                 status=405, code="E004")
    else:  # invalid pushes
        body, vals = push_create(rng, uid)
        xml = body.decode()
        name = rng.choice(["missing_state", "bad_priority", "missing_number", "bad_opened_at", "update_no_crn",
                           "unknown_root", "wrong_content_type", "attachments_4"])
        status, code, ctype = 400, None, "application/xml"
        if name == "missing_state":
            xml, code = re.sub(r"<State>.*?</State>", "", xml, flags=re.S), "E005"
        elif name == "bad_priority":
            xml, code = re.sub(r"<Priority>.*?</Priority>", "<Priority>7</Priority>", xml, flags=re.S), "E004"
        elif name == "missing_number":
            xml, code = re.sub(r"<IncidentNumber>.*?</IncidentNumber>", "", xml, flags=re.S), "E004"
        elif name == "bad_opened_at":
            xml, code = re.sub(r"<OpenedAt>.*?</OpenedAt>", "<OpenedAt>yesterday</OpenedAt>", xml, flags=re.S), "E006"
        elif name == "update_no_crn":
            xml = (f"<UpdateIncidentPush><IncidentNumber>INC-{uid}</IncidentNumber>"
                   "<UpdatedAt>2024-05-02 11:00:00</UpdatedAt></UpdateIncidentPush>")
            code = "E010"
        elif name == "unknown_root":
            xml, code = xml.replace("CreateIncidentPush", "DeleteIncidentPush"), "E004"
        elif name == "wrong_content_type":
            status, code, ctype = 415, "E004", "application/json"
        elif name == "attachments_4":
            xml = (f"<UpdateIncidentAttachmentPush><IncidentNumber>INC-{uid}</IncidentNumber>"
                   f"<CustomerReferenceNumber>{KNOWN_SYS_ID}</CustomerReferenceNumber><UpdatedAt>2024-05-02 12:00:00"
                   "</UpdatedAt><Attachments>" + "<Attachment><AttachmentId>A</AttachmentId><FileName>a.txt</FileName>"
                   "<FileData>aGk=</FileData></Attachment>" * 4 + "</Attachments></UpdateIncidentAttachmentPush>")
            code = "E004"
        c = Case(uid, f"in.invalid.{name}", "inbound", "POST", "/push", [("apikey", PUSH_KEY), ("Content-Type", ctype)],
                 body=xml.encode(), status=status, code=code)
    if c.body and c.forward is None and rng.random() < 0.2:
        c.chunks, c.body = split(rng, c.body), None
        c.kind += ".chunked"
    elif c.body and c.forward is not None and rng.random() < 0.2:
        c.chunks, c.body = split(rng, c.body), None
        c.kind += ".chunked"
    return c


# ------------------------------------------------------------------------------------------------
# the mix
# ------------------------------------------------------------------------------------------------
MIX = [  # (weight, builder)
    (24, lambda r, u: out_valid(r, u)),
    (14, lambda r, u: fixture_case(r, u)),
    (9, lambda r, u: out_invalid(r, u)),
    (5, lambda r, u: hostile(r, u, "outbound")),
    (0.5, lambda r, u: out_large(r, u)),
    (0.25, lambda r, u: oversize(r, u, "outbound")),
    (14, lambda r, u: inbound(r, u, "create")),
    (8, lambda r, u: inbound(r, u, "update")),
    (1, lambda r, u: inbound(r, u, "update_unknown")),
    (4, lambda r, u: inbound(r, u, "attachments")),
    (5, lambda r, u: inbound(r, u, "wrong_key")),
    (1, lambda r, u: inbound(r, u, "method")),
    (6, lambda r, u: inbound(r, u, "invalid")),
    (3, lambda r, u: hostile(r, u, "inbound")),
    (0.1, lambda r, u: oversize(r, u, "inbound")),
]
_WEIGHTS = [w for w, _ in MIX]


def make_case(seed: int, i: int) -> Case:
    rng = random.Random(f"{seed}:{i}")
    uid = f"S{i:07d}"
    _, build = rng.choices(MIX, _WEIGHTS)[0]
    case = build(rng, uid)
    case.headers = list(case.headers) + [("x-request-id", uid), ("x-soak-id", uid)]
    return case
