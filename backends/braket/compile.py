"""Compile a CircuitTemplate to a Braket Circuit with FreeParameters x0.., w0.. and bind rows."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ParameterError

_GATES = {"rx": "rx", "ry": "ry", "rz": "rz", "h": "h", "cnot": "cnot", "cz": "cz"}


def parameter_names(template: CircuitTemplate) -> list[str]:
    """Names in parameter-row order: x0..x{n-1}, then w0..w{m-1} (the CircuitBatch columns)."""
    return [f"x{i}" for i in range(template.n_inputs)] + [
        f"w{j}" for j in range(template.n_weights)
    ]


@lru_cache(maxsize=64)
def _cached(template: CircuitTemplate, measure: bool) -> Any:
    from braket.circuits import Circuit, FreeParameter

    x = [FreeParameter(f"x{i}") for i in range(template.n_inputs)]
    w = [FreeParameter(f"w{j}") for j in range(template.n_weights)]
    circuit = Circuit()
    for gate in template.operations():
        method = getattr(circuit, _GATES[gate.name])
        if gate.param is None:
            method(*gate.wires)
        else:
            kind, index = gate.param
            method(gate.wires[0], x[index] if kind == "x" else w[index])
    if measure:
        circuit.measure(list(range(template.n_qubits)))
    return circuit


def to_braket(template: CircuitTemplate, *, measure: bool = False) -> Any:
    """A fresh parameterised Braket Circuit (callers may add noise to it).

    Qubit i of the template is Braket qubit i, and Braket reports bitstrings with qubit 0
    leftmost, which is already the template's convention. Without `measure`, Braket samples
    every qubit at the end; with it, explicit measure instructions are added (needed by
    devices that require them).
    """
    return _cached(template, measure).copy()


def row_inputs(template: CircuitTemplate, params: np.ndarray) -> list[dict[str, float]]:
    """One {name: value} dict per parameter row, for `inputs=` or make_bound_circuit."""
    names = parameter_names(template)
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] != len(names):
        raise ParameterError(f"parameter rows must be [R, {len(names)}], got {list(params.shape)}")
    return [dict(zip(names, map(float, row), strict=True)) for row in params]


def input_sets(template: CircuitTemplate, params: np.ndarray) -> dict[str, list[float]]:
    """{name: [value per row]}: the column form a Braket ProgramSet binding takes."""
    names = parameter_names(template)
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] != len(names):
        raise ParameterError(f"parameter rows must be [R, {len(names)}], got {list(params.shape)}")
    return {name: params[:, j].tolist() for j, name in enumerate(names)}
