"""The `--noise` channels as Braket noise instructions (the density-matrix simulator's pragmas)."""

from __future__ import annotations

from typing import Any

from qorch.backends.errors import NoiseSpecError
from qorch.backends.noise import NoiseSpec


def apply_braket_noise(spec: NoiseSpec, circuit: Any) -> Any:
    """Add the channels to a Braket Circuit (after each gate, bit flips before measurement)."""
    if spec.has_thermal:
        raise NoiseSpecError(
            "thermal relaxation (t1/t2/gate_time) is only supported on aer; for braket_dm use "
            "amp= and phase= (amplitude/phase damping) instead"
        )
    from braket.circuits import gates, noises

    one = [gates.Rx, gates.Ry, gates.Rz, gates.H]
    two = [gates.CNot, gates.CZ]
    if spec.depol1:
        circuit.apply_gate_noise(noises.Depolarizing(spec.depol1), target_gates=one)
    if spec.depol2:
        circuit.apply_gate_noise(noises.TwoQubitDepolarizing(spec.depol2), target_gates=two)
    if spec.amp:
        circuit.apply_gate_noise(noises.AmplitudeDamping(spec.amp), target_gates=one + two)
    if spec.phase:
        circuit.apply_gate_noise(noises.PhaseDamping(spec.phase), target_gates=one + two)
    if spec.readout:
        circuit.apply_readout_noise(noises.BitFlip(spec.readout))
    return circuit
