"""Jobs written into a real SQLite store the way drivers write them, for the views' tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Job, utcnow
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

TRAIN_SPEC = {"dataset": "fashion-mnist", "model": "hybrid-lenet", "epochs": 3, "batch_size": 64,
              "train_size": 640, "test_size": 100, "seed": 0, "backend": "statevector",
              "qubits": 1, "layers": 1}
CIRCUIT = {"template": {"n_qubits": 1, "n_layers": 1, "encoding": "angle-ry",
                        "rotations": "ryrz", "entangler": "cnot-chain", "observables": ["z"]},
           "gates": {"ry": 2, "rz": 1}, "depth": 3, "outputs": 1, "hash": "0123abcd",
           "drawing": "q0: -RY(x0)-RY(w0)-RZ(w1)-"}
DEVICE = {"device": "fake_armonk", "calibration_date": "2024-03-01T10:00:00+00:00",
          "num_device_qubits": 1, "layout": [0], "transpiled_depth": 4,
          "qubits": [{"physical": 0, "t1_s": 0.000151234, "t2_s": 0.000234567,
                      "readout_error": 0.0123456, "sx_error": 0.000345678}],
          "two_qubit_gates": []}
NAMES = [str(i) for i in range(10)]


def url() -> str:
    return Settings.from_env().database_url


def make_job(kind: str = "train", state: JobState = JobState.SUCCEEDED, *,
             spec: dict[str, Any] | None = None, summary: dict[str, Any] | None = None,
             result: dict[str, Any] | None = None, owner: str | None = None,
             metrics: Sequence[tuple[int, int, str, float]] = (),
             ran_s: float = 0.0, error: str | None = None) -> str:
    """A job that went QUEUED -> RUNNING -> `state`, ran for `ran_s` seconds."""
    settings = Settings.from_env()
    with session_scope(url()) as session:
        job = repo.create_job(session, kind=kind, owner=owner or settings.owner,
                              spec=spec or dict(TRAIN_SPEC), backend=(spec or TRAIN_SPEC)[
                                  "backend"], summary=summary)
        job_id = job.id
        if state is not JobState.QUEUED:
            transition(session, job_id, JobState.RUNNING, origin="driver")
            start = utcnow() - timedelta(seconds=ran_s)
            session.execute(update(Job).where(Job.id == job_id).values(
                started_at=start, heartbeat_at=utcnow()))
        now = utcnow()
        repo.add_metrics(session, job_id, [repo.MetricPoint(s, e, n, v, now)
                                           for s, e, n, v in metrics])
        if result is not None:
            repo.set_result(session, job_id, result)
        if state not in (JobState.QUEUED, JobState.RUNNING):
            transition(session, job_id, state, origin="driver", error=error)
    return job_id


def train_metrics(epochs: int = 3, steps_per_epoch: int = 10) -> list[tuple[int, int, str, float]]:
    out = []
    for epoch in range(1, epochs + 1):
        for step in range((epoch - 1) * steps_per_epoch + 1, epoch * steps_per_epoch + 1):
            out.append((step, epoch, "loss", 1.0 / step))
        last = epoch * steps_per_epoch
        out += [(last, epoch, "train_accuracy", 0.5 + epoch / 10),
                (last, epoch, "test_accuracy", 0.6 + epoch / 10),
                (last, epoch, "test_loss", 0.5), (last, epoch, "epoch_seconds", 12.5)]
    return out


def infer_job(source: str) -> str:
    matrix = [[10 if i == j else 0 for j in range(10)] for i in range(10)]
    matrix[3][5], matrix[3][3] = 4, 6
    result = {"test_accuracy": 0.96, "confusion_matrix": matrix, "class_names": NAMES,
              "class_accuracy": {n: (0.6 if n == "3" else 1.0) for n in NAMES}, "evaluated": 100}
    spec = {"source_job": source, "trained": dict(TRAIN_SPEC), "backend": "fake_armonk",
            "shots": 256, "test_size": 100, "seed": 0}
    summary = {"parameters": {"classical": 61696, "quantum": 2}, "train_examples": 640,
               "test_examples": 100, "total_steps": 1, "circuit": CIRCUIT, "device": DEVICE}
    return make_job("infer", spec=spec, summary=summary, result=result, ran_s=42,
                    metrics=[(1, 1, "evaluated", 100.0), (1, 1, "test_accuracy", 0.96)])
