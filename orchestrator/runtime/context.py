"""The store as one attempt of a job sees it (fenced, retried), and the JobContext it backs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from sqlalchemy.orm import Session

from qorch.backends.contract import CircuitBatch
from qorch.jobs.errors import JobError
from qorch.orchestrator.errors import TransientStoreError
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import transact
from qorch.orchestrator.store.models import utcnow
from qorch.orchestrator.store.states import JobState

log = logging.getLogger(__name__)
T = TypeVar("T")
FLUSH_EVERY_S = 1.0
FLUSH_EVERY_POINTS = 500
CHECK_EVERY_S = 1.0


class AttemptStore:
    """Store access of one attempt: every write is fenced by the attempt, transient faults are
    retried for up to `retry_s` seconds."""

    def __init__(self, database_url: str, job_id: str, attempt: int, retry_s: float) -> None:
        self.database_url, self.job_id, self.attempt = database_url, job_id, attempt
        self.retry_s = retry_s

    def write(self, work: Callable[[Session], T], phase: str | None = None,
              retry: bool = True) -> T:
        """`work` in one transaction behind the fence (which also beats the heartbeat)."""
        def fenced(session: Session) -> T:
            repo.fence(session, self.job_id, self.attempt, phase)
            return work(session)

        return transact(self.database_url, fenced, retry_s=self.retry_s if retry else 0.0)

    def read(self, work: Callable[[Session], T]) -> T:
        return transact(self.database_url, work, retry_s=self.retry_s)

    def record(self, work: Callable[[Session], T]) -> T:
        """An unfenced write, for facts that hold whoever runs the job now (a provider job that
        was paid for, and what became of it)."""
        return transact(self.database_url, work, retry_s=self.retry_s)


class StoreContext:
    """The JobContext of a running attempt: metrics buffered (and kept through a short store
    outage), heartbeats and cancel checks about once a second, every write fenced."""

    def __init__(self, store: AttemptStore, spill_dir: Path) -> None:
        self.store = store
        self.spill_dir = spill_dir
        self._points: list[repo.MetricPoint] = []
        self._last_flush = time.monotonic()
        self._last_check = 0.0
        self._stop = False
        self._outage_since: float | None = None
        # Executors by purpose ("*": every purpose): a comparison has one per backend.
        self.executors: dict[str, Callable[[CircuitBatch, int, str, int], np.ndarray]] = {}
        self._lock = threading.Lock()

    def _attempt_write(self, work: Callable[[Session], object]) -> bool:
        """One try; during an outage the caller carries on until the retry budget is spent."""
        try:
            self.store.write(work, retry=False)
        except TransientStoreError:
            now = time.monotonic()
            self._outage_since = self._outage_since or now
            if now - self._outage_since > self.store.retry_s:
                raise
            log.warning("store unavailable; %d metric values buffered", len(self._points))
            return False
        self._outage_since = None
        return True

    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        now = utcnow()
        with self._lock:  # a comparison logs from several threads
            self._points.extend(repo.MetricPoint(step, epoch, name, float(value), now)
                                for name, value in values.items())
            due = (len(self._points) >= FLUSH_EVERY_POINTS
                   or time.monotonic() - self._last_flush >= FLUSH_EVERY_S)
        if due:
            self.flush(wait=False)

    def flush(self, wait: bool = True) -> None:
        """Write buffered metrics; `wait` retries through an outage (checkpoints, the end)."""
        with self._lock:
            self._last_flush = time.monotonic()
            points = list(self._points)
        if not points:
            return
        def work(session: Session) -> None:
            repo.add_metrics(session, self.store.job_id, points)

        if wait:
            self.store.write(work)
        elif not self._attempt_write(work):
            return
        with self._lock:
            del self._points[: len(points)]

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        self.flush()
        self.store.write(lambda session: repo.save_checkpoint(
            session, self.store.job_id, step=step, epoch=epoch, kind=kind, payload=payload,
            spill_dir=self.spill_dir))

    def latest_checkpoint(self) -> bytes | None:
        def newest(session: Session) -> bytes | None:
            row = repo.latest_checkpoint(session, self.store.job_id)
            return None if row is None else repo.checkpoint_payload(row)

        return self.store.read(newest)

    def should_stop(self) -> bool:
        if self._stop or time.monotonic() - self._last_check < CHECK_EVERY_S:
            return self._stop
        self._last_check = time.monotonic()
        state: list[JobState] = []
        if self._attempt_write(lambda s: state.append(repo.current_state(s, self.store.job_id))):
            self._stop = state[0] is not JobState.RUNNING
        return self._stop

    def execute(self, batch: CircuitBatch, step: int, purpose: str, index: int) -> np.ndarray:
        executor = self.executors.get(purpose) or self.executors.get("*")
        if executor is None:
            raise JobError("this job's quantum layer runs in process; it sends no batches")
        return executor(batch, step, purpose, index)

    def set_phase(self, phase: str) -> None:
        self.store.write(lambda session: None, phase=phase)
