"""A real two-node Ray cluster on loopback (in its own network namespace) with the PostgreSQL
store: a job that asks for the second node's resource runs there; kill -9 of that node's raylet
mid-job, the node comes back, and the job restarts from its checkpoint by itself."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from tests.orchestrator.nodes import in_own_network, unix_socket_url


def test_a_job_on_the_second_node_survives_that_node_dying(postgres_url: str) -> None:
    root = Path("/tmp") / f"qorch-2n-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    trial = in_own_network("tests.orchestrator.two_node_trial", str(root),
                           unix_socket_url(postgres_url))
    assert trial.returncode == 0, trial.stderr[-3000:]  # the nodes' logs stay in root
    shutil.rmtree(root, ignore_errors=True)
    report = json.loads(trial.stdout.strip().splitlines()[-1])
    info, placed = report["status"], report["placed"]
    assert info["id"] in placed["job_actors"]
    second = next(n for n in placed["nodes"] if n["custom"].get("qpu_bridge"))
    assert all(n["address"] == "127.0.0.1" for n in placed["nodes"]) and second
    assert info["state"] == "SUCCEEDED", info["error"]
    states = [e["to"] for e in info["events"]]
    assert states[:2] == ["QUEUED", "RUNNING"] and states[-1] == "SUCCEEDED"
    assert "INTERRUPTED" in states  # restarted from its checkpoint, not from scratch
    assert info["result"]["test_accuracy"] > 0.9
