"""Exact batched state-vector simulation of a CircuitTemplate in torch, differentiable."""

from __future__ import annotations

import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ParameterError
from qorch.backends.simulator import blocked, fused, generic, kernels, threads
from qorch.backends.simulator.plan import Plan, plan


def _prepare(
    template: CircuitTemplate, inputs: torch.Tensor, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, bool]:
    x = torch.as_tensor(inputs)
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if x.dtype not in (torch.float32, torch.float64):
        raise ParameterError(f"inputs must be float32 or float64, got {x.dtype}")
    if x.dim() != 2 or x.shape[1] != template.n_inputs:
        raise ParameterError(
            f"inputs must have shape [R, {template.n_inputs}], got {list(x.shape)}"
        )
    w = torch.as_tensor(weights)
    if w.device != x.device:
        raise ParameterError(f"weights are on {w.device} but inputs on {x.device}")
    w = w.to(x.dtype)
    if tuple(w.shape) == template.weight_shape:
        w = w.reshape(-1)
    shared = w.dim() == 1
    expected = (template.n_weights,) if shared else (x.shape[0], template.n_weights)
    if tuple(w.shape) != expected:
        raise ParameterError(
            f"weights must have shape [{template.n_weights}], {list(template.weight_shape)} or "
            f"[R={x.shape[0]}, {template.n_weights}], got {list(w.shape)}"
        )
    return x, w, shared


def _outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[..., p] x [..., q] -> [..., p*q] (broadcasting), a's index most significant."""
    out = a.unsqueeze(-1) * b.unsqueeze(-2)
    return out.reshape(*out.shape[:-2], -1)


def _final_state(
    template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor, shared: bool
) -> tuple[torch.Tensor, Plan, bool]:
    """State [R, 2^n], the plan, and whether the last entangler is in the state (if not, the
    measurement folds it in)."""
    p = plan(template, x.device, x.dtype)
    layers, n, k = template.weight_shape
    lead = () if shared else (x.shape[0],)
    cs_x = torch.cos(torch.add(p.shift, x.unsqueeze(-1), alpha=0.5))  # [R, n, 2]: cos, sin of x/2
    cs_w = torch.cos(torch.add(p.shift, w.reshape(*lead, layers, n, k, 1), alpha=0.5))
    # Every gate of a qubit in a layer is linear in the tensor product of its angles' (cos, sin).
    prod_w = cs_w.squeeze(-2) if k == 1 else kernels.gather_product(cs_w)  # [(R,) L, n, 2^k]
    foldable = p.perm_tuple is not None or p.signs is not None
    if shared and not template.reupload and foldable and n <= kernels.DENSE_SHARED_MAX:
        # Narrow, angle-encoded: the rows differ only in a real product state; everything
        # after it is one shared matrix.
        mats_t = kernels.matmul(prod_w, p.layer_bases).flatten(-2)  # [L, n*4]
        whole_t = kernels.whole_circuit_t(mats_t, p, n)
        return kernels.matmul(kernels.product_state(cs_x), whole_t), p, True
    if layers > 1 and shared and p.eigen is not None and n <= kernels.REUPLOAD_DENSE_MAX:
        # Narrow re-uploading: besides that product state only the diagonalised encoding
        # differs between rows.
        diag = kernels.gather_product(kernels.matmul(cs_x, p.eigen.phase))
        mats_t = kernels.matmul(prod_w, p.layer_bases).flatten(-2)  # [L, n*4]
        layers_t = kernels.kron_t(mats_t, n)
        state = kernels.apply_reuploading(kernels.product_state(cs_x), diag, layers_t, p.eigen)
        return state, p, False
    first = kernels.matmul(_outer(cs_x, prod_w[..., 0, :, :]), p.first)  # [R, n, 2]
    state = kernels.product_state(first)
    if layers > 1:
        later = prod_w[..., 1:, :, :]
        if template.reupload:
            later = _outer(cs_x.unsqueeze(1), later)
        mats_t = kernels.matmul(later, p.later).flatten(-2)  # [(R,) L-1, n*4]
        per_row = template.reupload or not shared
        state = kernels.apply_layers(state, mats_t, p, template, per_row)
    return state, p, False


def _work(template: CircuitTemplate, rows: int) -> int:
    """Amplitude updates of a forward pass, for the thread count (threads.serial_below)."""
    return threads.work(rows, template.n_qubits, template.n_weights + template.n_inputs)


def _probabilities(state: torch.Tensor) -> torch.Tensor:
    if state.is_complex():
        return torch.view_as_real(state).square().sum(-1)
    return state.square()


def _measure(
    probs: torch.Tensor, measure: tuple[torch.Tensor | None, ...], perm: torch.Tensor | None
) -> torch.Tensor:
    parts = [
        (probs if perm is None else kernels.gather_columns(probs, perm))
        if m is None
        else kernels.matmul(probs, m)
        for m in measure
    ]
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


def simulate(
    template: CircuitTemplate, inputs: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Exact outputs [R, n_outputs] for inputs [R, n_inputs] and weights.

    Weights are [n_weights] or `template.weight_shape` (shared by all rows), or [R, n_weights]
    (one parameter set per row). Differentiable by autograd in inputs and weights; computes in
    the inputs' precision (float32 -> complex64, float64 -> complex128) on their device.
    """
    x, w, shared = _prepare(template, inputs, weights)
    if x.shape[0] == 0:
        return x.new_zeros(0, template.n_outputs)
    if not template.is_layered:
        return generic.outputs(template, generic.probabilities(template, x, w))
    if fused.claims(template, shared):
        return fused.simulate(template, x, w)
    if blocked.claims(template, shared):
        return blocked.simulate(template, x, w)

    def outputs(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        state, p, entangled = _final_state(template, x, w, shared)
        if entangled:
            return _measure(_probabilities(state), p.measure, None)
        return _measure(_probabilities(state), p.measure_folded, p.perm)

    return threads.run(outputs, _work(template, x.shape[0]), x, w)


def probabilities(
    template: CircuitTemplate, inputs: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Basis-state probabilities [R, 2^n], qubit 0 the most significant bit; differentiable."""
    x, w, shared = _prepare(template, inputs, weights)
    if x.shape[0] == 0:
        return x.new_zeros(0, 2**template.n_qubits)
    if not template.is_layered:
        return generic.probabilities(template, x, w)

    def probs(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        state, p, entangled = _final_state(template, x, w, shared)
        out = _probabilities(state)
        return out if entangled or p.perm is None else kernels.gather_columns(out, p.perm)

    return threads.run(probs, _work(template, x.shape[0]), x, w)


def outputs_from_probabilities(template: CircuitTemplate, probs: torch.Tensor) -> torch.Tensor:
    """Template outputs [R, n_outputs] from exact or estimated probabilities [R, 2^n]."""
    if not template.is_layered:
        return generic.outputs(template, probs)
    p = plan(template, probs.device, probs.dtype)
    return _measure(probs, p.measure, None)


def sample_counts(
    probs: torch.Tensor, shots: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Multinomial counts [R, 2^n] (float64) of `shots` draws from each row of `probs` [R, 2^n].

    Drawn qubit by qubit with binomials on the conditional probabilities (an exact multinomial
    draw), so memory is O(R * 2^n) whatever the number of shots.
    """
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise ParameterError(f"shots must be a positive integer, got {shots!r}")
    p = probs.detach().to(torch.float64).clamp_min(0.0)
    rows, size = p.shape
    if size & (size - 1):
        raise ParameterError(f"probabilities need 2^n columns, got {size}")
    masses = [p]  # masses[j]: probability of every (n-j)-bit prefix of the bitstring
    while masses[-1].shape[1] > 1:
        masses.append(masses[-1].view(rows, -1, 2).sum(-1))
    counts = torch.full((rows, 1), float(shots), dtype=torch.float64, device=p.device)
    for level in reversed(masses[:-1]):
        pairs = level.view(rows, -1, 2)
        total = pairs.sum(-1)
        p_zero = torch.where(total > 0, pairs[..., 0] / total.clamp_min(1e-300), 0.0).clamp(
            0.0, 1.0
        )
        zeros = torch.binomial(counts, p_zero, generator=generator)
        counts = torch.stack([zeros, counts - zeros], dim=-1).view(rows, -1)
    return counts.view(rows, size)


def sample_expectations(
    template: CircuitTemplate,
    inputs: torch.Tensor,
    weights: torch.Tensor,
    shots: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Outputs [R, n_outputs] estimated from `shots` measurements of every row.

    z and zz are averaged over the sampled bitstrings and probs are the observed frequencies.
    Shot noise is in the forward value only: the result is exact + (sampled - exact).detach(),
    so gradients are those of the exact outputs. `generator` (on the inputs' device) makes the
    draw reproducible.
    """
    probs = probabilities(template, inputs, weights)
    counts = sample_counts(probs, shots, generator)
    exact = outputs_from_probabilities(template, probs)
    sampled = outputs_from_probabilities(template, (counts / shots).to(probs.dtype))
    return exact + (sampled - exact).detach()
