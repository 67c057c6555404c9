"""The README's Python client example, run as written against a real cluster and store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import DATASETS, REPO

MARKER = "<!-- client example: run by tests/test_readme.py -->"


def client_example() -> str:
    text = (REPO / "README.md").read_text()
    after = text.split(MARKER, 1)[1]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match, "the README lost its client example"
    return match.group(1)


def test_the_client_example_runs(home: Path, cluster: str, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAY_ADDRESS", cluster)
    monkeypatch.setenv("QORCH_DATA_DIR", str(DATASETS))
    exec(compile(client_example(), "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    job_id, state, accuracy = lines[0].split()
    assert state == "SUCCEEDED" and float(accuracy.rstrip("%")) > 50
    assert job_id in lines[1]
    accuracy_noisy, p_value = (float(v) for v in lines[2].split())
    assert 0.5 < accuracy_noisy <= 1 and 0 <= p_value <= 1
    page = tmp_path / "qorch-report" / "index.md"
    assert page.exists() and "loss.png" in page.read_text()
