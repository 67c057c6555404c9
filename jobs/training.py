"""The training loop: seeded, checkpointed, resumable exactly, stoppable between steps."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from jobs.checkpoint import TrainingState, pack, pack_weights, unpack
from jobs.context import JobContext
from jobs.data import TensorData
from jobs.models import build_model, parameter_counts
from jobs.spec import TrainSpec

EVAL_BATCH = 1000


@dataclass(frozen=True)
class TrainOutcome:
    stopped: bool
    result: dict[str, Any]


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """Data order of an epoch, a function of (seed, epoch) alone: a cursor suffices to resume."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over a split."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(labels), EVAL_BATCH):
        logits = model(images[start : start + EVAL_BATCH])
        target = labels[start : start + EVAL_BATCH]
        loss_sum += nn.functional.cross_entropy(logits, target, reduction="sum").item()
        correct += int((logits.argmax(dim=1) == target).sum())
    model.train()
    return loss_sum / len(labels), correct / len(labels)


def train(spec: TrainSpec, data: TensorData, ctx: JobContext) -> TrainOutcome:
    torch.manual_seed(spec.seed)
    model = build_model(spec)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.lr)
    state = TrainingState()
    saved = ctx.latest_checkpoint()
    if saved is not None:
        state = unpack(saved, model, optimizer)
        ctx.set_phase(f"resumed at epoch {state.epoch + 1}, step {state.step}")
    n_train = len(data.train_y)
    steps_per_epoch = -(-n_train // spec.batch_size)
    epoch_metrics: dict[str, float] = {}
    model.train()
    while state.epoch < spec.epochs:
        order = epoch_order(spec.seed, state.epoch, n_train)
        while state.cursor < steps_per_epoch:
            if ctx.should_stop():
                ctx.save_checkpoint(state.step, state.epoch, "step", pack(model, optimizer, state))
                return TrainOutcome(stopped=True, result={"steps": state.step})
            started = time.perf_counter()
            index = order[state.cursor * spec.batch_size : (state.cursor + 1) * spec.batch_size]
            images, labels = data.train_x[index], data.train_y[index]
            optimizer.zero_grad(set_to_none=True)
            logits = model(images)
            loss = nn.functional.cross_entropy(logits, labels)
            loss.backward()
            optimizer.step()
            state.step += 1
            state.cursor += 1
            state.epoch_loss_sum += loss.item() * len(labels)
            state.epoch_correct += int((logits.argmax(dim=1) == labels).sum())
            state.epoch_seen += len(labels)
            state.epoch_seconds += time.perf_counter() - started
            ctx.log_metrics(state.step, state.epoch + 1, {"loss": loss.item()})
            if spec.checkpoint_every and state.step % spec.checkpoint_every == 0:
                ctx.save_checkpoint(state.step, state.epoch, "step", pack(model, optimizer, state))
        test_loss, test_accuracy = evaluate(model, data.test_x, data.test_y)
        epoch_metrics = {
            "train_loss": state.epoch_loss_sum / state.epoch_seen,
            "train_accuracy": state.epoch_correct / state.epoch_seen,
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
            "epoch_seconds": state.epoch_seconds,
            "images_per_second": state.epoch_seen / max(state.epoch_seconds, 1e-9),
        }
        ctx.log_metrics(state.step, state.epoch + 1, epoch_metrics)
        state = TrainingState(epoch=state.epoch + 1, step=state.step)
        ctx.save_checkpoint(state.step, state.epoch, "epoch", pack(model, optimizer, state))
    ctx.save_checkpoint(state.step, state.epoch, "final", pack_weights(model))
    if not epoch_metrics:  # resumed after the last epoch's checkpoint
        test_loss, test_accuracy = evaluate(model, data.test_x, data.test_y)
        epoch_metrics = {"test_loss": test_loss, "test_accuracy": test_accuracy}
    final: dict[str, Any] = dict(epoch_metrics)
    final.update(steps=state.step, epochs=spec.epochs, parameters=parameter_counts(model))
    return TrainOutcome(stopped=False, result=final)
