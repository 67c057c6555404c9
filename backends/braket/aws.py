"""`braket:<device>` / ARN: Amazon Braket devices via AwsDevice; one program-set task per batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from qorch.backends.braket.pricing import STATIC_QUBITS, arn_parts, estimate_cost, resolve_arn
from qorch.backends.braket.tasks import NO_CREDENTIALS, BraketTaskHandle, classify
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Backend, Capabilities, CircuitBatch
from qorch.backends.credentials import Credentials
from qorch.backends.errors import (
    BackendError,
    CapabilityError,
    CredentialsError,
    DeviceUnavailableError,
)

PROGRAM_SET = "braket.ir.openqasm.program_set"
DEFAULT_REGION = "us-east-1"


class BraketDeviceBackend(Backend):
    """AwsDevice with a short-timeout, no-retry session; all rows in one program-set task when
    the device supports program sets, else one task per job (max_circuits_per_job = 1, so the
    orchestrator submits every row as its own task, each with a short id, before waiting)."""

    def __init__(self, name: str, *, credentials: Credentials | None = None,
                 session_factory: Callable[[str], Any] | None = None,
                 device_factory: Callable[[str, Any], Any] | None = None,
                 task_factory: Callable[[str], Any] | None = None,
                 tagging_factory: Callable[[], Any] | None = None,
                 poll_interval: float = 5.0) -> None:  # fmt: skip
        self.arn = resolve_arn(name)
        region, simulator, _, device = arn_parts(self.arn)
        self.name = name if name.startswith(("braket:", "arn:")) else f"braket:{name}"
        self.region = region or (credentials or Credentials()).aws_region or DEFAULT_REGION
        self._session_factory = session_factory or default_session
        self._device_factory = device_factory or _aws_device
        self._task_factory = task_factory
        self._tagging_factory = tagging_factory
        self._device: Any = None
        self._session: Any = None
        self._poll = poll_interval
        self.capabilities = Capabilities(
            kind="simulator" if simulator else "hardware",
            max_qubits=STATIC_QUBITS.get(device, 20),
            max_circuits_per_job=100,
            max_shots=100_000,
        )

    def session(self) -> Any:
        if self._session is None:
            self._session = self._session_factory(self.region)
        return self._session

    def device(self) -> Any:
        """Fetch the device (one GetDevice call); refuse it unless ONLINE; refine the limits."""
        if self._device is None:
            try:
                device = self._device_factory(self.arn, self.session())
                status = str(device.status).upper()
                props = device.properties
            except BackendError:
                raise
            except Exception as err:
                raise classify(err, f"looking up {self.arn}") from err
            if status != "ONLINE":
                raise DeviceUnavailableError(
                    f"{self.name} is {status} on Amazon Braket; nothing was submitted"
                )
            caps = self.capabilities
            qubits = getattr(getattr(props, "paradigm", None), "qubitCount", None)
            shots = getattr(getattr(props, "service", None), "shotsRange", None)
            program_set = props.action.get(PROGRAM_SET) if hasattr(props, "action") else None
            self.capabilities = dataclasses.replace(
                caps,
                max_qubits=int(qubits) if qubits else caps.max_qubits,
                max_shots=int(shots[1]) if shots else caps.max_shots,
                max_circuits_per_job=int(program_set.maximumExecutables) if program_set else 1,
            )
            self._device = device
        return self._device

    def _program_set_limits(self) -> tuple[int, int] | None:
        action = getattr(self.device().properties, "action", {}).get(PROGRAM_SET)
        return (int(action.maximumExecutables), int(action.maximumTotalShots)) if action else None

    def _supported_ops(self) -> set[str] | None:
        action = getattr(self.device().properties, "action", {})
        for key in ("braket.ir.openqasm.program", PROGRAM_SET):
            ops = getattr(action.get(key), "supportedOperations", None)
            if ops:
                return {str(op).lower() for op in ops}
        return None

    def validate(
        self, template: CircuitTemplate, shots: int | None, n_circuits: int | None = None
    ) -> None:
        super().validate(template, shots, n_circuits)
        self.device()  # credentials, network, device state; refines the limits
        super().validate(template, shots, n_circuits)
        ops = self._supported_ops()
        needed = set(template.gate_counts())
        if ops is not None and not needed <= ops:
            raise CapabilityError(f"{self.name} does not support gates {sorted(needed - ops)}")
        limits = self._program_set_limits()
        if limits and shots and n_circuits and n_circuits * shots > limits[1]:
            raise CapabilityError(
                f"{self.name} takes at most {limits[1]} shots per program set; {n_circuits} rows x "
                f"{shots} shots is {n_circuits * shots}: split the batch"
            )

    def estimate_cost(self, n_circuits: int, shots: int) -> dict[str, Any]:
        """Dry-run cost (list prices): program-set tasks of up to max executables each, else one
        task per row. Without a fetched device (no network yet) it assumes one task per row."""
        limits = self._program_set_limits() if self._device is not None else None
        tasks = -(-n_circuits // limits[0]) if limits else n_circuits
        cost = estimate_cost(self.arn, tasks, shots * n_circuits // tasks)
        cost["plan"] = "program sets" if limits else "one task per row"
        return cost

    def run_batches(self, batches: Sequence[CircuitBatch],
                    tags: Sequence[str] = ()) -> BraketTaskHandle:  # fmt: skip
        from qorch.backends.braket.compile import input_sets, row_inputs, to_braket

        self.check_batches(batches)
        shots = int(batches[0].shots or 0)
        rows = sum(b.n_circuits for b in batches)
        device = self.device()
        labels = {tag: str(item) for item, tag in enumerate(tags)}  # find_tagged() reads them
        try:
            if self._program_set_limits():
                from braket.program_sets import CircuitBinding, ProgramSet

                bindings = [CircuitBinding(to_braket(b.template),
                                           input_sets=input_sets(b.template, b.params))
                            for b in batches]
                program = ProgramSet(bindings, shots_per_executable=shots)
                tasks = [device.run(program, shots=shots * rows, tags=labels)]
            else:
                # One task per row: max_circuits_per_job is 1, so there is one batch of one row.
                tasks = [
                    device.run(to_braket(b.template), shots=shots, inputs=inputs, tags=labels)
                    for b in batches
                    for inputs in row_inputs(b.template, b.params)
                ]
        except Exception as err:
            raise classify(err, f"sending to {self.name}") from err
        return BraketTaskHandle(tasks, dict(enumerate(batches)), self.name, self._poll)

    def find_tagged(self, tag: str) -> tuple[str, int] | None:
        try:
            tagging = (self._tagging_factory() if self._tagging_factory else
                       self.session().boto_session.client("resourcegroupstaggingapi"))
            return tagged_task(tagging, tag)
        except BackendError:
            raise
        except Exception as err:
            raise classify(err, f"looking up the task tagged {tag}") from err

    def retrieve(self, provider_job_id: str, batch: CircuitBatch,
                 item: int = 0) -> BraketTaskHandle:  # fmt: skip
        factory = self._task_factory or (lambda arn: _aws_task(arn, self.session()))
        try:
            tasks = [factory(arn) for arn in provider_job_id.split(",") if arn]
        except Exception as err:
            raise classify(err, f"retrieving {provider_job_id}") from err
        return BraketTaskHandle(tasks, {item: batch}, self.name, self._poll)


def tagged_task(tagging: Any, tag: str) -> tuple[str, int] | None:
    """(task ARN, item) of the quantum task carrying `tag`, from the resource tagging API."""
    pages = tagging.get_resources(TagFilters=[{"Key": tag}],
                                  ResourceTypeFilters=["braket:quantum-task"])
    for resource in pages.get("ResourceTagMappingList", []):
        value = next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == tag), "0")
        return str(resource["ResourceARN"]), int(value) if value.isdigit() else 0
    return None


def default_session(region: str) -> Any:
    """An AwsSession with short timeouts and no retries, refused early without credentials."""
    import boto3
    from botocore.config import Config

    try:
        boto = boto3.Session(region_name=region)
        if boto.get_credentials() is None:
            raise CredentialsError(NO_CREDENTIALS)
        from braket.aws import AwsSession

        config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 1})
        return AwsSession(boto_session=boto, config=config)
    except BackendError:
        raise
    except Exception as err:
        raise classify(err, "opening an AWS session") from err


def _aws_device(arn: str, session: Any) -> Any:
    from braket.aws import AwsDevice

    return AwsDevice(arn, aws_session=session)


def _aws_task(arn: str, session: Any) -> Any:
    from braket.aws import AwsQuantumTask

    return AwsQuantumTask(arn, aws_session=session)
