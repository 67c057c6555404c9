"""Recipes: the models of the projects qorch grew from, by name, as training-spec fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qorch.jobs.errors import SpecError


@dataclass(frozen=True)
class Recipe:
    """A named training setup; `reported` is the source's own accuracy, where it gives one."""

    name: str
    title: str
    source: str
    fields: Mapping[str, Any]
    reported: str | None = None


_RECIPES = (
    Recipe(
        "cnn-dense4",
        "CNN features → Dense(4) → RY(π·x), an RZ layer, a CNOT ring, an RY layer, ⟨Z⟩ on 4 qubits",
        "a hybrid CNN with a 4-qubit variational circuit as its classifier (Fashion-MNIST)",
        {"model": "hybrid-lenet", "dataset": "fashion-mnist", "qubits": 4, "layers": 1,
         "encoding": "angle-ry", "rotations": "rz", "entangler": "cnot-ring",
         "final_rotations": "ry", "observables": ("z",)},
    ),
    Recipe(
        "quantum-lenet",
        "Quantum LeNet: LeNet with a quantum fully connected layer (angle embedding, strongly "
        "entangling layers)",
        "Quantum LeNet (MNIST)",
        {"model": "hybrid-lenet", "dataset": "mnist", "qubits": 4, "layers": 3,
         "encoding": "angle-rx", "rotations": "rot", "entangler": "strong",
         "observables": ("z",)},
        reported="96.40 %",
    ),
    Recipe(
        "qnn-readout",
        "Quantum layers on a pooled image with a classical linear readout",
        "quantum layers with a classical readout (MNIST)",
        {"model": "qnn", "dataset": "mnist"},
    ),
    Recipe(
        "pure-qnn-01",
        "A purely quantum 0-vs-1 classifier: 3×3 pooled image, 9 qubits, P(1) from ⟨Z₀⟩",
        "a pure-quantum binary classifier (MNIST 0 vs 1)",
        {"model": "pure-qnn", "dataset": "mnist", "classes": (0, 1)},
    ),
    Recipe(
        "qiskit-hybrid",
        "CNN → ZZ feature map → RealAmplitudes, ⟨Z⊗Z⟩ as an estimator network inside the model",
        "the Qiskit Machine Learning hybrid (TorchConnector, EstimatorQNN), here on "
        "Fashion-MNIST T-shirt vs trouser; compare it with `--model cnn`",
        {"model": "hybrid-lenet", "dataset": "fashion-mnist", "classes": (0, 1), "qubits": 2,
         "layers": 1, "encoding": "zz-feature", "rotations": "ry",
         "entangler": "cnot-chain-reverse", "final_rotations": "ry", "observables": ("zz",)},
    ),
    Recipe(
        "qnn-dense",
        "A QNN whose outputs feed dense layers (64 ReLU units, then the classes)",
        "a QNN with a dense classical head (Fashion-MNIST)",
        {"model": "qnn", "dataset": "fashion-mnist", "head": "mlp"},
    ),
)
RECIPES: dict[str, Recipe] = {recipe.name: recipe for recipe in _RECIPES}


def with_recipe(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Spec fields: the recipe's, overridden by those `given` (None means not given)."""
    recipe = RECIPES.get(name)
    if recipe is None:
        raise SpecError(f"--recipe {name!r} is not accepted; accepted: {', '.join(RECIPES)} "
                        "(see `qorch recipes`)")
    chosen = {k: v for k, v in given.items() if v is not None}
    model = chosen.get("model")
    if model is not None and model != recipe.fields["model"]:
        raise SpecError(f"--model {model} would replace recipe {name}'s model "
                        f"{recipe.fields['model']}: leave out --recipe to train {model}")
    return {**recipe.fields, **chosen, "recipe": name}
