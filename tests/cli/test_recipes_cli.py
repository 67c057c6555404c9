"""`qorch recipes` and `submit train --recipe`: listed, applied, overridden, refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qorch.jobs.recipes import RECIPES
from tests.cli.test_cli import assert_one_line_error, job_count, run


@pytest.mark.usefixtures("home")
def test_recipes_lists_every_recipe_with_its_source_figure() -> None:
    text = run(["recipes"], env={"COLUMNS": "80"}).stdout
    for name in RECIPES:
        assert any(line.startswith(name + " ") for line in text.splitlines()), name
    assert "96.40 %" in text and max(len(line) for line in text.splitlines()) <= 80
    listed = json.loads(run(["recipes", "--json"]).stdout)
    assert [r["name"] for r in listed] == list(RECIPES)
    assert listed[1]["fields"]["entangler"] == "strong"


@pytest.mark.usefixtures("home")
def test_a_recipe_applies_and_explicit_options_override_it(mnist_dir: Path) -> None:
    result = run(["submit", "train", "--recipe", "qiskit-hybrid", "--layers", "2",
                  "--data-dir", str(mnist_dir.parent), "--dry-run", "--json"])
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)["settings"]
    assert settings["recipe"] == "qiskit-hybrid" and settings["dataset"] == "fashion-mnist"
    assert settings["encoding"] == "zz-feature" and settings["final_rotations"] == "ry"
    assert settings["layers"] == 2 and settings["qubits"] == 2  # given, and the recipe's
    assert settings["lr"] == 0.003 and settings["epochs"] == 3  # the model's own defaults
    assert job_count() == 0


@pytest.mark.usefixtures("home")
@pytest.mark.parametrize(("args", "needles"), [
    (["--recipe", "lenet"], ["'lenet'", "quantum-lenet"]),
    (["--recipe", "pure-qnn-01", "--model", "cnn"], ["--model cnn", "pure-qnn"]),
    (["--recipe", "cnn-dense4", "--head", "deep"], ["head", "'deep'", "mlp"]),
    (["--final-rotations", "zz"], ["--final-rotations must be one of", "'zz'", "ryrz"]),
    (["--entangler", "ring"], ["--entangler must be one of", "strong", "'ring'"]),
])
def test_bad_recipe_use_is_one_line(args: list[str], needles: list[str]) -> None:
    assert_one_line_error(run(["submit", "train", *args, "--dry-run"]), 2, *needles)
    assert job_count() == 0
