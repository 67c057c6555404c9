"""Narrow angle-encoded circuits with shared weights as one autograd node: a dense unitary.

Every row starts in a real product state psi0(x) (the encoding folded into layer 0, see
plan._layer_bases), and everything after it is one weight-only matrix M(w) with every
entangler folded into its columns, so the outputs are |psi0 @ M|^2 @ O. The forward pass is
a handful of batched products; the backward pass is written out by hand, since per-gate
autograd nodes, not arithmetic, are what small circuits cost.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import torch
from torch.autograd.function import once_differentiable

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.simulator import kernels, threads
from qorch.backends.simulator.plan import plan

# Widest circuit folded into one matrix: building M costs L products of 2^n x 2^n matrices,
# which beyond this outweighs what the single node saves.
FUSED_MAX = 6


class Flips(NamedTuple):
    """For s angles: where each entry of their (cos, sin) product moves when one angle's bit
    flips, and the derivative's sign (and 1/2) there."""

    partner: torch.Tensor  # [s * 2^s]
    signs: torch.Tensor  # [s, 2^s]


def flips(s: int, device: torch.device, real: torch.dtype) -> Flips:
    entries = torch.arange(2**s, device=device)
    bits = 1 << torch.arange(s - 1, -1, -1, device=device)  # first angle most significant
    flipped = entries ^ bits[:, None]
    signs = torch.where(entries & bits[:, None] != 0, 0.5, -0.5).to(real)
    return Flips(flipped.reshape(-1), signs)


class Constants(NamedTuple):
    """What the fused node needs of a template, per device and precision."""

    shift: torch.Tensor  # [2]: cos(t/2 + shift) gives (cos, sin)
    state_index: torch.Tensor  # picks psi0's factors from the flattened [n, 2] (cos, sin)
    state_flips: Flips
    rotation_index: torch.Tensor  # picks a qubit's gate factors from its flattened [k, 2]
    rotation_flips: Flips
    bases: torch.Tensor  # [L, 2^k, 4]: (cos, sin) products -> flattened transposed gate
    kron_index: torch.Tensor  # picks layer matrix entries from the flattened [n, 4] gates
    signs: torch.Tensor | None  # cz entanglers as column signs of every layer matrix
    observables: torch.Tensor  # [2^n, n_outputs]: probabilities -> outputs


def claims(template: CircuitTemplate, shared: bool) -> bool:
    """Whether the fused node computes this template's outputs."""
    if not (shared and template.is_layered and not template.reupload):
        return False
    return template.n_qubits <= FUSED_MAX


@lru_cache(maxsize=64)
def constants(template: CircuitTemplate, device: torch.device, real: torch.dtype) -> Constants:
    p = plan(template, device, real)
    n, k = template.n_qubits, len(template.rotation_gates)
    parts = [torch.eye(2**n, dtype=real, device=device) if m is None else m for m in p.measure]
    return Constants(
        shift=p.shift,
        state_index=kernels.product_index(n, device),
        state_flips=flips(n, device, real),
        rotation_index=kernels.product_index(k, device),
        rotation_flips=flips(k, device, real),
        bases=p.layer_bases,
        kron_index=kernels.kron_index(n, None, p.perm_tuple, device),
        signs=p.signs,
        observables=torch.cat(parts, dim=1),
    )


def others(factors: torch.Tensor, dim: int) -> torch.Tensor:
    """Product of all factors but one along `dim`, for each one, by prefix and suffix
    products (no division: zero factors are common, cos(pi/2) for a start)."""
    parts = factors.unbind(dim)
    if len(parts) == 1:
        return torch.ones_like(factors)
    prefix = [parts[0]]
    for part in parts[1:-1]:
        prefix.append(prefix[-1] * part)
    suffix = [parts[-1]]
    for part in parts[-2:0:-1]:
        suffix.append(suffix[-1] * part)
    suffix.reverse()
    middle = [before * after for before, after in zip(prefix[:-1], suffix[1:], strict=True)]
    return torch.stack([suffix[0], *middle, prefix[-1]], dim)


def angle_grads(products: torch.Tensor, grad: torch.Tensor, c: Flips) -> torch.Tensor:
    """Gradient [..., s] of s angles from that [..., 2^s] of the tensor product of their
    (cos t/2, sin t/2) pairs.

    d/dt (cos t/2, sin t/2) = (-sin t/2, cos t/2) / 2, so the derivative of entry b is
    -+1/2 times entry b with the angle's bit flipped: one gather, no per-factor products.
    """
    lead = products.shape[:-1]
    flipped = torch.gather(products, -1, c.partner.expand(*lead, -1)).view(*lead, *c.signs.shape)
    return torch.matmul(flipped * c.signs, grad.unsqueeze(-1)).squeeze(-1)


def rotation_products(cs_w: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """[L, n, k, 2] (cos, sin) of every gate angle -> [L, n, 2^k] their tensor products per
    qubit (a single rotation is its own pair: no gather)."""
    layers, n, k = cs_w.shape[:3]
    if k == 1:
        return cs_w.view(layers, n, 2)
    return pick(cs_w.reshape(layers, n, 2 * k), index, k).prod(2)


def pick(pairs: torch.Tensor, index: torch.Tensor, count: int) -> torch.Tensor:
    """[..., m] values -> [..., count, len(index) / count] factors gathered by index."""
    lead = pairs.shape[:-1]
    return torch.gather(pairs, -1, index.expand(*lead, -1)).view(*lead, count, -1)


def unpick(grads: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Adjoint of pick: [..., count, j] gradients summed back into [..., size]."""
    lead = grads.shape[:-2]
    out = grads.new_zeros(*lead, size)
    return out.scatter_add_(-1, index.expand(*lead, -1), grads.reshape(*lead, -1))


def _dagger(m: torch.Tensor) -> torch.Tensor:
    return m.mH if m.is_complex() else m.mT


class FusedCircuit(torch.autograd.Function):
    """outputs [R, n_outputs] of inputs x [R, n] and shared weights w [n_weights]."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, w: torch.Tensor, template: CircuitTemplate) -> Any:
        c = constants(template, x.device, x.dtype)
        layers, n, k = template.weight_shape
        rows = x.shape[0]
        with threads.serial_below(threads.work(rows, n, layers * n * k)):
            cs_x = torch.cos(torch.add(c.shift, x.unsqueeze(-1), alpha=0.5))  # [R, n, 2]
            psi0 = pick(cs_x.reshape(rows, 2 * n), c.state_index, n).prod(1)  # [R, 2^n]
            cs_w = torch.cos(torch.add(c.shift, w.reshape(layers, n, k, 1), alpha=0.5))
            prod_w = rotation_products(cs_w, c.rotation_index)
            gates = torch.matmul(prod_w.to(c.bases.dtype), c.bases)  # [L, n, 4]
            picked_g = pick(gates.reshape(layers, 4 * n), c.kron_index, n)  # [L, n, 4^n]
            mats = picked_g.prod(1).view(layers, 2**n, 2**n)
            if c.signs is not None:
                mats = mats * c.signs
            # Running products T_0 .. T_l; the last is the whole circuit M.
            running = [mats[0]]
            for layer in range(1, layers):
                running.append(running[-1] @ mats[layer])
            phi = (psi0.to(mats.dtype) if mats.is_complex() else psi0) @ running[-1]
            probs = torch.view_as_real(phi).square().sum(-1) if phi.is_complex() else phi.square()
            out = probs @ c.observables
        ctx.template, ctx.constants = template, c
        ctx.save_for_backward(psi0, prod_w, picked_g, mats, phi, *running)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        psi0, prod_w, picked_g, mats, phi, *running = ctx.saved_tensors
        template: CircuitTemplate = ctx.template
        c: Constants = ctx.constants
        layers, n, k = template.weight_shape
        grad_x = grad_w = None
        with threads.serial_below(threads.work(grad.shape[0], n, 2 * layers * n * k)):
            grad_phi = 2 * phi * (grad @ c.observables.T)  # d|phi|^2 = 2 Re(conj(phi) dphi)
            if ctx.needs_input_grad[0]:
                grad_psi0 = grad_phi @ _dagger(running[-1])
                grad_psi0 = grad_psi0.real if grad_psi0.is_complex() else grad_psi0
                grad_x = angle_grads(psi0, grad_psi0, c.state_flips)
            if ctx.needs_input_grad[1]:
                grad_w = _weight_grad(c, template, psi0, grad_phi, mats, running,
                                      (prod_w, picked_g))
        return grad_x, grad_w, None


def _weight_grad(
    c: Constants,
    template: CircuitTemplate,
    psi0: torch.Tensor,
    grad_phi: torch.Tensor,
    mats: torch.Tensor,
    running: list[torch.Tensor],
    saved: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """Gradient [n_weights] of M = T_0 ... T_{L-1} back through every layer's gates."""
    prod_w, picked_g = saved
    layers, n = template.n_layers, template.n_qubits
    # dM = sum_l T_0..T_{l-1} dT_l T_{l+1}.., so grad T_l = (T_0..T_{l-1})^H grad_M (T_{l+1}..)^H.
    after = psi0.to(grad_phi.dtype).T @ grad_phi  # grad M, then times the later layers' ^H
    grad_mats = []
    for layer in range(layers - 1, 0, -1):
        grad_mats.append(_dagger(running[layer - 1]) @ after)
        after = after @ _dagger(mats[layer])
    grad_mats.append(after)
    grad_t = torch.stack(grad_mats[::-1])
    if c.signs is not None:
        grad_t = grad_t * c.signs
    others_g = others(picked_g, 1)
    grad_picked_g = grad_t.reshape(layers, 1, -1) * (others_g.conj() if others_g.is_complex()
                                                     else others_g)
    grad_gates = unpick(grad_picked_g, c.kron_index, 4 * n).view(layers, n, 4)
    grad_prod = grad_gates @ _dagger(c.bases)  # [L, n, 2^k]
    grad_prod = grad_prod.real if grad_prod.is_complex() else grad_prod
    return angle_grads(prod_w, grad_prod, c.rotation_flips).reshape(-1)


def simulate(template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Outputs [R, n_outputs] through the fused node; w is [n_weights], shared by the rows."""
    out: torch.Tensor = FusedCircuit.apply(x, w, template)
    return out
