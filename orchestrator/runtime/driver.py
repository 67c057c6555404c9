"""The job driver: claims a job (a new attempt), runs it to a final state, reports to the store."""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from qorch.backends.contract import Backend
from qorch.jobs.errors import JobError
from qorch.jobs.quantum.setup import quantum_setup
from qorch.jobs.spec import InferSpec, JobSpec, TrainSpec, parse_spec
from qorch.orchestrator.errors import InvalidTransitionError, StaleAttemptError
from qorch.orchestrator.runtime.context import AttemptStore, StoreContext
from qorch.orchestrator.runtime.executor import LedgeredExecutor, Sender
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import transact
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

ORIGIN = "driver"
log = logging.getLogger(__name__)


def claim(settings: Settings, job_id: str) -> int | None:
    """QUEUED → RUNNING with a new attempt; None (after settling a pending cancel) if the job is
    not ours to run."""
    def take(session: Session) -> int | None:
        try:
            transition(session, job_id, JobState.RUNNING, origin=ORIGIN,
                       reason=f"driver pid {os.getpid()}", expected=JobState.QUEUED)
        except InvalidTransitionError:
            return None
        return repo.get_job(session, job_id).attempt

    attempt = transact(settings.database_url, take, retry_s=settings.store_retry_s)
    if attempt is None:
        def settle(session: Session) -> None:
            if repo.current_state(session, job_id) is JobState.CANCELLING:
                transition(session, job_id, JobState.CANCELLED,
                           origin=ORIGIN, reason="cancelled before it started")

        transact(settings.database_url, settle, retry_s=settings.store_retry_s)
    return attempt


def finish(store: AttemptStore, target: JobState, reason: str | None,
           error: str | None = None) -> JobState:
    """Settle the job as this attempt; a cancel that raced the end wins over success or
    failure. A superseded attempt settles nothing."""
    def settle(session: Session) -> JobState:
        state = repo.current_state(session, store.job_id)
        final = JobState.CANCELLED if state is JobState.CANCELLING else target
        transition(session, store.job_id, final, origin=ORIGIN,
                   reason=reason, error=error, attempt=store.attempt)
        return final

    return store.write(settle)


def prepare_backend(spec: TrainSpec, store: AttemptStore, settings: Settings,
                    ctx: StoreContext) -> Backend:
    """Resolve the backend, refuse what it cannot run, and note the device beside the job."""
    from qorch.backends.registry import resolve

    ctx.set_phase(f"preparing backend {spec.backend}")
    backend = resolve(spec.backend, shots=spec.shots, noise=spec.noise, seed=spec.seed,
                      credentials=settings.credentials, engine=spec.engine,
                      mitigate=spec.mitigate)
    template = spec.template()
    setup = quantum_setup(spec, backend.capabilities, backend.name)
    backend.validate(template, setup.shots)
    report = backend.calibration_report(template)
    if report is not None:
        store.write(lambda session: repo.add_to_summary(session, store.job_id,
                                                        {"device": report}))
    return backend


def source_weights(store: AttemptStore, spec: JobSpec) -> bytes | None:
    """An inference job's input: the final parameters of the job it evaluates."""
    if not isinstance(spec, InferSpec):
        return None

    def final(session: Session) -> bytes | None:
        row = repo.latest_checkpoint(session, spec.source_job, kinds=("final",))
        return None if row is None else repo.checkpoint_payload(row)

    return store.read(final)


def run_job(settings: Settings, job_id: str,
            sender_for: Callable[[Backend, TrainSpec], Sender] | None = None) -> str:
    """Claim and run a job to completion; returns the final state's name (or, for an attempt
    that was superseded or could not claim, the state it found). `sender_for` says how batches
    reach the backend (on a cluster: its gateway); by default straight from this process."""
    from qorch.jobs.runner import run_spec

    attempt = claim(settings, job_id)
    if attempt is None:
        return transact(settings.database_url, lambda s: repo.current_state(s, job_id).value)
    store = AttemptStore(settings.database_url, job_id, attempt, settings.store_retry_s)
    ctx = StoreContext(store, settings.checkpoint_dir)
    backend: Backend | None = None
    try:
        job = store.read(lambda session: repo.get_job(session, job_id))
        spec = parse_spec(job.kind, dict(job.spec))
        model = spec.model if isinstance(spec, InferSpec) else spec
        if model.has_circuit:
            backend = prepare_backend(model, store, settings, ctx)
            send = sender_for(backend, model) if sender_for else None
            ctx.executor = LedgeredExecutor(store, backend, ctx.should_stop, ctx.set_phase, send)
        outcome = run_spec(spec, ctx, backend, settings.data_source(), source_weights(store, spec))
        ctx.flush()
        if outcome.stopped:
            return finish(store, JobState.CANCELLED, "stopped on request").value
        store.write(lambda session: repo.set_result(session, job_id, outcome.result))
        return finish(store, JobState.SUCCEEDED, None).value
    except StaleAttemptError as err:
        log.warning("%s", err)  # a newer attempt runs the job: stop without another write
        return "SUPERSEDED"
    except Exception as err:  # the driver must settle the job whatever went wrong
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        message = first if isinstance(err, JobError) else f"{type(err).__name__}: {first}"
        log.error("job %s failed: %s", job_id, message)
        try:
            ctx.flush()
            return finish(store, JobState.FAILED, traceback.format_exc(), error=message).value
        except StaleAttemptError:
            return "SUPERSEDED"
    finally:
        if backend is not None:
            backend.close()


def job_log_path(settings: Settings, job_id: str) -> Path:
    return settings.log_dir / f"{job_id}.log"
