"""Model builders selected by name: the classical LeNet-5 baseline (quantum models join it)."""

from __future__ import annotations

import torch
from torch import nn

from jobs.errors import SpecError
from jobs.spec import MODEL_NAMES, TrainSpec


class LeNetFeatures(nn.Module):
    """LeNet-5 convolutional trunk: 1×28×28 image → 84 features."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
        )
        self.out_features = 84

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


class LeNet5(nn.Module):
    """The classical baseline: LeNet-5 with a 10-way linear readout."""

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.features = LeNetFeatures()
        self.head = nn.Linear(self.features.out_features, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def build_model(spec: TrainSpec) -> nn.Module:
    if spec.model == "cnn":
        return LeNet5()
    raise SpecError(f"unknown model {spec.model!r}; accepted: {', '.join(MODEL_NAMES)}")


def parameter_counts(model: nn.Module) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    return {"classical": total, "quantum": 0}
