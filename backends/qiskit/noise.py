"""The `--noise` channels as a qiskit-aer NoiseModel over the gates the compiler emits."""

from __future__ import annotations

from typing import Any

from qorch.backends.noise import NoiseSpec

ONE_QUBIT_GATES = ("rx", "ry", "rz", "h")
TWO_QUBIT_GATES = ("cx", "cz")


def aer_noise_model(spec: NoiseSpec) -> Any:
    """A NoiseModel: depolarizing, damping and thermal relaxation after each gate, readout flips."""
    from qiskit_aer.noise import (
        NoiseModel,
        ReadoutError,
        amplitude_damping_error,
        depolarizing_error,
        phase_damping_error,
        thermal_relaxation_error,
    )

    model = NoiseModel(basis_gates=[*ONE_QUBIT_GATES, *TWO_QUBIT_GATES])
    for width, gates in ((1, ONE_QUBIT_GATES), (2, TWO_QUBIT_GATES)):
        p = spec.depol1 if width == 1 else spec.depol2
        # Aer's parameter is the depolarizing strength: p = (1 - 1/4^n) * lambda.
        lam = p * 4**width / (4**width - 1)
        per_qubit = []
        if spec.amp:
            per_qubit.append(amplitude_damping_error(spec.amp))
        if spec.phase:
            per_qubit.append(phase_damping_error(spec.phase))
        if spec.t1 is not None and spec.t2 is not None:
            duration = spec.gate_time if width == 1 else spec.two_qubit_time
            per_qubit.append(thermal_relaxation_error(spec.t1, spec.t2, duration))
        error = depolarizing_error(lam, width) if lam else None
        for single in per_qubit:
            layer = single if width == 1 else single.tensor(single)
            error = layer if error is None else error.compose(layer)
        if error is not None:
            model.add_all_qubit_quantum_error(error, list(gates))
    if spec.readout:
        q = spec.readout
        model.add_all_qubit_readout_error(ReadoutError([[1 - q, q], [q, 1 - q]]))
    return model
