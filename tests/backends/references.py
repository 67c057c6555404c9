"""Independent PennyLane and qiskit-free reference circuits for checking the torch simulator."""

from __future__ import annotations

from typing import Any

import pennylane as qml
import torch

from qorch.backends.circuits.template import CircuitTemplate

_ROT = {"rx": qml.RX, "ry": qml.RY, "rz": qml.RZ}


def pennylane_qnode(template: CircuitTemplate) -> Any:
    """The template written out by hand with PennyLane gates; returns qnode(inputs, weights)."""
    n, layers = template.n_qubits, template.n_layers
    enc = _ROT[template.encoding.split("-")[1]]
    reupload = template.encoding.startswith("reupload")
    dev = qml.device("default.qubit", wires=n)

    def encode(x: torch.Tensor) -> None:
        for i in range(n):
            enc(x[..., i], wires=i)

    def entangle(layer: int) -> None:
        ring = template.entangler.endswith("ring")
        pairs = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if ring and n > 2 else [])
        if template.entangler == "cnot-chain-reverse":
            pairs = pairs[::-1]
        elif template.entangler == "strong":  # PennyLane's StronglyEntanglingLayers ranges
            pairs = [(i, (i + layer % (n - 1) + 1) % n) for i in range(n)] if n > 1 else []
        for a, b in pairs:
            (qml.CZ if template.entangler == "cz-ring" else qml.CNOT)(wires=[a, b])

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(inputs: torch.Tensor, weights: torch.Tensor) -> Any:
        if not reupload:
            if template.encoding == "angle-rz":
                for i in range(n):
                    qml.Hadamard(wires=i)
            encode(inputs)
        for layer in range(layers):
            if reupload:
                encode(inputs)
            for i in range(n):
                w = weights[..., layer, i, :]
                if template.rotations == "rot":
                    qml.Rot(w[..., 0], w[..., 1], w[..., 2], wires=i)
                else:  # ry, rx, rz, ryrz: the gates in their order
                    for r, gate in enumerate(template.rotation_gates):
                        _ROT[gate](w[..., r], wires=i)
            entangle(layer)
        out: list[Any] = []
        for obs in template.observables:
            if obs == "z":
                out += [qml.expval(qml.PauliZ(i)) for i in range(n)]
            elif obs == "zz":
                out += [qml.expval(qml.PauliZ(i) @ qml.PauliZ(i + 1)) for i in range(n - 1)]
            else:
                out.append(qml.probs(wires=range(n)))
        return out

    return circuit


def pennylane_outputs(
    template: CircuitTemplate, inputs: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Outputs [R, n_outputs] row by row (weights [n_weights] or [R, n_weights])."""
    circuit = pennylane_qnode(template)
    rows = []
    for r in range(inputs.shape[0]):
        w = weights if weights.dim() == 1 else weights[r]
        res = circuit(inputs[r], w.reshape(template.weight_shape))
        rows.append(torch.cat([torch.atleast_1d(t) for t in res]))
    return torch.stack(rows)
