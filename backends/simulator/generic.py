"""Gate-by-gate state-vector simulation for templates outside the fused plan's layered form."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from qorch.backends.circuits.readout import eigenvalue_matrix
from qorch.backends.circuits.template import CircuitTemplate, Gate

_HADAMARD = np.array([[1, 1], [1, -1]]) / np.sqrt(2)


def _rotation(name: str, angle: torch.Tensor) -> torch.Tensor:
    """[..., 2, 2] matrices of RX, RY or RZ for angles [...] (complex)."""
    half = angle / 2
    c = torch.cos(half).to(_complex(angle.dtype))
    s = torch.sin(half).to(_complex(angle.dtype))
    zero = torch.zeros_like(c)
    if name == "rx":
        rows = [[c, -1j * s], [-1j * s, c]]
    elif name == "ry":
        rows = [[c, -s], [s, c]]
    else:
        rows = [[c - 1j * s, zero], [zero, c + 1j * s]]
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def _complex(real: torch.dtype) -> torch.dtype:
    return torch.complex128 if real == torch.float64 else torch.complex64


@lru_cache(maxsize=256)
def _two_qubit(name: str, wires: tuple[int, int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(basis permutation, ±1 phases) of a CNOT or CZ on n qubits, qubit 0 the MSB."""
    states = np.arange(2**n)
    control, target = (1 << (n - 1 - w) for w in wires)
    if name == "cnot":
        return np.where(states & control, states ^ target, states), np.ones(2**n)
    both = ((states & control) != 0) & ((states & target) != 0)
    return states, np.where(both, -1.0, 1.0)


def _apply_one(state: torch.Tensor, matrix: torch.Tensor, qubit: int, n: int) -> torch.Tensor:
    """state [R, 2^n]; matrix [2, 2] or [R, 2, 2] acting on `qubit`."""
    rows = state.shape[0]
    view = state.reshape(rows, 2**qubit, 2, 2 ** (n - qubit - 1))
    if matrix.dim() == 2:
        out = torch.einsum("ij,rajb->raib", matrix, view)
    else:
        out = torch.einsum("rij,rajb->raib", matrix, view)
    return out.reshape(rows, 2**n)


def _angle(gate: Gate, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    assert gate.param is not None
    source, index = gate.param
    return x[:, index] if source == "x" else w[..., index]


def final_state(template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The state [R, 2^n] after every gate; x [R, n_inputs], w [n_weights] or [R, n_weights]."""
    n = template.n_qubits
    dtype = _complex(x.dtype)
    state = torch.zeros(x.shape[0], 2**n, dtype=dtype, device=x.device)
    state[:, 0] = 1
    hadamard = torch.as_tensor(_HADAMARD, dtype=dtype, device=x.device)
    ops = template.operations()
    pending: torch.Tensor | None = None  # product of a run of one-qubit gates on one wire
    gather: np.ndarray | None = None  # composed permutation of a run of CNOTs
    for i, gate in enumerate(ops):
        if len(gate.wires) == 1:
            matrix = (hadamard if gate.name == "h"
                      else _rotation(gate.name, _angle(gate, x, w)))
            pending = matrix if pending is None else matrix @ pending
            following = ops[i + 1] if i + 1 < len(ops) else None
            # A run (e.g. RZ·RY·RZ) becomes one 2×2 product before it touches the state.
            if following is None or following.wires != gate.wires:
                state = _apply_one(state, pending, gate.wires[0], n)
                pending = None
        elif gate.name == "cnot":
            perm = _two_qubit(gate.name, (gate.wires[0], gate.wires[1]), n)[0]
            gather = perm if gather is None else gather[perm]
            following = ops[i + 1] if i + 1 < len(ops) else None
            # A block of CNOTs is one basis permutation: a single gather.
            if following is None or following.name != "cnot":
                state = state[:, torch.as_tensor(gather, device=x.device)]
                gather = None
        else:
            signs = _two_qubit(gate.name, (gate.wires[0], gate.wires[1]), n)[1]
            state = state * torch.as_tensor(signs, dtype=x.dtype, device=x.device)
    return state


def probabilities(template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Basis probabilities [R, 2^n], qubit 0 the most significant bit; differentiable."""
    state = final_state(template, x, w)
    return torch.view_as_real(state).square().sum(-1)


def outputs(template: CircuitTemplate, probs: torch.Tensor) -> torch.Tensor:
    """Template outputs [R, n_outputs] from probabilities [R, 2^n]."""
    parts = [
        probs if obs == "probs"
        else probs @ torch.as_tensor(eigenvalue_matrix(template, obs), dtype=probs.dtype,
                                     device=probs.device)
        for obs in template.observables
    ]
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
