"""Models built by name from a spec, their parameter counts and summary."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from qorch.jobs.models.classical import LeNet5
from qorch.jobs.models.hybrid import QNN, HybridLeNet, PureQNN
from qorch.jobs.quantum.layer import QuantumLayer
from qorch.jobs.quantum.runners import CircuitRunner
from qorch.jobs.spec import TrainSpec


def build_model(spec: TrainSpec, runner: CircuitRunner | None = None) -> nn.Module:
    """The spec's model; its quantum layer (if any) evaluates through `runner` (default: the
    exact simulator)."""
    if spec.model == "cnn":
        assert spec.trunk is not None
        return LeNet5(spec.n_classes, spec.trunk)
    assert spec.init is not None
    # Models without a classical front end weigh their pooled inputs inside the encoding; the
    # purely quantum one starts undecided (every gain 0: every angle π/2).
    gain = {"qnn": 1.0, "pure-qnn": 0.0}.get(spec.model)
    quantum = QuantumLayer(spec.template(), init=spec.init, runner=runner, input_gain=gain)
    if spec.model == "hybrid-lenet":
        assert spec.trunk is not None and spec.head is not None
        return HybridLeNet(quantum, spec.n_classes, spec.trunk, spec.head)
    if spec.model == "qnn":
        assert spec.head is not None
        return QNN(quantum, spec.n_classes, spec.head)
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
    if spec.has_circuit:
        template = spec.template()
        summary["circuit"] = {
            "template": template.to_dict(), "hash": template.hash, "depth": template.depth(),
            "gates": template.gate_counts(), "features": template.n_features,
            "inputs": template.n_inputs,
            "weights": template.n_weights, "outputs": template.n_outputs,
            "drawing": template.draw(),
        }
    return summary
