"""Every (from, to) pair of job states against the one transition function."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import ORMExecuteState, Session

from qorch.orchestrator.errors import InvalidTransitionError
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Job
from qorch.orchestrator.store.states import (
    TERMINAL_STATES,
    TRANSITIONS,
    JobState,
    is_allowed,
    parse_state,
)
from qorch.orchestrator.store.transitions import transition

ALLOWED = {
    (JobState.QUEUED, JobState.RUNNING), (JobState.QUEUED, JobState.CANCELLING),
    (JobState.RUNNING, JobState.SUCCEEDED), (JobState.RUNNING, JobState.FAILED),
    (JobState.RUNNING, JobState.CANCELLED), (JobState.RUNNING, JobState.CANCELLING),
    (JobState.RUNNING, JobState.INTERRUPTED), (JobState.CANCELLING, JobState.CANCELLED),
    (JobState.INTERRUPTED, JobState.QUEUED), (JobState.QUEUED, JobState.FAILED),
    (JobState.FAILED, JobState.QUEUED),
}


def test_table_is_exactly_the_design() -> None:
    table = {(s, t) for s, targets in TRANSITIONS.items() for t in targets}
    assert table == ALLOWED
    # Final, except that `qorch resume` may give a FAILED job a new attempt.
    assert all(not TRANSITIONS[s] for s in TERMINAL_STATES - {JobState.FAILED})


def _job_in(url: str, state: JobState) -> str:
    with session_scope(url) as session:
        job_id = repo.create_job(session, kind="train", owner="t", spec={}, backend="sv").id
        session.execute(update(Job).where(Job.id == job_id).values(state=state.value))
    return job_id


@pytest.mark.parametrize(("source", "target"), list(itertools.product(JobState, JobState)),
                         ids=lambda s: s.value)
def test_every_pair(sqlite_url: str, source: JobState, target: JobState) -> None:
    job_id = _job_in(sqlite_url, source)
    with session_scope(sqlite_url) as session:
        before = len(repo.events(session, job_id))
    if is_allowed(source, target):
        with session_scope(sqlite_url) as session:
            assert transition(session, job_id, target, origin="test", reason="r") is source
        with session_scope(sqlite_url) as session:
            job = repo.get_job(session, job_id)
            assert job.state == target.value
            event = repo.events(session, job_id)[-1]
            assert (event.from_state, event.to_state, event.reason) == (
                source.value, target.value, "r")
            assert (job.ended_at is not None) == target.terminal
            if target is JobState.RUNNING:
                assert job.started_at is not None and job.heartbeat_at is not None
    else:
        with session_scope(sqlite_url) as session, pytest.raises(
            InvalidTransitionError, match=f"{source.value} to {target.value}"
        ):
            transition(session, job_id, target, origin="test")
        with session_scope(sqlite_url) as session:
            assert repo.current_state(session, job_id) is source
            assert len(repo.events(session, job_id)) == before


def test_failed_keeps_one_line_error_and_full_reason(database_url: str) -> None:
    job_id = _job_in(database_url, JobState.RUNNING)
    with session_scope(database_url) as session:
        transition(session, job_id, JobState.FAILED, origin="driver",
                   reason="Traceback ...\nValueError: boom", error="ValueError: boom")
    with session_scope(database_url) as session:
        assert repo.get_job(session, job_id).error == "ValueError: boom"
        assert repo.events(session, job_id)[-1].reason.startswith("Traceback")


def _interleave(session: Session, competitor: Callable[[], None]) -> None:
    """Run `competitor` (in its own session, committed) once, just before `session` sends its
    UPDATE: after the transition read the row, before it writes."""
    fired: list[bool] = []

    @event.listens_for(session, "do_orm_execute")
    def before_update(state: ORMExecuteState) -> None:
        if state.is_update and not fired:
            fired.append(True)
            competitor()


def test_compare_and_set_refuses_a_stale_writer(database_url: str) -> None:
    """A driver reads RUNNING and, before its UPDATE, a user's cancel commits: the driver's
    SUCCEEDED must not overwrite CANCELLING."""
    job_id = _job_in(database_url, JobState.RUNNING)

    def cancel() -> None:
        with session_scope(database_url) as other:
            transition(other, job_id, JobState.CANCELLING, origin="cli")

    with session_scope(database_url) as session:
        _interleave(session, cancel)
        with pytest.raises(InvalidTransitionError, match="changed while moving"):
            transition(session, job_id, JobState.SUCCEEDED, origin="driver")
    with session_scope(database_url) as session:
        assert repo.current_state(session, job_id) is JobState.CANCELLING
        assert [e.to_state for e in repo.events(session, job_id)][-1] == "CANCELLING"


def test_compare_and_set_refuses_a_superseded_attempt(database_url: str) -> None:
    """A frozen driver (attempt 1) wakes and settles its job while, between its read and its
    UPDATE, the job was reaped, resumed and claimed by attempt 2, RUNNING again."""
    job_id = _job_in(database_url, JobState.QUEUED)
    with session_scope(database_url) as session:
        transition(session, job_id, JobState.RUNNING, origin="driver")

    def resume_elsewhere() -> None:
        with session_scope(database_url) as other:
            for target in (JobState.INTERRUPTED, JobState.QUEUED, JobState.RUNNING):
                transition(other, job_id, target, origin="test")

    with session_scope(database_url) as session:
        _interleave(session, resume_elsewhere)
        with pytest.raises(InvalidTransitionError, match="changed while moving"):
            transition(session, job_id, JobState.SUCCEEDED, origin="driver", attempt=1)
    with session_scope(database_url) as session:
        job = repo.get_job(session, job_id)
        assert (job.state, job.attempt) == (JobState.RUNNING, 2)


def test_parse_state_names_accepted_values() -> None:
    assert parse_state("running") is JobState.RUNNING
    with pytest.raises(ValueError, match="accepted: queued, running"):
        parse_state("sleeping")
