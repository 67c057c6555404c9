"""Before anything is spent: validate a submission end to end and plan its circuits and cost."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from qorch.backends.contract import Backend, check_request
from qorch.backends.errors import CredentialsError
from qorch.jobs.compare.spec import CompareSpec
from qorch.jobs.kinds import JobSpec
from qorch.jobs.quantum.setup import QuantumSetup, circuit_rows_per_sample, evaluation_batch
from qorch.jobs.spec import InferSpec, TrainSpec
from qorch.orchestrator.errors import JobNotUsableError
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import get_engine, session_scope
from qorch.orchestrator.store.states import JobState


@dataclass(frozen=True)
class Checked:
    """A submission that passed every check: its data sizes and, for a quantum model, its
    backend and how the quantum layer will run there."""

    spec: JobSpec
    n_train: int
    n_test: int
    backend: Backend | None
    setup: QuantumSetup | None
    offline: str | None = None  # a dry run's provider check that needed credentials

    @property
    def model(self) -> TrainSpec:
        return self.spec if isinstance(self.spec, TrainSpec) else self.spec.model


def data_sizes(settings: Settings, model: TrainSpec) -> tuple[int, int]:
    """Verify the dataset files and the subset sizes; returns (train, test) images used."""
    from qorch.jobs.data.datasets import ensure_files
    from qorch.jobs.data.tensors import check_sizes
    from qorch.jobs.runner import data_source

    source = data_source(model, settings.data_source())
    ensure_files(model.dataset, source)
    return check_sizes(model.dataset, train_size=model.train_size, test_size=model.test_size,
                       classes=model.classes, source=source)


def check(settings: Settings, spec: JobSpec, dry_run: bool = False) -> Checked:
    """Everything that can refuse a submission, before any row exists or anything is spent:
    the store, the data, the backend (name, credentials, width, shots, noise, gradient).
    A dry run without the provider's credentials plans from what is known offline."""
    from qorch.backends.registry import resolve
    from qorch.jobs.quantum.setup import quantum_setup

    get_engine(settings.database_url)
    model = spec if isinstance(spec, TrainSpec) else spec.model
    if not model.has_circuit:
        return Checked(spec, *data_sizes(settings, model), None, None)
    # Cheapest first: names and capabilities, then the data, then the provider (network).
    backend = resolve(model.backend, shots=model.shots, noise=model.noise, seed=model.seed,
                      credentials=settings.credentials, engine=model.engine,
                      mitigate=model.mitigate)
    setup = quantum_setup(model, backend.capabilities, backend.name)
    n_train, n_test = data_sizes(settings, model)
    offline = None
    try:
        backend.validate(model.template(), setup.shots)
    except CredentialsError as err:
        if not dry_run:
            raise
        # Offline, the adapter's static limits still refuse a circuit too wide or too many
        # shots; what only the provider knows (current width, availability) stays unknown.
        check_request(backend.name, backend.capabilities, model.template(), setup.shots)
        offline = str(err)
    if isinstance(spec, CompareSpec):  # every compared backend takes the circuit too
        for other in spec.models:
            compared = resolve(other.backend, shots=other.shots, noise=other.noise,
                               seed=other.seed, credentials=settings.credentials)
            shots = quantum_setup(other, compared.capabilities, compared.name,
                                  spec.shots).shots
            compared.validate(other.template(), shots)
    return Checked(spec, n_train, n_test, backend, setup, offline)


def summary(checked: Checked) -> dict[str, Any]:
    """What the job row keeps about the model: parameters, circuit, data, steps."""
    from qorch.jobs.models.builders import summarize

    model = checked.model
    info = summarize(model)
    info.update(train_examples=checked.n_train, test_examples=checked.n_test,
                total_steps=total_steps(checked))
    if checked.setup is not None:
        info.update(shots=checked.setup.shots, gradient=checked.setup.gradient)
    return info


def total_steps(checked: Checked) -> int:
    """Training steps of a train job; evaluation batches of an inference job."""
    spec, model = checked.spec, checked.model
    if isinstance(spec, CompareSpec):
        return len(spec.backends)
    if isinstance(spec, InferSpec):
        caps = checked.backend.capabilities if checked.backend else None
        return math.ceil(checked.n_test / evaluation_batch(caps, checked.n_test, spec.batch_size))
    assert model.epochs is not None and model.batch_size is not None
    return model.epochs * math.ceil(checked.n_train / model.batch_size)


def source_of_inference(settings: Settings, job_id: str) -> tuple[str, dict[str, Any]]:
    """The trained job an inference evaluates: it must have succeeded and kept its parameters."""
    with session_scope(settings.database_url) as session:
        job = repo.get_job(session, job_id)
        if job.kind != "train" or job.state is not JobState.SUCCEEDED:
            raise JobNotUsableError(
                f"job {job.id} is a {job.state.value} {job.kind} job; --from needs a SUCCEEDED "
                "training job")
        if repo.latest_checkpoint(session, job.id, kinds=("final",)) is None:
            raise JobNotUsableError(f"job {job.id} kept no final parameters")
        return job.id, dict(job.spec)


def plan(checked: Checked) -> dict[str, Any]:
    """Circuits, provider jobs, shots, cost where a price is known, wall and QPU time, and
    warnings, without a job."""
    from qorch.orchestrator.estimates import estimate, warnings

    report = _counts(checked)
    family = "ibm" if checked.model.backend.startswith("ibm") else "other"
    kind = checked.backend.capabilities.kind if checked.backend else "simulator"
    model = checked.model
    images = (checked.n_train * (model.epochs or 1) if isinstance(checked.spec, TrainSpec)
              else checked.n_test) + checked.n_test
    report["estimate"] = estimate(report, kind, family, checked.spec.cpus, images)
    if checked.offline:
        report["not_known_offline"] = (
            "the device's availability, current width and queue: "
            + checked.offline.split(":", 1)[0])
    report["warnings"] = warnings(report)
    return report


def _counts(checked: Checked) -> dict[str, Any]:
    spec, model, backend, setup = checked.spec, checked.model, checked.backend, checked.setup
    report: dict[str, Any] = {"kind": spec.kind, "backend": model.backend, "model": model.model,
                              "train_examples": checked.n_train, "test_examples": checked.n_test,
                              # The model's settings with its (or its recipe's) defaults filled
                              # in: what the job would train, not only what was typed.
                              "settings": {k: v for k, v in model.to_dict().items()
                                           if v is not None and k != "data_dir"}}
    if backend is None or setup is None:
        report.update(exact=True, provider_jobs=0, shots=0, circuits=0,
                      estimated_cost={"usd": 0.0, "kind": "classical model: no circuits"})
        return report
    limit = backend.capabilities.max_circuits_per_job
    if isinstance(spec, InferSpec):
        batches = _split(checked.n_test, evaluation_batch(backend.capabilities, checked.n_test,
                                                          spec.batch_size))
    elif setup.autograd:
        report.update(exact=setup.shots is None, gradient="autograd", provider_jobs=0,
                      circuits=0, shots=0, steps=total_steps(checked),
                      estimated_cost={"usd": 0.0, "kind": "in-process simulation"})
        return report
    else:
        assert model.batch_size is not None and model.epochs is not None
        per_sample = circuit_rows_per_sample(model, setup)
        full, rest = divmod(checked.n_train, model.batch_size)
        epoch = [model.batch_size * per_sample] * full + ([rest * per_sample] if rest else [])
        test = _split(checked.n_test, evaluation_batch(backend.capabilities, checked.n_test))
        batches = (epoch + test) * model.epochs
        report.update(steps=model.epochs * len(epoch), circuits_per_step=epoch[0],
                      rows_per_sample=per_sample, gradient=setup.gradient,
                      provider_jobs_per_step=math.ceil(epoch[0] / limit),
                      per_circuit_submissions_per_step=epoch[0])
    provider_jobs = sum(math.ceil(b / limit) for b in batches)
    circuits = sum(batches)
    shots = setup.shots or 0
    report.update(shots_per_circuit=setup.shots, circuits=circuits, provider_jobs=provider_jobs,
                  shots=circuits * shots, max_circuits_per_job=limit)
    local = {"usd": 0.0, "kind": "local simulator: no charge"}
    unpriced = {"usd": None, "kind": "not known offline: the provider bills by its plans"}
    report["estimated_cost"] = (backend.estimate_cost(circuits, shots)
                                or (unpriced if backend.capabilities.kind == "hardware"
                                    else local))
    return report


def _split(n: int, batch: int) -> list[int]:
    full, rest = divmod(n, batch)
    return [batch] * full + ([rest] if rest else [])
