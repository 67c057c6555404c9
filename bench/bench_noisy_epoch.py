"""Benchmark: a full MNIST epoch of hybrid-lenet on fake_brisbane, through the jobs layer.

Prints JSON. Each configuration runs the job's own code path in process (`jobs.runner.run_spec`:
quantum setup, runners, the training loop, the end-of-epoch test evaluation) with a context
whose `execute` sends each circuit batch to the backend, as the ledgered executor does:
  ps4       --qubits 4, 1024 shots, parameter-shift (the default gradient on a noisy device):
            one batch of 64 x 41 rows per step through the torch engine
  aware8    the default 8 qubits, --gradient autograd: noise-aware training through the engine,
            shots (1024) in the forward pass
Peers, in the same run, for --peer-steps timed steps of the same spec (their epoch is the median
step time times the epoch's steps, marked as estimated): ps4 on the Aer path (--engine aer), and
for aware8 the parameter-shift step at 8 qubits on the engine. torch uses --threads threads (1,
like a job with --cpus 1). Usage:
  python bench/bench_noisy_epoch.py [--configs ps4 aware8] [--train-size N] [--test-size N]
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

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qorch.backends.contract import Backend, CircuitBatch
from qorch.backends.registry import resolve
from qorch.jobs.data.datasets import DataSource
from qorch.jobs.runner import run_spec
from qorch.jobs.spec import TrainSpec

DATASETS = Path(os.environ.get("QORCH_TEST_DATASETS", "/work/shared/datasets"))
CONFIGS: dict[str, dict[str, Any]] = {
    "ps4": {"qubits": 4, "shots": 1024},
    "aware8": {"gradient": "autograd"},
}
PEERS: dict[str, tuple[dict[str, Any], str | None]] = {
    "ps4": ({"qubits": 4, "shots": 1024}, "aer"),
    "aware8": ({"gradient": "parameter-shift"}, None),
}


class BenchContext:
    """A JobContext that keeps metrics, drops checkpoints and runs batches on the backend."""

    def __init__(self, backend: Backend, stop_after: int | None = None) -> None:
        self.backend, self.stop_after = backend, stop_after
        self.metrics: list[tuple[int, int, str, float]] = []
        self.rows_sent = 0
        self.step_times: list[float] = []  # when each step's loss was logged

    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        self.metrics.extend((step, epoch, k, v) for k, v in values.items())
        if "loss" in values:
            self.step_times.append(time.perf_counter())

    def median_step_s(self) -> float:
        return float(np.median(np.diff(self.step_times)))

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        return None

    def latest_checkpoint(self) -> bytes | None:
        return None

    def should_stop(self) -> bool:
        steps = {m[0] for m in self.metrics if m[2] == "loss"}
        return self.stop_after is not None and len(steps) >= self.stop_after

    def set_phase(self, phase: str) -> None:
        return None

    def execute(self, batch: CircuitBatch, step: int, purpose: str, index: int) -> np.ndarray:
        self.rows_sent += batch.n_circuits
        return self.backend.run_batch(batch).result()

    def series(self, name: str) -> list[float]:
        return [v for _, _, k, v in self.metrics if k == name]


def spec_of(options: dict[str, Any], train_size: int | None, test_size: int | None) -> TrainSpec:
    return TrainSpec(model="hybrid-lenet", backend="fake_brisbane", epochs=1, seed=0,
                     train_size=train_size, test_size=test_size, **options)


def run(spec: TrainSpec, source: DataSource, engine: str | None = None,
        stop_after: int | None = None) -> tuple[BenchContext, float]:
    backend = resolve(spec.backend, shots=spec.shots, seed=spec.seed, engine=engine)
    ctx = BenchContext(backend, stop_after)
    start = time.perf_counter()
    run_spec(spec, ctx, backend, source)
    return ctx, time.perf_counter() - start


def bench(name: str, source: DataSource, train_size: int | None, test_size: int | None,
          peer_steps: int) -> dict[str, Any]:
    spec = spec_of(CONFIGS[name], train_size, test_size)
    ctx, wall = run(spec, source)
    steps = len(ctx.series("loss"))
    epoch_s = ctx.series("epoch_seconds")[-1]
    peer_options, peer_engine = PEERS[name]
    peer_spec = spec_of(peer_options, train_size, test_size)
    run(peer_spec, source, peer_engine, stop_after=1)  # compile and warm up
    peer_ctx, _ = run(peer_spec, source, peer_engine, stop_after=peer_steps + 1)
    peer_step_s = peer_ctx.median_step_s()
    return {
        "spec": {k: v for k, v in spec.to_dict().items() if v is not None and k in (
            "model", "backend", "qubits", "layers", "shots", "gradient", "batch_size",
            "train_size", "test_size")},
        "steps": steps,
        "rows_sent": ctx.rows_sent,
        "epoch_train_s": round(epoch_s, 1),
        "epoch_wall_s_with_test_eval": round(wall, 1),
        "step_s_mean": round(epoch_s / steps, 4),
        "step_s_median": round(ctx.median_step_s(), 4),
        "test_accuracy": round(ctx.series("test_accuracy")[-1], 4),
        "peer": {"spec": {**peer_options, "engine": peer_engine or "torch"},
                 "steps_timed": peer_steps, "step_s_median": round(peer_step_s, 4),
                 "epoch_train_s_estimated": round(peer_step_s * steps, 1)},
        "speedup_vs_peer": round(peer_step_s * steps / epoch_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--test-size", type=int, default=None)
    parser.add_argument("--peer-steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report: dict[str, Any] = {"cpus": os.cpu_count(), "torch_threads": args.threads,
                              "load_average_before": [round(v, 2) for v in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as cache:
        source = DataSource(DATASETS / "mnist", Path(cache))
        for name in args.configs:
            report[name] = bench(name, source, args.train_size, args.test_size, args.peer_steps)
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
