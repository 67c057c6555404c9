"""Serialises training state (model, optimizer, RNG, data cursor) to bytes and back."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from qorch.jobs.errors import JobError


@dataclass
class TrainingState:
    """Where a training run is: enough to continue it exactly."""

    epoch: int = 0
    cursor: int = 0
    step: int = 0
    epoch_loss_sum: float = 0.0
    epoch_correct: int = 0
    epoch_seen: int = 0
    epoch_seconds: float = 0.0


def pack(model: nn.Module, optimizer: torch.optim.Optimizer, state: TrainingState) -> bytes:
    buffer = io.BytesIO()
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "state": vars(state).copy(),
        },
        buffer,
    )
    return buffer.getvalue()


def unpack(payload: bytes, model: nn.Module, optimizer: torch.optim.Optimizer) -> TrainingState:
    """Restore model, optimizer and RNG in place; returns the saved position."""
    try:
        data: dict[str, Any] = torch.load(io.BytesIO(payload), weights_only=True)
        model.load_state_dict(data["model"])
        optimizer.load_state_dict(data["optimizer"])
        torch.set_rng_state(data["torch_rng"])
        return TrainingState(**data["state"])
    except (RuntimeError, KeyError, TypeError) as err:
        raise JobError(f"checkpoint does not fit this model: {err}") from err


def pack_weights(model: nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict()}, buffer)
    return buffer.getvalue()


def unpack_weights(payload: bytes, model: nn.Module) -> None:
    try:
        model.load_state_dict(torch.load(io.BytesIO(payload), weights_only=True)["model"])
    except (RuntimeError, KeyError) as err:
        raise JobError(f"final parameters do not fit this model: {err}") from err
