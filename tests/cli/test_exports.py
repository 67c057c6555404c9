"""qorch metrics, wait, delete and prune as a user runs them, on a real SQLite store."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Job, utcnow
from qorch.orchestrator.store.states import JobState
from tests.cli.jobs_in_store import make_job, train_metrics, url
from tests.cli.test_cli import assert_one_line_error, run


@pytest.mark.usefixtures("home")
def test_metrics_as_csv_json_and_a_summary() -> None:
    job = make_job(metrics=train_metrics(epochs=2, steps_per_epoch=3))
    rows = list(csv.DictReader(io.StringIO(run(["metrics", job, "--csv"]).stdout)))
    assert len(rows) == 2 * 3 + 2 * 4
    assert rows[0]["name"] == "loss" and float(rows[0]["value"]) == 1.0
    assert set(rows[0]) == {"step", "epoch", "name", "value", "at"}
    records = json.loads(run(["metrics", job, "--json"]).stdout)
    assert [(r["step"], r["name"]) for r in records] == [(int(r["step"]), r["name"])
                                                         for r in rows]
    summary = run(["metrics", job]).stdout
    assert "test_accuracy" in summary and "--csv" in summary
    assert_one_line_error(run(["metrics", job, "--csv", "--json"]), 2, "one of --csv or --json")


@pytest.mark.usefixtures("home")
def test_wait_exits_with_the_final_state() -> None:
    done, failed = make_job(), make_job(state=JobState.FAILED, error="out of memory")
    running = make_job(state=JobState.RUNNING)
    ok = run(["wait", done])
    assert ok.returncode == 0 and ok.stdout.startswith(f"job {done} SUCCEEDED")
    bad = run(["wait", failed])
    assert bad.returncode == 1 and "FAILED: out of memory" in bad.stdout
    late = run(["wait", running, "--timeout", "1"])
    assert late.returncode == 124 and f"job {running} is still RUNNING" in late.stderr


def _spill(job_id: str) -> list:
    """A checkpoint too large for the database: kept as a file beside it."""
    settings = Settings.from_env()
    with session_scope(url()) as session:
        row = repo.save_checkpoint(session, job_id, step=1, epoch=1, kind="epoch",
                                   payload=b"\0" * (repo.INLINE_CHECKPOINT_LIMIT + 1),
                                   spill_dir=settings.checkpoint_dir)
        assert row.path is not None
        return [row.path]


@pytest.mark.usefixtures("home")
def test_delete_removes_rows_and_checkpoint_files_of_finished_jobs_only() -> None:
    from pathlib import Path

    done = make_job(metrics=train_metrics(epochs=1))
    files = [Path(p) for p in _spill(done)]
    running = make_job(state=JobState.RUNNING)
    assert files[0].exists()
    assert_one_line_error(run(["delete", done, running]), 1,
                          f"job {running} is RUNNING", "qorch cancel")
    assert files[0].exists() and run(["status", done]).returncode == 0  # all or nothing
    result = run(["delete", done[:6]])
    assert result.returncode == 0 and f"deleted {done} (SUCCEEDED, 1 checkpoints)" in result.stdout
    assert not files[0].exists() and not files[0].parent.exists()
    assert_one_line_error(run(["status", done]), 1, "no job with id")
    assert_one_line_error(run(["delete", "0123456789ab"]), 1, "no job with id")


@pytest.mark.usefixtures("home")
def test_delete_and_prune_check_the_owner() -> None:
    theirs = make_job(owner="somebody-else")
    assert_one_line_error(run(["delete", theirs]), 1, "belongs to somebody-else",
                          "--all-users")
    assert "would delete 0 jobs" in run(["prune", "--older-than", "0s", "--dry-run"]).stdout
    assert run(["delete", theirs, "--all-users"]).returncode == 0  # SQLite: its one user


@pytest.mark.usefixtures("home")
def test_prune_deletes_only_old_finished_jobs() -> None:
    old, old_failed = make_job(), make_job(state=JobState.FAILED)
    recent, live = make_job(), make_job(state=JobState.RUNNING)
    with session_scope(url()) as session:
        session.execute(update(Job).where(Job.id.in_([old, old_failed, live])).values(
            ended_at=utcnow() - timedelta(days=8), created_at=utcnow() - timedelta(days=9)))
    listed = run(["prune", "--older-than", "7d", "--dry-run"]).stdout
    assert old in listed and old_failed in listed and recent not in listed
    assert "would delete 2 jobs" in listed and run(["status", old]).returncode == 0
    only_failed = run(["prune", "--older-than", "1w", "--state", "failed"]).stdout
    assert f"deleted {old_failed}" in only_failed and old not in only_failed
    assert "deleted 1 job" in run(["prune", "--older-than", "168h"]).stdout
    remaining = {j["id"] for j in json.loads(run(["list", "--json"]).stdout)}
    assert remaining == {recent, live}
    assert_one_line_error(run(["prune", "--older-than", "soon"]), 2,
                          "'soon' is not an age like 30m, 12h, 7d or 2w")
    assert_one_line_error(run(["prune", "--older-than", "1d", "--state", "running"]), 1,
                          "only succeeded, failed or cancelled jobs are pruned")
