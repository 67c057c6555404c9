"""Compile a CircuitTemplate to a parameterised qiskit circuit, its observables and bindings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ParameterError

if TYPE_CHECKING:  # qiskit is imported lazily at run time
    from qiskit.circuit import ParameterVector, QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

INPUTS = "x"
WEIGHTS = "w"


def to_qiskit(
    template: CircuitTemplate, measure: bool = False
) -> tuple[QuantumCircuit, ParameterVector, ParameterVector]:
    """(circuit, input parameters "x", weight parameters "w"); qubit i of the template is qubit i.

    With measure=True every qubit is measured into the register "meas" (for probs/sampling);
    counts then come back little-endian (see `backends.decode`).
    """
    from qiskit.circuit import ParameterVector, QuantumCircuit

    x = ParameterVector(INPUTS, template.n_inputs)
    w = ParameterVector(WEIGHTS, template.n_weights)
    circuit = QuantumCircuit(template.n_qubits, name=f"qorch_{template.hash}")
    for gate in template.operations():
        if gate.name == "h":
            circuit.h(gate.wires[0])
        elif gate.name == "cnot":
            circuit.cx(*gate.wires)
        elif gate.name == "cz":
            circuit.cz(*gate.wires)
        else:
            assert gate.param is not None
            kind, index = gate.param
            angle = x[index] if kind == INPUTS else w[index]
            getattr(circuit, gate.name)(angle, gate.wires[0])
    if measure:
        circuit.measure_all()
    return circuit, x, w


def parameter_slot(template: CircuitTemplate, parameter: Any) -> tuple[str, int]:
    vector = getattr(parameter, "vector", None)
    name = getattr(vector, "name", None)
    size = template.n_inputs if name == INPUTS else template.n_weights
    if name not in (INPUTS, WEIGHTS) or not 0 <= parameter.index < size:
        raise ParameterError(
            f"circuit parameter {parameter} was not made by to_qiskit for this template"
        )
    return name, int(parameter.index)


def parameter_matrix(
    template: CircuitTemplate, circuit: QuantumCircuit, inputs: Any, weights: Any
) -> np.ndarray:
    """[R, len(circuit.parameters)] values in `circuit.parameters` order, for primitive PUBs.

    inputs [R, n_inputs]; weights [n_weights] (shared) or [R, n_weights].
    """
    x = np.atleast_2d(np.asarray(inputs, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    w = np.broadcast_to(w, (x.shape[0], template.n_weights)) if w.ndim == 1 else w
    if x.shape[1:] != (template.n_inputs,) or w.shape != (x.shape[0], template.n_weights):
        raise ParameterError(
            f"inputs must be [R, {template.n_inputs}] and weights [{template.n_weights}] or "
            f"[R, {template.n_weights}], got {list(x.shape)} and {list(w.shape)}"
        )
    columns = []
    for parameter in circuit.parameters:
        name, index = parameter_slot(template, parameter)
        columns.append(x[:, index] if name == INPUTS else w[:, index])
    return np.stack(columns, axis=1) if columns else np.zeros((x.shape[0], 0))


def qiskit_observables(template: CircuitTemplate) -> list[SparsePauliOp]:
    """SparsePauliOps for the z and zz outputs, in output order (probs are left out).

    Built from sparse (label, qubit indices) lists, so qiskit's little-endian string order
    (qubit 0 is the rightmost character) is handled by qiskit itself. After transpiling to a
    device, map them with `op.apply_layout(transpiled.layout)`.
    """
    from qiskit.quantum_info import SparsePauliOp

    n = template.n_qubits
    ops: list[SparsePauliOp] = []
    for obs in template.observables:
        if obs == "z":
            ops += [
                SparsePauliOp.from_sparse_list([("Z", [i], 1.0)], num_qubits=n) for i in range(n)
            ]
        elif obs == "zz":
            ops += [
                SparsePauliOp.from_sparse_list([("ZZ", [i, i + 1], 1.0)], num_qubits=n)
                for i in range(n - 1)
            ]
    return ops
