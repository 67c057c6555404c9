"""Before anything is spent: validate a submission end to end and plan its circuits and cost."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from qorch.orchestrator.errors import JobNotUsableError
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import get_engine, session_scope
from qorch.orchestrator.store.states import JobState


def data_sizes(settings: Settings, spec: Any) -> tuple[int, int]:
    """Verify the dataset files and the subset sizes; returns (train, test) images used."""
    from qorch.jobs.data.datasets import ensure_files
    from qorch.jobs.data.tensors import check_sizes

    model = spec.model_spec()
    data_dir = Path(model.data_dir) if model.data_dir else settings.data_dir
    ensure_files(model.dataset, data_dir=data_dir, cache_dir=settings.dataset_cache)
    return check_sizes(model.dataset, train_size=model.train_size, test_size=model.test_size,
                       classes=model.classes, data_dir=data_dir,
                       cache_dir=settings.dataset_cache)


def checked_backend(spec: Any) -> Any:
    """The spec's backend adapter, after it accepted the circuit (None on the exact path)."""
    model = spec.model_spec()
    if not model.uses_remote_backend:
        return None
    from qorch.backends.registry import resolve

    backend = resolve(model.backend, shots=model.shots, noise=model.noise, seed=model.seed)
    backend.validate(model.template(), model.shots)
    return backend


def prepare(settings: Settings, spec: Any) -> dict[str, Any]:
    """Everything that can refuse a submission, before any row exists; returns the summary."""
    from qorch.jobs.models.builders import summarize

    get_engine(settings.database_url)
    n_train, n_test = data_sizes(settings, spec)
    checked_backend(spec)
    summary = summarize(spec.model_spec())
    steps = (spec.epochs * math.ceil(n_train / spec.batch_size) if spec.kind == "train"
             else math.ceil(n_test / spec.batch_size))
    summary.update(train_examples=n_train, test_examples=n_test, total_steps=steps)
    return summary


def source_of_inference(settings: Settings, job_id: str) -> tuple[str, dict[str, Any]]:
    """The trained job an inference evaluates: it must have succeeded and kept its parameters."""
    with session_scope(settings.database_url) as session:
        job = repo.get_job(session, job_id)
        if job.kind != "train" or job.state != JobState.SUCCEEDED.value:
            raise JobNotUsableError(
                f"job {job.id} is a {job.state} {job.kind} job; --from needs a SUCCEEDED "
                "training job")
        if repo.latest_checkpoint(session, job.id, kinds=("final",)) is None:
            raise JobNotUsableError(f"job {job.id} kept no final parameters")
        return job.id, dict(job.spec)


def plan(settings: Settings, spec: Any) -> dict[str, Any]:
    """Circuits, provider jobs, shots and (where a price is known) cost, without a job."""
    from qorch.jobs.quantum.gradients import rows_per_sample

    model = spec.model_spec()
    n_train, n_test = data_sizes(settings, spec)
    backend = checked_backend(spec)
    report: dict[str, Any] = {"kind": spec.kind, "backend": model.backend, "model": model.model,
                              "train_examples": n_train, "test_examples": n_test}
    if backend is None:
        report.update(exact=True, provider_jobs=0, shots=0,
                      estimated_cost={"usd": 0.0, "kind": "exact in-process simulation"})
        return report
    template = model.template()
    per_sample = rows_per_sample(template, model.gradient, model.spsa_samples)
    limit = backend.capabilities.max_circuits_per_job
    batches: list[int] = []  # circuits of each submission batch, in order
    if spec.kind == "train":
        full, rest = divmod(n_train, model.batch_size)
        epoch = [model.batch_size * per_sample] * full + ([rest * per_sample] if rest else [])
        test = _split(n_test, model.batch_size)
        batches = (epoch + test) * model.epochs
        report.update(steps=model.epochs * len(epoch), circuits_per_step=epoch[0],
                      rows_per_sample=per_sample,
                      provider_jobs_per_step=math.ceil(epoch[0] / limit),
                      per_circuit_submissions_per_step=epoch[0])
    else:
        batches = _split(n_test, model.batch_size)
    provider_jobs = sum(math.ceil(b / limit) for b in batches)
    circuits = sum(batches)
    report.update(shots_per_circuit=model.shots, circuits=circuits, provider_jobs=provider_jobs,
                  shots=circuits * model.shots, max_circuits_per_job=limit)
    price = getattr(backend, "estimate_cost", None)
    report["estimated_cost"] = (price(circuits, model.shots) if callable(price)
                                else {"usd": 0.0, "kind": "local simulator: no charge"})
    return report


def _split(n: int, batch: int) -> list[int]:
    full, rest = divmod(n, batch)
    return [batch] * full + ([rest] if rest else [])
