"""The qiskit compiler against the torch simulator: values, gradients, binding and bit order."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from qiskit import transpile
from qiskit.circuit import Parameter
from qiskit.quantum_info import Statevector

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ParameterError
from qorch.backends.qiskit.compile import parameter_matrix, qiskit_observables, to_qiskit
from qorch.backends.simulator.engine import simulate
from tests.backends.cases import COMBO_IDS, COMBOS, random_parameters, random_template
from tests.backends.qiskit.references import (
    bind_values,
    outputs_from_statevector,
    probs_from_statevector,
)

TOL = 1e-5


def _qiskit_outputs(template: CircuitTemplate, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    circuit, _, _ = to_qiskit(template)
    state = Statevector(circuit.assign_parameters(bind_values(template, circuit, x, w)))
    return outputs_from_statevector(template, state)


@pytest.mark.parametrize("combo", COMBOS, ids=COMBO_IDS)
def test_values_and_gradients_match_the_simulator(combo: tuple[str, str, str]) -> None:
    index = COMBOS.index(combo)
    template = random_template(index, *combo, widths=(4, 3, 2, 1))
    x, w = random_parameters(template, 2, per_row=False, seed=index)
    ours = simulate(template, x, w).numpy()
    for row in range(2):
        ref = _qiskit_outputs(template, x[row].numpy(), w.numpy())
        assert np.allclose(ours[row], ref, atol=TOL, rtol=0)

    # Gradient of a random projection of row 0, against central differences of qiskit's values.
    probe = np.random.default_rng(index).normal(size=template.n_outputs)
    xs = x[:1].clone().requires_grad_(True)
    ws = w.clone().requires_grad_(True)
    (simulate(template, xs, ws)[0] * torch.from_numpy(probe)).sum().backward()
    assert xs.grad is not None and ws.grad is not None
    flat = np.concatenate([x[0].numpy(), w.numpy()])
    step = 1e-5
    numeric = np.empty_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += step
        down[i] -= step
        f_up = _qiskit_outputs(template, up[: template.n_inputs], up[template.n_inputs :])
        f_down = _qiskit_outputs(template, down[: template.n_inputs], down[template.n_inputs :])
        numeric[i] = probe @ (f_up - f_down) / (2 * step)
    ours_grad = np.concatenate([xs.grad[0].numpy(), ws.grad.numpy()])
    assert np.allclose(ours_grad, numeric, atol=TOL, rtol=0)


def test_observables_are_little_endian_and_match_z_outputs() -> None:
    template = CircuitTemplate(3, 1, "angle-rx", "ry", "cz-ring", ("zz", "probs", "z"))
    ops = qiskit_observables(template)
    assert [op.paulis[0].to_label() for op in ops] == ["IZZ", "ZZI", "IIZ", "IZI", "ZII"]
    x, w = random_parameters(template, 1, per_row=False, seed=1)
    circuit, _, _ = to_qiskit(template)
    state = Statevector(circuit.assign_parameters(bind_values(template, circuit, x[0], w)))
    expectations = [state.expectation_value(op).real for op in ops]
    ours = simulate(template, x, w)[0].numpy()
    assert np.allclose(expectations, np.concatenate([ours[:2], ours[-3:]]), atol=TOL)


def test_probabilities_are_reordered_to_qubit_zero_first() -> None:
    template = CircuitTemplate(3, 1, "angle-rx", "ry", "cz-ring", ("probs",))
    circuit, _, _ = to_qiskit(template)
    values = bind_values(template, circuit, [math.pi, 0.0, 0.0], np.zeros(3))
    probs = probs_from_statevector(template, Statevector(circuit.assign_parameters(values)))
    assert np.argmax(probs) == 0b100 and math.isclose(probs.max(), 1.0)


def test_binding_is_by_parameter_object_even_past_ten_inputs_and_transpilation() -> None:
    # qiskit sorts circuit.parameters by name: w[..] before x[..]. Eleven inputs also check
    # that x[10] is not confused with x[1] by any positional binding.
    template = CircuitTemplate(11, 1, "angle-ry", "ry", "cnot-chain", ("z",))
    circuit, x_params, w_params = to_qiskit(template)
    assert next(iter(circuit.parameters)).name.startswith("w")
    x, w = random_parameters(template, 1, per_row=False, seed=4)
    values = bind_values(template, circuit, x[0].numpy(), w.numpy())
    assert values[x_params[10]] == pytest.approx(float(x[0, 10]))
    assert values[w_params[3]] == pytest.approx(float(w[3]))
    transpiled = transpile(circuit, basis_gates=["rz", "sx", "x", "cx"], optimization_level=1)
    bound = transpiled.assign_parameters(bind_values(template, transpiled, x[0], w))
    assert np.allclose(
        outputs_from_statevector(template, Statevector(bound)),
        simulate(template, x, w)[0].numpy(),
        atol=TOL,
    )


def test_parameter_matrix_follows_circuit_parameter_order() -> None:
    template = CircuitTemplate(3, 2, "reupload-rx", "rot", "cnot-ring", ("z",))
    circuit, _, _ = to_qiskit(template)
    x, w = random_parameters(template, 4, per_row=True, seed=2)
    matrix = parameter_matrix(template, circuit, x.numpy(), w.numpy())
    assert matrix.shape == (4, template.n_inputs + template.n_weights)
    for row in range(4):
        by_order = dict(zip(circuit.parameters, matrix[row], strict=True))
        assert by_order == bind_values(template, circuit, x[row], w[row])
    shared = parameter_matrix(template, circuit, x.numpy(), w[0].numpy())
    assert np.allclose(shared[:, : template.n_weights], w[0].numpy()[None])


def test_measured_circuit_measures_every_qubit() -> None:
    template = CircuitTemplate(4, 2, "angle-rz", "ryrz", "cz-ring", ("probs",))
    circuit, _, _ = to_qiskit(template, measure=True)
    assert circuit.count_ops()["measure"] == 4 and circuit.num_clbits == 4
    assert circuit.count_ops()["h"] == 4 and circuit.count_ops()["cz"] == 8


def test_bind_values_refuses_bad_rows_and_foreign_parameters() -> None:
    template = CircuitTemplate(2, 1)
    circuit, _, _ = to_qiskit(template)
    with pytest.raises(ParameterError, match="2 inputs and 2 weights, got 3 and 2"):
        bind_values(template, circuit, [0.0, 0.0, 0.0], [0.0, 0.0])
    circuit.rz(Parameter("theta"), 0)
    with pytest.raises(ParameterError, match="theta"):
        bind_values(template, circuit, [0.0, 0.0], [0.0, 0.0])
