"""Braket names: the local simulators braket_sv / braket_dm, and braket:<device> or an ARN."""

from __future__ import annotations

from qorch.backends.contract import Backend
from qorch.backends.credentials import Credentials
from qorch.backends.family import BackendInfo, BackendRequest, Family

LOCAL = ("braket_sv", "braket_dm")
REMOTE = ("braket:", "arn:aws:braket:")


def owns(name: str) -> bool:
    return name in LOCAL or any(name.startswith(p) and len(name) > len(p) for p in REMOTE)


def create(request: BackendRequest) -> Backend:
    if request.name in LOCAL:
        from qorch.backends.braket.local import BraketLocalBackend

        return BraketLocalBackend(request.name, seed=request.seed, noise=request.noise)
    from qorch.backends.braket.aws import BraketDeviceBackend

    return BraketDeviceBackend(request.name, credentials=request.credentials)


def describe(credentials: Credentials) -> list[BackendInfo]:
    from qorch.backends.braket.local import local_qubits
    from qorch.backends.braket.pricing import DEVICE_ARNS, STATIC_QUBITS

    rows = [
        BackendInfo("braket_sv", "simulators", "simulator", local_qubits("braket_sv"), "none",
                    note="Braket local state vector"),
        BackendInfo("braket_dm", "simulators", "simulator", local_qubits("braket_dm"),
                    "--noise (no thermal)", note="Braket local density matrix"),
    ]
    for short, arn in DEVICE_ARNS.items():
        hardware = "quantum-simulator" not in arn
        rows.append(BackendInfo(
            f"braket:{short}", "Amazon Braket", "hardware" if hardware else "simulator",
            STATIC_QUBITS.get(short), "real" if hardware else "none", credentials.aws_present,
            note=arn))
    return rows


FAMILY = Family(forms="braket_sv, braket_dm, braket:<device> (e.g. braket:sv1) or a Braket "
                      "device ARN", owns=owns, create=create, describe=describe)
