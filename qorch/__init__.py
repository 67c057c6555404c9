"""qorch: hybrid quantum-classical classifier jobs on a Ray cluster. `Client` is the Python API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qorch.orchestrator.client import Client, Job, MetricRecord, Metrics
    from qorch.orchestrator.store.states import JobState

__all__ = ["Client", "Job", "JobState", "MetricRecord", "Metrics"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `qorch list` (which imports qorch.cli) stays light.
    if name == "JobState":
        from qorch.orchestrator.store.states import JobState

        return JobState
    if name in __all__:
        from qorch.orchestrator import client

        return getattr(client, name)
    raise AttributeError(f"module 'qorch' has no attribute {name!r}")
