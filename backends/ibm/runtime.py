"""`ibm_<device>`: IBM Quantum hardware through qiskit-ibm-runtime's Executor, in one Batch."""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Sequence
from typing import Any

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Backend, Capabilities, CircuitBatch
from qorch.backends.credentials import Credentials
from qorch.backends.errors import (
    BackendError,
    CapabilityError,
    CredentialsError,
    DeviceUnavailableError,
)
from qorch.backends.ibm.devices import (
    CURRENT_IBM_HINT,
    RETIRED_IBM,
    calibration_report,
    known_device,
    reduce_to_used_qubits,
    retired_message,
    transpile_template,
)
from qorch.backends.ibm.jobs import (
    MAX_EXECUTIONS_PER_JOB,
    NO_CREDENTIALS,
    IBMJobHandle,
    classify,
)

DEFAULT_CHANNEL = "ibm_quantum_platform"


def default_service(credentials: Credentials) -> Any:
    """QiskitRuntimeService from the given token and instance, else the saved account."""
    if not credentials.ibm_present:
        raise CredentialsError(NO_CREDENTIALS)
    from qiskit_ibm_runtime import QiskitRuntimeService

    kwargs: dict[str, Any] = {}
    if credentials.ibm_token:
        kwargs = {
            "channel": credentials.ibm_channel or DEFAULT_CHANNEL,
            "token": credentials.ibm_token,
            "instance": credentials.ibm_instance or None,
        }
    # The library warns and logs on its way to failing; the user gets our one line instead.
    library_log = logging.getLogger("qiskit_ibm_runtime")
    level = library_log.level
    library_log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return QiskitRuntimeService(**kwargs)
    except Exception as err:
        raise classify(err, "connecting") from err
    finally:
        library_log.setLevel(level)


class IBMRuntimeBackend(Backend):
    """Executor programs in one Batch for the adapter's life (closed by close()); one program
    item per batch, every parameter row of a batch in its item."""

    def __init__(self, name: str, *, shots: int | None = None, service: Any | None = None,
                 credentials: Credentials | None = None,
                 poll_interval: float = 5.0) -> None:  # fmt: skip
        if name in RETIRED_IBM:
            raise DeviceUnavailableError(retired_message(name))
        self.name = name
        self._service = service
        self._credentials = credentials or Credentials()
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
            try:
                self._service = default_service(self._credentials)
            except CredentialsError as err:
                if known_device(self.name):
                    raise
                raise CredentialsError(f"{err}; note that {self.name} is not among the IBM "
                                       f"devices qorch knows offline "
                                       f"({', '.join(CURRENT_IBM_HINT)})") from err
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
                raise DeviceUnavailableError(f"{self.name} is {message}; nothing was sent")
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
        super().validate(template, shots, n_circuits)
        self.device()  # credentials, network and device existence, before anything is spent
        super().validate(template, shots, n_circuits)
        if shots and n_circuits and shots * n_circuits > MAX_EXECUTIONS_PER_JOB:
            raise CapabilityError(
                f"{self.name} takes at most {MAX_EXECUTIONS_PER_JOB} executions (rows x shots) per "
                f"job; {n_circuits} x {shots} is more: split the batch"
            )

    def isa_circuit(self, template: CircuitTemplate) -> Any:
        if template.hash not in self._isa:
            self._isa[template.hash] = transpile_template(template, self.device())
        return self._isa[template.hash]

    def calibration_report(self, template: CircuitTemplate) -> dict[str, Any]:
        isa = self.isa_circuit(template)
        return calibration_report(self.device(), template, isa, reduce_to_used_qubits(isa))

    def _mode(self) -> Any:
        """One Batch for the adapter's life: IBM schedules its jobs together."""
        if self._batch is None:
            from qiskit_ibm_runtime import Batch

            self._batch = Batch(backend=self.device())
        return self._batch

    def run_batches(self, batches: Sequence[CircuitBatch],
                    tags: Sequence[str] = ()) -> IBMJobHandle:  # fmt: skip
        from qorch.backends.qiskit.compile import parameter_matrix

        self.check_batches(batches)
        shots = batches[0].shots
        assert shots is not None  # validate() refuses exact requests on hardware
        try:
            from qiskit_ibm_runtime import Executor, QuantumProgram

            program = QuantumProgram(shots=shots)
            for b in batches:
                isa = self.isa_circuit(b.template)
                values = parameter_matrix(b.template, isa, b.inputs, b.weights)
                program.append_circuit_item(isa, circuit_arguments=values)
            for circuit in self.extra_items(batches):
                program.append_circuit_item(circuit)
            executor = Executor(mode=self._mode())
            # Each batch's tag, and tag#item: find_tagged() finds the job and the batch in it.
            executor.options.environment.job_tags = [
                *tags, *(f"{tag}#{item}" for item, tag in enumerate(tags))]
            job = executor.run(program)
        except BackendError:
            raise
        except Exception as err:
            raise classify(err, f"sending to {self.name}") from err
        return self.handle(job, dict(enumerate(batches)))

    def extra_items(self, batches: Sequence[CircuitBatch]) -> list[Any]:
        """Parameter-free circuits sent after the batches in the same job (none here; readout
        mitigation adds its calibration circuits)."""
        return []

    def handle(self, job: Any, items: dict[int, CircuitBatch]) -> IBMJobHandle:
        return IBMJobHandle(job, items, self.name, self._poll)

    def retrieve(self, provider_job_id: str, batch: CircuitBatch, item: int = 0) -> IBMJobHandle:
        try:
            job = self.service.job(provider_job_id)
        except BackendError:
            raise
        except Exception as err:
            raise classify(err, f"retrieving job {provider_job_id}") from err
        return self.handle(job, {item: batch})

    def find_tagged(self, tag: str) -> tuple[str, int] | None:
        try:
            jobs = self.service.jobs(job_tags=[tag], limit=1)
        except BackendError:
            raise
        except Exception as err:
            raise classify(err, f"looking up the job tagged {tag}") from err
        if not jobs:
            return None
        labels = list(getattr(jobs[0], "tags", None) or [])
        item = next((int(t.rsplit("#", 1)[1]) for t in labels if t.startswith(f"{tag}#")), 0)
        return str(jobs[0].job_id()), item

    def close(self) -> None:
        """Close the Batch so IBM stops holding it open for more jobs."""
        if self._batch is not None:
            try:
                self._batch.close()
            finally:
                self._batch = None
