"""Mid-width angle-encoded circuits with shared weights as one autograd node, block by block.

Past fused.FUSED_MAX a whole-circuit matrix costs more than it saves, but the layer-by-layer
kernels still pay for an autograd node per step. Here every row starts in the real product
state of its (cos, sin) pairs (the encoding folded into layer 0, as in fused), and each layer
is the entangler (not before layer 0), then one small matrix per half of the qubits; all of it
runs without a graph and the backward is written out by hand.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import torch
from torch.autograd.function import once_differentiable

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.simulator import fused, kernels, threads
from qorch.backends.simulator.plan import plan

# Widest circuit taken here: two blocks of at most 4 qubits. Wider circuits need middle
# blocks, which neither contiguous form (from the left or from the right) suits.
BLOCKED_MAX = 8


class Constants(NamedTuple):
    """What the blocked node needs of a template, per device and precision."""

    shift: torch.Tensor  # [2]: cos(t/2 + shift) gives (cos, sin)
    bases: torch.Tensor  # [L, 2^k, 4]: (cos, sin) products -> flattened transposed gate
    state_index: torch.Tensor  # picks the product state's factors from [n, 2]
    state_flips: fused.Flips
    rotation_index: torch.Tensor  # picks a qubit's gate factors from its flattened [k, 2]
    rotation_flips: fused.Flips
    half: int  # the leading block is qubits [0, half), the trailing one [half, n)
    kron_index: tuple[torch.Tensor, torch.Tensor]  # per block: gates -> matrix entries
    gather: tuple[torch.Tensor, torch.Tensor] | None  # entangler permutation and inverse
    signs: torch.Tensor | None  # entangler as sign flips (cz)
    observables: torch.Tensor  # [2^n, n_outputs]: probabilities before the last entangler


def claims(template: CircuitTemplate, shared: bool) -> bool:
    """Whether the blocked node computes this template's outputs."""
    if not (shared and template.is_layered and not template.reupload):
        return False
    return fused.FUSED_MAX < template.n_qubits <= BLOCKED_MAX


@lru_cache(maxsize=64)
def constants(template: CircuitTemplate, device: torch.device, real: torch.dtype) -> Constants:
    p = plan(template, device, real)
    n, k = template.n_qubits, len(template.rotation_gates)
    eye = torch.eye(2**n, dtype=real, device=device)
    folded_probs = eye if p.perm is None else eye[:, p.perm]  # probs[:, perm] == probs @ this
    parts = [folded_probs if m is None else m for m in p.measure_folded]
    half = (n + 1) // 2
    return Constants(
        shift=p.shift, bases=p.layer_bases,
        state_index=kernels.product_index(n, device), state_flips=fused.flips(n, device, real),
        rotation_index=kernels.product_index(k, device),
        rotation_flips=fused.flips(k, device, real), half=half,
        kron_index=(kernels.kron_index(half, None, None, device),
                    kernels.kron_index(n - half, None, None, device)),
        gather=p.gather, signs=p.signs, observables=torch.cat(parts, dim=1),
    )


def _entangle(state: torch.Tensor, c: Constants, inverse: bool) -> torch.Tensor:
    if c.gather is not None:
        return kernels.gather_columns(state, c.gather[1 if inverse else 0])
    assert c.signs is not None
    return state * c.signs


def _conj(t: torch.Tensor) -> torch.Tensor:
    return t.conj() if t.is_complex() else t


def _real(t: torch.Tensor) -> torch.Tensor:
    return t.real if t.is_complex() else t


class BlockedCircuit(torch.autograd.Function):
    """outputs [R, n_outputs] of inputs x [R, n] and shared weights w [n_weights]."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, w: torch.Tensor, template: CircuitTemplate) -> Any:
        work = threads.work(x.shape[0], template.n_qubits, template.n_weights)
        with threads.serial_below(work):
            return _forward(ctx, x, w, template)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        template: CircuitTemplate = ctx.template
        work = threads.work(grad.shape[0], template.n_qubits, 2 * template.n_weights)
        with threads.serial_below(work):
            return _backward(ctx, grad, template)


def _forward(ctx: Any, x: torch.Tensor, w: torch.Tensor, template: CircuitTemplate) -> Any:
    c = constants(template, x.device, x.dtype)
    layers, n, k = template.weight_shape
    rows, half = x.shape[0], c.half
    cs_x = torch.cos(torch.add(c.shift, x.unsqueeze(-1), alpha=0.5))  # [R, n, 2]
    psi0 = fused.pick(cs_x.reshape(rows, 2 * n), c.state_index, n).prod(1)  # [R, 2^n]
    cs_w = torch.cos(torch.add(c.shift, w.reshape(layers, n, k, 1), alpha=0.5))
    prod_w = fused.rotation_products(cs_w, c.rotation_index)
    gates = prod_w.to(c.bases.dtype) @ c.bases  # [L, n, 4]
    picked = (fused.pick(gates[:, :half].reshape(layers, -1), c.kron_index[0], half),
              fused.pick(gates[:, half:].reshape(layers, -1), c.kron_index[1], n - half))
    lead, trail = (p.prod(1).view(layers, 2**s, 2**s)
                   for p, s in zip(picked, (half, n - half), strict=True))
    state = psi0.to(c.bases.dtype)
    befores = []  # the state each block multiplies
    for layer in range(layers):
        if layer:
            state = _entangle(state, c, inverse=False)
        # The leading block multiplies from the left, batched over rows, the trailing one
        # from the right as one product: both leave the state contiguous, with no transpose.
        befores.append(state.view(rows, 2**half, -1))
        state = (lead[layer].mT @ befores[-1]).view(rows << half, -1)
        befores.append(state)
        state = (state @ trail[layer]).view(rows, -1)
    probs = torch.view_as_real(state).square().sum(-1) if state.is_complex() else state.square()
    ctx.template, ctx.constants = template, c
    ctx.save_for_backward(psi0, prod_w, state, lead, trail, *picked, *befores)
    return probs @ c.observables


def _backward(ctx: Any, grad: torch.Tensor, template: CircuitTemplate) -> tuple[Any, ...]:
    c: Constants = ctx.constants
    layers = template.n_layers
    psi0, prod_w, state, lead, trail, *rest = ctx.saved_tensors
    picked, befores = rest[:2], rest[2:]
    g = 2 * state * (grad @ c.observables.T)
    grad_lead, grad_trail = torch.zeros_like(lead), torch.zeros_like(trail)
    for layer in range(layers - 1, -1, -1):
        before_lead, before_trail = befores[2 * layer], befores[2 * layer + 1]
        g = g.view_as(before_trail)  # out = before @ trail
        grad_trail[layer] = _conj(before_trail).mT @ g
        g = (g @ _conj(trail[layer]).mT).view_as(before_lead)  # out = lead^T @ before
        grad_lead[layer] = (_conj(before_lead) @ g.mT).sum(0)
        g = (_conj(lead[layer]) @ g).view(grad.shape[0], -1)
        if layer:
            g = _entangle(g, c, inverse=True)
    grad_x = grad_w = None
    if ctx.needs_input_grad[0]:
        grad_x = fused.angle_grads(psi0, _real(g), c.state_flips)
    if ctx.needs_input_grad[1]:
        grad_gates = torch.cat([
            fused.unpick(gm.reshape(layers, 1, -1) * _conj(fused.others(p, 1)), index,
                         4 * p.shape[1]).view(layers, p.shape[1], 4)
            for gm, p, index in zip((grad_lead, grad_trail), picked, c.kron_index,
                                    strict=True)], dim=1)
        grad_prod = _real(grad_gates @ _conj(c.bases).mT)
        grad_w = fused.angle_grads(prod_w, grad_prod, c.rotation_flips).reshape(-1)
    return grad_x, grad_w, None


def simulate(template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Outputs [R, n_outputs] through the blocked node; w is [n_weights], shared by the rows."""
    out: torch.Tensor = BlockedCircuit.apply(x, w, template)
    return out
