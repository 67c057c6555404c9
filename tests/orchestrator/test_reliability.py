"""Nothing lost, nothing paid twice: a frozen driver that wakes after being superseded, a store
that goes away for a while, a SQLite file locked by someone else. Drivers run as real
processes (or threads) against real SQLite and PostgreSQL stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from qorch.jobs.spec import TrainSpec
from qorch.orchestrator.runtime.driver import run_job
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import ledger
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Execution, Metric
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition
from tests.conftest import DATASETS, REPO

SHOT_JOB = dict(model="hybrid-lenet", qubits=2, layers=1, backend="aer", shots=128,
                train_size=640, test_size=32, batch_size=32, epochs=1, checkpoint_every=2,
                lr=0.01)
DRIVER = ("import sys\n"
          "from qorch.orchestrator.settings import Settings\n"
          "from qorch.orchestrator.runtime.driver import run_job\n"
          "print(run_job(Settings.from_env(), sys.argv[1]), flush=True)\n")


def queued_job(url: str, **options: object) -> str:
    spec = TrainSpec(**{**SHOT_JOB, **options, "data_dir": str(DATASETS)})  # type: ignore[arg-type]
    with session_scope(url) as session:
        return repo.create_job(session, kind="train", owner="t", spec=spec.to_dict(),
                               backend=spec.backend).id


def driver_process(home: Path, url: str, job_id: str) -> subprocess.Popen[str]:
    env = {**os.environ, "QORCH_HOME": str(home), "QORCH_DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-c", DRIVER, job_id], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)


def steps_logged(url: str, job_id: str) -> int:
    with session_scope(url) as session:
        return len([m for m in repo.metrics(session, job_id) if m.name == "loss"])


def test_a_frozen_driver_wakes_superseded_and_pays_nothing(home: Path, sqlite_url: str) -> None:
    job_id = queued_job(sqlite_url)
    first = driver_process(home, sqlite_url, job_id)
    wait_for(lambda: steps_logged(sqlite_url, job_id) >= 6)
    freeze_outside_a_write(first, sqlite_url)  # a laptop closed mid-job
    with session_scope(sqlite_url) as session:  # the reaper, the user's resume
        transition(session, job_id, JobState.INTERRUPTED, origin="reaper", reason="test")
        transition(session, job_id, JobState.QUEUED, origin="cli", reason="resume")
    second = driver_process(home, sqlite_url, job_id)
    wait_for(lambda: repo_attempt(sqlite_url, job_id) == 2)
    with session_scope(sqlite_url) as session:
        resumed_at = repo.events(session, job_id)[-1].at
    os.kill(first.pid, signal.SIGCONT)  # the laptop wakes
    out_first, _ = first.communicate(timeout=120)
    out_second, err = second.communicate(timeout=300)
    assert out_second.strip() == "SUCCEEDED", err[-2000:]
    assert out_first.strip() == "SUPERSEDED"
    with session_scope(sqlite_url) as session:
        rows = list(session.scalars(select(Execution).where(Execution.job_id == job_id)))
        losses = [m for m in repo.metrics(session, job_id) if m.name == "loss"]
        assert repo.current_state(session, job_id) is JobState.SUCCEEDED
    late = [r for r in rows if r.attempt == 1 and r.submitted_at and r.submitted_at > resumed_at]
    assert late == []  # nothing sent by the woken driver
    sent = [(r.step, r.purpose, r.batch_index, r.chunk) for r in rows if r.provider_job_id]
    by_attempt = {(r.step, r.purpose, r.batch_index, r.chunk, r.attempt) for r in rows
                  if r.provider_job_id}
    assert len(by_attempt) == len(sent)  # no key sent twice by one attempt
    assert sorted(m.step for m in losses) == list(range(1, 21))  # every step once


def freeze_outside_a_write(process: subprocess.Popen[str], url: str) -> None:
    """SIGSTOP the driver at a moment it holds no SQLite write lock (a frozen writer would
    block every other process on a local file, which no store can prevent)."""
    import sqlite3

    path = url.removeprefix("sqlite:///")
    for _ in range(200):
        os.kill(process.pid, signal.SIGSTOP)
        probe = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            os.kill(process.pid, signal.SIGCONT)
            time.sleep(0.05)
        finally:
            probe.close()
    raise AssertionError("the driver never left the write lock")


def repo_attempt(url: str, job_id: str) -> int:
    with session_scope(url) as session:
        return repo.get_job(session, job_id).attempt


def _settings(home: Path, url: str) -> Settings:
    return Settings(home=home, database_url=url, data_dir=DATASETS, store_retry_s=120.0)


def _run_in_thread(settings: Settings, job_id: str) -> tuple[threading.Thread, list[str]]:
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(run_job(settings, job_id)))
    thread.start()
    return thread, outcome


def test_terminated_postgres_connections_lose_nothing(home: Path, postgres_url: str) -> None:
    """Every connection of the job is terminated by the server, again and again, mid-run."""
    url = f"{postgres_url}&application_name=qorch-{os.getpid()}"
    job_id = queued_job(url, model="cnn", backend="statevector", shots=None, qubits=None,
                        layers=None, train_size=4000, checkpoint_every=10)
    thread, outcome = _run_in_thread(_settings(home, url), job_id)
    admin = create_engine(postgres_url)
    killed = 0
    while thread.is_alive() and killed < 6:
        time.sleep(0.7)
        with admin.begin() as conn:
            killed += conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                {"name": f"qorch-{os.getpid()}"}).scalar() or 0
    thread.join(timeout=300)
    admin.dispose()
    assert killed > 0 and outcome == ["SUCCEEDED"]
    with session_scope(url) as session:
        steps = [m.step for m in session.scalars(select(Metric).where(
            Metric.job_id == job_id, Metric.name == "loss"))]
    assert sorted(steps) == list(range(1, 126))


def test_a_sqlite_store_locked_by_someone_else_loses_nothing(home: Path, tmp_path: Path) -> None:
    """Another process holds the write lock far longer than a writer waits (1 s here): the job
    retries, then carries on, with every metric and ledger row in place."""
    url = f"sqlite:///{tmp_path / 'locked.db'}?timeout=1"
    job_id = queued_job(url)
    thread, outcome = _run_in_thread(_settings(home, url), job_id)
    wait_for(lambda: steps_logged(url, job_id) >= 3)
    locker = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         f"c = sqlite3.connect({str(tmp_path / 'locked.db')!r}, isolation_level=None)\n"
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(6)\n"
         "c.execute('COMMIT')\n"], stdout=subprocess.PIPE, text=True)
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    locker.wait(timeout=60)
    thread.join(timeout=300)
    assert outcome == ["SUCCEEDED"]
    assert steps_logged(url, job_id) == 20
    with session_scope(url) as session:
        statuses = {r.status for r in session.scalars(select(Execution))}
    assert statuses == {ledger.DONE}


@pytest.mark.parametrize("refuse_s", [10.0])
def test_postgres_refusing_connections_for_a_while_loses_nothing(
        home: Path, postgres_url: str, refuse_s: float) -> None:
    """The server refuses every connection for 10 s (a loopback proxy that stops listening and
    drops what it carried) while a job runs: the job waits it out and succeeds."""
    from tests.orchestrator.proxy import TcpProxy

    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        job_id = queued_job(url, model="cnn", backend="statevector", shots=None, qubits=None,
                            layers=None, train_size=4000, checkpoint_every=10)
        thread, outcome = _run_in_thread(_settings(home, url), job_id)
        wait_for(lambda: steps_logged(url, job_id) >= 5)
        proxy.refuse_for(refuse_s)
        thread.join(timeout=300)
    assert outcome == ["SUCCEEDED"]
    assert steps_logged(postgres_url, job_id) == 125
