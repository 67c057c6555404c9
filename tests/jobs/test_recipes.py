"""Recipes by name, explicit options over them, and every model and recipe learning with its
own defaults on a small budget."""

from __future__ import annotations

from typing import Any

import pytest

from qorch.jobs.data.datasets import DataSource
from qorch.jobs.data.tensors import load_tensors
from qorch.jobs.errors import SpecError
from qorch.jobs.loops.training import train
from qorch.jobs.models.defaults import MODEL_NAMES
from qorch.jobs.recipes import RECIPES, with_recipe
from qorch.jobs.spec import TrainSpec
from tests.conftest import DATASETS as SHARED
from tests.jobs.memory import MemoryContext


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_is_a_valid_spec_that_remembers_its_name(name: str) -> None:
    spec = TrainSpec(**with_recipe(name, {}))
    assert spec.recipe == name
    for field, value in RECIPES[name].fields.items():
        assert getattr(spec, field) == value
    assert TrainSpec.from_dict(spec.to_dict()) == spec


def test_explicit_options_override_the_recipe() -> None:
    spec = TrainSpec(**with_recipe("quantum-lenet", {"layers": 5, "dataset": "fashion-mnist",
                                                     "epochs": None}))
    assert (spec.layers, spec.dataset, spec.entangler) == (5, "fashion-mnist", "strong")
    assert spec.epochs == 3  # left out: the model's default


def test_a_recipe_refuses_another_model_and_unknown_names() -> None:
    with pytest.raises(SpecError, match="--model cnn would replace recipe qnn-dense's model qnn"):
        with_recipe("qnn-dense", {"model": "cnn"})
    with pytest.raises(SpecError, match="--recipe 'lenet' is not accepted; accepted: cnn-dense4"):
        with_recipe("lenet", {})
    with pytest.raises(SpecError, match="--recipe 'x' is not accepted"):
        TrainSpec(recipe="x")


def _defaults(model: str) -> dict[str, Any]:
    return {"model": model, **({"classes": (0, 1)} if model == "pure-qnn" else {})}


def _cases() -> list[Any]:
    """Every model's defaults and every recipe, each distinct spec once."""
    cases: dict[TrainSpec, str] = {}
    for model in MODEL_NAMES:
        cases.setdefault(TrainSpec(**_defaults(model)), f"model-{model}")
    for name in RECIPES:
        fields = with_recipe(name, {})
        bare = TrainSpec(**{k: v for k, v in fields.items() if k != "recipe"})
        cases.setdefault(bare, name)
    return [pytest.param(spec, id=label) for spec, label in cases.items()]


@pytest.mark.parametrize("spec", _cases())
def test_every_model_and_recipe_learns_with_its_defaults(spec: TrainSpec) -> None:
    """40 steps at each one's own rate, schedule and circuit: clearly better than chance (and
    a fresh binary classifier does not start confidently wrong)."""
    small = TrainSpec(**{**spec.to_dict(), "train_size": 2560, "test_size": 300, "epochs": 1})
    data = load_tensors(small.dataset, train_size=2560, test_size=300,
                        source=DataSource(SHARED / small.dataset, SHARED), classes=small.classes)
    outcome = train(small, data, MemoryContext())
    chance = 1 / small.n_classes
    assert outcome.result["test_accuracy"] > (0.85 if small.n_classes == 2 else 2 * chance)
