"""Comparing trained models (the seeds' "QNN vs CNN"): accuracy with intervals, paired where
the test images match, parameters, circuit size, training time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qorch.jobs.compare.stats import ComparisonError, accuracy, compare_paired, wilson


@dataclass(frozen=True)
class TrainedModel:
    """What a finished training job tells about its model."""

    job_id: str
    spec: Mapping[str, Any]
    result: Mapping[str, Any]
    summary: Mapping[str, Any]
    seconds: float | None
    curves: Mapping[str, list[tuple[int, float]]] = field(default_factory=dict)

    @property
    def test_set(self) -> tuple[object, ...]:
        """What decides whether two jobs saw the same test images, in the same order."""
        classes = self.spec.get("classes")
        return (self.spec.get("dataset"), self.spec.get("test_size"),
                tuple(classes) if classes else None)

    @property
    def label(self) -> str:
        spec = self.spec
        quantum = f", {spec['qubits']}q/{spec['layers']}l" if spec.get("qubits") else ""
        return f"{self.job_id} ({spec.get('model')}{quantum})"


def compare_models(models: Sequence[TrainedModel], labels: np.ndarray | None,
                   seed: int = 0) -> dict[str, Any]:
    """The first model is the reference. `labels` are the shared test labels when every model
    saw the same test images (then the differences are paired), else None."""
    if len(models) < 2:
        raise ComparisonError("compare at least two training jobs")
    datasets = {m.spec.get("dataset") for m in models}
    if len(datasets) != 1:
        raise ComparisonError(f"the jobs were trained on different datasets "
                              f"({', '.join(sorted(map(str, datasets)))}); compare like with like")
    paired = labels is not None and len({m.test_set for m in models}) == 1 and all(
        len(m.result.get("predictions") or []) == len(labels) for m in models)
    reference = models[0]
    rows = []
    for model in models:
        row: dict[str, Any] = {
            "job": model.job_id, "model": model.spec.get("model"), "label": model.label,
            "parameters": model.summary.get("parameters"),
            "circuit": _circuit(model.summary.get("circuit")),
            "epochs": model.result.get("epochs"), "training_seconds": model.seconds,
        }
        if paired and labels is not None:
            predictions = np.asarray(model.result["predictions"])
            row["accuracy"] = _interval(accuracy(predictions, labels))
            if model is not reference:
                result = compare_paired(predictions, np.asarray(reference.result["predictions"]),
                                        labels, seed=seed)
                row["vs_reference"] = {"difference": result.difference, "low": result.low,
                                       "high": result.high, "mcnemar_p": result.mcnemar_p}
        else:
            total = int(model.summary.get("test_examples") or 0)
            value = float(model.result.get("test_accuracy", 0.0))
            row["accuracy"] = _interval(wilson(round(value * total), total)) if total else {
                "value": value}
        rows.append(row)
    return {"reference": reference.job_id, "paired": paired, "models": rows}


def _interval(value: Any) -> dict[str, float | int]:
    return {"value": value.value, "low": value.low, "high": value.high,
            "correct": value.correct, "total": value.total}


def _circuit(circuit: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not circuit:
        return None
    template = circuit.get("template", {})
    return {"qubits": template.get("n_qubits"), "layers": template.get("n_layers"),
            "depth": circuit.get("depth"), "gates": sum(circuit.get("gates", {}).values())}
