"""The hybrid and quantum models: LeNet features or a pooled image through a quantum layer."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from qorch.jobs.models.classical import LeNetFeatures
from qorch.jobs.quantum.layer import QuantumLayer

CROP = 4  # 28×28 images, digits normalised into the central 20×20 box
INPUT_GAIN = 3.0  # spreads pooled, standardised intensities over most of (0, π)
MLP_WIDTH = 64


def readout_head(n_outputs: int, n_classes: int, head: str) -> nn.Module:
    """The classical readout of the circuit's outputs: one linear map, or a small MLP."""
    if head == "linear":
        return nn.Linear(n_outputs, n_classes)
    return nn.Sequential(nn.Linear(n_outputs, MLP_WIDTH), nn.ReLU(),
                         nn.Linear(MLP_WIDTH, n_classes))


def to_angles(features: torch.Tensor) -> torch.Tensor:
    """Angles in (0, π), centred on π/2: there d⟨Z⟩/dθ = −sin θ is largest, whereas angles
    near 0 (what a fresh Linear outputs) would start training with vanishing gradients."""
    return (math.pi / 2) * (1 + torch.tanh(features))


class FeatureNorm(nn.BatchNorm1d):
    """Batch-normalised features before `to_angles`: the trunk's outputs otherwise drift into
    tanh's flat tails, where every angle sits near 0 or π, the circuit's gradients vanish and
    training collapses to one class (seen with 4-qubit models at learning rates ≥ 0.01)."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.training and features.shape[0] == 1:
            # A one-image batch (an epoch's remainder) has no batch statistics: use the running
            # ones, as evaluation does.
            return F.batch_norm(features, self.running_mean, self.running_var, self.weight,
                                self.bias, False, 0.0, self.eps)
        return super().forward(features)


class QuantumModel(nn.Module):
    """A model as angles → quantum layer → readout, so the quantum part can also be evaluated
    on its own (comparisons run it on several backends between the same two ends)."""

    quantum: QuantumLayer

    def angles(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def readout(self, outputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.readout(self.quantum(self.angles(images)))


class HybridLeNet(QuantumModel):
    """LeNet features → Linear(n_qubits) → batch norm → quantum layer → readout head."""

    def __init__(self, quantum: QuantumLayer, n_classes: int, trunk: str = "lenet5",
                 head: str = "linear") -> None:
        super().__init__()
        self.features = LeNetFeatures(trunk)
        self.to_qubits = nn.Linear(self.features.out_features, quantum.template.n_features)
        # The ZZ feature map multiplies pairs of features, and trains better on them raw
        # (qiskit-hybrid: 99.4 % raw, 97.3 % normalised, 3 seeds on 10,000 images).
        self.norm = (nn.Identity() if quantum.template.encoding == "zz-feature"
                     else FeatureNorm(quantum.template.n_features))
        self.quantum = quantum
        self.head = readout_head(quantum.template.n_outputs, n_classes, head)

    def angles(self, images: torch.Tensor) -> torch.Tensor:
        return to_angles(self.norm(self.to_qubits(self.features(images))))

    def readout(self, outputs: torch.Tensor) -> torch.Tensor:
        return self.head(outputs)


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


class QNN(QuantumModel):
    """Pooled image → quantum layers (re-uploading encodings re-read it) → readout head."""

    def __init__(self, quantum: QuantumLayer, n_classes: int, head: str = "linear") -> None:
        super().__init__()
        self.quantum = quantum
        self.head = readout_head(quantum.template.n_outputs, n_classes, head)

    def angles(self, images: torch.Tensor) -> torch.Tensor:
        return pooled_angles(images, self.quantum.template.n_features)

    def readout(self, outputs: torch.Tensor) -> torch.Tensor:
        return self.head(outputs)


class PureQNN(QuantumModel):
    """Only quantum layers: P(second class) = (1 − ⟨Z₀⟩) / 2, no classical parameters."""

    def __init__(self, quantum: QuantumLayer) -> None:
        super().__init__()
        self.quantum = quantum

    def angles(self, images: torch.Tensor) -> torch.Tensor:
        return pooled_angles(images, self.quantum.template.n_features)

    def readout(self, outputs: torch.Tensor) -> torch.Tensor:
        p1 = ((1 - outputs[:, 0]) / 2).clamp(1e-6, 1 - 1e-6)
        return torch.stack([torch.log1p(-p1), torch.log(p1)], dim=1)  # log-probabilities
