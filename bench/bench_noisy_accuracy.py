"""Benchmark: accuracy on fake_brisbane of noise-aware-trained against ideally trained models.

Prints JSON. For qnn (10 classes, the default 8 qubits) and pure-qnn (0 vs 1, 9 qubits, with a
CNOT chain so that the device needs no routing and the torch engine takes it), small budgets:
  ideal    trained on `statevector` (exact outputs, autograd)
  aware    trained on `fake_brisbane --gradient autograd` (through the device noise, 1024 shots
           in the forward pass)
each then evaluated through the jobs layer's inference on the same test images: exactly on
`statevector`, and on `fake_brisbane` with 1024 shots without and with `--mitigate readout`.
Usage: python bench/bench_noisy_accuracy.py [--train-size 6000] [--test-size 1000] [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_noisy_epoch import DATASETS, BenchContext  # type: ignore[import-not-found]

from qorch.backends.registry import resolve
from qorch.jobs.data.datasets import DataSource
from qorch.jobs.runner import run_spec
from qorch.jobs.spec import InferSpec, TrainSpec

MODELS: dict[str, dict[str, Any]] = {
    "qnn": {"model": "qnn"},
    "pure-qnn": {"model": "pure-qnn", "classes": (0, 1), "entangler": "cnot-chain"},
}
TRAINING = {"ideal": {"backend": "statevector"},
            "aware": {"backend": "fake_brisbane", "gradient": "autograd"}}
EVALUATIONS = {"statevector_exact": {"backend": "statevector"},
               "fake_brisbane": {"backend": "fake_brisbane"},
               "fake_brisbane_mitigated": {"backend": "fake_brisbane", "mitigate": "readout"}}


class KeepingContext(BenchContext):  # type: ignore[misc]
    """Keeps the final parameters."""

    final: bytes | None = None

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        if kind == "final":
            self.final = payload


def train(spec: TrainSpec, source: DataSource) -> tuple[bytes, float]:
    backend = resolve(spec.backend, shots=spec.shots, seed=spec.seed)
    ctx = KeepingContext(backend)
    start = time.perf_counter()
    run_spec(spec, ctx, backend, source)
    assert ctx.final is not None
    return ctx.final, time.perf_counter() - start


def accuracy(spec: TrainSpec, weights: bytes, options: dict[str, Any], test_size: int,
             source: DataSource) -> float:
    infer = InferSpec(source_job="bench", trained=spec.to_dict(), test_size=test_size, seed=1,
                      **options)
    model = infer.model
    backend = resolve(model.backend, shots=model.shots, seed=model.seed,
                      mitigate=model.mitigate)
    outcome = run_spec(infer, BenchContext(backend), backend, source, weights)
    return float(outcome.result["test_accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=6000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report: dict[str, Any] = {"train_size": args.train_size, "test_size": args.test_size,
                              "epochs": args.epochs, "shots": 1024,
                              "load_average_before": [round(v, 2) for v in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as cache:
        source = DataSource(DATASETS / "mnist", Path(cache))
        for name, model in MODELS.items():
            rows: dict[str, Any] = {}
            for how, training in TRAINING.items():
                spec = TrainSpec(**model, **training, epochs=args.epochs, seed=0,
                                 train_size=args.train_size, test_size=args.test_size)
                weights, seconds = train(spec, source)
                rows[how] = {"train_s": round(seconds, 1), **{
                    where: round(accuracy(spec, weights, options, args.test_size, source), 4)
                    for where, options in EVALUATIONS.items()}}
            rows["template"] = spec.template().summary()
            report[name] = rows
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
