"""What a backend family tells the registry: the names it owns, how to build them, its rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from qorch.backends.contract import Backend, BackendKind
from qorch.backends.credentials import Credentials
from qorch.backends.noise import NoiseSpec

# Simulators of a noisy local backend (fake_<device>, aer --noise): the torch density-matrix
# engine (default), or Aer's.
ENGINES = ("torch", "aer")


@dataclass(frozen=True)
class BackendRequest:
    """A backend as the user asked for it, with what its adapter may need."""

    name: str
    shots: int | None = None
    noise: NoiseSpec = field(default_factory=NoiseSpec)
    seed: int | None = None
    credentials: Credentials = field(default_factory=Credentials)
    engine: str | None = None  # noisy local backends: "torch" (their default) or "aer"
    mitigate: str | None = None  # "readout": outputs corrected for readout errors


@dataclass(frozen=True)
class BackendInfo:
    """One row of `qorch backends`."""

    name: str
    group: str  # simulators, emulators, IBM Quantum, Amazon Braket, PennyLane
    kind: BackendKind
    qubits: int | None
    noise: str  # none, --noise, calibration, real
    credentials: bool | None = None  # None: needs none
    retired: bool = False
    note: str = ""


@dataclass(frozen=True)
class Family:
    """One folder of adapters, asked by the registry; it is the one source of its names."""

    forms: str  # how its names look, for the list of accepted forms
    owns: Callable[[str], bool]
    create: Callable[[BackendRequest], Backend]
    describe: Callable[[Credentials], list[BackendInfo]]
