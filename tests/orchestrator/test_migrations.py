"""Alembic chain on both databases, with rows in every table: upgrade, downgrade, upgrade."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from qorch.jobs.spec import InferSpec, TrainSpec
from qorch.orchestrator.store.db import current_revision, get_engine, parse_database_url
from qorch.orchestrator.store.migrate import MIGRATIONS_DIR, alembic_config, head_revision, upgrade

TABLES = {"jobs", "job_events", "metrics", "checkpoints", "executions"}
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
# Specs as the 0003 code stored them: every field filled, `threads`, quantum options on cnn.
OLD_CNN = {"dataset": "mnist", "model": "cnn", "epochs": 1, "batch_size": 64, "lr": 0.003,
           "train_size": 640, "test_size": 200, "seed": 0, "backend": "statevector",
           "checkpoint_every": 0, "threads": 2, "data_dir": None, "qubits": 8, "layers": 2,
           "encoding": "angle-ry", "rotations": "ryrz", "entangler": "cnot-chain",
           "observables": ["z", "zz"], "classes": None, "shots": None, "init": "small",
           "noise": None, "gradient": "parameter-shift", "spsa_samples": 1,
           "schedule": "cosine", "trunk": "lenet5"}
OLD_QNN = {**OLD_CNN, "model": "qnn", "backend": "aer", "shots": 1024, "threads": None}
OLD_INFER = {"source_job": "a1", "trained": OLD_CNN, "backend": "statevector", "shots": None,
             "noise": None, "test_size": 100, "batch_size": 64, "seed": 0, "threads": None,
             "data_dir": None}


def seed_rows_at_0003(engine: object) -> None:
    """One row in every table, the way the 0003 code wrote them (duplicate metrics too)."""
    rows = [
        ("INSERT INTO jobs (id, kind, owner, spec, state, backend, created_at) VALUES "
         "(:id, :kind, 'u', :spec, 'SUCCEEDED', 'statevector', :now)",
         [{"id": "a1", "kind": "train", "spec": json.dumps(OLD_CNN)},
          {"id": "b2", "kind": "train", "spec": json.dumps(OLD_QNN)},
          {"id": "c3", "kind": "infer", "spec": json.dumps(OLD_INFER)}]),
        ("INSERT INTO job_events (job_id, from_state, to_state, origin, at) VALUES "
         "('a1', NULL, 'QUEUED', 'submit', :now)", [{}]),
        ("INSERT INTO metrics (job_id, step, epoch, name, value, at) VALUES "
         "('a1', 5, 1, 'loss', :value, :now)", [{"value": 0.9}, {"value": 0.8}]),
        ("INSERT INTO checkpoints (job_id, step, epoch, kind, blob, sha256, size_bytes, "
         "created_at) VALUES ('a1', 5, 1, 'final', :blob, 'x', 3, :now)", [{"blob": b"abc"}]),
        ("INSERT INTO executions (job_id, step, purpose, batch_index, chunk, backend, "
         "template_hash, params_hash, shots, n_circuits, provider_job_id, status, created_at) "
         "VALUES ('b2', 1, 'train', 0, 0, 'aer', 't', 'p', 1024, 81, 'aer-1/seed=5', 'DONE', "
         ":now)", [{}]),
    ]
    with engine.begin() as conn:  # type: ignore[attr-defined]
        for statement, params in rows:
            for values in params:
                conn.execute(text(statement), {"now": NOW, **values})


def test_the_head_is_read_from_one_linear_chain() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert script.get_heads() == [head_revision()]
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(r.down_revision is None or isinstance(r.down_revision, str) for r in revisions)


def test_round_trip_with_rows_in_every_table(database_url: str) -> None:
    engine = create_engine(parse_database_url(database_url))
    config = alembic_config(engine)
    upgrade(engine, "0003_executions")
    seed_rows_at_0003(engine)
    upgrade(engine, "head")
    command.check(config)  # models and migrations agree
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        specs = {i: json.loads(s) if isinstance(s, str) else s for i, s in
                 conn.execute(text("SELECT id, spec FROM jobs"))}
        assert conn.execute(text("SELECT count(*) FROM metrics")).scalar() == 1
        assert conn.execute(text("SELECT value FROM metrics")).scalar() == 0.8  # newest kept
        assert conn.execute(text("SELECT attempt FROM jobs WHERE id='a1'")).scalar() == 0
        assert conn.execute(text("SELECT item, seed FROM executions")).one() == (0, None)
        assert conn.execute(text("SELECT blob FROM checkpoints")).scalar() == b"abc"
    cnn = TrainSpec.from_dict(specs["a1"])  # the current code reads every old row
    assert cnn.cpus == 2 and cnn.qubits is None and cnn.trunk == "lenet5"
    qnn = TrainSpec.from_dict(specs["b2"])
    assert qnn.trunk is None and qnn.gradient == "parameter-shift" and qnn.cpus == 1
    assert InferSpec.from_dict(specs["c3"]).model.model == "cnn"
    command.downgrade(config, "0003_executions")
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT spec FROM jobs WHERE id='a1'")).scalar()
        old = json.loads(raw) if isinstance(raw, str) else raw
        assert old["threads"] == 2 and "cpus" not in old and old["qubits"] == 8
        assert conn.execute(text("SELECT count(*) FROM executions")).scalar() == 1
    command.downgrade(config, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine, "head")
    assert current_revision(engine) == head_revision()
    command.check(config)
    engine.dispose()


def test_first_use_migrates_automatically(database_url: str) -> None:
    engine = get_engine(database_url)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_concurrent_first_use_migrates_once(tmp_path: Path) -> None:
    """Many processes' first commands on a fresh store: the lock lets one migrate."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code = ("from qorch.orchestrator.store.db import get_engine\n"
            f"get_engine({url!r})\n")
    starts = threading.Barrier(12)
    results: list[subprocess.CompletedProcess[str]] = []

    def first_use() -> None:
        starts.wait()
        results.append(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True))

    threads = [threading.Thread(target=first_use) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [r.stderr.strip().splitlines()[-1] for r in results if r.returncode]
    assert not failures, failures
