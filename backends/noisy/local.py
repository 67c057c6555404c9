"""The torch engine behind a local noisy backend: programs per template, seeded shots, autograd."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from qorch.backends.circuits.readout import outputs_from_probs
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import CapabilityError
from qorch.backends.family import ENGINES
from qorch.backends.noisy.channels import EngineUnsupported
from qorch.backends.noisy.engine import (
    NoisyEngine,
    outputs_from_moments,
    probabilities_from_moments,
)
from qorch.backends.noisy.program import Program, compile_program

# Used qubits up to which the torch engine runs a circuit; its density matrix has 4^n entries.
MAX_ENGINE_QUBITS = 10
# Autograd keeps every intermediate state for the backward pass; refuse beyond this.
MAX_AUTOGRAD_BYTES = 4 * 2**30

# (circuit measured into template bits, its Aer noise model) of a template, as the Aer path runs it
CircuitSource = Callable[[CircuitTemplate], tuple[Any, Any]]
# Compiled programs (or why not) per (backend and noise, template hash), for every adapter of
# the process: a job's planning, driver and simulators build their own adapters.
_programs: dict[tuple[str, str], Program | str] = {}
_lock = threading.Lock()


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise CapabilityError(f"unknown engine {engine!r}; accepted: {', '.join(ENGINES)}")
    return engine


class TorchNoisyEngine:
    """Compiles each template once; runs batches exactly or with seeded shots, or under
    autograd. `why_not(template)` says why a template stays on the Aer path."""

    def __init__(self, backend: str, source: CircuitSource, noise_key: str = "") -> None:
        self.backend, self.source = backend, source
        self._key = f"{backend}|{noise_key}"  # programs are shared by adapters with this key
        self._engines: dict[tuple[str, torch.dtype, str], NoisyEngine] = {}

    def program(self, template: CircuitTemplate) -> Program | str:
        """The compiled program, or the reason the engine does not take this template."""
        with _lock:
            hit = _programs.get((self._key, template.hash))
        if hit is not None:
            return hit
        circuit, model = self.source(template)
        result: Program | str
        if circuit.num_qubits > MAX_ENGINE_QUBITS:
            result = (f"the circuit uses {circuit.num_qubits} qubits on {self.backend}; the "
                      f"torch engine takes up to {MAX_ENGINE_QUBITS}")
        else:
            try:
                result = compile_program(template, circuit, model)
            except EngineUnsupported as err:
                result = str(err)
        with _lock:
            _programs[self._key, template.hash] = result
        return result

    def why_not(self, template: CircuitTemplate) -> str | None:
        program = self.program(template)
        return program if isinstance(program, str) else None

    def engine(self, template: CircuitTemplate, dtype: torch.dtype,
               device: torch.device) -> NoisyEngine:
        program = self.program(template)
        if isinstance(program, str):
            raise CapabilityError(f"{self.backend} cannot differentiate this circuit: {program}; "
                                  "use --gradient parameter-shift or spsa")
        key = (template.hash, dtype, str(device))
        with _lock:
            hit = self._engines.get(key)
        if hit is None:
            hit = NoisyEngine(template, program, dtype, device)
            with _lock:
                self._engines[key] = hit
        return hit

    def simulate(self, template: CircuitTemplate, params: np.ndarray, shots: int | None,
                 seed: int) -> np.ndarray:
        """Outputs [R, n_outputs]: exact, or from `shots` draws per row seeded by `seed`."""
        engine = self.engine(template, torch.float64, torch.device("cpu"))
        n = template.n_inputs
        weights, group = weight_sets(params[:, n:])
        x = torch.from_numpy(np.ascontiguousarray(params[:, :n]))
        w = torch.from_numpy(np.ascontiguousarray(weights))
        g = torch.from_numpy(group.reshape(-1).astype(np.int64))
        with torch.no_grad():
            if shots is None:
                return engine.outputs(x, w, g).numpy()
            probs = engine.probabilities(x, w, g)
        counts = sample(probs, shots, torch.Generator().manual_seed(seed))
        return outputs_from_probs(template, counts.numpy() / shots)

    def evaluate(self, template: CircuitTemplate, inputs: torch.Tensor, weights: torch.Tensor,
                 shots: int | None, generator: torch.Generator | None) -> torch.Tensor:
        """Exact noisy outputs with autograd gradients; with shots, the sampled values carry
        the exact noisy gradients (exact + (sampled - exact).detach())."""
        dtype = inputs.dtype if inputs.dtype in (torch.float32, torch.float64) else torch.float64
        engine = self.engine(template, dtype, inputs.device)
        if torch.is_grad_enabled() and (inputs.requires_grad or weights.requires_grad):
            self._check_memory(engine, inputs.shape[0], dtype)
        shared = weights.dim() == 1
        w = weights.reshape(1, -1) if shared else weights
        group = None if shared else torch.arange(inputs.shape[0], device=inputs.device)
        if shots is None:
            return engine.outputs(inputs, w, group).to(inputs.dtype)
        moments = engine.moments(inputs, w, group)
        exact = outputs_from_moments(template, moments, None)
        probs = probabilities_from_moments(moments.detach(), template.n_qubits)
        counts = sample(probs, shots, generator)
        sampled = torch.from_numpy(outputs_from_probs(template, counts.cpu().numpy() / shots))
        sampled = sampled.to(exact.dtype).to(exact.device)
        return (exact + (sampled - exact).detach()).to(inputs.dtype)

    def _check_memory(self, engine: NoisyEngine, rows: int, dtype: torch.dtype) -> None:
        """Refuse, before it runs, an autograd pass whose saved states would not fit."""
        size = 4**engine.program.n_axes
        ops = max(len(engine.program.body), 1)
        states = min(rows * engine.schedule.cost * size,
                     engine.template.n_outputs * ops * size)
        need = states * torch.finfo(dtype).bits // 8
        if need > MAX_AUTOGRAD_BYTES:
            raise CapabilityError(
                f"noise-aware training of this circuit on {self.backend} would keep about "
                f"{need / 2**30:.0f} GiB of states for {rows} rows: use --gradient "
                "parameter-shift, fewer qubits, a smaller --batch-size or a chain entangler")


def weight_sets(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct weight rows, the index of each row's): a parameter-shift batch has a few."""
    rows = np.ascontiguousarray(weights)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, group = np.unique(keys, return_index=True, return_inverse=True)
    return rows[first], group.reshape(-1)


def sample(probs: torch.Tensor, shots: int, generator: torch.Generator | None) -> torch.Tensor:
    """Multinomial counts [R, 2^n] of `shots` draws per row (the exact simulator's sampler)."""
    from qorch.backends.simulator.engine import sample_counts

    return sample_counts(probs.detach().to(torch.float64), shots, generator)
