"""Backend names -> adapters, the fake-device enumeration and the `qorch backends` listing."""

from __future__ import annotations

import dataclasses
import json

import pytest

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import BackendError, CapabilityError, DeviceUnavailableError
from qorch.backends.ibm.devices import canonical_fake_names, fake_device_classes
from qorch.backends.registry import describe_all, resolve


def test_every_fake_backend_is_enumerated_with_snake_case_names() -> None:
    import inspect

    import qiskit_ibm_runtime.fake_provider as provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    classes = {
        c for c in vars(provider).values()
        if inspect.isclass(c) and issubclass(c, FakeBackendV2) and c is not FakeBackendV2
    }  # fmt: skip
    names = canonical_fake_names()
    assert len(names) == len(classes) > 50
    assert {"fake_brisbane", "fake_torino", "fake_fez", "fake_manila", "fake_kyiv"} <= set(names)
    assert fake_device_classes()["fake_manila"].__name__ == "FakeManilaV2"
    # The class name rule and the device's own backend_name both resolve.
    assert (
        fake_device_classes()["fake_fractional_backend"] is fake_device_classes()["fake_fractional"]
    )


def test_resolve_accepts_every_documented_form() -> None:
    assert resolve("statevector").name == "statevector"
    aer = resolve("aer", shots=100, noise="depol1=0.01")
    assert getattr(aer, "noise").depol1 == 0.01  # noqa: B009
    assert resolve("fake_manila", shots=100).capabilities.max_qubits == 5
    assert resolve("braket_sv", shots=100).name == "braket_sv"
    assert resolve("ibm_fez", shots=100).name == "ibm_fez"  # no network until validate/submit
    assert getattr(resolve("braket:sv1"), "arn").endswith("amazon/sv1")  # noqa: B009
    arn = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
    assert getattr(resolve(arn), "region") == "us-east-1"  # noqa: B009


def test_unknown_names_list_the_accepted_forms() -> None:
    with pytest.raises(BackendError) as info:
        resolve("statevectr")
    text = str(info.value)
    assert "did you mean statevector" in text
    for form in ("fake_<device>", "ibm_<device>", "braket:<device>", "braket_dm", "ARN"):
        assert form in text
    with pytest.raises(DeviceUnavailableError, match="did you mean fake_brisbane"):
        resolve("fake_brisbain", shots=10)
    with pytest.raises(DeviceUnavailableError, match="unknown Braket device"):
        resolve("braket:nonesuch", shots=10)


def test_shots_are_checked_by_validate_alone() -> None:
    template = CircuitTemplate(2, 1)
    with pytest.raises(CapabilityError, match="give shots"):
        resolve("aer").validate(template, None)
    with pytest.raises(CapabilityError, match=r"1\.\.100000"):
        resolve("fake_manila").validate(template, 10**6)
    resolve("statevector").validate(template, None)


def test_retired_ibm_device_is_refused_before_any_network_call() -> None:
    with pytest.raises(DeviceUnavailableError) as info:
        resolve("ibm_brisbane", shots=100)
    text = str(info.value)
    assert "retired" in text and "fake_brisbane" in text and "ibm_fez" in text


def test_describe_all_lists_every_kind_and_is_json() -> None:
    rows = {r.name: dataclasses.asdict(r) for r in describe_all()}
    json.dumps(list(rows.values()))
    assert rows["statevector"]["kind"] == "simulator"
    assert (
        rows["fake_brisbane"]["qubits"] == 127 and rows["fake_brisbane"]["noise"] == "calibration"
    )
    assert rows["ibm_brisbane"]["retired"] and rows["ibm_brisbane"]["note"] == "use fake_brisbane"
    assert not rows["ibm_fez"]["retired"]
    assert rows["braket:sv1"]["kind"] == "simulator"
    assert all(
        set(r) >= {"name", "kind", "qubits", "noise", "credentials", "retired", "group"}
        for r in rows.values()
    )


@pytest.mark.parametrize("name", ["statevector", "aer", "braket_sv", "braket_dm", "fake_manila",
                                  "fake_brisbane"])
def test_listing_and_adapter_agree_on_width(name: str) -> None:
    """One source of truth: the listing's qubits are the adapter's declared max_qubits."""
    listed = {r.name: r for r in describe_all()}[name]
    assert listed.qubits == resolve(name).capabilities.max_qubits
