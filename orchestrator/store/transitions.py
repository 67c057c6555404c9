"""The one function that changes a job's state: compare-and-set plus an event row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from qorch.orchestrator.errors import InvalidTransitionError, JobNotFoundError, StaleAttemptError
from qorch.orchestrator.store.models import Job, JobEvent, utcnow
from qorch.orchestrator.store.states import JobState, is_allowed


def transition(
    session: Session,
    job_id: str,
    target: JobState,
    *,
    origin: str,
    reason: str | None = None,
    expected: JobState | None = None,
    error: str | None = None,
    attempt: int | None = None,
    stale_before: datetime | None = None,
) -> JobState:
    """Move a job to `target`; returns the state it left.

    The UPDATE only matches while the row still holds the state we read, so two processes
    racing (a driver finishing while a user cancels) cannot both win. `expected` pins the
    source state; `attempt` pins the driver's claim, so a stale driver cannot settle a job that
    a newer attempt runs; `stale_before` (the reaper) only matches a heartbeat older than that.
    On FAILED, `error` (default: `reason`) becomes the job's one-line error, while the event
    keeps the full `reason` (a traceback, say). Claiming (QUEUED → RUNNING) opens a new attempt.
    """
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise JobNotFoundError(f"no job with id {job_id!r}")
    source, current_attempt = JobState(job.state), job.attempt
    if attempt is not None and current_attempt != attempt:
        raise StaleAttemptError(
            f"job {job_id} is run by attempt {current_attempt}, not {attempt}; this driver stops"
        )
    if expected is not None and source is not expected:
        raise InvalidTransitionError(
            f"job {job_id} is {source.value}, not {expected.value}; "
            f"cannot move it to {target.value}"
        )
    if not is_allowed(source, target):
        raise InvalidTransitionError(
            f"job {job_id} cannot go from {source.value} to {target.value}"
        )
    now = utcnow()
    values: dict[str, object] = {"state": target}
    if target is JobState.QUEUED:  # not held by the cluster until it is handed over again
        values.update(heartbeat_at=None, phase=None)
    if target is JobState.RUNNING:
        values.update(started_at=now, heartbeat_at=now, ended_at=None, error=None,
                      attempt=current_attempt + 1)
    if target.terminal:
        values["ended_at"] = now
        values["phase"] = None
    if target is JobState.FAILED:
        values["error"] = error or reason
    statement = update(Job).where(Job.id == job_id, Job.state == source,
                                  Job.attempt == current_attempt)
    if stale_before is not None:
        statement = statement.where(Job.heartbeat_at < stale_before)
    result = session.execute(statement.values(**values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransitionError(
            f"job {job_id} changed while moving from {source.value} to {target.value}"
        )
    session.add(
        JobEvent(
            job_id=job_id, from_state=source.value, to_state=target.value, origin=origin,
            reason=reason, at=now,
        )
    )
    session.flush()
    session.expire(job)
    return source
