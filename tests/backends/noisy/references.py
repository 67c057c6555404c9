"""Aer references for the noisy engine: density-matrix probabilities with the same NoiseModel."""

from __future__ import annotations

from typing import Any

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from tests.backends.qiskit.references import bind_values


def readout_matrices(model: Any) -> dict[int | None, np.ndarray]:
    """{qubit (None: every qubit): P[prepared, measured]} from the model's public dict form."""
    found: dict[int | None, np.ndarray] = {}
    for error in model.to_dict()["errors"] if model is not None else ():
        if error["type"] == "roerror":
            qubits = error.get("gate_qubits")
            found[qubits[0][0] if qubits else None] = np.asarray(error["probabilities"])
    return found


def aer_probabilities(template: CircuitTemplate, circuit: Any, model: Any,
                      params: np.ndarray) -> np.ndarray:
    """[R, 2^n] exact noisy probabilities (qubit 0 the MSB) from Aer's density-matrix method:
    the measured circuit with its measurements replaced by save_probabilities, then each
    measured qubit's readout confusion from the same model."""
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    n = template.n_qubits
    simulator = AerSimulator(method="density_matrix", noise_model=model)
    bare = QuantumCircuit(circuit.num_qubits)
    measured: dict[int, int] = {}
    for inst in circuit.data:
        qubits = [circuit.qubits.index(q) for q in inst.qubits]
        if inst.operation.name == "measure":
            measured[circuit.clbits.index(inst.clbits[0])] = qubits[0]
        elif inst.operation.name != "barrier":
            bare.append(inst.operation, qubits)
    order = [measured[i] for i in range(n)]
    bare.save_probabilities(order)
    readout = readout_matrices(model)
    rows = []
    for row in params:
        bound = bare.assign_parameters(bind_values(template, bare, row[: template.n_inputs],
                                                   row[template.n_inputs :]))
        little = np.asarray(simulator.run(bound).result().data(0)["probabilities"])
        # save_probabilities is little-endian in `order`: axis i of the reversed reshape is bit i.
        probs = little.reshape((2,) * n).transpose(tuple(range(n - 1, -1, -1)))
        for bit, qubit in enumerate(order):
            flips = readout.get(qubit, readout.get(None, np.eye(2)))
            confusion = flips.T  # [measured, prepared]
            probs = np.moveaxis(np.tensordot(confusion, probs, axes=([1], [bit])), 0, bit)
        rows.append(probs.reshape(-1))
    return np.stack(rows)
