"""The supervisor: one detached actor per cluster that watches the stores its jobs use, turns
lost heartbeats into INTERRUPTED and jobs whose actor is gone for good into FAILED."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qorch.orchestrator.errors import InvalidTransitionError
from qorch.orchestrator.runtime.names import SUPERVISOR, job_actor
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import transact
from qorch.orchestrator.store.models import Job, utcnow
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

CHECK_EVERY_S = 5.0
# An actor missing for this long, with its job still live in the store, is gone for good.
GONE_AFTER_S = 20.0
log = logging.getLogger(__name__)


def actor_exists(name: str) -> bool:
    import ray

    try:
        ray.get_actor(name)
    except ValueError:
        return False
    return True


class Supervisor:
    """Checks every few seconds; its memory of stores and jobs is rebuilt by the job actors,
    which re-register periodically."""

    def __init__(self) -> None:
        self._stores: dict[str, Settings] = {}
        self._jobs: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._loop, name="qorch-supervisor", daemon=True).start()

    def watch(self, settings: Settings, job_id: str) -> None:
        with self._lock:
            self._stores[settings.database_url] = settings
            self._jobs.setdefault(settings.database_url, set()).add(job_id)

    def watched(self) -> dict[str, list[str]]:
        with self._lock:
            return {url: sorted(jobs) for url, jobs in self._jobs.items()}

    def _loop(self) -> None:
        stop = threading.Event()
        while not stop.wait(CHECK_EVERY_S):
            with self._lock:
                stores = list(self._stores.values())
            for settings in stores:
                try:
                    self.check(settings)
                except Exception as err:  # e.g. a store away for a while: the loop must live on
                    log.warning("supervising %s: %s", settings.database_url, err)

    def check(self, settings: Settings) -> None:
        """Reap lost heartbeats; fail the live jobs whose actor Ray gave up on."""
        now = utcnow()
        cutoff = now - timedelta(seconds=settings.heartbeat_timeout_s)
        transact(settings.database_url, lambda session: repo.reap_stale(session, cutoff))
        with self._lock:
            watched = set(self._jobs.get(settings.database_url, set()))
        gone_before = now - timedelta(seconds=GONE_AFTER_S)

        def live(session: Session) -> list[str]:
            query = select(Job.id).where(Job.id.in_(watched), Job.state.in_(repo.LIVE),
                                         Job.heartbeat_at < gone_before)
            return list(session.scalars(query))

        for job_id in transact(settings.database_url, live):
            if not actor_exists(job_actor(job_id)):
                self._fail(settings, job_id)
        self._forget_finished(settings, watched)

    def _fail(self, settings: Settings, job_id: str) -> None:
        def work(session: Session) -> None:
            state = repo.current_state(session, job_id)
            target = JobState.FAILED if state is JobState.RUNNING else JobState.CANCELLED
            try:
                transition(session, job_id, target, origin="supervisor",
                           reason="the job's actor is gone and Ray's restart budget is spent",
                           error="the job's actor died more often than --max-restarts allows; "
                                 "`qorch resume` continues from the latest checkpoint")
            except InvalidTransitionError:
                return

        transact(settings.database_url, work)

    def _forget_finished(self, settings: Settings, watched: set[str]) -> None:
        def finished(session: Session) -> set[str]:
            rows = session.execute(select(Job.id, Job.state).where(Job.id.in_(watched))).all()
            return {job_id for job_id, state in rows if JobState(state).terminal}

        done = transact(settings.database_url, finished)
        with self._lock:
            self._jobs.get(settings.database_url, set()).difference_update(done)


def ensure_supervisor() -> Any:
    """The cluster's supervisor, created on first use (it takes no CPU from the jobs)."""
    import ray

    cls = ray.remote(Supervisor)
    return cls.options(name=SUPERVISOR, lifetime="detached", get_if_exists=True, num_cpus=0,
                       max_restarts=-1, max_concurrency=8).remote()
