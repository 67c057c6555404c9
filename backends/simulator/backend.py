"""The `statevector` backend: the in-house torch simulator, exact and differentiable, or sampled."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qorch.backends.circuits.template import MAX_QUBITS, CircuitTemplate
from qorch.backends.contract import Capabilities
from qorch.backends.local.backend import LocalBackend

if TYPE_CHECKING:
    import torch

# Rows per chunk so that a chunk's probabilities stay near 2^24 doubles (128 MiB) at any width.
_CHUNK_ELEMENTS = 2**24


class StatevectorBackend(LocalBackend):
    """Exact outputs without shots; with shots, multinomial counts from exact probabilities."""

    name = "statevector"

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(seed)
        self.capabilities = Capabilities(
            kind="simulator",
            max_qubits=MAX_QUBITS,
            max_circuits_per_job=1_000_000,
            max_shots=10**9,
            exact=True,
            differentiable=True,
            seeded=True,
        )

    def simulate(
        self, template: CircuitTemplate, params: np.ndarray, shots: int | None, seed: int
    ) -> np.ndarray:
        import torch

        from qorch.backends.simulator.engine import (
            outputs_from_probabilities,
            probabilities,
            sample_counts,
        )

        n_inputs = template.n_inputs
        weights = params[:, n_inputs:]
        # One shared weight vector takes the simulator's faster broadcast path.
        shared = bool(np.all(weights == weights[:1]))
        step = max(1, _CHUNK_ELEMENTS >> template.n_qubits)
        generator = torch.Generator().manual_seed(seed)
        parts = []
        with torch.no_grad():
            for start in range(0, len(params), step):
                x = torch.from_numpy(np.ascontiguousarray(params[start : start + step, :n_inputs]))
                w = weights[0] if shared else weights[start : start + step]
                probs = probabilities(template, x, torch.from_numpy(np.ascontiguousarray(w)))
                if shots is not None:
                    probs = sample_counts(probs, shots, generator) / shots
                parts.append(outputs_from_probabilities(template, probs).numpy())
        return np.concatenate(parts).astype(np.float64, copy=False)

    def evaluate(
        self,
        template: CircuitTemplate,
        inputs: torch.Tensor,
        weights: torch.Tensor,
        shots: int | None,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """Exact outputs by autograd; with shots, sampled values carrying the exact gradients."""
        from qorch.backends.simulator.engine import sample_expectations, simulate

        if shots is None:
            return simulate(template, inputs, weights)
        return sample_expectations(template, inputs, weights, shots, generator)
