"""The quantum torch layer: a circuit template with trainable weights, evaluated batch-wise."""

from __future__ import annotations

import math

import torch
from torch import nn

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.simulator.engine import sample_expectations, simulate
from qorch.jobs.errors import SpecError
from qorch.jobs.quantum.shots import RemoteCircuit, ShotEvaluation
from qorch.jobs.spec import WEIGHT_INITS

SMALL_INIT_STD = 0.1


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


class QuantumLayer(nn.Module):
    """inputs [B, n_inputs] (rotation angles) → template outputs [B, n_outputs].

    Exact path: the batched statevector simulator, differentiated by autograd. With `shots`,
    the forward values carry sampling noise while gradients stay exact. With `remote`, every
    evaluation goes through the job's backend with parameter-shift (or SPSA) gradients.
    """

    def __init__(self, template: CircuitTemplate, init: str = "small",
                 shots: int | None = None, remote: RemoteCircuit | None = None,
                 input_scaling: bool = False) -> None:
        super().__init__()
        self.template = template
        self.shots = shots
        self.remote = remote
        self.weights = nn.Parameter(initial_weights(template, init))
        # Trainable per-input gains inside the encoding rotations, RY(s_i·x_i): lets a purely
        # quantum model weigh its features (the re-uploading classifiers' w·x encoding).
        self.input_scale = (nn.Parameter(torch.ones(template.n_inputs)) if input_scaling
                            else None)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.input_scale is not None:
            inputs = inputs * self.input_scale
        if self.remote is not None:
            with_gradient = torch.is_grad_enabled() and (
                inputs.requires_grad or self.weights.requires_grad)
            return ShotEvaluation.apply(inputs, self.weights, self.template, self.remote,
                                        with_gradient)
        if self.shots:
            return sample_expectations(self.template, inputs, self.weights, self.shots)
        return simulate(self.template, inputs, self.weights)

    def extra_repr(self) -> str:
        return self.template.summary()
