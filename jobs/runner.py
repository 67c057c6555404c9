"""From the orchestrator into the jobs layer: a spec and its backend in, an outcome out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qorch.backends.contract import Backend
from qorch.jobs.compare.loop import CompareOutcome, compare
from qorch.jobs.compare.spec import CompareSpec
from qorch.jobs.context import JobContext
from qorch.jobs.data.datasets import DataSource
from qorch.jobs.data.tensors import TensorData, load_tensors
from qorch.jobs.errors import JobError
from qorch.jobs.kinds import JobSpec
from qorch.jobs.loops.inference import InferOutcome, infer
from qorch.jobs.loops.training import TrainOutcome, train
from qorch.jobs.quantum.runners import CircuitRunner
from qorch.jobs.quantum.setup import (
    evaluation_batch,
    evaluation_runner,
    quantum_setup,
    training_runner,
)
from qorch.jobs.spec import InferSpec, TrainSpec

Outcome = TrainOutcome | InferOutcome | CompareOutcome


def data_source(spec: TrainSpec, base: DataSource) -> DataSource:
    """The spec's own data folder, when it names one, before the settings'."""
    if spec.data_dir:
        return dataclasses.replace(base, data_dir=Path(spec.data_dir))
    return base


def load_data(spec: TrainSpec, base: DataSource) -> TensorData:
    return load_tensors(spec.dataset, train_size=spec.train_size, test_size=spec.test_size,
                        source=data_source(spec, base), classes=spec.classes)


def run_spec(spec: JobSpec, ctx: JobContext, backends: Sequence[Backend], source: DataSource,
             source_weights: bytes | None = None,
             calibrations: Sequence[Mapping[str, Any] | None] = ()) -> Outcome:
    """Run a job's loop; `backends` are the resolved, validated backends of a quantum model
    (one per compared backend for a comparison, else at most one)."""
    if isinstance(spec, CompareSpec):
        return _compare(spec, ctx, backends, source, source_weights, calibrations)
    backend = backends[0] if backends else None
    model = spec.model if isinstance(spec, InferSpec) else spec
    ctx.set_phase(f"loading {model.dataset}")
    data = load_data(model, source)
    n_test = len(data.test_y)
    if backend is None:  # a classical model
        if isinstance(spec, InferSpec):
            return _infer(spec, data, ctx, None, evaluation_batch(None, n_test, spec.batch_size),
                          source_weights)
        return train(spec, data, ctx, None, evaluation_batch(None, n_test))
    setup = quantum_setup(model, backend.capabilities, backend.name)
    if isinstance(spec, InferSpec):
        batch = evaluation_batch(backend.capabilities, n_test, spec.batch_size)
        return _infer(spec, data, ctx, evaluation_runner(model, setup, ctx), batch,
                      source_weights)
    runner = training_runner(model, setup, backend, ctx)
    caps = None if setup.autograd else backend.capabilities
    ctx.set_phase(f"training {model.model} on {model.backend}")
    return train(spec, data, ctx, runner, evaluation_batch(caps, n_test))


def _compare(spec: CompareSpec, ctx: JobContext, backends: Sequence[Backend],
             source: DataSource, source_weights: bytes | None,
             calibrations: Sequence[Mapping[str, Any] | None]) -> CompareOutcome:
    if source_weights is None:
        raise JobError(f"job {spec.source_job} has no final parameters to compare")
    ctx.set_phase(f"loading {spec.model.dataset}")
    data = load_data(spec.model, source)
    runners = [evaluation_runner(model, quantum_setup(model, b.capabilities, b.name,
                                                      spec.shots), ctx)
               for model, b in zip(spec.models, backends, strict=True)]
    return compare(spec, data, source_weights, ctx, runners,
                   calibrations or [None] * len(backends))


def _infer(spec: InferSpec, data: TensorData, ctx: JobContext, runner: CircuitRunner | None,
           batch: int, source_weights: bytes | None) -> InferOutcome:
    if source_weights is None:
        raise JobError(f"job {spec.source_job} has no final parameters to evaluate")
    ctx.set_phase(f"evaluating {spec.model.model} on {spec.model.backend}")
    return infer(spec, data, source_weights, ctx, runner, batch)
