"""Alembic, driven from code: the head revision, upgrades under a lock, downgrade, schema check."""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import qorch.migrations
from qorch.orchestrator.errors import StoreError

MIGRATIONS_DIR = Path(qorch.migrations.__file__).resolve().parent
# pg_advisory_lock key: the same for every qorch process on one database.
ADVISORY_KEY = zlib.crc32(b"qorch-migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision, read from the script directory (one linear chain)."""
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    if len(heads) != 1:
        raise StoreError(f"the migrations have {len(heads)} heads; expected one chain")
    return heads[0]


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time: a file lock beside a SQLite file, an advisory lock on
    PostgreSQL. Others wait, then find the schema current."""
    if engine.url.get_backend_name() == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        descriptor = os.open(f"{database}.migrate-lock", os.O_CREAT | os.O_WRONLY, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as err:
        cause = str(err.orig).strip().splitlines()[0]
        raise StoreError(
            f"cannot migrate the database {engine.url.render_as_string(hide_password=True)}: "
            f"{cause}"
        ) from err
