"""Engine and sessions of the store: URL checks, SQLite pragmas, migrations applied on first use."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from qorch.orchestrator.errors import StoreError, TransientStoreError

log = logging.getLogger(__name__)
T = TypeVar("T")
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
            f"unsupported database {backend!r} in {describe(url)!r}; accepted: sqlite, postgresql"
        )
    if backend == "postgresql" and url.drivername not in ("postgresql", "postgresql+psycopg"):
        raise StoreError(
            f"database driver {url.get_driver_name()!r} in {describe(url)!r} is not supported; "
            "use postgresql://USER@HOST:PORT/DB (psycopg 3)"
        )
    if backend == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise StoreError(
            f"{describe(url)!r} is an in-memory database that the job's worker cannot share; "
            "give a file: sqlite:///PATH"
        )
    timeout = url.query.get("timeout")
    if backend == "sqlite" and timeout is not None:
        try:
            seconds = float(str(timeout))
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= 3600:
            raise StoreError(f"?timeout={timeout!s} in {describe(url)!r} must be seconds in "
                             "(0, 3600]")
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
        _create_private(url.database or "")
        # `?timeout=S` in the URL sets how long a writer waits for a lock (default 30 s).
        timeout_s = float(str(url.query.get("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)))
        url = url.difference_update_query(["timeout"])
        engine = create_engine(url, connect_args={"timeout": timeout_s})
        event.listen(engine, "connect", lambda dbapi, _: _sqlite_pragmas(dbapi, timeout_s))
        return engine
    # A client that freezes inside a transaction (a sleeping laptop) must not hold row locks
    # for ever: the server ends such transactions after a minute.
    options = "-c idle_in_transaction_session_timeout=60000"
    existing = url.query.get("options")
    if existing:
        options = f"{existing} {options}"
    return create_engine(url.update_query_dict({"options": options}), pool_pre_ping=True,
                         connect_args={"connect_timeout": 5})


def _create_private(path: str) -> None:
    """Create the SQLite file 0600 before SQLite does (its -wal and -shm files inherit the mode)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    except OSError:
        return  # SQLite reports a missing folder or a read-only file in its own words


def _sqlite_pragmas(dbapi_connection: Any, timeout_s: float) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
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
    """Migrate to the head revision under the migration lock (80 first commands at once on a
    fresh store must not race each other)."""
    from qorch.orchestrator.store.migrate import head_revision, migration_lock, upgrade

    if current_revision(engine) == head_revision():
        return
    with migration_lock(engine):
        if current_revision(engine) != head_revision():
            upgrade(engine, "head")


def _connection_error(engine: Engine, err: SQLAlchemyError) -> StoreError:
    cause = str(getattr(err, "orig", err)).strip().splitlines()[0]
    return TransientStoreError(f"cannot open the database {describe(engine.url)}: {cause}")


def open_session(raw_url: str) -> Session:
    return sessionmaker(get_engine(raw_url), expire_on_commit=False)()


@contextmanager
def session_scope(raw_url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = open_session(raw_url)
    try:
        yield session
        session.commit()
    except (OperationalError, DBAPIError) as err:
        session.rollback()
        if isinstance(err, OperationalError) or err.connection_invalidated:
            raise _connection_error(session.get_bind().engine, err) from err
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def transact(raw_url: str, work: Callable[[Session], T], *, retry_s: float = 0.0) -> T:
    """Run `work` in one transaction. Transient faults (a refused or terminated connection, a
    locked SQLite file) are retried with growing pauses for up to `retry_s` seconds: a running
    job outlives a short database outage, and fails with the store's own words after that."""
    deadline = time.monotonic() + retry_s
    pause = 0.5
    while True:
        try:
            with session_scope(raw_url) as session:
                return work(session)
        except TransientStoreError as err:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("store unavailable (%s); retrying in %.1f s", err, pause)
            time.sleep(pause)
            pause = min(pause * 2, 15.0)
            _reset_pool(raw_url)


def _reset_pool(raw_url: str) -> None:
    """Drop pooled connections after a fault: a restarted server killed them all."""
    with _lock:
        engine = _engines.get(raw_url)
    if engine is not None:
        engine.dispose()
