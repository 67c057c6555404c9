"""Shared adapter plumbing: validation against Capabilities, and seeded local job submission."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Capabilities, CircuitBatch
from qorch.backends.errors import CapabilityError, ProviderJobError
from qorch.backends.local.jobs import LocalJob, finished, new_seed, seed_of
from qorch.backends.noise import NoiseSpec


def check_request(
    name: str,
    caps: Capabilities,
    template: CircuitTemplate,
    shots: int | None,
    n_circuits: int | None = None,
) -> None:
    """The checks every adapter shares; each raises one line naming the limit."""
    if template.n_qubits > caps.max_qubits:
        raise CapabilityError(
            f"{name} takes at most {caps.max_qubits} qubits; the circuit needs {template.n_qubits}"
        )
    if shots is None:
        if not caps.exact:
            raise CapabilityError(
                f"{name} estimates outputs from shots: give shots in 1..{caps.max_shots}"
            )
    elif isinstance(shots, bool) or not isinstance(shots, int) or not 1 <= shots <= caps.max_shots:
        raise CapabilityError(f"{name} accepts shots in 1..{caps.max_shots}, got {shots!r}")
    if n_circuits is not None and not 1 <= n_circuits <= caps.max_circuits_per_job:
        raise CapabilityError(
            f"{name} takes 1..{caps.max_circuits_per_job} circuits per job, got {n_circuits}; "
            "split the batch"
        )


def check_params(batch: CircuitBatch) -> None:
    if not np.all(np.isfinite(batch.params)):
        bad = int(np.argwhere(~np.isfinite(batch.params))[0][0])
        raise CapabilityError(
            f"parameter row {bad} contains NaN or infinity; nothing was submitted"
        )


class LocalBackend(ABC):
    """A simulator in this process: seeded per job, so retrieve() can re-run a lost job exactly."""

    name: str
    capabilities: Capabilities
    noise: NoiseSpec

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def validate(
        self, template: CircuitTemplate, shots: int | None, n_circuits: int | None = None
    ) -> None:
        check_request(self.name, self.capabilities, template, shots, n_circuits)

    def submit(self, batch: CircuitBatch) -> LocalJob:
        self.validate(batch.template, batch.shots, batch.n_circuits)
        check_params(batch)
        return self._start(batch, new_seed(self._rng), None)

    def retrieve(self, provider_job_id: str, batch: CircuitBatch) -> LocalJob:
        job = finished(provider_job_id)
        if job is not None:
            return job
        seed = seed_of(provider_job_id)
        if seed is None:
            raise ProviderJobError(
                f"{self.name} job {provider_job_id!r} is not from this process and carries no "
                "seed to re-run it; resubmit the batch"
            )
        self.validate(batch.template, batch.shots, batch.n_circuits)
        return self._start(batch, seed, provider_job_id)

    @abstractmethod
    def _start(self, batch: CircuitBatch, seed: int, provider_job_id: str | None) -> LocalJob:
        """Run the batch with this seed; reuse provider_job_id when re-running a known job."""
