"""`ibm_<device> --mitigate readout`: readout calibration circuits sent in the same provider job.

Each batch's item is followed, at the end of the program, by two parameter-free circuits on
the very physical qubits that batch is measured on: every qubit prepared in 0, and every qubit
flipped to 1, each measured into the same classical bits. Their shots give the tensored
confusion matrices of that job's readout, taken minutes (not a calibration cycle) from the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.errors import ProviderJobError
from qorch.backends.ibm.jobs import IBMJobHandle
from qorch.backends.ibm.runtime import IBMRuntimeBackend
from qorch.backends.noisy.mitigation import (
    ReadoutCalibration,
    calibration_from_bits,
    check_mitigable,
    mitigate_outputs,
)

CALIBRATIONS_PER_BATCH = 2  # all qubits in 0, all in 1


def measured_qubits(isa: Any) -> list[int]:
    """Physical qubit measured into classical bit i, for i = 0..n-1."""
    found = {isa.clbits.index(inst.clbits[0]): isa.qubits.index(inst.qubits[0])
             for inst in isa.data if inst.operation.name == "measure"}
    return [found[i] for i in range(len(found))]


def calibration_circuits(isa: Any) -> list[Any]:
    """The two calibration circuits of an ISA circuit, on the device's full width."""
    from qiskit.circuit import QuantumCircuit

    qubits = measured_qubits(isa)
    circuits = []
    for flipped in (False, True):
        circuit = QuantumCircuit(isa.num_qubits, len(qubits), name=f"readout_cal_{int(flipped)}")
        for clbit, qubit in enumerate(qubits):
            if flipped:
                circuit.x(qubit)
            circuit.measure(qubit, clbit)
        circuits.append(circuit)
    return circuits


def item_bits(item: Any) -> np.ndarray:
    """Calibration shots [shots, n] of one result item (one circuit, no parameter rows)."""
    arrays = dict(item)
    bits = arrays.get("meas", next(iter(arrays.values())) if len(arrays) == 1 else None)
    if bits is None:
        raise ProviderJobError("a calibration item has no single classical register to read")
    table = np.asarray(bits, dtype=bool)
    return table.reshape(-1, table.shape[-1])


class MitigatedIBMJobHandle(IBMJobHandle):
    """Items decoded as usual, then corrected with the calibration items of the same job."""

    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        raw = super().result(item, timeout)
        return mitigate_outputs(self._items[item].template, raw, self.calibration(item, timeout))

    def raw(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        """The outputs as measured."""
        return super().result(item, timeout)

    def calibration(self, item: int = 0, timeout: float | None = None) -> ReadoutCalibration:
        """The readout calibration measured in this job for one batch."""
        results = self._wait(timeout)
        per_batch = 1 + CALIBRATIONS_PER_BATCH
        if len(results) % per_batch:
            raise ProviderJobError(f"IBM job {self.provider_job_id} has {len(results)} items, "
                                   "not one data and two calibration items per batch")
        first = len(results) // per_batch + CALIBRATIONS_PER_BATCH * item
        zeros, ones = item_bits(results[first]), item_bits(results[first + 1])
        return calibration_from_bits(zeros, ones, f"calibration circuits in IBM job "
                                                  f"{self.provider_job_id}")


class ReadoutMitigatedIBM(IBMRuntimeBackend):
    """The IBM adapter with two readout calibration circuits per batch in every job."""

    mitigation = "readout"

    def validate(self, template: CircuitTemplate, shots: int | None,
                 n_circuits: int | None = None) -> None:
        super().validate(template, shots, n_circuits)
        # Until the job has run, only the shape of the outputs can be checked.
        check_mitigable(template, ReadoutCalibration((0.1,) * template.n_qubits,
                                                     (0.0,) * template.n_qubits, "check"))

    def extra_items(self, batches: Sequence[CircuitBatch]) -> list[Any]:
        return [c for b in batches for c in calibration_circuits(self.isa_circuit(b.template))]

    def handle(self, job: Any, items: dict[int, CircuitBatch]) -> IBMJobHandle:
        return MitigatedIBMJobHandle(job, items, self.name, self._poll)
