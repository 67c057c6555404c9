"""The JobContext protocol: the only way training and inference loops talk to the outside."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from qorch.backends.contract import CircuitBatch


class JobContext(Protocol):
    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        """Record metric values observed at a step (buffered; flushed by the context)."""

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        """Persist a checkpoint; kind is 'step', 'epoch' or 'final'."""

    def latest_checkpoint(self) -> bytes | None:
        """The newest resumable checkpoint of this job, or None on a fresh start."""

    def should_stop(self) -> bool:
        """True once the job has been asked to stop (cancel); beats the heartbeat too."""

    def set_phase(self, phase: str) -> None:
        """A short human-readable description of what the job is doing now."""

    def execute(self, batch: CircuitBatch, step: int, purpose: str, index: int) -> np.ndarray:
        """Run a circuit batch on the job's backend; (step, purpose, index) names it stably,
        so a resumed job re-attaches to a submission instead of paying for it twice."""
