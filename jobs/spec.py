"""Frozen, validated job specifications: what to train or evaluate, and where."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import TemplateError
from qorch.backends.registry import ACCEPTED as BACKEND_FORMS
from qorch.backends.registry import is_backend_name
from qorch.jobs.data.datasets import DATASETS, SPLIT_SIZES
from qorch.jobs.errors import SpecError

MODEL_NAMES = ("hybrid-lenet", "qnn", "pure-qnn", "cnn")
QUANTUM_MODELS = ("hybrid-lenet", "qnn", "pure-qnn")
MAX_SHOTS = 10_000_000
WEIGHT_INITS = ("small", "uniform", "zeros")
GRADIENTS = ("parameter-shift", "spsa")
SCHEDULES = ("cosine", "constant")
TRUNKS = ("lenet5", "lenet-wide")
EXACT_BACKEND = "statevector"
DEFAULT_SHOTS = 1024
MAX_EPOCHS = 1000
MAX_BATCH = 65_536


def _choice(field: str, value: str, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        raise SpecError(f"unknown {field} {value!r}; accepted: {', '.join(accepted)}")


def _positive(field: str, value: float, upper: float | None = None) -> None:
    if not value > 0 or (upper is not None and value > upper):
        bound = f" and at most {upper:g}" if upper is not None else ""
        raise SpecError(f"{field} must be greater than 0{bound}; got {value!r}")


@dataclass(frozen=True)
class TrainSpec:
    """Everything a training job needs; validated on construction."""

    dataset: str = "mnist"
    model: str = "hybrid-lenet"
    epochs: int = 3
    batch_size: int = 64
    lr: float = 3e-3
    train_size: int | None = None
    test_size: int | None = None
    seed: int = 0
    backend: str = "statevector"
    checkpoint_every: int = 0
    threads: int | None = None
    data_dir: str | None = None
    qubits: int = 8
    layers: int = 2
    encoding: str = "angle-ry"
    rotations: str = "ryrz"
    entangler: str = "cnot-chain"
    observables: tuple[str, ...] = ("z", "zz")
    classes: tuple[int, ...] | None = None
    shots: int | None = None
    init: str = "small"
    noise: str | None = None
    gradient: str = "parameter-shift"
    spsa_samples: int = 1
    schedule: str = "cosine"
    trunk: str = "lenet5"

    def __post_init__(self) -> None:
        _choice("dataset", self.dataset, tuple(DATASETS))
        _choice("model", self.model, MODEL_NAMES)
        if not is_backend_name(self.backend):
            raise SpecError(f"unknown backend {self.backend!r}; accepted: {BACKEND_FORMS}")
        _positive("epochs", self.epochs, MAX_EPOCHS)
        _positive("batch size", self.batch_size, MAX_BATCH)
        _positive("learning rate", self.lr, 10.0)
        for name, size, split in (("train size", self.train_size, "train"),
                                  ("test size", self.test_size, "test")):
            if size is not None:
                _positive(name, size, SPLIT_SIZES[split])
        if self.checkpoint_every < 0:
            raise SpecError(f"checkpoint interval must be 0 (epochs only) or more; got "
                            f"{self.checkpoint_every}")
        if self.threads is not None:
            _positive("threads", self.threads, 1024)
        if self.seed < 0:
            raise SpecError(f"seed must be 0 or more; got {self.seed}")
        if self.shots is not None:
            _positive("shots", self.shots, MAX_SHOTS)
        elif self.uses_remote_backend:
            object.__setattr__(self, "shots", DEFAULT_SHOTS)
        _choice("gradient", self.gradient, GRADIENTS)
        _choice("learning-rate schedule", self.schedule, SCHEDULES)
        _choice("trunk", self.trunk, TRUNKS)
        _positive("SPSA samples", self.spsa_samples, 1000)
        if self.noise and not self.uses_remote_backend:
            raise SpecError(f"--noise {self.noise!r} would be ignored: the exact statevector path "
                            "is noiseless; use --backend aer or braket_dm (or a fake_<device>)")
        if self.model == "cnn" and self.shots is not None:
            raise SpecError("model cnn runs no circuits; --shots would not be used")
        if self.model == "cnn" and self.backend != EXACT_BACKEND:
            raise SpecError(f"model cnn runs no circuits; backend {self.backend!r} would not be "
                            "used (choose a quantum model or leave --backend out)")
        object.__setattr__(self, "observables", tuple(self.observables))
        _choice("weight init", self.init, WEIGHT_INITS)
        self._check_classes()
        if self.model in QUANTUM_MODELS:
            self.template()  # refuses bad qubits/layers/encoding/... with the accepted range

    def _check_classes(self) -> None:
        if self.classes is None:
            if self.model == "pure-qnn":
                raise SpecError("pure-qnn is a binary classifier: give two classes, e.g. "
                                "--classes 0,1")
            return
        classes = tuple(self.classes)
        object.__setattr__(self, "classes", classes)
        if any(not isinstance(c, int) or not 0 <= c <= 9 for c in classes):
            raise SpecError(f"classes must be labels 0..9; got {list(classes)}")
        if len(set(classes)) != len(classes) or len(classes) < 2:
            raise SpecError(f"classes must be at least two distinct labels; got {list(classes)}")
        if self.model == "pure-qnn" and len(classes) != 2:
            raise SpecError(f"pure-qnn takes exactly two classes; got {list(classes)}")

    def model_spec(self) -> TrainSpec:
        """The spec that builds the model (an InferSpec derives one from its source job)."""
        return self

    @property
    def uses_remote_backend(self) -> bool:
        """Circuits go through a backend adapter (shots, ledger) rather than autograd."""
        return self.backend != EXACT_BACKEND and self.model != "cnn"

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes else 10

    def template(self) -> CircuitTemplate:
        """The circuit of the model's quantum layer."""
        try:
            return CircuitTemplate(
                n_qubits=self.qubits, n_layers=self.layers, encoding=self.encoding,
                rotations=self.rotations, entangler=self.entangler,
                observables=self.observables,
            )
        except TemplateError as err:
            raise SpecError(str(err).replace("n_qubits", "qubits").replace("n_layers", "layers")
                            ) from err

    @property
    def kind(self) -> str:
        return "train"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown spec fields {unknown}; accepted: {sorted(known)}")
        fields = dict(data)
        for name in ("observables", "classes"):
            if isinstance(fields.get(name), list):
                fields[name] = tuple(fields[name])
        return cls(**fields)


@dataclass(frozen=True)
class InferSpec:
    """Evaluate a trained job's final parameters on a (possibly different) backend."""

    source_job: str
    trained: dict[str, Any]  # the source job's TrainSpec, as stored
    backend: str = EXACT_BACKEND
    shots: int | None = None
    noise: str | None = None
    test_size: int | None = None
    batch_size: int = 64
    seed: int = 0
    threads: int | None = None
    data_dir: str | None = None

    def __post_init__(self) -> None:
        self.model_spec()  # refuses a backend, shots or sizes the model cannot take
        _positive("batch size", self.batch_size, MAX_BATCH)

    @property
    def kind(self) -> str:
        return "infer"

    def model_spec(self) -> TrainSpec:
        """The trained model's spec, re-pointed at this evaluation's backend and data."""
        fields = dict(self.trained)
        fields.update(backend=self.backend, shots=self.shots, noise=self.noise,
                      test_size=self.test_size, seed=self.seed, threads=self.threads,
                      batch_size=self.batch_size,
                      data_dir=self.data_dir or fields.get("data_dir"))
        return TrainSpec.from_dict(fields)

    @property
    def dataset(self) -> str:
        return str(self.trained["dataset"])

    @property
    def classes(self) -> tuple[int, ...] | None:
        return self.model_spec().classes

    @property
    def uses_remote_backend(self) -> bool:
        return self.model_spec().uses_remote_backend

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferSpec:
        return cls(**data)
