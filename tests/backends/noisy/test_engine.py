"""The noisy engine's gradients, shots, precision and limits, through the backends that use it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.errors import CapabilityError
from qorch.backends.ibm.fake import FakeDeviceBackend
from qorch.backends.registry import resolve
from tests.backends.shots import rows, standard_errors

HYBRID4 = CircuitTemplate(4, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz"))
RING3 = CircuitTemplate(3, 1, "angle-rz", "rot", "cnot-ring", ("z", "probs"))


@pytest.fixture(scope="module")
def brisbane() -> FakeDeviceBackend:
    return FakeDeviceBackend("fake_brisbane", seed=3)


def exact(backend: FakeDeviceBackend, template: CircuitTemplate, params: np.ndarray) -> np.ndarray:
    return backend._torch.simulate(template, params, None, 0)


@pytest.mark.parametrize("template", (HYBRID4, RING3), ids=("hybrid4", "ring3"))
def test_autograd_through_the_noise_equals_parameter_shift(brisbane: FakeDeviceBackend,
                                                           template: CircuitTemplate) -> None:
    """Every angle drives one noiseless rz of the ISA circuit and the noise does not depend on
    it, so the two-term shift rule is exact for the noisy outputs too."""
    params = rows(template, 2, seed=5)
    params[1, template.n_inputs :] = params[0, template.n_inputs :]  # weights shared
    x = torch.tensor(params[:, : template.n_inputs], requires_grad=True)
    w = torch.tensor(params[0, template.n_inputs :], requires_grad=True)
    out = brisbane.evaluate(template, x, w, None, None)
    probe = torch.from_numpy(np.random.default_rng(1).normal(size=out.shape))
    (out * probe).sum().backward()
    assert x.grad is not None and w.grad is not None
    np.testing.assert_allclose(out.detach().numpy(), exact(brisbane, template, params),
                               atol=1e-12)
    width = params.shape[1]
    shift = np.pi / 2 * np.eye(width)
    grad = np.zeros((2, width))
    for p in range(width):
        up = exact(brisbane, template, params + shift[p])
        down = exact(brisbane, template, params - shift[p])
        grad[:, p] = ((up - down) / 2 * probe.numpy()).sum(axis=1)
    np.testing.assert_allclose(x.grad.numpy(), grad[:, : template.n_inputs], atol=1e-9)
    np.testing.assert_allclose(w.grad.numpy(), grad[:, template.n_inputs :].sum(0), atol=1e-9)


def test_shots_in_the_forward_pass_keep_the_exact_gradient(brisbane: FakeDeviceBackend) -> None:
    params = rows(HYBRID4, 16, seed=2)
    x = torch.tensor(params[:, :4], requires_grad=True)
    w = torch.tensor(params[0, 4:], requires_grad=True)
    grads = []
    values = []
    for shots, seed in ((None, 0), (500, 9), (500, 9), (500, 10)):
        generator = torch.Generator().manual_seed(seed) if shots else None
        out = brisbane.evaluate(HYBRID4, x, w, shots, generator)
        values.append(out.detach().numpy())
        grad = torch.autograd.grad(out.sum(), (x, w))
        grads.append(np.concatenate([g.numpy().ravel() for g in grad]))
    exact_values, first, again, other = values
    np.testing.assert_array_equal(first, again)  # seeded draw
    assert not np.array_equal(first, other)
    assert np.abs(first - exact_values).max() > 1e-3  # really sampled
    z = np.abs(first - exact_values) / standard_errors(HYBRID4, exact_values, 500)
    assert z.max() < 5
    for g in grads[1:]:
        np.testing.assert_allclose(g, grads[0], atol=1e-12)


def test_single_precision_inputs_run_in_single_precision(brisbane: FakeDeviceBackend) -> None:
    params = rows(HYBRID4, 5, seed=4)
    x32 = torch.tensor(params[:, :4], dtype=torch.float32)
    w32 = torch.tensor(params[0, 4:], dtype=torch.float32)
    out = brisbane.evaluate(HYBRID4, x32, w32, None, None)
    assert out.dtype == torch.float32
    shared = params.copy()
    shared[:, 4:] = np.float32(params[0, 4:])
    shared[:, :4] = np.float32(params[:, :4])
    np.testing.assert_allclose(out.numpy(), exact(brisbane, HYBRID4, shared), atol=1e-5)


def test_engine_and_aer_sample_the_same_distribution() -> None:
    """Shots from the engine's exact probabilities against Aer's own sampling (its readout
    errors applied per shot) on the same device and rows."""
    template = CircuitTemplate(3, 2, "angle-ry", "ry", "cnot-ring", ("z", "zz", "probs"))
    b = CircuitBatch(template, rows(template, 6, seed=8), 8000, seed=21)
    ours = resolve("fake_brisbane", engine="torch").run_batch(b).result(timeout=120)
    theirs = resolve("fake_brisbane", engine="aer").run_batch(b).result(timeout=120)
    se = np.sqrt(2) * standard_errors(template, (ours + theirs) / 2, 8000)
    assert (np.abs(ours - theirs) / se).max() < 5


def test_circuits_wider_than_the_engine_run_on_aer_and_are_not_differentiated() -> None:
    backend = FakeDeviceBackend("fake_brisbane", seed=1)
    wide = CircuitTemplate(11, 1, "angle-ry", "ry", "cnot-chain", ("z",))
    assert not backend.on_engine(wide) and backend.on_engine(HYBRID4)
    out = backend.run_batch(CircuitBatch(wide, rows(wide, 2, seed=1), 64)).result(timeout=300)
    assert out.shape == (2, 11) and np.all(np.abs(out) <= 1)
    with pytest.raises(CapabilityError, match="torch engine takes up to 10"):
        backend.evaluate(wide, torch.zeros(1, 11), torch.zeros(11), None, None)


def test_the_aer_engine_is_selectable_and_not_differentiable() -> None:
    aer = resolve("fake_brisbane", engine="aer")
    assert not aer.capabilities.differentiable
    assert resolve("fake_brisbane").capabilities.differentiable
    assert resolve("aer", noise="depol1=0.01").capabilities.differentiable
    assert not resolve("aer").capabilities.differentiable  # noiseless: Aer's sampler as before
    with pytest.raises(CapabilityError, match="no --engine choice"):
        resolve("statevector", engine="aer")
    with pytest.raises(CapabilityError, match="unknown engine"):
        resolve("fake_brisbane", engine="gpu")


def test_autograd_that_would_not_fit_in_memory_is_refused_before_it_runs() -> None:
    wide = CircuitTemplate(10, 6, "angle-ry", "ry", "cnot-ring", ("z",))
    backend = resolve("aer", noise="depol2=0.01")
    x = torch.zeros(512, 10, dtype=torch.float64, requires_grad=True)
    with pytest.raises(CapabilityError, match="GiB of states for 512 rows"):
        backend.evaluate(wide, x, torch.zeros(wide.n_weights, dtype=torch.float64), None, None)
