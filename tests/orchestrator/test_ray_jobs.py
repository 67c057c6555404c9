"""Jobs on a real Ray cluster: learning, cancel, restarts after a dead actor, the restart
budget, failures, the shot path and inference, all through the service facade."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest
from sqlalchemy import select

from qorch.jobs.spec import TrainSpec
from qorch.orchestrator.errors import ClusterError
from qorch.orchestrator.runtime.names import job_actor
from qorch.orchestrator.service import Service
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Execution, Job
from qorch.orchestrator.store.states import JobState


@pytest.fixture
def service(settings: Settings) -> Service:
    return Service(settings)


def _spec(**overrides: object) -> TrainSpec:
    values: dict[str, object] = dict(model="cnn", train_size=2000, test_size=1000, epochs=3,
                                     lr=5e-3, batch_size=32)
    values.update(overrides)
    return TrainSpec(**values)  # type: ignore[arg-type]


def wait_for(predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def run(service: Service, spec: object) -> Job:
    job_id = service.submit(service.train_spec(vars(spec)) if isinstance(spec, TrainSpec)
                            else spec)  # type: ignore[arg-type]
    return service.follow(job_id, lambda *a: None)


def submit(service: Service, **options: object) -> str:
    return service.submit(service.train_spec(_spec(**options).to_dict()))


def checkpointed(service: Service, job_id: str, step: int) -> Callable[[], bool]:
    def reached() -> bool:
        with session_scope(service.url) as session:
            row = repo.latest_checkpoint(session, job_id)
            return row is not None and row.step >= step
    return reached


def actor_pid(job_id: str) -> int:
    import ray

    return int(ray.get(ray.get_actor(job_actor(job_id)).pid.remote()))


def test_cnn_learns_on_the_cluster(service: Service) -> None:
    job = service.follow(submit(service), lambda *a: None)
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.result is not None and job.result["test_accuracy"] > 0.90
    info = service.status(job.id)
    assert info.latest["loss"].step == 3 * 63
    assert info.latest["test_accuracy"].epoch == 3
    assert info.checkpoints == 4  # three epochs and the final parameters
    assert [e.to_state for e in info.events] == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert (service.settings.log_dir / f"{job.id}.log").is_file()


def test_cancel_stops_a_running_job(service: Service) -> None:
    job_id = submit(service, train_size=60_000, epochs=5)
    wait_for(lambda: service.job(job_id).state is JobState.RUNNING)
    assert service.cancel(job_id) is JobState.CANCELLING
    job = service.follow(job_id, lambda *a: None)
    assert job.state is JobState.CANCELLED
    events = [(e.from_state, e.to_state) for e in service.status(job.id).events]
    assert events[-2:] == [("RUNNING", "CANCELLING"), ("CANCELLING", "CANCELLED")]


def final_weights(service: Service, job_id: str) -> dict[str, object]:
    import io

    import torch

    with session_scope(service.url) as session:
        row = repo.latest_checkpoint(session, job_id, kinds=("final",))
        assert row is not None
        payload = repo.checkpoint_payload(row)
    state: dict[str, object] = torch.load(io.BytesIO(payload), weights_only=True)["model"]
    return state


EXACT = dict(epochs=2, checkpoint_every=5, seed=7)
SHOTS = dict(model="hybrid-lenet", qubits=3, layers=1, backend="aer", shots=128, epochs=1,
             train_size=320, test_size=32, batch_size=16, lr=0.01, checkpoint_every=3, seed=7)


@pytest.mark.parametrize("options", [EXACT, SHOTS], ids=["exact", "shots"])
def test_a_dead_actor_restarts_from_its_checkpoint_by_itself(service: Service,
                                                             options: dict) -> None:
    """kill -9 of the job's worker mid-run: Ray restarts the actor, which continues from the
    latest checkpoint; the final weights equal an uninterrupted run's, bit for bit."""
    import os
    import signal

    import torch

    reference = service.follow(submit(service, **options), lambda *a: None)
    job_id = submit(service, **options)
    wait_for(checkpointed(service, job_id, 2 * int(options["checkpoint_every"])))
    os.kill(actor_pid(job_id), signal.SIGKILL)
    job = service.follow(job_id, lambda *a: None)
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.result is not None and reference.result is not None
    assert job.result["test_accuracy"] == reference.result["test_accuracy"]
    mine, theirs = final_weights(service, job_id), final_weights(service, reference.id)
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)  # type: ignore[arg-type]
    events = service.status(job_id).events
    assert [e.to_state for e in events] == ["QUEUED", "RUNNING", "INTERRUPTED", "QUEUED",
                                            "RUNNING", "SUCCEEDED"]
    assert events[2].origin == "ray" and service.job(job_id).attempt == 2


def test_a_spent_restart_budget_fails_the_job_and_resume_takes_it(service: Service) -> None:
    import os
    import signal

    job_id = submit(service, epochs=2, checkpoint_every=5, max_restarts=0)
    wait_for(checkpointed(service, job_id, 5))
    os.kill(actor_pid(job_id), signal.SIGKILL)
    wait_for(lambda: service.job(job_id).state is JobState.FAILED, timeout=90)
    assert "--max-restarts" in (service.job(job_id).error or "")
    service.resume(job_id)
    job = service.follow(job_id, lambda *a: None)
    assert job.state is JobState.SUCCEEDED, job.error
    states = [e.to_state for e in service.status(job_id).events]
    assert states[-4:] == ["FAILED", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_cancel_of_a_queued_job_is_immediate(service: Service) -> None:
    with session_scope(service.url) as session:
        job_id = repo.create_job(session, kind="train", owner=service.settings.owner,
                                 spec=TrainSpec().to_dict(), backend="statevector").id
    assert service.cancel(job_id) is JobState.CANCELLED


def test_a_job_no_node_can_place_is_refused_before_any_row(service: Service) -> None:
    with pytest.raises(ClusterError, match="asks for 64 CPU but no node"):
        submit(service, cpus=64)
    assert service.jobs() == []


def test_a_launch_that_fails_ends_failed_with_its_reason_not_cancelled(service: Service) -> None:
    from qorch.orchestrator.runtime.launch import launch

    with session_scope(service.url) as session:
        job_id = repo.create_job(session, kind="train", owner=service.settings.owner,
                                 spec=_spec().to_dict(), backend="statevector").id
    with pytest.raises(ClusterError, match="no_such_node"):
        launch(service.settings, job_id, resources={"no_such_node": 1},
               address=service.settings.ray_address)
    job = service.job(job_id)
    assert job.state is JobState.FAILED and "could not be handed to Ray" in (job.error or "")
    assert [e.to_state for e in service.status(job_id).events] == ["QUEUED", "FAILED"]


def test_failure_in_the_loop_is_recorded(service: Service) -> None:
    with session_scope(service.url) as session:
        job_id = repo.create_job(session, kind="train", owner="t", backend="statevector",
                                 spec={**_spec(epochs=1).to_dict(), "lr": -1.0}).id
    from qorch.orchestrator.runtime.launch import launch

    launch(service.settings, job_id, address=service.settings.ray_address)
    job = service.follow(job_id, lambda *a: None)
    assert job.state is JobState.FAILED
    assert job.error is not None and "--lr must be a number greater than 0" in job.error
    events = service.status(job_id).events
    assert "Traceback" in (events[-1].reason or "")


def _ledger(service: Service, job_id: str) -> list[Execution]:
    with session_scope(service.url) as session:
        return list(session.scalars(select(Execution).where(Execution.job_id == job_id)
                                    .order_by(Execution.id)))


def test_shot_training_sends_one_provider_job_per_step(service: Service) -> None:
    job = service.follow(submit(service, model="hybrid-lenet", qubits=3, layers=1,
                                backend="aer", shots=256, epochs=1, train_size=64,
                                test_size=32, batch_size=32, lr=0.01), lambda *a: None)
    assert job.state is JobState.SUCCEEDED, job.error
    rows = _ledger(service, job.id)
    train_rows = [r for r in rows if r.purpose == "train"]
    assert [r.step for r in train_rows] == [1, 2]  # one provider job per training step
    assert {r.n_circuits for r in train_rows} == {32 * (1 + 2 * (3 + 6))}
    assert [(r.purpose, r.n_circuits) for r in rows if r.purpose != "train"] == [("eval", 32)]
    assert all(r.status == "DONE" and r.provider_job_id for r in rows)
    info = service.status(job.id)
    assert info.usage["provider_jobs"] == 3 and info.usage["shots"] == sum(
        r.n_circuits for r in rows) * 256


def test_inference_packs_the_test_set_into_one_provider_job(service: Service) -> None:
    trained = service.follow(submit(service, model="hybrid-lenet", qubits=3, layers=1,
                                    train_size=512, test_size=64, lr=0.01, epochs=1),
                             lambda *a: None)
    assert trained.state is JobState.SUCCEEDED
    spec = service.infer_spec(trained.id[:6], {"backend": "braket_sv", "shots": 500,
                                               "test_size": 40})
    job = service.follow(service.submit(spec), lambda *a: None)
    assert job.state is JobState.SUCCEEDED, job.error
    result = job.result or {}
    matrix = np.array(result["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 40
    assert result["test_accuracy"] == pytest.approx(np.trace(matrix) / 40)
    assert set(result["class_accuracy"]) == set(result["class_names"])
    assert [r.n_circuits for r in _ledger(service, job.id)] == [40]
    latest = service.status(job.id).latest
    assert "test_accuracy" in latest and not any(n.startswith("confusion") for n in latest)


def test_a_queued_job_never_handed_over_is_failed_by_the_reaper(service: Service) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from qorch.orchestrator.store.models import utcnow

    with session_scope(service.url) as session:
        job_id = repo.create_job(session, kind="train", owner="t", spec=TrainSpec().to_dict(),
                                 backend="statevector").id
        session.execute(update(Job).where(Job.id == job_id)
                        .values(created_at=utcnow() - timedelta(minutes=5)))
    service.reap()
    job = service.job(job_id)
    assert job.state is JobState.FAILED and "never handed to the cluster" in (job.error or "")


def test_eight_jobs_on_two_cpus_run_two_at_a_time(service: Service, cluster: str) -> None:
    ids = [submit(service, epochs=1, train_size=640, test_size=100, seed=i) for i in range(8)]
    waiting = service.cluster_status()["waiting"]
    assert len(waiting) >= 5  # Ray's scheduler is the queue
    for job_id in ids:
        assert service.follow(job_id, lambda *a: None).state is JobState.SUCCEEDED
    spans = []
    for job_id in ids:
        events = service.status(job_id).events
        start = next(e.at for e in events if e.to_state == "RUNNING")
        spans.append((start, events[-1].at))
    for start, _ in spans:  # at any start, at most two jobs ran
        assert sum(1 for s, e in spans if s <= start < e) <= 2
