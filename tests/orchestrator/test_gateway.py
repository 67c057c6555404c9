"""The circuit gateway on a real cluster: batches of concurrent jobs coalesced into shared
provider jobs, each job's numbers exactly what it gets alone, local rows fanned out by seed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import select

from qorch.backends.contract import CircuitBatch
from qorch.backends.registry import resolve
from qorch.orchestrator.runtime.gateway import GatewayKey, gateway_actor
from qorch.orchestrator.service import Service
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Execution
from qorch.orchestrator.store.states import JobState
from tests.backends.shots import TEMPLATES


@pytest.fixture
def service(settings: Settings) -> Service:
    return Service(settings)


def _provider_jobs(service: Service, job_id: str) -> list[tuple[str, int]]:
    with session_scope(service.url) as session:
        rows = session.scalars(select(Execution).where(Execution.job_id == job_id))
        return [(r.provider_job_id or "", r.item) for r in rows]


def test_concurrent_inference_jobs_share_provider_jobs_and_get_their_own_numbers(
        service: Service) -> None:
    trained = service.follow(service.submit(service.train_spec(dict(
        model="hybrid-lenet", qubits=3, layers=1, train_size=256, test_size=64, epochs=1,
        lr=0.01))), lambda *a: None)
    assert trained.state is JobState.SUCCEEDED
    # A quarter CPU each: the four run at once on two CPUs, as jobs waiting for circuits do.
    options = {"backend": "aer", "shots": 256, "test_size": 96, "batch_size": 32, "cpus": 0.25}
    alone = service.follow(service.submit(service.infer_spec(trained.id, options)),
                           lambda *a: None)
    together = [service.submit(service.infer_spec(trained.id, options)) for _ in range(4)]
    finished = [service.follow(job_id, lambda *a: None) for job_id in together]
    assert all(job.state is JobState.SUCCEEDED for job in finished)
    for job in finished:  # each exactly what it gets alone (its batches carry their seeds)
        assert job.result is not None and alone.result is not None
        assert job.result["predictions"] == alone.result["predictions"]
    sent = [pair for job_id in together for pair in _provider_jobs(service, job_id)]
    assert len(sent) == 4 * 3  # three batches each
    assert len({provider for provider, _ in sent}) < len(sent)  # shared provider jobs
    assert len(set(sent)) == len(sent)  # each batch its own item
    gateways = service.cluster_status()["gateways"]
    assert any(g["key"].startswith("qorch-gateway-aer/256") and g["batches_per_job"] > 1
               for g in gateways), gateways


def test_a_large_local_batch_fans_out_and_equals_the_in_process_run(settings: Settings,
                                                                    service: Service) -> None:
    """5,000 rows in five seed blocks spread over the simulators: bit for bit what one process
    computes from the same seed."""
    import ray

    from qorch.orchestrator.runtime.cluster import connect

    assert settings.ray_address is not None
    connect(settings, settings.ray_address)
    template = TEMPLATES[2]
    params = np.random.default_rng(4).uniform(-1, 1, (5000, template.n_inputs +
                                                       template.n_weights))
    batch = CircuitBatch(template, params, 300, seed=77)
    gateway = gateway_actor(settings, GatewayKey("statevector", 300, None))
    provider_job_id, item = ray.get(gateway.send.remote(batch, "qorch:test"))
    outputs = ray.get(gateway.wait.remote(provider_job_id, item, 120.0))
    np.testing.assert_array_equal(outputs, resolve("statevector").run_batch(batch).result())
    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
    assert sum(n.startswith("qorch-simulator-") for n in names) >= 2


def test_an_idle_gateway_leaves_and_the_next_batch_finds_a_new_one(settings: Settings) -> None:
    """A gateway unused for QORCH_GATEWAY_IDLE closes and frees its name; a later batch of the
    same key is served by a new gateway, with the same numbers (it carries its seed)."""
    import dataclasses

    import ray

    from qorch.orchestrator.runtime.cluster import connect
    from qorch.orchestrator.runtime.sending import gateway_sender
    from qorch.orchestrator.store.ledger import LedgerKey

    settings = dataclasses.replace(settings, gateway_idle_s=1.0)
    assert settings.ray_address is not None
    connect(settings, settings.ray_address)
    backend = resolve("statevector", shots=101)
    key = GatewayKey.of(backend, 101, None)
    template = TEMPLATES[2]
    params = np.random.default_rng(5).uniform(-1, 1, (8, template.n_inputs +
                                                    template.n_weights))
    batch = CircuitBatch(template, params, 101, seed=3)
    send = gateway_sender(settings, backend, None)
    outputs = []
    for attempt in range(2):
        _, item, handle = send(batch, LedgerKey("0" * 12, attempt, "test", 0, 0), lambda: True)
        outputs.append(handle.result(item, timeout=60))
        deadline = time.monotonic() + 60
        while key.actor_name in {a["name"] for a in ray.util.list_named_actors(True)}:
            assert time.monotonic() < deadline, "the idle gateway did not leave"
            time.sleep(0.2)
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_a_closed_gateway_refuses_a_batch_rather_than_keeping_it(settings: Settings) -> None:
    import dataclasses

    from qorch.orchestrator.runtime.gateway import Gateway, GatewayClosedError

    gateway = Gateway(dataclasses.replace(settings, gateway_idle_s=0.2),
                      GatewayKey("statevector", 102, None))
    deadline = time.monotonic() + 30
    while not gateway._closed:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    template = TEMPLATES[2]
    batch = CircuitBatch(template, np.zeros((1, template.n_inputs + template.n_weights)), 102)
    with pytest.raises(GatewayClosedError, match="has closed"):
        gateway.send(batch, "qorch:test")


def test_a_stopped_job_takes_its_queued_batch_back_before_it_is_sent(settings: Settings) -> None:
    """Withdrawn while queued: the waiting send is told so and no provider job is ever made."""
    import dataclasses
    import threading

    from qorch.backends.errors import ProviderJobError
    from qorch.orchestrator.runtime.gateway import Gateway

    gateway = Gateway(dataclasses.replace(settings, gateway_window_s=3.0),
                      GatewayKey("statevector", 103, None))
    template = TEMPLATES[2]
    batch = CircuitBatch(template, np.zeros((2, template.n_inputs + template.n_weights)), 103)
    errors: list[Exception] = []

    def send() -> None:
        try:
            gateway.send(batch, "qorch:stopped")
        except ProviderJobError as err:
            errors.append(err)

    waiting = threading.Thread(target=send)
    waiting.start()
    deadline = time.monotonic() + 10
    while not gateway.stats()["queued"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert not gateway.withdraw("qorch:someone-else")
    assert gateway.withdraw("qorch:stopped")
    assert gateway.stats()["queued"] == 0  # out of the queue: the batcher can never take it
    waiting.join(timeout=10)
    assert len(errors) == 1 and "withdrawn" in str(errors[0])
    time.sleep(3.5)  # past the window: the batcher found nothing to send, and stays
    assert gateway.stats()["provider_jobs"] == 0 and not gateway._closed
