"""Benchmark: one hybrid-LeNet training step (batch 64, fwd+bwd+Adam) — qorch's quantum layer
against the same model with PennyLane TorchLayer (default.qubit, backprop) and against the
classical LeNet-5 with a Linear in place of the quantum layer, all in this run. Prints JSON.

Each (variant, size) runs in its own process so its peak memory (max RSS) is its own.
`--interleaved` steps qorch's hybrid and the classical model alternately in one process
instead, so that on a busy machine both see the same load (medians and bests; no RSS).
Usage: python bench/bench_hybrid_step.py [--steps 30] [--threads 2] [--sizes 4x2,8x4]
[--variants qorch,classical] [--interleaved]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = ((4, 2), (8, 4), (12, 4))
VARIANTS = ("qorch", "pennylane", "classical")


def build(variant: str, qubits: int, layers: int):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    sys.path.insert(0, str(REPO / "bench"))
    from bench_simulator import pennylane_layer

    from qorch.jobs.models.classical import LeNetFeatures
    from qorch.jobs.models.hybrid import HybridLeNet, to_angles
    from qorch.jobs.quantum.layer import QuantumLayer
    from qorch.jobs.spec import TrainSpec

    spec = TrainSpec(qubits=qubits, layers=layers, observables=("z",), entangler="cnot-ring")
    template = spec.template()
    torch.manual_seed(0)
    if variant == "classical":
        return nn.Sequential(LeNetFeatures(), nn.Linear(84, qubits), nn.Tanh(),
                             nn.Linear(qubits, 10))
    model = HybridLeNet(QuantumLayer(template), 10)
    if variant == "pennylane":
        quantum = pennylane_layer(template)

        class PennyLaneHybrid(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.features, self.to_qubits, self.head = (model.features, model.to_qubits,
                                                            model.head)
                self.quantum = quantum

            def forward(self, images: torch.Tensor) -> torch.Tensor:
                angles = to_angles(self.to_qubits(self.features(images)))
                return self.head(self.quantum(angles).to(angles.dtype))

        return PennyLaneHybrid()
    return model


def child(variant: str, qubits: int, layers: int, steps: int, threads: int) -> dict:
    import torch
    from torch import nn

    from qorch.jobs.data.datasets import DataSource
    from qorch.jobs.data.tensors import load_tensors

    torch.set_num_threads(threads)
    source = DataSource(REPO.parent / "shared" / "datasets" / "mnist", Path("/tmp"))
    data = load_tensors("mnist", train_size=64 * 8, test_size=10, source=source)
    model = build(variant, qubits, layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for step in range(steps + 3):  # 3 warm-up steps
        index = torch.arange(64) + 64 * (step % 8)
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(data.train_x[index]), data.train_y[index])
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
    ms = [t * 1000 for t in times[3:]]
    return {"ms_per_step": statistics.median(ms), "ms_p90": sorted(ms)[int(0.9 * len(ms))],
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def interleaved(qubits: int, layers: int, steps: int, threads: int) -> dict:
    """qorch's hybrid and the classical model stepped alternately in one process: on a
    machine whose load changes from second to second both see the same load."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    models = {v: build(v, qubits, layers) for v in ("qorch", "classical")}
    optimizers = {v: torch.optim.Adam(m.parameters(), lr=1e-3) for v, m in models.items()}
    images, labels = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    ms: dict[str, list[float]] = {v: [] for v in models}
    for _ in range(steps + 3):
        for variant, model in models.items():
            started = time.perf_counter()
            optimizers[variant].zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizers[variant].step()
            ms[variant].append((time.perf_counter() - started) * 1000)
    row: dict = {"qubits": qubits, "layers": layers, "interleaved": True}
    for variant, times in ms.items():
        row[variant] = {"ms_median": statistics.median(times[3:]), "ms_best": min(times[3:])}
    row["qorch_vs_classical"] = row["qorch"]["ms_median"] / row["classical"]["ms_median"]
    row["qorch_vs_classical_best"] = row["qorch"]["ms_best"] / row["classical"]["ms_best"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", default=",".join(f"{q}x{depth}" for q, depth in SIZES),
                        help="qubits x layers, comma-separated")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--interleaved", action="store_true",
                        help="qorch and classical alternately in one process (no RSS)")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        variant, qubits, layers = args.child
        print(json.dumps(child(variant, int(qubits), int(layers), args.steps, args.threads)))
        return
    load_before = [round(v, 2) for v in os.getloadavg()]
    rows = []
    variants = args.variants.split(",")
    for size in args.sizes.split(","):
        qubits, layers = (int(v) for v in size.split("x"))
        if args.interleaved:
            rows.append(interleaved(qubits, layers, args.steps, args.threads))
            continue
        row: dict = {"qubits": qubits, "layers": layers}
        for variant in variants:
            out = subprocess.run(
                [sys.executable, __file__, "--child", variant, str(qubits), str(layers),
                 "--steps", str(args.steps), "--threads", str(args.threads)],
                capture_output=True, text=True, check=True, cwd=REPO)
            row[variant] = json.loads(out.stdout.strip().splitlines()[-1])
        ms = {v: row[v]["ms_per_step"] for v in variants}
        if "qorch" in ms and "classical" in ms:
            row["qorch_vs_classical"] = ms["qorch"] / ms["classical"]
        if "qorch" in ms and "pennylane" in ms:
            row["pennylane_vs_qorch"] = ms["pennylane"] / ms["qorch"]
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps({"benchmark": "hybrid-LeNet training step, batch 64, fwd+bwd+Adam",
                      "threads": args.threads, "load_average_before": load_before,
                      "load_average_after": [round(v, 2) for v in os.getloadavg()],
                      "results": rows}, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
