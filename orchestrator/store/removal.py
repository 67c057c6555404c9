"""Deleting finished jobs: owner-checked, every row of theirs, and their checkpoint files."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from qorch.orchestrator.errors import InvalidTransitionError
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Checkpoint, Execution, Job, JobEvent, Metric
from qorch.orchestrator.store.states import JobState

DELETABLE = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class Removed:
    job_id: str
    state: str
    checkpoints: int
    files: tuple[Path, ...]


def check_deletable(job: Job) -> None:
    """Only a job no driver can touch again is deleted."""
    if job.state not in DELETABLE:
        hint = ("`qorch cancel` it first" if job.state is not JobState.INTERRUPTED
                else "Ray may still restart it; resume or wait for it to end")
        raise InvalidTransitionError(
            f"job {job.id} is {job.state.value}; only SUCCEEDED, FAILED or CANCELLED jobs are "
            f"deleted ({hint})")


def remove(session: Session, job: Job) -> Removed:
    """Delete a finished job's rows (the caller checked owner and state); the files its
    checkpoints kept outside the database are returned, to be removed after the commit."""
    files = tuple(repo.spilled_files(session, job.id))
    count = repo.count_checkpoints(session, job.id)
    for table in (Checkpoint, Execution, Metric, JobEvent):
        session.execute(delete(table).where(table.job_id == job.id))
    session.execute(delete(Job).where(Job.id == job.id))
    return Removed(job.id, job.state.value, count, files)


def older_than(session: Session, cutoff: datetime, owner: str | None,
               states: Sequence[JobState] = DELETABLE) -> list[Job]:
    """Finished jobs that ended (or, never started, were created) before `cutoff`."""
    ended = func.coalesce(Job.ended_at, Job.created_at)
    query = select(Job).where(Job.state.in_(states), ended < cutoff).order_by(Job.created_at)
    if owner is not None:
        query = query.where(Job.owner == owner)
    return list(session.scalars(query))


def delete_files(removed: Sequence[Removed]) -> None:
    """Checkpoint files of deleted rows, and their job folders once empty."""
    for item in removed:
        for path in item.files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            with contextlib.suppress(OSError):  # not empty, or gone already
                path.parent.rmdir()


def delete_jobs(url: str, os_login: str, job_ids: Sequence[str], all_users: bool
                ) -> list[Removed]:
    """Every id is checked (owner, state) before any row goes; files go after the commit."""
    with session_scope(url) as session:
        user = repo.store_user(session, os_login)
        jobs = {job.id: job for job in (repo.get_job(session, i) for i in job_ids)}
        for job in jobs.values():
            repo.check_owner(session, job, user, all_users)
            check_deletable(job)
        removed = [remove(session, job) for job in jobs.values()]
    delete_files(removed)
    return removed


def prune_jobs(url: str, os_login: str, cutoff: datetime, states: Sequence[JobState],
               all_users: bool, dry_run: bool) -> list[Removed]:
    """Your finished jobs (everyone's with all_users and the right) that ended before
    `cutoff`; with dry_run, only which."""
    wanted = tuple(states) or DELETABLE
    for state in wanted:
        if state not in DELETABLE:
            raise InvalidTransitionError(f"--state {state.value.lower()}: only succeeded, "
                                         "failed or cancelled jobs are pruned")
    with session_scope(url) as session:
        user = repo.store_user(session, os_login)
        jobs = older_than(session, cutoff, None if all_users else user, wanted)
        for job in jobs:
            repo.check_owner(session, job, user, all_users)
        if dry_run:
            return [Removed(j.id, j.state.value, repo.count_checkpoints(session, j.id), ())
                    for j in jobs]
        removed = [remove(session, job) for job in jobs]
    delete_files(removed)
    return removed
