"""The one function that changes a job's state: compare-and-set plus an event row."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from qorch.orchestrator.errors import InvalidTransitionError, JobNotFoundError
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
) -> JobState:
    """Move a job to `target`; returns the state it left.

    The UPDATE only matches while the row still holds the state we read, so two
    processes racing (a driver finishing while a user cancels) cannot both win.
    `expected` pins the source state: the change is refused if the job is elsewhere.
    On FAILED, `error` (default: `reason`) becomes the job's one-line error, while the
    event keeps the full `reason` (a traceback, say).
    """
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise JobNotFoundError(f"no job with id {job_id!r}")
    source = JobState(job.state)
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
    values: dict[str, object] = {"state": target.value}
    if target is JobState.RUNNING:
        values.update(started_at=now, heartbeat_at=now, ended_at=None, error=None)
    if target.terminal:
        values["ended_at"] = now
        values["phase"] = None
    if target is JobState.FAILED:
        values["error"] = error or reason
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.state == source.value).values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransitionError(
            f"job {job_id} changed state while moving from {source.value} to {target.value}"
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
