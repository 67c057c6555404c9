"""Which installed PennyLane devices can run qorch circuits, found by probing them, not by name."""

from __future__ import annotations

import difflib
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qorch.backends.circuits.template import MAX_QUBITS, CircuitTemplate
from qorch.backends.errors import DeviceUnavailableError
from qorch.backends.noise import NoiseSpec

if TYPE_CHECKING:
    from pennylane.devices import Device

PREFIX = "pennylane:"
# Density-matrix devices hold 4^n numbers per row; measured on default.mixed with every noise
# channel: ~0.05 s per row at 6 qubits, ~1 s at 8, ~17 s at 10 (x16 per 2 qubits). 12 is the
# widest that still finishes a row in minutes, as Aer's density-matrix cut-off.
DENSITY_MATRIX_MAX_QUBITS = 12

# PennyLane's operator queue is one process-wide stack: operators built in one thread would be
# recorded into another thread's tape. Every build and run of a tape holds this lock.
PENNYLANE_LOCK = threading.RLock()

# Two small circuits that between them use every gate a template can emit (h, rx, ry, rz, cnot,
# cz): a device is usable when it returns their exact probabilities.
_PROBES = (
    CircuitTemplate(2, 1, "angle-rz", "rot", "cnot-chain", ("probs",)),
    CircuitTemplate(2, 2, "reupload-rx", "ryrz", "cz-ring", ("probs",)),
)


@dataclass(frozen=True)
class DeviceTraits:
    """What probing found: the device runs template circuits exactly, and perhaps more."""

    name: str
    title: str  # the device class, e.g. DefaultQubit
    takes_channels: bool  # evolves density matrices: --noise can be applied
    backprop: bool  # torch autograd through the simulation

    @property
    def max_qubits(self) -> int:
        return DENSITY_MATRIX_MAX_QUBITS if self.takes_channels else MAX_QUBITS


def installed_devices() -> list[str]:
    """Every device name PennyLane's plugin entry points offer in this environment."""
    import pennylane as qml

    return sorted(qml.plugin_devices)


def make_device(name: str, wires: int) -> Device:
    """A fresh device (cheap; a fresh one per run keeps threads from sharing device state)."""
    import pennylane as qml

    return qml.device(name, wires=wires)


def _expected(template: CircuitTemplate, params: np.ndarray) -> np.ndarray:
    import torch

    from qorch.backends.simulator.engine import probabilities

    n = template.n_inputs
    x, w = torch.from_numpy(params[:, :n]), torch.from_numpy(params[:, n:])
    return probabilities(template, x, w).numpy()


def _runs_exactly(name: str) -> None:
    """Raise with the device's own words unless it returns the probes' exact probabilities."""
    import pennylane as qml

    from qorch.backends.pennylane.compile import probability_tape

    rng = np.random.default_rng(7)
    for template in _PROBES:
        params = rng.uniform(-np.pi, np.pi, (3, template.n_inputs + template.n_weights))
        n = template.n_inputs
        tape = probability_tape(template, params[:, :n], params[:, n:], NoiseSpec())
        got = np.asarray(qml.execute([tape], make_device(name, 2))[0], dtype=np.float64)
        if got.shape != (3, 4) or not np.allclose(got, _expected(template, params), atol=1e-9):
            raise ValueError("it returned wrong probabilities for a probe circuit")


def _takes_channels(name: str) -> bool:
    """A depolarizing channel of p=0.3 on |0> flips it with probability 2p/3 = 0.2."""
    import pennylane as qml

    tape = qml.tape.QuantumScript([qml.DepolarizingChannel(0.3, wires=0)],
                                  [qml.probs(wires=[0])])
    try:
        got = np.asarray(qml.execute([tape], make_device(name, 1))[0], dtype=np.float64)
    except Exception:  # a pure-state device refuses channels in its own ways
        return False
    return bool(np.allclose(got.reshape(-1), [0.8, 0.2], atol=1e-9))


def _backprop(name: str) -> bool:
    import pennylane as qml
    from pennylane.devices import ExecutionConfig

    tape = qml.tape.QuantumScript([qml.RY(0.1, wires=0)], [qml.probs(wires=[0])])
    config = ExecutionConfig(gradient_method="backprop", interface="torch")
    return bool(make_device(name, 1).supports_derivatives(config, tape))


@lru_cache(maxsize=64)
def _inspect(name: str) -> DeviceTraits | str:
    """Traits of an installed device, or in one line why it cannot be used (kept: probing a
    broken device again would fail the same way)."""
    with PENNYLANE_LOCK, warnings.catch_warnings():
        # Unusable devices warn on the way to failing; the failure is what is reported.
        warnings.simplefilter("ignore")
        try:
            _runs_exactly(name)
            title = type(make_device(name, 1)).__name__
            return DeviceTraits(name, title, _takes_channels(name), _backprop(name))
        except Exception as err:  # any failure of a plugin means: not usable here
            lines = str(err).strip().splitlines()
            return lines[0].rstrip(":") if lines else type(err).__name__


def usable_devices() -> list[str]:
    """Installed devices that pass the probe."""
    return [n for n in installed_devices() if isinstance(_inspect(n), DeviceTraits)]


def probe(name: str) -> DeviceTraits:
    """Traits of a device; one line naming the installed (or usable) devices otherwise."""
    installed = installed_devices()
    if name not in installed:
        close = difflib.get_close_matches(name, installed, n=1)
        hint = f" (did you mean {PREFIX}{close[0]}?)" if close else ""
        raise DeviceUnavailableError(
            f"unknown PennyLane device {name!r}{hint}; installed: {', '.join(installed)}")
    found = _inspect(name)
    if isinstance(found, str):
        raise DeviceUnavailableError(
            f"{PREFIX}{name} cannot run qorch circuits exactly ({found}); usable installed "
            f"devices: {', '.join(usable_devices())}")
    return found
