"""Shared pieces of the backend tests: templates, parameter rows, exact outputs, standard errors."""

from __future__ import annotations

import numpy as np
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import CircuitBatch
from qorch.backends.simulator.engine import simulate

# Small but varied: every encoding family, rotation set, entangler and observable appears.
TEMPLATES = (
    CircuitTemplate(3, 2, "angle-ry", "ry", "cnot-ring", ("z", "zz", "probs")),
    CircuitTemplate(4, 1, "reupload-rx", "rot", "cz-ring", ("z",)),
    CircuitTemplate(2, 2, "angle-rz", "ryrz", "cnot-chain", ("zz", "probs")),
    # The recipes' extensions: ZZ feature map, ranged entangler, a final rotation layer.
    CircuitTemplate(3, 2, "zz-feature", "rot", "strong", ("z", "zz"), final_rotations="ry"),
)


def rows(template: CircuitTemplate, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-np.pi, np.pi, (n, template.n_inputs + template.n_weights))


def batch(template: CircuitTemplate, n: int, shots: int | None, seed: int = 0) -> CircuitBatch:
    return CircuitBatch(template, rows(template, n, seed), shots)


def exact(b: CircuitBatch) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(b.inputs))
    w = torch.from_numpy(np.ascontiguousarray(b.weights))
    return simulate(b.template, x, w).detach().numpy()


def standard_errors(template: CircuitTemplate, values: np.ndarray, shots: int) -> np.ndarray:
    """Per-output shot-noise standard error around exact values (±1 averages, frequencies)."""
    parts, start = [], 0
    for obs in template.observables:
        size = template.observable_size(obs)
        v = values[:, start : start + size]
        var = v * (1 - v) if obs == "probs" else 1 - v**2
        parts.append(np.sqrt(np.clip(var, 0, None) / shots))
        start += size
    # A tiny floor: an exactly-zero variance would turn rounding into infinite z-scores.
    return np.maximum(np.concatenate(parts, axis=1), 1.0 / shots)


def z_columns(template: CircuitTemplate) -> slice:
    assert template.observables[0] == "z"
    return slice(0, template.n_qubits)
