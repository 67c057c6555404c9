"""Help at 80 columns lists accepted values, not Python types; choices complete in the shell."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.cli.test_cli import QORCH, run

ARTIFACTS = re.compile(r"<(bool|str|int|float|path|list\[[^>]*\])[^>]*>|\{[a-z_]+\}|\{JOB\}")


def commands() -> list[list[str]]:
    """Every command path of the CLI, from the app itself."""
    from typer.main import get_command

    from qorch.cli.app import app

    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return paths


@pytest.mark.usefixtures("home")
def test_every_help_page_is_free_of_type_artifacts() -> None:
    paths = commands()
    assert ["logs"] in paths and ["submit", "train"] in paths and ["cluster", "up"] in paths
    for path in paths:
        result = run([*path, "--help"], env={"COLUMNS": "80"})
        assert result.returncode == 0, (path, result.stderr)
        assert not ARTIFACTS.search(result.stdout), (path, result.stdout)
        assert all(len(line) <= 80 for line in result.stdout.splitlines()), path


@pytest.mark.usefixtures("home")
def test_help_lists_the_choices() -> None:
    page = run(["submit", "train", "--help"], env={"COLUMNS": "120"}).stdout
    train = " ".join(page.replace("│", " ").split())  # the help column wraps
    assert "mnist|fashion-mnist" in train and "cosine|constant" in train
    assert "One of: hybrid-lenet, qnn, pure-qnn, cnn." in train
    assert "zz-feature" in train  # every encoding, straight from the template's list
    listing = " ".join(run(["list", "--help"], env={"COLUMNS": "120"}).stdout.split())
    assert "One of: queued, running" in listing and "STATE" in listing
    status = run(["status", "--help"]).stdout
    assert "Usage: qorch status [OPTIONS] JOB" in status


def complete(words: str) -> list[str]:
    env = {**os.environ, "_QORCH_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    result = subprocess.run(QORCH, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.usefixtures("home")
def test_choices_complete_in_the_shell() -> None:
    assert complete("qorch submit train --dataset f") == ["fashion-mnist"]
    assert complete("qorch list --state ") == ["queued", "running", "succeeded", "failed",
                                               "cancelling", "cancelled", "interrupted"]
    assert complete("qorch submit train --observables z,z") == ["z,z", "z,zz"]
    script = run(["--show-completion", "bash"], env={"SHELL": "/bin/bash"})
    assert "_qorch_completion" in script.stdout


def test_the_completion_names_are_the_choice_names() -> None:
    from qorch.cli.choices import CHOICE_NAMES, choices

    assert set(choices()) == CHOICE_NAMES
