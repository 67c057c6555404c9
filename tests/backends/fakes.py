"""Stand-ins for the IBM and AWS clouds (unreachable here), behind the adapters' own seams.

Where a stand-in answers with results, they come from real local simulators: Braket's local
simulator behind an AwsDevice surface, qiskit-ibm-runtime's local mode behind a service.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np


def program_result(*items: np.ndarray) -> Any:
    """A real QuantumProgramResult: per item, bits [R, shots, n] with column i = clbit i."""
    from qiskit_ibm_runtime.results.quantum_program import QuantumProgramResult

    return QuantumProgramResult([{"meas": np.asarray(bits, dtype=bool)} for bits in items])


class FakeRuntimeJob:
    """The RuntimeJobV2 surface the adapter uses: job_id, status, metrics, result, cancel."""

    def __init__(self, job_id: str, states: list[str], result: Any = None,
                 position: int | None = None, error: str = "",
                 tags: list[str] | None = None) -> None:
        self._id, self._states, self._result = job_id, list(states), result
        self._position, self._error = position, error
        self.tags = tags or []
        self.cancel_calls = 0

    def job_id(self) -> str:
        return self._id

    def status(self) -> str:
        # Each poll advances one state, like a job moving through IBM's queue.
        return self._states.pop(0) if len(self._states) > 1 else self._states[0]

    def metrics(self) -> dict[str, Any]:
        return {"position_in_queue": self._position} if self._position else {"timestamps": {}}

    def result(self) -> Any:
        return self._result

    def error_message(self) -> str:
        return self._error

    def cancel(self) -> None:
        self.cancel_calls += 1
        self._states = ["CANCELLED"]


class FakeRuntimeService:
    """backend(name), backends(), job(id) and jobs(job_tags=...), answering from what the test
    put in. With a fake device, the adapter's Executor runs in qiskit-ibm-runtime's local mode."""

    def __init__(self, device: Any = None, jobs: dict[str, Any] | None = None) -> None:
        self.device = device
        self.jobs_by_id = jobs or {}
        self.backend_calls = 0

    def backend(self, name: str) -> Any:
        from qiskit.providers.exceptions import QiskitBackendNotFoundError

        self.backend_calls += 1
        if self.device is None:
            raise QiskitBackendNotFoundError("No backend matches the criteria.")
        return self.device

    def backends(self) -> list[Any]:
        from qiskit_ibm_runtime.fake_provider import FakeFez, FakeTorino

        return [FakeFez(), FakeTorino()]

    def job(self, job_id: str) -> Any:
        from qiskit_ibm_runtime.exceptions import RuntimeJobNotFound

        if job_id not in self.jobs_by_id:
            raise RuntimeJobNotFound(f"Job not found: {job_id}")
        return self.jobs_by_id[job_id]

    def jobs(self, job_tags: list[str], limit: int = 10) -> list[Any]:
        found = [j for j in self.jobs_by_id.values() if set(job_tags) <= set(j.tags)]
        return found[:limit]


class FakeTask:
    """The AwsQuantumTask surface the adapter uses, answering with a real local result."""

    def __init__(self, arn: str, states: list[str], result: Any = None,
                 position: str | None = None) -> None:
        self.id, self._states, self._result, self._position = arn, list(states), result, position
        self.cancelled = False

    def state(self) -> str:
        return self._states.pop(0) if len(self._states) > 1 else self._states[0]

    def queue_position(self) -> Any:
        return SimpleNamespace(queue_position=self._position, message=None)

    def result(self) -> Any:
        return self._result

    def cancel(self) -> None:
        self.cancelled = True


class LocalBackedDevice:
    """An AwsDevice stand-in: Braket's real local simulator behind status/properties/run."""

    def __init__(self, status: str = "ONLINE") -> None:
        from braket.devices import LocalSimulator

        self._sim = LocalSimulator("braket_sv")
        self.status, self.properties = status, self._sim.properties
        self.runs: list[Any] = []
        self.tags: dict[str, str] | None = None

    def run(self, program: Any, shots: int, tags: dict[str, str] | None = None,
            inputs: dict[str, float] | None = None) -> FakeTask:
        self.runs.append(program)
        self.tags = tags
        result = self._sim.run(program, shots=shots, inputs=inputs or {}).result()
        return FakeTask(f"arn:task/{len(self.runs)}", ["COMPLETED"], result)


def braket_device_backend(device: Any = None, tasks: dict[str, FakeTask] | None = None) -> Any:
    """The braket:sv1 adapter over a local-backed device and stand-in tasks."""
    from qorch.backends.braket.aws import BraketDeviceBackend

    return BraketDeviceBackend(
        "braket:sv1",
        session_factory=lambda region: SimpleNamespace(region=region),
        device_factory=lambda arn, session: device if device is not None else LocalBackedDevice(),
        task_factory=lambda arn: (tasks or {})[arn],
        poll_interval=0.01,
    )


def ibm_backend(device: Any, name: str = "ibm_test") -> Any:
    """The ibm_<device> adapter over a stand-in service with a fake device (local mode)."""
    from qorch.backends.ibm.runtime import IBMRuntimeBackend

    return IBMRuntimeBackend(name, service=FakeRuntimeService(device=device), poll_interval=0.01)
