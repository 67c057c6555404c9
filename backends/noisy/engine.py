"""The batched noisy engine: exact outcome moments, probabilities and template outputs of a
compiled circuit for many rows at once, differentiable in inputs and weights.

Two ways to the same numbers, chosen by cost. Forward (Schrödinger): every row's Pauli vector
runs through the body. Backward (Heisenberg): when the body depends on shared weights only, the
few observables needed run backwards through it once per weight set, and each row is then one
inner product with its prefix product state.
"""

from __future__ import annotations

import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.noisy.directions import backward, forward, observables, schedule
from qorch.backends.noisy.kernels import product, walsh
from qorch.backends.noisy.matrices import Matrices, depends_on
from qorch.backends.noisy.program import Program

# Rows per forward chunk so that one chunk's state stays near 2^22 numbers (32 MiB in float64).
CHUNK_ELEMENTS = 2**22


def output_subsets(template: CircuitTemplate) -> list[int] | None:
    """Z-moment subsets (bit i of the template is mask bit n-1-i) the z and zz outputs read;
    None when the outputs need every moment (probs)."""
    if "probs" in template.observables:
        return None
    n = template.n_qubits
    masks = []
    for obs in template.observables:
        if obs == "z":
            masks += [1 << (n - 1 - i) for i in range(n)]
        else:
            masks += [(1 << (n - 1 - i)) | (1 << (n - 2 - i)) for i in range(n - 1)]
    return masks


def outputs_from_moments(template: CircuitTemplate, moments: torch.Tensor,
                         subsets: list[int] | None) -> torch.Tensor:
    """Template outputs from moments: the `output_subsets` columns, or all 2^n of them."""
    if subsets is not None:
        return moments
    n = template.n_qubits
    parts = []
    for obs in template.observables:
        if obs == "z":
            parts.append(moments[:, [1 << (n - 1 - i) for i in range(n)]])
        elif obs == "zz":
            cols = [(1 << (n - 1 - i)) | (1 << (n - 2 - i)) for i in range(n - 1)]
            parts.append(moments[:, cols])
        else:
            parts.append(probabilities_from_moments(moments, n))
    return torch.cat(parts, dim=1)


def probabilities_from_moments(moments: torch.Tensor, n: int) -> torch.Tensor:
    """[R, 2^n] basis probabilities (qubit 0 the MSB) from all 2^n Z-moments."""
    w = walsh(n, moments.dtype, str(moments.device))
    return moments @ w.T


class NoisyEngine:
    """One compiled circuit on a device and dtype."""

    def __init__(self, template: CircuitTemplate, program: Program,
                 dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu") -> None:
        self.template, self.program = template, program
        self.matrices = Matrices(program, dtype, torch.device(device))
        self.dtype = dtype
        self.schedule = schedule(program)
        self.steps = sum(len(seg) for seg in (*program.prefix, *program.suffix)) + sum(
            len(op.before[0]) + len(op.before[1]) + 1 for op in program.body)
        self.body_reads_inputs = depends_on(program, "body", template.n_inputs)[0]

    def moments(self, inputs: torch.Tensor, weights: torch.Tensor,
                group: torch.Tensor | None = None,
                subsets: list[int] | None = None) -> torch.Tensor:
        """Z-moments [R, K] of the measured (readout-affected) bits: inputs [R, n_inputs],
        weights [G, n_weights] with `group` [R] the weight set of each row (G = 1: shared).
        `subsets`: the moments wanted (None: all 2^n, in mask order)."""
        rows, sets = inputs.shape[0], weights.shape[0]
        if group is None:
            group = torch.zeros(rows, dtype=torch.long, device=inputs.device)
        k = len(subsets) if subsets is not None else 2**self.template.n_qubits
        if not self.body_reads_inputs and self._backward_cost(rows, sets, k) < self._forward_cost(
                rows, sets):
            return self._backward(inputs, weights, group, subsets)
        return self._chunked(inputs, weights, group, subsets)

    # Rough multiply-adds of the two directions, matrix building included (at a few qubits
    # building per-row 16x16 matrices costs more than the state itself). A pair op costs 16 per
    # state entry; backward, one shared matrix over all observables runs as a GEMM, measured
    # about 4x the rate of forward's per-row batched products, hence its weight of 4.
    def _build_cost(self) -> float:
        return 4096.0 * len(self.program.body) + 64.0 * self.steps

    def _forward_cost(self, rows: int, sets: int) -> float:
        state = 16 * rows * self.schedule.cost * 4**self.program.n_axes
        return state + (rows if self.body_reads_inputs else sets) * self._build_cost()

    def _backward_cost(self, rows: int, sets: int, k: int) -> float:
        size = 4**self.program.n_axes
        body = 4 * sets * k * max(len(self.program.body), 1) * size
        return body + rows * k * size + sets * self._build_cost()

    def probabilities(self, inputs: torch.Tensor, weights: torch.Tensor,
                      group: torch.Tensor | None = None) -> torch.Tensor:
        """Exact noisy basis probabilities [R, 2^n], readout confusion included."""
        return probabilities_from_moments(self.moments(inputs, weights, group),
                                          self.template.n_qubits)

    def outputs(self, inputs: torch.Tensor, weights: torch.Tensor,
                group: torch.Tensor | None = None) -> torch.Tensor:
        """Exact noisy template outputs [R, n_outputs]."""
        subsets = output_subsets(self.template)
        return outputs_from_moments(self.template,
                                    self.moments(inputs, weights, group, subsets), subsets)

    # --- the two directions ---------------------------------------------------------------

    def _params(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return torch.cat([inputs.to(self.dtype), weights.to(self.dtype)], dim=1)

    def _chunked(self, inputs: torch.Tensor, weights: torch.Tensor,
                 group: torch.Tensor | None, subsets: list[int] | None) -> torch.Tensor:
        step = max(1, CHUNK_ELEMENTS // self.schedule.peak)
        rows = inputs.shape[0]
        if group is None:
            group = torch.zeros(rows, dtype=torch.long, device=inputs.device)
        parts = [self._forward(inputs[s : s + step], weights, group[s : s + step], subsets)
                 for s in range(0, rows, step)]
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def _forward(self, inputs: torch.Tensor, weights: torch.Tensor, group: torch.Tensor,
                 subsets: list[int] | None) -> torch.Tensor:
        m, rows, sets = self.matrices, inputs.shape[0], weights.shape[0]
        per_row = self._params(inputs, weights[group])
        shared = sets == 1 and not self.body_reads_inputs
        if self.body_reads_inputs:
            pairs, maps = m.pairs(per_row), m.measurement(per_row)
        else:  # built once per weight set, then handed to the rows that use it
            body = self._params(inputs.new_zeros(sets, inputs.shape[1]), weights)
            pairs, maps = m.pairs(body), m.measurement(body)
            if not shared:
                pairs = [(axes, mat if mat.shape[0] == 1 else mat[group]) for axes, mat in pairs]
                maps = [mp if mp.shape[0] == 1 else mp[group] for mp in maps]
        moments = forward(self.schedule, m.prefix_vectors(per_row), pairs, maps, rows, shared)
        moments = self._to_template_order(moments)
        return moments if subsets is None else moments[:, subsets]

    def _backward(self, inputs: torch.Tensor, weights: torch.Tensor, group: torch.Tensor,
                  subsets: list[int] | None) -> torch.Tensor:
        m, n = self.matrices, self.program.n_axes
        sets = weights.shape[0]
        body = self._params(inputs.new_zeros(sets, inputs.shape[1]), weights)
        masks = torch.as_tensor(subsets if subsets is not None
                                else range(2**self.template.n_qubits), device=inputs.device)
        pulled = backward(observables(m.measurement(body), self.program.measured, masks, sets),
                          m.pairs(body), n)
        per_row = self._params(inputs, weights[group])
        prefix = product([v.unsqueeze(1) for v in m.prefix_vectors(per_row)])
        prefix = prefix.expand(inputs.shape[0], 1, 4**n)[:, 0]  # [R, 4^n]
        if sets == 1:
            return prefix @ pulled[0].T
        out = prefix.new_empty(inputs.shape[0], pulled.shape[1])
        for g in range(sets):
            rows = torch.nonzero(group == g).flatten()
            out = out.index_copy(0, rows, prefix[rows] @ pulled[g].T)
        return out

    def _to_template_order(self, moments: torch.Tensor) -> torch.Tensor:
        """Moments over measured axes (axis order) -> template bit order (bit 0 the MSB)."""
        measured = self.program.measured
        by_axis = sorted(measured)
        if list(measured) == by_axis:
            return moments
        rows, n = moments.shape[0], len(measured)
        perm = [by_axis.index(axis) for axis in measured]
        return moments.reshape(rows, *([2] * n)).permute(0, *(p + 1 for p in perm)).reshape(
            rows, -1)
