"""Each model: forward shape, a short real training run, and bad quantum options refused."""

from __future__ import annotations

import pytest
import torch

from qorch.jobs.models.builders import build_model, parameter_counts, summarize
from qorch.jobs.spec import TrainSpec

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
    else:  # plus the trainable gain of each encoded feature
        assert counts["quantum"] == spec.template().n_weights + spec.template().n_features
    if spec.model == "pure-qnn":
        assert counts["classical"] == 0
        assert torch.allclose(logits.exp().sum(dim=1), torch.ones(5), atol=1e-5)


def test_summary_describes_the_circuit() -> None:
    summary = summarize(TrainSpec(model="hybrid-lenet", qubits=3, layers=2,
                                  entangler="cnot-ring"))
    circuit = summary["circuit"]
    assert circuit["depth"] > 0 and circuit["gates"]["cnot"] == 6
    assert circuit["drawing"].count("\n") == 2 and summary["parameters"]["quantum"] == 12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_fresh_pure_quantum_classifier_is_undecided(seed: int) -> None:
    """Every input gain starts at 0, so every image gives the same P(second class), near 1/2
    (small weights), and the first loss is about ln 2 rather than a confidently wrong guess."""
    torch.manual_seed(seed)
    model = build_model(TrainSpec(model="pure-qnn", classes=(0, 1), seed=seed))
    probabilities = model(torch.rand(8, 1, 28, 28) * 3 - 0.5).exp()
    assert torch.allclose(probabilities, probabilities[:1].expand(8, 2), atol=1e-6)
    assert torch.allclose(probabilities, torch.full((8, 2), 0.5), atol=0.02)


def test_the_hybrid_normalises_its_angles_and_takes_a_one_image_batch() -> None:
    model = build_model(TrainSpec(model="hybrid-lenet", qubits=4, layers=1))
    images = torch.randn(32, 1, 28, 28)
    model.train()
    spread = model.angles(images)
    # Batch-normalised before tanh: centred on π/2 and far from the flat tails at 0 and π.
    assert abs(spread.mean().item() - torch.pi / 2) < 0.2 and 0.3 < spread.std().item() < 1.2
    single = model(images[:1])  # an epoch's remainder of one image: running statistics
    assert single.shape == (1, 10) and torch.isfinite(single).all()
    single.sum().backward()
