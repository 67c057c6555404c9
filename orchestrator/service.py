"""The service API the CLI calls: submit, list, status, logs, cancel, resume, db upgrade."""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from qorch.orchestrator.errors import InvalidTransitionError
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import ledger
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import get_engine, session_scope
from qorch.orchestrator.store.models import Checkpoint, Execution, Job, JobEvent, Metric
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

HEARTBEAT_TIMEOUT = timedelta(seconds=float(os.environ.get("QORCH_HEARTBEAT_TIMEOUT", "120")))


def _owner() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def create_job(settings: Settings, kind: str, spec: dict[str, Any], backend: str,
               summary: dict[str, Any] | None = None) -> str:
    """Insert a QUEUED job row for an already validated spec; returns its id."""
    with session_scope(settings.database_url) as session:
        return repo.create_job(session, kind=kind, owner=_owner(), spec=spec, backend=backend,
                               summary=summary).id


def job_threads(settings: Settings, job_id: str) -> int | None:
    with session_scope(settings.database_url) as session:
        threads = repo.get_job(session, job_id).spec.get("threads")
        return int(threads) if threads else None


def reap(settings: Settings) -> list[str]:
    with session_scope(settings.database_url) as session:
        return repo.reap_stale(session, HEARTBEAT_TIMEOUT)


def list_jobs(settings: Settings, states: Sequence[JobState] = (), limit: int = 50) -> list[Job]:
    reap(settings)
    with session_scope(settings.database_url) as session:
        return repo.list_jobs(session, states, limit)


@dataclass(frozen=True)
class JobStatus:
    job: Job
    latest: dict[str, Metric]
    checkpoints: int
    last_checkpoint: Checkpoint | None
    events: list[JobEvent]
    usage: dict[str, int]
    executions: list[Execution]


def status(settings: Settings, job_id: str) -> JobStatus:
    reap(settings)
    with session_scope(settings.database_url) as session:
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


def new_records(
    settings: Settings, job_id: str, after_event: int, after_metric: int
) -> tuple[Job, list[JobEvent], list[Metric]]:
    """What happened to a job since the given event and metric ids (for logs -f and progress)."""
    with session_scope(settings.database_url) as session:
        job = repo.get_job(session, job_id)
        return job, repo.events(session, job.id, after_event), repo.metrics(
            session, job.id, after_metric
        )


def cancel(settings: Settings, job_id: str) -> JobState:
    """Ask a job to stop; a queued job is cancelled at once, a running one at its next step."""
    with session_scope(settings.database_url) as session:
        job = repo.get_job(session, job_id)
        state = JobState(job.state)
        if state.terminal or state is JobState.CANCELLING:
            raise InvalidTransitionError(
                f"job {job.id} is already {state.value}; nothing to cancel"
            )
        if state is JobState.INTERRUPTED:
            raise InvalidTransitionError(
                f"job {job.id} is INTERRUPTED (no driver runs it); it stays resumable with "
                "`qorch resume`"
            )
        transition(session, job.id, JobState.CANCELLING, origin="cli", reason="cancel requested")
        if state is JobState.QUEUED:
            transition(session, job.id, JobState.CANCELLED, origin="cli",
                       reason="cancelled before it started")
            return JobState.CANCELLED
        return JobState.CANCELLING


def requeue(settings: Settings, job_id: str) -> Job:
    """INTERRUPTED → QUEUED, so a new driver continues from the latest checkpoint."""
    reap(settings)
    with session_scope(settings.database_url) as session:
        job = repo.get_job(session, job_id)
        transition(session, job.id, JobState.QUEUED, origin="cli", reason="resume requested",
                   expected=JobState.INTERRUPTED)
        return repo.get_job(session, job.id)


def upgrade_database(settings: Settings) -> str:
    from qorch.orchestrator.store.db import current_revision, describe

    engine = get_engine(settings.database_url)
    return f"{describe(engine.url)} at revision {current_revision(engine)}"
