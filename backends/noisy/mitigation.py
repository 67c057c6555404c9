"""Readout-error mitigation: per-qubit confusion matrices and their inversion on template outputs.

With independent readout errors the measured ⟨Z_i⟩ is a_i + b_i ⟨Z_i⟩_true, a_i = P(0|1) -
P(1|0), b_i = 1 - P(1|0) - P(0|1); inverting the tensor product of confusion matrices is then
the same as inverting these maps moment by moment, so z, zz and probs outputs are mitigated
exactly from the outputs themselves (zz needs the z outputs, or symmetric readout). Mitigated
values are unbiased estimates and may leave [-1, 1] (probabilities may turn slightly negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qorch.backends.circuits.readout import eigenvalue_matrix
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import CapabilityError, ProviderJobError

MITIGATIONS = ("readout",)
# A qubit whose two readout error rates add up to more than this cannot be inverted stably.
MAX_FLIP_SUM = 0.9


@dataclass(frozen=True)
class ReadoutCalibration:
    """Per template qubit i: P(read 1 | prepared 0), P(read 0 | prepared 1); and their origin."""

    p1_given_0: tuple[float, ...]
    p0_given_1: tuple[float, ...]
    source: str

    def __post_init__(self) -> None:
        worst = max((a + b for a, b in zip(self.p1_given_0, self.p0_given_1, strict=True)),
                    default=0.0)
        if worst > MAX_FLIP_SUM:
            raise ProviderJobError(f"readout errors from {self.source} add up to {worst:.2f} on "
                                   "one qubit: too noisy to invert")

    @classmethod
    def symmetric(cls, n: int, flip: float, source: str) -> ReadoutCalibration:
        return cls((flip,) * n, (flip,) * n, source)

    @property
    def offsets(self) -> np.ndarray:
        return np.asarray(self.p0_given_1) - np.asarray(self.p1_given_0)

    @property
    def scales(self) -> np.ndarray:
        return 1.0 - np.asarray(self.p1_given_0) - np.asarray(self.p0_given_1)

    @property
    def is_identity(self) -> bool:
        return not any(self.p1_given_0) and not any(self.p0_given_1)

    def confusion(self, qubit: int) -> np.ndarray:
        """A[measured, prepared] of one template qubit."""
        e0, e1 = self.p1_given_0[qubit], self.p0_given_1[qubit]
        return np.array([[1 - e0, e1], [e0, 1 - e1]])

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "p1_given_0": list(self.p1_given_0),
                "p0_given_1": list(self.p0_given_1)}


def check_mitigation(name: str | None) -> str | None:
    if name is not None and name not in MITIGATIONS:
        raise CapabilityError(f"unknown mitigation {name!r}; accepted: {', '.join(MITIGATIONS)}")
    return name


def check_mitigable(template: CircuitTemplate, calibration: ReadoutCalibration) -> None:
    """Refuse, before anything runs, outputs that cannot be mitigated from themselves."""
    obs = template.observables
    if "zz" in obs and "z" not in obs and "probs" not in obs and np.any(calibration.offsets):
        raise CapabilityError("readout mitigation of zz outputs needs the z outputs too when "
                              "readout errors are asymmetric: add z to --observables")


Array = Any  # numpy arrays, or torch tensors (then the correction is differentiable)


def _const(like: Array, values: np.ndarray) -> Array:
    if isinstance(like, np.ndarray):
        return values
    import torch

    return torch.as_tensor(values, dtype=like.dtype, device=like.device)


def _cat(like: Array, parts: list[Array]) -> Array:
    if isinstance(like, np.ndarray):
        return np.concatenate(parts, axis=1)
    import torch

    return torch.cat(parts, dim=1)


def mitigate_probs(probs: Array, calibration: ReadoutCalibration) -> Array:
    """[R, 2^n] measured probabilities (qubit 0 the MSB) -> mitigated quasi-probabilities."""
    n = len(calibration.p1_given_0)
    out = probs
    for q in range(n):
        inverse = _const(probs, np.linalg.inv(calibration.confusion(q)))
        x = out.reshape(-1, 2, 2 ** (n - 1 - q))
        out = (inverse @ x).reshape(probs.shape)
    return out


def mitigate_outputs(template: CircuitTemplate, outputs: Array,
                     calibration: ReadoutCalibration) -> Array:
    """Template outputs [R, n_outputs] as if read out without error (numpy in, numpy out;
    torch in, torch out with the correction in the graph)."""
    check_mitigable(template, calibration)
    if isinstance(outputs, np.ndarray) or not hasattr(outputs, "requires_grad"):
        outputs = np.asarray(outputs, dtype=np.float64)
    n = template.n_qubits
    if len(calibration.p1_given_0) != n:
        raise CapabilityError(f"a readout calibration of {len(calibration.p1_given_0)} qubits "
                              f"does not fit a {n}-qubit template")
    if calibration.is_identity:
        return outputs
    start, parts = 0, {}
    for obs in template.observables:
        size = template.observable_size(obs)
        parts[obs] = outputs[:, start : start + size]
        start += size
    if "probs" in parts:
        probs = mitigate_probs(parts["probs"], calibration)
        mitigated = {obs: probs if obs == "probs" else probs @ _const(
            probs, eigenvalue_matrix(template, obs)) for obs in template.observables}
    else:
        a, b = _const(outputs, calibration.offsets), _const(outputs, calibration.scales)
        z = (parts["z"] - a) / b if "z" in parts else outputs[:, :0]
        mitigated = {"z": z}
        if "zz" in parts:
            i, j = slice(0, n - 1), slice(1, n)
            if "z" not in parts:  # symmetric readout (checked): no offsets to remove
                mitigated["zz"] = parts["zz"] / (b[i] * b[j])
            else:
                mitigated["zz"] = (parts["zz"] - a[i] * a[j] - a[i] * b[j] * z[:, j]
                                   - b[i] * a[j] * z[:, i]) / (b[i] * b[j])
    return _cat(outputs, [mitigated[obs] for obs in template.observables])


def calibration_of(template: CircuitTemplate, circuit: Any, model: Any | None,
                   source: str) -> ReadoutCalibration:
    """The readout errors a noise model gives the qubits a circuit measures into template bits
    0..n-1 (one source of noise with the simulation itself)."""
    from qorch.backends.noisy.channels import readout_flips

    measured = {circuit.clbits.index(inst.clbits[0]): circuit.qubits.index(inst.qubits[0])
                for inst in circuit.data if inst.operation.name == "measure"}
    flips = [readout_flips(model, measured[i]) if model is not None else (0.0, 0.0)
             for i in range(template.n_qubits)]
    return ReadoutCalibration(tuple(f[0] for f in flips), tuple(f[1] for f in flips), source)


def calibration_from_bits(zeros: np.ndarray, ones: np.ndarray, source: str) -> ReadoutCalibration:
    """From calibration shots [shots, n] of every qubit prepared in 0 and in 1 (column i:
    template qubit i): the tensored calibration with two circuits."""
    zeros, ones = np.asarray(zeros, dtype=np.float64), np.asarray(ones, dtype=np.float64)
    if zeros.ndim != 2 or zeros.shape[1] != ones.shape[1] or not len(zeros) or not len(ones):
        raise ProviderJobError(f"calibration shots must be [shots, n], got {zeros.shape} and "
                               f"{ones.shape}")
    return ReadoutCalibration(tuple(zeros.mean(axis=0).tolist()),
                              tuple((1.0 - ones.mean(axis=0)).tolist()), source)
