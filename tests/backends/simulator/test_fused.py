"""The fused dense node and the blocked node against the layer-by-layer engine, PennyLane and
qiskit, to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit.quantum_info import Statevector

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.qiskit.compile import to_qiskit
from qorch.backends.simulator import blocked, engine, fused
from tests.backends.cases import COMBO_IDS, COMBOS, random_parameters, random_template
from tests.backends.qiskit.references import bind_values, outputs_from_statevector
from tests.backends.references import pennylane_outputs

TOL = 1e-10
CLAIMED = [c for c in COMBOS if fused.claims(random_template(0, *c), shared=True)]
CLAIMED_IDS = [COMBO_IDS[COMBOS.index(c)] for c in CLAIMED]
WIDTHS = (1, 2, 3, 4, 5, 6)
BLOCKED_WIDTHS = (7, 8)


def _values_and_grads(
    template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor, probe: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    out = engine.simulate(template, x, w)
    (out * probe).sum().backward()
    assert x.grad is not None and w.grad is not None
    return out.detach(), x.grad, w.grad


def _layered(
    template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor, probe: torch.Tensor,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The same through the layer-by-layer engine, the fused and blocked nodes switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(fused, "FUSED_MAX", 0)
        patch.setattr(blocked, "BLOCKED_MAX", 0)
        return _values_and_grads(template, x, w, probe)


def test_the_fused_node_claims_shared_narrow_angle_encodings_only() -> None:
    assert CLAIMED and all(c[0].startswith("angle") for c in CLAIMED)
    template = CircuitTemplate(4, 2, "angle-ry", "ry", "cnot-ring", ("z",))
    assert fused.claims(template, shared=True) and not fused.claims(template, shared=False)
    assert not fused.claims(CircuitTemplate(4, 2, "reupload-ry"), shared=True)
    assert not fused.claims(CircuitTemplate(fused.FUSED_MAX + 1, 2), shared=True)
    x, w = random_parameters(template, 3, per_row=False, seed=0)
    out = engine.simulate(template, x, w.requires_grad_(True))
    assert type(out.grad_fn).__name__ == "FusedCircuitBackward"


def test_the_blocked_node_claims_the_widths_past_the_fused_one() -> None:
    widths = [n for n in range(1, 12) if blocked.claims(CircuitTemplate(n, 2), shared=True)]
    assert widths == list(range(fused.FUSED_MAX + 1, blocked.BLOCKED_MAX + 1))
    template = CircuitTemplate(blocked.BLOCKED_MAX, 2, "angle-rx", "ryrz", "cz-ring")
    assert not blocked.claims(template, shared=False)
    x, w = random_parameters(template, 3, per_row=False, seed=0)
    out = engine.simulate(template, x, w.requires_grad_(True))
    assert type(out.grad_fn).__name__ == "BlockedCircuitBackward"


@pytest.mark.parametrize("widths", [WIDTHS, BLOCKED_WIDTHS], ids=["fused", "blocked"])
@pytest.mark.parametrize("combo", CLAIMED, ids=CLAIMED_IDS)
def test_matches_the_layered_engine_and_pennylane(
    combo: tuple[str, str, str], widths: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = COMBOS.index(combo)
    template = random_template(index, *combo, widths=widths)
    x, w = random_parameters(template, 5, per_row=False, seed=index)
    probe = torch.randn(5, template.n_outputs, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(index))
    ours = _values_and_grads(template, x, w, probe)
    layered = _layered(template, x, w, probe, monkeypatch)
    xs, ws = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    reference = pennylane_outputs(template, xs, ws)
    (reference * probe).sum().backward()
    assert xs.grad is not None and ws.grad is not None
    for other in (layered, (reference.detach(), xs.grad, ws.grad)):
        for name, a, b in zip(("values", "input grads", "weight grads"), ours, other,
                              strict=True):
            assert torch.allclose(a, b, atol=TOL, rtol=0), (name, (a - b).abs().max().item())


def _qiskit(template: CircuitTemplate, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    circuit, _, _ = to_qiskit(template)
    state = Statevector(circuit.assign_parameters(bind_values(template, circuit, x, w)))
    return outputs_from_statevector(template, state)


@pytest.mark.parametrize("combo", CLAIMED[::4], ids=CLAIMED_IDS[::4])
def test_matches_qiskit_with_parameter_shift_gradients(combo: tuple[str, str, str]) -> None:
    """Every angle drives one rotation, so the parameter-shift rule is exact for qiskit."""
    index = COMBOS.index(combo)
    template = random_template(index, *combo, widths=(3, 4, 2))
    x, w = random_parameters(template, 1, per_row=False, seed=index)
    probe = np.random.default_rng(index).normal(size=template.n_outputs)
    out, grad_x, grad_w = _values_and_grads(template, x, w, torch.from_numpy(probe)[None])
    flat = np.concatenate([x[0].numpy(), w.numpy()])
    n_in = template.n_inputs
    assert np.allclose(out[0].numpy(), _qiskit(template, flat[:n_in], flat[n_in:]), atol=TOL)
    shifted = []
    for i in range(flat.size):
        values = []
        for sign in (1, -1):
            moved = flat.copy()
            moved[i] += sign * np.pi / 2
            values.append(probe @ _qiskit(template, moved[:n_in], moved[n_in:]))
        shifted.append((values[0] - values[1]) / 2)
    ours = np.concatenate([grad_x[0].numpy(), grad_w.numpy()])
    assert np.allclose(ours, shifted, atol=TOL, rtol=0)


@pytest.mark.parametrize(
    "template",
    [
        CircuitTemplate(3, 2, "angle-ry", "ry", "cnot-ring", ("z", "zz")),
        CircuitTemplate(3, 3, "angle-rx", "rot", "cz-ring", ("z", "probs")),
        CircuitTemplate(2, 2, "angle-rz", "ryrz", "cnot-chain", ("probs",)),
        CircuitTemplate(7, 2, "angle-ry", "ry", "cnot-ring", ("z", "zz")),
        CircuitTemplate(7, 1, "angle-rx", "rot", "cz-ring", ("z",)),
        CircuitTemplate(8, 2, "angle-rz", "ryrz", "cnot-chain", ("zz",)),
    ],
    ids=["real", "complex-cz", "rz-chain", "blocked-real", "blocked-one-layer", "blocked-rz"],
)
def test_gradcheck(template: CircuitTemplate) -> None:
    x, w = random_parameters(template, 2, per_row=False, seed=4)
    assert fused.claims(template, True) or blocked.claims(template, True)
    assert torch.autograd.gradcheck(
        lambda a, b: engine.simulate(template, a, b),
        (x.requires_grad_(True), w.requires_grad_(True)),
    )


@pytest.mark.parametrize(
    "template",
    [
        CircuitTemplate(4, 2, "angle-ry", "ry", "cnot-ring", ("z", "zz")),
        CircuitTemplate(5, 3, "angle-rx", "rot", "cz-ring", ("z", "probs")),
        CircuitTemplate(8, 3, "angle-ry", "ryrz", "cnot-ring", ("z",)),
    ],
    ids=["real", "complex", "blocked"],
)
def test_float32_follows_the_inputs(template: CircuitTemplate) -> None:
    x, w = random_parameters(template, 8, per_row=False, seed=5)
    probe = torch.randn(8, template.n_outputs, dtype=torch.float64)
    exact = _values_and_grads(template, x, w, probe)
    single = _values_and_grads(template, x.float(), w.float(), probe.float())
    for a, b in zip(exact, single, strict=True):
        assert b.dtype == torch.float32
        assert torch.allclose(a, b.double(), atol=1e-4, rtol=0)


@pytest.mark.parametrize("n_qubits", [3, 7], ids=["fused", "blocked"])
def test_gradients_only_where_asked(n_qubits: int, monkeypatch: pytest.MonkeyPatch) -> None:
    template = CircuitTemplate(n_qubits, 2, "angle-rx", "ryrz", "cnot-ring", ("z",))
    x, w = random_parameters(template, 4, per_row=False, seed=6)
    probe = torch.randn(4, template.n_outputs, dtype=torch.float64)
    ws = w.clone().requires_grad_(True)
    (engine.simulate(template, x, ws) * probe).sum().backward()
    layered = _layered(template, x, w, probe, monkeypatch)
    assert x.grad is None and ws.grad is not None
    assert torch.allclose(ws.grad, layered[2], atol=TOL, rtol=0)


def test_a_double_backward_is_refused() -> None:
    """The hand-written backward is not itself differentiable in x: asking is an error, not
    a silently wrong second derivative."""
    template = CircuitTemplate(2, 1)
    x, w = random_parameters(template, 2, per_row=False, seed=7)
    x.requires_grad_(True)
    out = fused.simulate(template, x, w)
    probe = torch.ones_like(out, requires_grad=True)
    (grad,) = torch.autograd.grad(out, x, probe, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        grad.sum().backward()
