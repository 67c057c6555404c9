"""Torch kernels on Pauli-vector states [G, L, d_0 * ... * d_{n-1}]: G batches of matrices, L
vectors each, axis i of size d_i (4 while live, 2 or 1 once read out, 1 before it is entered)."""

from __future__ import annotations

import math
from functools import lru_cache

import torch


def kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched Kronecker product [G, p, q] x [G, s, t] -> [G, p*s, q*t], a most significant."""
    g = max(a.shape[0], b.shape[0])
    out = a[:, :, None, :, None] * b[:, None, :, None, :]
    return out.reshape(g, a.shape[1] * b.shape[1], a.shape[2] * b.shape[2])


def swap_pair(m: torch.Tensor) -> torch.Tensor:
    """A [G, 16, 16] two-qubit matrix with the roles of its two qubits exchanged."""
    g = m.shape[0]
    return m.reshape(g, 4, 4, 4, 4).permute(0, 2, 1, 4, 3).reshape(g, 16, 16)


def apply_pair(state: torch.Tensor, m: torch.Tensor, a: int, b: int,
               dims: list[int]) -> torch.Tensor:
    """m [G or 1, 16, 16] on live axes a < b."""
    g = state.shape[0]
    lead = state.shape[1] * math.prod(dims[:a])
    rest = math.prod(dims[b + 1 :])
    mat = m.expand(g, 16, 16)
    if b == a + 1:
        if rest == 1:
            x = state.reshape(g, lead, 16)
            return torch.matmul(x, mat.transpose(1, 2)).reshape(state.shape)
        if g == 1:  # one matrix for all: a plain matmul broadcasts best
            x = state.reshape(lead, 16, rest)
            return torch.matmul(mat[0], x).reshape(state.shape)
        x = state.reshape(g, lead, 16, rest)
        return torch.einsum("gij,gljr->glir", mat, x).reshape(state.shape)
    mid = math.prod(dims[a + 1 : b])
    x = state.reshape(g, lead, 4, mid, 4, rest)
    out = torch.einsum("gpqst,gusmtr->gupmqr", mat.reshape(g, 4, 4, 4, 4), x)
    return out.reshape(state.shape)


def contract_axis(state: torch.Tensor, m: torch.Tensor, axis: int,
                  dims: list[int]) -> torch.Tensor:
    """Map [G or 1, k, d_axis] applied to one axis; the axis becomes of size k."""
    g = state.shape[0]
    lead = state.shape[1] * math.prod(dims[:axis])
    x = state.reshape(g, lead, dims[axis], math.prod(dims[axis + 1 :]))
    out = torch.einsum("gkp,glpr->glkr", m.expand(g, *m.shape[1:]), x)
    return out.reshape(g, state.shape[1], -1)


def enter_axis(state: torch.Tensor, vector: torch.Tensor, axis: int,
               dims: list[int]) -> torch.Tensor:
    """The outer product with an axis' own vector [G', L', k] (G', L' equal to the state's or
    1); the axis goes from size 1 to k."""
    g, rows = max(state.shape[0], vector.shape[0]), max(state.shape[1], vector.shape[1])
    before, after = math.prod(dims[:axis]), math.prod(dims[axis + 1 :])
    x = state.reshape(state.shape[0], state.shape[1], before, 1, after)
    v = vector.reshape(vector.shape[0], vector.shape[1], 1, vector.shape[2], 1)
    return (x * v).reshape(g, rows, -1)


def product(vectors: list[torch.Tensor]) -> torch.Tensor:
    """Outer product of per-axis vectors [B or 1, K, 4] -> [B, K, 4^n], axis 0 first."""
    out = vectors[0]
    for v in vectors[1:]:
        out = (out[..., :, None] * v[..., None, :]).flatten(-2)
    return out


@lru_cache(maxsize=16)
def walsh(m: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """[2^m, 2^m] map from Z-moments (subset s) to probabilities (bitstring b):
    p[b] = 2^-m sum_s (-1)^{|b & s|} moment[s]; index bits MSB-first, like the template's."""
    index = torch.arange(2**m)
    parity = torch.zeros(2**m, 2**m, dtype=torch.int64)
    both = index[:, None] & index[None, :]
    for _ in range(m):
        parity ^= both & 1
        both = both >> 1
    return ((1 - 2 * parity).to(dtype) / 2**m).to(device)
