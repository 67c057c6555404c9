"""Per-template constants of the torch state-vector simulator, built once with numpy."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch

from qorch.backends.circuits.readout import eigenvalue_matrix
from qorch.backends.circuits.template import CircuitTemplate

EIGEN_MAX = 6  # widest re-uploading circuit given the diagonalised encoding (dense matrices)

# R_P(t) = cos(t/2) I + sin(t/2) (-i P). A run of rotations on one qubit is therefore the
# tensor product of their (cos, sin) pairs times a constant basis of matrix products, so the
# gates of every qubit and layer come out of a single matmul.
_NEG_I_PAULI = {
    "rx": np.array([[0, -1j], [-1j, 0]]),
    "ry": np.array([[0, -1], [1, 0]], dtype=complex),
    "rz": np.array([[-1j, 0], [0, 1j]]),
}
_HADAMARD = np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2)


def rotation_basis(gates: tuple[str, ...], right: np.ndarray | None = None) -> np.ndarray:
    """[2^m, 2, 2]: entry t is the gate product picked by the bits of t (first gate = MSB)."""
    basis = np.eye(2, dtype=complex)[None]
    for gate in gates:
        pair = np.stack([np.eye(2, dtype=complex), _NEG_I_PAULI[gate]])
        basis = np.einsum("bij,ajk->abik", pair, basis).reshape(-1, 2, 2)
    return basis if right is None else basis @ right


def entangler_map(template: CircuitTemplate) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The entangler block as (basis map f with |b> -> |f(b)>, None) or (None, +-1 phases)."""
    n = template.n_qubits
    states = np.arange(2**n)
    bit = [1 << (n - 1 - q) for q in range(n)]  # qubit 0 is the most significant bit
    if template.entangler.startswith("cz"):
        signs = np.ones(2**n)
        for a, b in template.entangler_pairs():
            signs[(states & bit[a] != 0) & (states & bit[b] != 0)] *= -1
        return None, signs
    mapped = states.copy()
    for control, target in template.entangler_pairs():
        mapped ^= np.where(mapped & bit[control], bit[target], 0)
    return mapped, None


class Eigen(NamedTuple):
    """Re-uploading encoding as E(x) = V D(x) V^dagger, V = v^(x)n with v the eigenvectors of
    the encoding Pauli: the per-row part becomes the diagonal D(x) and everything else is
    shared across rows. Matrices are in row-vector form (state @ matrix)."""

    phase: torch.Tensor  # [2, 2]: (cos, sin) of x/2 -> (e^{-ix/2}, e^{ix/2})
    v_t: torch.Tensor  # [2^n, 2^n]: applies V
    n_t: torch.Tensor  # [2^n, 2^n]: applies the entangler, then V^dagger


def _eigen(
    template: CircuitTemplate,
    mapped: np.ndarray | None,
    signs: np.ndarray | None,
    device: torch.device,
    real: torch.dtype,
) -> Eigen | None:
    n = template.n_qubits
    if n > EIGEN_MAX:
        return None
    dtype = torch.complex128 if real == torch.float64 else torch.complex64
    # RX = H RZ H and RY = (S H) RZ (S H)^dagger.
    v1 = _HADAMARD if template.encoding_gate == "rx" else np.diag([1, 1j]) @ _HADAMARD
    v = np.ones((1, 1), dtype=complex)
    for _ in range(n):
        v = np.kron(v, v1)
    # (state[:, perm]) @ A == state @ A[f] and (state * signs) @ A == state @ (signs * A).
    n_t = v.conj() if mapped is None else v.conj()[mapped]
    if signs is not None:
        n_t = signs[:, None] * n_t
    return Eigen(
        phase=torch.tensor([[1, 1], [-1j, 1j]], dtype=dtype, device=device),
        v_t=torch.tensor(v.T, dtype=dtype, device=device),
        n_t=torch.tensor(n_t, dtype=dtype, device=device),
    )


class Plan(NamedTuple):
    state: torch.dtype  # float for all-real circuits, else the matching complex type
    shift: torch.Tensor  # [2]: cos(t/2 + shift) gives (cos, sin)
    first: torch.Tensor  # [2^(k+1), 2]: (x, w) products -> first-layer qubit state
    later: torch.Tensor  # [2^m, 4]: products -> transposed gate of a later layer
    eigen: Eigen | None  # narrow re-uploading circuits: the encoding diagonalised
    perm: torch.Tensor | None  # entangler permutation: new_state = old_state[:, perm]
    mapped: tuple[int, ...] | None  # its inverse, for folding into dense layers (n <= 10)
    perm_tuple: tuple[int, ...] | None  # perm, likewise
    layer_bases: torch.Tensor  # [L, 2^k, 4]: rotations, with the encoding folded into layer 0
    gather: tuple[torch.Tensor, torch.Tensor] | None  # perm and inverse, as Permute indices
    signs: torch.Tensor | None  # entangler as sign flips (cz)
    measure: tuple[torch.Tensor | None, ...]  # per observable: eigenvalue matrix, None = probs
    measure_folded: tuple[torch.Tensor | None, ...]  # same, before the last entangler


def _layer_bases(template: CircuitTemplate) -> np.ndarray:
    """Per layer, (cos, sin) products -> flattened transposed rotation gate. Layer 0 also
    takes the first encoding, E(x)|0> = C (cos, sin): the per-row state before it is then a
    plain product of (cos, sin) pairs."""
    enc = rotation_basis(
        (template.encoding_gate,), _HADAMARD if template.encoding == "angle-rz" else None
    )
    encode = enc[:, :, 0].T  # columns: E|0> for the cos and the sin term
    rot = rotation_basis(template.rotation_gates)
    first = (rot @ encode).transpose(0, 2, 1).reshape(-1, 4)
    later = rot.transpose(0, 2, 1).reshape(-1, 4)
    return np.stack([first] + [later] * (template.n_layers - 1))


def _word_index(perm: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A basis permutation as an index over the float64 words of a complex128 row."""
    if dtype == torch.complex128:
        perm = (perm[:, None] * 2 + np.arange(2)).reshape(-1)
    return torch.tensor(perm, device=device)


@lru_cache(maxsize=64)
def plan(template: CircuitTemplate, device: torch.device, real: torch.dtype) -> Plan:
    double = real == torch.float64
    state = real if template.is_real else (torch.complex128 if double else torch.complex64)

    def const(array: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor(array if dtype.is_complex else array.real, dtype=dtype, device=device)

    enc, rot = (template.encoding_gate,), template.rotation_gates
    hadamard = _HADAMARD if template.encoding == "angle-rz" else None
    later = rotation_basis(enc + rot if template.reupload else rot)
    mapped, signs = entangler_map(template)
    perm = None if mapped is None else np.argsort(mapped)
    measure = [
        None if o == "probs" else eigenvalue_matrix(template, o) for o in template.observables
    ]
    return Plan(
        state=state,
        shift=torch.tensor([0.0, -math.pi / 2], dtype=real, device=device),
        first=const(rotation_basis(enc + rot, hadamard)[:, :, 0], state),
        later=const(later.transpose(0, 2, 1).reshape(-1, 4), state),
        eigen=_eigen(template, mapped, signs, device, real) if template.reupload else None,
        perm=None if perm is None else torch.tensor(perm, device=device),
        mapped=None if mapped is None or template.n_qubits > 10 else tuple(mapped.tolist()),
        perm_tuple=None if perm is None or template.n_qubits > 10 else tuple(perm.tolist()),
        layer_bases=const(_layer_bases(template), state),
        gather=None
        if perm is None or mapped is None
        else (_word_index(perm, state, device), _word_index(mapped, state, device)),
        signs=None if signs is None else const(signs, real),
        measure=tuple(None if m is None else const(m, real) for m in measure),
        # Probabilities after a permutation are permuted probabilities, and phases vanish in
        # |amplitude|^2, so the last entangler is folded into the measurement.
        measure_folded=tuple(
            None if m is None else const(m if mapped is None else m[mapped], real) for m in measure
        ),
    )
