"""Backend names the user types -> adapters (`resolve`), and the `qorch backends` listing."""

from __future__ import annotations

import difflib
import json
import os
from typing import Any

from qorch.backends.contract import Backend
from qorch.backends.errors import BackendError, CapabilityError, DeviceUnavailableError
from qorch.backends.noise import NoiseSpec, parse_noise

ACCEPTED = (
    "statevector, aer, fake_<device> (e.g. fake_brisbane), ibm_<device> (e.g. ibm_fez), "
    "braket_sv, braket_dm, braket:<device> (e.g. braket:sv1) or a Braket device ARN"
)


LOCAL_NAMES = ("statevector", "aer", "braket_sv", "braket_dm")
FAMILY_PREFIXES = ("fake_", "ibm_", "ibmq_", "braket:", "arn:aws:braket:")


def is_backend_name(name: str) -> bool:
    """Whether a name has one of the accepted forms (the device itself is checked by resolve)."""
    name = name.strip()
    return name in LOCAL_NAMES or any(
        name.startswith(prefix) and len(name) > len(prefix) for prefix in FAMILY_PREFIXES
    )


def _make(name: str, shots: int | None, noise: NoiseSpec, seed: int | None) -> Backend:
    if name == "statevector":
        from qorch.backends.simulator.backend import StatevectorBackend

        return StatevectorBackend(seed=seed, noise=noise)
    if name == "aer":
        from qorch.backends.qiskit.aer import AerBackend

        return AerBackend(seed=seed, noise=noise)
    if name in ("braket_sv", "braket_dm"):
        from qorch.backends.braket.local import BraketLocalBackend

        return BraketLocalBackend(name, seed=seed, noise=noise)
    if name.startswith("fake_"):
        from qorch.backends.ibm.devices import canonical_fake_names, fake_device_classes
        from qorch.backends.ibm.fake import FakeDeviceBackend

        if name not in fake_device_classes():
            close = difflib.get_close_matches(name, canonical_fake_names(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise DeviceUnavailableError(
                f"unknown fake device {name!r}{hint} (`qorch backends` lists all "
                f"{len(canonical_fake_names())})"
            )
        return FakeDeviceBackend(name, seed=seed, noise=noise)
    if name.startswith(("ibm_", "ibmq_")):
        from qorch.backends.ibm.runtime import IBMRuntimeBackend

        return IBMRuntimeBackend(name, shots=shots, noise=noise)
    if name.startswith(("braket:", "arn:aws:braket:")):
        from qorch.backends.braket.aws import BraketDeviceBackend

        return BraketDeviceBackend(name, shots=shots, noise=noise)
    close = difflib.get_close_matches(name, ["statevector", "aer", "braket_sv", "braket_dm"], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise BackendError(f"unknown backend {name!r}{hint}; accepted: {ACCEPTED}")


def resolve(
    name: str,
    *,
    shots: int | None = None,
    noise: str | NoiseSpec | None = None,
    seed: int | None = None,
) -> Backend:
    """The adapter for a backend name; refuses bad names, noise or shots in one line.

    No network is used here: cloud adapters connect on their first validate()/submit().
    `seed` makes local simulators' shot noise reproducible (ignored by cloud backends).
    """
    backend = _make(name.strip(), shots, parse_noise(noise), seed)
    caps = backend.capabilities
    if shots is None and not caps.exact:
        raise CapabilityError(
            f"{name} estimates outputs from shots: give shots in 1..{caps.max_shots}"
        )
    if shots is not None and (
        isinstance(shots, bool) or not isinstance(shots, int) or not 1 <= shots <= caps.max_shots
    ):
        raise CapabilityError(f"{name} accepts shots in 1..{caps.max_shots}, got {shots!r}")
    return backend


def _fake_qubits(cls: type) -> int | None:
    """Width from the snapshot's JSON, without building the backend (68 of them: keep it cheap)."""
    try:
        path = os.path.join(getattr(cls, "dirname"), getattr(cls, "conf_filename"))  # noqa: B009
        with open(path) as handle:
            return int(json.load(handle)["n_qubits"])
    except (OSError, KeyError, ValueError, TypeError, AttributeError):
        return None


def describe_all() -> list[dict[str, Any]]:
    """One row per backend name: name, kind, qubits, noise, credentials present, retired, note."""
    from qorch.backends.braket.aws import aws_credentials_present
    from qorch.backends.braket.pricing import DEVICE_ARNS, STATIC_QUBITS
    from qorch.backends.circuits.template import MAX_QUBITS
    from qorch.backends.ibm.devices import (
        CURRENT_IBM_HINT,
        RETIRED_IBM,
        canonical_fake_names,
        fake_device_classes,
    )
    from qorch.backends.ibm.runtime import credentials_present

    def row(name: str, kind: str, qubits: int | None, noise: str, credentials: bool | None,
            retired: bool = False, note: str = "") -> dict[str, Any]:  # fmt: skip
        return {"name": name, "kind": kind, "qubits": qubits, "noise": noise,
                "credentials": credentials, "retired": retired, "note": note}  # fmt: skip

    rows = [
        row("statevector", "simulator", MAX_QUBITS, "none", None, note="exact, differentiable"),
        row("aer", "simulator", MAX_QUBITS, "--noise", None),
        row("braket_sv", "simulator", MAX_QUBITS, "none", None),
        row("braket_dm", "simulator", 13, "--noise (no thermal)", None),
    ]
    classes = fake_device_classes()
    for name in canonical_fake_names():
        rows.append(row(name, "noisy-emulator", _fake_qubits(classes[name]), "calibration", None))
    ibm_ok = credentials_present()
    for name in CURRENT_IBM_HINT:
        twin = classes.get(name.replace("ibm_", "fake_"))
        rows.append(row(name, "hardware", _fake_qubits(twin) if twin else None, "real", ibm_ok))
    for name in sorted(RETIRED_IBM):
        twin_name = "fake_" + name.removeprefix("ibmq_").removeprefix("ibm_")
        note = f"use {twin_name}" if twin_name in classes else "retired"
        rows.append(row(name, "hardware", None, "real", ibm_ok, retired=True, note=note))
    aws_ok = aws_credentials_present()
    for short, arn in DEVICE_ARNS.items():
        kind = "simulator" if "quantum-simulator" in arn else "hardware"
        rows.append(row(f"braket:{short}", kind, STATIC_QUBITS.get(short), "real" if kind ==
                        "hardware" else "none", aws_ok, note=arn))  # fmt: skip
    return rows
