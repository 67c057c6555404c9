"""Noise-aware training and the --engine / --mitigate options, through the jobs layer."""

from __future__ import annotations

import pytest

from qorch.backends.registry import resolve
from qorch.jobs.data.datasets import DataSource
from qorch.jobs.data.tensors import TensorData, load_tensors
from qorch.jobs.errors import SpecError
from qorch.jobs.loops.training import train
from qorch.jobs.quantum.runners import AutogradRunner, ShotRunner
from qorch.jobs.quantum.setup import quantum_setup, training_runner
from qorch.jobs.spec import InferSpec, TrainSpec
from tests.conftest import DATASETS as SHARED
from tests.jobs.memory import MemoryContext


def test_engine_and_mitigate_are_validated_and_inherited() -> None:
    spec = TrainSpec(model="qnn", backend="fake_brisbane", engine="aer", mitigate="readout")
    assert (spec.engine, spec.mitigate) == ("aer", "readout")
    with pytest.raises(SpecError, match="--engine 'gpu' is not accepted; accepted: torch, aer"):
        TrainSpec(model="qnn", backend="fake_brisbane", engine="gpu")
    with pytest.raises(SpecError, match="--mitigate 'zne' is not accepted; accepted: readout"):
        TrainSpec(model="qnn", mitigate="zne")
    with pytest.raises(SpecError, match="--mitigate readout would be ignored: model cnn"):
        TrainSpec(model="cnn", mitigate="readout")
    trained = TrainSpec(model="qnn", backend="fake_brisbane").to_dict()
    infer = InferSpec(source_job="j1", trained=trained, backend="fake_fez", mitigate="readout")
    assert infer.model.mitigate == "readout" and infer.model.engine is None


def test_noisy_device_defaults_to_parameter_shift_and_opts_into_autograd() -> None:
    backend = resolve("fake_brisbane")
    plain = quantum_setup(TrainSpec(model="qnn", backend="fake_brisbane"),
                          backend.capabilities, backend.name)
    assert plain.gradient == "parameter-shift" and plain.shots == 1024
    spec = TrainSpec(model="qnn", backend="fake_brisbane", gradient="autograd")
    setup = quantum_setup(spec, backend.capabilities, backend.name)
    assert setup.autograd and setup.shots == 1024
    runner = training_runner(spec, setup, backend, MemoryContext())
    assert isinstance(runner, AutogradRunner)
    aer = resolve("fake_brisbane", engine="aer")
    with pytest.raises(Exception, match="needs a differentiable backend"):
        quantum_setup(TrainSpec(model="qnn", backend="fake_brisbane", engine="aer",
                                gradient="autograd"), aer.capabilities, aer.name)
    assert isinstance(training_runner(spec, plain, backend, MemoryContext()), ShotRunner)


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory: pytest.TempPathFactory) -> TensorData:
    source = DataSource(SHARED / "mnist", tmp_path_factory.mktemp("cache"))
    return load_tensors("mnist", train_size=256, test_size=128, source=source)


def test_noise_aware_training_runs_through_the_device_noise(small_mnist: TensorData) -> None:
    """qnn on fake_brisbane with --gradient autograd: every step and the evaluation run on the
    engine in process (no circuit batch is sent), the loss goes down, and the same seed gives
    the same run."""
    spec = TrainSpec(model="qnn", backend="fake_brisbane", gradient="autograd", qubits=4,
                     layers=2, encoding="angle-ry",
                     epochs=1, batch_size=32, train_size=256, test_size=128, lr=0.02, seed=2,
                     schedule="constant")
    backend = resolve(spec.backend, seed=spec.seed)
    setup = quantum_setup(spec, backend.capabilities, backend.name)
    runs = []
    for _ in range(2):
        ctx = MemoryContext()
        outcome = train(spec, small_mnist, ctx, training_runner(spec, setup, backend, ctx))
        runs.append(([v for _, _, k, v in ctx.metrics if k == "loss"], outcome))
        assert not ctx.sent
    losses, outcome = runs[0]
    assert len(losses) == 8 and losses == runs[1][0]
    assert sum(losses[-3:]) < sum(losses[:3])
    assert 0.0 <= outcome.result["test_accuracy"] <= 1.0
