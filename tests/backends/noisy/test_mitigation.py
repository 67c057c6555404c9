"""Readout-error mitigation: exact inversion on exact outputs, shots on local backends, and the
hardware logic (calibration circuits in the same job) over the IBM stand-ins."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.errors import CapabilityError, ProviderJobError
from qorch.backends.ibm.fake import FakeDeviceBackend
from qorch.backends.ibm.mitigated import ReadoutMitigatedIBM
from qorch.backends.local.backend import LocalBackend
from qorch.backends.noisy.engine import NoisyEngine
from qorch.backends.noisy.mitigated import ReadoutMitigated, compare_readout
from qorch.backends.noisy.mitigation import ReadoutCalibration, mitigate_outputs
from qorch.backends.registry import resolve
from tests.backends.fakes import FakeRuntimeJob, FakeRuntimeService, program_result
from tests.backends.shots import batch, exact, rows, standard_errors

TEMPLATES = (
    CircuitTemplate(4, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz")),
    CircuitTemplate(3, 1, "angle-rx", "rot", "cnot-ring", ("zz", "probs", "z")),
    CircuitTemplate(3, 2, "angle-ry", "ry", "cnot-chain", ("z",)),
)


def without_readout(backend: FakeDeviceBackend, template: CircuitTemplate,
                    params: np.ndarray) -> np.ndarray:
    """Exact noisy outputs of the same device with its readout errors left out."""
    program = backend._torch.program(template)
    assert not isinstance(program, str)
    clean = dataclasses.replace(program, flips=((0.0, 0.0),) * template.n_qubits)
    engine = NoisyEngine(template, clean)
    n = template.n_inputs
    x, w = torch.from_numpy(params[:, :n]), torch.from_numpy(params[:, n:])
    return engine.outputs(x, w, torch.arange(len(params))).numpy()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: "+".join(t.observables))
def test_inverting_the_device_confusion_removes_exactly_its_readout_error(
        template: CircuitTemplate) -> None:
    backend = FakeDeviceBackend("fake_brisbane")
    params = rows(template, 4, seed=2)
    measured = backend._torch.simulate(template, params, None, 0)
    clean = without_readout(backend, template, params)
    calibration = backend.readout_calibration(template)
    assert np.any(calibration.offsets) and 0 < min(calibration.p1_given_0) < 0.1
    assert np.abs(measured - clean).max() > 1e-3
    np.testing.assert_allclose(mitigate_outputs(template, measured, calibration), clean,
                               atol=1e-9)


def test_symmetric_noise_spec_readout_is_inverted_to_the_ideal_outputs() -> None:
    template = TEMPLATES[1]
    b = batch(template, 4, None, seed=3)
    backend = resolve("aer", noise="readout=0.04", mitigate="readout")
    assert isinstance(backend, LocalBackend)
    raw = backend.inner._torch.simulate(template, b.params, None, 0)  # type: ignore[attr-defined]
    assert np.abs(raw - exact(b)).max() > 1e-3
    calibration = backend.readout_calibration(template)
    assert calibration is not None and calibration.p1_given_0 == (0.04,) * 3
    np.testing.assert_allclose(mitigate_outputs(template, raw, calibration), exact(b), atol=1e-9)


def test_zz_alone_cannot_be_mitigated_under_asymmetric_readout() -> None:
    backend = resolve("fake_brisbane", mitigate="readout")
    zz_only = CircuitTemplate(3, 1, observables=("zz",))
    with pytest.raises(CapabilityError, match="add z to --observables"):
        backend.validate(zz_only, 100)
    resolve("aer", noise="readout=0.02", mitigate="readout").validate(zz_only, 100)


def test_mitigated_shots_center_on_the_readout_free_outputs() -> None:
    template = TEMPLATES[0]
    b = CircuitBatch(template, rows(template, 8, seed=6), 20_000, seed=4)
    plain = resolve("fake_brisbane", seed=1).run_batch(b).result(timeout=120)
    mitigated_backend = resolve("fake_brisbane", seed=1, mitigate="readout")
    mitigated = mitigated_backend.run_batch(b).result(timeout=120)
    clean = without_readout(FakeDeviceBackend("fake_brisbane"), template, b.params)
    se = standard_errors(template, clean, 20_000) / 0.9  # inversion widens the spread a little
    assert (np.abs(mitigated - clean) / se).max() < 5
    assert np.abs(plain - clean).mean() > 2 * np.abs(mitigated - clean).mean()
    report = mitigated_backend.calibration_report(template)
    assert report is not None and report["readout_mitigation"]["source"].startswith("fake_bris")


def test_mitigation_is_differentiable_on_the_autograd_path() -> None:
    template = TEMPLATES[2]
    plain, mitigated = resolve("fake_brisbane"), resolve("fake_brisbane", mitigate="readout")
    params = rows(template, 3, seed=1)
    grads = []
    for backend in (plain, mitigated):
        x = torch.tensor(params[:, :3], requires_grad=True)
        w = torch.tensor(params[0, 3:])
        out = backend.evaluate(template, x, w, None, None)
        out[:, 0].sum().backward()  # <Z_0>: mitigation divides its slope by b_0
        assert x.grad is not None
        grads.append(x.grad.numpy())
    b0 = mitigated.readout_calibration(template).scales[0]  # type: ignore[union-attr]
    np.testing.assert_allclose(grads[1], grads[0] / b0, atol=1e-12)


def test_statevector_shots_mitigate_as_the_identity() -> None:
    b = CircuitBatch(TEMPLATES[1], rows(TEMPLATES[1], 3, seed=2), 300, seed=5)
    plain = resolve("statevector").run_batch(b).result()
    wrapped = resolve("statevector", mitigate="readout")
    np.testing.assert_array_equal(wrapped.run_batch(b).result(), plain)


def _ibm(service: FakeRuntimeService) -> ReadoutMitigatedIBM:
    return ReadoutMitigatedIBM("ibm_test", service=service, poll_interval=0.01)


def test_hardware_results_are_corrected_with_the_jobs_own_calibration_items() -> None:
    template = CircuitTemplate(2, 1, observables=("z", "probs"))
    data = np.zeros((2, 100, 2), dtype=bool)
    data[1, :30, 0] = True  # row 1: qubit 0 read 1 in 30 of 100 shots
    zeros = np.zeros((1, 100, 2), dtype=bool)
    zeros[0, :10, 0] = True  # qubit 0 prepared in 0 reads 1 in 10% of shots
    ones = np.ones((1, 100, 2), dtype=bool)
    ones[0, :20, 1] = False  # qubit 1 prepared in 1 reads 0 in 20%
    job = FakeRuntimeJob("m1", ["DONE"], result=program_result(data, zeros, ones))
    handle = _ibm(FakeRuntimeService(jobs={"m1": job})).retrieve("m1", batch(template, 2, 100))
    calibration = handle.calibration(0)  # type: ignore[attr-defined]
    np.testing.assert_allclose([calibration.p1_given_0, calibration.p0_given_1],
                               [[0.1, 0.0], [0.0, 0.2]], atol=1e-15)
    out = handle.result(timeout=1)
    # Qubit 0: measured z = 1 - 2 * 0.3 = 0.4; offset a = -0.1, scale b = 0.9.
    np.testing.assert_allclose(out[1, 0], (0.4 + 0.1) / 0.9)
    np.testing.assert_allclose(out[:, 2:].sum(axis=1), 1.0)
    broken = FakeRuntimeJob("m2", ["DONE"], result=program_result(data, zeros))
    with pytest.raises(ProviderJobError, match="two calibration items"):
        _ibm(FakeRuntimeService(jobs={"m2": broken})).retrieve(
            "m2", batch(template, 2, 100)).result(timeout=1)


def test_calibration_circuits_run_in_the_same_local_mode_job() -> None:
    """Executor in qiskit-ibm-runtime's local mode on FakeManilaV2: the job carries one data and
    two calibration items; the measured calibration is the device's readout error, and the
    mitigated outputs match the fake_manila engine's outputs with readout left out."""
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    device = FakeManilaV2()
    adapter = _ibm(FakeRuntimeService(device=device))
    template = CircuitTemplate(3, 1, observables=("z", "zz"))
    b = batch(template, 6, 8000, seed=4)
    side = compare_readout(adapter, b, timeout=300)  # one job: data and calibration items
    out, calibration = side.mitigated, side.calibration
    assert calibration.source.startswith("calibration circuits in IBM job")
    np.testing.assert_allclose(out, mitigate_outputs(template, side.raw, calibration))
    from qorch.backends.ibm.mitigated import measured_qubits

    physical = measured_qubits(adapter.isa_circuit(template))
    for i, q in enumerate(physical):  # local mode applies the symmetric readout_error
        want = device.target["measure"][(q,)].error
        assert abs(calibration.p1_given_0[i] - want) < 0.012
        assert abs(calibration.p0_given_1[i] - want) < 0.012
    clean = without_readout(FakeDeviceBackend("fake_manila"), template, b.params)
    se = np.sqrt(2) * standard_errors(template, clean, 8000) / 0.75
    assert (np.abs(out - clean) / se).max() < 5
    adapter.close()


def test_calibration_refuses_unusable_readout() -> None:
    with pytest.raises(ProviderJobError, match="too noisy to invert"):
        ReadoutCalibration((0.5,), (0.45,), "test")
    assert isinstance(resolve("braket_sv", mitigate="readout"), LocalBackend)
    with pytest.raises(CapabilityError, match="does not send readout calibration circuits"):
        resolve("braket:arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1", mitigate="readout")
    assert not isinstance(resolve("fake_brisbane", mitigate="readout"), ReadoutMitigated)


def test_compare_readout_gives_both_sides_of_one_run() -> None:
    template = TEMPLATES[0]
    b = CircuitBatch(template, rows(template, 4, seed=3), 2000, seed=8)
    for backend in (resolve("fake_brisbane"), resolve("fake_brisbane", mitigate="readout")):
        side = compare_readout(backend, b)
        np.testing.assert_array_equal(side.raw, resolve("fake_brisbane").run_batch(b).result())
        np.testing.assert_allclose(side.mitigated,
                                   mitigate_outputs(template, side.raw, side.calibration))
    data = np.zeros((4, 100, 4), dtype=bool)
    zeros, ones = np.zeros((1, 100, 4), dtype=bool), np.ones((1, 100, 4), dtype=bool)
    zeros[0, :5, 2] = True
    job = FakeRuntimeJob("c1", ["DONE"], result=program_result(data, zeros, ones))
    handle = _ibm(FakeRuntimeService(jobs={"c1": job})).retrieve("c1", b)
    np.testing.assert_allclose(handle.raw(0)[:, 2], 1.0)  # type: ignore[attr-defined]
    np.testing.assert_allclose(handle.result(0)[:, 2], (1.0 + 0.05) / 0.95)
    with pytest.raises(CapabilityError, match="mitigate='readout'"):
        compare_readout(resolve("statevector"), b)
