"""Braket quantum-task handles: state, queue position, error classification, result decoding."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qorch.backends.circuits.decode import outputs_from_bitstring_counts
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch, JobHandle
from qorch.backends.errors import (
    BackendError,
    CredentialsError,
    DeviceUnavailableError,
    ProviderJobError,
    ProviderUnreachableError,
)
from qorch.backends.provider_errors import (
    auth_cause,
    aws_error_code,
    chain,
    network_cause,
    root_message,
)

FINAL = ("COMPLETED", "FAILED", "CANCELLED")
NO_CREDENTIALS = (
    "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE "
    "(or run `aws configure`)"
)


def classify(err: BaseException, what: str) -> BackendError:
    if isinstance(err, BackendError):
        return err
    net = network_cause(err)
    if net is not None:
        return ProviderUnreachableError(
            f"cannot reach Amazon Braket while {what}: {root_message(net)}"
        )
    if any(type(e).__name__ == "NoRegionError" for e in _chain(err)):
        return CredentialsError(
            "no AWS region: set AWS_REGION (e.g. us-east-1) or use a device ARN"
        )
    auth = auth_cause(err)
    if auth is not None:
        if type(auth).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            return CredentialsError(NO_CREDENTIALS)
        return CredentialsError(f"AWS refused the credentials while {what}: {root_message(auth)}")
    codes = {aws_error_code(e) for e in _chain(err)}
    text = root_message(err)
    if "ResourceNotFoundException" in codes or "not found" in text.lower():
        return DeviceUnavailableError(f"Amazon Braket has no such device/task while {what}: {text}")
    return ProviderJobError(f"Amazon Braket error while {what}: {type(err).__name__}: {text}")


def _chain(err: BaseException) -> list[BaseException]:
    return list(chain(err))


def reorder_counts(counts: Mapping[str, int], measured: Sequence[int], n: int) -> dict[str, int]:
    """Counts keyed by measured_qubits order -> keyed by template qubits 0..n-1 (qubit 0 left)."""
    measured = [int(q) for q in measured]
    if measured == list(range(n)):
        return dict(counts)
    position = {q: i for i, q in enumerate(measured)}
    if any(q not in position for q in range(n)):
        raise ProviderJobError(f"the device measured qubits {measured}, not all of 0..{n - 1}")
    out: dict[str, int] = {}
    for key, count in counts.items():
        fixed = "".join(key[position[q]] for q in range(n))
        out[fixed] = out.get(fixed, 0) + int(count)
    return out


def entry_counts(entries: Sequence[Any], template: CircuitTemplate) -> list[dict[str, int]]:
    """Counts keyed by template qubits from per-row result entries."""
    return [
        reorder_counts(e.counts if hasattr(e, "counts") else e.measurement_counts,
                       e.measured_qubits, template.n_qubits)
        for e in entries
    ]  # fmt: skip


def decode_item(results: Sequence[Any], item: int, batch: CircuitBatch) -> np.ndarray:
    """Outputs [rows, n_outputs] of one item: program `item` of a program-set result, or (one
    task per row) the tasks' own results."""
    if results and hasattr(results[0], "entries"):
        programs = list(results[0].entries)
        if item >= len(programs):
            raise ProviderJobError(
                f"Braket returned {len(programs)} programs, expected item {item}")
        entries = list(programs[item].entries)
    else:
        entries = list(results)
    if len(entries) != batch.n_circuits:
        raise ProviderJobError(f"Braket returned {len(entries)} results, expected "
                               f"{batch.n_circuits}")
    return outputs_from_bitstring_counts(batch.template, entry_counts(entries, batch.template))


class BraketTaskHandle(JobHandle):
    """One program-set task (one program per batch), or one task per row; the id is the task
    ARNs joined by commas."""

    def __init__(self, tasks: Sequence[Any], items: dict[int, CircuitBatch], device: str,
                 poll_interval: float = 5.0) -> None:  # fmt: skip
        self._tasks, self._items = list(tasks), items
        self._device, self._poll = device, poll_interval
        self._results: list[Any] | None = None

    @property
    def provider_job_id(self) -> str:
        return ",".join(str(t.id) for t in self._tasks)

    def _states(self) -> list[str]:
        try:
            return [str(t.state()).upper() for t in self._tasks]
        except Exception as err:
            raise classify(err, "reading task state") from err

    def status(self) -> str:
        states = self._states()
        for state in ("FAILED", "CANCELLED", "CANCELLING", "RUNNING", "QUEUED", "CREATED"):
            if state in states:
                return state
        return "COMPLETED" if states and all(s == "COMPLETED" for s in states) else states[0]

    def phase(self) -> str | None:
        state = self.status()
        if state in ("QUEUED", "CREATED"):
            position = None
            for task in self._tasks:
                try:
                    position = task.queue_position().queue_position
                except Exception:  # queue info is optional; the state alone is still useful
                    position = None
                if position:
                    break
            where = f"queue position {position}" if position else "queue position not reported"
            return f"waiting for {self._device}, {where}"
        return f"running on {self._device}" if state == "RUNNING" else None

    def _wait(self, timeout: float | None) -> list[Any]:
        if self._results is not None:
            return self._results
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            states = self._states()
            if all(state in FINAL for state in states):
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"Braket task(s) {self.provider_job_id} still {self.status()}")
            wait = self._poll if deadline is None else min(self._poll, deadline - time.monotonic())
            time.sleep(max(wait, 0.0))
        if any(s != "COMPLETED" for s in states):
            bad = next(s for s in states if s != "COMPLETED")
            raise ProviderJobError(f"Braket task(s) {self.provider_job_id} ended {bad}")
        try:
            self._results = [t.result() for t in self._tasks]
        except Exception as err:
            raise classify(err, "fetching task results") from err
        return self._results

    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        batch = self._items.get(item)
        if batch is None:
            raise ProviderJobError(f"Braket task(s) {self.provider_job_id} have no item {item}")
        return decode_item(self._wait(timeout), item, batch)

    def cancel(self) -> None:
        for task in self._tasks:
            try:
                task.cancel()
            except Exception as err:
                raise classify(err, f"cancelling {task.id}") from err
