"""Hands a QUEUED job to the cluster as a detached actor; cancels it there too."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session

from qorch.orchestrator.errors import ClusterError, InvalidTransitionError
from qorch.orchestrator.runtime.cluster import connect, ensure_cluster
from qorch.orchestrator.runtime.names import job_actor
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import transact
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

log = logging.getLogger(__name__)


def fits(cpus: float, resources: Mapping[str, float]) -> None:
    """Refuse a job no node of the cluster could ever place (it would wait forever)."""
    import ray

    wanted = {"CPU": float(cpus), **resources}
    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    if any(all(node.get(k, 0.0) >= v for k, v in wanted.items()) for node in nodes):
        return
    largest = max((n.get("CPU", 0.0) for n in nodes), default=0.0)
    asked = ", ".join(f"{v:g} {k}" for k, v in wanted.items())
    raise ClusterError(f"the job asks for {asked} but no node of the cluster has that (the "
                       f"largest has {largest:g} CPU); ask for less or add a node")


def placeable(settings: Settings, cpus: float, resources: Mapping[str, float],
              address: str | None = None) -> None:
    """Join the cluster (starting this home's if needed) and refuse what no node can place."""
    connect(settings, ensure_cluster(settings, address))
    fits(cpus, resources)


def replace_actor(name: str) -> None:
    """Kill a predecessor under the job's name (a frozen or stuck driver of an older attempt)."""
    import ray

    try:
        ray.kill(ray.get_actor(name), no_restart=True)
    except ValueError:
        return


def launch(settings: Settings, job_id: str, *, cpus: float = 1, max_restarts: int = 3,
           resources: Mapping[str, float] | None = None, address: str | None = None) -> None:
    """Start the job's actor; Ray keeps it pending (the job QUEUED) until a node has room.
    A job that cannot be handed over ends FAILED with the reason (never as a user's cancel)."""
    try:
        connect(settings, ensure_cluster(settings, address))
        fits(cpus, resources or {})
        from qorch.orchestrator.runtime.actors import job_actor_class
        from qorch.orchestrator.runtime.supervisor import ensure_supervisor

        ensure_supervisor().watch.remote(settings, job_id)
        name = job_actor(job_id)
        replace_actor(name)
        job_actor_class().options(
            name=name, lifetime="detached", num_cpus=cpus, resources=dict(resources or {}),
            max_restarts=max_restarts, max_concurrency=2,
        ).remote(settings, job_id, cpus)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        fail_queued(settings, job_id, f"could not be handed to Ray: {first}")
        raise
    waiting = ", ".join([f"{cpus:g} CPU", *(f"{v:g} {k}" for k, v in (resources or {}).items())])
    transact(settings.database_url,
             lambda s: repo.handed_over(s, job_id, f"waiting for {waiting} on the cluster"))


def fail_queued(settings: Settings, job_id: str, reason: str) -> None:
    def work(session: Session) -> None:
        try:
            transition(session, job_id, JobState.FAILED, origin="submit", reason=reason,
                       expected=JobState.QUEUED)
        except InvalidTransitionError:
            return

    transact(settings.database_url, work)


def stop_actor(settings: Settings, job_id: str, address: str | None = None) -> None:
    """Remove a cancelled job's actor that Ray has not placed yet (it holds a queue slot)."""
    from qorch.orchestrator.runtime.cluster import running_cluster

    if not (address or settings.ray_address) and running_cluster(settings) is None:
        return  # no cluster, so no actor
    connect(settings, ensure_cluster(settings, address))
    import ray

    try:
        ray.kill(ray.get_actor(job_actor(job_id)), no_restart=True)
    except ValueError:
        return
