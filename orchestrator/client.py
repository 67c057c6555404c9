"""The Python client: the same facade as the CLI, for notebooks and scripts."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from qorch.orchestrator.service import Service
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store.states import JobState, parse_state


@dataclass(frozen=True)
class MetricRecord:
    step: int
    epoch: int
    name: str
    value: float
    at: datetime


class Metrics(Sequence[MetricRecord]):
    """A job's metric records, oldest first; `to_pandas()` when pandas is installed."""

    def __init__(self, records: list[MetricRecord]) -> None:
        self._records = records

    def __getitem__(self, index: Any) -> Any:
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[MetricRecord]:
        return iter(self._records)

    def series(self, name: str) -> list[tuple[int, float]]:
        """(step, value) of one metric."""
        return [(r.step, r.value) for r in self._records if r.name == name]

    def to_pandas(self) -> Any:
        try:
            import pandas
        except ImportError as err:
            raise ImportError("Metrics.to_pandas() needs pandas: pip install pandas") from err
        return pandas.DataFrame([vars(r) for r in self._records],
                                columns=["step", "epoch", "name", "value", "at"])


class Job:
    """A job in the store; attributes are read fresh on each access."""

    def __init__(self, service: Service, job_id: str) -> None:
        self._service = service
        self.id = job_id

    def __repr__(self) -> str:
        return f"Job({self.id!r}, state={self.state.value})"

    @property
    def state(self) -> JobState:
        return JobState(self._service.job(self.id).state)

    @property
    def result(self) -> dict[str, Any] | None:
        return self._service.job(self.id).result

    @property
    def error(self) -> str | None:
        return self._service.job(self.id).error

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self._service.job(self.id).spec)

    def wait(self, timeout: float | None = None, poll: float = 1.0) -> Job:
        """Block until the job ends (raises TimeoutError after `timeout` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.state.terminal:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {self.id} is still {self.state.value}")
            self._service.reap()
            time.sleep(poll)
        return self

    def metrics(self) -> Metrics:
        return Metrics([MetricRecord(m.step, m.epoch, m.name, m.value, m.at)
                        for m in self._service.metrics(self.id)])


class Client:
    """qorch from Python. Arguments left out come from the environment, as for the CLI.

    >>> client = Client(home="~/.qorch")
    >>> job = client.submit_train(epochs=1, train_size=2000).wait()
    """

    def __init__(self, home: str | Path | None = None, database_url: str | None = None,
                 ray_address: str | None = None, data_dir: str | Path | None = None) -> None:
        env = dict(os.environ)
        for name, value in (("QORCH_HOME", home), ("QORCH_DATABASE_URL", database_url),
                            ("RAY_ADDRESS", ray_address), ("QORCH_DATA_DIR", data_dir)):
            if value is not None:
                env[name] = str(value)
        self.settings = Settings.from_env(env)
        self.service = Service(self.settings)

    def submit_train(self, **options: Any) -> Job:
        """Submit a training job (options as `qorch submit train`, in snake case)."""
        return Job(self.service, self.service.submit(self.service.train_spec(options)))

    def submit_infer(self, source: str | Job, **options: Any) -> Job:
        """Evaluate a SUCCEEDED training job's final parameters on any backend."""
        source_id = source.id if isinstance(source, Job) else source
        spec = self.service.infer_spec(source_id, options)
        return Job(self.service, self.service.submit(spec))

    def submit_compare(self, source: str | Job, **options: Any) -> Job:
        """Evaluate a SUCCEEDED training job on several backends (`backends="aer,fake_brisbane"`)
        with paired statistics; the result is in `job.result`."""
        source_id = source.id if isinstance(source, Job) else source
        spec = self.service.compare_spec(source_id, options)
        return Job(self.service, self.service.submit(spec))

    def compare(self, *jobs: str | Job, out: str | Path | None = None) -> dict[str, Any]:
        """Finished training jobs side by side; with `out`, their overlaid curves as a PNG."""
        ids = [job.id if isinstance(job, Job) else job for job in jobs]
        return self.service.compare_trained(ids, Path(out) if out is not None else None)

    def report(self, job: str | Job, out: str | Path | None = None) -> Path:
        """Pictures and an index page of a finished job; returns the page's path."""
        job_id = job.id if isinstance(job, Job) else job
        return self.service.report(job_id, Path(out) if out is not None else None)

    def plan_train(self, **options: Any) -> dict[str, Any]:
        """What a training job would send and cost; creates no job."""
        return self.service.plan(self.service.train_spec(options))

    def job(self, job_id: str) -> Job:
        return Job(self.service, self.service.job(job_id).id)

    def jobs(self, state: str | Sequence[str] | None = None, limit: int = 50) -> list[Job]:
        names = [state] if isinstance(state, str) else list(state or [])
        rows = self.service.jobs([parse_state(n) for n in names], limit)
        return [Job(self.service, row.id) for row in rows]

    def cancel(self, job: str | Job) -> JobState:
        return self.service.cancel(job.id if isinstance(job, Job) else job)

    def resume(self, job: str | Job) -> Job:
        return Job(self.service, self.service.resume(job.id if isinstance(job, Job) else job))
