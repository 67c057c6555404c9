"""StoreContext: the JobContext a driver hands to the loops, backed by the SQL store."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from qorch.backends.contract import CircuitBatch
from qorch.jobs.errors import JobError
from qorch.orchestrator.runtime.executor import LedgeredExecutor
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import utcnow
from qorch.orchestrator.store.states import JobState

FLUSH_EVERY_S = 1.0
FLUSH_EVERY_POINTS = 500
CHECK_EVERY_S = 1.0


class StoreContext:
    """Buffers metrics, throttles heartbeats and cancel checks to about one write a second."""

    def __init__(self, job_id: str, database_url: str, spill_dir: Path) -> None:
        self.job_id = job_id
        self.database_url = database_url
        self.spill_dir = spill_dir
        self._points: list[repo.MetricPoint] = []
        self._last_flush = time.monotonic()
        self._last_check = 0.0
        self._stop = False
        self.executor: LedgeredExecutor | None = None

    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        now = utcnow()
        self._points.extend(
            repo.MetricPoint(step, epoch, name, float(value), now) for name, value in values.items()
        )
        if (len(self._points) >= FLUSH_EVERY_POINTS
                or time.monotonic() - self._last_flush >= FLUSH_EVERY_S):
            self.flush()

    def flush(self) -> None:
        points, self._points = self._points, []
        self._last_flush = time.monotonic()
        if points:
            with session_scope(self.database_url) as session:
                repo.add_metrics(session, self.job_id, points)

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        self.flush()
        with session_scope(self.database_url) as session:
            repo.save_checkpoint(session, self.job_id, step=step, epoch=epoch, kind=kind,
                                 payload=payload, spill_dir=self.spill_dir)
            repo.beat(session, self.job_id)

    def latest_checkpoint(self) -> bytes | None:
        with session_scope(self.database_url) as session:
            row = repo.latest_checkpoint(session, self.job_id)
            return None if row is None else repo.checkpoint_payload(row)

    def should_stop(self) -> bool:
        if self._stop or time.monotonic() - self._last_check < CHECK_EVERY_S:
            return self._stop
        self._last_check = time.monotonic()
        with session_scope(self.database_url) as session:
            repo.beat(session, self.job_id)
            state = repo.current_state(session, self.job_id)
        self._stop = state is not JobState.RUNNING
        return self._stop

    def execute(self, batch: CircuitBatch, step: int, purpose: str, index: int) -> np.ndarray:
        if self.executor is None:
            raise JobError("this job has no circuit backend (exact statevector path)")
        return self.executor.execute(batch, step, purpose, index)

    def set_phase(self, phase: str) -> None:
        with session_scope(self.database_url) as session:
            repo.beat(session, self.job_id, phase=phase)
