"""The training loop: seeded, checkpointed, resumable exactly, stoppable between steps."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from qorch.jobs.context import JobContext
from qorch.jobs.data.tensors import TensorData
from qorch.jobs.errors import JobStopped
from qorch.jobs.loops.checkpoint import TrainingState, pack, pack_weights, unpack
from qorch.jobs.models.builders import build_model, parameter_counts
from qorch.jobs.quantum.runners import CircuitRunner
from qorch.jobs.spec import TrainSpec

EVAL_BATCH = 1000


@dataclass(frozen=True)
class TrainOutcome:
    stopped: bool
    result: dict[str, Any]


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """Data order of an epoch, a function of (seed, epoch) alone: a cursor suffices to resume."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


@dataclass(frozen=True)
class Evaluation:
    """A split's mean cross-entropy, accuracy and the prediction for every image."""

    loss: float
    accuracy: float
    predictions: list[int]


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
             eval_batch: int = EVAL_BATCH) -> Evaluation:
    model.eval()
    loss_sum, predicted = 0.0, []
    for start in range(0, len(labels), eval_batch):
        logits = model(images[start : start + eval_batch])
        target = labels[start : start + eval_batch]
        loss_sum += nn.functional.cross_entropy(logits, target, reduction="sum").item()
        predicted.append(logits.argmax(dim=1))
    model.train()
    predictions = torch.cat(predicted)
    accuracy = float((predictions == labels).float().mean())
    return Evaluation(loss_sum / len(labels), accuracy, predictions.tolist())


class Trainer:
    """One run of a spec over its data, reporting through a JobContext."""

    def __init__(self, spec: TrainSpec, data: TensorData, ctx: JobContext,
                 runner: CircuitRunner | None, eval_batch: int = EVAL_BATCH) -> None:
        self.spec, self.data, self.ctx, self.runner = spec, data, ctx, runner
        torch.manual_seed(spec.seed)
        self.model = build_model(spec, runner)
        assert spec.lr is not None and spec.batch_size is not None and spec.epochs is not None
        self.lr, self.batch_size, self.epochs = spec.lr, spec.batch_size, spec.epochs
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self.state = TrainingState()
        self.eval_batch = eval_batch
        self.predictions: list[int] = []

    def checkpoint(self, kind: str) -> None:
        payload = pack(self.model, self.optimizer, self.state)
        self.ctx.save_checkpoint(self.state.step, self.state.epoch, kind, payload)

    def test_metrics(self) -> Evaluation:
        if self.runner is not None:
            self.runner.at(self.state.step, "eval")
        return evaluate(self.model, self.data.test_x, self.data.test_y, self.eval_batch)

    def learning_rate(self, step: int) -> float:
        """Cosine decay to zero over the run: a function of the step alone, so resumes are exact."""
        if self.spec.schedule == "constant":
            return self.lr
        total = self.epochs * -(-len(self.data.train_y) // self.batch_size)
        return self.lr * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

    def step(self, index: torch.Tensor) -> None:
        state, started = self.state, time.perf_counter()
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(state.step)
        if self.runner is not None:
            self.runner.at(state.step + 1, "train")
        images, labels = self.data.train_x[index], self.data.train_y[index]
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(images)
        loss = nn.functional.cross_entropy(logits, labels)
        loss.backward()
        self.optimizer.step()
        state.step += 1
        state.cursor += 1
        state.epoch_loss_sum += loss.item() * len(labels)
        state.epoch_correct += int((logits.argmax(dim=1) == labels).sum())
        state.epoch_seen += len(labels)
        state.epoch_seconds += time.perf_counter() - started
        self.ctx.log_metrics(state.step, state.epoch + 1, {"loss": loss.item()})

    def epoch(self) -> dict[str, float] | None:
        """Finish the current epoch; None if asked to stop first."""
        spec, state = self.spec, self.state
        n_train = len(self.data.train_y)
        order = epoch_order(spec.seed, state.epoch, n_train)
        while state.cursor * self.batch_size < n_train:
            if self.ctx.should_stop():
                return None
            self.step(order[state.cursor * self.batch_size : (state.cursor + 1) * self.batch_size])
            if spec.checkpoint_every and state.step % spec.checkpoint_every == 0:
                self.checkpoint("step")
        tested = self.test_metrics()
        self.predictions = tested.predictions
        return {
            "train_loss": state.epoch_loss_sum / state.epoch_seen,
            "train_accuracy": state.epoch_correct / state.epoch_seen,
            "test_loss": tested.loss,
            "test_accuracy": tested.accuracy,
            "epoch_seconds": state.epoch_seconds,
            "images_per_second": state.epoch_seen / max(state.epoch_seconds, 1e-9),
        }

    def run(self) -> TrainOutcome:
        saved = self.ctx.latest_checkpoint()
        if saved is not None:
            self.state = unpack(saved, self.model, self.optimizer)
            self.ctx.set_phase(f"resumed at epoch {self.state.epoch + 1}, step {self.state.step}")
        final: dict[str, Any] = {}
        self.model.train()
        while self.state.epoch < self.epochs:
            try:
                metrics = self.epoch()
            except JobStopped:  # a provider wait was cut short by a cancel
                metrics = None
            if metrics is None:
                self.checkpoint("step")
                return TrainOutcome(stopped=True, result={"steps": self.state.step})
            self.ctx.log_metrics(self.state.step, self.state.epoch + 1, metrics)
            final = metrics
            self.state = TrainingState(epoch=self.state.epoch + 1, step=self.state.step)
            self.checkpoint("epoch")
        if not final:  # resumed after the last epoch's checkpoint
            tested = self.test_metrics()
            self.predictions = tested.predictions
            final = {"test_loss": tested.loss, "test_accuracy": tested.accuracy}
        self.ctx.save_checkpoint(self.state.step, self.state.epoch, "final",
                                 pack_weights(self.model))
        # The final test predictions: comparisons of models pair them image by image.
        final.update(steps=self.state.step, epochs=self.epochs,
                     parameters=parameter_counts(self.model), predictions=self.predictions)
        return TrainOutcome(stopped=False, result=final)


def train(spec: TrainSpec, data: TensorData, ctx: JobContext,
          runner: CircuitRunner | None = None, eval_batch: int = EVAL_BATCH) -> TrainOutcome:
    return Trainer(spec, data, ctx, runner, eval_batch).run()
