"""A program's matrices in torch for one set of parameters: prefix vectors, body pair matrices,
measurement maps. Angles are batched over a leading dimension (1 when shared by all rows)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from qorch.backends.noisy.kernels import kron, swap_pair
from qorch.backends.noisy.program import Program, Step

_ZERO = np.array([1.0, 0.0, 0.0, 1.0])  # |0><0| as a Pauli vector (I, X, Y, Z)


@dataclass(frozen=True)
class TorchStep:
    """A step on a device: either `fixed` [d, d] or a rotation basis [3, d, d] with its angle's
    coefficients [n_params] and offset."""

    fixed: torch.Tensor | None
    basis: torch.Tensor | None
    coefficients: torch.Tensor
    offset: float


def _fuse(steps: tuple[Step, ...]) -> list[Step]:
    """Runs of fixed steps multiplied into one (later steps on the left)."""
    out: list[Step] = []
    for s in steps:
        if s.fixed is not None and out and out[-1].fixed is not None:
            last = out[-1]
            assert last.fixed is not None
            out[-1] = Step(s.fixed @ last.fixed, None, last.coefficients, 0.0)
        else:
            out.append(s)
    return out


class Matrices:
    """The program on a device and dtype, turned into matrices for given parameters."""

    def __init__(self, program: Program, dtype: torch.dtype, device: torch.device) -> None:
        self.program, self.dtype, self.device = program, dtype, device
        self.prefix = [self._steps(seg) for seg in program.prefix]
        self.suffix = [self._steps(seg) for seg in program.suffix]
        self.body = [
            (op.axes, self._steps(op.before[0]), self._steps(op.before[1]),
             self._steps((op.gate,)))
            for op in program.body
        ]  # fmt: skip
        self.zero = torch.tensor(_ZERO, dtype=dtype, device=device)
        self.n_inputs = 0  # set by the engine: columns of params that are inputs

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=self.dtype, device=self.device)

    def _steps(self, steps: tuple[Step, ...]) -> list[TorchStep]:
        out = []
        for s in _fuse(steps):
            basis = None if s.rotation is None else self._tensor(np.stack(s.rotation))
            fixed = None if s.fixed is None else self._tensor(s.fixed)
            out.append(TorchStep(fixed, basis, self._tensor(s.coefficients), s.offset))
        return out

    # --- for given parameters -----------------------------------------------------------

    def segment(self, steps: list[TorchStep], params: torch.Tensor, d: int) -> torch.Tensor:
        """Product of a segment's steps [B or 1, d, d] (identity when empty); params [B, P]."""
        out: torch.Tensor | None = None
        for s in steps:
            if s.fixed is not None:
                m = s.fixed.unsqueeze(0)
            else:
                assert s.basis is not None
                theta = params @ s.coefficients + s.offset  # [B]
                trig = torch.stack([torch.ones_like(theta), torch.cos(theta), torch.sin(theta)], 1)
                m = (trig @ s.basis.reshape(3, d * d)).reshape(-1, d, d)
            out = m if out is None else torch.matmul(m, out)
        if out is None:
            return torch.eye(d, dtype=self.dtype, device=self.device).unsqueeze(0)
        return out

    def prefix_vectors(self, params: torch.Tensor) -> list[torch.Tensor]:
        """Per axis, the state after its prefix [B or 1, 4]."""
        return [self.segment(seg, params, 4) @ self.zero for seg in self.prefix]

    def pair(self, op: tuple[tuple[int, int], list[TorchStep], list[TorchStep], list[TorchStep]],
             params: torch.Tensor) -> tuple[tuple[int, int], torch.Tensor]:
        """A body op as (axes a < b, matrix [B or 1, 16, 16])."""
        (a, b), before_a, before_b, gate = op
        m = torch.matmul(self.segment(gate, params, 16),
                         kron(self.segment(before_a, params, 4),
                              self.segment(before_b, params, 4)))
        return ((a, b), m) if a < b else ((b, a), swap_pair(m))

    def pairs(self, params: torch.Tensor) -> list[tuple[tuple[int, int], torch.Tensor]]:
        return [self.pair(op, params) for op in self.body]

    def measurement(self, params: torch.Tensor) -> list[torch.Tensor]:
        """Per axis, [B or 1, 2, 4] (I and measured-Z moments after suffix and readout) for a
        measured axis, [1, 1, 4] (the trace) for one that is not."""
        program = self.program
        bit_of = {axis: bit for bit, axis in enumerate(program.measured)}
        trace = torch.zeros(1, 1, 4, dtype=self.dtype, device=self.device)
        trace[0, 0, 0] = 1.0
        maps = []
        for axis in range(program.n_axes):
            if axis not in bit_of:
                maps.append(trace)
                continue
            p10, p01 = program.flips[bit_of[axis]]
            seg = self.segment(self.suffix[axis], params, 4)  # [B, 4, 4]
            z_row = (1 - p10 - p01) * seg[:, 3, :]
            z_row = z_row + (p01 - p10) * trace[0, 0]
            maps.append(torch.stack([trace[0, 0].expand_as(z_row), z_row], dim=1))
        return maps


def depends_on(program: Program, part: str, n_inputs: int) -> tuple[bool, bool]:
    """(on inputs, on weights) of the prefix or of the body and suffix."""
    used = program.parameters_of(part)
    return bool((used < n_inputs).any()), bool((used >= n_inputs).any())

