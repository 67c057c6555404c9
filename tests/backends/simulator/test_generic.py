"""The gate-by-gate path and the extended templates against Qiskit's and PennyLane's own
library circuits (ZZFeatureMap, RealAmplitudes, StronglyEntanglingLayers)."""

from __future__ import annotations

import math

import numpy as np
import pennylane as qml
import pytest
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.simulator import generic
from qorch.backends.simulator.engine import probabilities, simulate


def _slots(template: CircuitTemplate, features: np.ndarray) -> np.ndarray:
    """Circuit input angles from features, written out from the slots' definition."""
    columns = [
        s.scale * features[:, s.first] if s.second is None
        else s.scale * (math.pi - features[:, s.first]) * (math.pi - features[:, s.second])
        for s in template.input_slots()
    ]
    return np.stack(columns, axis=1)


def _qiskit_probabilities(circuit: object, values: dict[object, float]) -> np.ndarray:
    from qiskit.quantum_info import Statevector

    bound = circuit.assign_parameters(values)  # type: ignore[attr-defined]
    # qiskit lists qubit 0 as the least significant bit; the template as the most.
    return np.asarray(Statevector(bound.reverse_bits()).probabilities())


@pytest.mark.parametrize("reps", [1, 2])
def test_zz_feature_map_and_real_amplitudes_match_qiskit(reps: int) -> None:
    from qiskit.circuit.library import real_amplitudes, zz_feature_map

    n = 3
    template = CircuitTemplate(n, reps, "zz-feature", "ry", "cnot-chain-reverse", ("probs",),
                               final_rotations="ry")
    assert template.n_inputs == n + 3 and template.n_weights == (reps + 1) * n
    feature_map = zz_feature_map(n)
    ansatz = real_amplitudes(n, reps=reps)
    circuit = feature_map.compose(ansatz)
    rng = np.random.default_rng(4)
    features = rng.uniform(0, math.pi, (3, n))
    weights = rng.uniform(-math.pi, math.pi, template.n_weights)
    ours = probabilities(template, torch.from_numpy(_slots(template, features)),
                         torch.from_numpy(weights)).numpy()
    for r in range(3):
        values = dict(zip(feature_map.parameters, features[r], strict=True))
        values.update(zip(ansatz.parameters, weights, strict=True))
        np.testing.assert_allclose(ours[r], _qiskit_probabilities(circuit, values), atol=1e-12)


@pytest.mark.parametrize("n", [2, 4])
def test_strong_entangler_matches_pennylane_strongly_entangling_layers(n: int) -> None:
    layers = 3
    template = CircuitTemplate(n, layers, "angle-rx", "rot", "strong", ("z",))
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def circuit(x: np.ndarray, w: np.ndarray) -> list[object]:
        qml.AngleEmbedding(x, wires=range(n))  # RX by default
        qml.StronglyEntanglingLayers(w, wires=range(n))
        return [qml.expval(qml.PauliZ(i)) for i in range(n)]

    rng = np.random.default_rng(5)
    x = rng.uniform(-math.pi, math.pi, (2, n))
    w = rng.uniform(-math.pi, math.pi, (layers, n, 3))
    ours = simulate(template, torch.from_numpy(x), torch.from_numpy(w.reshape(-1))).numpy()
    for r in range(2):
        np.testing.assert_allclose(ours[r], np.asarray(circuit(x[r], w)), atol=1e-12)


def test_final_rotation_layer_matches_a_hand_written_circuit() -> None:
    """The CNN recipe's circuit: RY(x) encoding, RZ layer, CNOT ring, RY layer, <Z> per qubit."""
    n = 4
    template = CircuitTemplate(n, 1, "angle-ry", "rz", "cnot-ring", ("z",), final_rotations="ry")
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def circuit(x: np.ndarray, w: np.ndarray) -> list[object]:
        for q in range(n):
            qml.RY(x[q], wires=q)
        for q in range(n):
            qml.RZ(w[q], wires=q)
        for q in range(n):
            qml.CNOT(wires=[q, (q + 1) % n])
        for q in range(n):
            qml.RY(w[n + q], wires=q)
        return [qml.expval(qml.PauliZ(q)) for q in range(n)]

    rng = np.random.default_rng(6)
    x = rng.uniform(0, math.pi, (2, n))
    w = rng.uniform(-math.pi, math.pi, 2 * n)
    ours = simulate(template, torch.from_numpy(x), torch.from_numpy(w)).numpy()
    for r in range(2):
        np.testing.assert_allclose(ours[r], np.asarray(circuit(x[r], w)), atol=1e-12)


@pytest.mark.parametrize("template", [
    CircuitTemplate(3, 2, "angle-ry", "ry", "cnot-ring", ("z", "zz", "probs")),
    CircuitTemplate(4, 2, "reupload-rx", "rot", "cz-ring", ("z",)),
    CircuitTemplate(2, 3, "angle-rz", "ryrz", "cnot-chain", ("zz", "probs")),
], ids=lambda t: t.encoding)
@pytest.mark.parametrize("shared", [True, False])
def test_gate_by_gate_path_equals_the_fused_plan(template: CircuitTemplate, shared: bool) -> None:
    rng = np.random.default_rng(7)
    x = torch.from_numpy(rng.uniform(-math.pi, math.pi, (5, template.n_inputs)))
    shape = (template.n_weights,) if shared else (5, template.n_weights)
    w = torch.from_numpy(rng.uniform(-math.pi, math.pi, shape))
    np.testing.assert_allclose(
        generic.outputs(template, generic.probabilities(template, x, w)).numpy(),
        simulate(template, x, w).numpy(), atol=1e-12)


def test_gate_by_gate_path_is_differentiable() -> None:
    template = CircuitTemplate(3, 2, "zz-feature", "rot", "strong", ("z", "zz"),
                               final_rotations="ry")
    rng = np.random.default_rng(8)
    x = torch.from_numpy(rng.uniform(0, math.pi, (2, template.n_inputs))).requires_grad_()
    w = torch.from_numpy(rng.uniform(-1, 1, template.n_weights)).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: simulate(template, a, b), (x, w))
