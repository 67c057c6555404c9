"""Entry point from the orchestrator into the jobs layer: a spec dict in, an outcome out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from jobs.context import JobContext
from jobs.data import load_tensors
from jobs.errors import SpecError
from jobs.spec import TrainSpec
from jobs.training import TrainOutcome, train


def run_spec(kind: str, spec_data: dict[str, Any], ctx: JobContext, cache_dir: Path
             ) -> TrainOutcome:
    if kind != "train":
        raise SpecError(f"unknown job kind {kind!r}; accepted: train")
    spec = TrainSpec.from_dict(spec_data)
    if spec.threads:
        torch.set_num_threads(spec.threads)
    ctx.set_phase(f"loading {spec.dataset}")
    data = load_tensors(
        spec.dataset,
        train_size=spec.train_size,
        test_size=spec.test_size,
        data_dir=Path(spec.data_dir) if spec.data_dir else None,
        cache_dir=cache_dir,
    )
    ctx.set_phase(f"training {spec.model} on {spec.backend}")
    return train(spec, data, ctx)
