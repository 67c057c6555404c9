"""`ibm_<device>`: IBM Quantum hardware through qiskit-ibm-runtime (Batch mode, SamplerV2)."""

from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Any

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Capabilities, CircuitBatch
from qorch.backends.errors import (
    BackendError,
    CapabilityError,
    CredentialsError,
    DeviceUnavailableError,
)
from qorch.backends.ibm.devices import (
    RETIRED_IBM,
    calibration_report,
    reduce_to_used_qubits,
    retired_message,
    transpile_template,
)
from qorch.backends.ibm.jobs import (
    CHANNEL_ENV,
    INSTANCE_ENV,
    MAX_EXECUTIONS_PER_JOB,
    NO_CREDENTIALS,
    TOKEN_ENV,
    IBMJobHandle,
    classify,
    credentials_present,
)
from qorch.backends.local.backend import check_params, check_request
from qorch.backends.noise import NoiseSpec


def default_service() -> Any:
    """QiskitRuntimeService from QISKIT_IBM_TOKEN/QISKIT_IBM_INSTANCE, else the saved account."""
    if not credentials_present():
        raise CredentialsError(NO_CREDENTIALS)
    from qiskit_ibm_runtime import QiskitRuntimeService

    kwargs: dict[str, Any] = {}
    if os.environ.get(TOKEN_ENV):
        kwargs = {
            "channel": os.environ.get(CHANNEL_ENV) or "ibm_quantum_platform",
            "token": os.environ[TOKEN_ENV],
            "instance": os.environ.get(INSTANCE_ENV) or None,
        }
    try:
        return QiskitRuntimeService(**kwargs)
    except Exception as err:
        raise classify(err, "connecting") from err


class IBMRuntimeBackend:
    """SamplerV2 in a Batch on the transpiled ISA circuit; every parameter row in one PUB."""

    def __init__(self, name: str, *, shots: int | None = None, service: Any | None = None,
                 noise: NoiseSpec | None = None, poll_interval: float = 5.0) -> None:  # fmt: skip
        if name in RETIRED_IBM:
            raise DeviceUnavailableError(retired_message(name))
        if noise is not None and not noise.is_noiseless:
            raise CapabilityError(f"{name} is real hardware; --noise only applies to aer/braket_dm")
        self.name = name
        self.noise = NoiseSpec()
        self._service = service
        self._backend: Any = None
        self._batch: Any = None
        self._isa: dict[str, Any] = {}
        self._poll = poll_interval
        max_shots = 100_000
        rows = MAX_EXECUTIONS_PER_JOB // max(shots or max_shots, 1)
        # Width is refined from the device once it is fetched; this is the widest current one.
        self.capabilities = Capabilities(
            kind="hardware", max_qubits=156, max_circuits_per_job=max(1, min(rows, 10_000)),
            max_shots=max_shots,
        )  # fmt: skip

    @property
    def service(self) -> Any:
        if self._service is None:
            self._service = default_service()
        return self._service

    def device(self) -> Any:
        """The IBM backend object (one network call, then cached); refines the capabilities."""
        if self._backend is None:
            try:
                backend = self.service.backend(self.name)
            except BackendError:
                raise
            except Exception as err:
                error = classify(err, f"looking up {self.name}")
                if isinstance(error, DeviceUnavailableError):
                    error = DeviceUnavailableError(self._unknown_device_message())
                raise error from err
            try:
                status = backend.status()
            except Exception as err:
                raise classify(err, f"reading the status of {self.name}") from err
            if not getattr(status, "operational", True):
                message = getattr(status, "status_msg", "") or "not operational"
                raise DeviceUnavailableError(f"{self.name} is {message}; nothing was submitted")
            config = backend.configuration()
            self.capabilities = dataclasses.replace(
                self.capabilities,
                max_qubits=int(backend.num_qubits),
                max_shots=int(getattr(config, "max_shots", 0) or self.capabilities.max_shots),
            )
            self._backend = backend
        return self._backend

    def _unknown_device_message(self) -> str:
        try:
            names = sorted(b.name for b in self.service.backends())
        except Exception:  # the listing is a courtesy; the main message stands without it
            names = []
        offered = f"; devices for this account: {', '.join(names)}" if names else ""
        return f"unknown IBM device {self.name!r}{offered}"

    def validate(
        self, template: CircuitTemplate, shots: int | None, n_circuits: int | None = None
    ) -> None:
        check_request(self.name, self.capabilities, template, shots, n_circuits)
        self.device()  # credentials, network and device existence, before anything is spent
        check_request(self.name, self.capabilities, template, shots, n_circuits)
        if shots and n_circuits and shots * n_circuits > MAX_EXECUTIONS_PER_JOB:
            raise CapabilityError(
                f"{self.name} takes at most {MAX_EXECUTIONS_PER_JOB} executions (rows x shots) per "
                f"job; {n_circuits} x {shots} is more: split the batch"
            )

    def isa_circuit(self, template: CircuitTemplate) -> Any:
        if template.hash not in self._isa:
            self._isa[template.hash] = transpile_template(template, self.device())
        return self._isa[template.hash]

    def calibration_report(self, template: CircuitTemplate) -> dict:
        isa = self.isa_circuit(template)
        return calibration_report(self.device(), template, isa, reduce_to_used_qubits(isa))

    def _batch_mode(self) -> Any:
        if self._batch is None:
            from qiskit_ibm_runtime import Batch

            self._batch = Batch(backend=self.device())
        return self._batch

    def submit(self, batch: CircuitBatch) -> IBMJobHandle:
        from qorch.backends.qiskit.compile import parameter_matrix

        self.validate(batch.template, batch.shots, batch.n_circuits)
        check_params(batch)
        isa = self.isa_circuit(batch.template)
        values = parameter_matrix(batch.template, isa, batch.inputs, batch.weights)
        try:
            from qiskit_ibm_runtime import SamplerV2

            with warnings.catch_warnings():
                # Deprecated since 0.50 in favour of the client-side executor Sampler; kept for
                # now because its PUB and result formats are stable and its local mode runs
                # the same code path on fake backends (see tests/backends/test_ibm.py).
                warnings.simplefilter("ignore", DeprecationWarning)
                sampler = SamplerV2(mode=self._batch_mode())
            job = sampler.run([(isa, values)], shots=batch.shots)
        except Exception as err:
            raise classify(err, f"submitting to {self.name}") from err
        return IBMJobHandle(job, batch.template, batch.n_circuits, self.name, self._poll)

    def retrieve(self, provider_job_id: str, batch: CircuitBatch) -> IBMJobHandle:
        try:
            job = self.service.job(provider_job_id)
        except BackendError:
            raise
        except Exception as err:
            raise classify(err, f"retrieving job {provider_job_id}") from err
        return IBMJobHandle(job, batch.template, batch.n_circuits, self.name, self._poll)

    def close(self) -> None:
        """Close the Batch so IBM stops holding it open for more jobs."""
        if self._batch is not None:
            try:
                self._batch.close()
            finally:
                self._batch = None
