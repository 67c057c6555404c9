"""Specs: validated once when built, the model's own defaults, options a model would ignore
refused, and the capabilities (never the backend's name) deciding shots and gradients."""

from __future__ import annotations

import pytest

from qorch.backends.errors import CapabilityError
from qorch.backends.registry import resolve
from qorch.jobs.errors import SpecError
from qorch.jobs.quantum.setup import DEFAULT_SHOTS, quantum_setup
from qorch.jobs.spec import InferSpec, TrainSpec


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"qubits": 0}, "qubits must be an integer in 1..20"),
        ({"qubits": 21}, "qubits must be an integer in 1..20"),
        ({"layers": 0}, "layers must be an integer in 1..50"),
        ({"layers": 51}, "layers must be an integer in 1..50"),
        ({"model": "pure-qnn"}, "give two classes"),
        ({"model": "pure-qnn", "classes": (0, 1, 2)}, "exactly two classes"),
        ({"classes": (3, 3)}, "two distinct labels"),
        ({"classes": (1, 12)}, "labels 0..9"),
        ({"encoding": "amplitude"}, "encoding must be one of angle-ry"),
        ({"observables": ("x",)}, "observables must be"),
        ({"init": "he"}, "--init 'he' is not accepted; accepted: small, uniform, zeros"),
        ({"shots": 0}, "--shots must be an integer in 1..1000000000"),
        ({"seed": 99999999999999999999999}, "--seed must be an integer in 0..4294967295"),
        ({"seed": -1}, "--seed must be an integer in 0..4294967295"),
        ({"cpus": 0}, "--cpus must be a number in 0.1..1024"),
        ({"epochs": 0}, "--epochs must be an integer in 1..1000"),
        ({"lr": float("nan")}, "--lr must be a number greater than 0"),
        ({"backend": "nowhere"}, "unknown backend 'nowhere'"),
        ({"noise": "depol1=2"}, "out of range"),
        ({"resources": {"CPU": 2}}, "CPU comes from --cpus"),
        ({"model": "cnn", "backend": "aer"}, "--backend aer would be ignored: model cnn"),
        ({"model": "cnn", "qubits": 4}, "--qubits 4 would be ignored: model cnn has no quantum"),
        ({"model": "cnn", "encoding": "angle-rx"}, "--encoding angle-rx would be ignored"),
        ({"model": "cnn", "shots": 100}, "--shots 100 would be ignored"),
        ({"model": "qnn", "trunk": "lenet-wide"}, "--trunk lenet-wide would be ignored: model "
                                                  "qnn uses no CNN trunk"),
        ({"model": "pure-qnn", "classes": (0, 1), "observables": ("z", "zz")},
         "--observables z,zz would be ignored: pure-qnn reads only"),
        ({"spsa_samples": 3}, "--spsa-samples 3 would be ignored: it only applies with "
                              "--gradient spsa"),
        ({"gradient": "backprop"}, "--gradient 'backprop' is not accepted"),
    ],
)
def test_bad_values_are_refused_in_one_line(options: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        TrainSpec(**options)
    assert "\n" not in str(caught.value)


def test_each_model_takes_its_own_defaults() -> None:
    hybrid = TrainSpec()
    assert (hybrid.qubits, hybrid.layers, hybrid.lr, hybrid.trunk) == (8, 2, 3e-3, "lenet5")
    pure = TrainSpec(model="pure-qnn", classes=(0, 1))
    assert (pure.qubits, pure.layers, pure.rotations, pure.lr, pure.batch_size) == (
        9, 4, "ry", 0.05, 32)
    assert pure.trunk is None
    cnn = TrainSpec(model="cnn")
    assert cnn.qubits is None and cnn.circuit is None and cnn.trunk == "lenet5"
    assert TrainSpec(model="pure-qnn", classes=(0, 1), lr=0.01).lr == 0.01  # explicit wins


def test_a_stored_spec_round_trips_without_tripping_the_ignored_option_check() -> None:
    for spec in (TrainSpec(), TrainSpec(model="cnn"), TrainSpec(model="qnn", qubits=4),
                 TrainSpec(model="pure-qnn", classes=(3, 8), gradient="spsa", spsa_samples=2)):
        assert TrainSpec.from_dict(spec.to_dict()) == spec


def test_an_inference_builds_its_model_spec_once() -> None:
    trained = TrainSpec(model="qnn", qubits=4, backend="aer", gradient="spsa",
                        spsa_samples=2).to_dict()
    spec = InferSpec(source_job="abc", trained=trained, backend="statevector", test_size=100)
    assert spec.model.backend == "statevector" and spec.model.qubits == 4
    assert spec.model.gradient is None and spec.model.spsa_samples is None
    assert spec.model is spec.model  # built in __post_init__, not per access
    assert InferSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError, match="--shots 100 would be ignored: model cnn"):
        InferSpec(source_job="abc", trained=TrainSpec(model="cnn").to_dict(), shots=100)


def test_capabilities_decide_shots_and_gradient() -> None:
    spec = TrainSpec()
    exact = quantum_setup(spec, resolve("statevector").capabilities, "statevector")
    assert exact.shots is None and exact.gradient == "autograd"
    sampled = quantum_setup(TrainSpec(shots=500), resolve("statevector").capabilities, "sv")
    assert sampled.shots == 500 and sampled.gradient == "autograd"
    shifted = quantum_setup(TrainSpec(gradient="parameter-shift"),
                            resolve("statevector").capabilities, "statevector")
    assert shifted.shots is None and shifted.gradient == "parameter-shift"
    aer = quantum_setup(spec, resolve("aer").capabilities, "aer")
    assert aer.shots == DEFAULT_SHOTS and aer.gradient == "parameter-shift"
    with pytest.raises(CapabilityError, match="--gradient autograd needs a differentiable"):
        quantum_setup(TrainSpec(gradient="autograd"), resolve("aer").capabilities, "aer")
