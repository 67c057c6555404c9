"""Thread count by work size: small calls run forward and backward on one thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.simulator import engine, threads
from tests.backends.cases import random_parameters


@pytest.fixture
def two_threads() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


SEEN: list[int] = []


class _Record(torch.autograd.Function):
    """Identity that notes the thread count its forward and backward ran with."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        SEEN.append(torch.get_num_threads())
        return x.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        SEEN.append(torch.get_num_threads())
        return grad


def _recorded(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    out: torch.Tensor = _Record.apply(x * w.sum())
    return out.sin()


def test_serial_below_restores_the_callers_setting(two_threads: None) -> None:
    with threads.serial_below(threads.SERIAL_WORK - 1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with threads.serial_below(threads.SERIAL_WORK):
        assert torch.get_num_threads() == 2


@pytest.mark.parametrize(("amount", "expected"), [(1, [1, 1]), (threads.SERIAL_WORK, [2, 2])])
def test_run_keeps_forward_and_backward_serial_for_small_work(
    two_threads: None, amount: int, expected: list[int]
) -> None:
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, dtype=torch.float64, requires_grad=True)
    SEEN.clear()
    threads.run(_recorded, amount, x, w).sum().backward()
    assert expected == SEEN and torch.get_num_threads() == 2
    assert x.grad is not None and w.grad is not None
    xs, ws = x.detach().requires_grad_(True), w.detach().requires_grad_(True)
    _recorded(xs, ws).sum().backward()
    assert torch.equal(x.grad, xs.grad) and torch.equal(w.grad, ws.grad)


def test_run_without_gradients_is_serial_too(two_threads: None) -> None:
    SEEN.clear()
    with torch.no_grad():
        threads.run(_recorded, 1, torch.ones(2, 2), torch.ones(3))
    assert SEEN == [1]


@pytest.mark.parametrize("per_row", [False, True])
def test_engine_gradients_do_not_depend_on_the_thread_choice(
    two_threads: None, per_row: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = CircuitTemplate(5, 2, "reupload-rx", "rot", "cz-ring", ("z", "probs"))
    x, w = random_parameters(template, 4, per_row, seed=3)
    probe = torch.randn(4, template.n_outputs, dtype=torch.float64)
    results = []
    for limit in (0, 1 << 40):  # never serial, always serial
        monkeypatch.setattr(threads, "SERIAL_WORK", limit)
        xs, ws = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
        out = engine.simulate(template, xs, ws)
        (out * probe).sum().backward()
        results.append((out.detach(), xs.grad, ws.grad))
    for a, b in zip(*results, strict=True):
        assert a is not None and b is not None
        assert torch.allclose(a, b, atol=1e-12, rtol=0)


def test_a_serial_graph_can_be_differentiated_twice(two_threads: None) -> None:
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, dtype=torch.float64, requires_grad=True)
    out = threads.run(_recorded, 1, x, w)
    first = torch.autograd.grad(out.sum(), (x, w), retain_graph=True)
    second = torch.autograd.grad(out.sum(), (x, w))
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
