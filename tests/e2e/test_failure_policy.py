"""What an operator and a client see when the filter cannot run (SPEC §5, §7; docs/robustness.md
"Failure policy").

Both shipped configurations say ``failure_policy: FAIL_CLOSED``.  Shown here, in real Envoy:

- a broken filter configuration (unknown key, wrong type, a secret's environment variable not set)
  is refused at load: ``envoy --mode validate`` fails and a starting Envoy exits, each with ONE
  log line ``sita-sm-filter: configuration refused: <key>: ...`` naming the key;
- a module that cannot load at all (corrupt bytes, a path that does not exist) makes Envoy refuse
  the static configuration: it exits, nothing ever listens, nothing reaches the upstream;
- a VM that fails at request time (a stand-in module that traps in on_request_headers, since the
  real filter never panics) with FAIL_CLOSED: the client gets a 5xx and nothing reaches the
  upstream, for that request and every later one; FAIL_RELOAD recreates the VM on the next
  request (the stand-in traps again, so clients still get 5xx, and the reload is counted);
  FAIL_OPEN — which the shipped files do not use — lets the request through unfiltered, without
  the SITA key: the reason it is not used.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import harness
import pytest
from checks import TEST_SITA_KEY, assert_nothing_upstream

OUTBOUND = {"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}}
OUTBOUND_ENV = {"SITA_APIKEY": TEST_SITA_KEY}
INBOUND = {"direction": "inbound", "apikeys": [{"env": "SITA_PUSH_APIKEY"}],
           "itsm": {"profile": "servicenow", "auth_header": "authorization", "auth": {"env": "ITSM_AUTH"}}}
INBOUND_ENV = {"SITA_PUSH_APIKEY": "fp-push-key", "ITSM_AUTH": "Basic ZnA6ZnA="}
REFUSED = re.compile(r"sita-sm-filter: configuration refused: (\S+?):")
VALID_CREATE = (harness.REPO / "fixtures" / "outbound" / "create_valid_minimal.xml").read_bytes()


def render(direction: str, config: dict | None, upstream_port: int, *, wasm_path: Path = harness.WASM,
           failure_policy: str | None = None) -> dict:
    boot = harness.render_config(direction, filter_config=config, admin_port=harness.free_port(),
                                 listener_port=harness.free_port(), upstream_port=upstream_port,
                                 wasm_path=wasm_path)
    if failure_policy is not None:
        harness.wasm_plugin(boot)["failure_policy"] = failure_policy
    return boot


def validate(boot: dict, workdir: Path, env: dict) -> subprocess.CompletedProcess:
    import yaml

    path = workdir / "validate.yaml"
    path.write_text(yaml.safe_dump(boot, sort_keys=False))
    full_env = {k: v for k, v in os.environ.items() if k not in ("SITA_APIKEY", "SITA_PUSH_APIKEY", "ITSM_AUTH")}
    full_env.update(env)
    return subprocess.run([harness.envoy_binary(), "--mode", "validate", "-c", str(path), "--use-dynamic-base-id",
                           "--log-level", "info"], cwd=harness.REPO, env=full_env, capture_output=True, text=True,
                          timeout=120)


def start_fails(boot: dict, workdir: Path, env: dict) -> str:
    """Start Envoy; it must exit without ever becoming ready. Returns its log."""
    proc = harness.EnvoyProcess(boot, workdir, env, name="envoy-broken")
    with pytest.raises(harness.EnvoyStartError):
        proc.start(timeout=60)
    assert not proc.alive, "Envoy must not keep running with a refused configuration"
    return proc.log_text()


def clean_env(env: dict) -> dict:
    """The test's env with every secret variable not in ``env`` removed from the inherited one."""
    out = {k: "" for k in ("SITA_APIKEY", "SITA_PUSH_APIKEY", "ITSM_AUTH") if k not in env}
    out.update(env)
    return out


# ------------------------------------------------------------------------------------------------
# a broken configuration: refused at load, one line naming the key
# ------------------------------------------------------------------------------------------------
BROKEN = {
    "outbound_unknown_key": ("outbound", dict(OUTBOUND, apikey_header="x"), OUTBOUND_ENV, "apikey_header"),
    "outbound_unknown_limit": ("outbound", dict(OUTBOUND, limits={"max_depht": 3}), OUTBOUND_ENV, "limits.max_depht"),
    "outbound_wrong_type": ("outbound", dict(OUTBOUND, limits={"max_depth": "3"}), OUTBOUND_ENV, "limits.max_depth"),
    "outbound_env_missing": ("outbound", OUTBOUND, {}, "apikey.env"),
    "inbound_itsm_env_missing": ("inbound", INBOUND, {"SITA_PUSH_APIKEY": "k"}, "itsm.auth.env"),
    "inbound_push_env_missing": ("inbound", INBOUND, {"ITSM_AUTH": "Basic eDp4"}, "apikeys"),
    "inbound_unknown_profile": ("inbound", dict(INBOUND, itsm=dict(INBOUND["itsm"], profile="servicenwo")),
                                INBOUND_ENV, "itsm.profile"),
}


def refused_keys(log: str) -> list:
    return REFUSED.findall(log)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_configuration_fails_validate_with_one_line(name, tmp_path):
    direction, config, env, key = BROKEN[name]
    proc = validate(render(direction, config, 1), tmp_path, env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"--mode validate must fail:\n{out[-3000:]}"
    keys = refused_keys(out)
    assert len(keys) == 1, f"exactly one 'configuration refused' line, got {keys}:\n{out[-3000:]}"
    assert keys[0].startswith(key), f"the line names {key!r}: {keys}"


@pytest.mark.parametrize("name", ["outbound_unknown_key", "outbound_env_missing", "inbound_itsm_env_missing"])
def test_broken_configuration_envoy_does_not_start(name, tmp_path, sita):
    direction, config, env, key = BROKEN[name]
    log = start_fails(render(direction, config, sita.port), tmp_path, clean_env(env))
    keys = refused_keys(log)
    assert len(keys) == 1 and keys[0].startswith(key), f"one line naming {key!r}, got {keys}:\n{log[-3000:]}"
    assert_nothing_upstream(sita)


def test_refusal_line_never_contains_the_secret(tmp_path):
    env = dict(OUTBOUND_ENV)
    config = dict(OUTBOUND, limits={"max_depth": -1})
    proc = validate(render("outbound", config, 1), tmp_path, env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and refused_keys(out), out[-2000:]
    assert TEST_SITA_KEY not in out


# ------------------------------------------------------------------------------------------------
# the module cannot load at all: Envoy refuses the static configuration
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["corrupt", "missing", "empty"])
@pytest.mark.parametrize("direction", ["outbound", "inbound"])
def test_module_that_cannot_load_refuses_start(kind, direction, tmp_path, sita):
    wasm = tmp_path / "module.wasm"
    if kind == "corrupt":
        data = harness.WASM.read_bytes()
        wasm.write_bytes(data[:8] + bytes(b ^ 0x5A for b in data[8:4096]) + data[4096:])
    elif kind == "empty":
        wasm.write_bytes(b"")
    env = OUTBOUND_ENV if direction == "outbound" else INBOUND_ENV
    boot = render(direction, None, sita.port, wasm_path=wasm)
    proc = validate(boot, tmp_path, env)
    assert proc.returncode != 0, (proc.stdout + proc.stderr)[-3000:]
    log = start_fails(boot, tmp_path, env)
    assert re.search(r"wasm|Wasm", log), log[-3000:]
    assert_nothing_upstream(sita)


# ------------------------------------------------------------------------------------------------
# a VM that fails at request time (stand-in module) under each failure policy
# ------------------------------------------------------------------------------------------------
def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _vec(items) -> bytes:
    items = list(items)
    return _leb(len(items)) + b"".join(items)


def _name(s: str) -> bytes:
    return _leb(len(s)) + s.encode()


def _section(sid: int, body: bytes) -> bytes:
    return bytes([sid]) + _leb(len(body)) + body


def trapping_module() -> bytes:
    """A minimal proxy-wasm module (ABI 0.2.1): starts and configures fine, and executes
    ``unreachable`` in proxy_on_request_headers — a VM failure at request time."""
    i32 = 0x7F
    types = [([], []), ([i32], [i32]), ([i32, i32], []), ([i32, i32], [i32]), ([i32, i32, i32], [i32])]
    type_sec = _vec(b"\x60" + _vec(bytes([p]) for p in ps) + _vec(bytes([r]) for r in rs) for ps, rs in types)
    funcs = [  # (export name, type index, body instructions)
        ("proxy_abi_version_0_2_1", 0, b""),
        ("proxy_on_memory_allocate", 1, b"\x41" + _leb(1024)),  # i32.const 1024
        ("proxy_on_context_create", 2, b""),
        ("proxy_on_vm_start", 3, b"\x41\x01"),
        ("proxy_on_configure", 3, b"\x41\x01"),
        ("proxy_on_request_headers", 4, b"\x00"),  # unreachable: trap
    ]
    func_sec = _vec(_leb(t) for _, t, _ in funcs)
    mem_sec = _vec([b"\x00\x02"])  # one memory, min 2 pages
    exports = [_name(n) + b"\x00" + _leb(i) for i, (n, _, _) in enumerate(funcs)] + [_name("memory") + b"\x02\x00"]
    code = []
    for _, _, instr in funcs:
        body = b"\x00" + instr + b"\x0b"  # no locals, instructions, end
        code.append(_leb(len(body)) + body)
    return (b"\x00asm\x01\x00\x00\x00" + _section(1, type_sec) + _section(3, func_sec) + _section(5, mem_sec)
            + _section(7, _vec(exports)) + _section(10, _vec(code)))


@pytest.fixture
def trapping_wasm(tmp_path) -> Path:
    path = tmp_path / "trap.wasm"
    path.write_bytes(trapping_module())
    return path


def start_with(boot, tmp_path, name) -> harness.EnvoyProcess:
    return harness.EnvoyProcess(boot, tmp_path / name, OUTBOUND_ENV, name=name).start(timeout=60)


def post_create(envoy):
    return envoy.request("POST", "/incident", body=VALID_CREATE, content_type="application/xml", timeout=15)


def test_vm_failure_fail_closed_answers_5xx_and_nothing_upstream(tmp_path, sita, trapping_wasm):
    boot = render("outbound", None, sita.port, wasm_path=trapping_wasm, failure_policy="FAIL_CLOSED")
    envoy = start_with(boot, tmp_path, "fail-closed")
    try:
        created = envoy.stats_json()["wasm.envoy.wasm.runtime.v8.created"]
        first = post_create(envoy)
        assert first.status in (500, 503), first
        later = [post_create(envoy) for _ in range(3)] + [envoy.request("GET", "/incidents?ActiveStatus=true")]
        assert all(r.status in (500, 503) for r in later), [str(r) for r in later]
        assert first.header("x-sm-error-code") is None  # Envoy's answer, not the filter's
        assert_nothing_upstream(sita)
        assert envoy.alive, "the VM failed, Envoy did not"
        log = envoy.log_text()
        assert re.search(r"\[error\]\[wasm\].*proxy_on_request_headers failed", log), log[-3000:]
        assert envoy.stats_json()["wasm.envoy.wasm.runtime.v8.created"] == created, "FAIL_CLOSED never reloads"
    finally:
        envoy.stop()


def test_vm_failure_fail_reload_recreates_the_vm(tmp_path, sita, trapping_wasm):
    boot = render("outbound", None, sita.port, wasm_path=trapping_wasm, failure_policy="FAIL_RELOAD")
    envoy = start_with(boot, tmp_path, "fail-reload")
    try:
        created = envoy.stats_json()["wasm.envoy.wasm.runtime.v8.created"]
        answers = []
        for _ in range(3):  # reloads are rate-limited (backoff): space the requests out
            answers.append(post_create(envoy))
            time.sleep(1.2)
        assert all(r.status in (500, 503) for r in answers), [str(r) for r in answers]
        assert_nothing_upstream(sita)
        stats = envoy.stats_json()
        assert stats["wasm.envoy.wasm.runtime.v8.created"] > created, {k: v for k, v in stats.items() if "wasm." in k}
    finally:
        envoy.stop()


def test_vm_failure_fail_open_would_forward_unfiltered(tmp_path, sita, trapping_wasm):
    """Why the shipped files say FAIL_CLOSED: with FAIL_OPEN a failed VM is skipped, so an invalid
    request reaches SITA — without the key, since nothing injected it."""
    boot = render("outbound", None, sita.port, wasm_path=trapping_wasm, failure_policy="FAIL_OPEN")
    envoy = start_with(boot, tmp_path, "fail-open")
    try:
        post_create(envoy)  # the first request trips the VM
        resp = envoy.request("POST", "/incident", body=b"<NotEvenSita/>", content_type="application/xml", timeout=15)
        got = sita.received()
        assert resp.status < 500 and any(r.body == b"<NotEvenSita/>" for r in got), f"{resp}\n{got}"
        assert all(r.header("apikey") is None for r in got)
    finally:
        envoy.stop()
