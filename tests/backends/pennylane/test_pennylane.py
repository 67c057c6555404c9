"""`pennylane:<device>`: exact agreement with the in-house simulator, noise channels equal to
Aer's density matrices, gradients, device probing and its one-line refusals."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.errors import BackendError, CapabilityError, DeviceUnavailableError
from qorch.backends.noise import parse_noise
from qorch.backends.pennylane.adapter import PennyLaneBackend
from qorch.backends.pennylane.devices import (
    PENNYLANE_LOCK,
    installed_devices,
    usable_devices,
)
from qorch.backends.registry import describe_all, resolve
from qorch.backends.simulator.engine import simulate
from tests.backends.cases import COMBO_IDS, COMBOS, random_parameters, random_template
from tests.backends.shots import TEMPLATES, batch, exact, rows

PURE = ("default.qubit", "lightning.qubit", "default.mixed")
NOISE = "depol1=0.02,depol2=0.05,amp=0.03,phase=0.04,t1=50e-6,t2=70e-6,gate_time=1e-6"


@pytest.mark.parametrize("device", PURE)
@pytest.mark.parametrize(("index", "combo"), list(enumerate(COMBOS))[::4],
                         ids=COMBO_IDS[::4])
def test_exact_outputs_equal_the_statevector_simulator(
    device: str, index: int, combo: tuple[str, str, str]
) -> None:
    template = random_template(index, *combo)
    b = CircuitBatch(template, rows(template, 5, seed=index), None)
    out = resolve(f"pennylane:{device}").run_batch(b).result(timeout=120)
    np.testing.assert_allclose(out, exact(b), atol=1e-10)


def test_tapes_are_split_by_width_and_rows_keep_their_order() -> None:
    """14 qubits: 256 rows per tape, so 300 rows take two tapes; shared weights take the
    scalar-weight path."""
    template = CircuitTemplate(14, 1, "angle-ry", "ry", "cnot-chain", ("z", "zz"))
    params = rows(template, 300, seed=4)
    params[:, template.n_inputs :] = params[0, template.n_inputs :]
    b = CircuitBatch(template, params, None)
    out = resolve("pennylane:default.qubit").run_batch(b).result(timeout=300)
    np.testing.assert_allclose(out, exact(b), atol=1e-10)


def aer_probabilities(template: CircuitTemplate, params: np.ndarray, noise: str) -> np.ndarray:
    """Exact noisy probabilities from Aer's density-matrix simulator, qubit 0 as the MSB."""
    from qiskit_aer import AerSimulator

    from qorch.backends.circuits.decode import reverse_bits
    from qorch.backends.qiskit.compile import parameter_matrix, to_qiskit
    from qorch.backends.qiskit.noise import aer_noise_model

    simulator = AerSimulator(method="density_matrix", noise_model=aer_noise_model(
        parse_noise(noise)))
    circuit, _, _ = to_qiskit(template)
    circuit.save_probabilities()
    n = template.n_inputs
    values = parameter_matrix(template, circuit, params[:, :n], params[:, n:])
    order = reverse_bits(np.arange(2**template.n_qubits), template.n_qubits)
    out = []
    for row in values:
        bound = circuit.assign_parameters(dict(zip(circuit.parameters, row, strict=True)))
        out.append(np.asarray(simulator.run(bound).result().data()["probabilities"])[order])
    return np.stack(out)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.hash[:6])
def test_noise_channels_equal_aers_density_matrices(template: CircuitTemplate) -> None:
    """Depolarizing (1 and 2 qubits), damping and thermal relaxation, channel for channel."""
    params = rows(template, 3, seed=8)
    n = template.n_inputs
    backend = PennyLaneBackend("default.mixed", noise=parse_noise(NOISE))
    probs = np.asarray(backend.probabilities(template, params[:, :n], params[:, n:]))
    want = aer_probabilities(template, params, NOISE)
    np.testing.assert_allclose(probs, want, atol=1e-10)
    assert np.abs(probs - aer_probabilities(template, params, "none")).max() > 0.01


def test_readout_flips_each_measured_bit() -> None:
    template = TEMPLATES[0]
    params = rows(template, 4, seed=2)
    clean = exact(CircuitBatch(CircuitTemplate(3, 2, "angle-ry", "ry", "cnot-ring", ("probs",)),
                               params, None))
    q = 0.07
    flip = np.array([[1 - q, q], [q, 1 - q]])
    want = clean @ np.kron(np.kron(flip, flip), flip)
    b = CircuitBatch(template, params, None)
    out = resolve("pennylane:default.mixed", noise=f"readout={q}").run_batch(b).result()
    np.testing.assert_allclose(out[:, -8:], want, atol=1e-12)


def test_thermal_relaxation_decays_an_excited_qubit() -> None:
    """RY(pi) then RY(0): |1> relaxes for two gate times, <Z> = 1 - 2 exp(-2 t / T1)."""
    template = CircuitTemplate(1, 1, "angle-ry", "ry", "cnot-chain", ("z",))
    t1, gate = 40e-6, 2e-6
    backend = resolve("pennylane:default.mixed", noise=f"t1={t1},t2={t1},gate_time={gate}")
    out = backend.run_batch(CircuitBatch(template, np.array([[np.pi, 0.0]]), None)).result()
    assert out[0, 0] == pytest.approx(1 - 2 * np.exp(-2 * gate / t1), abs=1e-12)


@pytest.mark.parametrize("device", ["default.qubit", "default.mixed"])
@pytest.mark.parametrize("per_row", [False, True])
def test_evaluate_gradients_equal_the_statevector_simulators(device: str, per_row: bool) -> None:
    template = TEMPLATES[1]
    x, w = random_parameters(template, 4, per_row, seed=5)
    backend = resolve(f"pennylane:{device}")
    assert backend.capabilities.differentiable
    grads = []
    for mine in (True, False):
        xs, ws = x.clone().requires_grad_(), w.clone().requires_grad_()
        out = (backend.evaluate(template, xs, ws, None, None) if mine
               else simulate(template, xs, ws))
        (out * torch.linspace(-1, 1, out.shape[1], dtype=out.dtype)).sum().backward()
        assert xs.grad is not None and ws.grad is not None
        grads.append((out.detach(), xs.grad, ws.grad))
    for mine, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-10, rtol=0)


def test_noisy_gradients_equal_finite_differences() -> None:
    template = CircuitTemplate(2, 1, "angle-rx", "ryrz", "cz-ring", ("z", "zz"))
    backend = resolve("pennylane:default.mixed", noise=NOISE)
    x, w = random_parameters(template, 3, False, seed=6)
    ws = w.clone().requires_grad_()
    backend.evaluate(template, x, ws, None, None).sum().backward()
    assert ws.grad is not None
    h = 1e-6
    for j in range(template.n_weights):
        step = torch.zeros_like(w)
        step[j] = h
        up = backend.evaluate(template, x, w + step, None, None).sum()
        down = backend.evaluate(template, x, w - step, None, None).sum()
        assert float(ws.grad[j]) == pytest.approx(float(up - down) / (2 * h), abs=1e-6)


def test_sampled_evaluate_carries_exact_gradients_and_follows_its_generator() -> None:
    template = TEMPLATES[0]
    backend = resolve("pennylane:default.qubit")
    x, w = random_parameters(template, 6, False, seed=3, dtype=torch.float32)

    def run(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        ws = w.clone().requires_grad_()
        out = backend.evaluate(template, x, ws, 200, torch.Generator().manual_seed(seed))
        out.sum().backward()
        assert ws.grad is not None
        return out.detach(), ws.grad

    first, grad = run(1)
    assert first.dtype == torch.float32
    torch.testing.assert_close(run(1)[0], first, rtol=0, atol=0)
    assert not torch.equal(run(2)[0], first)
    exact_w = w.double().clone().requires_grad_()
    simulate(template, x.double(), exact_w).sum().backward()
    assert exact_w.grad is not None
    torch.testing.assert_close(grad.double(), exact_w.grad, atol=1e-5, rtol=0)
    probs = first[:, -8:].double() * 200
    assert torch.allclose(probs, probs.round(), atol=1e-3)  # frequencies of 200 shots


def test_lightning_is_exact_but_not_differentiable() -> None:
    caps = resolve("pennylane:lightning.qubit").capabilities
    assert caps.exact and caps.seeded and not caps.differentiable and not caps.supports_noise
    with pytest.raises(CapabilityError, match="not differentiable"):
        resolve("pennylane:lightning.qubit").evaluate(
            TEMPLATES[2], torch.zeros(1, 2), torch.zeros(4), None, None)


def test_concurrent_batches_each_get_their_own_results() -> None:
    """PennyLane's operator queue is shared by threads; runs from several threads stay apart."""
    backend = resolve("pennylane:default.qubit", seed=1)
    batches = [batch(TEMPLATES[i % 3], 40, None, seed=i) for i in range(6)]
    results: dict[int, np.ndarray] = {}

    def send(i: int) -> None:
        results[i] = backend.run_batch(batches[i]).result(timeout=120)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, b in enumerate(batches):
        np.testing.assert_allclose(results[i], exact(b), atol=1e-10)


def test_no_operator_is_recorded_into_another_threads_tape() -> None:
    """PennyLane records each new operator into whichever queue is open in the process (a
    device run opens one to decompose gates): building a tape waits for PENNYLANE_LOCK, held
    by every run, instead of leaking into it."""
    import pennylane as qml

    backend = resolve("pennylane:default.qubit")
    b = batch(TEMPLATES[2], 3, None)
    out: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: out.append(
        backend.simulate(b.template, b.params, None, 0)))
    with PENNYLANE_LOCK, qml.queuing.AnnotatedQueue() as queue:
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive() and not queue.queue
    worker.join(timeout=60)
    np.testing.assert_allclose(out[0], exact(b), atol=1e-10)


def test_unknown_device_is_one_line_listing_the_installed_ones() -> None:
    with pytest.raises(DeviceUnavailableError) as info:
        resolve("pennylane:default.qbit")
    text = str(info.value)
    assert "\n" not in text and "did you mean pennylane:default.qubit" in text
    assert all(name in text for name in installed_devices())


@pytest.mark.parametrize(("device", "reason"), [
    ("null.qubit", "wrong probabilities"),
    ("default.gaussian", "not supported"),
])
def test_a_device_that_cannot_run_the_circuits_is_refused(device: str, reason: str) -> None:
    with pytest.raises(DeviceUnavailableError) as info:
        resolve(f"pennylane:{device}")
    text = str(info.value)
    assert "\n" not in text and reason in text
    assert "usable installed devices: default.mixed, default.qubit, lightning.qubit" in text


def test_noise_only_on_devices_that_evolve_density_matrices() -> None:
    with pytest.raises(CapabilityError, match="does not take --noise") as info:
        resolve("pennylane:default.qubit", noise="depol1=0.01")
    assert "pennylane:default.mixed" in str(info.value)
    noisy = resolve("pennylane:default.mixed", noise="depol1=0.01")
    assert noisy.capabilities.kind == "noisy-emulator" and noisy.capabilities.supports_noise
    with pytest.raises(BackendError, match="at most 12 qubits"):
        noisy.validate(CircuitTemplate(13, 1), 100)


def test_listing_rows_match_the_adapters() -> None:
    rows_ = {r.name: r for r in describe_all() if r.group == "PennyLane"}
    assert set(rows_) == {f"pennylane:{d}" for d in usable_devices()}
    assert {"pennylane:default.qubit", "pennylane:default.mixed",
            "pennylane:lightning.qubit"} <= set(rows_)
    for name, row in rows_.items():
        caps = resolve(name).capabilities
        assert row.qubits == caps.max_qubits and row.kind == "simulator"
        assert row.noise == ("--noise" if caps.supports_noise else "none")
        assert ("differentiable" in row.note) == caps.differentiable
