"""The comparison loop: one trained model's quantum layer on several backends, between the same
classical ends, over the same test images, with paired statistics against a reference."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from qorch.jobs.compare.spec import CompareSpec
from qorch.jobs.compare.stats import (
    Accuracy,
    accuracy,
    compare_paired,
    output_difference,
    per_class_accuracy,
)
from qorch.jobs.context import JobContext
from qorch.jobs.data.tensors import TensorData
from qorch.jobs.errors import JobStopped
from qorch.jobs.loops.checkpoint import unpack_weights
from qorch.jobs.models.builders import build_model
from qorch.jobs.models.hybrid import QuantumModel
from qorch.jobs.quantum.runners import CircuitRunner

ANGLE_BATCH = 1000  # images per pass of the classical front end


@dataclass(frozen=True)
class CompareOutcome:
    stopped: bool
    result: dict[str, Any]


def purpose(index: int) -> str:
    """The ledger purpose of backend `index`'s batches."""
    return f"compare{index}"


@torch.no_grad()
def compare(spec: CompareSpec, data: TensorData, weights: bytes, ctx: JobContext,
            runners: Sequence[CircuitRunner],
            calibrations: Sequence[Mapping[str, Any] | None]) -> CompareOutcome:
    """Every backend in parallel (each through its own runner); the report in `result`."""
    model = build_model(spec.model)
    unpack_weights(weights, model)
    model.eval()
    assert isinstance(model, QuantumModel)
    angles = torch.cat([model.quantum.prepare(model.angles(data.test_x[a:a + ANGLE_BATCH]))
                        for a in range(0, len(data.test_y), ANGLE_BATCH)])
    layer = model.quantum

    def evaluate(index: int) -> np.ndarray:
        runner = runners[index]
        runner.at(0, purpose(index))
        outputs = runner(layer.template, angles, layer.weights).detach()
        accuracy_now = float((model.readout(outputs).argmax(1) == data.test_y).float().mean())
        ctx.log_metrics(index + 1, 1, {f"accuracy/{index}": accuracy_now})
        return outputs.double().numpy()

    ctx.set_phase(f"evaluating on {len(runners)} backends")
    try:
        with ThreadPoolExecutor(max_workers=len(runners), thread_name_prefix="compare") as pool:
            outputs = list(pool.map(evaluate, range(len(runners))))
    except JobStopped:
        return CompareOutcome(stopped=True, result={})
    shots = [getattr(runner, "shots", None) for runner in runners]
    return CompareOutcome(stopped=False, result=report(spec, data, model, outputs,
                                                       calibrations, shots))


def report(spec: CompareSpec, data: TensorData, model: QuantumModel,
           outputs: Sequence[np.ndarray], calibrations: Sequence[Mapping[str, Any] | None],
           shots: Sequence[int | None]) -> dict[str, Any]:
    """Accuracy with intervals per backend; against the reference: the paired difference
    (McNemar, bootstrap) and the mean |Δ| of the quantum layer's own outputs."""
    labels = data.test_y.numpy()
    ref = spec.reference_index
    predictions = [model.readout(torch.from_numpy(o).float()).argmax(1).numpy()
                   for o in outputs]
    rows = []
    for index, token in enumerate(spec.backends):
        row: dict[str, Any] = {
            "backend": token,
            "shots": shots[index],
            "accuracy": _interval(accuracy(predictions[index], labels)),
            "per_class": [{"label": c.label, "name": c.name, **_interval(c.accuracy)}
                          for c in per_class_accuracy(predictions[index], labels,
                                                      list(data.class_names))],
            "calibration": calibration_summary(calibrations[index]),
        }
        if index != ref:
            paired = compare_paired(predictions[index], predictions[ref], labels,
                                    seed=spec.seed)
            row["vs_reference"] = {
                "difference": paired.difference, "low": paired.low, "high": paired.high,
                "mcnemar_p": paired.mcnemar_p, "only_this": paired.only_a,
                "only_reference": paired.only_b}
            row["output_delta"] = asdict(output_difference(outputs[index], outputs[ref]))
        rows.append(row)
    return {"reference": spec.backends[ref], "test_images": len(labels),
            "class_names": list(data.class_names), "backends": rows,
            "predictions": {token: p.tolist() for token, p in zip(spec.backends, predictions,
                                                                  strict=True)}}


def _interval(value: Accuracy) -> dict[str, float | int]:
    return {"value": value.value, "low": value.low, "high": value.high,
            "correct": value.correct, "total": value.total}


def calibration_summary(report: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A device's snapshot date and the median errors of the qubits the circuit used."""
    if not report:
        return None

    def median(values: list[float]) -> float | None:
        return statistics.median(values) if values else None

    qubits = report.get("qubits", [])
    one_qubit = [q.get("sx_error") or q.get("x_error") for q in qubits]
    return {
        "device": report.get("device"), "calibration_date": report.get("calibration_date"),
        "used_qubits": report.get("used_qubits"),
        "median_1q_error": median([e for e in one_qubit if e is not None]),
        "median_2q_error": median([g["error"] for g in report.get("two_qubit_gates", [])
                                   if g.get("error") is not None]),
        "median_readout_error": median([q["readout_error"] for q in qubits
                                        if q.get("readout_error") is not None]),
    }
