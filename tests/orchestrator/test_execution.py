"""The execution path on real local backends: ledger rows, chunking, reuse and re-attaching."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sqlalchemy import func, select

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.registry import resolve
from qorch.orchestrator.runtime.executor import LedgeredExecutor, chunk_bounds
from qorch.orchestrator.store import ledger
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.ledger import LedgerKey
from qorch.orchestrator.store.models import Execution
from tests.orchestrator.test_store import make_job

TEMPLATE = CircuitTemplate(3, 1, "angle-ry", "ry", "cnot-ring", ("z",))


def _batch(rows: int, seed: int = 0) -> CircuitBatch:
    params = np.random.default_rng(seed).uniform(-1, 1, (rows, 6))
    return CircuitBatch(TEMPLATE, params, 2000)


def _rows(url: str, job_id: str) -> list[Execution]:
    with session_scope(url) as session:
        return list(session.scalars(select(Execution).where(Execution.job_id == job_id)
                                    .order_by(Execution.id)))


def _executor(url: str, job_id: str, name: str = "aer", limit: int | None = None
              ) -> LedgeredExecutor:
    backend = resolve(name, shots=2000, seed=3)
    if limit is not None:  # a device with a smaller per-job limit
        backend.capabilities = dataclasses.replace(backend.capabilities,
                                                   max_circuits_per_job=limit)
    return LedgeredExecutor(job_id, url, backend, lambda: False, lambda phase: None)


def test_chunks_are_near_equal_and_only_when_forced() -> None:
    assert chunk_bounds(10, 100) == [(0, 10)]
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(12, 5) == [(0, 4), (4, 8), (8, 12)]


def test_one_ledger_row_per_submission_written_and_completed(database_url: str) -> None:
    job_id = make_job(database_url)
    batch = _batch(12)
    outputs = _executor(database_url, job_id).execute(batch, 4, "train", 0)
    assert outputs.shape == (12, 3)
    [row] = _rows(database_url, job_id)
    assert (row.step, row.purpose, row.chunk, row.status) == (4, "train", 0, ledger.DONE)
    assert row.provider_job_id and row.n_circuits == 12 and row.shots == 2000
    assert row.template_hash == TEMPLATE.hash and row.params_hash == batch.params_hash
    assert row.submitted_at is not None and row.finished_at is not None
    np.testing.assert_array_equal(ledger.outputs_of(row), outputs)
    with session_scope(database_url) as session:
        assert ledger.usage(session, job_id) == {"provider_jobs": 1, "circuits": 12,
                                                 "shots": 24000}


def test_limits_split_the_batch(sqlite_url: str) -> None:
    job_id = make_job(sqlite_url)
    outputs = _executor(sqlite_url, job_id, limit=5).execute(_batch(12), 1, "train", 0)
    rows = _rows(sqlite_url, job_id)
    assert [r.n_circuits for r in rows] == [4, 4, 4] and [r.chunk for r in rows] == [0, 1, 2]
    assert outputs.shape == (12, 3)


def test_a_finished_submission_is_reused_not_paid_twice(sqlite_url: str) -> None:
    job_id = make_job(sqlite_url)
    first = _executor(sqlite_url, job_id).execute(_batch(8), 2, "train", 0)
    again = _executor(sqlite_url, job_id).execute(_batch(8), 2, "train", 0)
    np.testing.assert_array_equal(first, again)
    assert len(_rows(sqlite_url, job_id)) == 1
    _executor(sqlite_url, job_id).execute(_batch(8, seed=1), 2, "train", 0)  # other params
    assert len(_rows(sqlite_url, job_id)) == 2


@pytest.mark.parametrize("name", ["aer", "braket_sv"])
def test_resumed_driver_reattaches_to_a_submitted_job(sqlite_url: str, name: str) -> None:
    """A driver died after sending: the ledger has SUBMITTED + provider id, no result."""
    job_id = make_job(sqlite_url)
    batch = _batch(6)
    backend = resolve(name, shots=2000, seed=3)
    handle = backend.submit(batch)
    expected = handle.result()
    key = LedgerKey(job_id, 9, "train", 0, 0)
    with session_scope(sqlite_url) as session:
        row_id = ledger.record_pending(session, key, backend=name, template_hash=TEMPLATE.hash,
                                       params_hash=batch.params_hash, shots=2000, n_circuits=6)
        ledger.mark_submitted(session, row_id, handle.provider_job_id)
    phases: list[str] = []
    executor = LedgeredExecutor(job_id, sqlite_url, resolve(name, shots=2000, seed=3),
                                lambda: False, phases.append)
    outputs = executor.execute(batch, 9, "train", 0)
    np.testing.assert_allclose(outputs, expected)
    [row] = _rows(sqlite_url, job_id)
    assert row.status == ledger.DONE and row.provider_job_id == handle.provider_job_id
    assert any(handle.provider_job_id in p for p in phases)


def test_a_refused_submission_is_recorded_as_failed(sqlite_url: str) -> None:
    job_id = make_job(sqlite_url)
    bad = CircuitBatch(TEMPLATE, np.full((2, 6), np.nan), 2000)
    with pytest.raises(Exception, match=r"(?i)nan|finite"):
        _executor(sqlite_url, job_id).execute(bad, 1, "train", 0)
    [row] = _rows(sqlite_url, job_id)
    assert row.status == ledger.FAILED and row.provider_job_id is None and row.error
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(Execution)) == 1
        assert ledger.usage(session, job_id)["provider_jobs"] == 0


def test_cancel_while_waiting_in_an_ibm_queue(sqlite_url: str) -> None:
    """Re-attach to a queued IBM job (fake cloud service, real adapter), report the queue
    position as the phase, and on cancel stop the provider job and the ledger row."""
    from qorch.backends.ibm.runtime import IBMRuntimeBackend
    from qorch.jobs.errors import JobStopped
    from tests.backends.fakes import FakeRuntimeJob, FakeRuntimeService

    job_id = make_job(sqlite_url)
    batch = _batch(4)
    queued = FakeRuntimeJob("d3adb33f", ["QUEUED"], position=12)
    backend = IBMRuntimeBackend("ibm_fez", shots=2000, service=FakeRuntimeService(
        jobs={"d3adb33f": queued}), poll_interval=0.01)
    key = LedgerKey(job_id, 3, "train", 0, 0)
    with session_scope(sqlite_url) as session:
        row_id = ledger.record_pending(session, key, backend="ibm_fez",
                                       template_hash=TEMPLATE.hash,
                                       params_hash=batch.params_hash, shots=2000, n_circuits=4)
        ledger.mark_submitted(session, row_id, "d3adb33f")
    phases: list[str] = []
    executor = LedgeredExecutor(job_id, sqlite_url, backend, lambda: True, phases.append)
    with pytest.raises(JobStopped):
        executor.execute(batch, 3, "train", 0)
    assert queued.cancel_calls == 1
    assert any("12" in phase for phase in phases[1:]), phases
    [row] = _rows(sqlite_url, job_id)
    assert row.status == ledger.CANCELLED and row.provider_job_id == "d3adb33f"
