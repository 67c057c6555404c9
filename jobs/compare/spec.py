"""What a backend comparison is: one trained model evaluated on several backends."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from qorch.jobs.errors import SpecError
from qorch.jobs.spec import InferSpec, TrainSpec, check_placement

MAX_BACKENDS = 16


@dataclass(frozen=True)
class BackendToken:
    """One compared backend as typed: `aer:depol2=0.02` is aer with that noise, and
    `statevector:shots=1000` samples an exact backend (exact ones are exact otherwise)."""

    name: str
    noise: str | None = None
    shots: int | None = None

    def __str__(self) -> str:
        keys = [self.noise] if self.noise else []
        keys += [f"shots={self.shots}"] if self.shots is not None else []
        return f"{self.name}:{','.join(keys)}" if keys else self.name


def _with_keys(name: str, keys: str) -> BackendToken:
    """Split `key=value,...` into the noise keys and a `shots` key."""
    noise, shots = [], None
    for item in (k.strip() for k in keys.split(",") if k.strip()):
        key, _, value = item.partition("=")
        if key.strip() == "shots":
            if not value.strip().isdigit() or int(value) < 1:
                raise SpecError(f"--backends: {name}:{item} needs a whole number of shots")
            shots = int(value)
        else:
            noise.append(item)
    return BackendToken(name, ",".join(noise) or None, shots)


def parse_backends(text: str) -> tuple[BackendToken, ...]:
    """`statevector,aer:depol1=0.001,depol2=0.02,fake_brisbane`: a comma list of backends, each
    optionally followed by `:NOISE`. A piece holding `=` but no `:` continues the previous
    backend's noise (backend names never hold `=`); `+` also joins noise keys."""
    tokens: list[BackendToken] = []
    for raw in (piece.strip() for piece in text.split(",")):
        if not raw:
            continue
        if "=" in raw and ":" not in raw:
            if not tokens:
                raise SpecError(f"--backends: noise {raw!r} follows no backend; write "
                                "NAME:KEY=VALUE, e.g. aer:depol2=0.02")
            last = tokens.pop()
            keys = ",".join(filter(None, [last.noise, f"shots={last.shots}" if last.shots
                                          else "", raw]))
            tokens.append(_with_keys(last.name, keys))
            continue
        head, sep, tail = raw.rpartition(":")
        if sep and "=" in tail:
            tokens.append(_with_keys(head, tail.replace("+", ",")))
        else:
            tokens.append(BackendToken(raw))
    if not tokens:
        raise SpecError("--backends needs at least one backend, e.g. statevector,fake_brisbane")
    return tuple(tokens)


@dataclass(frozen=True)
class CompareSpec:
    """Evaluate a SUCCEEDED training job's parameters on every backend listed, over the same
    (first `test_size`) test images, against `reference` (default: the first listed).
    `shots` is for the backends that need shots; exact ones stay exact unless their token
    says `shots=N`."""

    source_job: str
    trained: dict[str, Any]
    backends: tuple[str, ...]
    reference: str | None = None
    shots: int | None = None
    test_size: int | None = None
    seed: int = 0
    cpus: float = 1
    max_restarts: int = 3
    resources: dict[str, float] | None = None
    data_dir: str | None = None
    models: tuple[TrainSpec, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.backends, str):  # the CLI's comma list, as the client may pass it
            object.__setattr__(self, "backends",
                               tuple(str(t) for t in parse_backends(self.backends)))
        tokens = [split_token(t) for t in self.backends]
        if not 1 <= len(tokens) <= MAX_BACKENDS:
            raise SpecError(f"--backends takes 1..{MAX_BACKENDS} backends; got {len(tokens)}")
        if len({str(t) for t in tokens}) != len(tokens):
            raise SpecError(f"--backends lists a backend twice: {', '.join(map(str, tokens))}")
        if self.reference is not None and self.reference not in {str(t) for t in tokens}:
            raise SpecError(f"--reference {self.reference!r} is not among the backends "
                            f"compared ({', '.join(map(str, tokens))})")
        check_placement(self.cpus, self.max_restarts, self.resources)
        models = []
        for token in tokens:
            # The same evaluation as an inference job, per backend: validated the same way.
            infer = InferSpec(source_job=self.source_job, trained=self.trained,
                              backend=token.name, noise=token.noise, shots=token.shots,
                              test_size=self.test_size, seed=self.seed, data_dir=self.data_dir)
            models.append(infer.model)
        if not models[0].has_circuit:
            raise SpecError(f"model {models[0].model} has no quantum layer: there is nothing "
                            "to compare across backends (compare jobs with `qorch compare "
                            "JOB1 JOB2`)")
        if self.shots is not None and (isinstance(self.shots, bool) or not isinstance(
                self.shots, int) or not 1 <= self.shots <= 10**9):
            raise SpecError(f"--shots must be an integer in 1..1000000000; got {self.shots!r}")
        canonical = tuple(str(BackendToken(m.backend, m.noise, m.shots)) for m in models)
        if self.reference is not None:
            object.__setattr__(self, "reference", canonical[[str(t) for t in tokens]
                                                           .index(self.reference)])
        object.__setattr__(self, "backends", canonical)
        object.__setattr__(self, "models", tuple(models))

    @property
    def kind(self) -> str:
        return "compare"

    @property
    def model(self) -> TrainSpec:
        """The compared model, on the reference backend."""
        return self.models[self.reference_index]

    @property
    def reference_index(self) -> int:
        return self.backends.index(self.reference) if self.reference else 0

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        data["backends"] = list(self.backends)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompareSpec:
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown spec fields {unknown}; accepted: {sorted(known)}")
        return cls(**{**data, "backends": tuple(data.get("backends", ()))})


def split_token(text: str) -> BackendToken:
    """A stored token back into its parts (key specs hold `=`, names never do)."""
    head, sep, tail = text.rpartition(":")
    return _with_keys(head, tail) if sep and "=" in tail else BackendToken(text)
