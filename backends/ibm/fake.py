"""`fake_<device>`: an IBM snapshot's ISA, layout and calibration noise, simulated with Aer."""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Capabilities
from qorch.backends.ibm.devices import (
    Reduced,
    calibration_report,
    fake_device,
    reduce_to_used_qubits,
    reduced_noise_model,
    transpile_template,
)
from qorch.backends.local.backend import LocalBackend
from qorch.backends.qiskit.aer import run_counts

# Up to this many used physical qubits the noisy circuit runs as a density matrix (one
# evolution per row); wider ones fall back to Aer's per-shot noise trajectories.
DENSITY_MATRIX_MAX_QUBITS = 10
# IBM Runtime limits a job by its total executions; rows per job are capped to stay inside it.
MAX_ROWS_PER_JOB = 10_000


class Compiled(NamedTuple):
    isa: Any  # the full-device ISA circuit (what would be sent to the hardware)
    reduced: Reduced
    simulator: Any  # AerSimulator with the reduced calibration noise model


_cache: dict[tuple[str, str], Compiled] = {}
_cache_lock = threading.Lock()


def compile_for_device(device_name: str, template: CircuitTemplate) -> Compiled:
    """Transpile once per (device, template hash) and build the reduced noisy simulator."""
    key = (device_name, template.hash)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    from qiskit_aer import AerSimulator

    device = fake_device(device_name)
    isa = transpile_template(template, device)
    reduced = reduce_to_used_qubits(isa)
    dense = len(reduced.physical) <= DENSITY_MATRIX_MAX_QUBITS
    simulator = AerSimulator(
        method="density_matrix" if dense else "statevector",
        noise_model=reduced_noise_model(device, reduced.physical),
        max_parallel_experiments=0,
    )
    compiled = Compiled(isa, reduced, simulator)
    with _cache_lock:
        _cache[key] = compiled
    return compiled


class FakeDeviceBackend(LocalBackend):
    """Transpiled to the device like hardware, then only the used qubits are simulated, with the
    device's gate, readout and relaxation errors on exactly those qubits, all rows in one run."""

    def __init__(self, device_name: str, *, seed: int | None = None) -> None:
        super().__init__(seed)
        self.name = device_name
        device = fake_device(device_name)
        self.device_name = str(device.name)
        config = device.configuration()
        self.capabilities = Capabilities(
            kind="noisy-emulator",
            max_qubits=int(device.num_qubits),
            max_circuits_per_job=MAX_ROWS_PER_JOB,
            max_shots=int(getattr(config, "max_shots", 100_000) or 100_000),
            seeded=True,
        )

    def calibration_report(self, template: CircuitTemplate) -> dict[str, Any]:
        """Device, snapshot date, layout and the error rates of the physical qubits used."""
        compiled = compile_for_device(self.name, template)
        return calibration_report(fake_device(self.name), template, compiled.isa, compiled.reduced)

    def simulate(
        self, template: CircuitTemplate, params: np.ndarray, shots: int | None, seed: int
    ) -> np.ndarray:
        assert shots is not None  # validate() refuses exact requests on fake devices
        compiled = compile_for_device(self.name, template)
        return run_counts(compiled.simulator, template, compiled.reduced.circuit, params, shots,
                          seed)
