"""Frozen, validated job specifications: what to train or evaluate, and where."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from jobs.datasets import DATASETS, SPLIT_SIZES
from jobs.errors import SpecError

MODEL_NAMES = ("cnn",)
BACKEND_NAMES = ("statevector",)
MAX_EPOCHS = 1000
MAX_BATCH = 65_536


def _choice(field: str, value: str, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        raise SpecError(f"unknown {field} {value!r}; accepted: {', '.join(accepted)}")


def _positive(field: str, value: float, upper: float | None = None) -> None:
    if not value > 0 or (upper is not None and value > upper):
        bound = f" and at most {upper:g}" if upper is not None else ""
        raise SpecError(f"{field} must be greater than 0{bound}; got {value!r}")


@dataclass(frozen=True)
class TrainSpec:
    """Everything a training job needs; validated on construction."""

    dataset: str = "mnist"
    model: str = "cnn"
    epochs: int = 1
    batch_size: int = 64
    lr: float = 1e-3
    train_size: int | None = None
    test_size: int | None = None
    seed: int = 0
    backend: str = "statevector"
    checkpoint_every: int = 0
    threads: int | None = None
    data_dir: str | None = None

    def __post_init__(self) -> None:
        _choice("dataset", self.dataset, tuple(DATASETS))
        _choice("model", self.model, MODEL_NAMES)
        _choice("backend", self.backend, BACKEND_NAMES)
        _positive("epochs", self.epochs, MAX_EPOCHS)
        _positive("batch size", self.batch_size, MAX_BATCH)
        _positive("learning rate", self.lr, 10.0)
        for name, size, split in (("train size", self.train_size, "train"),
                                  ("test size", self.test_size, "test")):
            if size is not None:
                _positive(name, size, SPLIT_SIZES[split])
        if self.checkpoint_every < 0:
            raise SpecError(f"checkpoint interval must be 0 (epochs only) or more; got "
                            f"{self.checkpoint_every}")
        if self.threads is not None:
            _positive("threads", self.threads, 1024)
        if self.seed < 0:
            raise SpecError(f"seed must be 0 or more; got {self.seed}")

    @property
    def kind(self) -> str:
        return "train"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown spec fields {unknown}; accepted: {sorted(known)}")
        return cls(**data)
