"""Shared fixtures: real SQLite and PostgreSQL stores, the real datasets, one embedded Ray."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from qorch.orchestrator.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("QORCH_TEST_DATASETS", REPO.parent / "shared" / "datasets"))
POSTGRES_URL = os.environ.get("QORCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as err:
        if os.environ.get("CI"):
            raise
        return f"no PostgreSQL at {POSTGRES_URL}: {str(err).splitlines()[0]}"


_PG_REASON: list[str | None] = []


def _pg_reason() -> str | None:
    if not _PG_REASON:
        _PG_REASON.append(postgres_reason())
    return _PG_REASON[0]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema of the `test` database, dropped afterwards."""
    reason = _pg_reason()
    if reason:
        pytest.skip(reason)
    schema = f"qorch_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    from qorch.orchestrator.store.db import dispose_engines

    dispose_engines()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The store's tests run against both databases."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def mnist_dir() -> Path:
    folder = DATASETS / "mnist"
    if not (folder / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"the shared MNIST files are missing from {folder}")
    return folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated QORCH_HOME with its default SQLite store."""
    path = tmp_path / "home"
    monkeypatch.setenv("QORCH_HOME", str(path))
    monkeypatch.delenv("QORCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("QORCH_DATA_DIR", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return path


@pytest.fixture(scope="session")
def cluster() -> Iterator[str]:
    """One qorch-started Ray cluster for the whole session (starting one costs seconds); tests
    join it by address, as users join any existing cluster. Stopped, every process, at the end."""
    from qorch.orchestrator.runtime.cluster import ensure_cluster, stop_cluster, token_file
    from qorch.orchestrator.settings import Settings

    home = Path("/tmp") / f"qorch-test-{uuid.uuid4().hex[:6]}"
    home.mkdir(mode=0o700)
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'unused.db'}")
    address = ensure_cluster(settings)
    # How a user joins a cluster with token auth: the token (file) in the environment.
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN_PATH"] = str(token_file(settings))
    yield address
    stop_cluster(settings)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def settings(home: Path, cluster: str) -> Settings:
    """A fresh home and SQLite store per test, joining the session's cluster."""
    from qorch.orchestrator.settings import Settings

    base = Settings.from_env()
    return dataclasses.replace(base, ray_address=cluster, data_dir=DATASETS,
                               heartbeat_timeout_s=30.0)
