"""A stand-in for QiskitRuntimeService (IBM is unreachable here): the methods the adapter calls."""

from __future__ import annotations

from typing import Any

import numpy as np


def sampler_result(bits: np.ndarray) -> Any:
    """A real qiskit PrimitiveResult for one PUB: bits [R, shots, n] with column i = clbit i."""
    from qiskit.primitives.containers import BitArray, DataBin, PrimitiveResult, SamplerPubResult

    array = BitArray.from_bool_array(np.asarray(bits, dtype=bool), order="little")
    data = DataBin(meas=array, shape=array.shape)
    return PrimitiveResult([SamplerPubResult(data, metadata={})], metadata={})


class FakeRuntimeJob:
    """The RuntimeJobV2 surface the adapter uses: job_id, status, metrics, result, cancel."""

    def __init__(
        self,
        job_id: str,
        states: list[str],
        result: Any = None,
        position: int | None = None,
        error: str = "",
    ) -> None:
        self._id, self._states, self._result = job_id, list(states), result
        self._position, self._error = position, error
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
    """backend(name), backends() and job(id), answering from what the test put in."""

    def __init__(self, device: Any = None, jobs: dict[str, Any] | None = None) -> None:
        self.device = device
        self.jobs = jobs or {}
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

        if job_id not in self.jobs:
            raise RuntimeJobNotFound(f"Job not found: {job_id}")
        return self.jobs[job_id]
