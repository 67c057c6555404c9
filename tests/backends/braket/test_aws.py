"""Braket device adapter: credentials/network errors, device checks, tasks, decoding, prices."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from qorch.backends.braket.aws import BraketDeviceBackend
from qorch.backends.braket.pricing import estimate_cost, prices, resolve_arn
from qorch.backends.braket.tasks import classify, decode_item
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import (
    CapabilityError,
    CredentialsError,
    DeviceUnavailableError,
    ProviderJobError,
    ProviderUnreachableError,
)
from tests.backends.fakes import FakeTask, LocalBackedDevice, braket_device_backend
from tests.backends.shots import batch, exact, standard_errors

T = CircuitTemplate(3, 1, observables=("z", "zz", "probs"))
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "BRAKET_ENDPOINT",
)


def _backend(device: Any = None, tasks: dict[str, FakeTask] | None = None) -> BraketDeviceBackend:
    backend: BraketDeviceBackend = braket_device_backend(device, tasks)
    return backend


@pytest.fixture
def no_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in AWS_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    for key in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        empty = tmp_path / key.lower()
        empty.write_text("")
        monkeypatch.setenv(key, str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probe


@pytest.mark.usefixtures("no_aws")
def test_missing_credentials_fail_fast_before_any_request() -> None:
    start = time.monotonic()
    with pytest.raises(CredentialsError, match="no AWS credentials: set AWS_ACCESS_KEY_ID"):
        BraketDeviceBackend("braket:sv1").validate(T, 100)
    assert time.monotonic() - start < 10


@pytest.mark.usefixtures("no_aws")
def test_unreachable_endpoint_is_a_network_error_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("BRAKET_ENDPOINT", "https://127.0.0.1:9")  # nothing listens there
    start = time.monotonic()
    with pytest.raises(ProviderUnreachableError, match="cannot reach Amazon Braket"):
        BraketDeviceBackend("braket:forte-1").validate(T, 100)
    assert time.monotonic() - start < 30


def test_names_arns_and_regions() -> None:
    assert resolve_arn("braket:ionq/forte-1").endswith("ionq/Forte-1")
    assert BraketDeviceBackend("braket:garnet").region == "eu-north-1"
    with pytest.raises(DeviceUnavailableError, match=r"accepted: braket:<sv1\|dm1"):
        resolve_arn("braket:quantum-toaster")


def test_aws_errors_are_classified_by_code() -> None:
    from botocore.exceptions import ClientError, NoRegionError

    def client_error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": code}}, "GetDevice")

    assert isinstance(classify(client_error("UnrecognizedClientException"), "x"), CredentialsError)
    assert isinstance(
        classify(client_error("ResourceNotFoundException"), "x"), DeviceUnavailableError
    )
    assert "AWS_REGION" in str(classify(NoRegionError(), "x"))


def test_offline_device_and_too_wide_circuits_are_refused() -> None:
    with pytest.raises(DeviceUnavailableError, match="OFFLINE"):
        _backend(LocalBackedDevice(status="OFFLINE")).validate(T, 100)
    backend = _backend()
    backend.validate(T, 100)
    assert backend.capabilities.max_qubits == 26  # refined from the device's properties
    assert backend.capabilities.max_circuits_per_job == 100  # program-set executables
    with pytest.raises(CapabilityError, match="shots per program set"):
        backend.validate(T, 5000, n_circuits=100)


def test_batches_go_in_one_program_set_each_as_its_own_item() -> None:
    device = LocalBackedDevice()
    backend = _backend(device)
    other = CircuitTemplate(2, 2, observables=("z",))
    first, second = batch(T, 5, 1000, seed=2), batch(other, 3, 1000, seed=3)
    handle = backend.run_batches([first, second], tags=["qorch:a", "qorch:b"])
    assert len(device.runs) == 1 and type(device.runs[0]).__name__ == "ProgramSet"
    assert device.tags == {"qorch:a": "0", "qorch:b": "1"}
    assert handle.provider_job_id == "arn:task/1" and handle.status() == "COMPLETED"
    for item, b in enumerate((first, second)):
        out = handle.result(item, timeout=5)
        assert out.shape == (b.n_circuits, b.template.n_outputs)
        assert (np.abs(out - exact(b)) / standard_errors(b.template, exact(b), 1000)).max() < 5
    assert backend.estimate_cost(5, 1000)["tasks"] == 1


def test_a_tagged_task_is_found_again() -> None:
    class Tagging:
        def get_resources(self, TagFilters: Any, ResourceTypeFilters: Any) -> dict[str, Any]:
            assert ResourceTypeFilters == ["braket:quantum-task"]
            key = TagFilters[0]["Key"]
            found = key == "qorch:j:3:train:0:0"
            return {"ResourceTagMappingList": [
                {"ResourceARN": "arn:task/9", "Tags": [{"Key": key, "Value": "2"}]}]
                if found else []}

    backend = BraketDeviceBackend("braket:sv1", tagging_factory=Tagging)
    assert backend.find_tagged("qorch:j:3:train:0:0") == ("arn:task/9", 2)
    assert backend.find_tagged("qorch:j:4:train:0:0") is None


def test_retrieve_polls_queued_tasks_then_decodes() -> None:
    from braket.devices import LocalSimulator

    from qorch.backends.braket.compile import row_inputs, to_braket

    b = batch(T, 2, 400, seed=8)
    sim = LocalSimulator("braket_sv")
    circuit = to_braket(T)
    results = [sim.run(circuit, shots=400, inputs=r).result() for r in row_inputs(T, b.params)]
    tasks = {
        "arn:a": FakeTask("arn:a", ["QUEUED", "QUEUED", "RUNNING", "COMPLETED"], results[0], "12"),
        "arn:b": FakeTask("arn:b", ["COMPLETED"], results[1]),
    }
    handle = _backend(tasks=tasks).retrieve("arn:a,arn:b", b)
    assert handle.phase() == "waiting for braket:sv1, queue position 12"
    with pytest.raises(TimeoutError):
        handle.result(timeout=0)
    out = handle.result(timeout=5)
    assert out.shape == (2, T.n_outputs)
    assert (np.abs(out - exact(b)) / standard_errors(T, exact(b), 400)).max() < 5
    failed = {"arn:f": FakeTask("arn:f", ["FAILED"])}
    with pytest.raises(ProviderJobError, match="ended FAILED"):
        _backend(tasks=failed).retrieve("arn:f", b).result(timeout=1)


def test_measured_qubit_order_is_respected() -> None:
    t = CircuitTemplate(2, 1, observables=("z",))
    swapped = SimpleNamespace(measurement_counts={"10": 3, "00": 1}, measured_qubits=[1, 0])
    out = decode_item([swapped], 0, batch(t, 1, 4))  # "10": qubit 1 = 1, qubit 0 = 0
    np.testing.assert_allclose(out[0], [1.0, 1 - 2 * 0.75])


def test_prices_are_dated_and_estimates_add_up() -> None:
    forte = resolve_arn("braket:forte-1")
    assert prices(forte)["as_of"] and prices(forte)["source"].startswith("https://")
    cost = estimate_cost(forte, n_tasks=2, shots_per_task=100)
    assert cost["usd"] == pytest.approx(2 * 0.30 + 200 * 0.08)
    sim = estimate_cost(resolve_arn("braket:sv1"), n_tasks=10, shots_per_task=1000)
    assert sim["kind"].startswith("lower bound") and sim["usd"] == pytest.approx(
        10 * 3 / 60 * 0.075
    )


def test_explicit_measurements_compile_and_run_locally() -> None:
    from braket.devices import LocalSimulator

    from qorch.backends.braket.compile import parameter_names, row_inputs, to_braket

    b = batch(T, 2, 2000, seed=1)
    circuit = to_braket(T, measure=True)
    assert sorted(p.name for p in circuit.parameters) == sorted(parameter_names(T))
    sim = LocalSimulator("braket_sv")
    results = [sim.run(circuit, shots=2000, inputs=r).result() for r in row_inputs(T, b.params)]
    out = decode_item(results, 0, b)
    assert (np.abs(out - exact(b)) / standard_errors(T, exact(b), 2000)).max() < 5
