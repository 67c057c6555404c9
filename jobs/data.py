"""Turns a spec's dataset choice into normalised in-memory tensors (train and test subsets)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from jobs.datasets import dataset_info, load_split, normalise
from jobs.errors import DatasetError


@dataclass(frozen=True)
class TensorData:
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    class_names: tuple[str, ...]


def _subset(images: np.ndarray, labels: np.ndarray, size: int | None, split: str, name: str
            ) -> tuple[np.ndarray, np.ndarray]:
    if size is None:
        return images, labels
    if size > len(labels):
        raise DatasetError(
            f"{split} size {size} is beyond the {len(labels)} {split} images of {name}; "
            f"choose at most {len(labels)}"
        )
    # The first N images: a fixed, documented subset that every run and peer can reproduce.
    return images[:size], labels[:size]


def load_tensors(
    dataset: str,
    *,
    train_size: int | None,
    test_size: int | None,
    data_dir: Path | None,
    cache_dir: Path,
) -> TensorData:
    info = dataset_info(dataset)
    train = load_split(dataset, "train", data_dir=data_dir, cache_dir=cache_dir)
    test = load_split(dataset, "test", data_dir=data_dir, cache_dir=cache_dir)
    train_images, train_labels = _subset(train.images, train.labels, train_size, "train", dataset)
    test_images, test_labels = _subset(test.images, test.labels, test_size, "test", dataset)
    return TensorData(
        train_x=torch.from_numpy(normalise(info, train_images)),
        train_y=torch.from_numpy(train_labels),
        test_x=torch.from_numpy(normalise(info, test_images)),
        test_y=torch.from_numpy(test_labels),
        class_names=info.classes,
    )
