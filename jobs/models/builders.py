"""Model builders selected by name: the classical LeNet-5 baseline and the hybrid models."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from qorch.jobs.errors import SpecError
from qorch.jobs.quantum.layer import QuantumLayer
from qorch.jobs.quantum.shots import RemoteCircuit
from qorch.jobs.spec import MODEL_NAMES, TrainSpec


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


def build_model(spec: TrainSpec, remote: RemoteCircuit | None = None) -> nn.Module:
    if spec.model == "cnn":
        return LeNet5(spec.n_classes, spec.trunk)
    if spec.model not in MODEL_NAMES:
        raise SpecError(f"unknown model {spec.model!r}; accepted: {', '.join(MODEL_NAMES)}")
    # Models without a classical front end weigh their pooled inputs inside the encoding.
    quantum = QuantumLayer(spec.template(), init=spec.init, shots=spec.shots, remote=remote,
                           input_scaling=spec.model in ("qnn", "pure-qnn"))
    if spec.model == "hybrid-lenet":
        return HybridLeNet(quantum, spec.n_classes, spec.trunk)
    if spec.model == "qnn":
        return QNN(quantum, spec.n_classes)
    if "z" not in spec.observables[:1]:
        raise SpecError("pure-qnn reads ⟨Z⟩ of qubit 0: its observables must start with z")
    return PureQNN(quantum)


def parameter_counts(model: nn.Module) -> dict[str, int]:
    quantum = sum(p.numel() for m in model.modules() if isinstance(m, QuantumLayer)
                  for p in m.parameters())
    total = sum(p.numel() for p in model.parameters())
    return {"classical": total - quantum, "quantum": quantum}


def summarize(spec: TrainSpec) -> dict[str, Any]:
    """Parameter counts and the circuit's shape, for `qorch status`."""
    torch.manual_seed(spec.seed)
    summary: dict[str, Any] = {"parameters": parameter_counts(build_model(spec))}
    if spec.model != "cnn":
        template = spec.template()
        summary["circuit"] = {
            "template": template.to_dict(), "hash": template.hash, "depth": template.depth(),
            "gates": template.gate_counts(), "inputs": template.n_inputs,
            "weights": template.n_weights, "outputs": template.n_outputs,
            "drawing": template.draw(),
        }
    return summary
