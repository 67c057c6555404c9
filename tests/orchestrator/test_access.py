"""Access: a SQLite store is private to its OS user; on a shared PostgreSQL store the owner is
the database role, and another role's job is changed only with --all-users and qorch_admin."""

from __future__ import annotations

import dataclasses
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from qorch.jobs.spec import TrainSpec
from qorch.orchestrator.errors import AccessError
from qorch.orchestrator.service import Service
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import dispose_engines, session_scope
from qorch.orchestrator.store.states import JobState
from tests.conftest import POSTGRES_URL


@pytest.fixture
def roles(postgres_url: str) -> Iterator[dict[str, str]]:
    """Two login roles (trust auth, as on this server) sharing one schema, and the admin role."""
    suffix = uuid.uuid4().hex[:6]
    alice, bob = f"alice_{suffix}", f"bob_{suffix}"
    schema = make_url(postgres_url).query["options"].split("=")[-1]  # type: ignore[union-attr]
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        for role in (alice, bob):
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            conn.execute(text(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(text("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                          "'qorch_admin') THEN CREATE ROLE qorch_admin; END IF; END $$"))
    with session_scope(postgres_url):  # migrate as the owner, then share the tables
        pass
    with admin.begin() as conn:
        for role in (alice, bob):
            conn.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
            conn.execute(text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"'))
    urls = {name: make_url(postgres_url).set(username=name).render_as_string(False)
            for name in (alice, bob)}
    yield {"alice": urls[alice], "bob": urls[bob], "bob_role": bob}
    dispose_engines()
    with admin.begin() as conn:
        for role in (alice, bob):
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
    admin.dispose()


def as_role(url: str, home: Path) -> Service:
    return Service(Settings(home=home, database_url=url, owner="same-os-user"))


def test_another_role_changes_a_job_only_with_all_users_and_the_admin_role(
        roles: dict[str, str], tmp_path: Path) -> None:
    alice, bob = as_role(roles["alice"], tmp_path), as_role(roles["bob"], tmp_path)
    with session_scope(roles["alice"]) as session:
        owner = repo.store_user(session, "same-os-user")
        job_id = repo.create_job(session, kind="train", owner=owner,
                                 spec=TrainSpec().to_dict(), backend="statevector").id
    assert owner.startswith("alice_")  # the role the server authenticated, not $USER
    with pytest.raises(AccessError, match=f"belongs to {owner}.*add --all-users"):
        bob.cancel(job_id)
    with pytest.raises(AccessError, match="needs membership in the qorch_admin role"):
        bob.cancel(job_id, all_users=True)
    assert [j.id for j in bob.jobs()] == [] and len(bob.jobs(all_users=True)) == 1
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'GRANT qorch_admin TO "{roles["bob_role"]}"'))
    admin.dispose()
    assert bob.cancel(job_id, all_users=True) is JobState.CANCELLED
    assert alice.job(job_id).state is JobState.CANCELLED


def test_another_os_user_cannot_read_a_sqlite_store(home: Path, tmp_path: Path) -> None:
    """The store, its home and its files are private (0700 / 0600): `nobody` cannot open it."""
    settings = Settings.from_env()
    service = Service(dataclasses.replace(settings, owner="me"))
    service.jobs()  # creates and migrates the store
    assert home.stat().st_mode & 0o777 == 0o700
    store = home / "qorch.db"
    assert store.stat().st_mode & 0o777 == 0o600
    code = (f"import sqlite3; c = sqlite3.connect({str(store)!r}); "
            "print(c.execute('select count(*) from jobs').fetchone())")

    def as_nobody() -> subprocess.CompletedProcess[str]:
        # The system interpreter: nobody may run it, unlike this test's virtual environment.
        return subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", code],
                              capture_output=True, text=True)

    assert "unable to open database file" in as_nobody().stderr
    folders = [f for f in (home, *home.parents) if f != Path("/")]
    modes = {f: f.stat().st_mode for f in folders}
    try:  # even with every folder opened up, the file itself is 0600
        for folder in folders:
            folder.chmod(modes[folder] | 0o055)
        assert "unable to open database file" in as_nobody().stderr
    finally:
        for folder in folders:
            folder.chmod(modes[folder] & 0o7777)
