"""Backend names the user types -> adapters (`resolve`), and the `qorch backends` listing."""

from __future__ import annotations

import difflib

from qorch.backends.braket.family import FAMILY as BRAKET
from qorch.backends.contract import Backend
from qorch.backends.credentials import Credentials
from qorch.backends.errors import BackendError, CapabilityError
from qorch.backends.family import BackendInfo, BackendRequest, Family
from qorch.backends.ibm.family import FAMILY as IBM
from qorch.backends.noise import NoiseSpec, parse_noise
from qorch.backends.noisy.mitigated import with_readout_mitigation
from qorch.backends.noisy.mitigation import check_mitigation
from qorch.backends.pennylane.family import FAMILY as PENNYLANE
from qorch.backends.qiskit.family import FAMILY as QISKIT
from qorch.backends.simulator.family import FAMILY as SIMULATOR

FAMILIES: tuple[Family, ...] = (SIMULATOR, QISKIT, IBM, BRAKET, PENNYLANE)
ACCEPTED = ", ".join(f.forms for f in FAMILIES)


def family_of(name: str) -> Family:
    """The family owning a name; one line listing the accepted forms otherwise."""
    name = name.strip()
    for family in FAMILIES:
        if family.owns(name):
            return family
    simple = [f.forms for f in FAMILIES if "<" not in f.forms and "," not in f.forms]
    close = difflib.get_close_matches(name, [*simple, "braket_sv", "braket_dm"], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise BackendError(f"unknown backend {name!r}{hint}; accepted: {ACCEPTED}")


def resolve(
    name: str,
    *,
    shots: int | None = None,
    noise: str | NoiseSpec | None = None,
    seed: int | None = None,
    credentials: Credentials | None = None,
    engine: str | None = None,
    mitigate: str | None = None,
) -> Backend:
    """The adapter for a backend name; refuses bad names and noise it cannot take in one line.

    No network is used here: cloud adapters connect on their first validate()/run_batches().
    `seed` makes local simulators reproducible for batches that carry no seed of their own.
    `engine` picks the simulator of a noisy local backend ("torch" or "aer"); `mitigate`
    ("readout") corrects every output for readout errors.
    """
    spec = parse_noise(noise)
    request = BackendRequest(name.strip(), shots, spec, seed, credentials or Credentials(),
                             engine, check_mitigation(mitigate))
    backend = family_of(request.name).create(request)
    if engine is not None and getattr(backend, "engine", None) != engine:
        raise CapabilityError(f"{request.name} has no --engine choice (fake_<device> and aer "
                              "take --engine torch|aer)")
    if request.mitigate and getattr(backend, "mitigation", None) != request.mitigate:
        backend = with_readout_mitigation(backend, spec.readout)
    if not spec.is_noiseless and not backend.capabilities.supports_noise:
        takers = [r.name for r in describe_all() if r.noise.startswith("--noise")]
        raise CapabilityError(
            f"{request.name} does not take --noise; backends that do: {', '.join(takers)} "
            "(fake_<device> brings its device's own calibration noise)"
        )
    return backend


def describe_all(credentials: Credentials | None = None) -> list[BackendInfo]:
    """Every backend name one can type, family by family."""
    return [row for family in FAMILIES for row in family.describe(credentials or Credentials())]
