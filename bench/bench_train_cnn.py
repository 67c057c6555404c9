"""Benchmark: one epoch of the `cnn` model on full MNIST — qorch's job path against plain PyTorch.

Prints JSON. Each variant runs in its own process so peak memory (max RSS) is its own:
  plain_torch  the same LeNet-5, data order and Adam in a bare loop (the peer)
  qorch_loop   jobs.training.train with the SQL-store context (metrics, checkpoints, heartbeat)
  qorch_cli    `qorch submit train` end to end (embedded Ray, store, progress), wall clock
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

REPO = Path(__file__).resolve().parent.parent


def plain_torch(data_dir: str, threads: int) -> dict[str, float]:
    import torch
    from torch import nn

    from qorch.jobs.data.tensors import load_tensors
    from qorch.jobs.loops.training import epoch_order, evaluate
    from qorch.jobs.models.builders import LeNet5

    torch.set_num_threads(threads)
    data = load_tensors("mnist", train_size=None, test_size=None, data_dir=Path(data_dir),
                        cache_dir=Path(tempfile.mkdtemp()))
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
    _, accuracy = evaluate(model, data.test_x, data.test_y)
    return {"images_per_second": len(order) / seconds, "test_accuracy": accuracy,
            "train_seconds": seconds}


def qorch_loop(data_dir: str, threads: int) -> dict[str, float]:
    import torch

    from qorch.jobs.data.tensors import load_tensors
    from qorch.jobs.loops.training import train
    from qorch.jobs.spec import TrainSpec
    from qorch.orchestrator.runtime.context import StoreContext
    from qorch.orchestrator.service import create_job
    from qorch.orchestrator.settings import load_settings
    from qorch.orchestrator.store.db import session_scope

    torch.set_num_threads(threads)
    settings = load_settings()
    spec = TrainSpec(model="cnn", epochs=1, lr=1e-3, schedule="constant", data_dir=data_dir,
                     threads=threads)
    job_id = create_job(settings, "train", spec.to_dict(), spec.backend)
    with session_scope(settings.database_url) as session:
        from qorch.orchestrator.store.states import JobState
        from qorch.orchestrator.store.transitions import transition

        transition(session, job_id, JobState.RUNNING, origin="bench")
    data = load_tensors("mnist", train_size=None, test_size=None, data_dir=Path(data_dir),
                        cache_dir=settings.dataset_cache)
    ctx = StoreContext(job_id, settings.database_url, settings.home / "checkpoints")
    started = time.perf_counter()
    outcome = train(spec, data, ctx)
    ctx.flush()
    return {"images_per_second": outcome.result["images_per_second"],
            "test_accuracy": outcome.result["test_accuracy"],
            "train_seconds": outcome.result["epoch_seconds"],
            "loop_wall_seconds": time.perf_counter() - started}


def _child(variant: str, data_dir: str, threads: int) -> None:
    result = {"plain_torch": plain_torch, "qorch_loop": qorch_loop}[variant](data_dir, threads)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run_child(variant: str, data_dir: str, threads: int, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", variant, "--data-dir", data_dir,
                          "--threads", str(threads)], capture_output=True, text=True,
                         check=True, env=env, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def qorch_cli(data_dir: str, threads: int, env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", "from cli.app import main; main()", "submit",
                          "train", "--model", "cnn", "--epochs", "1", "--lr", "0.001",
                          "--schedule", "constant", "--data-dir",
                          data_dir, "--threads", str(threads)],
                         capture_output=True, text=True, env=env, cwd=REPO, check=True)
    wall = time.perf_counter() - started
    job_id = out.stdout.strip().splitlines()[-1].split()[1]
    status = subprocess.run([sys.executable, "-c", "from cli.app import main; main()",
                             "status", job_id, "--json"], capture_output=True, text=True,
                            env=env, cwd=REPO, check=True)
    result = json.loads(status.stdout)["result"]
    return {"images_per_second": result["images_per_second"],
            "test_accuracy": result["test_accuracy"], "wall_seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.data_dir, args.threads)
        return
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "QORCH_HOME": home}
        env.pop("QORCH_DATABASE_URL", None)
        peer = _run_child("plain_torch", args.data_dir, args.threads, env)
        loop = _run_child("qorch_loop", args.data_dir, args.threads, env)
        cli = qorch_cli(args.data_dir, args.threads, env)
    report = {
        "benchmark": "cnn, full MNIST (60,000 images), 1 epoch, batch 64, Adam 1e-3",
        "threads": args.threads,
        "plain_torch": peer,
        "qorch_loop": loop,
        "qorch_cli": cli,
        "ratios": {
            "qorch_loop_vs_plain_images_per_second":
                loop["images_per_second"] / peer["images_per_second"],
            "qorch_loop_vs_plain_peak_rss": loop["peak_rss_mib"] / peer["peak_rss_mib"],
            "qorch_cli_wall_vs_plain_train_seconds": cli["wall_seconds"] / peer["train_seconds"],
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
