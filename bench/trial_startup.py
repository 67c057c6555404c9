"""Trial: N concurrent first commands on a fresh store (SQLite home and a fresh PostgreSQL
database), as on a shared QORCH_HOME where everyone starts at once. Counts failures.

Prints JSON. Usage: python bench/trial_startup.py [--n 80] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

COMMANDS = (["list", "--json"], ["list"], ["status", "--json", "0000"], ["db", "upgrade"])


def trial(n: int, env: dict[str, str]) -> dict[str, Any]:
    qorch = str(Path(sys.executable).parent / "qorch")
    started = time.perf_counter()
    procs = [subprocess.Popen([qorch, *COMMANDS[i % len(COMMANDS)]], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(n)]
    failures = []
    for i, proc in enumerate(procs):
        _, err = proc.communicate(timeout=900)
        command = COMMANDS[i % len(COMMANDS)]
        # `status 0000` on an empty store must fail with its one line, and only that.
        expected = 1 if command[0] == "status" else 0
        if proc.returncode != expected or (expected and "no job" not in err):
            failures.append({"command": command, "rc": proc.returncode, "stderr": err[-300:]})
    return {"commands": n, "failures": len(failures), "examples": failures[:3],
            "wall_seconds": round(time.perf_counter() - started, 1)}


def postgres_database(admin_url: str, name: str, create: bool) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=80)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="an admin URL; the trial creates and drops its own database")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("QORCH_", "RAY_"))}
    report: dict[str, Any] = {"trial": "concurrent first commands on a fresh store"}
    with tempfile.TemporaryDirectory(prefix="qorch-trial-") as home:
        report["sqlite"] = trial(args.n, {**base, "QORCH_HOME": home})
    name = f"qorch_trial_{os.getpid()}"
    postgres_database(args.postgres, name, create=True)
    try:
        url = args.postgres.rsplit("/", 1)[0] + "/" + name
        with tempfile.TemporaryDirectory(prefix="qorch-trial-") as home:
            report["postgresql"] = trial(args.n, {**base, "QORCH_HOME": home,
                                                  "QORCH_DATABASE_URL": url})
    finally:
        postgres_database(args.postgres, name, create=False)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
