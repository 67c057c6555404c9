"""The execution path: chunk a circuit batch to the backend's limits, write every batch to the
ledger before it is sent, wait with heartbeats and phases, and on resume reuse, re-attach to or
reconcile what an earlier attempt already sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from qorch.backends.contract import Backend, CircuitBatch, JobHandle
from qorch.backends.local.backend import block_seed
from qorch.jobs.errors import JobStopped
from qorch.orchestrator.runtime.context import AttemptStore
from qorch.orchestrator.store import ledger
from qorch.orchestrator.store.ledger import LedgerKey

POLL_SECONDS = 2.0
# (batch, key, still wanted?) -> (provider job id, item, handle); a sender that waits asks
# `still wanted` now and then, which also keeps the job's heartbeat.
Sender = Callable[[CircuitBatch, LedgerKey, Callable[[], bool]], tuple[str, int, JobHandle]]


def chunk_bounds(n_circuits: int, max_circuits_per_job: int) -> list[tuple[int, int]]:
    """Split only where the backend's declared limits force it, into near-equal chunks."""
    per_job = max(1, max_circuits_per_job)
    size = math.ceil(n_circuits / math.ceil(n_circuits / per_job))
    return [(start, min(start + size, n_circuits)) for start in range(0, n_circuits, size)]


def chunk_seed(seed: int | None, chunk: int) -> int | None:
    """Chunk 0 keeps the batch's seed; others derive theirs (a function of the key alone)."""
    return seed if seed is None or chunk == 0 else block_seed(seed, 10_000 + chunk)


def direct_sender(backend: Backend) -> Sender:
    """Send straight to the backend: one provider job per batch."""
    def send(part: CircuitBatch, key: LedgerKey, still_wanted: Callable[[], bool]
             ) -> tuple[str, int, JobHandle]:
        handle = backend.run_batch(part, key.tag)
        return handle.provider_job_id, 0, handle

    return send


class LedgeredExecutor:
    """Runs batches on one backend for one attempt of a job; every batch is in the ledger."""

    def __init__(self, store: AttemptStore, backend: Backend, should_stop: Callable[[], bool],
                 set_phase: Callable[[str], None], send: Sender | None = None) -> None:
        self.store = store
        self.backend = backend
        self.should_stop = should_stop
        self.set_phase = set_phase
        self.send = send or direct_sender(backend)

    def __call__(self, batch: CircuitBatch, step: int, purpose: str, index: int) -> np.ndarray:
        bounds = chunk_bounds(batch.n_circuits, self.backend.capabilities.max_circuits_per_job)
        waiting: list[tuple[int, int, JobHandle, int]] = []
        outputs: list[np.ndarray | None] = [None] * len(bounds)
        for chunk, (start, stop) in enumerate(bounds):
            part = batch.rows(start, stop, chunk_seed(batch.seed, chunk))
            key = LedgerKey(self.store.job_id, step, purpose, index, chunk)
            found = self._reuse(key, part)
            if isinstance(found, np.ndarray):
                outputs[chunk] = found
            else:
                waiting.append((chunk, *(found or self._send(key, part))))
        for chunk, row_id, handle, item in waiting:
            outputs[chunk] = self._wait(row_id, handle, item)
        return np.concatenate([o for o in outputs if o is not None], axis=0)

    def _reuse(self, key: LedgerKey, part: CircuitBatch
               ) -> np.ndarray | tuple[int, JobHandle, int] | None:
        """A kept result, a handle re-attached to a sent job, or None (send it)."""
        row = self.store.read(lambda session: ledger.find(session, key))
        if row is None:
            return None
        if row.params_hash != part.params_hash or row.status in (ledger.FAILED, ledger.CANCELLED):
            if row.status in (ledger.PENDING, ledger.SUBMITTED):
                self._supersede(row.id, "parameters changed")
            return None
        if row.status == ledger.DONE and row.result is not None:
            return ledger.outputs_of(row)
        provider_job_id = row.provider_job_id
        if row.status == ledger.PENDING:
            # Killed between the ledger row and the provider's answer: ask the provider whether
            # it got the batch before sending it again.
            found = self.backend.find_tagged(key.tag)
            if found is None:
                self._supersede(row.id, "never reached the provider")
                return None
            provider_job_id, item = found
            self.store.write(lambda s: ledger.mark_submitted(s, row.id, found[0], found[1]))
            row_item = item
        else:
            row_item = row.item
        if provider_job_id is None:
            return None
        self.set_phase(f"re-attached to provider job {provider_job_id}")
        return row.id, self.backend.retrieve(provider_job_id, part, row_item), row_item

    def _supersede(self, row_id: int, why: str) -> None:
        self.store.write(lambda s: ledger.mark_ended(s, row_id, ledger.SUPERSEDED, why))

    def _end(self, row_id: int, status: str, why: str) -> None:
        self.store.record(lambda s: ledger.mark_ended(s, row_id, status, why))

    def _send(self, key: LedgerKey, part: CircuitBatch) -> tuple[int, JobHandle, int]:
        row_id = self.store.write(lambda session: ledger.record_pending(
            session, key, attempt=self.store.attempt, backend=self.backend.name,
            template_hash=part.template.hash, params_hash=part.params_hash, seed=part.seed,
            shots=part.shots, n_circuits=part.n_circuits))
        # Checked again just before paying: a driver frozen after writing its row (a sleeping
        # laptop) and superseded meanwhile must not send when it wakes.
        self.store.write(lambda session: None)
        try:
            provider_job_id, item, handle = self.send(part, key, lambda: not self.should_stop())
        except JobStopped:
            self._end(row_id, ledger.CANCELLED, "job cancelled")
            raise
        except Exception as err:
            self._end(row_id, ledger.FAILED, str(err))
            raise
        # Recorded even if this attempt was superseded meanwhile: it is what was paid for.
        self.store.record(lambda s: ledger.mark_submitted(s, row_id, provider_job_id, item))
        return row_id, handle, item

    def _wait(self, row_id: int, handle: JobHandle, item: int) -> np.ndarray:
        while True:
            try:
                outputs = handle.result(item, timeout=POLL_SECONDS)
                break
            except TimeoutError:
                self.set_phase(handle.phase() or f"provider job {handle.provider_job_id}: "
                                                  f"{handle.status()}")
                if self.should_stop():
                    handle.cancel()
                    self._end(row_id, ledger.CANCELLED, "job cancelled")
                    raise JobStopped("stopped while waiting for the provider") from None
            except Exception as err:
                self._end(row_id, ledger.FAILED, str(err))
                raise
        kept = None if self.backend.capabilities.seeded else outputs
        self.store.record(lambda s: ledger.mark_done(s, row_id, kept))
        return outputs
