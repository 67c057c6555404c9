"""How a quantum layer evaluates its circuit: autograd through a differentiable backend, or
circuit batches through the job context with parameter-shift / SPSA gradients.

A shot-path training step sends ONE circuit batch holding every row the step needs — the
values and, when gradients are wanted, the shifted rows — and the backward pass only combines
outputs already received: one provider job per step. Every draw of shots is seeded from
(job seed, step, purpose, batch), so a resumed job draws exactly what it drew before.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Backend, CircuitBatch
from qorch.jobs.context import JobContext
from qorch.jobs.quantum.gradients import fold, parameter_shift_plan, spsa_plan


def batch_seed(seed: int, step: int, purpose: str, index: int) -> int:
    """A seed for one draw, a function of where the loop is (and nothing else)."""
    words = [seed, step, zlib.crc32(purpose.encode()), index]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


@dataclass
class Position:
    """Where the loop is, so each circuit batch gets a stable name (and seed)."""

    step: int = 0
    purpose: str = "train"
    index: int = 0


class CircuitRunner(Protocol):
    position: Position

    def __call__(self, template: CircuitTemplate, inputs: torch.Tensor,
                 weights: torch.Tensor) -> torch.Tensor: ...

    def at(self, step: int, purpose: str, index: int = 0) -> None: ...


class AutogradRunner:
    """A differentiable backend's evaluate(): exact outputs, or shot-sampled values that carry
    the exact gradients."""

    def __init__(self, backend: Backend, shots: int | None = None, seed: int = 0) -> None:
        self.backend, self.shots, self.seed = backend, shots, seed
        self.position = Position()

    def at(self, step: int, purpose: str, index: int = 0) -> None:
        self.position = Position(step, purpose, index)

    def __call__(self, template: CircuitTemplate, inputs: torch.Tensor,
                 weights: torch.Tensor) -> torch.Tensor:
        generator = None
        if self.shots is not None:
            where = self.position
            generator = torch.Generator(device=inputs.device).manual_seed(
                batch_seed(self.seed, where.step, where.purpose, where.index))
            where.index += 1
        return self.backend.evaluate(template, inputs, weights, self.shots, generator)


def exact_runner() -> AutogradRunner:
    """The in-house exact simulator, for models built outside a job (tests, summaries)."""
    from qorch.backends.simulator.backend import StatevectorBackend

    return AutogradRunner(StatevectorBackend())


class ShotRunner:
    """Circuit batches through `ctx.execute` (the ledger and the backend), tagged with the loop's
    position; gradients by parameter-shift or SPSA from rows sent with the values."""

    def __init__(self, ctx: JobContext, shots: int | None, gradient: str = "parameter-shift",
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
        where = self.position
        seed = batch_seed(self.seed, where.step, where.purpose, where.index)
        batch = CircuitBatch(template, rows, self.shots, seed)
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

    def __call__(self, template: CircuitTemplate, inputs: torch.Tensor,
                 weights: torch.Tensor) -> torch.Tensor:
        # Decided here from the grad mode: inside forward() autograd has switched it off, and
        # under torch.no_grad() no shifted rows must be paid for.
        with_gradient = torch.is_grad_enabled() and (inputs.requires_grad or weights.requires_grad)
        out: torch.Tensor = ShotEvaluation.apply(inputs, weights, template, self, with_gradient)
        return out


class ShotEvaluation(torch.autograd.Function):
    """Values from the backend; backward = vector-Jacobian product with the shifted rows."""

    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor, weights: torch.Tensor,
                template: CircuitTemplate, runner: ShotRunner,
                with_gradient: bool) -> torch.Tensor:
        batch = inputs.shape[0]
        params = np.concatenate(
            [inputs.detach().double().cpu().numpy(),
             np.broadcast_to(weights.detach().double().cpu().numpy(), (batch, weights.numel()))],
            axis=1,
        )
        ctx.n_inputs = inputs.shape[1]
        if with_gradient:
            values, jacobian = runner.values_and_jacobian(template, params)
            ctx.save_for_backward(torch.from_numpy(jacobian))
        else:
            values = runner.run(template, params)
        return torch.from_numpy(np.ascontiguousarray(values)).to(inputs.dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        (jacobian,) = ctx.saved_tensors
        grad = torch.einsum("bo,bop->bp", grad_output.double(), jacobian)
        grad_inputs = grad[:, : ctx.n_inputs].to(grad_output.dtype)
        grad_weights = grad[:, ctx.n_inputs :].sum(dim=0).to(grad_output.dtype)
        return grad_inputs, grad_weights, None, None, None
