"""Jobs run by a real embedded Ray: learning, cancel, interruption and exact resume."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from qorch.jobs.spec import TrainSpec
from qorch.orchestrator import service
from qorch.orchestrator.runtime.launch import ACTOR_PREFIX, start_on_ray
from qorch.orchestrator.settings import Settings, load_settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.submit import follow, resume, submit

pytestmark = pytest.mark.usefixtures("ray_session")


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings()


def _spec(mnist_dir: Path, **overrides: object) -> TrainSpec:
    values: dict[str, object] = dict(model="cnn", train_size=2000, test_size=1000, epochs=3,
                                     lr=5e-3, batch_size=32, data_dir=str(mnist_dir), threads=1)
    values.update(overrides)
    return TrainSpec(**values)  # type: ignore[arg-type]


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def test_cnn_learns_on_ray(settings: Settings, mnist_dir: Path) -> None:
    launched = submit(settings, _spec(mnist_dir), address=None, detach=False)
    updates: list[int] = []
    job = follow(settings, launched, lambda j, e, m: updates.append(len(m)))
    assert job.state == "SUCCEEDED", job.error
    assert job.result is not None and job.result["test_accuracy"] > 0.90
    info = service.status(settings, job.id)
    assert info.latest["loss"].step == 3 * 63
    assert info.latest["test_accuracy"].epoch == 3
    assert info.checkpoints == 4  # three epochs and the final parameters
    assert [e.to_state for e in info.events] == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert sum(updates) > 0


def test_cancel_stops_a_running_job(settings: Settings, mnist_dir: Path) -> None:
    launched = submit(settings, _spec(mnist_dir, train_size=60_000, epochs=5), address=None,
                      detach=False)

    def has_steps() -> bool:
        with session_scope(settings.database_url) as session:
            return "loss" in repo.latest_metrics(session, launched.job_id)

    _wait_for(has_steps)
    assert service.cancel(settings, launched.job_id) is JobState.CANCELLING
    job = follow(settings, launched, lambda *a: None)
    assert job.state == "CANCELLED"
    events = [(e.from_state, e.to_state) for e in service.status(settings, job.id).events]
    assert events[-2:] == [("RUNNING", "CANCELLING"), ("CANCELLING", "CANCELLED")]


def test_killed_driver_is_interrupted_then_resumes_exactly(
    settings: Settings, mnist_dir: Path
) -> None:
    import ray

    spec = _spec(mnist_dir, epochs=2, checkpoint_every=5, seed=7)
    reference = follow(settings, submit(settings, spec, address=None, detach=False),
                       lambda *a: None)
    job_id = service.create_job(settings, "train", spec.to_dict(), spec.backend)
    start_on_ray(settings, job_id, 1, None, detached=True)  # a named actor we can kill

    def checkpointed() -> bool:
        with session_scope(settings.database_url) as session:
            row = repo.latest_checkpoint(session, job_id)
            return row is not None and row.step >= 10

    _wait_for(checkpointed)
    ray.kill(ray.get_actor(f"{ACTOR_PREFIX}{job_id}"))
    with session_scope(settings.database_url) as session:
        assert repo.reap_stale(session, timedelta(seconds=0)) == [job_id]
    job = follow(settings, resume(settings, job_id, address=None, detach=False),
                 lambda *a: None)
    assert job.state == "SUCCEEDED", job.error
    assert job.result is not None and reference.result is not None
    assert job.result["test_accuracy"] == reference.result["test_accuracy"]
    states = [e.to_state for e in service.status(settings, job.id).events]
    assert states == ["QUEUED", "RUNNING", "INTERRUPTED", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_cancel_of_a_queued_job_is_immediate(settings: Settings) -> None:
    job_id = service.create_job(settings, "train", TrainSpec().to_dict(), "statevector")
    assert service.cancel(settings, job_id) is JobState.CANCELLED


def test_failure_in_the_loop_is_recorded(settings: Settings, mnist_dir: Path) -> None:
    spec = _spec(mnist_dir, epochs=1)
    job_id = service.create_job(settings, "train", {**spec.to_dict(), "lr": -1.0},
                                "statevector")
    from qorch.orchestrator.submit import launch

    job = follow(settings, launch(settings, job_id, threads=1, address=None, detach=False),
                 lambda *a: None)
    assert job.state == "FAILED"
    assert job.error is not None and "learning rate must be greater than 0" in job.error
    events = service.status(settings, job_id).events
    assert "Traceback" in (events[-1].reason or "")


def _ledger(settings: Settings, job_id: str) -> list:  # type: ignore[type-arg]
    from sqlalchemy import select

    from qorch.orchestrator.store.models import Execution

    with session_scope(settings.database_url) as session:
        return list(session.scalars(select(Execution).where(Execution.job_id == job_id)
                                    .order_by(Execution.id)))


def test_shot_training_sends_one_provider_job_per_step(settings: Settings, mnist_dir: Path
                                                       ) -> None:
    spec = TrainSpec(model="hybrid-lenet", qubits=3, layers=1, backend="aer", shots=256, epochs=1,
                     train_size=64, test_size=32, batch_size=32, data_dir=str(mnist_dir),
                     threads=1, lr=0.01)
    job = follow(settings, submit(settings, spec, address=None, detach=False), lambda *a: None)
    assert job.state == "SUCCEEDED", job.error
    rows = _ledger(settings, job.id)
    train_rows = [r for r in rows if r.purpose == "train"]
    assert [r.step for r in train_rows] == [1, 2]  # one provider job per training step
    assert {r.n_circuits for r in train_rows} == {32 * (1 + 2 * (3 + 6))}
    assert [(r.purpose, r.n_circuits) for r in rows if r.purpose != "train"] == [("eval", 32)]
    assert all(r.status == "DONE" and r.provider_job_id for r in rows)
    info = service.status(settings, job.id)
    assert info.usage["provider_jobs"] == 3 and info.usage["shots"] == sum(
        r.n_circuits for r in rows) * 256


def test_inference_job_on_another_backend(settings: Settings, mnist_dir: Path) -> None:
    from qorch.jobs.spec import InferSpec
    from qorch.orchestrator.planning import source_of_inference

    trained = follow(settings, submit(settings, TrainSpec(
        model="hybrid-lenet", qubits=3, layers=1, train_size=512, test_size=64, lr=0.01, epochs=1,
        data_dir=str(mnist_dir), threads=1), address=None, detach=False), lambda *a: None)
    assert trained.state == "SUCCEEDED"
    source, spec_data = source_of_inference(settings, trained.id[:6])
    infer = InferSpec(source_job=source, trained=spec_data, backend="braket_sv", shots=500,
                      test_size=40, batch_size=20)
    job = follow(settings, submit(settings, infer, address=None, detach=False), lambda *a: None)
    assert job.state == "SUCCEEDED", job.error
    result = job.result or {}
    matrix = np.array(result["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 40
    assert result["test_accuracy"] == pytest.approx(np.trace(matrix) / 40)
    assert set(result["class_accuracy"]) == set(result["class_names"])
    assert [r.n_circuits for r in _ledger(settings, job.id)] == [20, 20]
    latest = service.status(settings, job.id).latest
    assert "confusion/0/0" in latest and "class_accuracy/0" in latest
