"""Gradient rows for shot-based backends: parameter-shift (exact in expectation) and SPSA.

Each training step sends ONE circuit batch: for every sample the unshifted row plus the
shifted rows its gradient needs. A parameter that drives R gates (an input re-uploaded in R
layers) makes f a trigonometric polynomial of degree R in it, so it needs the general
equidistant shift rule with 2R shifts (Wierichs et al. 2022); R = 1 is the familiar ±π/2 rule.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate

SPSA_EPSILON = 0.1


@dataclass(frozen=True)
class ShiftRule:
    """For parameter `index` (inputs first, then weights): f'(θ) = Σ coeffs·f(θ + shifts)."""

    index: int
    shifts: np.ndarray
    coeffs: np.ndarray


def equidistant_rule(index: int, degree: int) -> ShiftRule:
    mu = np.arange(1, 2 * degree + 1)
    shifts = (2 * mu - 1) * math.pi / (2 * degree)
    coeffs = (-1.0) ** (mu - 1) / (4 * degree * np.sin(shifts / 2) ** 2)
    return ShiftRule(index, shifts, coeffs)


def shift_rules(template: CircuitTemplate) -> list[ShiftRule]:
    """One rule per parameter, from how many gates each parameter drives."""
    uses = Counter(
        gate.param[1] if gate.param[0] == "x" else template.n_inputs + gate.param[1]
        for gate in template.operations()
        if gate.param is not None
    )
    width = template.n_inputs + template.n_weights
    return [equidistant_rule(p, uses[p]) for p in range(width) if uses[p] > 0]


def rows_per_sample(template: CircuitTemplate, method: str, spsa_samples: int = 1) -> int:
    if method == "spsa":
        return 1 + 2 * spsa_samples
    return 1 + sum(len(rule.shifts) for rule in shift_rules(template))


@dataclass(frozen=True)
class GradientPlan:
    """Rows to evaluate, and how to fold their outputs into values and a Jacobian."""

    rows: np.ndarray  # [B * per_sample, P]
    per_sample: int
    combine: np.ndarray  # [per_sample - 1, P]: jacobian = combine.T @ outputs of shifted rows


def parameter_shift_plan(template: CircuitTemplate, params: np.ndarray) -> GradientPlan:
    """params [B, P] → rows [B·(1 + Σ 2R_p), P], sample-major: base row, then its shifts."""
    rules = shift_rules(template)
    n_shift = sum(len(r.shifts) for r in rules)
    width = params.shape[1]
    offsets = np.zeros((1 + n_shift, width))
    combine = np.zeros((n_shift, width))
    row = 0
    for rule in rules:
        for shift, coeff in zip(rule.shifts, rule.coeffs, strict=True):
            offsets[1 + row, rule.index] = shift
            combine[row, rule.index] = coeff
            row += 1
    rows = (params[:, None, :] + offsets[None, :, :]).reshape(-1, width)
    return GradientPlan(rows=rows, per_sample=1 + n_shift, combine=combine)


def spsa_plan(params: np.ndarray, samples: int, rng: np.random.Generator) -> GradientPlan:
    """Simultaneous perturbation: 2 rows per random ±1 direction, whatever the parameter count.

    Directions differ per sample, so `combine` is [B, 2·samples, P] here.
    """
    batch, width = params.shape
    directions = rng.choice([-1.0, 1.0], size=(batch, samples, width))
    shifted = np.concatenate(
        [params[:, None, :], params[:, None, :] + SPSA_EPSILON * directions,
         params[:, None, :] - SPSA_EPSILON * directions], axis=1)
    combine = np.concatenate([directions, -directions], axis=1) / (2 * SPSA_EPSILON * samples)
    return GradientPlan(rows=shifted.reshape(-1, width), per_sample=1 + 2 * samples,
                        combine=combine)


def fold(plan: GradientPlan, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """outputs [B·per_sample, O] → values [B, O] and Jacobian [B, O, P]."""
    per_sample = outputs.reshape(-1, plan.per_sample, outputs.shape[1])
    values, shifted = per_sample[:, 0, :], per_sample[:, 1:, :]
    if plan.combine.ndim == 2:
        jacobian = np.einsum("bso,sp->bop", shifted, plan.combine)
    else:
        jacobian = np.einsum("bso,bsp->bop", shifted, plan.combine)
    return values, jacobian
