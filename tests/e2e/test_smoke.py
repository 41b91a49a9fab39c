"""The shipped Envoy configurations validate and load the module; both directions start."""

import os
import subprocess

import harness
import pytest
from checks import CLIENT_KEY, TEST_SITA_KEY

DEMO_ENV = {"SITA_APIKEY": "demo-sita-key", "SITA_PUSH_APIKEY": "demo-push-key", "ITSM_AUTH": "Basic ZGVtbzpkZW1v"}


@pytest.mark.parametrize("direction", ["outbound", "inbound"])
def test_shipped_config_validates(direction):
    """`envoy --mode validate` on the shipped file, as an operator would run it (from the repo root)."""
    assert harness.WASM.exists(), "run `make build` first"
    env = dict(os.environ, **DEMO_ENV)
    proc = subprocess.run([harness.envoy_binary(), "--mode", "validate", "-c", f"envoy/{direction}.yaml",
                           "--use-dynamic-base-id", "--log-level", "info"], cwd=harness.REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "error initializing configuration" not in out, out[-4000:]


@pytest.mark.parametrize("direction", ["outbound", "inbound"])
def test_shipped_filter_configuration_is_the_least_form(direction):
    """SPEC §5 least forms, secrets by environment variable only."""
    cfg = harness.shipped_filter_config(direction)
    if direction == "outbound":
        assert cfg == {"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}}
    else:
        assert cfg == {"direction": "inbound", "apikeys": [{"env": "SITA_PUSH_APIKEY"}],
                       "itsm": {"profile": "servicenow", "auth_header": "authorization", "auth": {"env": "ITSM_AUTH"}}}
    boot = harness.load_shipped(direction)
    plugin = harness.wasm_plugin(boot)
    assert plugin["root_id"] == "sita_sm"
    assert plugin["allow_on_headers_stop_iteration"] is True
    assert plugin["failure_policy"] == "FAIL_CLOSED"
    assert plugin["vm_config"]["runtime"] == "envoy.wasm.runtime.v8"
    limit = 16 * 1024 * 1024
    assert boot["static_resources"]["listeners"][0]["per_connection_buffer_limit_bytes"] >= limit
    assert boot["static_resources"]["clusters"][0]["per_connection_buffer_limit_bytes"] >= limit


def test_outbound_starts_and_module_loads(outbound, sita):
    log = outbound.log_text()
    assert "failed to load" not in log.lower(), log[-3000:]
    resp = outbound.request("GET", "/smoke", headers={"apikey": CLIENT_KEY})
    assert resp.status == 200, resp
    (rec,) = sita.wait_for(1)
    assert rec.header_all("apikey") == [TEST_SITA_KEY]


def test_inbound_starts_and_module_loads(inbound):
    assert inbound.alive
    assert "failed to load" not in inbound.log_text().lower()
