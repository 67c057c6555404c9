"""Benchmark: one epoch of the `cnn` model on full MNIST — qorch's training loop and service
against plain PyTorch.

Prints JSON. The two loops run in their own processes so peak memory (max RSS) is their own:
  plain_torch    the same LeNet-5, data order and Adam in a bare loop (the peer)
  qorch_loop     jobs.loops.training.train in process (progress, checkpoint payloads, metrics)
  qorch_service  `Client.submit_train` end to end on a fresh home: local Ray cluster start,
                 store, worker, results (wall clock; the cluster is stopped afterwards)
Usage: python bench/bench_train_cnn.py [--data-dir ../shared/datasets] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from contexts import QuietContext  # bench/ is the script's folder, first on sys.path

REPO = Path(__file__).resolve().parent.parent
SPEC = {"model": "cnn", "epochs": 1, "lr": 1e-3, "schedule": "constant"}


def _data(data_dir: str) -> Any:
    from qorch.jobs.data.datasets import DataSource
    from qorch.jobs.data.tensors import load_tensors

    source = DataSource(Path(data_dir) / "mnist", Path(tempfile.mkdtemp()))
    return load_tensors("mnist", train_size=None, test_size=None, source=source)


def plain_torch(data_dir: str) -> dict[str, float]:
    import torch
    from torch import nn

    from qorch.jobs.loops.training import epoch_order, evaluate
    from qorch.jobs.models.classical import LeNet5

    data = _data(data_dir)
    torch.manual_seed(0)
    model = LeNet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = epoch_order(0, 0, len(data.train_y))
    started = time.perf_counter()
    for start in range(0, len(order), 64):
        index = order[start : start + 64]
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(data.train_x[index]), data.train_y[index])
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    accuracy = evaluate(model, data.test_x, data.test_y).accuracy
    return {"images_per_second": len(order) / seconds, "test_accuracy": accuracy,
            "train_seconds": seconds}


def qorch_loop(data_dir: str) -> dict[str, float]:
    from qorch.jobs.loops.training import train
    from qorch.jobs.spec import TrainSpec

    data = _data(data_dir)
    started = time.perf_counter()
    outcome = train(TrainSpec(**SPEC), data, QuietContext())
    return {"images_per_second": outcome.result["images_per_second"],
            "test_accuracy": outcome.result["test_accuracy"],
            "train_seconds": outcome.result["epoch_seconds"],
            "loop_wall_seconds": time.perf_counter() - started}


def qorch_service(data_dir: str, threads: int) -> dict[str, float]:
    from qorch import Client

    client = Client(home=tempfile.mkdtemp(prefix="qorch-bench-"), data_dir=data_dir)
    started = time.perf_counter()
    try:
        job = client.submit_train(**SPEC, cpus=threads).wait()
    finally:
        client.service.cluster_down()
    result = job.result or {}
    return {"state": job.state.value, "images_per_second": result.get("images_per_second"),
            "test_accuracy": result.get("test_accuracy"),
            "wall_seconds": time.perf_counter() - started}


def _child(variant: str, data_dir: str, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    result = {"plain_torch": plain_torch, "qorch_loop": qorch_loop}[variant](data_dir)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run_child(variant: str, data_dir: str, threads: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", variant, "--data-dir", data_dir,
                          "--threads", str(threads)], capture_output=True, text=True,
                         check=True, cwd=REPO)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.data_dir, args.threads)
        return
    peer = _run_child("plain_torch", args.data_dir, args.threads)
    loop = _run_child("qorch_loop", args.data_dir, args.threads)
    service = qorch_service(args.data_dir, args.threads)
    report = {
        "benchmark": "cnn, full MNIST (60,000 images), 1 epoch, batch 64, Adam 1e-3",
        "threads": args.threads,
        "plain_torch": peer,
        "qorch_loop": loop,
        "qorch_service": service,
        "ratios": {
            "qorch_loop_vs_plain_images_per_second":
                loop["images_per_second"] / peer["images_per_second"],
            "qorch_loop_vs_plain_peak_rss": loop["peak_rss_mib"] / peer["peak_rss_mib"],
            "qorch_service_wall_vs_plain_train_seconds":
                service["wall_seconds"] / peer["train_seconds"],
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
