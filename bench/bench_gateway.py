"""Benchmark: the service on Ray - concurrent inference jobs sharing provider jobs, the local
fan-out over one node or two, and the gateway's added latency per training step.

  concurrent:  N = 1, 2, 4, 8 inference jobs on fake_brisbane at once (a quarter CPU each),
               against the same jobs one after another: provider jobs and wall time.
  fanout:      one noisy 8-qubit batch of 4,096 rows through the gateway on a cluster of one
               node with 1 CPU, then of two such nodes (each in its own network namespace).
  latency:     a B = 32 parameter-shift step (1,312 rows, aer, 1,024 shots) in process, then
               through the gateway alone and beside three other jobs' steps.
Prints JSON. Usage: python bench/bench_gateway.py [--only concurrent|fanout|latency]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "datasets"


def service(home: str) -> Any:
    from qorch.orchestrator.service import Service
    from qorch.orchestrator.settings import Settings

    return Service(Settings.from_env({"QORCH_HOME": home, "QORCH_DATA_DIR": str(DATA)}))


def concurrent(home: str) -> dict[str, Any]:
    svc = service(home)
    trained = svc.follow(svc.submit(svc.train_spec(dict(
        model="hybrid-lenet", qubits=4, layers=1, train_size=2000, test_size=256, epochs=1))),
        lambda *a: None)
    options = {"backend": "fake_brisbane", "shots": 1024, "test_size": 256, "batch_size": 64,
               "cpus": 0.25}

    def providers(job_ids: list[str]) -> int:
        from sqlalchemy import select

        from qorch.orchestrator.store.db import session_scope
        from qorch.orchestrator.store.models import Execution

        with session_scope(svc.url) as session:
            ids = session.scalars(select(Execution.provider_job_id).where(
                Execution.job_id.in_(job_ids)))
            return len(set(ids))

    def run(n: int, together: bool) -> dict[str, Any]:
        started = time.perf_counter()
        ids: list[str] = []
        for _ in range(n):
            ids.append(svc.submit(svc.infer_spec(trained.id, options)))
            if not together:
                svc.follow(ids[-1], lambda *a: None)
        for job_id in ids:
            assert svc.follow(job_id, lambda *a: None).state.value == "SUCCEEDED"
        return {"wall_s": round(time.perf_counter() - started, 2),
                "provider_jobs": providers(ids), "batches": 4 * n}

    run(1, True)  # warm the gateway and the simulators
    report = {}
    for n in (1, 2, 4, 8):
        at_once, one_by_one = run(n, True), run(n, False)
        report[str(n)] = {"concurrent": at_once, "sequential": one_by_one,
                          "speedup": round(one_by_one["wall_s"] / at_once["wall_s"], 2)}
        print(json.dumps({n: report[str(n)]}), file=sys.stderr, flush=True)
    return report


FANOUT_TRIAL = """
import json, statistics, sys, time, numpy as np
from pathlib import Path
from tests.orchestrator.nodes import LoopbackCluster
root, nodes = Path(sys.argv[1]), int(sys.argv[2])
cluster = LoopbackCluster(root)
try:
    cluster.start_head(cpus=1)
    for _ in range(nodes - 1):
        cluster.add_node(cpus=1)
    import os
    os.environ.update(cluster.env())
    from qorch.backends.circuits.template import CircuitTemplate
    from qorch.backends.contract import CircuitBatch
    from qorch.orchestrator.runtime.cluster import connect
    from qorch.orchestrator.runtime.gateway import GatewayKey, gateway_actor
    from qorch.orchestrator.settings import Settings
    import ray
    settings = Settings(home=root / "home", database_url="sqlite:///unused")
    connect(settings, cluster.address)
    t = CircuitTemplate(8, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz"))
    noise = "depol1=0.001,depol2=0.01,readout=0.02"
    gateway = gateway_actor(settings, GatewayKey("aer", 1024, noise))
    def once(seed):
        rows = np.random.default_rng(seed).uniform(0, 3, (4096, t.n_inputs + t.n_weights))
        start = time.perf_counter()
        pid, item = ray.get(gateway.send.remote(CircuitBatch(t, rows, 1024, seed=seed), "b"))
        ray.get(gateway.wait.remote(pid, item, 600.0))
        return time.perf_counter() - start
    once(0)
    times = [once(s) for s in (1, 2, 3)]
    print(json.dumps({"nodes": nodes, "seconds": times, "median_s": statistics.median(times)}))
finally:
    cluster.stop()
"""


def fanout() -> dict[str, Any]:

    results = {}
    for nodes in (1, 2):
        with tempfile.TemporaryDirectory(prefix="qorch-fan-", dir="/tmp") as root:
            script = Path(root) / "trial.py"
            script.write_text(FANOUT_TRIAL)
            done = subprocess.run(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"',
                                   "sh", sys.executable, str(script), root + "/c", str(nodes)],
                                  capture_output=True, text=True, cwd=REPO, timeout=1200,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
            if done.returncode:
                raise RuntimeError(done.stderr[-2000:])
            results[str(nodes)] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**results, "speedup": round(results["1"]["median_s"] / results["2"]["median_s"], 2)}


def latency(home: str) -> dict[str, Any]:
    import numpy as np
    import ray

    from qorch.backends.circuits.template import CircuitTemplate
    from qorch.backends.contract import CircuitBatch
    from qorch.backends.registry import resolve
    from qorch.orchestrator.runtime.cluster import connect, ensure_cluster
    from qorch.orchestrator.runtime.gateway import GatewayKey, gateway_actor

    svc = service(home)
    connect(svc.settings, ensure_cluster(svc.settings))
    t = CircuitTemplate(4, 2, "angle-ry", "ryrz", "cnot-chain", ("z", "zz"))
    rows = 32 * (1 + 2 * (t.n_inputs + t.n_weights))

    def batch(seed: int) -> CircuitBatch:
        params = np.random.default_rng(seed).uniform(0, 3, (rows, t.n_inputs + t.n_weights))
        return CircuitBatch(t, params, 1024, seed=seed)

    direct = resolve("aer")
    gateway = gateway_actor(svc.settings, GatewayKey("aer", 1024, None))

    def through_gateway(seed: int) -> float:
        start = time.perf_counter()
        pid, item = ray.get(gateway.send.remote(batch(seed), "bench"))
        ray.get(gateway.wait.remote(pid, item, 600.0))
        return time.perf_counter() - start

    def in_process(seed: int) -> float:
        start = time.perf_counter()
        direct.run_batch(batch(seed)).result()
        return time.perf_counter() - start

    through_gateway(0), in_process(0)  # warm both
    alone = [through_gateway(s) for s in range(1, 11)]
    local = [in_process(s) for s in range(1, 11)]
    stop = threading.Event()

    def neighbour(offset: int) -> None:
        seed = offset
        while not stop.is_set():
            through_gateway(seed)
            seed += 100

    others = [threading.Thread(target=neighbour, args=(1000 * i,)) for i in (1, 2, 3)]
    for thread in others:
        thread.start()
    time.sleep(2)
    busy = [through_gateway(s) for s in range(20, 30)]
    stop.set()
    for thread in others:
        thread.join()
    median = statistics.median
    return {"rows_per_step": rows, "in_process_ms": round(median(local) * 1000, 1),
            "gateway_alone_ms": round(median(alone) * 1000, 1),
            "gateway_with_three_jobs_ms": round(median(busy) * 1000, 1),
            "added_alone_ms": round((median(alone) - median(local)) * 1000, 1),
            "added_with_three_jobs_ms": round((median(busy) - median(local)) * 1000, 1),
            "gateway_stats": ray.get(gateway.stats.remote())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["concurrent", "fanout", "latency"], action="append")
    args = parser.parse_args()
    chosen = args.only or ["concurrent", "fanout", "latency"]
    report: dict[str, Any] = {"benchmark": "the service on Ray", "cpus": os.cpu_count()}
    from qorch.orchestrator.runtime.cluster import stop_cluster

    home = tempfile.mkdtemp(prefix="qorch-bench-")
    try:
        if "concurrent" in chosen:
            report["concurrent_inference_fake_brisbane"] = concurrent(home)
        if "latency" in chosen:
            report["gateway_latency_b32"] = latency(home)
    finally:
        stop_cluster(service(home).settings)
    # After the home's cluster is gone: its idle simulator actors would hold CPU time that the
    # fan-out's own one- and two-node clusters are measured on.
    if "fanout" in chosen:
        report["fanout_4096_rows_8_qubits_noisy"] = fanout()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
