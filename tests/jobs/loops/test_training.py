"""The training loop through an in-memory JobContext: learning, seeding, exact resume, stopping."""

from __future__ import annotations

import pytest

from qorch.jobs.data.datasets import DataSource
from qorch.jobs.data.tensors import TensorData, load_tensors
from qorch.jobs.loops.training import train
from qorch.jobs.spec import TrainSpec
from tests.conftest import DATASETS as SHARED
from tests.jobs.memory import MemoryContext


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory: pytest.TempPathFactory) -> TensorData:
    source = DataSource(SHARED / "mnist", tmp_path_factory.mktemp("cache"))
    return load_tensors("mnist", train_size=640, test_size=200, source=source)


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

