"""Benchmark: bytes the executions ledger writes per training step on `fake_brisbane`.

The default hybrid-lenet (8 qubits, 2 layers: 5,184 parameter-shift rows x 15 outputs per step
of 64 images) runs a few steps through the real execution path and a real SQLite store, in this
checkout and - as the peer - in the commit before the lean ledger (a git worktree of it, run
with the same interpreter and packages). Reports bytes of kept results and the growth of the
database files per step. Prints JSON. Usage: python bench/bench_ledger.py [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEFORE = "191ea56"  # the last commit that kept every local result in the ledger

NOW = """
import json, os, sys, numpy as np
from sqlalchemy import func, select
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.registry import resolve
from qorch.orchestrator.runtime.context import AttemptStore
from qorch.orchestrator.runtime.executor import LedgeredExecutor
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Execution
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition
url, steps = sys.argv[1], int(sys.argv[2])
with session_scope(url) as s:
    job = repo.create_job(s, kind="train", owner="b", spec={}, backend="fake_brisbane").id
    transition(s, job, JobState.RUNNING, origin="bench")
run = LedgeredExecutor(AttemptStore(url, job, 1, 0), resolve("fake_brisbane"), lambda: False,
                       lambda p: None)
t = CircuitTemplate(8, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz"))
sizes = []
for step in range(1, steps + 1):
    rows = np.random.default_rng(step).uniform(0, 3, (5184, t.n_inputs + t.n_weights))
    run(CircuitBatch(t, rows, 1024, seed=step), step, "train", 0)
    sizes.append(sum(os.path.getsize(url[10:] + x) for x in ("", "-wal")
                     if os.path.exists(url[10:] + x)))
with session_scope(url) as s:
    kept = s.scalar(select(func.coalesce(func.sum(func.length(Execution.result)), 0)))
print(json.dumps({"file_bytes": sizes, "result_bytes": int(kept or 0)}))
"""

THEN = """
import json, os, sys, numpy as np
from sqlalchemy import func, select
from backends.circuit import CircuitTemplate
from backends.contract import CircuitBatch
from backends.registry import resolve
from orchestrator.execution import LedgeredExecutor
from orchestrator import repository as repo
from orchestrator.db import session_scope
from orchestrator.models import Execution
url, steps = sys.argv[1], int(sys.argv[2])
with session_scope(url) as s:
    job = repo.create_job(s, kind="train", owner="b", spec={}, backend="fake_brisbane").id
run = LedgeredExecutor(job, url, resolve("fake_brisbane", shots=1024, seed=0), lambda: False,
                       lambda p: None)
t = CircuitTemplate(8, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz"))
sizes = []
for step in range(1, steps + 1):
    rows = np.random.default_rng(step).uniform(0, 3, (5184, t.n_inputs + t.n_weights))
    run.execute(CircuitBatch(t, rows, 1024), step, "train", 0)
    sizes.append(sum(os.path.getsize(url[10:] + x) for x in ("", "-wal")
                     if os.path.exists(url[10:] + x)))
with session_scope(url) as s:
    kept = s.scalar(select(func.coalesce(func.sum(func.length(Execution.result)), 0)))
print(json.dumps({"file_bytes": sizes, "result_bytes": int(kept or 0)}))
"""


def measure(script: str, steps: int, pythonpath: str | None) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="qorch-ledger-"))
    url = f"sqlite:///{folder / 'store.db'}"
    env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    out = subprocess.run([sys.executable, "-c", script, url, str(steps)], env=env, check=True,
                         capture_output=True, text=True, cwd=pythonpath or REPO)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    sizes = data["file_bytes"]
    growth = (sizes[-1] - sizes[0]) / max(len(sizes) - 1, 1)
    return {"steps": steps, "result_bytes_per_step": data["result_bytes"] / steps,
            "file_growth_bytes_per_step": growth}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    now = measure(NOW, args.steps, None)
    with tempfile.TemporaryDirectory(prefix="qorch-before-") as before:
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", before, BEFORE],
                       check=True, capture_output=True)
        try:
            then = measure(THEN, args.steps, before)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", before],
                           capture_output=True)
    print(json.dumps({
        "benchmark": "ledger bytes per training step, fake_brisbane, hybrid-lenet defaults",
        "rows_per_step": 5184, "outputs_per_row": 15, "before_lean_ledger": then, "now": now,
        "ratio_file_growth": then["file_growth_bytes_per_step"]  # type: ignore[operator]
        / max(now["file_growth_bytes_per_step"], 1.0),  # type: ignore[call-overload]
    }, indent=2))


if __name__ == "__main__":
    main()
