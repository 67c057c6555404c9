"""The job actor: one detached Ray actor per job. Ray's scheduler places it (the queue) and
restarts it when its process or node dies; each incarnation continues from the checkpoint."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from sqlalchemy.orm import Session

from qorch.orchestrator.runtime.names import SUPERVISOR
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import transact
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

log = logging.getLogger(__name__)
REGISTER_EVERY_S = 30.0


def requeue_after_restart(settings: Settings, job_id: str) -> None:
    """A restarted actor finds its job under a dead attempt: RUNNING → INTERRUPTED → QUEUED
    (each an event), so the new incarnation claims it with a new attempt."""
    def work(session: Session) -> None:
        state = repo.current_state(session, job_id)
        if state is JobState.RUNNING:
            transition(session, job_id, JobState.INTERRUPTED, origin="ray",
                       reason="the job's actor or node died; Ray restarted the actor")
            state = JobState.INTERRUPTED
        if state is JobState.INTERRUPTED:
            transition(session, job_id, JobState.QUEUED, origin="ray",
                       reason="restart from the latest checkpoint")
            repo.handed_over(session, job_id, "restarting on the cluster")
        elif state is JobState.CANCELLING:
            transition(session, job_id, JobState.CANCELLED, origin="ray",
                       reason="cancelled while its actor was restarting")

    transact(settings.database_url, work, retry_s=settings.store_retry_s)


def job_logging(settings: Settings, job_id: str) -> None:
    """This worker's log lines go to QORCH_HOME/logs/JOB.log (0600) on the node that runs it."""
    settings.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = settings.log_dir / f"{job_id}.log"
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("qorch")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


class JobActor:
    """Runs one job in a thread started by the constructor: the constructor is what Ray re-runs
    when it restarts the actor, whoever submitted the job and whether or not it still runs."""

    def __init__(self, settings: Settings, job_id: str, cpus: float) -> None:
        import ray
        import torch

        self.settings, self.job_id = settings, job_id
        torch.set_num_threads(max(1, round(cpus)))
        job_logging(settings, job_id)
        context = ray.get_runtime_context()
        if context.was_current_actor_reconstructed:
            log.warning("job %s: actor restarted by Ray on node %s", job_id, context.get_node_id())
            requeue_after_restart(settings, job_id)
        self.outcome: str | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, name=f"qorch-job-{job_id}", daemon=True).start()
        threading.Thread(target=self._register, name="qorch-register", daemon=True).start()

    def _run(self) -> None:
        import ray

        from qorch.orchestrator.runtime.driver import run_job
        from qorch.orchestrator.runtime.sending import gateway_sender

        try:
            self.outcome = run_job(self.settings, self.job_id, lambda backend, spec:
                                   gateway_sender(self.settings, backend, spec.noise))
            log.info("job %s: %s", self.job_id, self.outcome)
        finally:
            self._done.set()
            for handler in logging.getLogger("qorch").handlers:
                handler.flush()
            # Done: leave the cluster's CPUs to the next job, and never be restarted.
            ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def _register(self) -> None:
        """Keep the supervisor told about this job (it forgets when it restarts itself)."""
        import ray

        while not self._done.is_set():
            try:
                supervisor = ray.get_actor(SUPERVISOR)
                supervisor.watch.remote(self.settings, self.job_id)
            except (ValueError, ray.exceptions.RayError) as err:
                log.debug("supervisor not reachable: %s", err)
            self._done.wait(REGISTER_EVERY_S)

    def outcome_of(self) -> str | None:
        return self.outcome

    def pid(self) -> int:
        """The worker process running the job (for `qorch cluster status` and for tests)."""
        return os.getpid()


def job_actor_class() -> Any:
    import ray

    return ray.remote(JobActor)
