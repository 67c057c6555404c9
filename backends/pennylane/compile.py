"""Compile a CircuitTemplate to a broadcast PennyLane tape: one tape for many parameter rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ParameterError
from qorch.backends.noise import NoiseSpec
from qorch.backends.pennylane.noise import channels_after, readout_channels

if TYPE_CHECKING:
    import numpy as np
    import torch
    from pennylane.operation import Operator
    from pennylane.tape import QuantumScript

# numpy rows for simulate(), torch tensors (carrying autograd) for evaluate().
Matrix: TypeAlias = "np.ndarray | torch.Tensor"

_GATES = {"rx": "RX", "ry": "RY", "rz": "RZ", "h": "Hadamard", "cnot": "CNOT", "cz": "CZ"}


def _columns(
    template: CircuitTemplate, inputs: Matrix, weights: Matrix
) -> tuple[list[Matrix], list[Matrix]]:
    """Per-gate parameters: input column i is a row vector (broadcast), weight j a scalar when
    all rows share the weights, else a row vector too."""
    if len(inputs.shape) != 2 or inputs.shape[1] != template.n_inputs:
        raise ParameterError(
            f"inputs must be [R, {template.n_inputs}], got {list(inputs.shape)}")
    rows = inputs.shape[0]
    x = [inputs[:, i] for i in range(template.n_inputs)]
    if tuple(weights.shape) in ((template.n_weights,), template.weight_shape):
        flat = weights.reshape(-1)
        return x, [flat[j] for j in range(template.n_weights)]
    if tuple(weights.shape) == (rows, template.n_weights):
        return x, [weights[:, j] for j in range(template.n_weights)]
    raise ParameterError(
        f"weights must be [{template.n_weights}] or [R={rows}, {template.n_weights}], "
        f"got {list(weights.shape)}")


def operations(
    template: CircuitTemplate, inputs: Matrix, weights: Matrix, noise: NoiseSpec
) -> list[Operator]:
    """The template's gates with broadcast parameters, each followed by its noise channels.

    Template qubit i is PennyLane wire i; PennyLane's probabilities list wire 0 as the most
    significant bit, which is already the template's convention.
    """
    import pennylane as qml

    x, w = _columns(template, inputs, weights)
    noisy = not noise.is_noiseless
    ops: list[Operator] = []
    for gate in template.operations():
        kind = getattr(qml, _GATES[gate.name])
        if gate.param is None:
            ops.append(kind(wires=list(gate.wires)))
        else:
            source, index = gate.param
            ops.append(kind(x[index] if source == "x" else w[index], wires=gate.wires[0]))
        if noisy:
            ops.extend(channels_after(gate, noise))
    if noisy:
        ops.extend(readout_channels(noise, template.n_qubits))
    return ops


def probability_tape(
    template: CircuitTemplate, inputs: Matrix, weights: Matrix, noise: NoiseSpec
) -> QuantumScript:
    """A tape returning the exact basis probabilities [R, 2^n] of every row."""
    import pennylane as qml

    ops = operations(template, inputs, weights, noise)
    return qml.tape.QuantumScript(ops, [qml.probs(wires=range(template.n_qubits))])
