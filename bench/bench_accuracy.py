"""Benchmark: test accuracy of every recipe and of the README's jobs, mean ± spread over seeds,
each beside the classical LeNet on the same data (the peer).

Runs the real jobs-layer loop (`jobs.loops.training.train`) in process with an in-memory context,
so it measures the models, not the service. Prints one JSON line per run, then a JSON summary
with mean, sample standard deviation, min and max per row.
Usage:
  python bench/bench_accuracy.py                           # every row, 3 seeds, full data
  python bench/bench_accuracy.py --train-size 10000        # the same on a training subset
  python bench/bench_accuracy.py --only quantum-lenet --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from contexts import QuietContext  # bench/ is the script's folder, first on sys.path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"

# Rows beside the recipes: the README's own commands and the classical peer of each dataset and
# class set a recipe uses (same trunk, same budget).
EXTRA: dict[str, dict[str, Any]] = {
    "readme-mnist": {"model": "hybrid-lenet", "dataset": "mnist", "epochs": 5, "lr": 0.003},
    "cnn-mnist": {"model": "cnn", "dataset": "mnist"},
    "cnn-fashion-mnist": {"model": "cnn", "dataset": "fashion-mnist"},
    "cnn-fashion-0v1": {"model": "cnn", "dataset": "fashion-mnist", "classes": (0, 1)},
    "cnn-mnist-0v1": {"model": "cnn", "dataset": "mnist", "classes": (0, 1)},
}


class EpochPrinter(QuietContext):
    """A JobContext that prints epoch metrics as JSON lines and keeps nothing else."""

    def __init__(self, name: str, seed: int) -> None:
        self.name, self.seed = name, seed
        self.epochs: list[dict[str, float]] = []

    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        if "test_accuracy" in values:
            row = {"run": self.name, "seed": self.seed, "epoch": epoch, **values}
            self.epochs.append(row)
            print(json.dumps(row), flush=True)


def rows() -> dict[str, dict[str, Any]]:
    from qorch.jobs.recipes import RECIPES, with_recipe

    return {**{name: with_recipe(name, {}) for name in RECIPES}, **EXTRA}


def run(name: str, fields: dict[str, Any], seed: int, train_size: int | None,
        cache: Path) -> dict[str, Any]:
    from qorch.jobs.data.datasets import DataSource
    from qorch.jobs.data.tensors import load_tensors
    from qorch.jobs.loops.training import train
    from qorch.jobs.spec import TrainSpec

    spec = TrainSpec(**{**fields, "seed": seed, "train_size": train_size})
    data = load_tensors(spec.dataset, train_size=spec.train_size, test_size=spec.test_size,
                        source=DataSource(DATA / spec.dataset, cache), classes=spec.classes)
    ctx = EpochPrinter(name, seed)
    started = time.perf_counter()
    outcome = train(spec, data, ctx)
    return {"run": name, "seed": seed, "test_accuracy": outcome.result["test_accuracy"],
            "epochs": spec.epochs, "lr": spec.lr,
            "wall_seconds": round(time.perf_counter() - started, 1)}


def summary(name: str, fields: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    from qorch.jobs.recipes import RECIPES

    accuracies = [r["test_accuracy"] for r in runs]
    recipe = RECIPES.get(name)
    return {
        "row": name, "fields": {k: list(v) if isinstance(v, tuple) else v
                                for k, v in fields.items()},
        "seeds": [r["seed"] for r in runs],
        "mean": round(statistics.mean(accuracies), 4),
        "std": round(statistics.stdev(accuracies), 4) if len(accuracies) > 1 else None,
        "min": round(min(accuracies), 4), "max": round(max(accuracies), 4),
        "reported": recipe.reported if recipe else None,
        "wall_seconds_mean": round(statistics.mean(r["wall_seconds"] for r in runs), 1),
    }


def main() -> None:
    table = rows()
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", choices=sorted(table))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--train-size", type=int, help="first N training images (default all)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    chosen = {k: table[k] for k in (args.only or table)}
    cache = Path(tempfile.mkdtemp(prefix="qorch-bench-"))
    results = []
    for name, fields in chosen.items():
        runs = [run(name, fields, seed, args.train_size, cache) for seed in args.seeds]
        for r in runs:
            print(json.dumps(r), flush=True)
        results.append(summary(name, fields, runs))
        print(json.dumps(results[-1]), flush=True)
    print(json.dumps({"benchmark": "test accuracy on the full test split",
                      "train_size": args.train_size or "all", "seeds": args.seeds,
                      "results": results}, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
