"""Benchmark: one training step's circuits on fake_brisbane, torch noisy engine against peers.

Prints JSON. The hybrid-lenet quantum layer at 4 and 8 qubits (2 layers, RY+RZ, CNOT chain, z
and zz outputs), B = 32 samples: the parameter-shift step's rows (B x (1 + 2 x parameters))
with 1024 shots, in one process, on the same rows:
  engine            FakeDeviceBackend, engine torch (the default): run_batch(...).result()
  aer_path          FakeDeviceBackend, engine aer (Aer density matrices of the same noise)
  runtime_local     qiskit-ibm-runtime local mode, EstimatorV2(mode=FakeBrisbane()), the
                    same ISA circuit, rows and observables (z and zz)
and the noise-aware step (autograd through the noise, shots in the forward pass, float32
like the CNN's features) on the engine. Engine figures are the median of --repeats after a
warm-up (compiled programs cached, as in a training job); the Aer path the median of 3 (one run
above 4 qubits); local mode one warm run, on all rows or on the first --peer-rows of them (then
the per-step figure is scaled by rows and marked so). torch runs on --threads threads (1: like
a job with --cpus 1, the default). Usage:
  python bench/bench_noisy_step.py [--qubits 4 8] [--repeats 7] [--peer-rows 8:256] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.registry import resolve
from qorch.jobs.quantum.gradients import parameter_shift_plan

SHOTS = 1024
BATCH = 32


def median_s(fn: Callable[[int], Any], repeats: int, warm: Callable[[], Any] | None = None,
             clock: Callable[[], float] = time.perf_counter) -> float:
    (warm or (lambda: fn(-1)))()  # warm-up: compile, caches, threads
    times = []
    for k in range(repeats):
        start = clock()
        fn(k)
        times.append(clock() - start)
    return statistics.median(times)


def step_rows(template: CircuitTemplate, rng: np.random.Generator) -> np.ndarray:
    x = rng.uniform(0, np.pi, (BATCH, template.n_inputs))
    w = rng.normal(0, 0.1, template.n_weights)
    return parameter_shift_plan(template, np.hstack([x, np.broadcast_to(w, (BATCH, w.size))])).rows


def runtime_local(template: CircuitTemplate, rows: np.ndarray) -> tuple[float, np.ndarray]:
    """Seconds of one EstimatorV2 local-mode run on these rows (after a small warm-up)."""
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import EstimatorV2
    from qiskit_ibm_runtime.fake_provider import FakeBrisbane

    from qorch.backends.ibm.devices import OPTIMIZATION_LEVEL, TRANSPILE_SEED
    from qorch.backends.qiskit.compile import parameter_matrix, qiskit_observables, to_qiskit

    device = FakeBrisbane()
    manager = generate_preset_pass_manager(optimization_level=OPTIMIZATION_LEVEL, backend=device,
                                           seed_transpiler=TRANSPILE_SEED)
    bare, _, _ = to_qiskit(template)
    isa = manager.run(bare)
    observables = [[op.apply_layout(isa.layout)] for op in qiskit_observables(template)]
    n = template.n_inputs
    values = parameter_matrix(template, isa, rows[:, :n], rows[:, n:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = EstimatorV2(mode=device)
        estimator.options.default_shots = SHOTS
        estimator.run([(isa, observables, values[:2])]).result()
        start = time.perf_counter()
        evs = estimator.run([(isa, observables, values)]).result()[0].data.evs
    return time.perf_counter() - start, np.asarray(evs).T


def noise_aware_step(template: CircuitTemplate, repeats: int) -> float:
    """Forward with 1024 shots and backward through the engine, B rows, shared weights."""
    backend = resolve("fake_brisbane")
    x = (torch.rand(BATCH, template.n_inputs) * np.pi).requires_grad_()
    w = (torch.randn(template.n_weights) * 0.1).requires_grad_()

    def step(k: int) -> None:
        generator = torch.Generator().manual_seed(k + 10)
        out = backend.evaluate(template, x, w, SHOTS, generator)
        out.square().sum().backward()

    return median_s(step, repeats)


def bench_width(qubits: int, repeats: int, peer_rows: int) -> dict[str, Any]:
    template = CircuitTemplate(qubits, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz"))
    rows = step_rows(template, np.random.default_rng(qubits))
    engine, aer = resolve("fake_brisbane"), resolve("fake_brisbane", engine="aer")

    def run(backend: Any) -> Callable[[int], np.ndarray]:
        return lambda k: backend.run_batch(CircuitBatch(template, rows, SHOTS, seed=100 + k)
                                           ).result()

    engine_s = median_s(run(engine), repeats)
    # CPU seconds of this process (the simulation runs in its worker thread): what the step
    # costs whatever else the machine runs.
    engine_cpu_s = median_s(run(engine), repeats, clock=time.process_time)
    aer_s = median_s(run(aer), 3 if qubits <= 4 else 1,
                     lambda: aer.run_batch(CircuitBatch(template, rows[:4], SHOTS)).result())
    peer = rows if not peer_rows or peer_rows >= len(rows) else rows[:peer_rows]
    local_s, evs = runtime_local(template, peer)
    local_step_s = local_s * len(rows) / len(peer)
    ours = engine.run_batch(CircuitBatch(template, peer, SHOTS, seed=1)).result()
    aware_s = noise_aware_step(template, repeats)
    return {
        "template": template.summary(),
        "rows_per_step": len(rows),
        "shots": SHOTS,
        "engine_step_s": round(engine_s, 4),
        "engine_step_cpu_s": round(engine_cpu_s, 4),
        "aer_path_step_s": round(aer_s, 3),
        "runtime_local_step_s": round(local_step_s, 2),
        "runtime_local_rows_run": len(peer),
        "runtime_local_scaled_from_subset": len(peer) < len(rows),
        "speedup_vs_aer_path": round(aer_s / engine_s, 1),
        "speedup_vs_runtime_local": round(local_step_s / engine_s, 1),
        "noise_aware_step_s": round(aware_s, 4),
        # Same noise on both: z and zz agree within shot noise (~0.03 at 1024 shots).
        "mean_abs_diff_vs_runtime_local": round(float(np.abs(ours - evs).mean()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--peer-rows", nargs="*", default=[],
                        help="QUBITS:ROWS pairs: run local mode on only the first ROWS rows "
                             "at that width (default: all rows)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    report: dict[str, Any] = {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                              "load_average_before": [round(v, 2) for v in load]}
    subset = {int(q): int(r) for q, r in (pair.split(":") for pair in args.peer_rows)}
    report["widths"] = {str(q): bench_width(q, args.repeats, subset.get(q, 0))
                        for q in args.qubits}
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
