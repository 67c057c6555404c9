"""PennyLane names: `pennylane:<device>` for every installed device that runs qorch circuits."""

from __future__ import annotations

from qorch.backends.contract import Backend
from qorch.backends.credentials import Credentials
from qorch.backends.family import BackendInfo, BackendRequest, Family
from qorch.backends.pennylane.devices import PREFIX


def owns(name: str) -> bool:
    return name.startswith(PREFIX) and len(name) > len(PREFIX)


def create(request: BackendRequest) -> Backend:
    from qorch.backends.pennylane.adapter import PennyLaneBackend

    return PennyLaneBackend(request.name.removeprefix(PREFIX), seed=request.seed,
                            noise=request.noise)


def describe(_: Credentials) -> list[BackendInfo]:
    from qorch.backends.pennylane.devices import probe, usable_devices

    rows = []
    for device in usable_devices():
        traits = probe(device)
        how = "exact, differentiable" if traits.backprop else "exact"
        rows.append(BackendInfo(
            PREFIX + device, "PennyLane", "simulator", traits.max_qubits,
            "--noise" if traits.takes_channels else "none",
            note=f"PennyLane {traits.title}; {how}, or sampled with --shots"))
    return rows


FAMILY = Family(forms="pennylane:<device> (e.g. pennylane:default.qubit)", owns=owns,
                create=create, describe=describe)
