"""Entry point from the orchestrator into the jobs layer: a spec in, an outcome out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from qorch.jobs.context import JobContext
from qorch.jobs.data.tensors import TensorData, load_tensors
from qorch.jobs.errors import JobError, SpecError
from qorch.jobs.loops.inference import InferOutcome, infer
from qorch.jobs.loops.training import TrainOutcome, train
from qorch.jobs.quantum.shots import RemoteCircuit
from qorch.jobs.spec import InferSpec, TrainSpec

JOB_KINDS = ("train", "infer")


def parse_spec(kind: str, spec_data: dict[str, Any]) -> TrainSpec | InferSpec:
    if kind == "train":
        return TrainSpec.from_dict(spec_data)
    if kind == "infer":
        return InferSpec.from_dict(spec_data)
    raise SpecError(f"unknown job kind {kind!r}; accepted: {', '.join(JOB_KINDS)}")


def _data(spec: TrainSpec, cache_dir: Path) -> TensorData:
    return load_tensors(
        spec.dataset,
        train_size=spec.train_size,
        test_size=spec.test_size,
        data_dir=Path(spec.data_dir) if spec.data_dir else None,
        cache_dir=cache_dir,
        classes=spec.classes,
    )


def run_spec(spec: TrainSpec | InferSpec, ctx: JobContext, cache_dir: Path,
             source_weights: bytes | None = None) -> TrainOutcome | InferOutcome:
    model_spec = spec.model_spec()
    if spec.threads:
        torch.set_num_threads(spec.threads)
    ctx.set_phase(f"loading {model_spec.dataset}")
    data = _data(model_spec, cache_dir)
    remote = None
    if model_spec.uses_remote_backend:
        assert model_spec.shots is not None  # the spec sets a default for shot backends
        remote = RemoteCircuit(ctx, model_spec.shots, model_spec.gradient,
                               model_spec.spsa_samples, model_spec.seed)
    if isinstance(spec, InferSpec):
        if source_weights is None:
            raise JobError(f"job {spec.source_job} has no final parameters to evaluate")
        ctx.set_phase(f"evaluating {model_spec.model} on {spec.backend}")
        return infer(spec, data, source_weights, ctx, remote)
    ctx.set_phase(f"training {spec.model} on {spec.backend}")
    return train(spec, data, ctx, remote)
