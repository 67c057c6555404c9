"""The one contract every backend adapter implements: capabilities, validate, submit, retrieve."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate


@dataclass(frozen=True)
class Capabilities:
    """What a backend can take in one provider job, declared before anything is spent."""

    kind: str  # "simulator", "noisy-emulator" or "hardware"
    max_qubits: int
    max_circuits_per_job: int
    max_shots: int
    max_payload_bytes: int | None = None
    supports_noise: bool = False
    exact: bool = False  # can return exact expectation values (no shots)
    differentiable: bool = False  # autograd through the backend itself
    retired: bool = False


@dataclass(frozen=True)
class CircuitBatch:
    """One template evaluated at many parameter rows: [inputs | weights] per row."""

    template: CircuitTemplate
    params: np.ndarray  # float64 [R, n_inputs + n_weights]
    shots: int | None

    def __post_init__(self) -> None:
        width = self.template.n_inputs + self.template.n_weights
        if self.params.ndim != 2 or self.params.shape[1] != width:
            raise ValueError(f"parameter matrix must be [R, {width}]; got {self.params.shape}")

    @property
    def n_circuits(self) -> int:
        return int(self.params.shape[0])

    @property
    def inputs(self) -> np.ndarray:
        return self.params[:, : self.template.n_inputs]

    @property
    def weights(self) -> np.ndarray:
        return self.params[:, self.template.n_inputs :]

    @property
    def params_hash(self) -> str:
        data = np.ascontiguousarray(self.params, dtype=np.float64).tobytes()
        return hashlib.sha256(data).hexdigest()[:32]

    def chunk(self, start: int, stop: int) -> CircuitBatch:
        return CircuitBatch(self.template, self.params[start:stop], self.shots)


@runtime_checkable
class JobHandle(Protocol):
    """A provider job: its id, its state, its result, and a way to stop it."""

    @property
    def provider_job_id(self) -> str: ...

    def status(self) -> str:
        """Provider state in the provider's words (QUEUED, RUNNING, DONE, ...)."""
        ...

    def phase(self) -> str | None:
        """Human phase, e.g. 'waiting for QPU, queue position 12', when the provider tells."""
        ...

    def result(self, timeout: float | None = None) -> np.ndarray:
        """Template outputs [R, n_outputs] (expectations / probabilities), float64.

        Blocks up to `timeout` seconds (None: until done); raises TimeoutError if the provider
        job is still queued or running then, so callers can poll, beat and report the phase.
        """
        ...

    def cancel(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    name: str
    capabilities: Capabilities

    def validate(
        self, template: CircuitTemplate, shots: int | None, n_circuits: int | None = None
    ) -> None:
        """Raise a BackendError (one line, what is wrong and what is accepted) before spending.

        `n_circuits` (parameter rows of one provider job), when given, is checked against
        `capabilities.max_circuits_per_job`; submit() always checks its batch's rows.
        """
        ...

    def submit(self, batch: CircuitBatch) -> JobHandle: ...

    def retrieve(self, provider_job_id: str, batch: CircuitBatch) -> JobHandle:
        """Re-attach to a job submitted earlier (e.g. by a driver that was interrupted)."""
        ...
