"""The README's CLI reference against the commands' own help: every command and option listed,
and nothing listed that the CLI lacks."""

from __future__ import annotations

import re

from tests.cli.test_help import commands
from tests.conftest import REPO

START, END = "<!-- cli reference: checked by tests/cli/test_reference.py -->", \
    "<!-- end of cli reference -->"
HIDDEN = {"--help", "--show-completion"}  # every command has --help; completion is one line


def section() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("## CLI reference")
    return text[start:text.index("\n## ", start + 1)]


def options_of(path: list[str]) -> set[str]:
    from typer.main import get_command

    from qorch.cli.app import app

    command = get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return {opt for param in command.params for opt in param.opts if opt.startswith("--")}


def test_every_command_is_in_the_reference_with_its_options() -> None:
    text = section()
    listed = text[text.index(START):text.index(END)]
    for path in commands():
        if path in (["submit"], ["cluster"], ["db"]):
            continue
        name = " ".join(path) or "(the global options)"
        if path[:1] == ["cluster"]:
            assert "`qorch cluster up | down | status [--json]`" in listed
        elif path:
            assert f"`qorch {name}" in listed, name
        missing = options_of(path) - HIDDEN - set(re.findall(r"--[a-z][a-z-]*", text))
        assert not missing, (name, missing)


def test_the_reference_names_no_option_the_cli_lacks() -> None:
    real = {opt for path in commands() for opt in options_of(path)} | {"--help"}
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", section()))
    assert named - real == set()
