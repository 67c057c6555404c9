"""Shot-based evaluation of a quantum layer through the job context (and so the backends).

The forward pass sends one circuit batch holding every row the step needs — the values and,
when gradients are wanted, the parameter-shift (or SPSA) rows — and the backward pass only
combines outputs already received: one provider submission per training step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.jobs.context import JobContext
from qorch.jobs.quantum.gradients import fold, parameter_shift_plan, spsa_plan


@dataclass
class Position:
    """Where the loop is, so each submission gets a stable ledger key (for re-attaching)."""

    step: int = 0
    purpose: str = "train"
    index: int = 0


class RemoteCircuit:
    """Runs circuit batches through `ctx.execute`, tagged with the loop's position."""

    def __init__(self, ctx: JobContext, shots: int, gradient: str = "parameter-shift",
                 spsa_samples: int = 1, seed: int = 0) -> None:
        self.ctx = ctx
        self.shots = shots
        self.gradient = gradient
        self.spsa_samples = spsa_samples
        self.seed = seed
        self.position = Position()

    def at(self, step: int, purpose: str, index: int = 0) -> None:
        self.position = Position(step, purpose, index)

    def run(self, template: CircuitTemplate, rows: np.ndarray) -> np.ndarray:
        batch = CircuitBatch(template, rows, self.shots)
        where = self.position
        outputs = self.ctx.execute(batch, where.step, where.purpose, where.index)
        where.index += 1
        return outputs

    def values_and_jacobian(self, template: CircuitTemplate, params: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
        if self.gradient == "spsa":
            # Directions are a function of (seed, step, batch): a resumed step draws the same.
            where = self.position
            rng = np.random.default_rng([self.seed, where.step, where.index])
            plan = spsa_plan(params, self.spsa_samples, rng)
        else:
            plan = parameter_shift_plan(template, params)
        return fold(plan, self.run(template, plan.rows))


class ShotEvaluation(torch.autograd.Function):
    """Values from the backend; backward = vector-Jacobian product with the shifted rows.

    `with_gradient` is decided by the caller from the grad mode: inside `forward` autograd has
    already switched it off, and under `torch.no_grad()` no shifted rows must be paid for.
    """

    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor, weights: torch.Tensor,
                template: CircuitTemplate, remote: RemoteCircuit,
                with_gradient: bool) -> torch.Tensor:
        batch = inputs.shape[0]
        params = np.concatenate(
            [inputs.detach().double().cpu().numpy(),
             np.broadcast_to(weights.detach().double().cpu().numpy(), (batch, weights.numel()))],
            axis=1,
        )
        ctx.n_inputs = inputs.shape[1]
        if with_gradient:
            values, jacobian = remote.values_and_jacobian(template, params)
            ctx.save_for_backward(torch.from_numpy(jacobian))
        else:
            values = remote.run(template, params)
        return torch.from_numpy(np.ascontiguousarray(values)).to(inputs.dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        (jacobian,) = ctx.saved_tensors
        grad = torch.einsum("bo,bop->bp", grad_output.double(), jacobian)
        grad_inputs = grad[:, : ctx.n_inputs].to(grad_output.dtype)
        grad_weights = grad[:, ctx.n_inputs :].sum(dim=0).to(grad_output.dtype)
        return grad_inputs, grad_weights, None, None, None
