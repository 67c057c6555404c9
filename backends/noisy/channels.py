"""Instruction channels as real Pauli transfer matrices, read from qiskit gates and Aer errors.

State convention of the engine: a k-qubit operator is the real vector r_P = Tr(P rho) over
Paulis P in {I, X, Y, Z}^k, the first qubit of an instruction the most significant digit. A
channel is then a real matrix T with T[Q, P] = Tr(Q E(P)) / 2^k (its Pauli transfer matrix).
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from qorch.backends.errors import CapabilityError

_PAULI = np.array(
    [[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
    dtype=np.complex128,
)
# Angles at which a rotation's transfer matrix is sampled, and where the fit is checked.
_PROBES = (0.7, 2.1, -1.3)
FIT_TOLERANCE = 1e-12
# Aer's simulator leaves out the terms of a QuantumError whose probability is below this (its
# density matrices lose exactly their sum of trace, ~1e-9 per noisy gate on IBM snapshots);
# the engine leaves out the same terms so that both apply one and the same channel.
AER_TERM_THRESHOLD = 1e-10


class EngineUnsupported(CapabilityError):
    """A circuit or noise model the torch engine does not take (the Aer path runs it)."""


@lru_cache(maxsize=4)
def pauli_basis(k: int) -> np.ndarray:
    """[4^k, 2^k, 2^k] Pauli matrices in qiskit's little-endian matrix order, first qubit most
    significant in the Pauli index."""
    mats = []
    for digits in itertools.product(range(4), repeat=k):
        m = np.ones((1, 1), dtype=np.complex128)
        for d in digits:  # digit of qubit 0 first; it is the least significant matrix factor
            m = np.kron(_PAULI[d], m)
        mats.append(m)
    return np.stack(mats)


def ptm_from_superop(superop: np.ndarray, k: int) -> np.ndarray:
    """Real [4^k, 4^k] transfer matrix of a qiskit SuperOp matrix (column-stacking vec)."""
    basis = pauli_basis(k)
    d = 2**k
    vecs = basis.transpose(0, 2, 1).reshape(len(basis), d * d)  # column-stacked P_j
    images = (vecs @ superop.T).reshape(len(basis), d, d).transpose(0, 2, 1)  # E(P_j)
    ptm = np.einsum("iab,jba->ij", basis, images) / d
    if np.abs(ptm.imag).max() > 1e-10:
        raise EngineUnsupported("a channel has a complex Pauli transfer matrix")
    return np.ascontiguousarray(ptm.real)


def error_ptm(error: Any | None, k: int) -> np.ndarray:
    """Transfer matrix of an Aer QuantumError on k qubits (identity when None)."""
    if error is None:
        return np.eye(4**k)
    from qiskit.quantum_info import SuperOp

    if error.num_qubits != k:
        raise EngineUnsupported(f"a {error.num_qubits}-qubit error on a {k}-qubit instruction")
    total = np.zeros((4**k, 4**k), dtype=np.complex128)
    for circuit, probability in zip(error.circuits, error.probabilities, strict=True):
        if probability >= AER_TERM_THRESHOLD:
            total += probability * np.asarray(SuperOp(circuit).data)
    return ptm_from_superop(total, k)


def gate_ptm(operation: Any) -> np.ndarray:
    """Transfer matrix of a parameter-free gate."""
    from qiskit.quantum_info import Operator, SuperOp

    k = operation.num_qubits
    return ptm_from_superop(np.asarray(SuperOp(Operator(operation)).data), k)


class Rotation(NamedTuple):
    """T(theta) = a + b cos(theta) + c sin(theta): any gate exp(-i theta G / 2) with G^2 = 1
    (rx, ry, rz, rzz, p, ...), with its error channel already applied after it."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray


def _at(operation: Any, theta: float) -> np.ndarray:
    bound = operation.copy()
    bound.params = [theta]
    return gate_ptm(bound)


def rotation_ptm(operation: Any, error: np.ndarray) -> Rotation:
    """The three constant matrices of a one-angle gate followed by its error channel; refused
    when the gate's transfer matrix is not of that form."""
    if len(operation.params) != 1:
        raise EngineUnsupported(f"gate {operation.name} has {len(operation.params)} angles")
    t0, t_half, t_pi = (_at(operation, v) for v in (0.0, np.pi / 2, np.pi))
    a, b = (t0 + t_pi) / 2, (t0 - t_pi) / 2
    c = t_half - a
    for theta in _PROBES:
        fit = a + b * np.cos(theta) + c * np.sin(theta)
        if np.abs(fit - _at(operation, theta)).max() > FIT_TOLERANCE:
            raise EngineUnsupported(f"gate {operation.name} is not a Pauli rotation")
    return Rotation(error @ a, error @ b, error @ c)


def quantum_error(model: Any, name: str, qubits: tuple[int, ...]) -> Any | None:
    """The error Aer applies after instruction `name` on `qubits`: the qubit-specific one if
    the model has it, else the all-qubit one (Aer's own lookup order).

    NoiseModel offers no public lookup; these two dicts are what Aer itself reads. A change
    of them makes the agreement suite fail rather than the engine silently drop noise.
    """
    local = model._local_quantum_errors.get(name, {})
    if qubits in local:
        return local[qubits]
    return model._default_quantum_errors.get(name)


def readout_flips(model: Any, qubit: int) -> tuple[float, float]:
    """(P(read 1 | 0), P(read 0 | 1)) of a qubit's measurement under the model."""
    error = model._local_readout_errors.get((qubit,), model._default_readout_error)
    if error is None:
        return 0.0, 0.0
    probs = np.asarray(error.probabilities, dtype=np.float64)
    if probs.shape != (2, 2):
        raise EngineUnsupported("correlated multi-qubit readout errors are not supported")
    return float(probs[0, 1]), float(probs[1, 0])


def check_model(model: Any | None) -> None:
    """Refuse noise the engine cannot reproduce exactly (custom passes, nonlocal errors)."""
    if model is None:
        return
    if getattr(model, "_custom_noise_passes", None):
        raise EngineUnsupported("noise models with custom noise passes run on Aer")
    if getattr(model, "_nonlocal_quantum_errors", None):
        raise EngineUnsupported("nonlocal quantum errors run on Aer")
    for qubits in getattr(model, "_local_readout_errors", {}):
        if len(qubits) != 1:
            raise EngineUnsupported("correlated readout errors run on Aer")
