"""A measured qiskit circuit and its noise model compiled into the engine's program (numpy).

The program splits the circuit where the engine needs it split: each qubit's gates before its
first two-qubit gate (the *prefix*: a product state per row), the two-qubit gates with the
one-qubit gates since each of their qubits' previous two-qubit gate fused in (the *body*), and
each qubit's gates after its last two-qubit gate folded into its measurement (the *suffix*).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.noisy.channels import (
    EngineUnsupported,
    Rotation,
    check_model,
    error_ptm,
    gate_ptm,
    quantum_error,
    readout_flips,
    rotation_ptm,
)

SKIPPED = ("barrier", "delay")  # idle time is not simulated, as on the Aer path


@dataclass(frozen=True)
class Step:
    """One instruction with its error: a fixed matrix, or a rotation whose angle is
    `offset + params @ coefficients` (params: one row [inputs | weights])."""

    fixed: np.ndarray | None
    rotation: Rotation | None
    coefficients: np.ndarray  # [n_params]
    offset: float


@dataclass(frozen=True)
class BodyOp:
    """A two-qubit instruction on engine axes (a, b), after the pending one-qubit segments of
    a and b (either may be empty)."""

    axes: tuple[int, int]
    before: tuple[tuple[Step, ...], tuple[Step, ...]]
    gate: Step


@dataclass(frozen=True)
class Program:
    """A circuit split into per-axis prefixes, body ops and per-axis suffixes, plus readout."""

    n_axes: int  # used qubits, in engine axis order
    n_params: int
    prefix: tuple[tuple[Step, ...], ...]  # per axis
    body: tuple[BodyOp, ...]
    suffix: tuple[tuple[Step, ...], ...]  # per axis
    measured: tuple[int, ...]  # template bit i is read from axis measured[i]
    flips: tuple[tuple[float, float], ...]  # per template bit: P(1|0), P(0|1)

    def parameters_of(self, part: str) -> np.ndarray:
        """Indices of the parameters the prefix / body+suffix depend on."""
        if part == "prefix":
            steps = [s for seg in self.prefix for s in seg]
        else:
            steps = [s for seg in self.suffix for s in seg]
            for op in self.body:
                steps += [*op.before[0], *op.before[1], op.gate]
        used = np.zeros(self.n_params, dtype=bool)
        for s in steps:
            used |= s.coefficients != 0
        return np.flatnonzero(used)


def _angle(template: CircuitTemplate, value: Any) -> tuple[np.ndarray, float] | None:
    """(coefficients, offset) of an affine angle; None for a plain number."""
    from qorch.backends.qiskit.compile import INPUTS, parameter_slot

    parameters = getattr(value, "parameters", None)
    if not parameters:
        return None
    coefficients = np.zeros(template.n_inputs + template.n_weights)
    for parameter in parameters:
        slope = value.gradient(parameter)
        if getattr(slope, "parameters", None):
            raise EngineUnsupported(f"angle {value} is not affine in the parameters")
        name, index = parameter_slot(template, parameter)
        coefficients[index if name == INPUTS else template.n_inputs + index] += float(slope)
    offset = float(value.bind({p: 0.0 for p in parameters}))
    return coefficients, offset


def _step(template: CircuitTemplate, operation: Any, error: np.ndarray, n_params: int) -> Step:
    angle = _angle(template, operation.params[0]) if operation.params else None
    if angle is None:
        if any(getattr(p, "parameters", None) for p in operation.params):
            raise EngineUnsupported(f"gate {operation.name} has several angles")
        return Step(error @ gate_ptm(operation), None, np.zeros(n_params), 0.0)
    return Step(None, rotation_ptm(operation, error), angle[0], angle[1])


def axis_order(n: int, pairs: list[tuple[int, int]]) -> list[int]:
    """An order of the qubits that puts the two-qubit gates' pairs side by side where the
    interaction graph allows (a path, walked from one end), so the kernels need no permute."""
    neighbours: dict[int, set[int]] = {q: set() for q in range(n)}
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    order: list[int] = []
    for start in sorted(range(n), key=lambda q: (len(neighbours[q]) != 1, q)):
        node: int | None = start
        while node is not None and node not in order:
            order.append(node)
            nxt = sorted(neighbours[node] - set(order), key=lambda q: len(neighbours[q]))
            node = nxt[0] if nxt else None
    return order


def compile_program(template: CircuitTemplate, circuit: Any, model: Any | None) -> Program:
    """The program of a measured circuit (template bit i measured into clbit i) under `model`."""
    check_model(model)
    n_params = template.n_inputs + template.n_weights
    qindex = {q: i for i, q in enumerate(circuit.qubits)}
    cindex = {c: i for i, c in enumerate(circuit.clbits)}
    steps: list[tuple[tuple[int, ...], Step]] = []
    measured: dict[int, int] = {}
    errors: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}
    for inst in circuit.data:
        op, qubits = inst.operation, tuple(qindex[q] for q in inst.qubits)
        if op.name in SKIPPED:
            continue
        if any(q in measured.values() for q in qubits):
            raise EngineUnsupported("gates after a measurement run on Aer")
        if op.name == "measure":
            measured[cindex[inst.clbits[0]]] = qubits[0]
            continue
        if len(qubits) > 2 or getattr(op, "condition", None) is not None:
            raise EngineUnsupported(f"instruction {op.name} on {len(qubits)} qubits runs on Aer")
        if (op.name, qubits) not in errors:  # one instruction recurs on a qubit many times
            errors[op.name, qubits] = error_ptm(
                quantum_error(model, op.name, qubits) if model else None, len(qubits))
        steps.append((qubits, _step(template, op, errors[op.name, qubits], n_params)))
    if sorted(measured) != list(range(template.n_qubits)):
        raise EngineUnsupported("the circuit must measure template qubit i into clbit i")
    n = len(circuit.qubits)
    order = axis_order(n, [q for q, _ in steps if len(q) == 2])
    axis = {q: i for i, q in enumerate(order)}
    pending: list[list[Step]] = [[] for _ in range(n)]
    prefix: list[tuple[Step, ...] | None] = [None] * n
    body: list[BodyOp] = []
    for qubits, step in steps:
        axes = tuple(axis[q] for q in qubits)
        if len(axes) == 1:
            pending[axes[0]].append(step)
            continue
        before: list[tuple[Step, ...]] = []
        for ax in axes:
            segment: tuple[Step, ...] = ()
            if prefix[ax] is None:
                prefix[ax] = tuple(pending[ax])
            else:
                segment = tuple(pending[ax])
            pending[ax] = []
            before.append(segment)
        body.append(BodyOp((axes[0], axes[1]), (before[0], before[1]), step))
    suffix = []
    for ax in range(n):
        if prefix[ax] is None:
            prefix[ax], pending[ax] = tuple(pending[ax]), []
        suffix.append(tuple(pending[ax]))
    flips = tuple(readout_flips(model, measured[i]) if model else (0.0, 0.0)
                  for i in range(template.n_qubits))
    return Program(
        n_axes=n,
        n_params=n_params,
        prefix=tuple(p or () for p in prefix),
        body=tuple(body),
        suffix=tuple(suffix),
        measured=tuple(axis[measured[i]] for i in range(template.n_qubits)),
        flips=flips,
    )
