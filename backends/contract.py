"""The one contract every backend implements: capabilities, validate, run_batches, retrieve."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate, plural
from qorch.backends.errors import CapabilityError

if TYPE_CHECKING:
    import torch

    from qorch.backends.noisy.mitigation import ReadoutCalibration

BackendKind = Literal["simulator", "noisy-emulator", "hardware"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can take in one provider job, declared before anything is spent.

    The orchestrator and the jobs layer decide behaviour from these flags alone, never from a
    backend's name: `exact` says whether a request without shots is answered exactly,
    `differentiable` whether `evaluate` gives autograd gradients, `supports_noise` whether
    `--noise` is accepted, and `seeded` whether a batch re-runs bit for bit from its seed (so
    the ledger need not keep its result).
    """

    kind: BackendKind
    max_qubits: int
    max_circuits_per_job: int
    max_shots: int
    supports_noise: bool = False
    exact: bool = False
    differentiable: bool = False
    seeded: bool = False


@dataclass(frozen=True)
class CircuitBatch:
    """One template evaluated at many parameter rows: [inputs | weights] per row.

    `seed` fixes the shot sampling of seeded (local) backends; the orchestrator derives it from
    the batch's place in the job, so a resumed job draws exactly what it drew before.
    """

    template: CircuitTemplate
    params: np.ndarray  # float64 [R, n_inputs + n_weights]
    shots: int | None
    seed: int | None = None

    def __post_init__(self) -> None:
        width = self.template.n_inputs + self.template.n_weights
        if self.params.ndim != 2 or self.params.shape[1] != width:
            raise CapabilityError(
                f"parameter matrix must be [R, {width}]; got {list(self.params.shape)}"
            )

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

    def rows(self, start: int, stop: int, seed: int | None = None) -> CircuitBatch:
        """Rows start..stop as a batch of their own (with their own seed, when given)."""
        return CircuitBatch(self.template, self.params[start:stop], self.shots, seed)


def check_request(
    name: str,
    caps: Capabilities,
    template: CircuitTemplate,
    shots: int | None,
    n_circuits: int | None = None,
) -> None:
    """The checks every backend shares, and the one place shots are checked."""
    if template.n_qubits > caps.max_qubits:
        raise CapabilityError(
            f"{name} takes at most {plural(caps.max_qubits, 'qubit')}; "
            f"the circuit needs {template.n_qubits}"
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
    """Refuse NaN or infinite parameters before anything is sent."""
    if not np.all(np.isfinite(batch.params)):
        bad = int(np.argwhere(~np.isfinite(batch.params))[0][0])
        raise CapabilityError(f"parameter row {bad} contains NaN or infinity; nothing was sent")


class JobHandle(ABC):
    """A provider job holding one or more batches ("items"): its id, state, results, cancel."""

    @property
    @abstractmethod
    def provider_job_id(self) -> str: ...

    @abstractmethod
    def status(self) -> str:
        """Provider state in the provider's words (QUEUED, RUNNING, DONE, ...)."""

    @abstractmethod
    def phase(self) -> str | None:
        """Human phase, e.g. 'waiting for ibm_fez, queue position 12', when the provider tells."""

    @abstractmethod
    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        """Outputs [R, n_outputs] of one item (expectations / probabilities), float64.

        Blocks up to `timeout` seconds (None: until done); raises TimeoutError if the provider
        job is still queued or running then, so callers can poll, beat and report the phase.
        """

    @abstractmethod
    def cancel(self) -> None: ...


class Backend(ABC):
    """Where circuits run. Optional parts (evaluate, calibration_report, readout_calibration,
    estimate_cost, close) have defaults here; `capabilities` says which of them mean
    something."""

    name: str
    capabilities: Capabilities

    def validate(
        self, template: CircuitTemplate, shots: int | None, n_circuits: int | None = None
    ) -> None:
        """Raise a BackendError (one line, what is wrong and what is accepted) before spending.

        `n_circuits` (parameter rows of one provider job), when given, is checked against
        `capabilities.max_circuits_per_job`; run_batches() always checks its rows.
        """
        check_request(self.name, self.capabilities, template, shots, n_circuits)

    def check_batches(self, batches: Sequence[CircuitBatch]) -> None:
        """What run_batches checks before sending: each batch, and their rows together."""
        if not batches:
            raise CapabilityError(f"{self.name}: a provider job needs at least one batch")
        shots = {b.shots for b in batches}
        if len(shots) != 1:
            raise CapabilityError(
                f"{self.name} runs one shot count per provider job, got {sorted(map(str, shots))}"
            )
        total = sum(b.n_circuits for b in batches)
        for b in batches:
            self.validate(b.template, b.shots, total)
            check_params(b)

    @abstractmethod
    def run_batches(self, batches: Sequence[CircuitBatch], tags: Sequence[str] = ()) -> JobHandle:
        """Send every batch in ONE provider job, each as its own item (result(item)). `tags`,
        when given, holds one label per batch, kept by the provider with the job (IBM job
        tags, Braket task tags) so that find_tagged() can find it again."""

    def run_batch(self, batch: CircuitBatch, tag: str | None = None) -> JobHandle:
        """One batch as a provider job of its own."""
        return self.run_batches([batch], [tag] if tag else [])

    @abstractmethod
    def retrieve(self, provider_job_id: str, batch: CircuitBatch, item: int = 0) -> JobHandle:
        """Re-attach to a provider job sent earlier (e.g. by a driver that was interrupted);
        `batch` is what was sent as `item`, and the handle answers result(item)."""

    def find_tagged(self, tag: str) -> tuple[str, int] | None:
        """(provider job id, item) of a batch sent with this tag, if the provider has one: lets a
        resumed job find a submission whose id was never recorded. Local simulators keep
        nothing (a seeded batch is simply run again)."""
        return None

    def evaluate(
        self,
        template: CircuitTemplate,
        inputs: torch.Tensor,
        weights: torch.Tensor,
        shots: int | None,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """Outputs [R, n_outputs] with autograd gradients (capabilities.differentiable)."""
        raise CapabilityError(
            f"{self.name} is not differentiable: use --gradient parameter-shift or spsa"
        )

    def calibration_report(self, template: CircuitTemplate) -> dict[str, Any] | None:
        """Device, calibration date, layout and error rates of the qubits used, if any."""
        return None

    def readout_calibration(self, template: CircuitTemplate) -> ReadoutCalibration | None:
        """Readout confusion of the qubits `template` is measured on, where the backend knows it
        without running anything (a device snapshot, a noise model): what `--mitigate readout`
        inverts. None where it must be measured (hardware: calibration circuits in the job)."""
        return None

    def estimate_cost(self, n_circuits: int, shots: int) -> dict[str, Any] | None:
        """List-price estimate for a plan, where the provider publishes prices."""
        return None

    def close(self) -> None:
        """Release provider sessions (e.g. an IBM batch) at the end of a job."""
        return None
