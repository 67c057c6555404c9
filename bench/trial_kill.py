"""Trial: kill -9 of a job's worker at a random step, on the exact and the shot path.

Each path runs once uninterrupted (the reference), then `--trials` times with the worker killed
once the job has logged a randomly drawn step; Ray restarts it from its latest checkpoint. For
every trial: final weights bit-identical to the reference, ledger keys sent more than once
(paid twice), ledger rows left PENDING, duplicated metric rows. Uses a fresh home and its own
local cluster, stopped at the end. Prints JSON.
Usage: python bench/trial_kill.py [--trials 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"
PATHS: dict[str, dict[str, Any]] = {
    "exact": {"model": "cnn", "train_size": 2000, "test_size": 500, "epochs": 2,
              "batch_size": 32, "lr": 5e-3, "checkpoint_every": 5, "seed": 7},
    "shots": {"model": "hybrid-lenet", "qubits": 3, "layers": 1, "backend": "aer",
              "shots": 128, "epochs": 1, "train_size": 480, "test_size": 32, "batch_size": 16,
              "lr": 0.01, "checkpoint_every": 3, "seed": 7},
}


def final_weights(url: str, job_id: str) -> dict[str, Any]:
    import torch

    from qorch.orchestrator.store import repository as repo
    from qorch.orchestrator.store.db import session_scope

    with session_scope(url) as session:
        row = repo.latest_checkpoint(session, job_id, kinds=("final",))
        assert row is not None, "no final checkpoint"
        payload = repo.checkpoint_payload(row)
    state: dict[str, Any] = torch.load(io.BytesIO(payload), weights_only=True)["model"]
    return state


def ledger_and_metrics(url: str, job_id: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from qorch.orchestrator.store.db import session_scope
    from qorch.orchestrator.store.models import Execution, Metric

    with session_scope(url) as session:
        rows = list(session.scalars(select(Execution).where(Execution.job_id == job_id)))
        metric_keys = session.execute(
            select(Metric.step, Metric.name, func.count()).where(Metric.job_id == job_id)
            .group_by(Metric.step, Metric.name)).all()
    sent = Counter((r.step, r.purpose, r.batch_index, r.chunk) for r in rows
                   if r.provider_job_id is not None and r.status != "SUPERSEDED")
    return {"ledger_rows": len(rows),
            "paid_twice": sum(1 for n in sent.values() if n > 1),
            "stuck_pending": sum(1 for r in rows if r.status == "PENDING"),
            "duplicate_metrics": sum(1 for *_, n in metric_keys if n > 1)}


def latest_step(url: str, job_id: str) -> int:
    from sqlalchemy import func, select

    from qorch.orchestrator.store.db import session_scope
    from qorch.orchestrator.store.models import Metric

    with session_scope(url) as session:
        step = session.scalar(select(func.max(Metric.step)).where(
            Metric.job_id == job_id, Metric.name == "loss"))
    return int(step or 0)


def trial(service: Any, options: dict[str, Any], kill_at: int | None) -> dict[str, Any]:
    job_id = service.submit(service.train_spec(options))
    # Only now: the submit joined the cluster, and Ray must not load before that.
    import ray

    from qorch.orchestrator.runtime.names import job_actor

    killed_at = None
    if kill_at is not None:
        deadline = time.monotonic() + 600
        while (step := latest_step(service.url, job_id)) < kill_at:
            if time.monotonic() > deadline or service.job(job_id).state.terminal:
                break
            time.sleep(0.05)
        else:
            pid = int(ray.get(ray.get_actor(job_actor(job_id)).pid.remote()))
            os.kill(pid, signal.SIGKILL)
            killed_at = step
    job = service.follow(job_id, lambda *a: None)
    return {"job": job_id, "state": job.state.value, "killed_at_step": killed_at,
            "attempts": job.attempt, **ledger_and_metrics(service.url, job_id)}


def main() -> None:
    import torch

    from qorch.orchestrator.service import Service
    from qorch.orchestrator.settings import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(PATHS))
    args = parser.parse_args()
    draw = random.Random(args.seed)
    home = tempfile.mkdtemp(prefix="qorch-trial-")
    service = Service(Settings.from_env({"QORCH_HOME": home, "QORCH_DATA_DIR": str(DATA)}))
    report: dict[str, Any] = {"trial": "kill -9 of the worker at a random step"}
    try:
        for name, options in PATHS.items():
            if args.only and name != args.only:
                continue
            reference = trial(service, options, None)
            steps = options["epochs"] * -(-options["train_size"] // options["batch_size"])
            expected = final_weights(service.url, reference["job"])
            runs = []
            for _ in range(args.trials):
                outcome = trial(service, options, draw.randint(1, steps - 1))
                weights = final_weights(service.url, outcome["job"])
                outcome["bit_identical"] = weights.keys() == expected.keys() and all(
                    torch.equal(weights[k], expected[k]) for k in weights)
                runs.append(outcome)
                print(json.dumps({name: outcome}), file=sys.stderr, flush=True)
            report[name] = {
                "reference": reference, "trials": runs,
                "resumed_bit_identical": sum(r["bit_identical"] for r in runs),
                "paid_twice": sum(r["paid_twice"] for r in runs),
                "stuck_pending": sum(r["stuck_pending"] for r in runs),
                "duplicate_metrics": sum(r["duplicate_metrics"] for r in runs)}
    finally:
        service.cluster_down()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
