"""Benchmark: circuit evaluations/second of qorch's fake-device and aer adapters against peers.

Prints JSON. Same template (4 qubits, 2 layers, <Z> per qubit), same parameter rows, 1024 shots,
in one process:
  fake_brisbane   qorch FakeDeviceBackend (transpiled once, reduced to the used qubits, one Aer
                  run per batch) vs qiskit-ibm-runtime local mode EstimatorV2(mode=FakeBrisbane())
                  and SamplerV2(mode=FakeBrisbane()) on the same ISA circuit and rows
  aer_noise       qorch AerBackend with a --noise spec vs qiskit-aer's SamplerV2 with the same
                  NoiseModel
  braket_local    qorch braket_sv / braket_dm adapters (no peer; absolute rates)
Warm numbers are the median of --repeats runs after one warm-up (caches built); cold is the
first call. Usage: python bench/bench_fake_backend.py [--rows 128] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch

SHOTS = 1024
NOISE = "depol1=0.001,depol2=0.01,readout=0.02,amp=0.001,phase=0.002"


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """(cold seconds, warm median seconds, last value)."""
    start = time.perf_counter()
    value = fn()
    cold = time.perf_counter() - start
    fn()  # warm-up after the cold call
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return cold, statistics.median(times), value


def run_batch(backend: Any, batch: CircuitBatch) -> np.ndarray:
    return backend.run_batch(batch).result()


def rate(rows: int, seconds: float) -> float:
    return round(rows / seconds, 1)


def fake_brisbane(template: CircuitTemplate, params: np.ndarray, repeats: int) -> dict[str, Any]:
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import EstimatorV2, SamplerV2
    from qiskit_ibm_runtime.fake_provider import FakeBrisbane

    from qorch.backends.ibm.devices import OPTIMIZATION_LEVEL, TRANSPILE_SEED, transpile_template
    from qorch.backends.ibm.fake import FakeDeviceBackend
    from qorch.backends.qiskit.compile import parameter_matrix, qiskit_observables, to_qiskit

    rows = params.shape[0]
    batch = CircuitBatch(template, params, SHOTS)
    ours = FakeDeviceBackend("fake_brisbane", seed=7)
    cold, warm, out = timed(lambda: ours.run_batch(batch).result(), repeats)

    device = FakeBrisbane()
    manager = generate_preset_pass_manager(
        optimization_level=OPTIMIZATION_LEVEL, backend=device, seed_transpiler=TRANSPILE_SEED
    )
    bare, _, _ = to_qiskit(template)
    isa = manager.run(bare)  # the estimator measures for itself
    observables = [[op.apply_layout(isa.layout)] for op in qiskit_observables(template)]
    values = parameter_matrix(template, isa, batch.inputs, batch.weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = EstimatorV2(mode=device)
        estimator.options.default_shots = SHOTS
        sampler = SamplerV2(mode=device)
        sampler.options.default_shots = SHOTS
        measured = transpile_template(template, device)
        sampler_values = parameter_matrix(template, measured, batch.inputs, batch.weights)
        e_cold, e_warm, evs = timed(
            lambda: estimator.run([(isa, observables, values)]).result()[0].data.evs, repeats
        )
        s_cold, s_warm, _ = timed(
            lambda: sampler.run([(measured, sampler_values)]).result(), repeats
        )
    evs = np.asarray(evs).T  # [rows, n_qubits]
    return {
        "rows": rows,
        "shots": SHOTS,
        "qorch_fake_brisbane": {
            "cold_s": round(cold, 3),
            "warm_s": round(warm, 3),
            "evals_per_s": rate(rows, warm),
        },
        "runtime_estimator_v2_local": {
            "cold_s": round(e_cold, 3),
            "warm_s": round(e_warm, 3),
            "evals_per_s": rate(rows, e_warm),
        },
        "runtime_sampler_v2_local": {
            "cold_s": round(s_cold, 3),
            "warm_s": round(s_warm, 3),
            "evals_per_s": rate(rows, s_warm),
        },
        "speedup_vs_estimator": round(e_warm / warm, 1),
        "speedup_vs_sampler": round(s_warm / warm, 1),
        "cold_speedup_vs_estimator": round(e_cold / cold, 1),
        # Both carry the same calibration noise: they must agree to within shot noise (~0.03).
        "mean_abs_diff_vs_estimator": round(float(np.abs(out - evs).mean()), 4),
    }


def aer_noise(template: CircuitTemplate, params: np.ndarray, repeats: int) -> dict[str, Any]:
    from qiskit_aer.primitives import SamplerV2 as AerSampler

    from qorch.backends.noise import parse_noise
    from qorch.backends.qiskit.aer import measured_circuit
    from qorch.backends.qiskit.compile import parameter_matrix
    from qorch.backends.qiskit.noise import aer_noise_model
    from qorch.backends.registry import resolve

    rows = params.shape[0]
    batch = CircuitBatch(template, params, SHOTS)
    ours = resolve("aer", shots=SHOTS, noise=NOISE, seed=7)
    _, warm, _ = timed(lambda: ours.run_batch(batch).result(), repeats)
    circuit = measured_circuit(template)
    values = parameter_matrix(template, circuit, batch.inputs, batch.weights)
    peer = AerSampler(
        default_shots=SHOTS,
        options={"backend_options": {"noise_model": aer_noise_model(parse_noise(NOISE))}},
    )
    _, p_warm, _ = timed(lambda: peer.run([(circuit, values)]).result(), repeats)
    return {
        "noise": NOISE,
        "qorch_aer": {"warm_s": round(warm, 3), "evals_per_s": rate(rows, warm)},
        "aer_sampler_v2": {"warm_s": round(p_warm, 3), "evals_per_s": rate(rows, p_warm)},
        "speedup": round(p_warm / warm, 1),
    }


def braket_local(template: CircuitTemplate, params: np.ndarray) -> dict[str, Any]:
    from qorch.backends.registry import resolve

    rows = min(32, params.shape[0])
    batch = CircuitBatch(template, params[:rows], SHOTS)
    out: dict[str, Any] = {"rows": rows}
    for name, noise in (("braket_sv", None), ("braket_dm", NOISE)):
        backend = resolve(name, shots=SHOTS, noise=noise, seed=7)
        _, warm, _ = timed(partial(run_batch, backend, batch), 1)
        out[name] = {"warm_s": round(warm, 3), "evals_per_s": rate(rows, warm)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-braket", action="store_true")
    args = parser.parse_args()
    template = CircuitTemplate(4, 2)
    params = np.random.default_rng(0).uniform(
        -np.pi, np.pi, (args.rows, template.n_inputs + template.n_weights)
    )
    report: dict[str, Any] = {"template": template.summary()}
    report["fake_brisbane"] = fake_brisbane(template, params, args.repeats)
    report["aer_noise"] = aer_noise(template, params, args.repeats)
    if not args.skip_braket:
        report["braket_local"] = braket_local(template, params)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
