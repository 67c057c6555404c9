"""Each model's own defaults: a field left out of a spec takes its model's value here."""

from __future__ import annotations

from dataclasses import dataclass

MODEL_NAMES = ("hybrid-lenet", "qnn", "pure-qnn", "cnn")
QUANTUM_MODELS = ("hybrid-lenet", "qnn", "pure-qnn")
TRUNK_MODELS = ("hybrid-lenet", "cnn")
HEADS = ("linear", "mlp")  # the classical readout: one linear map, or a small MLP
# Spec fields that only mean something for a model with a quantum layer.
QUANTUM_FIELDS = ("qubits", "layers", "encoding", "rotations", "entangler", "final_rotations",
                  "observables", "init", "shots", "noise", "gradient", "spsa_samples")


@dataclass(frozen=True)
class ModelDefaults:
    """None: the model has no such part, and a spec that sets it is refused."""

    epochs: int
    batch_size: int
    lr: float
    trunk: str | None = None
    qubits: int | None = None
    layers: int | None = None
    encoding: str | None = None
    rotations: str | None = None
    entangler: str | None = None
    observables: tuple[str, ...] | None = None
    init: str | None = None
    head: str | None = None


MODEL_DEFAULTS: dict[str, ModelDefaults] = {
    # Tuned on MNIST (bench/bench_accuracy.py): 8 qubits learn far faster than a 4-qubit <Z>
    # bottleneck; angles centred on pi/2 and a CNOT chain train faster than a ring.
    "hybrid-lenet": ModelDefaults(
        epochs=3, batch_size=64, lr=3e-3, trunk="lenet5", qubits=8, layers=2,
        encoding="angle-ry", rotations="ryrz", entangler="cnot-chain", observables=("z", "zz"),
        init="small", head="linear"),
    # Without a trainable front end the circuit must do the work: a 3×3 pooled image re-read by
    # each of 3 layers and a high rate (3e-3 leaves it below chance after 40 steps; 0.05 ≈ 50 %).
    "qnn": ModelDefaults(
        epochs=3, batch_size=64, lr=0.05, qubits=9, layers=3, encoding="reupload-ry",
        rotations="ryrz", entangler="cnot-chain", observables=("z", "zz"), init="small",
        head="linear"),
    # The tuned 0-vs-1 classifier: a 3x3 pooled image on 9 qubits, 4 RY layers, a CNOT ring.
    "pure-qnn": ModelDefaults(
        epochs=2, batch_size=32, lr=0.05, qubits=9, layers=4, encoding="angle-ry",
        rotations="ry", entangler="cnot-ring", observables=("z",), init="small"),
    "cnn": ModelDefaults(epochs=3, batch_size=64, lr=3e-3, trunk="lenet5"),
}
