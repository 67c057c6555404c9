"""The two-node trial, run inside its own network namespace by test_two_nodes.py: a job on the
second node's resource; kill -9 of that node's raylet mid-job; the node comes back; the job
restarts from its checkpoint. Prints the job's final status as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import DATASETS
from tests.orchestrator.nodes import LoopbackCluster

QORCH = str(Path(sys.executable).parent / "qorch")


def main(root: str, database_url: str) -> int:
    cluster = LoopbackCluster(Path(root))
    try:
        cluster.start_head(cpus=1)
        cluster.add_node(cpus=1, resources={"qpu_bridge": 1})
        env = {**cluster.env(), "QORCH_HOME": str(Path(root) / "home"),
               "QORCH_DATABASE_URL": database_url, "RAY_ADDRESS": cluster.address,
               "QORCH_DATA_DIR": str(DATASETS)}

        def qorch(*args: str) -> str:
            done = subprocess.run([QORCH, *args], env=env, capture_output=True, text=True,
                                  timeout=300)
            if done.returncode:
                raise RuntimeError(done.stderr)
            return done.stdout

        # The 8-qubit hybrid, not the cnn: on a quiet machine the cnn finished its 938 steps
        # before the kill below (the job must still be running when its node dies).
        job_id = qorch("submit", "train", "--model", "hybrid-lenet", "--train-size", "30000",
                       "--test-size", "500", "--epochs", "3", "--checkpoint-every", "50",
                       "--resources", "qpu_bridge=1", "--detach").strip()
        deadline = time.monotonic() + 180
        while json.loads(qorch("status", job_id, "--json"))["checkpoints"] < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("no checkpoint in time")
            time.sleep(1)
        placed = json.loads(qorch("cluster", "status", "--json"))
        worker = cluster.nodes[1]
        cluster.kill_raylet(worker)  # kill -9: the node, its workers and the job's actor die
        worker.wait(timeout=60)
        cluster.add_node(cpus=1, resources={"qpu_bridge": 1})  # the node comes back
        deadline = time.monotonic() + 300
        while (info := json.loads(qorch("status", job_id, "--json")))["state"] not in (
                "SUCCEEDED", "FAILED", "CANCELLED"):
            if time.monotonic() > deadline:
                break
            time.sleep(2)
        print(json.dumps({"status": info, "placed": placed}))
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
