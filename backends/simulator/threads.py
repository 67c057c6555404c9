"""Intra-op thread count chosen by work size: small simulator calls run on one thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.autograd.function import once_differentiable

# Amplitude updates (rows x 2^n x gates) below which a call runs single-threaded. A parallel
# region waits for its slowest thread: with a neighbour process holding one of the cores, a
# worker thread can sit descheduled for a scheduler tick, and calls of many small regions
# then take 10-50x their quiet time (measured on 2 cores: 4 qubits x 2 layers, batch 64,
# 0.5 ms on one thread, 8-25 ms on two; 12 x 4, batch 64, 58 ms against 230 ms). One thread
# never waits for another; only far above this are the regions long enough to pay off.
SERIAL_WORK = 1 << 25

Circuit = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def work(rows: int, n_qubits: int, gates: int) -> int:
    """Amplitude updates of a call: the size `serial_below` compares."""
    return rows * (1 << n_qubits) * max(gates, 1)


@contextmanager
def serial_below(amount: int) -> Iterator[None]:
    """Run the body with one intra-op thread when `amount` is under SERIAL_WORK.

    The setting is process-wide, so it is restored on the way out; calls above the threshold
    run with the caller's own setting untouched.
    """
    previous = torch.get_num_threads()
    if amount >= SERIAL_WORK or previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _Serial(torch.autograd.Function):
    """fn(x, w) as one node whose forward and backward both run under serial_below: the
    autograd engine runs a graph's backward after the forward has returned, outside any
    context the forward set, so the inner graph is kept and differentiated here."""

    @staticmethod
    def forward(ctx: Any, fn: Circuit, amount: int, x: torch.Tensor, w: torch.Tensor) -> Any:
        leaves = (x.detach().requires_grad_(x.requires_grad),
                  w.detach().requires_grad_(w.requires_grad))
        with torch.enable_grad(), serial_below(amount):
            out = fn(*leaves)
        ctx.amount, ctx.leaves, ctx.out = amount, leaves, out
        return out.detach()

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        wanted = [leaf for leaf in ctx.leaves if leaf.requires_grad]
        # Retained: the outer graph may be differentiated again (a Jacobian, row by row); the
        # inner graph goes when this node does.
        with serial_below(ctx.amount):
            grads = iter(torch.autograd.grad(ctx.out, wanted, grad, retain_graph=True))
        return (None, None, *(next(grads) if leaf.requires_grad else None
                              for leaf in ctx.leaves))


def run(fn: Circuit, amount: int, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """fn(x, w), forward and backward on one thread when `amount` is under SERIAL_WORK."""
    if amount >= SERIAL_WORK or torch.get_num_threads() == 1:
        return fn(x, w)
    if torch.is_grad_enabled() and (x.requires_grad or w.requires_grad):
        out: torch.Tensor = _Serial.apply(fn, amount, x, w)
        return out
    with serial_below(amount):
        return fn(x, w)
