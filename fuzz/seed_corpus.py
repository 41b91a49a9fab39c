#!/usr/bin/env python3
"""Writes the committed seed corpora of the fuzz targets: fuzz/corpus/<target>/.

Seeds are hand-written SITA messages (one or more per message type of SPEC §3 and §4.2),
hostile documents (DTDs, billion laughs, deep nesting, huge attribute, bad encodings, ...),
a sample of the W3C XML conformance suite (../shared/xmlts20130923.zip, read in place) and,
for `config`, a few configurations. The gateway targets take a few selector bytes before
the body (see the comment at the top of each target); they are written here.

Usage: python3 fuzz/seed_corpus.py [--zip PATH]   (from the repository root or from fuzz/)
Deterministic: the same zip gives the same files. Each target stays at <= 60 files and
<= 200 KiB. Run it again to reseed; `make fuzz` never writes into fuzz/corpus.
"""

import argparse
import hashlib
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MAX_FILES = 60
MAX_BYTES = 200 * 1024

# --- hand-written messages ---------------------------------------------------------------

CREATE = b"""<?xml version="1.0" encoding="UTF-8"?>
<CreateIncidentRequest>
  <CustomerReferenceNumber>CRN-2026.001_a</CustomerReferenceNumber>
  <AffectedEndUser>jane.doe@example.com</AffectedEndUser>
  <Email>jane.doe@example.com</Email>
  <ShortDescription>Kiosk 12 at gate B4 does not print boarding passes</ShortDescription>
  <Description>Since 06:00 the kiosk shows &quot;printer offline&quot; &amp; rejects jobs.</Description>
  <Module>Check-in</Module>
  <Priority>2</Priority>
  <AssignmentGroup>Airport Service Desk</AssignmentGroup>
  <Location>LHR T5</Location>
  <ConfigurationItem>KIOSK-B4-12</ConfigurationItem>
  <DowntimeStartTime>2026-01-01 06:00:00</DowntimeStartTime>
  <DowntimeEndTime>2026-01-01</DowntimeEndTime>
  <Attachments>
    <Attachment><FileName>log.txt</FileName><FileData>aGVsbG8gd29ybGQ=
</FileData></Attachment>
  </Attachments>
</CreateIncidentRequest>
"""

CREATE_NS = b"""\xef\xbb\xbf<sm:CreateIncidentRequest xmlns:sm="urn:sita:sm" xmlns="urn:default">
<sm:CustomerReferenceNumber>C1</sm:CustomerReferenceNumber><sm:AffectedEndUser>u</sm:AffectedEndUser>
<sm:ShortDescription><![CDATA[a <b> & c]]></sm:ShortDescription><sm:Description>d&#x20AC;&#233;</sm:Description>
<Module>Network</Module><Priority> 007 </Priority></sm:CreateIncidentRequest>"""

CREATE_BAD = b"""<CreateIncidentRequest><CustomerReferenceNumber>a b</CustomerReferenceNumber>
<AffectedEndUser>x@y.z</AffectedEndUser><Email>other@y.z</Email><ShortDescription></ShortDescription>
<Module>Payroll</Module><Priority>9</Priority><AssignmentGroup>Domain ADMINS</AssignmentGroup>
<DowntimeStartTime>2026-02-30</DowntimeStartTime><DowntimeEndTime>2025-01-01</DowntimeEndTime>
<Attachments><Attachment/><Attachment><FileName>a/b</FileName><FileData>a*VsbG8=</FileData></Attachment>
<Attachment><FileName>x</FileName></Attachment><Attachment><FileData>aGVsbG8=</FileData></Attachment></Attachments>
<Colour>red</Colour><Priority>1</Priority></CreateIncidentRequest>"""

UPDATE = b"""<UpdateIncidentRequest>
  <IncidentNumber>INC0012345</IncidentNumber>
  <CustomerReferenceNumber>CRN-1</CustomerReferenceNumber>
  <State>Resolved</State>
  <Priority>3</Priority>
  <ResolutionCode>Fixed</ResolutionCode>
  <ResolutionNotes>Replaced the printer.</ResolutionNotes>
  <WorkNotes>Engineer on site.</WorkNotes>
  <Comments>Thanks</Comments>
  <DowntimeEndTime>2026-01-02 10:00:00</DowntimeEndTime>
</UpdateIncidentRequest>
"""

UPDATE_BAD = b"""<UpdateIncidentRequest><CustomerReferenceNumber>C1</CustomerReferenceNumber>
<State>Open</State><State>Resolved</State><DowntimeEndTime>yesterday</DowntimeEndTime></UpdateIncidentRequest>"""

CREATE_PUSH = b"""<?xml version="1.0" encoding="utf-8"?>
<CreateIncidentPush>
  <IncidentNumber>INC0099001</IncidentNumber>
  <CustomerReferenceNumber>46d44b2fdb1f0010a0b0e1d4ca9619e1</CustomerReferenceNumber>
  <ShortDescription>Baggage belt 3 stopped</ShortDescription>
  <Description>Belt 3 stopped at 09:12; &lt;E-STOP&gt; pressed.</Description>
  <State>New</State>
  <Priority>1</Priority>
  <OpenedAt>2026-01-01 09:15:00</OpenedAt>
  <AffectedEndUser>ops@example.com</AffectedEndUser>
  <AssignmentGroup>Baggage</AssignmentGroup>
  <Module>Baggage</Module>
  <Location>AMS</Location>
  <Comments>Raised by SITA</Comments>
</CreateIncidentPush>
"""

CREATE_PUSH_MIN = b"""<CreateIncidentPush><IncidentNumber>INC1</IncidentNumber><ShortDescription>s</ShortDescription><Description>d</Description><State>work in progress</State><Priority>5</Priority><OpenedAt>2026-01-01 00:00:00</OpenedAt><CustomerReferenceNumber>abc</CustomerReferenceNumber></CreateIncidentPush>"""

UPDATE_PUSH = b"""<UpdateIncidentPush xmlns="urn:sita:push">
  <IncidentNumber>INC0099001</IncidentNumber>
  <CustomerReferenceNumber>46d44b2fdb1f0010a0b0e1d4ca9619e1</CustomerReferenceNumber>
  <UpdatedAt>2026-01-01 10:00:00</UpdatedAt>
  <State>Resolved</State>
  <ResolutionCode>Solved (Permanently)</ResolutionCode>
  <ResolutionNotes>Motor replaced</ResolutionNotes>
  <ResolvedAt>2026-01-01 09:59:00</ResolvedAt>
  <WorkNotes>
    <WorkNote><Text>On site</Text><CreatedBy>eng1</CreatedBy><CreatedAt>2026-01-01 09:30:00</CreatedAt></WorkNote>
    <WorkNote><Text>Fixed &amp; tested</Text></WorkNote>
  </WorkNotes>
</UpdateIncidentPush>
"""

ATTACH_PUSH = b"""<UpdateIncidentAttachmentPush>
  <IncidentNumber>INC0099001</IncidentNumber>
  <CustomerReferenceNumber>46d44b2fdb1f0010a0b0e1d4ca9619e1</CustomerReferenceNumber>
  <UpdatedAt>2026-01-01 10:00:00</UpdatedAt>
  <Attachments>
    <Attachment><AttachmentId>A1</AttachmentId><FileName>photo.jpg</FileName><ContentType>image/jpeg</ContentType><FileData>/9j/4AAQSkZJRg==</FileData></Attachment>
    <Attachment><AttachmentId>A2</AttachmentId><FileName>notes &amp; log.txt</FileName><FileData>aGVs
bG8=</FileData></Attachment>
  </Attachments>
</UpdateIncidentAttachmentPush>
"""

ATTACH_PUSH_BAD = b"""<UpdateIncidentAttachmentPush><IncidentNumber>INC1</IncidentNumber><UpdatedAt>2026-01-01 00:00:00</UpdatedAt>
<Attachments><Attachment><AttachmentId>1</AttachmentId></Attachment><Attachment/><Attachment/><Attachment/></Attachments></UpdateIncidentAttachmentPush>"""


# --- hostile documents -------------------------------------------------------------------

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"""

XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><CreateIncidentRequest>&x;</CreateIncidentRequest>"""


def hostile():
    deep = b"".join(b"<d%d>" % i for i in range(40)) + b"x" + b"".join(
        b"</d%d>" % i for i in reversed(range(40)))
    many_attrs = b"<r " + b" ".join(b'a%d="%d"' % (i, i) for i in range(20)) + b"/>"
    return [
        ("dtd", b"<!DOCTYPE CreateIncidentRequest SYSTEM \"x.dtd\"><CreateIncidentRequest/>"),
        ("billion_laughs", LAUGHS),
        ("xxe", XXE),
        ("deep_nesting", deep),
        ("huge_attribute", b'<CreateIncidentRequest a="' + b"A" * 8192 + b'"/>'),
        ("many_attributes", many_attrs),
        ("long_name", b"<" + b"N" * 200 + b"/>"),
        ("invalid_utf8", b"<CreateIncidentRequest><Description>\xc3\x28\xff</Description></CreateIncidentRequest>"),
        ("utf16_bom", b"\xff\xfe<\x00r\x00/\x00>\x00"),
        ("latin1_decl", b'<?xml version="1.0" encoding="ISO-8859-1"?><r>\xe9</r>'),
        ("unbound_prefix", b"<p:r><q:x/></p:r>"),
        ("cdata_end_in_text", b"<r>a ]]> b</r>"),
        ("bad_char_ref", b"<r>&#0;&#xD800;&#x110000;&unknown;</r>"),
        ("mismatched", b"<a><b></a></b>"),
        ("two_roots", b"<a/><b/>"),
        ("dup_attr", b'<r a="1" a="2" xmlns:p="u" xmlns:q="u" p:b="1" q:b="2"/>'),
        ("pi_and_comments", b"<?xml version='1.0'?><!-- c --><?pi x?><r><!-- -- --></r>"),
        ("empty", b""),
        ("bom_only", b"\xef\xbb\xbf  \n"),
        ("lt_in_attr", b'<r a="<"/>'),
    ]


# --- configurations ----------------------------------------------------------------------

CONFIGS = [
    ("outbound_least", b'{"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}}'),
    ("inbound_least", b'{"direction": "inbound", "apikeys": [{"env": "SITA_PUSH_APIKEY"}], '
                      b'"itsm": {"profile": "servicenow", "auth_header": "authorization", "auth": {"env": "ITSM_AUTH"}}}'),
    ("outbound_full", b"""{"direction": "outbound", "insecure_inline": true,
  "apikey": {"value": "k1", "header": "X-Api-Key"},
  "limits": {"max_depth": 8, "max_body_bytes": 1000, "max_elements": 50, "max_attributes": 4,
             "max_name_length": 64, "max_text_bytes": 500},
  "max_attachment_bytes": 10, "unknown_elements": "ignore",
  "modules": ["Network"], "denied_assignment_groups": ["*admin*"],
  "routes": {"list_incidents": "/api/v1/incidents/"},
  "future_tolerance_seconds": 0, "error_status": {"E006": 422},
  "catalogue": {"create_incident": {"fields": {"ShortDescription": {"max": 100}}}},
  "log_level": "trace"}"""),
    ("inbound_generic", b"""{"direction": "inbound", "insecure_inline": true,
  "apikeys": [{"value": "old-key-1"}, {"env": "NEW_KEY"}],
  "itsm": {"profile": "generic", "generic": {"path": "/push", "always_array": ["UpdateIncidentPush/WorkNotes/WorkNote"]},
           "auth": {"value": "Basic x"}}}"""),
    ("inbound_custom_profile", b"""{"direction": "inbound", "insecure_inline": true,
  "apikeys": [{"value": "k"}],
  "itsm": {"profile": "jira", "auth": {"env": "ITSM_AUTH"},
    "profiles": {"jira": {"extends": "generic", "description": "x",
      "acknowledge": {"mode": "id", "id_pointer": "/key", "error_pointer": "/errorMessages/0"},
      "messages": {"CreateIncidentPush": {"method": "POST", "path": "/rest/api/2/issue",
        "headers": {"x-source": "SITA {IncidentNumber}"}, "require": {"CustomerReferenceNumber": "E010"},
        "body": {"json": {"fields": {"summary": "ShortDescription"}}}}}}}}}"""),
    ("bad_inline_without_flag", b'{"direction": "outbound", "apikey": {"value": "topsecret-value"}}'),
    ("bad_unknown_key", b'{"direction": "outbound", "apikey": {"env": "K"}, "colour": "red"}'),
    ("bad_env_unset", b'{"direction": "inbound", "apikeys": [{"env": "UNSET"}], "itsm": {"auth": {"env": "EMPTY"}}}'),
    ("not_json", b"not json"),
]

# --- the W3C conformance suite -----------------------------------------------------------


def w3c_sample(zip_path, count):
    """A deterministic spread of small documents, mostly without a DTD (a DTD is refused
    at once, so documents with one mostly cover the same path)."""
    groups = [
        ("xmlconf/xmltest/valid/sa/out/", False, count * 4 // 10),
        ("xmlconf/xmltest/not-wf/sa/", False, count * 2 // 10),
        ("xmlconf/eduni/namespaces/1.0/", False, count * 2 // 10),
        ("xmlconf/ibm/not-wf/", False, count // 10),
        ("xmlconf/xmltest/valid/sa/", True, count - count * 9 // 10),
    ]
    out = []
    with zipfile.ZipFile(zip_path) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".xml"))
        for prefix, with_dtd, want in groups:
            pool = []
            for n in names:
                if not n.startswith(prefix) or (prefix.endswith("/sa/") and "/out/" in n):
                    continue
                data = z.read(n)
                if len(data) > 3000 or (b"<!DOCTYPE" in data) != with_dtd:
                    continue
                pool.append((hashlib.sha1(n.encode()).hexdigest(), n, data))
            pool.sort()
            for _, n, data in pool[:want]:
                out.append(("w3c_" + n.replace("xmlconf/", "").replace("/", "_"), data))
    return out


# --- writing -----------------------------------------------------------------------------


def outbound_prefix(method=0, ct=0, cl=1, path=0, flags=0):
    return bytes([method, ct, cl, path, flags])


def inbound_prefix(flags=0, status=201, canned=0):
    return bytes([flags, status >> 8, status & 0xFF, canned])


def write(target, files):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    total = 0
    files = files[:MAX_FILES]
    for name, data in files:
        total += len(data)
        with open(os.path.join(d, name), "wb") as fh:
            fh.write(data)
    if total > MAX_BYTES:
        sys.exit(f"{target}: {total} bytes, over {MAX_BYTES}")
    print(f"{target}: {len(files)} files, {total} bytes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zip", default=os.path.join(REPO, "..", "shared", "xmlts20130923.zip"))
    args = ap.parse_args()
    push = [("create_push", CREATE_PUSH), ("create_push_min", CREATE_PUSH_MIN),
            ("update_push", UPDATE_PUSH), ("attachment_push", ATTACH_PUSH),
            ("attachment_push_bad", ATTACH_PUSH_BAD)]
    outbound = [("create_request", CREATE), ("create_request_ns", CREATE_NS),
                ("create_request_bad", CREATE_BAD), ("update_request", UPDATE),
                ("update_request_bad", UPDATE_BAD)]
    bad = hostile()
    w3c = w3c_sample(args.zip, 30)

    write("xml_reader", outbound + push + bad + w3c)

    gets = [
        ("get_list", outbound_prefix(3, 2, 0, 1), b"ActiveStatus=true&FromTimeStamp=2026-01-01+10:00:00"),
        ("get_list_bad", outbound_prefix(3, 2, 0, 1), b"ActiveStatus=yes&FromTimeStamp=x&ToTimeStamp=2099-01-01%2000:00:00"),
        ("get_read", outbound_prefix(3, 2, 0, 0), b"IncidentNumber=INC0012345"),
        ("get_attachment", outbound_prefix(3, 2, 0, 3), b"IncidentNumber=a%20b&AttachmentId=" + b"x" * 50),
        ("get_other", outbound_prefix(4, 2, 0, 4), b""),
    ]
    heads = [
        ("post_json", outbound_prefix(0, 3, 1, 0), CREATE),
        ("put_no_length_eos", outbound_prefix(1, 1, 2, 0, 1), b""),
        ("patch_too_long", outbound_prefix(2, 4, 7, 0, 4), UPDATE),
    ]
    write("outbound_request",
          [(n, outbound_prefix(cl=1 if i % 2 else 0, flags=4 * (i % 2)) + m) for i, (n, m) in enumerate(outbound + push)]
          + [(n, p + b) for n, p, b in gets + heads]
          + [(n, outbound_prefix() + m) for n, m in bad]
          + [(n, outbound_prefix() + m) for n, m in w3c[::3]])

    answers = [
        ("answer_servicenow", br'{"result":{"sys_id":"46d44b2fdb1f0010a0b0e1d4ca9619e1","number":"INC0010001"}}'),
        ("answer_batch", br'{"batch_request_id":"1","serviced_requests":[{"id":"1","status_code":201},{"id":"2","status_code":500}]}'),
        ("answer_error", br'{"error":{"message":"<No Record found>","detail":"&amp;"},"status":"failure"}'),
    ]
    marker = b"\n@@ANSWER@@\n"
    inbound = []
    for i, (n, m) in enumerate(push):
        inbound.append((n + "_servicenow", inbound_prefix(0, 201, i) + m))
        inbound.append((n + "_generic", inbound_prefix(1, 200, i + 3) + m))
    for i, (n, a) in enumerate(answers):
        inbound.append((n, inbound_prefix(i % 2, [201, 207, 404][i]) + CREATE_PUSH + marker + a))
    inbound.append(("wrong_method_and_key", inbound_prefix(4 | 8, 500, 1) + CREATE_PUSH_MIN))
    inbound += [(n, inbound_prefix(0, 502, 2) + m) for n, m in outbound[:2] + bad]
    write("inbound_push", inbound)

    write("config", CONFIGS)


if __name__ == "__main__":
    main()
