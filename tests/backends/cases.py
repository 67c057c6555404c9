"""Seeded random templates and parameters covering every encoding, rotation set and entangler."""

from __future__ import annotations

import itertools
import math
import random

import torch

from qorch.backends.circuits.template import (
    LAYERED_ENCODINGS,
    LAYERED_ENTANGLERS,
    OBSERVABLES,
    ROTATIONS,
    CircuitTemplate,
)

# Every layered combination, and the ranged and reversed entanglers on a few; the ZZ feature
# map is checked against Qiskit's own (tests/backends/simulator/test_generic.py).
COMBOS = [
    *itertools.product(LAYERED_ENCODINGS, ROTATIONS, LAYERED_ENTANGLERS),
    ("angle-rx", "rot", "strong"), ("reupload-ry", "ry", "strong"),
    ("angle-ry", "ry", "cnot-chain-reverse"), ("angle-rz", "ryrz", "cnot-chain-reverse")]
COMBO_IDS = ["/".join(c) for c in COMBOS]


def random_template(
    index: int,
    encoding: str,
    rotations: str,
    entangler: str,
    widths: tuple[int, ...] = (1, 2, 3, 4),
) -> CircuitTemplate:
    """A template for this combination with seeded width, depth and observables."""
    rng = random.Random(index)
    n = widths[index % len(widths)]
    layers = rng.choice([1, 2, 3])
    observables = [o for o in OBSERVABLES if rng.random() < 0.6] or ["z"]
    rng.shuffle(observables)
    if n == 1 and observables == ["zz"]:
        observables.append("probs")
    return CircuitTemplate(n, layers, encoding, rotations, entangler, tuple(observables))


def random_parameters(
    template: CircuitTemplate,
    rows: int,
    per_row: bool,
    seed: int,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs [rows, n] and weights ([n_weights] or [rows, n_weights]) uniform in [-pi, pi]."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(rows, template.n_inputs, generator=gen, dtype=dtype) * 2 - 1) * math.pi
    shape = (rows, template.n_weights) if per_row else (template.n_weights,)
    w = (torch.rand(*shape, generator=gen, dtype=dtype) * 2 - 1) * math.pi
    return x, w
