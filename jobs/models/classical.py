"""The classical parts: LeNet's convolutional trunk and the LeNet-5 baseline."""

from __future__ import annotations

import torch
from torch import nn


class LeNetFeatures(nn.Module):
    """LeNet convolutional trunk: 1×28×28 image → features.

    `lenet5`: LeCun's LeNet-5 (6/16 channels, 120/84 units → 84 features), the seeds' trunk.
    `lenet-wide`: the wider LeNet of Caffe's MNIST example (20/50 channels → 500 features),
    about 5× the compute; it is what lifts Fashion-MNIST past 90 % in 5 epochs.
    """

    def __init__(self, trunk: str = "lenet5") -> None:
        super().__init__()
        if trunk == "lenet-wide":
            self.net = nn.Sequential(
                nn.Conv2d(1, 20, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(20, 50, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(50 * 4 * 4, 500), nn.ReLU(),
            )
            self.out_features = 500
            return
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
    """The classical baseline: the LeNet trunk with a linear readout."""

    def __init__(self, n_classes: int = 10, trunk: str = "lenet5") -> None:
        super().__init__()
        self.features = LeNetFeatures(trunk)
        self.head = nn.Linear(self.features.out_features, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))
