"""The engine's two directions through a program's body.

Forward: rows' Pauli vectors run through the body. A qubit joins the dense state only at its
first two-qubit gate (until then it is its own prefix vector) and is read out right after its
last one, so on shallow, chain-like circuits most gates act on a fraction of the 4^n state.
Backward: observables run backwards through a body shared by many rows (adjoint matrices in
reverse order); each row is then one inner product with its prefix product state.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from qorch.backends.noisy.kernels import apply_pair, contract_axis, enter_axis, product
from qorch.backends.noisy.program import Program

Pairs = list[tuple[tuple[int, int], torch.Tensor]]


@dataclass(frozen=True)
class Schedule:
    """When each axis enters the dense state and when it is read out, per body op."""

    enter: tuple[tuple[int, ...], ...]
    leave: tuple[tuple[int, ...], ...]
    untouched: tuple[int, ...]  # axes no two-qubit gate touches
    cost: float  # sum over body ops of the state's size, in units of 4^n per row
    peak: int  # largest state per row


def schedule(program: Program) -> Schedule:
    n = program.n_axes
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for j, op in enumerate(program.body):
        for ax in op.axes:
            first.setdefault(ax, j)
            last[ax] = j
    enter = tuple(tuple(sorted(ax for ax, j0 in first.items() if j0 == j))
                  for j in range(len(program.body)))
    leave = tuple(tuple(sorted(ax for ax, j1 in last.items() if j1 == j))
                  for j in range(len(program.body)))
    measured = set(program.measured)
    dims, cost, peak = [1] * n, 0.0, 2 ** len(measured)
    for j in range(len(program.body)):
        for ax in enter[j]:
            dims[ax] = 4
        size = 1
        for d in dims:
            size *= d
        cost += size / 4**n
        peak = max(peak, size)
        for ax in leave[j]:
            dims[ax] = 2 if ax in measured else 1
    untouched = tuple(ax for ax in range(n) if ax not in first)
    return Schedule(enter, leave, untouched, cost, peak)


def forward(sched: Schedule, prefix: list[torch.Tensor], pairs: Pairs,
            maps: list[torch.Tensor], rows: int, shared: bool) -> torch.Tensor:
    """Moments [rows, 2^m] over the measured axes, in axis order.

    prefix: per axis [rows or 1, 4]; pairs and maps: matrices with a leading dimension of 1
    (shared) or rows. Shared matrices keep all rows in one batch ([1, rows, ...]); per-row ones
    give each row its own ([rows, 1, ...])."""
    n = len(prefix)
    vectors = [v.unsqueeze(0) if shared else v.unsqueeze(1) for v in prefix]
    dtype, device = prefix[0].dtype, prefix[0].device
    state = torch.ones((1, rows, 1) if shared else (rows, 1, 1), dtype=dtype, device=device)
    dims = [1] * n
    for j, ((a, b), mat) in enumerate(pairs):
        for ax in sched.enter[j]:
            state = enter_axis(state, vectors[ax], ax, dims)
            dims[ax] = 4
        state = apply_pair(state, mat, a, b, dims)
        for ax in sched.leave[j]:
            state = contract_axis(state, maps[ax], ax, dims)
            dims[ax] = maps[ax].shape[1]
    for ax in sched.untouched:
        read = torch.matmul(maps[ax].unsqueeze(1), vectors[ax].unsqueeze(-1)).squeeze(-1)
        state = enter_axis(state, read, ax, dims)
        dims[ax] = maps[ax].shape[1]
    return state.reshape(rows, -1)


def backward(observables: torch.Tensor, pairs: Pairs, n: int) -> torch.Tensor:
    """Observables [G, K, 4^n] pulled back through the body (matrices [G or 1, 16, 16])."""
    dims = [4] * n
    for (a, b), mat in reversed(pairs):
        observables = apply_pair(observables, mat.transpose(1, 2), a, b, dims)
    return observables


def observables(maps: list[torch.Tensor], measured: tuple[int, ...], masks: torch.Tensor,
                sets: int) -> torch.Tensor:
    """[G, K, 4^n] product observables of the Z-moments `masks` (template bit i is mask bit
    m-1-i) from the per-axis measurement maps, in engine axis order."""
    nbits = len(measured)
    bit_of = {axis: bit for bit, axis in enumerate(measured)}
    vectors = []
    for axis, mp in enumerate(maps):
        if axis not in bit_of:
            vectors.append(mp.expand(sets, len(masks), 4))
            continue
        member = (masks >> (nbits - 1 - bit_of[axis])) & 1
        vectors.append(mp.expand(sets, 2, 4)[:, member])
    return product(vectors)
