"""The job driver: runs one job to a final state inside a Ray actor, reporting to the store."""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

from qorch.orchestrator.errors import InvalidTransitionError
from qorch.orchestrator.runtime.context import StoreContext
from qorch.orchestrator.runtime.executor import LedgeredExecutor
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.states import JobState
from qorch.orchestrator.store.transitions import transition

ORIGIN = "driver"


def _claim(job_id: str, database_url: str) -> bool:
    """QUEUED → RUNNING; False (after settling a pending cancel) if the job is no longer ours."""
    with session_scope(database_url) as session:
        try:
            transition(session, job_id, JobState.RUNNING, origin=ORIGIN,
                       reason=f"driver pid {os.getpid()}", expected=JobState.QUEUED)
            return True
        except InvalidTransitionError:
            pass
    with session_scope(database_url) as session:
        if repo.current_state(session, job_id) is JobState.CANCELLING:
            transition(session, job_id, JobState.CANCELLED, origin=ORIGIN,
                       reason="cancelled before it started")
    return False


def _finish(
    job_id: str, database_url: str, target: JobState, reason: str | None, error: str | None = None
) -> JobState:
    """Settle the job; a cancel that raced the end wins over success or failure."""
    with session_scope(database_url) as session:
        state = repo.current_state(session, job_id)
        if state is JobState.CANCELLING:
            target = JobState.CANCELLED
        if state.terminal or state is JobState.INTERRUPTED:
            return state
        transition(session, job_id, target, origin=ORIGIN, reason=reason, error=error)
        return target


def _executor(job_id: str, database_url: str, spec: Any, ctx: StoreContext) -> LedgeredExecutor:
    """Resolve the backend, refuse what it cannot run, and note the device beside the job."""
    from qorch.backends.registry import resolve

    ctx.set_phase(f"preparing backend {spec.backend}")
    backend = resolve(spec.backend, shots=spec.shots, noise=spec.noise, seed=spec.seed)
    template = spec.template()
    backend.validate(template, spec.shots)
    report = getattr(backend, "calibration_report", None)
    if callable(report):
        with session_scope(database_url) as session:
            repo.add_to_summary(session, job_id, {"device": report(template)})
    return LedgeredExecutor(job_id, database_url, backend, ctx.should_stop, ctx.set_phase)


def _source_weights(database_url: str, spec: Any) -> bytes | None:
    """An inference job's input: the final parameters of the job it evaluates."""
    source = getattr(spec, "source_job", None)
    if source is None:
        return None
    with session_scope(database_url) as session:
        row = repo.latest_checkpoint(session, source, kinds=("final",))
        return None if row is None else repo.checkpoint_payload(row)


def run_job(job_id: str, database_url: str, home: str) -> str:
    """Run a claimed job to completion; returns the final state's name."""
    from qorch.jobs.errors import JobError
    from qorch.jobs.runner import parse_spec, run_spec

    if not _claim(job_id, database_url):
        with session_scope(database_url) as session:
            return repo.current_state(session, job_id).value
    ctx = StoreContext(job_id, database_url, Path(home) / "checkpoints")
    with session_scope(database_url) as session:
        job = repo.get_job(session, job_id)
        spec_data, kind = dict(job.spec), job.kind
    try:
        spec = parse_spec(kind, spec_data)
        if spec.uses_remote_backend:
            ctx.executor = _executor(job_id, database_url, spec.model_spec(), ctx)
        outcome = run_spec(spec, ctx, cache_dir=Path(home) / "datasets",
                           source_weights=_source_weights(database_url, spec))
        ctx.flush()
        if outcome.stopped:
            return _finish(job_id, database_url, JobState.CANCELLED, "stopped on request").value
        with session_scope(database_url) as session:
            repo.set_result(session, job_id, outcome.result)
        return _finish(job_id, database_url, JobState.SUCCEEDED, None).value
    except Exception as err:  # the driver must settle the job whatever went wrong
        ctx.flush()
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        message = first if isinstance(err, JobError) else f"{type(err).__name__}: {first}"
        trace = traceback.format_exc()
        return _finish(job_id, database_url, JobState.FAILED, trace, error=message).value
