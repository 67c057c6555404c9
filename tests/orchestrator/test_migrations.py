"""Alembic chain: upgrade → downgrade → upgrade on both databases, and `alembic check` clean."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from qorch.migrations import HEAD_REVISION
from qorch.orchestrator.store.db import current_revision, get_engine, parse_database_url
from qorch.orchestrator.store.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    check,
    downgrade,
    upgrade,
)

TABLES = {"jobs", "job_events", "metrics", "checkpoints"}


def test_head_constant_matches_the_chain() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert script.get_heads() == [HEAD_REVISION]
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None  # one linear chain


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = create_engine(parse_database_url(database_url))
    upgrade(engine, "head")
    assert set(inspect(engine).get_table_names()) >= TABLES
    check(engine)  # models and migrations agree
    downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    assert current_revision(engine) is None
    upgrade(engine, "head")
    assert current_revision(engine) == HEAD_REVISION
    check(engine)
    assert alembic_config(engine).get_main_option("script_location") == str(MIGRATIONS_DIR)
    engine.dispose()


def test_first_use_migrates_automatically(database_url: str) -> None:
    engine = get_engine(database_url)
    assert current_revision(engine) == HEAD_REVISION
    assert set(inspect(engine).get_table_names()) >= TABLES
