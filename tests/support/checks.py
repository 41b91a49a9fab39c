"""Assertions shared by the e2e tests: what the client got and what the upstream received."""

from __future__ import annotations

import re
import time

from harness import Response, parse_error

TEST_SITA_KEY = "test-sita-key-7f3a"
CLIENT_KEY = "client-supplied-key-must-not-leak"


def field_matches(actual: str | None, expected: str) -> bool:
    """SPEC §6 names the element in <Field>; for a nested one (Attachment/FileName) a path that
    ends in it (``Attachments/Attachment[2]/FileName``, ``Attachment.FileName``) is accepted."""
    if actual is None:
        return False
    if actual == expected:
        return True
    last = re.split(r"[/.]", actual)[-1]
    return re.sub(r"\[\d+\]$", "", last) == expected


def assert_rejected(resp: Response, upstream, *, status: int, code: str, comments: str | None = None,
                    field: str | None = None, first_code: str | None = None,
                    comments_contains: str | None = None, message: str | None = None) -> dict:
    """The filter answered itself: status, x-sm-error-code, ErrorResponse, and nothing upstream."""
    assert resp.status == status, f"expected HTTP {status}, got:\n{resp}"
    assert resp.header("x-sm-error-code") == code, f"x-sm-error-code should be {code}:\n{resp}"
    ctype = (resp.header("content-type") or "").split(";")[0].strip().lower()
    assert ctype == "application/xml", f"ErrorResponse content-type:\n{resp}"
    err = parse_error(resp.body)
    assert err["status"] == "Failure", err
    assert err["code"] == code, err
    assert err["description"], err
    if comments is not None:
        assert err["comments"] == comments, err
    if comments_contains is not None:
        assert comments_contains.lower() in (err["comments"] or "").lower(), err
    assert err["errors"], f"Errors lists every violation, at least the first: {err}"
    first = err["errors"][0]
    assert first["code"] == (first_code or code), err
    if field is not None:
        assert field_matches(first["field"], field), err
    if message is not None:
        assert first["message"] == message, err
    assert_nothing_upstream(upstream)
    return err


def assert_nothing_upstream(upstream, settle: float = 0.05):
    time.sleep(settle)
    got = upstream.received()
    assert not got, "a refused request must never reach the upstream, got:\n" + "\n".join(r.describe() for r in got)


def assert_forwarded(resp: Response, upstream, *, body: bytes | None = None, method: str | None = None,
                     target: str | None = None, key: str = TEST_SITA_KEY, key_header: str = "apikey",
                     status: int | None = None):
    """Passed: exactly one request upstream, with the client's bytes and the configured key only."""
    assert resp.header("x-sm-error-code") is None, f"passed request must not carry an error code:\n{resp}"
    # the upstream answered after reading the whole request, so it is recorded by now
    got = upstream.wait_for(1, timeout=1.0)
    assert len(got) == 1, f"expected one upstream request, got {len(got)}; client saw:\n{resp}"
    rec = got[0]
    assert rec.complete
    if status is not None:
        assert resp.status == status, str(resp)
    else:
        assert 200 <= resp.status < 300, str(resp)
    if method is not None:
        assert rec.method == method
    if target is not None:
        assert rec.target == target, rec.describe()
    if body is not None:
        assert rec.body == body, f"the upstream must get exactly the client's bytes:\n{rec.describe()}"
    keys = rec.header_all(key_header)
    assert keys == [key], f"{key_header} must be exactly the configured key, got {keys}"
    for k, v in rec.headers + rec.trailers:
        assert CLIENT_KEY not in v, f"client's own key leaked upstream in {k}"
    return rec
