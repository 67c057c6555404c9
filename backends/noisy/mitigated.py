"""`--mitigate readout` for any backend that knows its readout errors without running anything:
the same backend, its outputs corrected with `readout_calibration(template)`. A seeded local
backend stays a LocalBackend (its rows can still be fanned out block by block)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Backend, CircuitBatch, JobHandle
from qorch.backends.errors import CapabilityError
from qorch.backends.local.backend import LocalBackend
from qorch.backends.noisy.mitigation import (
    ReadoutCalibration,
    check_mitigable,
    mitigate_outputs,
)

if TYPE_CHECKING:
    import torch


class MitigatedHandle(JobHandle):
    """The inner handle, each item's outputs corrected for readout."""

    def __init__(self, inner: JobHandle, items: dict[int, CircuitBatch],
                 calibration_of: Any) -> None:
        self._inner, self._items, self._calibration_of = inner, items, calibration_of

    @property
    def provider_job_id(self) -> str:
        return self._inner.provider_job_id

    def status(self) -> str:
        return self._inner.status()

    def phase(self) -> str | None:
        return self._inner.phase()

    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        raw = self._inner.result(item, timeout)
        template = self._items[item].template
        return mitigate_outputs(template, raw, self._calibration_of(template))

    def raw(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        """The outputs as measured."""
        return self._inner.result(item, timeout)

    def calibration(self, item: int = 0, timeout: float | None = None) -> ReadoutCalibration:
        calibration: ReadoutCalibration = self._calibration_of(self._items[item].template)
        return calibration

    def cancel(self) -> None:
        self._inner.cancel()


class ReadoutMitigated(Backend):
    """Delegates to `inner`; outputs are mitigated with the inner backend's own readout
    calibration, or, where it has none, with the symmetric `--noise readout` flip (0: none)."""

    mitigation = "readout"

    def __init__(self, inner: Backend, symmetric_flip: float = 0.0) -> None:
        self.inner, self.flip = inner, symmetric_flip
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.engine: str | None = getattr(inner, "engine", None)

    def calibration(self, template: CircuitTemplate) -> ReadoutCalibration:
        known = self.inner.readout_calibration(template)
        if known is not None:
            return known
        return ReadoutCalibration.symmetric(template.n_qubits, self.flip,
                                            f"{self.name} readout flip {self.flip:g}")

    def readout_calibration(self, template: CircuitTemplate) -> ReadoutCalibration:
        return self.calibration(template)

    def validate(self, template: CircuitTemplate, shots: int | None,
                 n_circuits: int | None = None) -> None:
        self.inner.validate(template, shots, n_circuits)
        check_mitigable(template, self.calibration(template))

    def run_batches(self, batches: Sequence[CircuitBatch], tags: Sequence[str] = ()) -> JobHandle:
        for b in batches:
            check_mitigable(b.template, self.calibration(b.template))
        handle = self.inner.run_batches(batches, tags)
        return MitigatedHandle(handle, dict(enumerate(batches)), self.calibration)

    def retrieve(self, provider_job_id: str, batch: CircuitBatch, item: int = 0) -> JobHandle:
        handle = self.inner.retrieve(provider_job_id, batch, item)
        return MitigatedHandle(handle, {item: batch}, self.calibration)

    def find_tagged(self, tag: str) -> tuple[str, int] | None:
        return self.inner.find_tagged(tag)

    def evaluate(self, template: CircuitTemplate, inputs: torch.Tensor, weights: torch.Tensor,
                 shots: int | None, generator: torch.Generator | None) -> torch.Tensor:
        """The inner outputs, mitigated; readout inversion is affine in z and zz and linear in
        probs, so it is applied as a differentiable correction to the same values."""
        out = self.inner.evaluate(template, inputs, weights, shots, generator)
        mitigated: torch.Tensor = mitigate_outputs(template, out, self.calibration(template))
        return mitigated

    def calibration_report(self, template: CircuitTemplate) -> dict[str, Any] | None:
        report = self.inner.calibration_report(template)
        mitigation = {"readout_mitigation": self.calibration(template).to_dict()}
        return {**report, **mitigation} if report is not None else mitigation

    def estimate_cost(self, n_circuits: int, shots: int) -> dict[str, Any] | None:
        return self.inner.estimate_cost(n_circuits, shots)

    def close(self) -> None:
        self.inner.close()



class MitigatedLocal(LocalBackend):
    """A seeded local backend whose `simulate` is corrected for readout: same seeds, same
    rows, mitigated outputs."""

    mitigation = "readout"

    def __init__(self, inner: LocalBackend, symmetric_flip: float = 0.0) -> None:
        super().__init__()
        self._rng = inner._rng  # one stream of drawn seeds, as the inner backend alone
        self.inner, self.name, self.capabilities = inner, inner.name, inner.capabilities
        self.engine: str | None = getattr(inner, "engine", None)
        self._calibrations = ReadoutMitigated(inner, symmetric_flip)

    def calibration(self, template: CircuitTemplate) -> ReadoutCalibration:
        return self._calibrations.calibration(template)

    def readout_calibration(self, template: CircuitTemplate) -> ReadoutCalibration:
        return self.calibration(template)

    def validate(self, template: CircuitTemplate, shots: int | None,
                 n_circuits: int | None = None) -> None:
        self._calibrations.validate(template, shots, n_circuits)

    def simulate(self, template: CircuitTemplate, params: np.ndarray, shots: int | None,
                 seed: int) -> np.ndarray:
        raw = self.inner.simulate(template, params, shots, seed)
        fixed: np.ndarray = mitigate_outputs(template, raw, self.calibration(template))
        return fixed

    def evaluate(self, template: CircuitTemplate, inputs: torch.Tensor, weights: torch.Tensor,
                 shots: int | None, generator: torch.Generator | None) -> torch.Tensor:
        return self._calibrations.evaluate(template, inputs, weights, shots, generator)

    def calibration_report(self, template: CircuitTemplate) -> dict[str, Any] | None:
        return self._calibrations.calibration_report(template)

    def close(self) -> None:
        self.inner.close()


def with_readout_mitigation(backend: Backend, symmetric_flip: float = 0.0) -> Backend:
    """The backend with readout-corrected outputs (local ones stay local)."""
    if isinstance(backend, LocalBackend):
        return MitigatedLocal(backend, symmetric_flip)
    if backend.capabilities.kind == "hardware":
        # Its readout errors are only known by measuring them, in the same job.
        raise CapabilityError(f"{backend.name} does not send readout calibration circuits yet; "
                              "--mitigate readout runs on local backends and ibm_<device>")
    return ReadoutMitigated(backend, symmetric_flip)


@dataclass(frozen=True)
class ReadoutComparison:
    """One batch's outputs as measured and corrected for readout, from one provider job."""

    raw: np.ndarray
    mitigated: np.ndarray
    calibration: ReadoutCalibration


def compare_readout(backend: Backend, batch: CircuitBatch,
                    timeout: float | None = None) -> ReadoutComparison:
    """Mitigated and unmitigated outputs side by side (for `qorch compare`), paying for one
    run: a backend that knows its readout errors runs the batch once and is corrected here;
    one that measures them (hardware resolved with mitigate="readout") sends its calibration
    circuits in the same job."""
    known = backend.readout_calibration(batch.template)
    if known is not None:
        check_mitigable(batch.template, known)
        inner = backend.inner if isinstance(backend, (MitigatedLocal, ReadoutMitigated)) else (
            backend)
        raw = inner.run_batch(batch).result(timeout=timeout)
        return ReadoutComparison(raw, mitigate_outputs(batch.template, raw, known), known)
    handle = backend.run_batch(batch)
    if not hasattr(handle, "calibration") or not hasattr(handle, "raw"):
        raise CapabilityError(f"{backend.name} measures its readout errors in the job: resolve "
                              "it with mitigate='readout' to compare")
    return ReadoutComparison(handle.raw(0, timeout), handle.result(0, timeout),
                             handle.calibration(0, timeout))
