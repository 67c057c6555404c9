"""Benchmark: training and inference on shot-based backends through the real CLI and store.

For each backend: wall time, test accuracy, and — counted from the executions ledger — provider
jobs per training step beside the circuits a per-circuit integration would submit one by one.
Then `qorch submit infer` evaluates the fake_brisbane-trained parameters on every backend.
Prints JSON. Usage: python bench/bench_shot_training.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"
QORCH = [sys.executable, "-c", "from cli.app import main; main()"]
NOISE = "depol1=0.001,depol2=0.01,readout=0.02"

TRAINING = {
    "fake_brisbane": ["--backend", "fake_brisbane", "--qubits", "4", "--train-size", "512",
                      "--test-size", "200", "--batch-size", "32", "--shots", "1024"],
    "aer_noise": ["--backend", "aer", "--noise", NOISE, "--qubits", "4", "--train-size", "256",
                  "--test-size", "100", "--batch-size", "32", "--shots", "1024"],
    "braket_dm_noise": ["--backend", "braket_dm", "--noise", NOISE, "--qubits", "2",
                        "--layers", "1", "--train-size", "64", "--test-size", "32",
                        "--batch-size", "32", "--shots", "1024"],
}
COMMON = ["--model", "hybrid-lenet", "--epochs", "1", "--lr", "0.01", "--schedule", "constant",
          "--entangler", "cnot-ring", "--threads", "2", "--data-dir", str(DATA)]
INFER_ON = (("fake_brisbane", []), ("aer", ["--noise", NOISE]), ("braket_dm", ["--noise", NOISE]),
            ("statevector", []))


def qorch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QORCH, *args], capture_output=True, text=True, env=env, cwd=REPO,
                          check=True)


def ledger_counts(job_id: str) -> dict[str, object]:
    from sqlalchemy import select

    from qorch.orchestrator.settings import load_settings
    from qorch.orchestrator.store.db import session_scope
    from qorch.orchestrator.store.models import Execution

    with session_scope(load_settings().database_url) as session:
        rows = list(session.scalars(select(Execution).where(Execution.job_id == job_id)))
    train = [r for r in rows if r.purpose == "train"]
    per_step = Counter(r.step for r in train)
    return {
        "training_steps": len(per_step),
        "provider_jobs_per_step": sorted(set(per_step.values())),
        "circuits_per_step": max((r.n_circuits for r in train), default=0),
        "per_circuit_submissions_per_step": max((r.n_circuits for r in train), default=0),
        "provider_jobs_total": len(rows),
        "shots_total": sum(r.n_circuits * (r.shots or 0) for r in rows),
    }


def run_job(args: list[str], env: dict[str, str]) -> dict[str, object]:
    started = time.perf_counter()
    out = qorch(args, env)
    wall = time.perf_counter() - started
    job_id = out.stdout.strip().splitlines()[-1].split()[1]
    status = json.loads(qorch(["status", job_id, "--json"], env).stdout)
    return {"job": job_id, "state": status["state"], "wall_seconds": round(wall, 1),
            "test_accuracy": (status["result"] or {}).get("test_accuracy"),
            **ledger_counts(job_id)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", choices=sorted(TRAINING))
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="qorch-bench-")
    os.environ["QORCH_HOME"] = home
    env = {**os.environ}
    report: dict[str, object] = {"benchmark": "shot-based training and inference", "train": {},
                                 "infer_from_fake_brisbane": {}}
    for name in args.only or TRAINING:
        result = run_job(["submit", "train", *COMMON, *TRAINING[name]], env)
        report["train"][name] = result  # type: ignore[index]
        print(json.dumps({name: result}), file=sys.stderr, flush=True)
    trained = report["train"].get("fake_brisbane")  # type: ignore[attr-defined]
    if trained:
        for backend, extra in INFER_ON:
            result = run_job(["submit", "infer", "--from", trained["job"], "--backend", backend,
                              "--test-size", "200", "--data-dir", str(DATA), *extra], env)
            report["infer_from_fake_brisbane"][backend] = result  # type: ignore[index]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
