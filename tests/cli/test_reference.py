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


def test_the_80_column_session_fits_and_shows_list_status_and_logs() -> None:
    text = (REPO / "README.md").read_text()
    start = text.index("<!-- 80 columns: checked by tests/cli/test_reference.py -->")
    block = text[start:].split("```text\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    assert all(len(line) <= 80 for line in lines)
    job = lines[2].split()[0]  # the listed job's id, as shown
    prompts = [line for line in lines if line.startswith("$ ")]
    assert prompts == ["$ qorch list", f"$ qorch status {job}", f"$ qorch logs {job}"]
    assert any(line.startswith("progress ") for line in lines)
    assert sum(" metric epoch=" in line for line in lines) == 3  # one line per epoch
