"""The seeded local-simulator base: shots drawn per block of rows, so a batch re-runs exactly."""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Sequence

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Backend, CircuitBatch
from qorch.backends.errors import ProviderJobError
from qorch.backends.local.jobs import LocalJob, Outputs, finished, new_job_id

# Shots of a batch are drawn block by block, each block from its own seed: the outputs of a row
# depend only on (batch seed, its block), not on how the batch is chunked, fanned out or grouped
# with other jobs' batches.
SEED_BLOCK_ROWS = 1024


def seed_blocks(n_rows: int) -> list[tuple[int, int]]:
    """Row ranges of the seed blocks of a batch."""
    size = SEED_BLOCK_ROWS
    return [(start, min(start + size, n_rows)) for start in range(0, n_rows, size)]


def block_seed(seed: int, block: int) -> int:
    """The seed of one block, mixed so that neighbouring seeds give unrelated streams."""
    return int(np.random.SeedSequence([seed, block]).generate_state(1)[0])


class LocalBackend(Backend):
    """A simulator in this process; every batch is simulated from its seed (drawn when absent)."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def seeded(self, batch: CircuitBatch) -> CircuitBatch:
        if batch.seed is not None:
            return batch
        return dataclasses.replace(batch, seed=int(self._rng.integers(0, 2**31 - 1)))

    def outputs(self, batch: CircuitBatch) -> np.ndarray:
        """Outputs of a seeded batch, block by block."""
        assert batch.seed is not None
        parts = [
            self.simulate(batch.template, batch.params[start:stop], batch.shots,
                          block_seed(batch.seed, block))
            for block, (start, stop) in enumerate(seed_blocks(batch.n_circuits))
        ]
        return np.concatenate(parts, axis=0)

    def run_batches(self, batches: Sequence[CircuitBatch], tags: Sequence[str] = ()) -> LocalJob:
        self.check_batches(batches)
        seeded = [self.seeded(b) for b in batches]

        def work() -> Outputs:
            return {item: self.outputs(b) for item, b in enumerate(seeded)}

        return LocalJob.start(self.name, new_job_id(self.name), work)

    def retrieve(self, provider_job_id: str, batch: CircuitBatch, item: int = 0) -> LocalJob:
        job = finished(self.name, provider_job_id)
        if job is not None:
            return job
        if batch.seed is None:
            raise ProviderJobError(
                f"{self.name} job {provider_job_id!r} is not from this process and its batch "
                "carries no seed to re-run it; send the batch again"
            )
        self.validate(batch.template, batch.shots, batch.n_circuits)
        return LocalJob.start(self.name, provider_job_id, lambda: {item: self.outputs(batch)})

    @abstractmethod
    def simulate(
        self, template: CircuitTemplate, params: np.ndarray, shots: int | None, seed: int
    ) -> np.ndarray:
        """Outputs [R, n_outputs] of these rows, shots drawn from `seed` (exact when None)."""
