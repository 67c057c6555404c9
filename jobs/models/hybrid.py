"""The hybrid and quantum models: LeNet features or a pooled image through a quantum layer."""

from __future__ import annotations

import math

import torch
from torch import nn

from qorch.jobs.models.classical import LeNetFeatures
from qorch.jobs.quantum.layer import QuantumLayer

CROP = 4  # 28×28 images, digits normalised into the central 20×20 box
INPUT_GAIN = 3.0  # spreads pooled, standardised intensities over most of (0, π)


def to_angles(features: torch.Tensor) -> torch.Tensor:
    """Angles in (0, π), centred on π/2: there d⟨Z⟩/dθ = −sin θ is largest, whereas angles
    near 0 (what a fresh Linear outputs) would start training with vanishing gradients."""
    return (math.pi / 2) * (1 + torch.tanh(features))


class HybridLeNet(nn.Module):
    """LeNet features → Linear(n_qubits) → quantum layer → Linear(n_classes)."""

    def __init__(self, quantum: QuantumLayer, n_classes: int, trunk: str = "lenet5") -> None:
        super().__init__()
        self.features = LeNetFeatures(trunk)
        self.to_qubits = nn.Linear(self.features.out_features, quantum.template.n_inputs)
        self.quantum = quantum
        self.head = nn.Linear(quantum.template.n_outputs, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        angles = to_angles(self.to_qubits(self.features(images)))
        return self.head(self.quantum(angles))


def pooling_grid(n_features: int) -> tuple[int, int]:
    """The most square rows × columns grid with exactly n_features cells."""
    rows = max(r for r in range(1, math.isqrt(n_features) + 1) if n_features % r == 0)
    return rows, n_features // rows


def pooled_angles(images: torch.Tensor, n_features: int) -> torch.Tensor:
    """Average-pool the central 20×20 box (where MNIST-style digits are drawn) to
    `n_features` cells (row-major) and map them to angles in (0, π)."""
    centre = images[..., CROP:-CROP, CROP:-CROP]
    pooled = nn.functional.adaptive_avg_pool2d(centre, pooling_grid(n_features)).flatten(1)
    return math.pi * torch.sigmoid(INPUT_GAIN * pooled)


class QNN(nn.Module):
    """Pooled image → quantum layers (re-uploading encodings re-read it) → linear readout."""

    def __init__(self, quantum: QuantumLayer, n_classes: int) -> None:
        super().__init__()
        self.quantum = quantum
        self.head = nn.Linear(quantum.template.n_outputs, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.quantum(pooled_angles(images, self.quantum.template.n_inputs)))


class PureQNN(nn.Module):
    """Only quantum layers: P(second class) = (1 − ⟨Z₀⟩) / 2, no classical parameters."""

    def __init__(self, quantum: QuantumLayer) -> None:
        super().__init__()
        self.quantum = quantum

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        z0 = self.quantum(pooled_angles(images, self.quantum.template.n_inputs))[:, 0]
        p1 = ((1 - z0) / 2).clamp(1e-6, 1 - 1e-6)
        return torch.stack([torch.log1p(-p1), torch.log(p1)], dim=1)  # log-probabilities
