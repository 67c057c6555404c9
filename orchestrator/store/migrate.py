"""Alembic, driven from code: upgrade, downgrade and the schema check against the models."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

import qorch.migrations
from qorch.orchestrator.errors import StoreError

MIGRATIONS_DIR = Path(qorch.migrations.__file__).resolve().parent


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as err:
        cause = str(err.orig).strip().splitlines()[0]
        raise StoreError(
            f"cannot migrate the database {engine.url.render_as_string(hide_password=True)}: "
            f"{cause}"
        ) from err


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def check(engine: Engine) -> None:
    """Raise if the models and the migrated schema differ (alembic check)."""
    command.check(alembic_config(engine))
