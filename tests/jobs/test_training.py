"""The training loop through an in-memory JobContext: learning, seeding, exact resume, stopping."""

from __future__ import annotations

import pytest

from qorch.jobs.data.tensors import TensorData, load_tensors
from qorch.jobs.loops.training import train
from qorch.jobs.spec import TrainSpec
from tests.conftest import DATASETS as SHARED


class MemoryContext:
    """A JobContext that keeps everything in lists; stops once `stop_after` steps were logged."""

    def __init__(self, checkpoints: list[tuple[int, int, str, bytes]] | None = None,
                 stop_after: int | None = None) -> None:
        self.metrics: list[tuple[int, int, str, float]] = []
        self.checkpoints = checkpoints if checkpoints is not None else []
        self.stop_after = stop_after
        self.phases: list[str] = []

    def log_metrics(self, step: int, epoch: int, values: dict[str, float]) -> None:
        self.metrics.extend((step, epoch, k, v) for k, v in values.items())

    def save_checkpoint(self, step: int, epoch: int, kind: str, payload: bytes) -> None:
        self.checkpoints.append((step, epoch, kind, payload))

    def latest_checkpoint(self) -> bytes | None:
        resumable = [c for c in self.checkpoints if c[2] in ("step", "epoch")]
        return resumable[-1][3] if resumable else None

    def should_stop(self) -> bool:
        steps = {m[0] for m in self.metrics if m[2] == "loss"}
        return self.stop_after is not None and len(steps) >= self.stop_after

    def set_phase(self, phase: str) -> None:
        self.phases.append(phase)


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory: pytest.TempPathFactory) -> TensorData:
    return load_tensors("mnist", train_size=640, test_size=200, data_dir=SHARED / "mnist",
                        cache_dir=tmp_path_factory.mktemp("cache"))


def _series(ctx: MemoryContext, name: str) -> list[float]:
    return [v for _, _, k, v in ctx.metrics if k == name]


def test_same_seed_same_metrics_other_seed_differs(small_mnist: TensorData) -> None:
    spec = TrainSpec(model="cnn", epochs=1, batch_size=64, seed=3, train_size=640, test_size=200)
    runs = [MemoryContext() for _ in range(2)]
    for ctx in runs:
        train(spec, small_mnist, ctx)
    assert _series(runs[0], "loss") == _series(runs[1], "loss")
    other = MemoryContext()
    train(TrainSpec(model="cnn", epochs=1, batch_size=64, seed=4, train_size=640, test_size=200),
          small_mnist, other)
    assert _series(other, "loss") != _series(runs[0], "loss")


@pytest.mark.parametrize("stop_after", [3, 10, 14])  # mid-epoch, exactly at an epoch end, later
def test_interrupted_run_resumes_exactly(small_mnist: TensorData, stop_after: int) -> None:
    spec = TrainSpec(model="cnn", epochs=2, batch_size=64, seed=1, train_size=640, test_size=200,
                     checkpoint_every=1)
    reference = MemoryContext()
    expected = train(spec, small_mnist, reference)

    first = MemoryContext(stop_after=stop_after)
    assert train(spec, small_mnist, first).stopped
    second = MemoryContext(checkpoints=first.checkpoints)
    resumed = train(spec, small_mnist, second)
    assert not resumed.stopped
    assert resumed.result["test_accuracy"] == expected.result["test_accuracy"]
    assert _series(first, "loss")[:stop_after] + _series(second, "loss") == _series(
        reference, "loss")
    assert _series(second, "train_accuracy")[-1] == _series(reference, "train_accuracy")[-1]
    assert any("resumed" in p for p in second.phases)


def test_checkpoints_each_epoch_and_final(small_mnist: TensorData) -> None:
    ctx = MemoryContext()
    spec = TrainSpec(model="cnn", epochs=2, train_size=640, test_size=200)
    outcome = train(spec, small_mnist, ctx)
    assert [(c[0], c[2]) for c in ctx.checkpoints] == [(10, "epoch"), (20, "epoch"), (20, "final")]
    assert outcome.result["steps"] == 20 and outcome.result["epochs"] == 2
    assert outcome.result["parameters"]["classical"] > 60_000
    epoch_rows = [m for m in ctx.metrics if m[2] == "test_accuracy"]
    assert [m[1] for m in epoch_rows] == [1, 2]

