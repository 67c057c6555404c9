"""Frozen job specifications, validated once when built: what to train or evaluate, and where."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import BackendError, NoiseSpecError, TemplateError
from qorch.backends.family import ENGINES
from qorch.backends.noise import parse_noise
from qorch.backends.noisy.mitigation import MITIGATIONS
from qorch.backends.registry import family_of
from qorch.jobs.data.datasets import DATASETS, SPLIT_SIZES
from qorch.jobs.errors import SpecError
from qorch.jobs.models.defaults import (
    HEADS,
    MODEL_DEFAULTS,
    MODEL_NAMES,
    QUANTUM_FIELDS,
    QUANTUM_MODELS,
    TRUNK_MODELS,
)
from qorch.jobs.recipes import RECIPES

WEIGHT_INITS = ("small", "uniform", "zeros")
GRADIENTS = ("autograd", "parameter-shift", "spsa")
SCHEDULES = ("cosine", "constant")
TRUNKS = ("lenet5", "lenet-wide")
MAX_EPOCHS = 1000
MAX_BATCH = 65_536
MAX_SEED = 2**32 - 1
MAX_CPUS = 1024
DEFAULT_BACKEND = "statevector"


def flag(name: str) -> str:
    """The CLI option of a spec field, for messages."""
    return "--" + name.replace("_", "-")


def _choice(name: str, value: object, accepted: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in accepted:
        raise SpecError(f"{flag(name)} {value!r} is not accepted; accepted: {', '.join(accepted)}")


def _integer(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(f"{flag(name)} must be an integer in {low}..{high}; got {value!r}")


def _positive(name: str, value: object, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= high:
        raise SpecError(f"{flag(name)} must be a number greater than 0 and at most {high:g}; "
                        f"got {value!r}")


def _check_backend(name: object) -> str:
    if not isinstance(name, str):
        raise SpecError(f"--backend must be a name; got {name!r}")
    try:
        family_of(name)
    except BackendError as err:
        raise SpecError(str(err)) from None
    return name.strip()


def check_placement(cpus: object, max_restarts: object, resources: object) -> None:
    """What a job asks of the cluster: CPUs (torch threads follow), restarts, custom resources."""
    # A fraction of a CPU suits a job that mostly waits (for a provider's queue, say).
    if isinstance(cpus, bool) or not isinstance(cpus, (int, float)) or not 0.1 <= cpus <= MAX_CPUS:
        raise SpecError(f"--cpus must be a number in 0.1..{MAX_CPUS}; got {cpus!r}")
    _integer("max_restarts", max_restarts, 0, 100)
    if resources is None:
        return
    if not isinstance(resources, dict) or not all(
            isinstance(k, str) and k and k not in ("CPU", "GPU", "memory")
            and not isinstance(v, bool) and isinstance(v, (int, float)) and 0 < v <= 10**6
            for k, v in resources.items()):
        raise SpecError(f"--resources must be NAME=AMOUNT pairs of custom resources (amounts "
                        f"above 0; CPU comes from --cpus); got {resources!r}")


@dataclass(frozen=True)
class TrainSpec:
    """Everything a training job needs. Fields left None take the model's defaults; options that
    the model would ignore (a quantum option on `cnn`, `--trunk` on `qnn`) are refused."""

    dataset: str = "mnist"
    model: str = "hybrid-lenet"
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    train_size: int | None = None
    test_size: int | None = None
    seed: int = 0
    backend: str = DEFAULT_BACKEND
    checkpoint_every: int = 0
    cpus: float = 1
    max_restarts: int = 3
    resources: dict[str, float] | None = None
    data_dir: str | None = None
    qubits: int | None = None
    layers: int | None = None
    encoding: str | None = None
    rotations: str | None = None
    entangler: str | None = None
    final_rotations: str | None = None
    observables: tuple[str, ...] | None = None
    classes: tuple[int, ...] | None = None
    shots: int | None = None
    init: str | None = None
    noise: str | None = None
    gradient: str | None = None
    spsa_samples: int | None = None
    schedule: str = "cosine"
    trunk: str | None = None
    head: str | None = None
    recipe: str | None = None
    engine: str | None = None
    mitigate: str | None = None
    circuit: CircuitTemplate | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        _choice("dataset", self.dataset, tuple(DATASETS))
        _choice("model", self.model, MODEL_NAMES)
        self._apply_defaults()
        object.__setattr__(self, "backend", _check_backend(self.backend))
        _integer("epochs", self.epochs, 1, MAX_EPOCHS)
        _integer("batch_size", self.batch_size, 1, MAX_BATCH)
        _positive("lr", self.lr, 10.0)
        for name, split in (("train_size", "train"), ("test_size", "test")):
            if getattr(self, name) is not None:
                _integer(name, getattr(self, name), 1, SPLIT_SIZES[split])
        _integer("checkpoint_every", self.checkpoint_every, 0, 10**9)
        check_placement(self.cpus, self.max_restarts, self.resources)
        _integer("seed", self.seed, 0, MAX_SEED)
        _choice("schedule", self.schedule, SCHEDULES)
        if self.trunk is not None:
            _choice("trunk", self.trunk, TRUNKS)
        if self.head is not None:
            _choice("head", self.head, HEADS)
        if self.recipe is not None:
            _choice("recipe", self.recipe, tuple(RECIPES))
        self._check_classes()
        if self.model == "cnn":
            if self.backend != DEFAULT_BACKEND:
                raise SpecError(f"--backend {self.backend} would be ignored: model cnn runs no "
                                "circuits (choose a quantum model or leave --backend out)")
            for name in ("engine", "mitigate"):
                if getattr(self, name) is not None:
                    raise SpecError(f"{flag(name)} {getattr(self, name)} would be ignored: "
                                    "model cnn has no quantum layer")
            return
        self._check_quantum()

    def _apply_defaults(self) -> None:
        defaults = dataclasses.asdict(MODEL_DEFAULTS[self.model])
        quantum = self.model in QUANTUM_MODELS
        for name in dict.fromkeys((*defaults, *QUANTUM_FIELDS)):
            value, default = getattr(self, name), defaults.get(name)
            # Quantum options without a model default (shots, noise, ...) belong to every
            # quantum model and to no other.
            relevant = default is not None or (quantum and name in QUANTUM_FIELDS)
            if value is None and default is not None:
                object.__setattr__(self, name, default)
            elif value is not None and not relevant:
                why = ("has no quantum layer" if name in QUANTUM_FIELDS
                       else "has no classical readout head (only hybrid-lenet, qnn have one)"
                       if name == "head"
                       else f"uses no CNN trunk (only {', '.join(TRUNK_MODELS)} do)")
                raise SpecError(f"{flag(name)} {_shown(value)} would be ignored: model "
                                f"{self.model} {why}")

    def _check_classes(self) -> None:
        if self.classes is None:
            if self.model == "pure-qnn":
                raise SpecError("pure-qnn is a binary classifier: give two classes, e.g. "
                                "--classes 0,1")
            return
        classes = tuple(self.classes)
        object.__setattr__(self, "classes", classes)
        if any(isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 9 for c in classes):
            raise SpecError(f"--classes must be labels 0..9; got {list(classes)}")
        if len(set(classes)) != len(classes) or len(classes) < 2:
            raise SpecError(f"--classes must be at least two distinct labels; got {list(classes)}")
        if self.model == "pure-qnn" and len(classes) != 2:
            raise SpecError(f"pure-qnn takes exactly two classes; got {list(classes)}")

    def _check_quantum(self) -> None:
        _choice("init", self.init, WEIGHT_INITS)
        if self.shots is not None:
            _integer("shots", self.shots, 1, 10**9)
        if self.noise is not None:
            try:
                object.__setattr__(self, "noise", parse_noise(self.noise).to_string())
            except NoiseSpecError as err:
                raise SpecError(f"--noise: {err}") from None
        if self.gradient is not None:
            _choice("gradient", self.gradient, GRADIENTS)
        if self.engine is not None:
            _choice("engine", self.engine, ENGINES)
        if self.mitigate is not None:
            _choice("mitigate", self.mitigate, MITIGATIONS)
        if self.spsa_samples is not None:
            if self.gradient != "spsa":
                raise SpecError(f"--spsa-samples {self.spsa_samples} would be ignored: it only "
                                "applies with --gradient spsa")
            _integer("spsa_samples", self.spsa_samples, 1, 1000)
        object.__setattr__(self, "observables", tuple(self.observables or ()))
        try:
            circuit = CircuitTemplate(
                n_qubits=self.qubits, n_layers=self.layers,  # type: ignore[arg-type]
                encoding=self.encoding, rotations=self.rotations,  # type: ignore[arg-type]
                entangler=self.entangler, observables=self.observables,  # type: ignore[arg-type]
                final_rotations=self.final_rotations,
            )
        except TemplateError as err:
            raise SpecError(_as_options(str(err))) from err
        if self.model == "pure-qnn" and circuit.observables != ("z",):
            raise SpecError(f"--observables {_shown(circuit.observables)} would be ignored: "
                            "pure-qnn reads only ⟨Z⟩ of qubit 0 (--observables z)")
        object.__setattr__(self, "circuit", circuit)

    @property
    def kind(self) -> str:
        return "train"

    @property
    def has_circuit(self) -> bool:
        return self.model in QUANTUM_MODELS

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes else 10

    def template(self) -> CircuitTemplate:
        """The circuit of the model's quantum layer (built once, when the spec was)."""
        if self.circuit is None:
            raise SpecError(f"model {self.model} has no quantum layer")
        return self.circuit

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        for name in ("observables", "classes"):
            if data[name] is not None:
                data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSpec:
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown spec fields {unknown}; accepted: {sorted(known)}")
        fields = dict(data)
        for name in ("observables", "classes"):
            if isinstance(fields.get(name), list):
                fields[name] = tuple(fields[name])
        return cls(**fields)


def _shown(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


# What an inference takes from its own options rather than from the training spec.
EVALUATION_FIELDS = ("backend", "shots", "noise", "test_size", "seed", "cpus", "max_restarts",
                     "resources", "data_dir", "engine", "mitigate")
TRAINING_ONLY = ("gradient", "spsa_samples", "checkpoint_every", "train_size", "batch_size")


@dataclass(frozen=True)
class InferSpec:
    """Evaluate a trained job's final parameters on a (possibly different) backend."""

    source_job: str
    trained: dict[str, Any]  # the source job's TrainSpec, as stored
    backend: str = DEFAULT_BACKEND
    shots: int | None = None
    noise: str | None = None
    test_size: int | None = None
    batch_size: int | None = None  # None: as few provider jobs as the backend's limits allow
    seed: int = 0
    cpus: float = 1
    max_restarts: int = 3
    resources: dict[str, float] | None = None
    data_dir: str | None = None
    engine: str | None = None
    mitigate: str | None = None
    model: TrainSpec = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.batch_size is not None:
            _integer("batch_size", self.batch_size, 1, MAX_BATCH)
        fields = {k: v for k, v in self.trained.items() if k not in TRAINING_ONLY}
        fields.update({name: getattr(self, name) for name in EVALUATION_FIELDS})
        fields["data_dir"] = self.data_dir or self.trained.get("data_dir")
        # Validated once here; the job uses this spec from now on.
        object.__setattr__(self, "model", TrainSpec.from_dict(fields))

    @property
    def kind(self) -> str:
        return "infer"

    @property
    def dataset(self) -> str:
        return self.model.dataset

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferSpec:
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown spec fields {unknown}; accepted: {sorted(known)}")
        return cls(**data)


def _as_options(message: str) -> str:
    """A template's complaint in the words of the options that set it."""
    message = message.replace("n_qubits", "--qubits").replace("n_layers", "--layers")
    return re.sub(r"^(encoding|rotations|entangler|final_rotations|observables)\b",
                  lambda m: "--" + m.group(1).replace("_", "-"), message)
