"""The job driver: claims a job (a new attempt), runs it to a final state, reports to the store."""

from __future__ import annotations

import functools
import logging
import os
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from qorch.backends.contract import Backend
from qorch.jobs.compare.loop import purpose as compare_purpose
from qorch.jobs.compare.spec import CompareSpec
from qorch.jobs.errors import JobError
from qorch.jobs.kinds import JobSpec, parse_spec
from qorch.jobs.quantum.setup import quantum_setup
from qorch.jobs.spec import InferSpec, TrainSpec
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


def prepare_backend(spec: TrainSpec, settings: Settings, ctx: StoreContext,
                    default_shots: int | None = None) -> tuple[Backend, dict[str, Any] | None]:
    """Resolve the backend, refuse what it cannot run; its device's calibration, if any."""
    from qorch.backends.registry import resolve

    ctx.set_phase(f"preparing backend {spec.backend}")
    backend = resolve(spec.backend, shots=spec.shots, noise=spec.noise, seed=spec.seed,
                      credentials=settings.credentials, engine=spec.engine,
                      mitigate=spec.mitigate)
    template = spec.template()
    setup = quantum_setup(spec, backend.capabilities, backend.name, default_shots)
    backend.validate(template, setup.shots)
    return backend, backend.calibration_report(template)


def models_of(spec: JobSpec) -> tuple[TrainSpec, ...]:
    """The model spec of each backend the job evaluates on (one, or one per compared)."""
    if isinstance(spec, CompareSpec):
        return spec.models
    model = spec.model if isinstance(spec, InferSpec) else spec
    return (model,) if model.has_circuit else ()


def source_weights(store: AttemptStore, spec: JobSpec) -> bytes | None:
    """An evaluation's input: the final parameters of the training job it evaluates."""
    if isinstance(spec, TrainSpec):
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
    backends: list[Backend] = []
    try:
        job = store.read(lambda session: repo.get_job(session, job_id))
        spec = parse_spec(job.kind, dict(job.spec))
        calibrations = []
        for index, model in enumerate(models_of(spec)):
            default = spec.shots if isinstance(spec, CompareSpec) else None
            backend, report = prepare_backend(model, settings, ctx, default)
            backends.append(backend)
            calibrations.append(report)
            send = sender_for(backend, model) if sender_for else None
            executor = LedgeredExecutor(store, backend, ctx.should_stop, ctx.set_phase, send)
            ctx.executors[compare_purpose(index) if isinstance(spec, CompareSpec) else "*"] = (
                executor)
        if calibrations and calibrations[0] is not None and not isinstance(spec, CompareSpec):
            store.write(lambda s: repo.add_to_summary(s, job_id, {"device": calibrations[0]}))
        outcome = run_spec(spec, ctx, backends, settings.data_source(),
                           source_weights(store, spec), calibrations)
        ctx.flush()
        if outcome.stopped:
            return finish(store, JobState.CANCELLED, "stopped on request").value
        result = outcome.result
        if isinstance(spec, CompareSpec):
            result = with_usage(store, result, backends)
        store.write(lambda session: repo.set_result(session, job_id, result))
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
        for backend in backends:
            backend.close()


def with_usage(store: AttemptStore, result: dict[str, Any],
               backends: Sequence[Backend]) -> dict[str, Any]:
    """A comparison's rows with what each backend was sent (from the ledger) and its cost."""
    from qorch.orchestrator.store import ledger

    rows = []
    for index, (row, backend) in enumerate(zip(result["backends"], backends, strict=True)):
        used = store.read(functools.partial(ledger.usage, job_id=store.job_id,
                                            purpose=compare_purpose(index)))
        cost = backend.estimate_cost(used["circuits"], row["shots"] or 0) if row["shots"] else None
        rows.append({**row, "usage": used, "estimated_cost": cost})
    return {**result, "backends": rows}


def job_log_path(settings: Settings, job_id: str) -> Path:
    return settings.log_dir / f"{job_id}.log"
