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
from qorch.jobs.quantum.runners import CircuitRunner
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
          runner: CircuitRunner | None, eval_batch: int) -> InferOutcome:
    """Predictions over the test split, `eval_batch` images per circuit batch."""
    model = build_model(spec.model, runner)
    unpack_weights(weights, model)
    model.eval()
    predictions: list[np.ndarray] = []
    n_test = len(data.test_y)
    try:
        for index, start in enumerate(range(0, n_test, eval_batch)):
            if ctx.should_stop():
                return InferOutcome(stopped=True, result={"evaluated": start})
            if runner is not None:
                runner.at(0, "infer", index)
            logits = model(data.test_x[start : start + eval_batch])
            predictions.append(logits.argmax(dim=1).numpy())
            done = start + len(predictions[-1])
            ctx.log_metrics(index + 1, 1, {"evaluated": float(done)})
    except JobStopped:
        return InferOutcome(stopped=True, result={"evaluated": sum(map(len, predictions))})
    predicted = np.concatenate(predictions)
    labels = data.test_y.numpy()
    matrix = confusion_matrix(labels, predicted, spec.model.n_classes)
    per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    accuracy = float((predicted == labels).mean())
    steps = -(-n_test // eval_batch)
    ctx.log_metrics(steps, 1, {"test_accuracy": accuracy})
    return InferOutcome(stopped=False, result={
        "test_accuracy": accuracy,
        "class_accuracy": dict(zip(data.class_names, per_class.tolist(), strict=True)),
        "confusion_matrix": matrix.tolist(),
        "class_names": list(data.class_names),
        "evaluated": n_test,
        "predictions": predicted.tolist(),
    })
