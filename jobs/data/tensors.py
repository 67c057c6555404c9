"""Turns a spec's dataset choice into normalised in-memory tensors (train and test subsets)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from qorch.jobs.data.datasets import DataSource, dataset_info, load_split, normalise
from qorch.jobs.errors import DatasetError


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


def _only(images: np.ndarray, labels: np.ndarray, classes: tuple[int, ...] | None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Keep the chosen classes, relabelled 0..k-1 in the order given."""
    if classes is None:
        return images, labels
    keep = np.isin(labels, classes)
    relabel = np.full(10, -1, dtype=np.int64)
    relabel[list(classes)] = np.arange(len(classes))
    return images[keep], relabel[labels[keep]]


def load_tensors(
    dataset: str,
    *,
    train_size: int | None,
    test_size: int | None,
    source: DataSource,
    classes: tuple[int, ...] | None = None,
) -> TensorData:
    info = dataset_info(dataset)
    train = load_split(dataset, "train", source)
    test = load_split(dataset, "test", source)
    train_images, train_labels = _subset(*_only(train.images, train.labels, classes),
                                         train_size, "train", dataset)
    test_images, test_labels = _subset(*_only(test.images, test.labels, classes),
                                       test_size, "test", dataset)
    return TensorData(
        train_x=torch.from_numpy(normalise(info, train_images)),
        train_y=torch.from_numpy(train_labels),
        test_x=torch.from_numpy(normalise(info, test_images)),
        test_y=torch.from_numpy(test_labels),
        class_names=tuple(info.classes[c] for c in classes) if classes else info.classes,
    )


def check_sizes(
    dataset: str,
    *,
    train_size: int | None,
    test_size: int | None,
    classes: tuple[int, ...] | None,
    source: DataSource,
) -> tuple[int, int]:
    """Refuse subsets larger than the data (reads only the label files); returns the sizes used."""
    used = []
    for split, size in (("train", train_size), ("test", test_size)):
        labels = load_split(dataset, split, source, labels_only=True).labels
        available = int(np.isin(labels, classes).sum()) if classes else len(labels)
        if size is not None and size > available:
            which = f" of classes {list(classes)}" if classes else ""
            raise DatasetError(
                f"{split} size {size} is beyond the {available} {split} images{which} of "
                f"{dataset}; choose at most {available}"
            )
        used.append(size or available)
    return used[0], used[1]
