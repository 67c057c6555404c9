"""The in-house simulator's name and listing."""

from __future__ import annotations

from qorch.backends.circuits.template import MAX_QUBITS
from qorch.backends.contract import Backend
from qorch.backends.credentials import Credentials
from qorch.backends.family import BackendInfo, BackendRequest, Family

NAME = "statevector"


def create(request: BackendRequest) -> Backend:
    from qorch.backends.simulator.backend import StatevectorBackend

    return StatevectorBackend(seed=request.seed)


def describe(_: Credentials) -> list[BackendInfo]:
    return [BackendInfo(NAME, "simulators", "simulator", MAX_QUBITS, "none",
                        note="default; exact and differentiable, or sampled with --shots")]


FAMILY = Family(forms=NAME, owns=lambda name: name == NAME, create=create, describe=describe)
