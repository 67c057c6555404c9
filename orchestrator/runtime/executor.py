"""The execution path: chunk a circuit batch to the backend's limits, ledger every submission,
wait with heartbeats and phases, and re-attach to provider jobs a resumed driver already paid for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from qorch.jobs.errors import JobStopped
from qorch.orchestrator.store import ledger
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.ledger import LedgerKey

POLL_SECONDS = 2.0


def chunk_bounds(n_circuits: int, max_circuits_per_job: int) -> list[tuple[int, int]]:
    """Split only where the backend's declared limits force it, into near-equal chunks."""
    per_job = max(1, max_circuits_per_job)
    size = math.ceil(n_circuits / math.ceil(n_circuits / per_job))
    return [(start, min(start + size, n_circuits)) for start in range(0, n_circuits, size)]


class LedgeredExecutor:
    """Runs batches on one backend for one job; every provider job is in the ledger."""

    def __init__(self, job_id: str, database_url: str, backend: Any,
                 should_stop: Callable[[], bool], set_phase: Callable[[str], None]) -> None:
        self.job_id = job_id
        self.database_url = database_url
        self.backend = backend
        self.should_stop = should_stop
        self.set_phase = set_phase

    def execute(self, batch: Any, step: int, purpose: str, index: int) -> np.ndarray:
        bounds = chunk_bounds(batch.n_circuits, self.backend.capabilities.max_circuits_per_job)
        pending: list[tuple[int, int, Any]] = []
        outputs: list[np.ndarray | None] = [None] * len(bounds)
        for chunk, (start, stop) in enumerate(bounds):
            part = batch.chunk(start, stop)
            key = LedgerKey(self.job_id, step, purpose, index, chunk)
            reused = self._reuse(key, part)
            if isinstance(reused, np.ndarray):
                outputs[chunk] = reused
            elif reused is not None:
                pending.append((chunk, *reused))
            else:
                pending.append((chunk, *self._submit(key, part)))
        for chunk, row_id, handle in pending:
            outputs[chunk] = self._wait(row_id, handle)
        return np.concatenate([o for o in outputs if o is not None], axis=0)

    def _reuse(self, key: LedgerKey, part: Any) -> np.ndarray | tuple[int, Any] | None:
        """A finished result, or a handle re-attached to a submitted job, or None."""
        with session_scope(self.database_url) as session:
            row = ledger.find(session, key)
            if row is None or row.params_hash != part.params_hash:
                return None
            if row.status == ledger.DONE and row.result is not None:
                return ledger.outputs_of(row)
            if row.status == ledger.SUBMITTED and row.provider_job_id:
                row_id, provider_job_id = row.id, row.provider_job_id
            else:
                return None
        self.set_phase(f"re-attached to provider job {provider_job_id}")
        return row_id, self.backend.retrieve(provider_job_id, part)

    def _submit(self, key: LedgerKey, part: Any) -> tuple[int, Any]:
        with session_scope(self.database_url) as session:
            row_id = ledger.record_pending(
                session, key, backend=self.backend.name, template_hash=part.template.hash,
                params_hash=part.params_hash, shots=part.shots, n_circuits=part.n_circuits)
        try:
            handle = self.backend.submit(part)
        except Exception as err:
            with session_scope(self.database_url) as session:
                ledger.mark_ended(session, row_id, ledger.FAILED, str(err))
            raise
        with session_scope(self.database_url) as session:
            ledger.mark_submitted(session, row_id, handle.provider_job_id)
        return row_id, handle

    def _wait(self, row_id: int, handle: Any) -> np.ndarray:
        while True:
            try:
                outputs = handle.result(timeout=POLL_SECONDS)
                break
            except TimeoutError:
                self.set_phase(handle.phase() or f"provider job {handle.provider_job_id}: "
                                                  f"{handle.status()}")
                if self.should_stop():
                    handle.cancel()
                    with session_scope(self.database_url) as session:
                        ledger.mark_ended(session, row_id, ledger.CANCELLED, "job cancelled")
                    raise JobStopped("stopped while waiting for the provider") from None
            except Exception as err:
                with session_scope(self.database_url) as session:
                    ledger.mark_ended(session, row_id, ledger.FAILED, str(err))
                raise
        with session_scope(self.database_url) as session:
            ledger.mark_done(session, row_id, outputs)
        return outputs
