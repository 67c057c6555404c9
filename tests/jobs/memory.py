"""An in-memory JobContext for the loops' tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qorch.backends.contract import CircuitBatch


class MemoryContext:
    """A JobContext that keeps everything in lists; stops once `stop_after` steps were logged."""

    def __init__(self, checkpoints: list[tuple[int, int, str, bytes]] | None = None,
                 stop_after: int | None = None,
                 run: Callable[[CircuitBatch], np.ndarray] | None = None) -> None:
        self.run = run
        self.sent: list[tuple[int, int, str, int]] = []
        self.metrics: list[tuple[int, int, str, float]] = []
        self.checkpoints = checkpoints if checkpoints is not None else []
        self.stop_after = stop_after
        self.phases: list[str] = []

    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        self.metrics.extend((step, epoch, k, v) for k, v in values.items())

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        self.checkpoints.append((step, epoch, kind, payload))

    def latest_checkpoint(self) -> bytes | None:
        resumable = [c for c in self.checkpoints if c[2] in ("step", "epoch")]
        return resumable[-1][3] if resumable else None

    def should_stop(self) -> bool:
        steps = {m[0] for m in self.metrics if m[2] == "loss"}
        return self.stop_after is not None and len(steps) >= self.stop_after

    def set_phase(self, phase: str) -> None:
        self.phases.append(phase)

    def execute(self, batch: CircuitBatch, step: int, purpose: str, index: int) -> np.ndarray:
        if self.run is None:
            raise AssertionError("this context sends no circuit batches")
        self.sent.append((batch.n_circuits, step, purpose, index))
        return self.run(batch)
