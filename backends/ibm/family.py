"""IBM names: fake_<device> snapshots and ibm_<device> hardware, current and retired."""

from __future__ import annotations

import difflib
import json
import os

from qorch.backends.contract import Backend
from qorch.backends.credentials import Credentials
from qorch.backends.errors import DeviceUnavailableError
from qorch.backends.family import BackendInfo, BackendRequest, Family

FAKE, HARDWARE = "fake_", ("ibm_", "ibmq_")


def owns(name: str) -> bool:
    return any(name.startswith(p) and len(name) > len(p) for p in (FAKE, *HARDWARE))


def create(request: BackendRequest) -> Backend:
    if request.name.startswith(FAKE):
        from qorch.backends.ibm.devices import canonical_fake_names, fake_device_classes
        from qorch.backends.ibm.fake import FakeDeviceBackend

        if request.name not in fake_device_classes():
            close = difflib.get_close_matches(request.name, canonical_fake_names(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise DeviceUnavailableError(
                f"unknown fake device {request.name!r}{hint} (`qorch backends --all` lists all "
                f"{len(canonical_fake_names())})"
            )
        return FakeDeviceBackend(request.name, seed=request.seed,
                                 engine=request.engine or "torch")
    from qorch.backends.ibm.runtime import IBMRuntimeBackend

    if request.mitigate == "readout":
        from qorch.backends.ibm.mitigated import ReadoutMitigatedIBM

        return ReadoutMitigatedIBM(request.name, shots=request.shots,
                                   credentials=request.credentials)
    return IBMRuntimeBackend(request.name, shots=request.shots, credentials=request.credentials)


def snapshot_qubits(cls: type) -> int | None:
    """Width from the snapshot's JSON, without building the backend (68 of them: keep it cheap)."""
    try:
        path = os.path.join(getattr(cls, "dirname"), getattr(cls, "conf_filename"))  # noqa: B009
        with open(path) as handle:
            return int(json.load(handle)["n_qubits"])
    except (OSError, KeyError, ValueError, TypeError, AttributeError):
        return None


def describe(credentials: Credentials) -> list[BackendInfo]:
    from qorch.backends.ibm.devices import (
        CURRENT_IBM_HINT,
        RETIRED_IBM,
        canonical_fake_names,
        fake_device_classes,
    )

    classes = fake_device_classes()
    rows = [
        BackendInfo(name, "emulators", "noisy-emulator", snapshot_qubits(classes[name]),
                    "calibration", note="IBM snapshot: ISA, layout and noise; torch engine")
        for name in canonical_fake_names()
    ]
    present = credentials.ibm_present
    for name in CURRENT_IBM_HINT:
        twin = classes.get(name.replace("ibm_", FAKE))
        rows.append(BackendInfo(name, "IBM Quantum", "hardware",
                                snapshot_qubits(twin) if twin else None, "real", present))
    for name in sorted(RETIRED_IBM):
        twin_name = FAKE + name.removeprefix("ibmq_").removeprefix("ibm_")
        note = f"use {twin_name}" if twin_name in classes else "retired"
        rows.append(BackendInfo(name, "IBM Quantum", "hardware", None, "real", present,
                                retired=True, note=note))
    return rows


FAMILY = Family(forms="fake_<device> (e.g. fake_brisbane), ibm_<device> (e.g. ibm_fez)",
                owns=owns, create=create, describe=describe)
