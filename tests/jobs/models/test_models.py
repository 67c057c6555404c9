"""Each model: forward shape, a short real training run, and bad quantum options refused."""

from __future__ import annotations

import pytest
import torch

from qorch.jobs.data.datasets import DataSource
from qorch.jobs.data.tensors import load_tensors
from qorch.jobs.loops.training import train
from qorch.jobs.models.builders import build_model, parameter_counts, summarize
from qorch.jobs.spec import TrainSpec
from tests.conftest import DATASETS as SHARED
from tests.jobs.memory import MemoryContext

MODELS = [
    {"model": "hybrid-lenet"},
    {"model": "hybrid-lenet", "qubits": 6, "layers": 3, "encoding": "reupload-rx",
     "rotations": "rot", "entangler": "cz-ring", "observables": ("probs",)},
    {"model": "qnn", "qubits": 4, "layers": 4, "encoding": "reupload-ry"},
    {"model": "pure-qnn", "classes": (0, 1), "encoding": "reupload-ry", "observables": ("z",)},
    {"model": "cnn"},
]


@pytest.mark.parametrize("options", MODELS, ids=lambda o: o["model"] + str(len(o)))
def test_forward_shape_and_parameter_split(options: dict) -> None:
    spec = TrainSpec(**options)
    model = build_model(spec)
    logits = model(torch.randn(5, 1, 28, 28))
    assert logits.shape == (5, spec.n_classes)
    counts = parameter_counts(model)
    if spec.model == "cnn":
        assert counts["quantum"] == 0
    elif spec.model == "hybrid-lenet":
        assert counts["quantum"] == spec.template().n_weights
    else:  # plus the trainable gain of each encoded input
        assert counts["quantum"] == spec.template().n_weights + spec.template().n_inputs
    if spec.model == "pure-qnn":
        assert counts["classical"] == 0
        assert torch.allclose(logits.exp().sum(dim=1), torch.ones(5), atol=1e-5)


def test_summary_describes_the_circuit() -> None:
    summary = summarize(TrainSpec(model="hybrid-lenet", qubits=3, layers=2,
                                  entangler="cnot-ring"))
    circuit = summary["circuit"]
    assert circuit["depth"] > 0 and circuit["gates"]["cnot"] == 6
    assert circuit["drawing"].count("\n") == 2 and summary["parameters"]["quantum"] == 12


@pytest.mark.parametrize(
    ("options", "accuracy"),
    [
        ({"model": "hybrid-lenet", "lr": 5e-3, "epochs": 2, "schedule": "constant"}, 0.4),
        ({"model": "qnn", "qubits": 8, "layers": 3, "encoding": "reupload-ry", "lr": 0.05,
          "epochs": 2, "schedule": "constant"}, 0.25),
        ({"model": "pure-qnn", "classes": (0, 1), "qubits": 4, "layers": 3,
          "encoding": "reupload-ry", "entangler": "cnot-ring", "observables": ("z",),
          "lr": 0.05, "epochs": 1}, 0.85),
    ],
    ids=["hybrid-lenet", "qnn", "pure-qnn"],
)
def test_short_training_learns(options: dict, accuracy: float) -> None:
    spec = TrainSpec(train_size=1280, test_size=300, batch_size=32, **options)
    data = load_tensors("mnist", train_size=1280, test_size=300,
                        source=DataSource(SHARED / "mnist", SHARED), classes=spec.classes)
    outcome = train(spec, data, MemoryContext())
    assert outcome.result["test_accuracy"] > max(accuracy, 1.5 / spec.n_classes)
