"""Puts a queued job on Ray: attached (this process waits), or detached (it outlives the CLI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from qorch.orchestrator.errors import ClusterError
from qorch.orchestrator.runtime.cluster import cluster_cpus, connect
from qorch.orchestrator.settings import Settings

ACTOR_PREFIX = "qorch-job-"


def _runner_class() -> Any:
    import ray

    @ray.remote(max_restarts=0)
    class JobRunner:
        """One actor per job, so a cluster spreads jobs over its nodes."""

        def run(self, job_id: str, database_url: str, home: str, threads: int) -> str:
            import torch

            from qorch.orchestrator.runtime.driver import run_job

            torch.set_num_threads(threads)
            try:
                return run_job(job_id, database_url, home)
            finally:
                if ray.get_runtime_context().get_actor_name():
                    ray.actor.exit_actor()

    return JobRunner


def start_on_ray(settings: Settings, job_id: str, threads: int | None, address: str | None,
                 detached: bool) -> Any:
    """Start the job's actor; returns the ObjectRef of its final state."""
    connect(settings, address, cpus=threads)
    available = cluster_cpus()
    cpus = threads or (int(available) if not (address or settings.ray_address) else 1)
    if cpus > available:
        raise ClusterError(f"the job asks for {cpus} CPUs but the Ray cluster has {available:g}")
    options: dict[str, Any] = {"num_cpus": cpus}
    if detached:
        options.update(name=f"{ACTOR_PREFIX}{job_id}", lifetime="detached")
    actor = _runner_class().options(**options).remote()
    return actor.run.remote(job_id, settings.database_url, str(settings.home), cpus)


def spawn_background(settings: Settings, job_id: str) -> Path:
    """Detached run on embedded Ray: a session-leader process owns the local Ray for the job."""
    log_dir = settings.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{job_id}.log"
    with log_path.open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "qorch.orchestrator.background", job_id],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return log_path

