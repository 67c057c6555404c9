"""Parameter-shift and SPSA rows against autograd through the exact simulator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.simulator.engine import simulate
from qorch.jobs.quantum.gradients import fold, parameter_shift_plan, rows_per_sample, spsa_plan
from qorch.jobs.quantum.layer import QuantumLayer
from qorch.jobs.quantum.runners import ShotEvaluation, ShotRunner


def exact_outputs(batch: CircuitBatch) -> np.ndarray:
    inputs = torch.from_numpy(batch.inputs.copy())
    weights = torch.from_numpy(batch.weights.copy())
    return simulate(batch.template, inputs, weights).numpy()


class ExactContext:
    """Executes batches on the exact simulator and records what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str, int]] = []

    def execute(self, batch: CircuitBatch, step: int, purpose: str, index: int) -> np.ndarray:
        self.sent.append((batch.n_circuits, step, purpose, index))
        return exact_outputs(batch)


TEMPLATES = [
    CircuitTemplate(3, 2, "angle-ry", "ryrz", "cnot-ring", ("z", "zz")),
    CircuitTemplate(3, 3, "reupload-rx", "rot", "cz-ring", ("z", "probs")),
    CircuitTemplate(2, 2, "angle-rz", "ry", "cnot-chain", ("probs",)),
]


def autograd_jacobian(template: CircuitTemplate, params: np.ndarray) -> np.ndarray:
    rows = []
    for row in params:
        def f(p: torch.Tensor, t: CircuitTemplate = template) -> torch.Tensor:
            return simulate(t, p[None, : t.n_inputs], p[t.n_inputs :])[0]
        rows.append(torch.autograd.functional.jacobian(f, torch.from_numpy(row)).numpy())
    return np.stack(rows)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.encoding)
def test_parameter_shift_equals_autograd(template: CircuitTemplate) -> None:
    rng = np.random.default_rng(0)
    params = rng.uniform(-np.pi, np.pi, size=(4, template.n_inputs + template.n_weights))
    plan = parameter_shift_plan(template, params)
    assert plan.rows.shape[0] == 4 * rows_per_sample(template, "parameter-shift")
    values, jacobian = fold(plan, exact_outputs(CircuitBatch(template, plan.rows, None)))
    np.testing.assert_allclose(values, exact_outputs(CircuitBatch(template, params, None)),
                               atol=1e-10)
    np.testing.assert_allclose(jacobian, autograd_jacobian(template, params), atol=1e-8)


def test_row_count_is_the_issue_formula_for_angle_encodings() -> None:
    template = TEMPLATES[0]
    assert rows_per_sample(template, "parameter-shift") == 1 + 2 * (
        template.n_inputs + template.n_weights)
    reupload = TEMPLATES[1]  # inputs drive 3 gates each: 2·3 shifts per input
    assert rows_per_sample(reupload, "parameter-shift") == 1 + 2 * 3 * reupload.n_inputs + 2 * (
        reupload.n_weights)


def test_spsa_is_unbiased_on_average() -> None:
    template = TEMPLATES[0]
    rng = np.random.default_rng(1)
    params = rng.uniform(-1, 1, size=(1, template.n_inputs + template.n_weights))
    plan = spsa_plan(np.repeat(params, 4000, axis=0), 1, rng)
    assert plan.per_sample == 3
    _, jacobian = fold(plan, exact_outputs(CircuitBatch(template, plan.rows, None)))
    estimate = jacobian.mean(axis=0)
    exact = autograd_jacobian(template, params)[0]
    assert np.abs(estimate - exact).max() < 0.12
    assert np.corrcoef(estimate.ravel(), exact.ravel())[0, 1] > 0.95


@pytest.mark.parametrize("gradient", ["parameter-shift", "spsa"])
def test_shot_evaluation_sends_one_batch_per_step(gradient: str) -> None:
    template = TEMPLATES[0]
    ctx = ExactContext()
    remote = ShotRunner(ctx, shots=100, gradient=gradient)  # type: ignore[arg-type]
    remote.at(7, "train")
    inputs = torch.rand(5, template.n_inputs, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(template.n_weights, dtype=torch.float64, requires_grad=True)
    out = ShotEvaluation.apply(inputs, weights, template, remote, True)
    out.sum().backward()
    assert len(ctx.sent) == 1
    assert ctx.sent[0] == (5 * rows_per_sample(template, gradient), 7, "train", 0)
    if gradient == "parameter-shift":
        x, w = inputs.detach().requires_grad_(), weights.detach().requires_grad_()
        simulate(template, x, w).sum().backward()
        assert x.grad is not None and w.grad is not None and inputs.grad is not None
        torch.testing.assert_close(inputs.grad, x.grad)
        torch.testing.assert_close(weights.grad, w.grad)


def test_no_gradient_rows_in_evaluation() -> None:
    template = TEMPLATES[0]
    ctx = ExactContext()
    remote = ShotRunner(ctx, shots=100)  # type: ignore[arg-type]
    layer = QuantumLayer(template, runner=remote)
    with torch.no_grad():
        layer(torch.rand(6, 3))
    assert ctx.sent[0][0] == 6
    layer(torch.rand(6, 3)).sum().backward()
    assert ctx.sent[1][0] == 6 * rows_per_sample(template, "parameter-shift")


class BackendContext:
    """Executes batches on a real shot backend (through its contract) and records sizes."""

    def __init__(self, name: str, shots: int) -> None:
        from qorch.backends.registry import resolve

        self.backend = resolve(name, seed=11)
        self.sent: list[int] = []

    def execute(self, batch: CircuitBatch, step: int, purpose: str, index: int) -> np.ndarray:
        self.sent.append(batch.n_circuits)
        return self.backend.run_batch(batch).result()


@pytest.mark.parametrize("name", ["aer", "braket_sv"])
def test_shot_gradients_match_exact_within_shot_noise(name: str) -> None:
    template = CircuitTemplate(2, 1, "angle-ry", "ryrz", "cnot-ring", ("z",))
    shots = 20_000
    ctx = BackendContext(name, shots)
    remote = ShotRunner(ctx, shots=shots)  # type: ignore[arg-type]
    rng = np.random.default_rng(5)
    inputs = torch.tensor(rng.uniform(0, np.pi, (3, 2)), requires_grad=True)
    weights = torch.tensor(rng.uniform(-1, 1, template.n_weights), requires_grad=True)
    ShotEvaluation.apply(inputs, weights, template, remote, True).sum().backward()
    x, w = inputs.detach().requires_grad_(), weights.detach().requires_grad_()
    simulate(template, x, w).sum().backward()
    assert ctx.sent == [3 * (1 + 2 * (2 + 4))]
    # Each derivative is ½·(f₊ − f₋) summed over ≤ 2 outputs: standard error ≤ √(2·2/4/shots)
    bound = 5 * np.sqrt(1.0 / shots) * 3  # weight gradients sum three samples
    assert inputs.grad is not None and weights.grad is not None
    assert x.grad is not None and w.grad is not None
    assert torch.abs(inputs.grad - x.grad).max() < bound
    assert torch.abs(weights.grad - w.grad).max() < bound
