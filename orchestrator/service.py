"""The one facade the CLI and the Python client call: specs, submit, follow, list, cancel, ..."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from qorch.jobs.compare.spec import CompareSpec
from qorch.jobs.kinds import JobSpec
from qorch.jobs.recipes import with_recipe
from qorch.jobs.spec import InferSpec, TrainSpec
from qorch.orchestrator.errors import (
    InvalidTransitionError,
    JobNotUsableError,
    WaitTimeoutError,
)
from qorch.orchestrator.settings import Settings, remember, remembered
from qorch.orchestrator.store import ledger
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import get_engine, session_scope, transact
from qorch.orchestrator.store.models import Checkpoint, Execution, Job, JobEvent, Metric, utcnow
from qorch.orchestrator.store.removal import Removed
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

POLL_S = 0.5
Update = Callable[[Job, list[JobEvent], list[Metric]], None]


@dataclass(frozen=True)
class JobStatus:
    job: Job
    latest: dict[str, Metric]
    checkpoints: int
    last_checkpoint: Checkpoint | None
    events: list[JobEvent]
    usage: dict[str, int]
    executions: list[Execution]


class Service:
    """What qorch does, for one user's settings; every CLI command is one call here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        return self.settings.database_url

    # --- specs and plans ---------------------------------------------------------------------

    def train_spec(self, options: Mapping[str, Any]) -> TrainSpec:
        """A validated training spec; options left out take the recipe's values, if one is
        named, else the model's defaults."""
        fields = self._with_data_dir(options)
        recipe = fields.pop("recipe", None)
        return TrainSpec(**(with_recipe(recipe, fields) if recipe else fields))

    def infer_spec(self, source: str, options: Mapping[str, Any]) -> InferSpec:
        """A validated inference spec for a SUCCEEDED training job's final parameters."""
        from qorch.orchestrator.planning import source_of_inference

        job_id, trained = source_of_inference(self.settings, source)
        return InferSpec(source_job=job_id, trained=trained, **self._with_data_dir(options))

    def _with_data_dir(self, options: Mapping[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in options.items() if v is not None}
        chosen = fields.get("data_dir") or self.settings.data_dir
        if chosen:
            fields["data_dir"] = str(Path(chosen).expanduser().resolve())
        return fields

    def compare_spec(self, source: str, options: Mapping[str, Any]) -> CompareSpec:
        """A validated comparison of a SUCCEEDED training job on several backends."""
        from qorch.orchestrator.planning import source_of_inference

        job_id, trained = source_of_inference(self.settings, source)
        return CompareSpec(source_job=job_id, trained=trained, **self._with_data_dir(options))

    def compare_trained(self, job_ids: Sequence[str], out: Path | None = None
                        ) -> dict[str, Any]:
        """Finished training jobs side by side (paired where their test images match)."""
        from qorch.orchestrator.reporting import compare_trained

        return compare_trained(self.url, job_ids, self.settings.data_source(), out)

    def report(self, job_id: str, out: Path | None = None) -> Path:
        """PNGs and an index page of a finished job; the page's path."""
        from qorch.orchestrator.reporting import report

        target = out or self.settings.home / "reports" / self.job(job_id).id
        return report(self.url, job_id, target, self.settings.data_source())

    def plan(self, spec: JobSpec) -> dict[str, Any]:
        """Circuits, provider jobs, shots and cost; creates no job."""
        from qorch.orchestrator.planning import check, plan

        return plan(check(self.settings, spec, dry_run=True))

    # --- submitting and following ------------------------------------------------------------

    def submit(self, spec: JobSpec, *, ray_address: str | None = None) -> str:
        """Check everything, write the QUEUED row, hand the job to the cluster; its id."""
        from qorch.orchestrator.planning import check, summary
        from qorch.orchestrator.runtime.cluster import check_address
        from qorch.orchestrator.runtime.launch import launch, placeable

        address = ray_address or self.settings.ray_address
        if address:
            check_address(address)  # at once: Ray itself would retry for minutes
        checked = check(self.settings, spec)
        placeable(self.settings, spec.cpus, spec.resources or {}, ray_address)
        with session_scope(self.url) as session:
            backend = (", ".join(spec.backends) if isinstance(spec, CompareSpec)
                       else checked.model.backend)
            job_id = repo.create_job(session, kind=spec.kind,
                                     owner=repo.store_user(session, self.settings.owner),
                                     spec=spec.to_dict(), backend=backend[:128],
                                     summary=summary(checked)).id
        launch(self.settings, job_id, cpus=spec.cpus, max_restarts=spec.max_restarts,
               resources=spec.resources, address=ray_address)
        data_dir = checked.model.data_dir
        if data_dir and "data_dir" not in remembered(self.settings.home):
            # The next plain `qorch submit train` finds the files without QORCH_DATA_DIR.
            remember(self.settings.home, "data_dir", data_dir)
        return job_id

    def follow(self, job_id: str, on_update: Update) -> Job:
        """Feed `on_update` from the store until the job ends; returns the final row."""
        last_event = last_metric = 0
        while True:
            job, events, metrics = self.records(job_id, last_event, last_metric)
            last_event = events[-1].id if events else last_event
            last_metric = metrics[-1].id if metrics else last_metric
            on_update(job, events, metrics)
            if JobState(job.state).terminal and not events and not metrics:
                return job
            if not events and not metrics:
                self.reap()
                time.sleep(POLL_S)

    def records(self, job_id: str, after_event: int = 0, after_metric: int = 0
                ) -> tuple[Job, list[JobEvent], list[Metric]]:
        """What happened to a job since the given event and metric ids (a follower waits out a
        short store outage rather than dying)."""
        def read(session: Session) -> tuple[Job, list[JobEvent], list[Metric]]:
            job = repo.get_job(session, job_id)
            return job, repo.events(session, job.id, after_event), repo.metrics(
                session, job.id, after_metric)

        return transact(self.url, read, retry_s=self.settings.store_retry_s)

    # --- reading -----------------------------------------------------------------------------

    def reap(self) -> list[str]:
        cutoff = utcnow() - timedelta(seconds=self.settings.heartbeat_timeout_s)
        with session_scope(self.url) as session:
            return repo.reap_stale(session, cutoff)

    def jobs(self, states: Sequence[JobState] = (), limit: int = 50,
             all_users: bool = False) -> list[Job]:
        """Newest first: this user's jobs, or everyone's."""
        self.reap()
        with session_scope(self.url) as session:
            owner = None if all_users else repo.store_user(session, self.settings.owner)
            return repo.list_jobs(session, states, limit, owner)

    def job(self, job_id: str) -> Job:
        with session_scope(self.url) as session:
            return repo.get_job(session, job_id)

    def status(self, job_id: str) -> JobStatus:
        self.reap()
        with session_scope(self.url) as session:
            job = repo.get_job(session, job_id)
            last = repo.latest_checkpoint(session, job.id, kinds=("step", "epoch", "final"))
            return JobStatus(
                job=job,
                latest=repo.latest_metrics(session, job.id),
                checkpoints=repo.count_checkpoints(session, job.id),
                last_checkpoint=last,
                events=repo.events(session, job.id),
                usage=ledger.usage(session, job.id),
                executions=ledger.recent(session, job.id),
            )

    def worker_log(self, job_id: str) -> str:
        """The job worker's log file (kept under QORCH_HOME/logs on the node that ran it)."""
        job_id = self.job(job_id).id
        path = self.settings.log_dir / f"{job_id}.log"
        try:
            return path.read_text()
        except FileNotFoundError:
            raise JobNotUsableError(
                f"no worker log for job {job_id} at {path}: it is written on the node that ran "
                "the job") from None

    def metrics(self, job_id: str) -> list[Metric]:
        with session_scope(self.url) as session:
            return repo.metrics(session, repo.get_job(session, job_id).id)

    # --- changing ----------------------------------------------------------------------------

    def cancel(self, job_id: str, all_users: bool = False) -> JobState:
        """Ask a job to stop; a queued job is cancelled at once, a running one at its next step."""
        with session_scope(self.url) as session:
            job = repo.get_job(session, job_id)
            repo.check_owner(session, job, repo.store_user(session, self.settings.owner),
                             all_users)
            job_id, state = job.id, JobState(job.state)
            if state.terminal or state is JobState.CANCELLING:
                raise InvalidTransitionError(
                    f"job {job_id} is already {state.value}; nothing to cancel")
            if state is JobState.INTERRUPTED:
                raise InvalidTransitionError(
                    f"job {job_id} is INTERRUPTED (no driver runs it); it stays resumable with "
                    "`qorch resume`")
            transition(session, job_id, JobState.CANCELLING, origin="cli",
                       reason="cancel requested")
            if state is not JobState.QUEUED:
                return JobState.CANCELLING
            transition(session, job_id, JobState.CANCELLED, origin="cli",
                       reason="cancelled before it started")
        from qorch.orchestrator.runtime.launch import stop_actor

        stop_actor(self.settings, job_id)
        return JobState.CANCELLED

    def resume(self, job_id: str, *, ray_address: str | None = None,
               all_users: bool = False) -> str:
        """INTERRUPTED or FAILED → QUEUED; a new attempt continues from the latest checkpoint."""
        from qorch.orchestrator.runtime.launch import launch

        self.reap()
        with session_scope(self.url) as session:
            job = repo.get_job(session, job_id)
            repo.check_owner(session, job, repo.store_user(session, self.settings.owner),
                             all_users)
            job_id, state, spec = job.id, JobState(job.state), dict(job.spec)
            if state not in (JobState.INTERRUPTED, JobState.FAILED):
                raise InvalidTransitionError(
                    f"job {job_id} is {state.value}; only an INTERRUPTED or FAILED job resumes")
            transition(session, job_id, JobState.QUEUED, origin="cli", reason="resume requested")
        launch(self.settings, job_id, cpus=float(spec.get("cpus") or 1),
               max_restarts=int(spec.get("max_restarts", 3)), resources=spec.get("resources"),
               address=ray_address)
        return job_id

    def delete(self, job_ids: Sequence[str], all_users: bool = False) -> list[Removed]:
        """Delete finished jobs with their rows and checkpoint files (all or none)."""
        from qorch.orchestrator.store.removal import delete_jobs

        return delete_jobs(self.url, self.settings.owner, job_ids, all_users)

    def prune(self, older_than: timedelta, states: Sequence[JobState] = (),
              all_users: bool = False, dry_run: bool = False) -> list[Removed]:
        """Delete finished jobs that ended more than `older_than` ago (dry_run: only list)."""
        from qorch.orchestrator.store.removal import prune_jobs

        return prune_jobs(self.url, self.settings.owner, utcnow() - older_than, states,
                          all_users, dry_run)

    def wait(self, job_id: str, timeout_s: float | None = None) -> Job:
        """Block until a job ends; WaitTimeoutError after `timeout_s` seconds."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not JobState((job := self.job(job_id)).state).terminal:
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeoutError(f"job {job.id} is still {job.state.value} after "
                                       f"{timeout_s:g}s")
            self.reap()
            time.sleep(POLL_S)
        return job

    # --- the cluster -------------------------------------------------------------------------

    def cluster_up(self) -> str:
        from qorch.orchestrator.runtime.cluster import ensure_cluster

        return f"Ray cluster at {ensure_cluster(self.settings)}"

    def cluster_down(self) -> str:
        from qorch.orchestrator.runtime.cluster import stop_cluster

        return "stopped" if stop_cluster(self.settings) else "no cluster was running"

    def cluster_status(self) -> dict[str, Any]:
        """The cluster's nodes and actors, and the store's running and waiting jobs."""
        from qorch.orchestrator.runtime.cluster import describe, running_cluster

        address = self.settings.ray_address
        if address is None:
            info = running_cluster(self.settings)
            address = info.address if info else None
        status: dict[str, Any] = ({"address": None, "nodes": []} if address is None
                                  else describe(self.settings, address))
        jobs = self.jobs([JobState.RUNNING, JobState.CANCELLING, JobState.QUEUED], limit=1000)
        status["running"] = [j.id for j in jobs if j.state is not JobState.QUEUED]
        status["waiting"] = [j.id for j in jobs if j.state is JobState.QUEUED]
        return status

    def upgrade_database(self) -> str:
        from qorch.orchestrator.store.db import current_revision, describe

        engine = get_engine(self.url)
        return f"{describe(engine.url)} at revision {current_revision(engine)}"

    def backends(self) -> list[Any]:
        from qorch.backends.registry import describe_all

        return describe_all(self.settings.credentials)
