"""The `--noise` channels as PennyLane operations, for devices that evolve density matrices."""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qorch.backends.circuits.template import Gate
from qorch.backends.noise import NoiseSpec

if TYPE_CHECKING:
    from pennylane.operation import Operator

_PAULIS = (
    np.eye(2, dtype=np.complex128),
    np.array([[0, 1], [1, 0]], dtype=np.complex128),
    np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    np.array([[1, 0], [0, -1]], dtype=np.complex128),
)


@lru_cache(maxsize=16)
def two_qubit_depolarizing_kraus(p: float) -> tuple[np.ndarray, ...]:
    """Kraus operators of the 2-qubit depolarizing channel: each of the 15 non-identity Paulis
    with probability p/15 (Braket's TwoQubitDepolarizing; PennyLane has no such class)."""
    products = [np.kron(a, b) for a, b in itertools.product(_PAULIS, _PAULIS)]
    return (np.sqrt(1 - p) * products[0], *(np.sqrt(p / 15) * k for k in products[1:]))


def channels_after(gate: Gate, spec: NoiseSpec) -> list[Operator]:
    """The channels that follow one gate.

    Same order as the Aer model (depolarizing, then amplitude damping, phase damping and thermal
    relaxation on each qubit the gate touches) and as Braket's pragmas, so that the three
    emulators build the same channel.
    """
    import pennylane as qml

    wires = list(gate.wires)
    ops: list[Operator] = []
    if len(wires) == 1 and spec.depol1:
        ops.append(qml.DepolarizingChannel(spec.depol1, wires=wires[0]))
    if len(wires) == 2 and spec.depol2:
        ops.append(qml.QubitChannel(list(two_qubit_depolarizing_kraus(spec.depol2)), wires=wires))
    for kind in ("amp", "phase", "thermal"):
        for wire in wires:
            if kind == "amp" and spec.amp:
                ops.append(qml.AmplitudeDamping(spec.amp, wires=wire))
            elif kind == "phase" and spec.phase:
                ops.append(qml.PhaseDamping(spec.phase, wires=wire))
            elif kind == "thermal" and spec.t1 is not None and spec.t2 is not None:
                duration = spec.gate_time if len(wires) == 1 else spec.two_qubit_time
                # Excited-state population 0: relaxation toward |0>, as Aer's default.
                ops.append(qml.ThermalRelaxationError(0.0, spec.t1, spec.t2, duration, wires=wire))
    return ops


def readout_channels(spec: NoiseSpec, n_qubits: int) -> list[Operator]:
    """Symmetric bit flips just before measurement, one per qubit."""
    import pennylane as qml

    if not spec.readout:
        return []
    return [qml.BitFlip(spec.readout, wires=q) for q in range(n_qubits)]
