"""Fixtures of the command's tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def on_cluster(home: Path, cluster: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh QORCH_HOME whose commands join the session's cluster (RAY_ADDRESS)."""
    monkeypatch.setenv("RAY_ADDRESS", cluster)
    return home
