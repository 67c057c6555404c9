"""The `statevector` backend: the in-house torch simulator, exact or with sampled shots."""

from __future__ import annotations

import numpy as np

from qorch.backends.circuits.template import MAX_QUBITS
from qorch.backends.contract import Capabilities, CircuitBatch
from qorch.backends.errors import CapabilityError
from qorch.backends.local.backend import LocalBackend
from qorch.backends.local.jobs import LocalJob, job_id
from qorch.backends.noise import NoiseSpec

# Rows per chunk so that a chunk's probabilities stay near 2^24 doubles (128 MiB) at any width.
_CHUNK_ELEMENTS = 2**24


class StatevectorBackend(LocalBackend):
    """Exact outputs without shots; with shots, multinomial counts from exact probabilities."""

    name = "statevector"

    def __init__(self, *, seed: int | None = None, noise: NoiseSpec | None = None) -> None:
        super().__init__(seed)
        if noise is not None and not noise.is_noiseless:
            raise CapabilityError(
                "statevector is noiseless; for --noise use aer or braket_dm "
                "(or fake_<device> for calibration noise)"
            )
        self.noise = NoiseSpec()
        self.capabilities = Capabilities(
            kind="simulator",
            max_qubits=MAX_QUBITS,
            max_circuits_per_job=1_000_000,
            max_shots=10**9,
            exact=True,
            differentiable=True,
        )

    def _start(self, batch: CircuitBatch, seed: int, provider_job_id: str | None) -> LocalJob:
        import torch

        from qorch.backends.simulator.engine import (
            outputs_from_probabilities,
            probabilities,
            sample_counts,
        )

        template, shots = batch.template, batch.shots
        weights = batch.weights
        # One shared weight vector takes the simulator's faster broadcast path.
        shared = bool(np.all(weights == weights[:1]))
        step = max(1, _CHUNK_ELEMENTS >> template.n_qubits)
        generator = torch.Generator().manual_seed(seed)
        parts = []
        with torch.no_grad():
            for start in range(0, batch.n_circuits, step):
                x = torch.from_numpy(np.ascontiguousarray(batch.inputs[start : start + step]))
                w = weights[0] if shared else weights[start : start + step]
                probs = probabilities(template, x, torch.from_numpy(np.ascontiguousarray(w)))
                if shots is not None:
                    probs = sample_counts(probs, shots, generator) / shots
                parts.append(outputs_from_probabilities(template, probs).numpy())
        out = np.concatenate(parts).astype(np.float64, copy=False)
        return LocalJob.done(self.name, provider_job_id or job_id(None, seed), out)
