"""The store's repository functions on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from qorch.orchestrator.errors import JobNotFoundError, StaleAttemptError, StoreError
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import get_engine, parse_database_url, session_scope
from qorch.orchestrator.store.models import Job, utcnow
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition


def make_job(url: str, **spec: object) -> str:
    with session_scope(url) as session:
        return repo.create_job(session, kind="train", owner="tester",
                               spec={"model": "cnn", **spec}, backend="statevector").id


def test_create_and_read_job(database_url: str) -> None:
    job_id = make_job(database_url, epochs=2)
    with session_scope(database_url) as session:
        job = repo.get_job(session, job_id)
        assert job.state == "QUEUED" and job.spec == {"model": "cnn", "epochs": 2}
        assert job.created_at.tzinfo is not None
        events = repo.events(session, job_id)
        assert [(e.from_state, e.to_state, e.origin) for e in events] == [
            (None, "QUEUED", "submit")]
        assert repo.get_job(session, job_id[:6]).id == job_id  # unique prefix


def test_unknown_job_names_the_id(database_url: str) -> None:
    with session_scope(database_url) as session, pytest.raises(JobNotFoundError, match="nope"):
        repo.get_job(session, "nope")


def test_list_filters_by_state(database_url: str) -> None:
    first, second = make_job(database_url), make_job(database_url)
    with session_scope(database_url) as session:
        transition(session, second, JobState.RUNNING, origin="test")
    with session_scope(database_url) as session:
        assert {j.id for j in repo.list_jobs(session)} == {first, second}
        assert [j.id for j in repo.list_jobs(session, [JobState.RUNNING])] == [second]
        assert [j.id for j in repo.list_jobs(session, [JobState.QUEUED])] == [first]
        assert len(repo.list_jobs(session, limit=1)) == 1


def test_metrics_latest_and_series(database_url: str) -> None:
    job_id = make_job(database_url)
    now = utcnow()
    points = [repo.MetricPoint(step, 1, "loss", 1.0 / step, now) for step in range(1, 6)]
    points.append(repo.MetricPoint(5, 1, "test_accuracy", 0.93, now))
    with session_scope(database_url) as session:
        repo.add_metrics(session, job_id, points)
    with session_scope(database_url) as session:
        latest = repo.latest_metrics(session, job_id)
        assert latest["loss"].step == 5 and latest["loss"].value == pytest.approx(0.2)
        assert latest["test_accuracy"].value == pytest.approx(0.93)
        assert [m.step for m in repo.metrics(session, job_id) if m.name == "loss"] == [
            1, 2, 3, 4, 5]
        first_two = repo.metrics(session, job_id)[:2]
        assert len(repo.metrics(session, job_id, after_id=first_two[1].id)) == 4


def test_checkpoints_inline_spilled_and_verified(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = make_job(database_url)
    with session_scope(database_url) as session:
        repo.save_checkpoint(session, job_id, step=10, epoch=0, kind="step", payload=b"a" * 100,
                             spill_dir=tmp_path)
        monkeypatch.setattr(repo, "INLINE_CHECKPOINT_LIMIT", 50)
        spilled = repo.save_checkpoint(session, job_id, step=20, epoch=1, kind="epoch",
                                       payload=b"b" * 100, spill_dir=tmp_path)
        assert spilled.blob is None and spilled.path and Path(spilled.path).exists()
    with session_scope(database_url) as session:
        latest = repo.latest_checkpoint(session, job_id)
        assert latest is not None and latest.step == 20
        assert repo.checkpoint_payload(latest) == b"b" * 100
        assert repo.count_checkpoints(session, job_id) == 2
        assert repo.latest_checkpoint(session, job_id, kinds=("final",)) is None
    Path(spilled.path).write_bytes(b"c" * 100)
    with session_scope(database_url) as session:
        latest = repo.latest_checkpoint(session, job_id)
        assert latest is not None
        with pytest.raises(StoreError, match="corrupted"):
            repo.checkpoint_payload(latest)


def test_reaper_interrupts_silent_drivers(database_url: str) -> None:
    running, cancelling, fresh = (make_job(database_url) for _ in range(3))
    with session_scope(database_url) as session:
        for job_id in (running, cancelling, fresh):
            transition(session, job_id, JobState.RUNNING, origin="test")
        transition(session, cancelling, JobState.CANCELLING, origin="test")
        old = utcnow() - timedelta(minutes=10)
        session.execute(update(Job).where(Job.id.in_([running, cancelling]))
                        .values(heartbeat_at=old))
    with session_scope(database_url) as session:
        reaped = repo.reap_stale(session, utcnow() - timedelta(minutes=2))
    assert sorted(reaped) == sorted([running, cancelling])
    with session_scope(database_url) as session:
        assert repo.current_state(session, running) is JobState.INTERRUPTED
        assert repo.current_state(session, cancelling) is JobState.CANCELLED
        assert repo.current_state(session, fresh) is JobState.RUNNING
        assert repo.events(session, running)[-1].origin == "reaper"


def test_sqlite_uses_wal_and_busy_timeout(sqlite_url: str) -> None:
    engine = get_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "malformed database URL"),
        ("mysql://root@127.0.0.1/test", "unsupported database 'mysql'"),
        ("postgresql+asyncpg://u@127.0.0.1/test", "driver 'asyncpg' .* is not supported"),
        ("sqlite://", "in-memory database that the job's worker cannot share"),
        ("sqlite:///:memory:", "in-memory database"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        parse_database_url(url)


def test_unreachable_postgres_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match=r"cannot open the database .*127\.0\.0\.1:1"):
        get_engine("postgresql://postgres@127.0.0.1:1/test")


def test_job_ids_match_literally_and_prefixes_say_what_is_wrong(database_url: str) -> None:
    ids = [make_job(database_url) for _ in range(2)]
    with session_scope(database_url) as session:
        for pattern in ("____", "%%%%", ids[0][:4] + "%", "' OR 1=1"):
            with pytest.raises(JobNotFoundError, match="hexadecimal"):
                repo.get_job(session, pattern)
        with pytest.raises(JobNotFoundError, match="at least 4 characters"):
            repo.get_job(session, ids[0][:3])
        assert repo.get_job(session, ids[0].upper()).id == ids[0]
        session.add(Job(id=ids[0][:8] + "ffff", kind="train", owner="t", spec={},
                        state=JobState.QUEUED, backend="sv", created_at=utcnow()))
    with session_scope(database_url) as session, pytest.raises(
            JobNotFoundError, match=f"prefix '{ids[0][:8]}' is ambiguous"):
        repo.get_job(session, ids[0][:8])


def test_metric_writes_are_idempotent_per_step_and_name(database_url: str) -> None:
    job_id = make_job(database_url)
    now = utcnow()
    with session_scope(database_url) as session:
        repo.add_metrics(session, job_id, [repo.MetricPoint(3, 1, "loss", 0.5, now)])
    with session_scope(database_url) as session:  # a resumed run logs step 3 again
        repo.add_metrics(session, job_id, [repo.MetricPoint(3, 1, "loss", 0.5, now),
                                           repo.MetricPoint(4, 1, "loss", 0.4, now)])
    with session_scope(database_url) as session:
        rows = [(m.step, m.value) for m in repo.metrics(session, job_id)]
    assert sorted(rows) == [(3, 0.5), (4, 0.4)]


def test_the_state_column_refuses_unknown_states(database_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    job_id = make_job(database_url)
    with pytest.raises(IntegrityError), session_scope(database_url) as session:
        session.execute(text("UPDATE jobs SET state = 'SLEEPING' WHERE id = :id"), {"id": job_id})


def test_fenced_writes_belong_to_the_current_attempt(database_url: str) -> None:
    job_id = make_job(database_url)
    with session_scope(database_url) as session:
        transition(session, job_id, JobState.RUNNING, origin="test")
        assert repo.get_job(session, job_id).attempt == 1
        repo.fence(session, job_id, 1, phase="training")
        with pytest.raises(StaleAttemptError, match="attempt 0 stops here"):
            repo.fence(session, job_id, 0)
        transition(session, job_id, JobState.INTERRUPTED, origin="test")
        transition(session, job_id, JobState.QUEUED, origin="test")
        transition(session, job_id, JobState.RUNNING, origin="test")
    with session_scope(database_url) as session:
        assert repo.get_job(session, job_id).attempt == 2
        with pytest.raises(StaleAttemptError, match="RUNNING, attempt 2; attempt 1 stops"):
            repo.fence(session, job_id, 1)
        transition(session, job_id, JobState.CANCELLING, origin="cli")
        repo.fence(session, job_id, 2)  # a cancelling driver still writes its last metrics
        with pytest.raises(StaleAttemptError):
            transition(session, job_id, JobState.CANCELLED, origin="driver", attempt=1)


def test_a_sqlite_store_is_private_to_its_owner(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'private.db'}"
    make_job(url)
    for name in ("private.db", "private.db-wal", "private.db-shm"):
        path = tmp_path / name
        if path.exists():
            assert path.stat().st_mode & 0o077 == 0, name
