"""Benchmark: training and inference on shot-based backends through the real service and store.

For each backend: wall time, test accuracy, and — counted from the executions ledger — provider
jobs per training step beside the circuits a per-circuit integration (one provider job per
circuit, the notebook way: the peer) would submit one by one. Then the fake_brisbane-trained
parameters are evaluated on every backend. Jobs go through `qorch.Client` on a fresh home, so a
local Ray cluster is started and stopped by the benchmark.
Prints JSON. Usage: python bench/bench_shot_training.py [--only fake_brisbane]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"
NOISE = "depol1=0.001,depol2=0.01,readout=0.02"

TRAINING: dict[str, dict[str, Any]] = {
    "fake_brisbane": {"backend": "fake_brisbane", "qubits": 4, "train_size": 512,
                      "test_size": 200, "batch_size": 32, "shots": 1024},
    "aer_noise": {"backend": "aer", "noise": NOISE, "qubits": 4, "train_size": 256,
                  "test_size": 100, "batch_size": 32, "shots": 1024},
    "braket_dm_noise": {"backend": "braket_dm", "noise": NOISE, "qubits": 2, "layers": 1,
                        "train_size": 64, "test_size": 32, "batch_size": 32, "shots": 1024},
}
COMMON = {"model": "hybrid-lenet", "epochs": 1, "lr": 0.01, "schedule": "constant",
          "entangler": "cnot-ring", "cpus": 1}
INFER_ON: tuple[tuple[str, dict[str, Any]], ...] = (
    ("fake_brisbane", {}), ("aer", {"noise": NOISE}), ("braket_dm", {"noise": NOISE}),
    ("statevector", {}))


def ledger_counts(database_url: str, job_id: str) -> dict[str, object]:
    from sqlalchemy import select

    from qorch.orchestrator.store.db import session_scope
    from qorch.orchestrator.store.models import Execution

    with session_scope(database_url) as session:
        rows = list(session.scalars(select(Execution).where(Execution.job_id == job_id)))
    train = [r for r in rows if r.purpose == "train"]
    per_step = Counter(r.step for r in train)
    circuits = max((r.n_circuits for r in train), default=0)
    jobs = max(per_step.values(), default=0)
    return {
        "training_steps": len(per_step),
        "provider_jobs_per_step": sorted(set(per_step.values())),
        "circuits_per_step": circuits,
        "peer_per_circuit_jobs_per_step": circuits,
        "provider_jobs_ratio_peer_over_qorch": round(circuits / jobs, 1) if jobs else None,
        "provider_jobs_total": len(rows),
        "shots_total": sum(r.n_circuits * (r.shots or 0) for r in rows),
    }


def finished(client: Any, job: Any, started: float) -> dict[str, object]:
    job.wait()
    wall = time.perf_counter() - started
    return {"job": job.id, "state": job.state.value, "wall_seconds": round(wall, 1),
            "test_accuracy": (job.result or {}).get("test_accuracy"),
            **ledger_counts(client.settings.database_url, job.id)}


def main() -> None:
    from qorch import Client

    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", choices=sorted(TRAINING))
    args = parser.parse_args()
    client = Client(home=tempfile.mkdtemp(prefix="qorch-bench-"), data_dir=DATA)
    report: dict[str, Any] = {"benchmark": "shot-based training and inference", "train": {},
                              "infer_from_fake_brisbane": {}}
    try:
        for name in args.only or TRAINING:
            started = time.perf_counter()
            job = client.submit_train(**COMMON, **TRAINING[name])
            report["train"][name] = finished(client, job, started)
            print(json.dumps({name: report["train"][name]}), file=sys.stderr, flush=True)
        trained = report["train"].get("fake_brisbane")
        for backend, extra in INFER_ON if trained else ():
            started = time.perf_counter()
            job = client.submit_infer(trained["job"], backend=backend, test_size=200, **extra)
            report["infer_from_fake_brisbane"][backend] = finished(client, job, started)
    finally:
        client.service.cluster_down()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
