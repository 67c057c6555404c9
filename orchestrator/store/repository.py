"""Repository functions over the store: jobs, events, metrics, checkpoints, heartbeats, fences."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from qorch.orchestrator.errors import (
    AccessError,
    InvalidTransitionError,
    JobNotFoundError,
    StaleAttemptError,
    StoreError,
)
from qorch.orchestrator.store.models import Checkpoint, Job, JobEvent, Metric, utcnow
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

INLINE_CHECKPOINT_LIMIT = 16 * 1024 * 1024
MIN_PREFIX = 4
JOB_ID = re.compile(r"^[0-9a-f]+$")
LIVE = (JobState.RUNNING, JobState.CANCELLING)


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


ADMIN_ROLE = "qorch_admin"


def store_user(session: Session, os_login: str) -> str:
    """Who the store says this is: on PostgreSQL the role the server authenticated (not an
    environment variable anyone can set); a SQLite store is a private file, so its OS owner."""
    if session.get_bind().dialect.name == "postgresql":
        return str(session.scalar(text("SELECT current_user")))
    return os_login


def may_act_for_others(session: Session) -> bool:
    """On PostgreSQL: a superuser or a member of the qorch_admin role; SQLite: its one user."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    query = text("SELECT r.rolsuper OR (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :admin) "
                 "AND pg_has_role(current_user, :admin, 'MEMBER')) FROM pg_roles r "
                 "WHERE r.rolname = current_user")
    return bool(session.scalar(query, {"admin": ADMIN_ROLE}))


def check_owner(session: Session, job: Job, user: str, all_users: bool) -> None:
    """Refuse to change another owner's job unless asked for explicitly, with the right."""
    if job.owner == user:
        return
    if not all_users:
        raise AccessError(f"job {job.id} belongs to {job.owner}, not {user}; add --all-users "
                          "to act on it (needs the store's permission)")
    if not may_act_for_others(session):
        raise AccessError(f"{user} may not act on {job.owner}'s job {job.id}: --all-users needs "
                          f"membership in the {ADMIN_ROLE} role of the database")


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
        state=JobState.QUEUED, attempt=0, created_at=utcnow(),
    )
    session.add(job)
    session.add(JobEvent(job_id=job.id, from_state=None, to_state=job.state.value,
                         origin="submit", reason=f"{kind} job submitted", at=job.created_at))
    session.flush()
    return job


def get_job(session: Session, job_id: str) -> Job:
    """A job by its id or a unique prefix of 4+ hex characters (matched literally)."""
    job_id = job_id.strip().lower()
    if not JOB_ID.match(job_id):
        raise JobNotFoundError(f"no job with id {job_id!r}: job ids are hexadecimal "
                               "(`qorch list` shows them)")
    job = session.get(Job, job_id, populate_existing=True)
    if job is not None:
        return job
    if len(job_id) < MIN_PREFIX:
        raise JobNotFoundError(f"no job with id {job_id!r}; a prefix needs at least {MIN_PREFIX} "
                               "characters")
    # A literal prefix comparison: hex ids hold no LIKE wildcards, and the pattern is checked.
    high = job_id + "g"
    matches = session.scalars(
        select(Job).where(Job.id >= job_id, Job.id < high).order_by(Job.id).limit(3)).all()
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(m.id for m in matches[:2])
        raise JobNotFoundError(f"job id prefix {job_id!r} is ambiguous ({shown}, ...); give more "
                               "characters")
    raise JobNotFoundError(f"no job with id {job_id!r}; `qorch list` shows the job ids")


def list_jobs(
    session: Session, states: Sequence[JobState] = (), limit: int = 50, owner: str | None = None
) -> list[Job]:
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if states:
        query = query.where(Job.state.in_(states))
    if owner is not None:
        query = query.where(Job.owner == owner)
    return list(session.scalars(query))


def events(session: Session, job_id: str, after_id: int = 0) -> list[JobEvent]:
    query = select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.id > after_id)
    return list(session.scalars(query.order_by(JobEvent.id)))


def fence(session: Session, job_id: str, attempt: int, phase: str | None = None) -> None:
    """Beat the heartbeat, only while `attempt` still runs the job; else StaleAttemptError.

    Every write of a running job goes through here first, in the same transaction: the UPDATE
    takes the job row's write lock, so a concurrent claim waits until this write commits.
    """
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if phase is not None:
        values["phase"] = phase[:255]
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.attempt == attempt, Job.state.in_(LIVE))
        .values(**values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        row = session.execute(select(Job.state, Job.attempt).where(Job.id == job_id)).first()
        where = f"{row[0].value}, attempt {row[1]}" if row else "gone"
        raise StaleAttemptError(f"job {job_id} is {where}; attempt {attempt} stops here")


@dataclass(frozen=True)
class MetricPoint:
    step: int
    epoch: int
    name: str
    value: float
    at: datetime


def add_metrics(session: Session, job_id: str, points: Sequence[MetricPoint]) -> None:
    """Insert or replace: one value per (job, step, name), so a resumed step changes nothing."""
    if not points:
        return
    rows = [{"job_id": job_id, "step": p.step, "epoch": p.epoch, "name": p.name,
             "value": p.value, "at": p.at} for p in points]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Metric).values(rows)
    session.execute(statement.on_conflict_do_update(
        index_elements=["job_id", "step", "name"],
        set_={"value": statement.excluded.value, "epoch": statement.excluded.epoch,
              "at": statement.excluded.at}))


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
    """Store a checkpoint inline, or as a private file under `spill_dir` when it is large."""
    digest = hashlib.sha256(payload).hexdigest()
    blob: bytes | None = payload
    path: str | None = None
    if len(payload) > INLINE_CHECKPOINT_LIMIT:
        target = spill_dir / job_id / f"{kind}-{step:08d}-{digest[:12]}.ckpt"
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
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


def spilled_files(session: Session, job_id: str) -> list[Path]:
    """Checkpoint files of a job kept outside the database."""
    paths = session.scalars(select(Checkpoint.path).where(Checkpoint.job_id == job_id,
                                                          Checkpoint.path.is_not(None)))
    return [Path(p) for p in paths if p]


def handed_over(session: Session, job_id: str, phase: str) -> None:
    """The cluster holds a QUEUED job now: its heartbeat marks the hand-over."""
    session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED)
                    .values(heartbeat_at=utcnow(), phase=phase[:255]))


def set_result(session: Session, job_id: str, result: dict[str, Any]) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(result=result))


def current_state(session: Session, job_id: str) -> JobState:
    state = session.scalar(select(Job.state).where(Job.id == job_id))
    if state is None:
        raise JobNotFoundError(f"no job with id {job_id!r}")
    return JobState(state)


def reap_stale(session: Session, cutoff: datetime) -> list[str]:
    """Jobs whose driver stopped beating before `cutoff`: RUNNING → INTERRUPTED,
    CANCELLING → CANCELLED; and QUEUED jobs never handed to the cluster (their submitting
    process died first) → FAILED. A beat that lands meanwhile wins (the UPDATE re-checks it)."""
    orphans = session.scalars(select(Job.id).where(
        Job.state == JobState.QUEUED, Job.heartbeat_at.is_(None), Job.created_at < cutoff)).all()
    reaped = []
    for job_id in orphans:
        try:
            transition(session, job_id, JobState.FAILED, origin="reaper", expected=JobState.QUEUED,
                       reason="never handed to the cluster: the submitting process ended first")
        except (InvalidTransitionError, JobNotFoundError):
            continue
        reaped.append(job_id)
    stale = session.execute(
        select(Job.id, Job.state, Job.heartbeat_at).where(
            Job.state.in_(LIVE), Job.heartbeat_at < cutoff)
    ).all()
    for job_id, state, beat_at in stale:
        target = JobState.INTERRUPTED if state is JobState.RUNNING else JobState.CANCELLED
        reason = f"no heartbeat since {beat_at:%Y-%m-%d %H:%M:%S} UTC"
        try:
            transition(session, job_id, target, origin="reaper", reason=reason,
                       stale_before=cutoff)
        except (InvalidTransitionError, JobNotFoundError):  # a beat or a transition won the race
            continue
        reaped.append(job_id)
    return reaped


def count_checkpoints(session: Session, job_id: str) -> int:
    query = select(func.count()).select_from(Checkpoint).where(Checkpoint.job_id == job_id)
    return int(session.scalar(query) or 0)


def add_to_summary(session: Session, job_id: str, extra: dict[str, Any]) -> None:
    job = get_job(session, job_id)
    job.summary = {**(job.summary or {}), **extra}
