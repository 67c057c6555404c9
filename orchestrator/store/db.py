"""Engine and sessions of the store: URL checks, SQLite pragmas, migrations applied on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from qorch.orchestrator.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 30_000
SUPPORTED_SCHEMES = ("sqlite", "postgresql")

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def parse_database_url(raw: str) -> URL:
    """Validate a database URL and pick the psycopg 3 driver for PostgreSQL."""
    try:
        url = make_url(raw)
    except ArgumentError as err:
        raise StoreError(
            f"malformed database URL {raw!r}; expected sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB"
        ) from err
    backend = url.get_backend_name()
    if backend not in SUPPORTED_SCHEMES:
        raise StoreError(
            f"unsupported database {backend!r} in {raw!r}; accepted: sqlite, postgresql"
        )
    if backend == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def describe(url: URL) -> str:
    """The URL without its password, for messages."""
    return url.render_as_string(hide_password=True)


def get_engine(raw_url: str) -> Engine:
    """One engine per URL and process, migrated to the newest revision before first use."""
    with _lock:
        engine = _engines.get(raw_url)
        if engine is None:
            engine = _create_engine(parse_database_url(raw_url))
            _ensure_schema(engine)
            _engines[raw_url] = engine
        return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError) as err:
        if _is_missing_table(err):
            return None
        raise _connection_error(engine, err) from err


def _is_missing_table(err: SQLAlchemyError) -> bool:
    message = str(err).lower()
    return "no such table" in message or "does not exist" in message


def _ensure_schema(engine: Engine) -> None:
    from qorch.migrations import HEAD_REVISION

    if current_revision(engine) != HEAD_REVISION:
        from qorch.orchestrator.store.migrate import upgrade

        upgrade(engine, "head")


def _connection_error(engine: Engine, err: SQLAlchemyError) -> StoreError:
    cause = str(getattr(err, "orig", err)).strip().splitlines()[0]
    return StoreError(f"cannot open the database {describe(engine.url)}: {cause}")


def open_session(raw_url: str) -> Session:
    return sessionmaker(get_engine(raw_url), expire_on_commit=False)()


@contextmanager
def session_scope(raw_url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = open_session(raw_url)
    try:
        yield session
        session.commit()
    except OperationalError as err:
        session.rollback()
        raise _connection_error(session.get_bind().engine, err) from err  # type: ignore[union-attr]
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
