"""IBM Runtime jobs: error classification, status and queue phase, decoding of program items."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from qorch.backends.circuits.decode import outputs_from_bits
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch, JobHandle
from qorch.backends.errors import (
    BackendError,
    CredentialsError,
    DeviceUnavailableError,
    ProviderJobError,
    ProviderUnreachableError,
)
from qorch.backends.provider_errors import auth_cause, network_cause, root_message

TOKEN_ENV, INSTANCE_ENV = "QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE"  # named in messages
# IBM Runtime caps one job's executions (parameter rows x shots); rows per job follow from it.
MAX_EXECUTIONS_PER_JOB = 10_000_000
FINAL = {"DONE": "DONE", "ERROR": "ERROR", "CANCELLED": "CANCELLED"}
NO_CREDENTIALS = (
    f"no IBM Quantum credentials: set {TOKEN_ENV} (and {INSTANCE_ENV}) or save an account with "
    "QiskitRuntimeService.save_account(token=..., instance=...)"
)


def classify(err: BaseException, what: str) -> BackendError:
    """One-line error from a qiskit-ibm-runtime failure; the cause chain decides the kind, since
    e.g. an unreachable network surfaces as 'Unable to retrieve instances ... valid API token'."""
    if isinstance(err, BackendError):
        return err
    net = network_cause(err)
    if net is not None:
        return ProviderUnreachableError(
            f"cannot reach IBM Quantum while {what}: {root_message(net)}; check the network/proxy"
        )
    auth = auth_cause(err)
    if auth is not None:
        if type(auth).__name__ == "AccountNotFoundError":
            return CredentialsError(NO_CREDENTIALS)
        return CredentialsError(
            f"IBM Quantum refused the credentials while {what} ({root_message(auth)}); "
            f"check {TOKEN_ENV} and {INSTANCE_ENV}"
        )
    name = type(err).__name__
    if "BackendNotFound" in name:
        return DeviceUnavailableError(
            f"IBM Quantum has no device for this account: {root_message(err)}"
        )
    if "JobNotFound" in name:
        return ProviderJobError(f"IBM Quantum job not found while {what}: {root_message(err)}")
    return ProviderJobError(f"IBM Quantum error while {what}: {name}: {root_message(err)}")


def _state(status: Any) -> str:
    return str(getattr(status, "name", status)).upper()


def decode_item(template: CircuitTemplate, item: Any, rows: int) -> np.ndarray:
    """Outputs [rows, n_outputs] of one executor item result: bits [rows, shots, clbits]."""
    arrays = dict(item)
    bits = arrays.get("meas")
    if bits is None:  # another register name: take the only one there is
        if len(arrays) != 1:
            raise ProviderJobError("the result item has no single classical register to read")
        bits = next(iter(arrays.values()))
    table = np.asarray(bits, dtype=bool)
    table = table.reshape(-1, table.shape[-2], table.shape[-1])
    if table.shape[0] != rows:
        raise ProviderJobError(f"the job returned {table.shape[0]} rows, expected {rows}")
    return outputs_from_bits(template, table)


class IBMJobHandle(JobHandle):
    """A runtime job: status in IBM's words, queue position when IBM reports it; one quantum
    program item per batch."""

    def __init__(self, job: Any, items: dict[int, CircuitBatch], device: str,
                 poll_interval: float = 5.0) -> None:  # fmt: skip
        self._job, self._items, self._device = job, items, device
        self._poll = poll_interval
        self._result: Any = None

    @property
    def provider_job_id(self) -> str:
        return str(self._job.job_id())

    def status(self) -> str:
        try:
            return _state(self._job.status())
        except Exception as err:
            raise classify(err, f"reading job {self.provider_job_id}") from err

    def phase(self) -> str | None:
        state = self.status()
        if state in ("QUEUED", "INITIALIZING"):
            position = None
            try:
                metrics = self._job.metrics() or {}
                position = metrics.get("position_in_queue") or metrics.get("queue_position")
            except Exception:  # metrics are optional; the state alone is still worth showing
                position = None
            where = f"queue position {position}" if position else "queue position not reported"
            return f"waiting for {self._device}, {where}"
        if state == "RUNNING":
            return f"running on {self._device}"
        return None

    def _wait(self, timeout: float | None) -> Any:
        if self._result is not None:
            return self._result
        deadline = None if timeout is None else time.monotonic() + timeout
        while (state := self.status()) not in FINAL:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"IBM job {self.provider_job_id} is {state} on {self._device}")
            wait = self._poll if deadline is None else min(self._poll, deadline - time.monotonic())
            time.sleep(max(wait, 0.0))
        if state != "DONE":
            message = ""
            try:
                message = str(self._job.error_message() or "")
            except Exception:  # the state already says enough
                message = ""
            raise ProviderJobError(
                f"IBM job {self.provider_job_id} ended {state}"
                + (f": {message}" if message else "")
            )
        try:
            self._result = self._job.result()
        except Exception as err:
            raise classify(err, f"fetching the result of job {self.provider_job_id}") from err
        return self._result

    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        batch = self._items.get(item)
        if batch is None:
            raise ProviderJobError(f"IBM job {self.provider_job_id} has no item {item} here")
        results = self._wait(timeout)
        if item >= len(results):
            raise ProviderJobError(
                f"IBM job {self.provider_job_id} returned {len(results)} items, expected item "
                f"{item}"
            )
        return decode_item(batch.template, results[item], batch.n_circuits)

    def cancel(self) -> None:
        try:
            self._job.cancel()
        except Exception as err:
            raise classify(err, f"cancelling job {self.provider_job_id}") from err
