"""The kinds of job, their spec classes, and a stored spec back into its class."""

from __future__ import annotations

from typing import Any

from qorch.jobs.compare.spec import CompareSpec
from qorch.jobs.errors import SpecError
from qorch.jobs.spec import InferSpec, TrainSpec

JobSpec = TrainSpec | InferSpec | CompareSpec
KINDS: dict[str, type[TrainSpec] | type[InferSpec] | type[CompareSpec]] = {
    "train": TrainSpec, "infer": InferSpec, "compare": CompareSpec}


def parse_spec(kind: str, data: dict[str, Any]) -> JobSpec:
    """A stored spec back into its class (validated again: the store is outside our hands)."""
    if kind not in KINDS:
        raise SpecError(f"unknown job kind {kind!r}; accepted: {', '.join(KINDS)}")
    return KINDS[kind].from_dict(data)
