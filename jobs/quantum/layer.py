"""The quantum torch layer: a circuit template with trainable weights, evaluated by a runner."""

from __future__ import annotations

import math

import torch
from torch import nn

from qorch.backends.circuits.template import CircuitTemplate
from qorch.jobs.errors import SpecError
from qorch.jobs.quantum.runners import AutogradRunner, CircuitRunner, exact_runner

SMALL_INIT_STD = 0.1
HALF_PI = math.pi / 2
WEIGHT_INITS = ("small", "uniform", "zeros")


def initial_weights(template: CircuitTemplate, init: str) -> torch.Tensor:
    """`uniform`: U(0, 2π) (the usual TorchLayer default); `small`: N(0, 0.1²), near identity,
    which keeps gradients from vanishing on deeper circuits; `zeros`: exactly the identity."""
    if init == "uniform":
        return torch.rand(template.n_weights) * 2 * math.pi
    if init == "small":
        return torch.randn(template.n_weights) * SMALL_INIT_STD
    if init == "zeros":
        return torch.zeros(template.n_weights)
    raise SpecError(f"unknown weight init {init!r}; accepted: {', '.join(WEIGHT_INITS)}")


def input_angles(template: CircuitTemplate, features: torch.Tensor) -> torch.Tensor:
    """The circuit's input angles [B, n_inputs] from features [B, n_features]: the features
    themselves, or, for the ZZ feature map, their scaled values and pair products."""
    slots = template.input_slots()
    if all(s.second is None and s.scale == 1.0 for s in slots):
        return features
    columns = [
        s.scale * features[:, s.first] if s.second is None
        else s.scale * (math.pi - features[:, s.first]) * (math.pi - features[:, s.second])
        for s in slots
    ]
    return torch.stack(columns, dim=1)


class QuantumLayer(nn.Module):
    """features [B, n_features] (rotation angles) → template outputs [B, n_outputs].

    How the circuit is evaluated is the runner's business: autograd through a differentiable
    backend (the exact path), or circuit batches through the job's backend with
    parameter-shift / SPSA gradients (the shot path). Built without one, the layer runs on the
    exact in-house simulator.
    """

    def __init__(self, template: CircuitTemplate, init: str = "small",
                 runner: CircuitRunner | None = None,
                 input_gain: float | None = None) -> None:
        super().__init__()
        self.template = template
        self.runner: CircuitRunner = runner or exact_runner()
        self.weights = nn.Parameter(initial_weights(template, init))
        # Trainable per-input gains around π/2, RY(π/2 + g_i·(x_i − π/2)): lets a purely quantum
        # model weigh its features (the re-uploading classifiers' w·x encoding); started at 0,
        # every angle is π/2 and a fresh classifier is undecided rather than confidently wrong.
        self.input_scale = (nn.Parameter(torch.full((template.n_features,), input_gain))
                            if input_gain is not None else None)

    def prepare(self, features: torch.Tensor) -> torch.Tensor:
        """The circuit's input angles: the model's angles through the learnt gains, if any,
        then expanded to the circuit's inputs."""
        if self.input_scale is not None:
            features = HALF_PI + self.input_scale * (features - HALF_PI)
        return input_angles(self.template, features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.runner(self.template, self.prepare(features), self.weights)

    def extra_repr(self) -> str:
        kind = "autograd" if isinstance(self.runner, AutogradRunner) else "circuit batches"
        return f"{self.template.summary()}; {kind}"
