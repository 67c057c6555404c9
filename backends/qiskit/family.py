"""qiskit-aer's name and listing."""

from __future__ import annotations

from qorch.backends.circuits.template import MAX_QUBITS
from qorch.backends.contract import Backend
from qorch.backends.credentials import Credentials
from qorch.backends.family import BackendInfo, BackendRequest, Family

NAME = "aer"


def create(request: BackendRequest) -> Backend:
    from qorch.backends.qiskit.aer import AerBackend

    return AerBackend(seed=request.seed, noise=request.noise, engine=request.engine or "torch")


def describe(_: Credentials) -> list[BackendInfo]:
    return [BackendInfo(NAME, "simulators", "simulator", MAX_QUBITS, "--noise",
                        note="qiskit-aer; noisy: torch density-matrix engine (or --engine aer)")]


FAMILY = Family(forms=NAME, owns=lambda name: name == NAME, create=create, describe=describe)
