"""The execution path on real backends and stores: ledger rows before sending, chunking, a lean
ledger, reuse, re-attaching (also from another process), reconciling, fencing."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Backend, CircuitBatch, JobHandle
from qorch.backends.errors import CapabilityError
from qorch.backends.qiskit.aer import AerBackend
from qorch.backends.registry import resolve
from qorch.jobs.errors import JobStopped
from qorch.orchestrator.errors import StaleAttemptError
from qorch.orchestrator.runtime.context import AttemptStore
from qorch.orchestrator.runtime.executor import LedgeredExecutor, chunk_bounds
from qorch.orchestrator.store import ledger
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.ledger import LedgerKey
from qorch.orchestrator.store.models import Execution
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition
from tests.backends.fakes import FakeRuntimeJob, FakeRuntimeService, braket_device_backend
from tests.conftest import REPO
from tests.orchestrator.test_store import make_job

TEMPLATE = CircuitTemplate(3, 1, "angle-ry", "ry", "cnot-ring", ("z",))


class CountingAer(AerBackend):
    """The real aer adapter, counting the provider jobs it was asked to run."""

    def __init__(self, limit: int | None = None) -> None:
        super().__init__(seed=3)
        self.sent = 0
        if limit is not None:  # a device with a smaller per-job limit
            self.capabilities = dataclasses.replace(self.capabilities,
                                                    max_circuits_per_job=limit)

    def run_batches(self, batches: Sequence[CircuitBatch], tags: Sequence[str] = ()) -> JobHandle:
        self.sent += 1
        return super().run_batches(batches, tags)


def _batch(rows: int, seed: int = 0) -> CircuitBatch:
    params = np.random.default_rng(seed).uniform(-1, 1, (rows, 6))
    return CircuitBatch(TEMPLATE, params, 2000, seed=1000 + seed)


def _rows(url: str, job_id: str) -> list[Execution]:
    with session_scope(url) as session:
        return list(session.scalars(select(Execution).where(Execution.job_id == job_id)
                                    .order_by(Execution.id)))


def running(url: str) -> AttemptStore:
    """A job claimed by a driver (attempt 1), as the executor sees it."""
    job_id = make_job(url)
    with session_scope(url) as session:
        transition(session, job_id, JobState.RUNNING, origin="test")
    return AttemptStore(url, job_id, 1, retry_s=0)


def resumed(store: AttemptStore) -> AttemptStore:
    """The same job interrupted and claimed again (attempt 2)."""
    with session_scope(store.database_url) as session:
        for target in (JobState.INTERRUPTED, JobState.QUEUED, JobState.RUNNING):
            transition(session, store.job_id, target, origin="test")
    return AttemptStore(store.database_url, store.job_id, store.attempt + 1, retry_s=0)


def _executor(store: AttemptStore, backend: Backend, stop: bool = False,
              phases: list[str] | None = None) -> LedgeredExecutor:
    return LedgeredExecutor(store, backend, lambda: stop,
                            (phases if phases is not None else []).append)


def test_chunks_are_near_equal_and_only_when_forced() -> None:
    assert chunk_bounds(10, 100) == [(0, 10)]
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(12, 5) == [(0, 4), (4, 8), (8, 12)]


def test_one_ledger_row_per_batch_written_and_completed(database_url: str) -> None:
    store = running(database_url)
    batch = _batch(12)
    outputs = _executor(store, CountingAer())(batch, 4, "train", 0)
    assert outputs.shape == (12, 3)
    [row] = _rows(database_url, store.job_id)
    assert (row.step, row.purpose, row.chunk, row.status) == (4, "train", 0, ledger.DONE)
    assert row.provider_job_id and row.n_circuits == 12 and row.shots == 2000
    assert row.template_hash == TEMPLATE.hash and row.params_hash == batch.params_hash
    assert (row.seed, row.attempt, row.item) == (batch.seed, 1, 0)
    assert row.submitted_at is not None and row.finished_at is not None
    with session_scope(database_url) as session:
        assert ledger.usage(session, store.job_id) == {"provider_jobs": 1, "circuits": 12,
                                                       "shots": 24000}


def test_the_ledger_keeps_what_was_paid_for_and_only_seeds_of_local_runs(sqlite_url: str
                                                                        ) -> None:
    store = running(sqlite_url)
    _executor(store, CountingAer())(_batch(6), 1, "train", 0)
    paid = braket_device_backend()
    outputs = _executor(store, paid)(_batch(6), 2, "train", 0)
    local, cloud = _rows(sqlite_url, store.job_id)
    assert local.result is None and local.seed is not None  # re-runs bit for bit from its seed
    np.testing.assert_array_equal(ledger.outputs_of(cloud), outputs)


def test_limits_split_the_batch_with_a_seed_per_chunk(sqlite_url: str) -> None:
    store = running(sqlite_url)
    outputs = _executor(store, CountingAer(limit=5))(_batch(12), 1, "train", 0)
    rows = _rows(sqlite_url, store.job_id)
    assert [r.n_circuits for r in rows] == [4, 4, 4] and [r.chunk for r in rows] == [0, 1, 2]
    assert len({r.seed for r in rows}) == 3
    assert outputs.shape == (12, 3)


def test_a_finished_batch_is_reused_not_paid_twice(sqlite_url: str) -> None:
    store = running(sqlite_url)
    cloud = braket_device_backend()
    first = _executor(store, cloud)(_batch(8), 2, "train", 0)
    later = braket_device_backend()
    second = resumed(store)
    again = _executor(second, later)(_batch(8), 2, "train", 0)
    np.testing.assert_array_equal(first, again)
    assert len(_rows(sqlite_url, store.job_id)) == 1
    device = later.device()
    assert device.runs == []  # nothing sent by the resumed driver
    _executor(second, later)(_batch(8, seed=1), 2, "train", 0)  # other parameters
    assert len(_rows(sqlite_url, store.job_id)) == 2


def test_a_local_batch_done_without_a_result_reruns_identically(sqlite_url: str) -> None:
    store = running(sqlite_url)
    first = _executor(store, CountingAer())(_batch(8), 2, "train", 0)
    fresh = CountingAer()
    again = _executor(resumed(store), fresh)(_batch(8), 2, "train", 0)
    np.testing.assert_array_equal(first, again)
    assert len(_rows(sqlite_url, store.job_id)) == 1


def test_a_pending_local_row_is_superseded_and_run_again(sqlite_url: str) -> None:
    """Killed after the ledger row, before the provider id: nothing was paid locally."""
    store = running(sqlite_url)
    batch = _batch(6)
    key = LedgerKey(store.job_id, 5, "train", 0, 0)
    store.write(lambda s: ledger.record_pending(
        s, key, attempt=1, backend="aer", template_hash=TEMPLATE.hash,
        params_hash=batch.params_hash, seed=batch.seed, shots=2000, n_circuits=6))
    _executor(resumed(store), CountingAer())(batch, 5, "train", 0)
    assert [r.status for r in _rows(sqlite_url, store.job_id)] == [ledger.SUPERSEDED,
                                                                    ledger.DONE]


def test_a_pending_row_is_reconciled_with_the_provider_before_sending_again(
        sqlite_url: str) -> None:
    """The provider got the batch (its tag names the ledger key) but the id never reached the
    ledger: the resumed driver finds it by tag and re-attaches, paying nothing twice."""
    from qorch.backends.ibm.runtime import IBMRuntimeBackend
    from tests.backends.fakes import program_result

    store = running(sqlite_url)
    batch = _batch(4)
    key = LedgerKey(store.job_id, 3, "train", 0, 0)
    store.write(lambda s: ledger.record_pending(
        s, key, attempt=1, backend="ibm_fez", template_hash=TEMPLATE.hash,
        params_hash=batch.params_hash, seed=batch.seed, shots=2000, n_circuits=4))
    bits = np.zeros((4, 10, 3), dtype=bool)
    sent = FakeRuntimeJob("j42", ["DONE"], result=program_result(bits),
                          tags=[key.tag, f"{key.tag}#0"])
    backend = IBMRuntimeBackend("ibm_fez", service=FakeRuntimeService(jobs={"j42": sent}),
                                poll_interval=0.01)
    outputs = _executor(resumed(store), backend)(batch, 3, "train", 0)
    np.testing.assert_allclose(outputs, np.ones((4, 3)))
    [row] = _rows(sqlite_url, store.job_id)
    assert (row.status, row.provider_job_id) == (ledger.DONE, "j42")


def test_a_superseded_attempt_sends_nothing(sqlite_url: str) -> None:
    store = running(sqlite_url)
    resumed(store)
    backend = CountingAer()
    with pytest.raises(StaleAttemptError, match="attempt 1 stops here"):
        _executor(store, backend)(_batch(4), 1, "train", 0)
    assert backend.sent == 0 and _rows(sqlite_url, store.job_id) == []


def test_a_refused_batch_is_recorded_as_failed(sqlite_url: str) -> None:
    store = running(sqlite_url)
    bad = CircuitBatch(TEMPLATE, np.full((2, 6), np.nan), 2000, seed=1)
    with pytest.raises(CapabilityError, match="contains NaN"):
        _executor(store, CountingAer())(bad, 1, "train", 0)
    [row] = _rows(sqlite_url, store.job_id)
    assert row.status == ledger.FAILED and row.provider_job_id is None and row.error
    with session_scope(sqlite_url) as session:
        assert ledger.usage(session, store.job_id)["provider_jobs"] == 0


def test_cancel_while_waiting_in_an_ibm_queue(sqlite_url: str) -> None:
    """Re-attach to a queued IBM job (stand-in service, real adapter), report the queue
    position as the phase, and on cancel stop the provider job and the ledger row."""
    from qorch.backends.ibm.runtime import IBMRuntimeBackend

    store = running(sqlite_url)
    batch = _batch(4)
    queued = FakeRuntimeJob("d3adb33f", ["QUEUED"], position=12)
    backend = IBMRuntimeBackend("ibm_fez", service=FakeRuntimeService(
        jobs={"d3adb33f": queued}), poll_interval=0.01)
    key = LedgerKey(store.job_id, 3, "train", 0, 0)
    row_id = store.write(lambda s: ledger.record_pending(
        s, key, attempt=1, backend="ibm_fez", template_hash=TEMPLATE.hash,
        params_hash=batch.params_hash, seed=batch.seed, shots=2000, n_circuits=4))
    store.write(lambda s: ledger.mark_submitted(s, row_id, "d3adb33f", 0))
    phases: list[str] = []
    with pytest.raises(JobStopped):
        _executor(store, backend, stop=True, phases=phases)(batch, 3, "train", 0)
    assert queued.cancel_calls == 1
    assert any("queue position 12" in phase for phase in phases), phases
    [row] = _rows(sqlite_url, store.job_id)
    assert row.status == ledger.CANCELLED and row.provider_job_id == "d3adb33f"


def test_a_second_process_reattaches_to_what_the_first_sent(sqlite_url: str,
                                                            tmp_path: Path) -> None:
    """Process one sends a batch and dies before its result is recorded (the ledger row is
    SUBMITTED); process two, a fresh interpreter, re-attaches and gets the very same numbers."""
    store = running(sqlite_url)
    batch = _batch(6)
    np.save(tmp_path / "params.npy", batch.params)
    script = textwrap.dedent(f"""
        import os, numpy as np
        from qorch.backends.circuits.template import CircuitTemplate
        from qorch.backends.contract import CircuitBatch
        from qorch.backends.registry import resolve
        from qorch.orchestrator.runtime.context import AttemptStore
        from qorch.orchestrator.store import ledger
        from qorch.orchestrator.store.ledger import LedgerKey
        t = CircuitTemplate(3, 1, "angle-ry", "ry", "cnot-ring", ("z",))
        b = CircuitBatch(t, np.load({str(tmp_path / 'params.npy')!r}), 2000, seed={batch.seed})
        store = AttemptStore({sqlite_url!r}, {store.job_id!r}, 1, 0)
        key = LedgerKey(store.job_id, 7, "train", 0, 0)
        row = store.write(lambda s: ledger.record_pending(s, key, attempt=1, backend="aer",
            template_hash=t.hash, params_hash=b.params_hash, seed=b.seed, shots=2000,
            n_circuits=6))
        handle = resolve("aer").run_batch(b, key.tag)
        store.record(lambda s: ledger.mark_submitted(s, row, handle.provider_job_id, 0))
        np.save({str(tmp_path / 'first.npy')!r}, handle.result())
        os._exit(9)  # dies before recording the result
    """)
    first = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                           text=True)
    assert first.returncode == 9, first.stderr
    [row] = _rows(sqlite_url, store.job_id)
    assert row.status == ledger.SUBMITTED
    phases: list[str] = []
    outputs = _executor(resumed(store), resolve("aer"), phases=phases)(batch, 7, "train", 0)
    np.testing.assert_array_equal(outputs, np.load(tmp_path / "first.npy"))
    assert any(row.provider_job_id in p for p in phases)
    [row] = _rows(sqlite_url, store.job_id)
    assert row.status == ledger.DONE
