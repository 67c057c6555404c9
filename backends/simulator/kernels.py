"""Tensor kernels of the torch state-vector simulator: products, permutations, layers."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, cast

import numpy as np
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.simulator.plan import Eigen, Plan

# Widest circuits simulated with dense 2^n x 2^n matrices: with shared weights, angle-encoded
# circuits become one shared matrix applied to a product state, and re-uploading ones a shared
# matrix and a per-row diagonal per layer; with per-row weights, one matrix per row and layer.
# Wider circuits apply blocks of qubits in turn. Measured on a 2-core CPU: small circuits cost
# autograd nodes rather than flops, and dense needs the fewest until its flops take over.
DENSE_SHARED_MAX = 6
DENSE_PER_ROW_MAX = 4
REUPLOAD_DENSE_MAX = 6  # must not exceed statevector_plan.EIGEN_MAX
BLOCK_SHARED = 4
BLOCK_PER_ROW_REAL = 4
BLOCK_PER_ROW_COMPLEX = 3  # complex matmuls cost 4x: smaller blocks do fewer flops
PRODUCT_CHUNK = 6  # qubits per gather-product when building the first-layer product state
SMALL_MATMUL = 1 << 15  # multiply-adds up to which matmul() stays out of BLAS


@lru_cache(maxsize=256)
def product_index(s: int, device: torch.device) -> torch.Tensor:
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
def kron_index(
    s: int,
    rows_map: tuple[int, ...] | None,
    cols_map: tuple[int, ...] | None,
    device: torch.device,
) -> torch.Tensor:
    """Index into s flattened 2x2 matrices for the entries of their tensor product.

    Row b is taken from row rows_map[b] and column c from column cols_map[c]: that folds an
    entangler permutation before (rows) or after (columns) the product into the gather.
    """
    bits = (np.arange(2**s)[:, None] >> (s - 1 - np.arange(s))) & 1
    row_bits = bits if rows_map is None else bits[np.array(rows_map)]
    col_bits = bits if cols_map is None else bits[np.array(cols_map)]
    index = np.arange(s) * 4 + row_bits[:, None, :] * 2 + col_bits[None, :, :]  # [row, col, q]
    return torch.tensor(index.transpose(2, 0, 1).reshape(-1), device=device)


def gather_product(factors: torch.Tensor) -> torch.Tensor:
    """[..., s, 2] -> [..., 2^s]: tensor product of s two-vectors, first factor most significant.

    One gather and one product stand in for s-1 outer products: far fewer autograd nodes,
    which is what small circuits pay for. (gather, not index_select: the latter takes a slow
    path on CPU when there are leading dimensions.)
    """
    lead, s = factors.shape[:-2], factors.shape[-2]
    index = product_index(s, factors.device)
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


def kron_t(
    flat_t: torch.Tensor,
    s: int,
    rows_map: tuple[int, ...] | None = None,
    cols_map: tuple[int, ...] | None = None,
) -> torch.Tensor:
    """[..., 4s] flattened transposed 2x2 gates -> [..., 2^s, 2^s] transposed tensor product."""
    lead = flat_t.shape[:-1]
    index = kron_index(s, rows_map, cols_map, flat_t.device)
    picked = torch.gather(flat_t, -1, index.expand(*lead, -1))
    return _multiply_out(picked.view(*lead, s, 4**s)).view(*lead, 2**s, 2**s)


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b with broadcasting and type promotion; small products run as multiply-and-sum in
    ATen's own kernels.

    MKL threads even tiny gemms, and when other processes hold the cores a threaded call can
    stall for a scheduler tick or more (seen: 20-50 ms for a 64x16x16 product); ATen keeps
    element-wise work this small on the calling thread.
    """
    batch = torch.broadcast_shapes(a.shape[:-2], b.shape[:-2]).numel()
    if batch * a.shape[-2] * a.shape[-1] * b.shape[-1] > SMALL_MATMUL:
        dtype = torch.promote_types(a.dtype, b.dtype)
        return a.to(dtype) @ b.to(dtype)
    # Real times complex promotes here for free, saving a conversion node.
    return (a.unsqueeze(-2) * b.mT.unsqueeze(-3)).sum(-1)


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


def whole_circuit_t(mats_t: torch.Tensor, p: Plan, n: int) -> torch.Tensor:
    """[L, n*4] flattened transposed gates of every layer -> the transposed unitary of the whole
    circuit after the encoding, every entangler included (folded into the columns)."""
    w = kron_t(mats_t, n, None, p.perm_tuple)
    if p.signs is not None:
        w = w * p.signs
    total = w[0]
    for layer in range(1, w.shape[0]):
        total = matmul(total, w[layer])
    return total


def apply_reuploading(
    psi0: torch.Tensor, diag: torch.Tensor, layers_t: torch.Tensor, eigen: Eigen
) -> torch.Tensor:
    """A narrow re-uploading circuit with shared weights, from the product of (cos, sin) pairs.

    Layer l >= 1 is W_l V D V^dagger P, D the per-row diagonal [R, 2^n]; with u = D V^dagger P
    state, every layer is one shared matmul and one multiply by D. layers_t: [L, 2^n, 2^n]
    transposed W_l, the encoding folded into layer 0. Returns the state before the last
    entangler.
    """
    finish = matmul(eigen.v_t, layers_t[1:])  # V, then W_l
    u = diag * matmul(psi0, matmul(layers_t[0], eigen.n_t))
    for layer in range(layers_t.shape[0] - 2):
        u = diag * matmul(u, matmul(finish[layer], eigen.n_t))
    return matmul(u, finish[-1])


def apply_layers(
    state: torch.Tensor, mats_t: torch.Tensor, p: Plan, template: CircuitTemplate, per_row: bool
) -> torch.Tensor:
    """Layers 1.. as [entangler, gates]; mats_t is [(R,) L-1, n*4] flattened transposed gates.

    Narrow circuits with shared weights never get here: they take whole_circuit_t or
    apply_reuploading.
    """
    rows, n = state.shape[0], template.n_qubits
    layers = mats_t.shape[-2]
    foldable = p.mapped is not None or p.signs is not None
    if per_row and foldable and n <= DENSE_PER_ROW_MAX:
        # The entangler before each layer is folded into that layer's dense matrix.
        w = kron_t(mats_t, n, p.mapped)
        if p.signs is not None:
            w = w * p.signs[:, None]
        for layer in range(layers):
            state = matmul(state.unsqueeze(1), w[:, layer]).squeeze(1)
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
            state = matmul(view, k).transpose(1, 2).reshape(rows, -1)
    return state
