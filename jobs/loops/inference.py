"""The inference loop: a trained model's final parameters evaluated batch by batch on a backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from qorch.jobs.context import JobContext
from qorch.jobs.data.tensors import TensorData
from qorch.jobs.errors import JobStopped
from qorch.jobs.loops.checkpoint import unpack_weights
from qorch.jobs.models.builders import build_model
from qorch.jobs.quantum.shots import RemoteCircuit
from qorch.jobs.spec import InferSpec


@dataclass(frozen=True)
class InferOutcome:
    stopped: bool
    result: dict[str, Any]


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


@torch.no_grad()
def infer(spec: InferSpec, data: TensorData, weights: bytes, ctx: JobContext,
          remote: RemoteCircuit | None) -> InferOutcome:
    model_spec = spec.model_spec()
    model = build_model(model_spec, remote)
    unpack_weights(weights, model)
    model.eval()
    predictions: list[np.ndarray] = []
    n_test = len(data.test_y)
    try:
        for index, start in enumerate(range(0, n_test, spec.batch_size)):
            if ctx.should_stop():
                return InferOutcome(stopped=True, result={"evaluated": start})
            if remote is not None:
                remote.at(0, "infer", index)
            logits = model(data.test_x[start : start + spec.batch_size])
            predictions.append(logits.argmax(dim=1).numpy())
            done = start + len(predictions[-1])
            ctx.log_metrics(index + 1, 1, {"evaluated": float(done)})
    except JobStopped:
        return InferOutcome(stopped=True, result={"evaluated": sum(map(len, predictions))})
    predicted = np.concatenate(predictions)
    labels = data.test_y.numpy()
    matrix = confusion_matrix(labels, predicted, model_spec.n_classes)
    per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    accuracy = float((predicted == labels).mean())
    metrics = {"test_accuracy": accuracy}
    metrics.update({f"class_accuracy/{name}": float(value)
                    for name, value in zip(data.class_names, per_class, strict=True)})
    metrics.update({f"confusion/{i}/{j}": float(matrix[i, j])
                    for i in range(len(matrix)) for j in range(len(matrix))})
    steps = -(-n_test // spec.batch_size)
    ctx.log_metrics(steps, 1, metrics)
    return InferOutcome(stopped=False, result={
        "test_accuracy": accuracy,
        "class_accuracy": dict(zip(data.class_names, per_class.tolist(), strict=True)),
        "confusion_matrix": matrix.tolist(),
        "class_names": list(data.class_names),
        "evaluated": n_test,
    })
