"""The torch noisy engine against Aer's density-matrix simulation of the same noise model: exact
probabilities within 1e-9, over templates x devices and --noise specs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qorch.backends.circuits.readout import outputs_from_probs
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.ibm.fake import FakeDeviceBackend, compile_for_device
from qorch.backends.noisy.engine import NoisyEngine, probabilities_from_moments
from qorch.backends.qiskit.aer import AerBackend, measured_circuit
from qorch.backends.registry import resolve
from tests.backends.noisy.references import aer_probabilities
from tests.backends.shots import exact, rows

TOLERANCE = 1e-9
DEVICES = ("fake_brisbane", "fake_torino", "fake_fez")  # Eagle (ecr), Heron r1 and r2 (cz)
TEMPLATES = (
    CircuitTemplate(4, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz")),
    CircuitTemplate(3, 2, "reupload-rx", "rot", "cnot-ring", ("zz", "probs")),
    CircuitTemplate(5, 1, "angle-rz", "ryrz", "cz-ring", ("z",)),
    CircuitTemplate(1, 2, "angle-rx", "rot", "cnot-chain", ("z", "probs")),
)
NOISES = (
    "depol1=0.001,depol2=0.01,readout=0.02,amp=0.001,phase=0.002",
    "t1=50e-6,t2=70e-6,gate_time=50e-9,readout=0.03,depol2=0.02",
)


def engine_of(backend: FakeDeviceBackend | AerBackend, template: CircuitTemplate) -> NoisyEngine:
    return backend._torch.engine(template, torch.float64, torch.device("cpu"))


def both_ways(engine: NoisyEngine, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(per-row weights, rows sharing the first row's weights). Shared weights go backward
    through the body whenever the body reads no inputs; that must equal going forward."""
    n = engine.template.n_inputs
    x, w = torch.from_numpy(params[:, :n]), torch.from_numpy(params[:, n:])
    per_row = engine.probabilities(x, w, torch.arange(len(params))).numpy()
    shared = engine.probabilities(x, w[:1]).numpy()
    if not engine.body_reads_inputs:
        group = torch.zeros(len(params), dtype=torch.long)
        back = probabilities_from_moments(engine._backward(x, w[:1], group, None), x.shape[1])
        ahead = probabilities_from_moments(engine._chunked(x, w[:1], group, None), x.shape[1])
        np.testing.assert_allclose(back.numpy(), ahead.numpy(), rtol=0, atol=1e-13)
    return per_row, shared


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: f"{t.n_qubits}q-{t.encoding}")
@pytest.mark.parametrize("device", DEVICES)
def test_engine_equals_aer_density_matrix_on_devices(device: str,
                                                     template: CircuitTemplate) -> None:
    backend = FakeDeviceBackend(device)
    compiled = compile_for_device(device, template)
    params = rows(template, 2, seed=len(device) + template.n_qubits)
    params[1, template.n_inputs :] = params[0, template.n_inputs :]  # rows share weights
    per_row, shared = both_ways(engine_of(backend, template), params)
    want = aer_probabilities(template, compiled.reduced.circuit, compiled.noise_model, params)
    np.testing.assert_allclose(per_row, want, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(shared, want, rtol=0, atol=TOLERANCE)
    ideal = exact(CircuitBatch(template, params, None))
    assert np.abs(outputs_from_probs(template, want) - ideal).max() > 1e-3  # noise is there


@pytest.mark.parametrize("noise", NOISES, ids=("depolarizing+damping", "thermal"))
@pytest.mark.parametrize("template", TEMPLATES[:2], ids=lambda t: f"{t.n_qubits}q")
def test_engine_equals_aer_density_matrix_with_noise_specs(noise: str,
                                                           template: CircuitTemplate) -> None:
    backend = resolve("aer", noise=noise)
    assert isinstance(backend, AerBackend) and backend.on_engine(template)
    params = rows(template, 3, seed=7)
    per_row, _ = both_ways(engine_of(backend, template), params)
    want = aer_probabilities(template, measured_circuit(template), backend.noise_model(), params)
    np.testing.assert_allclose(per_row, want, rtol=0, atol=TOLERANCE)


def test_engine_equals_aer_on_the_default_8_qubit_model() -> None:
    """The default hybrid-lenet circuit on fake_brisbane: 8 used qubits, 14 ECRs."""
    template = CircuitTemplate(8, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz"))
    compiled = compile_for_device("fake_brisbane", template)
    params = rows(template, 1, seed=3)
    per_row, shared = both_ways(engine_of(FakeDeviceBackend("fake_brisbane"), template), params)
    want = aer_probabilities(template, compiled.reduced.circuit, compiled.noise_model, params)
    np.testing.assert_allclose(per_row, want, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(shared, want, rtol=0, atol=TOLERANCE)
