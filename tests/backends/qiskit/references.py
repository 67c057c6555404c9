"""qiskit-side references for the compiler's tests: binding one row, reading a Statevector."""

from __future__ import annotations

from typing import Any

import numpy as np

from qorch.backends.circuits.readout import outputs_from_probs
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ParameterError
from qorch.backends.qiskit.compile import INPUTS, parameter_slot


def bind_values(
    template: CircuitTemplate,
    circuit: Any,
    inputs_row: Any,
    weights_row: Any,
) -> dict[Any, float]:
    """{Parameter: value} for one row, keyed by the circuit's own Parameter objects.

    Works on the circuit from `to_qiskit` and on any transpiled copy of it (transpilation
    keeps Parameter objects). Never rely on the order of `circuit.parameters`: qiskit sorts it
    by name, so "w" comes before "x".
    """
    x = np.asarray(inputs_row, dtype=np.float64).reshape(-1)
    w = np.asarray(weights_row, dtype=np.float64).reshape(-1)
    if x.shape != (template.n_inputs,) or w.shape != (template.n_weights,):
        raise ParameterError(
            f"one row needs {template.n_inputs} inputs and {template.n_weights} weights, "
            f"got {x.size} and {w.size}"
        )
    values: dict[Any, float] = {}
    for parameter in circuit.parameters:
        name, index = parameter_slot(template, parameter)
        values[parameter] = float(x[index] if name == INPUTS else w[index])
    return values


def probs_from_statevector(template: CircuitTemplate, state: Any) -> np.ndarray:
    """Basis probabilities [2^n] of a qiskit Statevector reordered to qubit 0 as MSB."""
    n = template.n_qubits
    little = np.asarray(state.probabilities(), dtype=np.float64)
    # In C order the first axis of the little-endian array is qubit n-1; reverse the axes.
    return little.reshape((2,) * n).transpose(tuple(range(n - 1, -1, -1))).reshape(-1)


def outputs_from_statevector(template: CircuitTemplate, state: Any) -> np.ndarray:
    """Template outputs [n_outputs] of a qiskit Statevector."""
    return outputs_from_probs(template, probs_from_statevector(template, state))
