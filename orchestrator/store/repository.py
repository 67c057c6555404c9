"""Repository functions over the store: jobs, events, metrics, checkpoints, heartbeats."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qorch.orchestrator.errors import JobNotFoundError, StoreError
from qorch.orchestrator.store.models import Checkpoint, Job, JobEvent, Metric, utcnow
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

INLINE_CHECKPOINT_LIMIT = 16 * 1024 * 1024


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


def create_job(
    session: Session,
    *,
    kind: str,
    owner: str,
    spec: dict[str, Any],
    backend: str,
    summary: dict[str, Any] | None = None,
) -> Job:
    job = Job(
        id=new_job_id(), kind=kind, owner=owner, spec=spec, backend=backend, summary=summary,
        state=JobState.QUEUED.value, created_at=utcnow(),
    )
    session.add(job)
    session.add(JobEvent(job_id=job.id, from_state=None, to_state=job.state, origin="submit",
                         reason=f"{kind} job submitted", at=job.created_at))
    session.flush()
    return job


def get_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        matches = session.scalars(select(Job).where(Job.id.startswith(job_id)).limit(2)).all()
        if len(job_id) >= 4 and len(matches) == 1:
            return matches[0]
        raise JobNotFoundError(f"no job with id {job_id!r}; `qorch list` shows the job ids")
    return job


def list_jobs(
    session: Session, states: Sequence[JobState] = (), limit: int = 50
) -> list[Job]:
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if states:
        query = query.where(Job.state.in_([s.value for s in states]))
    return list(session.scalars(query))


def events(session: Session, job_id: str, after_id: int = 0) -> list[JobEvent]:
    query = select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.id > after_id)
    return list(session.scalars(query.order_by(JobEvent.id)))


@dataclass(frozen=True)
class MetricPoint:
    step: int
    epoch: int
    name: str
    value: float
    at: datetime


def add_metrics(session: Session, job_id: str, points: Sequence[MetricPoint]) -> None:
    session.add_all(
        Metric(job_id=job_id, step=p.step, epoch=p.epoch, name=p.name, value=p.value, at=p.at)
        for p in points
    )


def metrics(session: Session, job_id: str, after_id: int = 0) -> list[Metric]:
    query = select(Metric).where(Metric.job_id == job_id, Metric.id > after_id)
    return list(session.scalars(query.order_by(Metric.id)))


def latest_metrics(session: Session, job_id: str) -> dict[str, Metric]:
    """The newest value of every metric name of a job."""
    newest = (
        select(Metric.name, func.max(Metric.id).label("id"))
        .where(Metric.job_id == job_id)
        .group_by(Metric.name)
        .subquery()
    )
    rows = session.scalars(select(Metric).join(newest, Metric.id == newest.c.id))
    return {row.name: row for row in rows}


def metric_series(session: Session, job_id: str, name: str) -> list[Metric]:
    query = select(Metric).where(Metric.job_id == job_id, Metric.name == name)
    return list(session.scalars(query.order_by(Metric.step, Metric.id)))


def save_checkpoint(
    session: Session,
    job_id: str,
    *,
    step: int,
    epoch: int,
    kind: str,
    payload: bytes,
    spill_dir: Path,
) -> Checkpoint:
    """Store a checkpoint inline, or as a file under `spill_dir` when it is large."""
    digest = hashlib.sha256(payload).hexdigest()
    blob: bytes | None = payload
    path: str | None = None
    if len(payload) > INLINE_CHECKPOINT_LIMIT:
        target = spill_dir / job_id / f"{kind}-{step:08d}-{digest[:12]}.ckpt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
        blob, path = None, str(target)
    row = Checkpoint(job_id=job_id, step=step, epoch=epoch, kind=kind, blob=blob, path=path,
                     sha256=digest, size_bytes=len(payload), created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def latest_checkpoint(
    session: Session, job_id: str, kinds: Sequence[str] = ("epoch", "step")
) -> Checkpoint | None:
    query = (
        select(Checkpoint)
        .where(Checkpoint.job_id == job_id, Checkpoint.kind.in_(kinds))
        .order_by(Checkpoint.step.desc(), Checkpoint.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def checkpoint_payload(row: Checkpoint) -> bytes:
    """The checkpoint's bytes, verified against the recorded SHA-256."""
    if row.blob is not None:
        payload = row.blob
    else:
        try:
            payload = Path(row.path or "").read_bytes()
        except OSError as err:
            raise StoreError(
                f"checkpoint file {row.path!r} of job {row.job_id} is missing"
            ) from err
    if hashlib.sha256(payload).hexdigest() != row.sha256:
        raise StoreError(
            f"checkpoint {row.id} of job {row.job_id} is corrupted (SHA-256 mismatch)"
        )
    return payload


def beat(session: Session, job_id: str, phase: str | None = None) -> None:
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if phase is not None:
        values["phase"] = phase
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def set_result(session: Session, job_id: str, result: dict[str, Any]) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(result=result))


def current_state(session: Session, job_id: str) -> JobState:
    state = session.scalar(select(Job.state).where(Job.id == job_id))
    if state is None:
        raise JobNotFoundError(f"no job with id {job_id!r}")
    return JobState(state)


def reap_stale(session: Session, timeout: timedelta) -> list[str]:
    """Jobs whose driver stopped beating: RUNNING → INTERRUPTED, CANCELLING → CANCELLED."""
    cutoff = utcnow() - timeout
    stale = session.scalars(
        select(Job).where(
            Job.state.in_([JobState.RUNNING.value, JobState.CANCELLING.value]),
            Job.heartbeat_at < cutoff,
        )
    ).all()
    reaped = []
    for job in stale:
        target = JobState.INTERRUPTED if job.state == JobState.RUNNING.value else JobState.CANCELLED
        reason = f"no heartbeat since {job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
        transition(session, job.id, target, origin="reaper", reason=reason)
        reaped.append(job.id)
    return reaped


def count_checkpoints(session: Session, job_id: str) -> int:
    query = select(func.count()).select_from(Checkpoint).where(Checkpoint.job_id == job_id)
    return int(session.scalar(query) or 0)


def add_to_summary(session: Session, job_id: str, extra: dict[str, Any]) -> None:
    job = get_job(session, job_id)
    job.summary = {**(job.summary or {}), **extra}
