"""How a job's quantum layer runs on its backend, decided from the backend's capabilities alone."""

from __future__ import annotations

from dataclasses import dataclass

from qorch.backends.contract import Backend, Capabilities
from qorch.backends.errors import CapabilityError
from qorch.jobs.context import JobContext
from qorch.jobs.quantum.gradients import rows_per_sample
from qorch.jobs.quantum.runners import AutogradRunner, CircuitRunner, ShotRunner
from qorch.jobs.spec import TrainSpec

DEFAULT_SHOTS = 1024


@dataclass(frozen=True)
class QuantumSetup:
    """shots: None means exact outputs. gradient: autograd (through the backend), or
    parameter-shift / spsa (from circuit rows sent with the values)."""

    shots: int | None
    gradient: str
    spsa_samples: int

    @property
    def autograd(self) -> bool:
        return self.gradient == "autograd"


def quantum_setup(spec: TrainSpec, caps: Capabilities, backend: str,
                  default_shots: int | None = None) -> QuantumSetup:
    """`exact` decides what a missing --shots means (exact outputs, or `default_shots`),
    `differentiable` whether autograd is possible and (with `exact`) the default gradient."""
    shots = spec.shots if spec.shots is not None or caps.exact else (
        default_shots or DEFAULT_SHOTS)
    gradient = spec.gradient or (
        "autograd" if caps.differentiable and caps.exact else "parameter-shift")
    if gradient == "autograd" and not caps.differentiable:
        raise CapabilityError(f"--gradient autograd needs a differentiable backend; {backend} "
                              "is not (use parameter-shift or spsa)")
    return QuantumSetup(shots, gradient, spec.spsa_samples or 1)


def circuit_rows_per_sample(spec: TrainSpec, setup: QuantumSetup) -> int:
    """Circuit rows one training sample costs on the shot path (1 on the autograd path)."""
    if setup.autograd:
        return 1
    return rows_per_sample(spec.template(), setup.gradient, setup.spsa_samples)


def training_runner(spec: TrainSpec, setup: QuantumSetup, backend: Backend,
                    ctx: JobContext) -> CircuitRunner:
    if setup.autograd:
        return AutogradRunner(backend, setup.shots, spec.seed)
    return ShotRunner(ctx, setup.shots, setup.gradient, setup.spsa_samples, spec.seed)


def evaluation_runner(spec: TrainSpec, setup: QuantumSetup, ctx: JobContext) -> ShotRunner:
    """Inference sends circuit batches whatever the backend: they go through the ledger and the
    cluster, and no gradient is wanted."""
    return ShotRunner(ctx, setup.shots, seed=spec.seed)


EXACT_EVAL_BATCH = 1000  # images per forward pass when evaluating in-process (memory bound)


def evaluation_batch(caps: Capabilities | None, n_images: int, requested: int | None = None) -> int:
    """Images per evaluation batch: as asked; in process (caps None) a memory-bound size; else
    the whole split in as few provider jobs as the backend's limits allow (on hardware every
    provider job is a queue wait)."""
    if requested is not None:
        return requested
    if caps is None:
        return EXACT_EVAL_BATCH
    jobs = -(-n_images // caps.max_circuits_per_job)
    return max(1, -(-n_images // jobs))
