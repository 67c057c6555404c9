"""Submitting a job: validate everything first, then write the row, then hand it to Ray."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qorch.orchestrator import service
from qorch.orchestrator.planning import prepare
from qorch.orchestrator.runtime.cluster import connect
from qorch.orchestrator.runtime.launch import spawn_background, start_on_ray
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Job, JobEvent, Metric
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

POLL_S = 0.5


@dataclass(frozen=True)
class Launched:
    job_id: str
    ref: Any = None
    log_path: Path | None = None


def submit(settings: Settings, spec: Any, *, address: str | None, detach: bool) -> Launched:
    summary = prepare(settings, spec)
    embedded_detach = detach and not (address or settings.ray_address)
    if not embedded_detach:
        connect(settings, address, cpus=spec.threads)
    job_id = service.create_job(settings, spec.kind, spec.to_dict(), spec.backend, summary)
    return launch(settings, job_id, threads=spec.threads, address=address, detach=detach)


def launch(settings: Settings, job_id: str, *, threads: int | None, address: str | None,
           detach: bool) -> Launched:
    try:
        if detach and not (address or settings.ray_address):
            return Launched(job_id, log_path=spawn_background(settings, job_id))
        ref = start_on_ray(settings, job_id, threads, address, detached=detach)
        return Launched(job_id, ref=None if detach else ref)
    except Exception as err:
        with session_scope(settings.database_url) as session:
            transition(session, job_id, JobState.CANCELLING, origin="submit", reason=str(err))
            transition(session, job_id, JobState.CANCELLED, origin="submit",
                       reason="could not be handed to Ray")
        raise


Update = Callable[[Job, list[JobEvent], list[Metric]], None]


def follow(settings: Settings, launched: Launched, on_update: Update) -> Job:
    """Feed `on_update` from the store until the job ends; returns the final row."""
    import ray

    last_event = last_metric = 0
    done = False
    while True:
        if launched.ref is not None and not done:
            ready, _ = ray.wait([launched.ref], timeout=POLL_S)
            if ready:
                done = True
                _settle_crash(settings, launched)
        else:
            time.sleep(POLL_S)
        job, events, metrics = service.new_records(settings, launched.job_id, last_event,
                                                   last_metric)
        last_event = events[-1].id if events else last_event
        last_metric = metrics[-1].id if metrics else last_metric
        on_update(job, events, metrics)
        if JobState(job.state).terminal or (done and not metrics and not events):
            return job


def _settle_crash(settings: Settings, launched: Launched) -> None:
    """If the actor died without settling the job, record why."""
    import ray

    try:
        ray.get(launched.ref)
    except ray.exceptions.RayError as err:
        with session_scope(settings.database_url) as session:
            state = JobState(session.get(Job, launched.job_id).state)  # type: ignore[union-attr]
            if state in (JobState.RUNNING, JobState.CANCELLING):
                target = JobState.FAILED if state is JobState.RUNNING else JobState.CANCELLED
                first = str(err).strip().splitlines()[0]
                transition(session, launched.job_id, target, origin="submit",
                           reason=f"driver died: {first}")


def resume(settings: Settings, job_id: str, *, address: str | None, detach: bool) -> Launched:
    job = service.requeue(settings, job_id)
    return launch(settings, job.id, threads=job.spec.get("threads"), address=address,
                  detach=detach)
