"""pytest harness: real Envoy (shipped envoy/*.yaml, ports/upstream/wasm/config overridden)
in front of recording stand-ins for SITA and the ITSM.

Fixtures:
  sita, servicenow        session-wide recording upstreams (reset before every test)
  envoys                  the pool: envoys.get(direction, config, env) -> a running EnvoyProcess,
                          one per distinct (direction, config, env), at most a few alive at once
  outbound                Envoy with the least outbound configuration (SPEC §5)
  outbound_with(config)   factory: Envoy with the least outbound configuration + extra keys
"""

from __future__ import annotations

import collections
import json
import os
import sys
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parents[1] / "support"
sys.path.insert(0, str(SUPPORT))

import harness  # noqa: E402
from checks import TEST_SITA_KEY  # noqa: E402
from servicenow_stub import ServiceNowStub  # noqa: E402
from sita_stub import SitaStub  # noqa: E402

TEST_PUSH_KEY = "test-push-key-91bc"
TEST_ITSM_AUTH = "Basic dGVzdDp0ZXN0"

OUTBOUND_LEAST = {"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}}
OUTBOUND_ENV = {"SITA_APIKEY": TEST_SITA_KEY}
INBOUND_LEAST = {
    "direction": "inbound",
    "apikeys": [{"env": "SITA_PUSH_APIKEY"}],
    "itsm": {"profile": "servicenow", "auth_header": "authorization", "auth": {"env": "ITSM_AUTH"}},
}
INBOUND_ENV = {"SITA_PUSH_APIKEY": TEST_PUSH_KEY, "ITSM_AUTH": TEST_ITSM_AUTH}

MAX_ALIVE = int(os.environ.get("E2E_MAX_ENVOYS", "3"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: large bodies")


@pytest.fixture(scope="session")
def sita():
    srv = SitaStub().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def servicenow():
    srv = ServiceNowStub().start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _fresh_upstreams(request):
    for name in ("sita", "servicenow"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()
    yield


class EnvoyPool:
    """Envoys keyed by (direction, config, env, upstream): started on first use, reused after,
    the least recently used stopped when more than MAX_ALIVE run (2 cores)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.live: collections.OrderedDict = collections.OrderedDict()
        self.used_by_test: list = []
        self.count = 0
        self.failed: dict = {}  # key -> EnvoyStartError: a config that did not start fails fast after

    def get(self, direction: str, config: dict | None, env: dict, upstream, *, with_wasm: bool = True,
            host_env_keys=None) -> harness.EnvoyProcess:
        key = json.dumps([direction, config, env, upstream.port, with_wasm, host_env_keys], sort_keys=True)
        if key in self.failed:
            raise harness.EnvoyStartError(f"(as before) {self.failed[key]}")
        proc = self.live.get(key)
        if proc is not None and proc.alive:
            self.live.move_to_end(key)
        else:
            if proc is not None:
                proc.stop()
                del self.live[key]
            while len(self.live) >= MAX_ALIVE:
                _, old = self.live.popitem(last=False)
                old.stop()
            try:
                proc = self.start(direction, config, env, upstream, with_wasm=with_wasm, host_env_keys=host_env_keys)
            except harness.EnvoyStartError as e:
                self.failed[key] = e
                raise
            self.live[key] = proc
        self.used_by_test.append(proc)
        return proc

    def start(self, direction, config, env, upstream, *, with_wasm=True, host_env_keys=None,
              timeout: float = 60.0) -> harness.EnvoyProcess:
        """A fresh Envoy not kept in the pool (the caller stops it); raises EnvoyStartError."""
        if with_wasm and not harness.WASM.exists():
            pytest.fail(f"{harness.WASM} is missing: run `make build` (make test-e2e does)", pytrace=False)
        self.count += 1
        boot = harness.render_config(
            direction, filter_config=config, admin_port=harness.free_port(),
            listener_port=harness.free_port(), upstream_port=upstream.port, with_wasm=with_wasm,
            host_env_keys=host_env_keys)
        proc = harness.EnvoyProcess(boot, self.workdir / f"{self.count:03d}-{direction}", env,
                                    name=f"envoy-{direction}")
        self.used_by_test.append(proc)
        return proc.start(timeout)

    def stop_all(self):
        for proc in self.live.values():
            proc.stop()
        self.live.clear()


@pytest.fixture(scope="session")
def envoys(tmp_path_factory):
    pool = EnvoyPool(tmp_path_factory.mktemp("envoy"))
    yield pool
    pool.stop_all()


@pytest.fixture(autouse=True)
def _envoy_log_on_failure(request):
    """Keep the tail of every Envoy log a failing test used, in the test report."""
    pool = request.getfixturevalue("envoys") if "envoys" in request.fixturenames else None
    if pool is not None:
        pool.used_by_test = []
    yield
    rep = getattr(request.node, "rep_call", None)
    if pool is not None and rep is not None and rep.failed:
        for proc in pool.used_by_test:
            request.node.add_report_section("call", f"{proc.name} log ({proc.log_path})", proc.log_tail(30))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.when == "call":
        item.rep_call = rep
    return rep


@pytest.fixture
def outbound_with(envoys, sita):
    """Outbound Envoy with the least configuration plus ``extra`` keys (merged at top level)."""

    def make(extra: dict | None = None, env: dict | None = None, replace: dict | None = None,
             host_env_keys: list | None = None):
        config = dict(replace if replace is not None else OUTBOUND_LEAST)
        config.update(extra or {})
        return envoys.get("outbound", config, dict(OUTBOUND_ENV if env is None else env), sita,
                          host_env_keys=host_env_keys)

    return make


@pytest.fixture
def outbound(outbound_with):
    return outbound_with()


@pytest.fixture
def inbound_with(envoys, servicenow):
    def make(extra: dict | None = None, env: dict | None = None, replace: dict | None = None,
             host_env_keys: list | None = None):
        config = dict(replace if replace is not None else INBOUND_LEAST)
        config.update(extra or {})
        return envoys.get("inbound", config, dict(INBOUND_ENV if env is None else env), servicenow,
                          host_env_keys=host_env_keys)

    return make


@pytest.fixture
def inbound(inbound_with):
    return inbound_with()
