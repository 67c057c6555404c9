"""Benchmark: test accuracy on full data, quantum layer in the path, classical LeNet-5 as peer.

Prints JSON lines (one per epoch and run) then a summary. Runs the real jobs-layer loop
(`jobs.training.train`) with an in-memory context, so it measures the model, not the service.
Usage:
  python bench/bench_accuracy.py                       # the README table (takes a while)
  python bench/bench_accuracy.py --only hybrid-mnist   # one row
  python bench/bench_accuracy.py --custom '{"model": "hybrid-lenet", "qubits": 8}'
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"

# The README's accuracy table: hybrid-lenet with its defaults (8 qubits, 2 layers, angle-ry,
# ryrz, cnot-chain, ⟨Z⟩ + ⟨ZZ⟩), each beside the classical LeNet with the same trunk.
RUNS: dict[str, dict[str, Any]] = {
    "hybrid-mnist": {"model": "hybrid-lenet", "dataset": "mnist", "epochs": 5, "lr": 0.003},
    "cnn-mnist": {"model": "cnn", "dataset": "mnist", "epochs": 5, "lr": 0.003},
    "hybrid-fashion-wide": {"model": "hybrid-lenet", "dataset": "fashion-mnist", "epochs": 5,
                            "trunk": "lenet-wide", "lr": 0.001},
    "cnn-fashion-wide": {"model": "cnn", "dataset": "fashion-mnist", "epochs": 5,
                         "trunk": "lenet-wide", "lr": 0.001},
    "hybrid-fashion": {"model": "hybrid-lenet", "dataset": "fashion-mnist", "epochs": 5,
                       "lr": 0.003},
    "cnn-fashion": {"model": "cnn", "dataset": "fashion-mnist", "epochs": 5, "lr": 0.001},
    "pure-qnn-mnist-0v1": {"model": "pure-qnn", "dataset": "mnist", "classes": (0, 1),
                           "epochs": 2, "lr": 0.05, "batch_size": 32, "qubits": 9, "layers": 4,
                           "rotations": "ry", "entangler": "cnot-ring", "observables": ("z",)},
}


class EpochPrinter:
    """A JobContext that prints epoch metrics as JSON lines and keeps nothing else."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.epochs: list[dict[str, float]] = []

    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        if "test_accuracy" in values:
            row = {"run": self.name, "epoch": epoch, **values}
            self.epochs.append(row)
            print(json.dumps(row), flush=True)

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        pass

    def latest_checkpoint(self) -> bytes | None:
        return None

    def should_stop(self) -> bool:
        return False

    def set_phase(self, phase: str) -> None:
        pass

    def execute(self, batch: Any, step: int, purpose: str, index: int) -> Any:
        raise RuntimeError("the accuracy benchmark runs the exact path only")


def run(name: str, options: dict[str, Any], threads: int | None) -> dict[str, Any]:
    import torch

    from qorch.jobs.data.tensors import load_tensors
    from qorch.jobs.loops.training import train
    from qorch.jobs.spec import TrainSpec

    if threads:
        torch.set_num_threads(threads)
    spec = TrainSpec(**{"data_dir": str(DATA), **options})
    data = load_tensors(spec.dataset, train_size=spec.train_size, test_size=spec.test_size,
                        data_dir=DATA, cache_dir=Path(tempfile.mkdtemp()), classes=spec.classes)
    ctx = EpochPrinter(name)
    started = time.perf_counter()
    outcome = train(spec, data, ctx)
    return {"run": name, "spec": {k: v for k, v in spec.to_dict().items() if k in options},
            "test_accuracy": outcome.result["test_accuracy"],
            "per_epoch": [round(e["test_accuracy"], 4) for e in ctx.epochs],
            "wall_seconds": round(time.perf_counter() - started, 1),
            "parameters": outcome.result["parameters"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", choices=sorted(RUNS))
    parser.add_argument("--custom", help="JSON of TrainSpec fields for one extra run")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    chosen = {k: RUNS[k] for k in (args.only or ([] if args.custom else RUNS))}
    if args.custom:
        chosen["custom"] = json.loads(args.custom)
    results = [run(name, options, args.threads) for name, options in chosen.items()]
    print(json.dumps({"benchmark": "test accuracy, full test set", "results": results},
                     indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
