"""A gateway key carries the backend options that change results: engine and mitigation."""

from __future__ import annotations

from qorch.backends.noisy.mitigated import MitigatedLocal
from qorch.backends.registry import resolve
from qorch.orchestrator.runtime.gateway import GatewayKey, backend_for


def test_engine_and_mitigation_reach_the_gateways_backend() -> None:
    plain = GatewayKey.of(resolve("fake_brisbane"), 100, None)
    assert plain == GatewayKey("fake_brisbane", 100, None)  # default engine: the old key
    key = GatewayKey.of(resolve("fake_brisbane", engine="aer", mitigate="readout"), 100, None)
    assert (key.engine, key.mitigate) == ("aer", "readout")
    assert key.actor_name.endswith("/100/none/engine=aer/mitigate=readout")
    backend = backend_for(key, None)
    assert isinstance(backend, MitigatedLocal) and backend.engine == "aer"
    assert not backend.capabilities.differentiable
