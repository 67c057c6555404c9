"""`pennylane:<device>`: any usable PennyLane device through the seeded local contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qorch.backends.circuits.readout import outputs_from_probs
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Capabilities
from qorch.backends.errors import CapabilityError
from qorch.backends.local.backend import LocalBackend
from qorch.backends.noise import NoiseSpec
from qorch.backends.pennylane.devices import (
    PENNYLANE_LOCK,
    PREFIX,
    make_device,
    probe,
    usable_devices,
)

if TYPE_CHECKING:
    import torch

    from qorch.backends.pennylane.compile import Matrix

# Rows per tape so that one broadcast tape holds about 2^22 amplitudes (64 MiB complex), or
# density-matrix entries: a block of 1024 rows at 12 qubits would not fit otherwise.
_TAPE_ELEMENTS = 2**22


class PennyLaneBackend(LocalBackend):
    """One broadcast tape per chunk of rows; exact probabilities from the device, shots drawn
    here from them with the batch's seed (as Braket's local simulators), so a batch re-runs
    bit for bit. Devices that cannot broadcast natively are split into one tape per row by
    PennyLane's own preprocessing."""

    def __init__(
        self, device: str, *, seed: int | None = None, noise: NoiseSpec | None = None
    ) -> None:
        super().__init__(seed)
        self.traits = probe(device)
        self.device = device
        self.name = PREFIX + device
        self.noise = noise or NoiseSpec()
        if not self.noise.is_noiseless and not self.traits.takes_channels:
            takers = [PREFIX + d for d in usable_devices() if probe(d).takes_channels]
            raise CapabilityError(
                f"{self.name} does not take --noise (it simulates pure states); PennyLane "
                f"devices that do: {', '.join(takers) or 'none installed'}")
        self.capabilities = Capabilities(
            kind="simulator" if self.noise.is_noiseless else "noisy-emulator",
            max_qubits=self.traits.max_qubits,
            max_circuits_per_job=100_000,
            max_shots=10_000_000,
            supports_noise=self.traits.takes_channels,
            exact=True,  # the probe checked that the device returns exact probabilities
            differentiable=self.traits.backprop,
            seeded=True,
        )

    def _execute(self, template: CircuitTemplate, inputs: Matrix, weights: Matrix,
                 autograd: bool) -> Matrix:
        """Probabilities [R, 2^n] of one broadcast tape, in the parameters' array type."""
        import pennylane as qml

        from qorch.backends.pennylane.compile import probability_tape

        with PENNYLANE_LOCK:
            tape = probability_tape(template, inputs, weights, self.noise)
            device = make_device(self.device, template.n_qubits)
            probs = qml.execute([tape], device, diff_method="backprop" if autograd else None)[0]
        return probs.reshape(inputs.shape[0], 2**template.n_qubits)

    def probabilities(
        self, template: CircuitTemplate, inputs: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Exact probabilities [R, 2^n] (weights [n_weights] shared, or [R, n_weights])."""
        return np.asarray(self._execute(template, inputs, weights, False), dtype=np.float64)

    def simulate(
        self, template: CircuitTemplate, params: np.ndarray, shots: int | None, seed: int
    ) -> np.ndarray:
        n_inputs = template.n_inputs
        weights = params[:, n_inputs:]
        # Scalar weights when the rows share them: fewer broadcast parameters to evolve.
        shared = bool(np.all(weights == weights[:1]))
        width = 4 if self.traits.takes_channels else 2
        step = max(1, _TAPE_ELEMENTS // width**template.n_qubits)
        rng = np.random.default_rng(seed)
        parts = []
        for start in range(0, len(params), step):
            rows = params[start : start + step]
            probs = self.probabilities(template, rows[:, :n_inputs],
                                       weights[0] if shared else rows[:, n_inputs:])
            probs = np.clip(probs, 0.0, None)
            probs /= probs.sum(axis=1, keepdims=True)
            if shots is not None:
                probs = rng.multinomial(shots, probs) / shots
            parts.append(outputs_from_probs(template, probs))
        return np.concatenate(parts).astype(np.float64, copy=False)

    def evaluate(
        self,
        template: CircuitTemplate,
        inputs: torch.Tensor,
        weights: torch.Tensor,
        shots: int | None,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """Outputs with autograd gradients through the device (backprop); with shots, sampled
        values carrying the exact gradients, as the statevector backend does."""
        if not self.capabilities.differentiable:
            return super().evaluate(template, inputs, weights, shots, generator)
        import torch

        from qorch.backends.simulator.engine import outputs_from_probabilities, sample_counts

        self.validate(template, shots)
        dtype = inputs.dtype
        rows = inputs.shape[0]
        if weights.numel() == template.n_weights:
            # Broadcast shared weights too: default.mixed (PennyLane 0.45) computes a complex
            # gate from an unbatched torch scalar in single precision and loses its gradient.
            weights = weights.reshape(1, template.n_weights).expand(rows, -1)
        probs = self._execute(template, inputs.double(), weights.double(), autograd=True)
        assert isinstance(probs, torch.Tensor)
        exact = outputs_from_probabilities(template, probs)
        if shots is None:
            return exact.to(dtype)
        counts = sample_counts(probs, shots, generator)
        sampled = outputs_from_probabilities(template, counts / shots)
        return (exact + (sampled - exact).detach()).to(dtype)
