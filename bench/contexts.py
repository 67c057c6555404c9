"""A JobContext for benchmarks that run the jobs-layer loops in process, without a store."""

from __future__ import annotations

from typing import Any


class QuietContext:
    """Keeps nothing and sends no circuits: the loop's own cost (the exact path only)."""

    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        pass

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        pass

    def latest_checkpoint(self) -> bytes | None:
        return None

    def should_stop(self) -> bool:
        return False

    def set_phase(self, phase: str) -> None:
        pass

    def execute(self, batch: Any, step: int, purpose: str, index: int) -> Any:
        raise RuntimeError("this benchmark runs the exact path only: no circuit batches")
