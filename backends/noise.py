"""The `--noise` specification: its keys, ranges, parsing and canonical string."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from qorch.backends.errors import NoiseSpecError

# key: (description, low, high, low inclusive). Probabilities follow Braket's conventions (the
# chance that an error happens), so `depol1=p` is the same channel on Aer and on Braket DM.
_KEYS: dict[str, tuple[str, float, float, bool]] = {
    "depol1": ("Pauli error probability after each 1-qubit gate", 0.0, 0.75, True),
    "depol2": ("Pauli error probability after each 2-qubit gate", 0.0, 15 / 16, True),
    "readout": ("symmetric bit-flip probability at measurement", 0.0, 0.5, True),
    "amp": ("amplitude damping gamma after every gate, on each of its qubits", 0.0, 1.0, True),
    "phase": ("phase damping lambda after every gate, on each of its qubits", 0.0, 1.0, True),
    "t1": ("thermal relaxation T1 in seconds (Aer only)", 0.0, math.inf, False),
    "t2": ("thermal relaxation T2 in seconds, <= 2*T1 (Aer only)", 0.0, math.inf, False),
    "gate_time": ("1-qubit gate duration in seconds for thermal relaxation", 0.0, 1e-3, False),
    "gate_time2": ("2-qubit gate duration in seconds (default: 5 x gate_time)", 0.0, 1e-3, False),
}


def _range(key: str) -> str:
    _, low, high, closed = _KEYS[key]
    upper = "inf)" if high == math.inf else f"{high:g}]"
    return f"{'[' if closed else '('}{low:g}, {upper}"


def accepted_keys() -> str:
    """One line listing every key and its range, for error messages and `--help`."""
    return "; ".join(f"{key} in {_range(key)}" for key in _KEYS)


@dataclass(frozen=True)
class NoiseSpec:
    """Noise applied after every gate and at measurement.

    Syntax: comma-separated `key=value`, e.g. `depol1=0.001,depol2=0.01,readout=0.02` or
    `t1=50e-6,t2=70e-6,gate_time=50e-9`; `none` or an empty string means no noise. depol1/depol2
    are the probabilities of a uniformly random non-identity Pauli after 1-/2-qubit gates, readout
    flips each measured bit with that probability, amp/phase are the amplitude and phase damping
    parameters applied to every qubit a gate touches. Thermal relaxation (t1, t2, gate_time,
    gate_time2) is only built for Aer; the Braket density-matrix simulator refuses it.
    """

    depol1: float = 0.0
    depol2: float = 0.0
    readout: float = 0.0
    amp: float = 0.0
    phase: float = 0.0
    t1: float | None = None
    t2: float | None = None
    gate_time: float = 50e-9
    gate_time2: float | None = None

    @property
    def is_noiseless(self) -> bool:
        return self == NoiseSpec()

    @property
    def has_thermal(self) -> bool:
        return self.t1 is not None

    @property
    def two_qubit_time(self) -> float:
        return self.gate_time2 if self.gate_time2 is not None else 5 * self.gate_time

    def to_string(self) -> str:
        """Canonical form (sorted keys, defaults left out), stable for ledgers and hashes."""
        default = NoiseSpec()
        parts = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return ",".join(parts) if parts else "none"


def parse_noise(spec: str | NoiseSpec | None) -> NoiseSpec:
    """Parse `key=value,...` into a NoiseSpec; a NoiseSpec passes through, None means none."""
    if isinstance(spec, NoiseSpec):
        return spec
    if spec is None or spec.strip().lower() in ("", "none", "off", "0"):
        return NoiseSpec()
    values: dict[str, float] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, raw = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in _KEYS:
            what = "unknown noise key" if sep else "expected key=value, got"
            raise NoiseSpecError(f"{what} {(key if sep else item)!r}; accepted: {accepted_keys()}")
        if key in values:
            raise NoiseSpecError(f"noise key {key!r} given twice in {spec!r}")
        try:
            value = float(raw)
        except ValueError:
            raise NoiseSpecError(f"noise {key}={raw.strip()!r} is not a number") from None
        _, low, high, closed = _KEYS[key]
        inside = (value >= low if closed else value > low) and value <= high
        if not math.isfinite(value) or not inside:
            raise NoiseSpecError(
                f"noise {key}={raw.strip()} is out of range: {_KEYS[key][0]} must be in "
                f"{_range(key)}"
            )
        values[key] = value
    thermal = {"t1", "t2", "gate_time", "gate_time2"} & set(values)
    if thermal and not {"t1", "t2"} <= set(values):
        raise NoiseSpecError(
            f"thermal relaxation needs both t1 and t2 (got {', '.join(sorted(thermal))}); "
            "e.g. t1=50e-6,t2=70e-6,gate_time=50e-9"
        )
    if "t1" in values and values["t2"] > 2 * values["t1"]:
        raise NoiseSpecError(
            f"noise t2={values['t2']:g} exceeds 2*t1={2 * values['t1']:g}, which is unphysical"
        )
    return NoiseSpec(**values)
