"""ruff and mypy, as part of the test command (and so of CI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LAYERS = ("backends", "jobs", "orchestrator", "cli", "migrations")


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", str(REPO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean(tmp_path: Path) -> None:
    """mypy cannot follow setuptools' folder mapping, so it reads the installed layout: a tree
    of links qorch/<layer> -> <layer>/ (the tree the wheel has)."""
    package = tmp_path / "qorch"
    package.mkdir()
    for name in (*LAYERS, "__init__.py", "py.typed"):
        source = REPO / name if name in LAYERS else REPO / "qorch" / name
        os.symlink(source, package / name)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
         "--cache-dir", str(REPO / ".mypy_cache"), "-p", "qorch"],
        capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout.replace(str(tmp_path), "") + result.stderr
