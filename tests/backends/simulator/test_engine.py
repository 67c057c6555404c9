"""The torch simulator against PennyLane default.qubit: values and gradients, all code paths."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

import qorch.backends.simulator.fused as fused
import qorch.backends.simulator.kernels as kernels
from qorch.backends.circuits.readout import outputs_from_probs
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ParameterError
from qorch.backends.simulator.engine import (
    outputs_from_probabilities,
    probabilities,
    sample_counts,
    sample_expectations,
    simulate,
)
from tests.backends.cases import COMBO_IDS, COMBOS, random_parameters, random_template
from tests.backends.references import pennylane_outputs

TOL = 1e-5
CircuitFn = Callable[[CircuitTemplate, torch.Tensor, torch.Tensor], torch.Tensor]


def _values_and_grads(
    fn: CircuitFn, template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor, probe: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    out = fn(template, x, w)
    (out * probe).sum().backward()
    assert x.grad is not None and w.grad is not None
    return out.detach(), x.grad, w.grad


def _compare_with_pennylane(template: CircuitTemplate, per_row: bool, seed: int) -> None:
    x, w = random_parameters(template, 3, per_row, seed)
    probe = torch.randn(
        3, template.n_outputs, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    ours = _values_and_grads(simulate, template, x, w, probe)
    ref = _values_and_grads(pennylane_outputs, template, x, w, probe)
    for name, a, b in zip(("values", "input grads", "weight grads"), ours, ref, strict=True):
        assert a.shape == b.shape, name
        assert torch.allclose(a, b, atol=TOL, rtol=0), (name, (a - b).abs().max().item())


@pytest.mark.parametrize("combo", COMBOS, ids=COMBO_IDS)
def test_matches_pennylane_values_and_gradients(combo: tuple[str, str, str]) -> None:
    index = COMBOS.index(combo)
    template = random_template(index, *combo)
    _compare_with_pennylane(template, per_row=False, seed=index)
    _compare_with_pennylane(template, per_row=True, seed=1000 + index)


@pytest.mark.parametrize(
    "template",
    [
        CircuitTemplate(5, 2, "angle-ry", "ry", "cnot-ring", ("z", "zz")),
        CircuitTemplate(6, 3, "angle-rx", "rot", "cnot-chain", ("zz", "probs")),
        CircuitTemplate(5, 3, "reupload-rx", "rot", "cz-ring", ("z", "probs")),
        CircuitTemplate(6, 3, "reupload-ry", "ryrz", "cnot-chain", ("zz", "z")),
        CircuitTemplate(7, 2, "reupload-rx", "ryrz", "cz-ring", ("z",)),
        CircuitTemplate(9, 2, "reupload-ry", "ry", "cnot-ring", ("z", "zz")),
        CircuitTemplate(8, 2, "angle-rz", "rz", "cz-ring", ("probs", "z")),
    ],
    ids=lambda t: f"{t.n_qubits}q-{t.encoding}-{t.rotations}-{t.entangler}",
)
def test_wide_circuits_match_pennylane(template: CircuitTemplate) -> None:
    """Wider circuits: dense up to 5-6 qubits, then block by block."""
    _compare_with_pennylane(template, per_row=False, seed=7)
    _compare_with_pennylane(template, per_row=True, seed=8)


@pytest.mark.parametrize("combo", COMBOS[::3], ids=COMBO_IDS[::3])
def test_block_path_matches_dense_path(
    combo: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    template = CircuitTemplate(4, 3, *combo, observables=("z", "zz", "probs"))
    x, w = random_parameters(template, 4, per_row=False, seed=3)
    probe = torch.randn(4, template.n_outputs, dtype=torch.float64)
    for per_row in (False, True):
        weights = w.expand(4, -1) if per_row else w
        # The fused node would take the shared case; these are the kernels' own paths.
        monkeypatch.setattr(fused, "FUSED_MAX", 0)
        dense = _values_and_grads(simulate, template, x, weights, probe)
        monkeypatch.setattr(kernels, "DENSE_SHARED_MAX", 0)
        monkeypatch.setattr(kernels, "DENSE_PER_ROW_MAX", 0)
        monkeypatch.setattr(kernels, "REUPLOAD_DENSE_MAX", 0)
        for size in (1, 2, 3):
            for name in ("BLOCK_SHARED", "BLOCK_PER_ROW_REAL", "BLOCK_PER_ROW_COMPLEX"):
                monkeypatch.setattr(kernels, name, size)
            blocked = _values_and_grads(simulate, template, x, weights, probe)
            for a, b in zip(dense, blocked, strict=True):
                assert torch.allclose(a, b, atol=1e-10, rtol=0)
        monkeypatch.undo()


@pytest.mark.parametrize(
    "template",
    [
        CircuitTemplate(4, 3, "reupload-ry", "ry", "cnot-ring", ("z", "probs")),
        CircuitTemplate(3, 2, "angle-rz", "ryrz", "cz-ring", ("zz", "z")),
    ],
    ids=["reupload", "angle"],
)
def test_blas_and_elementwise_matmuls_agree(
    template: CircuitTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, w = random_parameters(template, 6, per_row=False, seed=12)
    probe = torch.randn(6, template.n_outputs, dtype=torch.float64)
    monkeypatch.setattr(fused, "FUSED_MAX", 0)  # the kernels' matmul, not the fused node's
    elementwise = _values_and_grads(simulate, template, x, w, probe)
    monkeypatch.setattr(kernels, "SMALL_MATMUL", 0)
    blas = _values_and_grads(simulate, template, x, w, probe)
    for a, b in zip(elementwise, blas, strict=True):
        assert torch.allclose(a, b, atol=1e-12)


def test_shared_and_per_row_weights_agree() -> None:
    template = CircuitTemplate(3, 2, "angle-rx", "rot", "cnot-ring", ("z", "probs"))
    x, w = random_parameters(template, 5, per_row=False, seed=11)
    probe = torch.randn(5, template.n_outputs, dtype=torch.float64)
    shared = _values_and_grads(simulate, template, x, w, probe)
    per_row = _values_and_grads(simulate, template, x, w.expand(5, -1), probe)
    shaped = _values_and_grads(simulate, template, x, w.reshape(template.weight_shape), probe)
    assert torch.allclose(shared[0], per_row[0], atol=1e-12)
    assert torch.allclose(shared[1], per_row[1], atol=1e-12)
    assert torch.allclose(shared[2], per_row[2].sum(0), atol=1e-12)
    assert torch.allclose(shared[2], shaped[2].reshape(-1), atol=1e-12)


@pytest.mark.parametrize(
    "template",
    [
        CircuitTemplate(4, 2, "angle-ry", "ry", "cnot-ring", ("z", "zz")),
        CircuitTemplate(6, 2, "reupload-rx", "rot", "cz-ring", ("z", "probs")),
    ],
    ids=["real", "complex"],
)
def test_float32_follows_the_inputs(template: CircuitTemplate) -> None:
    x, w = random_parameters(template, 8, per_row=False, seed=5)
    probe = torch.randn(8, template.n_outputs, dtype=torch.float64)
    exact = _values_and_grads(simulate, template, x, w, probe)
    single = _values_and_grads(simulate, template, x.float(), w, probe.float())
    assert single[0].dtype == torch.float32 and single[1].dtype == torch.float32
    assert single[2].dtype == torch.float64  # gradients come back in the leaf's own dtype
    for a, b in zip(exact, single, strict=True):
        assert torch.allclose(a, b.double(), atol=1e-4, rtol=0)


def test_probabilities_are_normalised_and_match_the_probs_observable() -> None:
    template = CircuitTemplate(5, 3, "angle-rz", "ryrz", "cnot-ring", ("probs", "z", "zz"))
    x, w = random_parameters(template, 6, per_row=True, seed=2)
    probs = probabilities(template, x, w)
    assert torch.allclose(probs.sum(1), torch.ones(6, dtype=torch.float64))
    out = simulate(template, x, w)
    assert torch.allclose(out[:, :32], probs, atol=1e-12)
    assert torch.allclose(outputs_from_probabilities(template, probs), out, atol=1e-12)
    assert torch.allclose(torch.from_numpy(outputs_from_probs(template, probs.numpy())), out)


def test_bit_order_is_qubit_zero_first() -> None:
    # RX(pi) flips qubit 0 only; CZs add phases and leave |100> in place.
    template = CircuitTemplate(3, 1, "angle-rx", "ry", "cz-ring", ("z", "zz", "probs"))
    out = simulate(template, torch.tensor([[math.pi, 0.0, 0.0]]), torch.zeros(3))
    z_zz = [-1.0, 1, 1, -1, 1]
    expected = torch.tensor([*z_zz, 0, 0, 0, 0, 1, 0, 0, 0])  # probs: one-hot at 0b100
    assert torch.allclose(out, expected[None], atol=1e-6)


def test_sampled_expectations_are_within_five_standard_errors() -> None:
    template = CircuitTemplate(3, 2, "reupload-rx", "rot", "cnot-ring", ("z", "zz", "probs"))
    x, w = random_parameters(template, 16, per_row=False, seed=9)
    shots = 4000
    exact = simulate(template, x, w)
    sampled = sample_expectations(template, x, w, shots, torch.Generator().manual_seed(1))
    zs = exact[:, : 3 + 2]
    probs = exact[:, 5:]
    stderr = torch.cat([((1 - zs**2) / shots).sqrt(), (probs * (1 - probs) / shots).sqrt()], 1)
    assert ((sampled - exact).abs() <= 5 * stderr + 1e-9).all()
    assert not torch.allclose(sampled, exact)
    again = sample_expectations(template, x, w, shots, torch.Generator().manual_seed(1))
    assert torch.equal(sampled, again)


def test_sampled_expectations_carry_the_exact_gradients() -> None:
    template = CircuitTemplate(3, 2, "angle-ry", "ryrz", "cz-ring", ("z",))
    x, w = random_parameters(template, 4, per_row=False, seed=4)
    probe = torch.randn(4, template.n_outputs, dtype=torch.float64)

    def sampled(t: CircuitTemplate, xs: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
        return sample_expectations(t, xs, ws, 100, torch.Generator().manual_seed(0))

    exact = _values_and_grads(simulate, template, x, w, probe)
    noisy = _values_and_grads(sampled, template, x, w, probe)
    assert torch.allclose(exact[1], noisy[1], atol=1e-12)
    assert torch.allclose(exact[2], noisy[2], atol=1e-12)


def test_sample_counts_are_whole_and_sum_to_shots() -> None:
    probs = torch.tensor([[0.5, 0.0, 0.25, 0.25], [0.0, 0.0, 0.0, 1.0]])
    counts = sample_counts(probs, 1001, torch.Generator().manual_seed(3))
    assert torch.equal(counts.sum(1), torch.tensor([1001.0, 1001.0], dtype=torch.float64))
    assert torch.equal(counts, counts.round()) and counts[0, 1] == 0 and counts[1, 3] == 1001
    with pytest.raises(ParameterError, match="shots must be a positive integer, got 0"):
        sample_counts(probs, 0)


@pytest.mark.parametrize(
    ("inputs", "weights", "match"),
    [
        (torch.zeros(2, 3), torch.zeros(8), r"inputs must have shape \[R, 4\], got \[2, 3\]"),
        (torch.zeros(4), torch.zeros(8), r"inputs must have shape \[R, 4\], got \[4\]"),
        (torch.zeros(2, 4), torch.zeros(7), r"weights must have shape \[8\].*got \[7\]"),
        (torch.zeros(2, 4), torch.zeros(3, 8), r"\[R=2, 8\], got \[3, 8\]"),
        (torch.zeros(2, 4, dtype=torch.float16), torch.zeros(8), "float32 or float64"),
    ],
)
def test_bad_parameters_are_refused(
    inputs: torch.Tensor, weights: torch.Tensor, match: str
) -> None:
    with pytest.raises(ParameterError, match=match):
        simulate(CircuitTemplate(4, 2), inputs, weights)


def test_empty_batch() -> None:
    template = CircuitTemplate(3, 2, observables=("z", "probs"))
    assert simulate(template, torch.zeros(0, 3), torch.zeros(6)).shape == (0, 11)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_matches_cpu() -> None:
    template = CircuitTemplate(9, 3, "reupload-rx", "rot", "cnot-ring", ("z", "zz", "probs"))
    x, w = random_parameters(template, 8, per_row=False, seed=6)
    probe = torch.randn(8, template.n_outputs, dtype=torch.float64)
    cpu = _values_and_grads(simulate, template, x, w, probe)
    gpu = _values_and_grads(simulate, template, x.cuda(), w.cuda(), probe.cuda())
    for a, b in zip(cpu, gpu, strict=True):
        assert torch.allclose(a, b.cpu(), atol=1e-10)
    sampled = sample_expectations(template, x.cuda(), w.cuda(), 100, torch.Generator("cuda"))
    assert sampled.device.type == "cuda"
