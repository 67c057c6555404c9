"""`fake_<device>`: an IBM snapshot's ISA, layout and calibration noise, simulated on its used
qubits by the torch noisy engine (the default) or by Aer."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, NamedTuple

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
from qorch.backends.noisy.local import TorchNoisyEngine, check_engine
from qorch.backends.noisy.mitigation import ReadoutCalibration, calibration_of
from qorch.backends.qiskit.aer import run_counts

if TYPE_CHECKING:
    import torch

# Up to this many used physical qubits the noisy circuit runs as a density matrix (one
# evolution per row); wider ones fall back to Aer's per-shot noise trajectories.
DENSITY_MATRIX_MAX_QUBITS = 10
# IBM Runtime limits a job by its total executions; rows per job are capped to stay inside it.
MAX_ROWS_PER_JOB = 10_000


class Compiled(NamedTuple):
    isa: Any  # the full-device ISA circuit (what would be sent to the hardware)
    reduced: Reduced
    noise_model: Any  # the device's calibration noise on the used qubits, renumbered
    simulator: Any  # AerSimulator with that noise model


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
    model = reduced_noise_model(device, reduced.physical)
    simulator = AerSimulator(
        method="density_matrix" if dense else "statevector",
        noise_model=model,
        max_parallel_experiments=0,
    )
    compiled = Compiled(isa, reduced, model, simulator)
    with _cache_lock:
        _cache[key] = compiled
    return compiled


class FakeDeviceBackend(LocalBackend):
    """Transpiled to the device like hardware, then only the used qubits are simulated, with the
    device's gate, readout and relaxation errors on exactly those qubits, all rows in one run.

    engine "torch" (default): the batched torch density-matrix engine, exact noisy
    probabilities sampled per seed block, and autograd through the noise (`evaluate`) for
    noise-aware training; circuits on more used qubits than it takes run on Aer. engine "aer":
    Aer's density-matrix simulation, kept for cross-checks."""

    def __init__(self, device_name: str, *, seed: int | None = None,
                 engine: str = "torch") -> None:
        super().__init__(seed)
        self.name = device_name
        device = fake_device(device_name)
        self.device_name = str(device.name)
        self.engine = check_engine(engine)
        config = device.configuration()
        self.capabilities = Capabilities(
            kind="noisy-emulator",
            max_qubits=int(device.num_qubits),
            max_circuits_per_job=MAX_ROWS_PER_JOB,
            max_shots=int(getattr(config, "max_shots", 100_000) or 100_000),
            differentiable=engine == "torch",
            seeded=True,
        )
        self._torch = TorchNoisyEngine(device_name, self._reduced_circuit)

    def _reduced_circuit(self, template: CircuitTemplate) -> tuple[Any, Any]:
        compiled = compile_for_device(self.name, template)
        return compiled.reduced.circuit, compiled.noise_model

    def on_engine(self, template: CircuitTemplate) -> bool:
        """Whether this template's batches run on the torch engine."""
        return self.engine == "torch" and self._torch.why_not(template) is None

    def readout_calibration(self, template: CircuitTemplate) -> ReadoutCalibration:
        """The snapshot's readout errors of the physical qubits the template is measured on."""
        circuit, model = self._reduced_circuit(template)
        return calibration_of(template, circuit, model, f"{self.device_name} calibration")

    def evaluate(self, template: CircuitTemplate, inputs: torch.Tensor, weights: torch.Tensor,
                 shots: int | None, generator: torch.Generator | None) -> torch.Tensor:
        """Noise-aware outputs: autograd through the device's noise on the torch engine."""
        if self.engine != "torch":
            return super().evaluate(template, inputs, weights, shots, generator)
        return self._torch.evaluate(template, inputs, weights, shots, generator)

    def calibration_report(self, template: CircuitTemplate) -> dict[str, Any]:
        """Device, snapshot date, layout and the error rates of the physical qubits used."""
        compiled = compile_for_device(self.name, template)
        return calibration_report(fake_device(self.name), template, compiled.isa, compiled.reduced)

    def simulate(
        self, template: CircuitTemplate, params: np.ndarray, shots: int | None, seed: int
    ) -> np.ndarray:
        assert shots is not None  # validate() refuses exact requests on fake devices
        if self.on_engine(template):
            return self._torch.simulate(template, params, shots, seed)
        compiled = compile_for_device(self.name, template)
        return run_counts(compiled.simulator, template, compiled.reduced.circuit, params, shots,
                          seed)
