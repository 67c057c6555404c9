"""Per-template constants and tensor kernels behind the torch state-vector simulator."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, NamedTuple, cast

import numpy as np
import torch

from backends.circuit import CircuitTemplate
from backends.measurement import eigenvalue_matrix

# Widest circuit whose layers are applied as one dense 2^n x 2^n matrix (shared weights) or
# one per row (per-row weights, re-uploading); wider ones apply blocks of qubits in turn.
# Chosen by measurement on CPU (bench/bench_simulator.py): dense wins while the matmul flops
# stay small, since it needs the fewest autograd nodes.
DENSE_SHARED_MAX = 5
DENSE_PER_ROW_MAX = 4
BLOCK_SHARED = 4
BLOCK_PER_ROW_REAL = 4
BLOCK_PER_ROW_COMPLEX = 3  # complex matmuls cost 4x: smaller blocks do fewer flops
ENCODER_MAX = 5  # widest re-uploading circuit whose encoding is built as one dense matrix
PRODUCT_CHUNK = 6  # qubits per gather-product when building the first-layer product state

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


class Plan(NamedTuple):
    state: torch.dtype  # float for all-real circuits, else the matching complex type
    shift: torch.Tensor  # [2]: cos(t/2 + shift) gives (cos, sin)
    first: torch.Tensor  # [2^(k+1), 2]: (x, w) products -> first-layer qubit state
    later: torch.Tensor  # [2^m, 4]: products -> transposed gate of a later layer
    later_rot: torch.Tensor  # [2^k, 4]: the same for the trainable rotations alone
    encoder: torch.Tensor | None  # [2^n, 4^n]: re-uploading encoding as a dense matrix
    perm: torch.Tensor | None  # entangler permutation: new_state = old_state[:, perm]
    mapped: tuple[int, ...] | None  # its inverse, for folding into dense layers (n <= 10)
    gather: tuple[torch.Tensor, torch.Tensor] | None  # perm and inverse, as Permute indices
    signs: torch.Tensor | None  # entangler as sign flips (cz)
    measure: tuple[torch.Tensor | None, ...]  # per observable: eigenvalue matrix, None = probs
    measure_folded: tuple[torch.Tensor | None, ...]  # same, before the last entangler


def _encoder_basis(
    template: CircuitTemplate, mapped: np.ndarray | None, signs: np.ndarray | None
) -> np.ndarray:
    """[2^n, 4^n]: E(x)^T = sum_t c_t(x) basis[t], the entangler before it folded in.

    The encoding is a product of c_q I + s_q (-iP) over qubits, so its matrix is linear in the
    2^n products of the (cos, sin) pairs: all rows' encodings come out of one matmul.
    """
    n = template.n_qubits
    terms = rotation_basis((template.encoding_gate,))  # [2, 2, 2]: I and -iP
    basis = np.ones((1, 1, 1), dtype=complex)
    for _ in range(n):
        basis = np.einsum("tij,ukl->tuikjl", basis, terms).reshape(
            basis.shape[0] * 2, basis.shape[1] * 2, basis.shape[2] * 2
        )
    basis_t = basis.transpose(0, 2, 1)
    # (P state) @ E^T == state @ E^T[f] and (S state) @ E^T == state @ (S E^T).
    if mapped is not None:
        basis_t = basis_t[:, mapped, :]
    if signs is not None:
        basis_t = basis_t * signs[None, :, None]
    return basis_t.reshape(2**n, 4**n)


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
    rot_only = rotation_basis(rot)
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
        later_rot=const(rot_only.transpose(0, 2, 1).reshape(-1, 4), state),
        encoder=None
        if not template.reupload or template.n_qubits > ENCODER_MAX
        else const(_encoder_basis(template, mapped, signs), state),
        perm=None if perm is None else torch.tensor(perm, device=device),
        mapped=None if mapped is None or template.n_qubits > 10 else tuple(mapped.tolist()),
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


@lru_cache(maxsize=256)
def _product_index(s: int, device: torch.device) -> torch.Tensor:
    """Index into [s, 2] picking, factor by factor, its entry for every s-bit basis index."""
    bits = (np.arange(2**s)[:, None] >> (s - 1 - np.arange(s))) & 1
    return torch.tensor((np.arange(s) * 2 + bits).T.reshape(-1), device=device)


def _multiply_out(picked: torch.Tensor) -> torch.Tensor:
    """Product over dim -2 of [..., s, m] by plain multiplies: prod's backward is slow, above all
    for complex input and for the structural zeros of RZ-type gates."""
    factors = picked.unbind(-2)
    out = factors[0]
    for factor in factors[1:]:
        out = out * factor
    return out


@lru_cache(maxsize=256)
def _kron_index(s: int, rows_map: tuple[int, ...] | None, device: torch.device) -> torch.Tensor:
    """Index into s flattened 2x2 matrices for the entries of their tensor product.

    With rows_map = f, row b of the product is taken from row f(b): that folds an entangler
    permutation applied before the product into the gather for free.
    """
    bits = (np.arange(2**s)[:, None] >> (s - 1 - np.arange(s))) & 1
    row_bits = bits if rows_map is None else bits[np.array(rows_map)]
    index = np.arange(s) * 4 + row_bits[:, None, :] * 2 + bits[None, :, :]  # [row, col, factor]
    return torch.tensor(index.transpose(2, 0, 1).reshape(-1), device=device)


def gather_product(factors: torch.Tensor) -> torch.Tensor:
    """[..., s, 2] -> [..., 2^s]: tensor product of s two-vectors, first factor most significant.

    One gather and one product stand in for s-1 outer products: far fewer autograd nodes,
    which is what small circuits pay for. (gather, not index_select: the latter takes a slow
    path on CPU when there are leading dimensions.)
    """
    lead, s = factors.shape[:-2], factors.shape[-2]
    index = _product_index(s, factors.device)
    picked = torch.gather(factors.reshape(*lead, 2 * s), -1, index.expand(*lead, -1))
    return _multiply_out(picked.view(*lead, s, 2**s))


def product_state(vectors: torch.Tensor) -> torch.Tensor:
    """[R, n, 2] single-qubit states -> [R, 2^n] their tensor product."""
    rows, n = vectors.shape[:2]
    state: torch.Tensor | None = None
    for a, b in blocks(n, PRODUCT_CHUNK):
        part = gather_product(vectors[:, a:b])
        state = part if state is None else (state[:, :, None] * part[:, None, :]).reshape(rows, -1)
    assert state is not None
    return state


def kron_t(flat_t: torch.Tensor, s: int, rows_map: tuple[int, ...] | None = None) -> torch.Tensor:
    """[..., 4s] flattened transposed 2x2 gates -> [..., 2^s, 2^s] transposed tensor product."""
    lead = flat_t.shape[:-1]
    index = _kron_index(s, rows_map, flat_t.device)
    picked = torch.gather(flat_t, -1, index.expand(*lead, -1))
    return _multiply_out(picked.view(*lead, s, 4**s)).view(*lead, 2**s, 2**s)


def blocks(n: int, size: int) -> list[tuple[int, int]]:
    count = math.ceil(n / size)
    edges = [round(i * n / count) for i in range(count + 1)]
    return [(edges[i], edges[i + 1]) for i in range(count)]


def gather_columns(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x[:, index] for a basis permutation (index over float64 words for complex128)."""
    # gather on a real view is several times faster on CPU than index_select or x[:, index],
    # which take slow paths for complex and 8-byte element types.
    if not x.is_complex():
        return torch.gather(x, 1, index.expand(x.shape[0], -1))
    # A dtype view is not differentiable: complex input only comes from Permute, which has
    # its own backward.
    flat = x.contiguous().view(torch.float64)
    return torch.gather(flat, 1, index.expand(x.shape[0], -1)).view(x.dtype)


class Permute(torch.autograd.Function):
    """Basis permutation of [R, 2^n] states; its backward is the inverse permutation."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, index: torch.Tensor, inverse: torch.Tensor
    ) -> torch.Tensor:
        ctx.inverse = inverse
        return gather_columns(x, index)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return gather_columns(grad, ctx.inverse), None, None


def entangle(state: torch.Tensor, p: Plan) -> torch.Tensor:
    if p.gather is not None:
        return cast(torch.Tensor, Permute.apply(state, *p.gather))
    assert p.signs is not None
    return state * p.signs


def apply_reuploading(state: torch.Tensor, enc_t: torch.Tensor, rot_t: torch.Tensor) -> torch.Tensor:
    """Layers 1.. of a narrow re-uploading circuit: per row E(x) (entangler folded in), then the
    shared rotations; enc_t [R, 2^n, 2^n] and rot_t [L-1, 2^n, 2^n] are transposed matrices."""
    for layer in range(rot_t.shape[0]):
        state = torch.bmm(state.unsqueeze(1), enc_t).squeeze(1) @ rot_t[layer]
    return state


def apply_layers(
    state: torch.Tensor, mats_t: torch.Tensor, p: Plan, template: CircuitTemplate, per_row: bool
) -> torch.Tensor:
    """Layers 1.. as [entangler, gates]; mats_t is [(R,) L-1, n*4] flattened transposed gates."""
    rows, n = state.shape[0], template.n_qubits
    layers = mats_t.shape[-2]
    foldable = p.mapped is not None or p.signs is not None
    if foldable and n <= (DENSE_PER_ROW_MAX if per_row else DENSE_SHARED_MAX):
        # The entangler before each layer is folded into that layer's dense matrix.
        w = kron_t(mats_t, n, p.mapped)
        if p.signs is not None:
            w = w * p.signs[:, None]
        for layer in range(layers):
            if per_row:
                state = torch.bmm(state.unsqueeze(1), w[:, layer]).squeeze(1)
            else:
                state = state @ w[layer]
        return state
    per_row_block = BLOCK_PER_ROW_COMPLEX if state.is_complex() else BLOCK_PER_ROW_REAL
    spans = blocks(n, per_row_block if per_row else BLOCK_SHARED)
    kts = [kron_t(mats_t[..., 4 * a : 4 * b], b - a) for a, b in spans]
    for layer in range(layers):
        state = entangle(state, p)
        # Each block acts on the trailing qubits and is then rotated to the front, so after
        # the last block the qubit order is restored without a separate permute.
        for (a, b), kt in zip(reversed(spans), reversed(kts), strict=True):
            k = kt[:, layer] if per_row else kt[layer]
            view = state.view(rows, -1, 2 ** (b - a))
            state = torch.matmul(view, k).transpose(1, 2).reshape(rows, -1)
    return state
