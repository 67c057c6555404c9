"""The circuit template: a small, hashable description of a layered variational circuit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from qorch.backends.errors import TemplateError


def plural(count: int, noun: str) -> str:
    """'1 qubit', '2 qubits'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


MAX_QUBITS = 20
MAX_LAYERS = 50
ENCODINGS = ("angle-ry", "angle-rx", "angle-rz", "reupload-ry", "reupload-rx", "zz-feature")
# Qiskit's ZZFeatureMap repeats its block twice by default.
ZZ_FEATURE_REPS = 2
# Gates of one trainable block, in the order they act on the qubit.
ROTATIONS: dict[str, tuple[str, ...]] = {
    "rx": ("rx",),
    "ry": ("ry",),
    "rz": ("rz",),
    "ryrz": ("ry", "rz"),
    "rot": ("rz", "ry", "rz"),
}
ENTANGLERS = ("cnot-ring", "cnot-chain", "cz-ring", "cnot-chain-reverse", "strong")
OBSERVABLES = ("z", "zz", "probs")
FIELDS = ("n_qubits", "n_layers", "encoding", "rotations", "entangler", "observables",
          "final_rotations")
# The structure the simulator's fused layer-by-layer plan is built for; other templates run
# gate by gate.
LAYERED_ENCODINGS = ENCODINGS[:5]
LAYERED_ENTANGLERS = ENTANGLERS[:3]


class Gate(NamedTuple):
    """One gate of the circuit; `param` is ("x", input index) or ("w", flat weight index)."""

    name: str
    wires: tuple[int, ...]
    param: tuple[str, int] | None = None


class InputSlot(NamedTuple):
    """How one circuit input angle comes from the features x: scale·x[first], or, for a pair,
    scale·(π − x[first])·(π − x[second]) (the ZZ feature map's two-qubit angle)."""

    first: int
    second: int | None = None
    scale: float = 1.0


def _choices(values: tuple[str, ...] | Mapping[str, Any]) -> str:
    return ", ".join(values)


def _check_int(name: str, value: object, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise TemplateError(f"{name} must be an integer in 1..{high}, got {value!r}")


def _check_choice(name: str, value: object, choices: tuple[str, ...] | Mapping[str, Any]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise TemplateError(f"{name} must be one of {_choices(choices)}, got {value!r}")


@dataclass(frozen=True)
class CircuitTemplate:
    """Encoding, then n_layers × (trainable rotations on every qubit, entangler), then an
    optional final rotation layer, then measurement.

    Encoding `angle-<r>` rotates qubit i by feature i once, before the first layer; `angle-rz`
    puts a Hadamard on every qubit first, since RZ on |0> would only add a phase.
    `reupload-<r>` applies the same encoding before every layer (data re-uploading).
    `zz-feature` is Qiskit's ZZFeatureMap (full entanglement, 2 repetitions; P gates as RZ, equal
    up to a global phase): its circuit inputs are the `input_slots()` of the features.
    Entanglers: CNOTs (i, i+1) in a chain, its reverse (Qiskit's reverse_linear), a ring, CZs
    in a ring, or `strong`: CNOTs (i, i+r mod n) with range r = layer mod (n−1) + 1, as in
    PennyLane's StronglyEntanglingLayers. `final_rotations` (Qiskit's RealAmplitudes ends with
    one) adds a trainable rotation layer after the last entangler.
    Observables: `z` gives <Z_i> per qubit, `zz` gives <Z_i Z_i+1> for i < n-1, `probs` the 2^n
    basis probabilities with qubit 0 the most significant bit; outputs are concatenated in the
    order the observables are listed. Weights are flat, laid out as `weight_shape`
    (layer, qubit, rotation) in C order, then the final layer's (qubit, rotation).
    """

    n_qubits: int
    n_layers: int
    encoding: str = "angle-ry"
    rotations: str = "ry"
    entangler: str = "cnot-ring"
    observables: tuple[str, ...] = ("z",)
    final_rotations: str | None = None

    def __post_init__(self) -> None:
        _check_int("n_qubits", self.n_qubits, MAX_QUBITS)
        _check_int("n_layers", self.n_layers, MAX_LAYERS)
        _check_choice("encoding", self.encoding, ENCODINGS)
        _check_choice("rotations", self.rotations, ROTATIONS)
        _check_choice("entangler", self.entangler, ENTANGLERS)
        if self.final_rotations is not None:
            _check_choice("final_rotations", self.final_rotations, ROTATIONS)
        obs = self.observables
        if isinstance(obs, str) or not isinstance(obs, (tuple, list)):
            raise TemplateError(
                f"observables must be a sequence drawn from {_choices(OBSERVABLES)}, got {obs!r}"
            )
        bad = [o for o in obs if o not in OBSERVABLES]
        if not obs or bad or len(set(obs)) != len(obs):
            raise TemplateError(
                "observables must be a non-empty list of distinct values from "
                f"{_choices(OBSERVABLES)}, got {list(obs)!r}"
            )
        # Lists are accepted for convenience; the stored value must stay hashable.
        object.__setattr__(self, "observables", tuple(obs))
        if self.n_outputs == 0:
            raise TemplateError(
                f"observables {list(obs)!r} give no outputs on 1 qubit (zz needs n_qubits >= 2)"
            )

    # --- sizes -------------------------------------------------------------------------------

    @property
    def n_features(self) -> int:
        """Values a model feeds in: one per qubit."""
        return self.n_qubits

    @property
    def n_inputs(self) -> int:
        """Input angles of the circuit itself (what backends take): `input_slots()` of the
        features; one per qubit unless the encoding also reads pairs."""
        return len(self.input_slots())

    def input_slots(self) -> tuple[InputSlot, ...]:
        n = self.n_qubits
        if self.encoding != "zz-feature":
            return tuple(InputSlot(q) for q in range(n))
        singles = [InputSlot(q, None, 2.0) for q in range(n)]
        return tuple(singles + [InputSlot(i, j, 2.0) for i, j in self.feature_pairs()])

    def feature_pairs(self) -> tuple[tuple[int, int], ...]:
        """Qubit pairs the ZZ feature map couples, in order (full entanglement)."""
        n = self.n_qubits
        return tuple((i, j) for i in range(n) for j in range(i + 1, n))

    @property
    def rotation_gates(self) -> tuple[str, ...]:
        return ROTATIONS[self.rotations]

    @property
    def final_rotation_gates(self) -> tuple[str, ...]:
        return () if self.final_rotations is None else ROTATIONS[self.final_rotations]

    @property
    def weights_per_layer(self) -> int:
        return self.n_qubits * len(self.rotation_gates)

    @property
    def n_weights(self) -> int:
        return (self.n_layers * self.weights_per_layer
                + self.n_qubits * len(self.final_rotation_gates))

    @property
    def weight_shape(self) -> tuple[int, int, int]:
        """Shape of the layered weights; with final rotations, weights are flat only."""
        return (self.n_layers, self.n_qubits, len(self.rotation_gates))

    @property
    def is_layered(self) -> bool:
        """Angle or re-uploading encoding, a chain, ring or CZ-ring entangler, no final layer:
        the structure whose weights are exactly `weight_shape`."""
        return (self.encoding in LAYERED_ENCODINGS and self.entangler in LAYERED_ENTANGLERS
                and self.final_rotations is None)

    def observable_size(self, name: str) -> int:
        n = self.n_qubits
        return {"z": n, "zz": n - 1, "probs": 2**n}[name]

    @property
    def n_outputs(self) -> int:
        return sum(self.observable_size(o) for o in self.observables)

    # --- structure ---------------------------------------------------------------------------

    @property
    def encoding_gate(self) -> str:
        """The per-qubit encoding rotation (the ZZ feature map's single-qubit P is an RZ)."""
        return "rz" if self.encoding == "zz-feature" else self.encoding.split("-")[1]

    @property
    def reupload(self) -> bool:
        return self.encoding.startswith("reupload")

    @property
    def is_real(self) -> bool:
        """Every gate has a real matrix, so a real state vector suffices."""
        return (self.encoding_gate == "ry" and self.rotations == "ry"
                and self.final_rotations in (None, "ry"))

    def entangler_pairs(self, layer: int = 0) -> tuple[tuple[int, int], ...]:
        """(control, target) pairs of layer `layer`'s entangler block, in application order."""
        n = self.n_qubits
        if self.entangler == "strong":
            if n == 1:
                return ()
            reach = layer % (n - 1) + 1
            return tuple((i, (i + reach) % n) for i in range(n))
        pairs = [(i, i + 1) for i in range(n - 1)]
        if self.entangler == "cnot-chain-reverse":
            return tuple(reversed(pairs))
        # The closing gate of a ring would repeat (0, 1) at n == 2 and be meaningless at n == 1.
        if self.entangler.endswith("ring") and n > 2:
            pairs.append((n - 1, 0))
        return tuple(pairs)

    def _feature_map(self) -> list[Gate]:
        """Qiskit's ZZFeatureMap: per repetition H, RZ(2x_q), then per pair CX·RZ·CX."""
        n = self.n_qubits
        block: list[Gate] = [Gate("h", (q,)) for q in range(n)]
        block += [Gate("rz", (q,), ("x", q)) for q in range(n)]
        for slot, (i, j) in enumerate(self.feature_pairs(), start=n):
            block += [Gate("cnot", (i, j)), Gate("rz", (j,), ("x", slot)), Gate("cnot", (i, j))]
        return block * ZZ_FEATURE_REPS

    def operations(self) -> tuple[Gate, ...]:
        """The expanded gate list; compilers to other SDKs are built from it."""
        n, k = self.n_qubits, len(self.rotation_gates)
        enc = self.encoding_gate
        two_qubit = "cz" if self.entangler.startswith("cz") else "cnot"
        ops: list[Gate] = []
        encode = [Gate(enc, (q,), ("x", q)) for q in range(n)]
        if self.encoding == "zz-feature":
            ops.extend(self._feature_map())
        elif not self.reupload:
            if enc == "rz":
                ops.extend(Gate("h", (q,)) for q in range(n))
            ops.extend(encode)
        for layer in range(self.n_layers):
            if self.reupload:
                ops.extend(encode)
            for q in range(n):
                base = (layer * n + q) * k
                ops.extend(
                    Gate(g, (q,), ("w", base + r)) for r, g in enumerate(self.rotation_gates)
                )
            ops.extend(Gate(two_qubit, pair) for pair in self.entangler_pairs(layer))
        final = self.final_rotation_gates
        for q in range(n):
            base = self.n_layers * self.weights_per_layer + q * len(final)
            ops.extend(Gate(g, (q,), ("w", base + r)) for r, g in enumerate(final))
        return tuple(ops)

    def gate_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for gate in self.operations():
            counts[gate.name] = counts.get(gate.name, 0) + 1
        return counts

    def depth(self) -> int:
        """Circuit depth with every gate, single-qubit rotations included, one time step."""
        level = [0] * self.n_qubits
        for gate in self.operations():
            step = max(level[w] for w in gate.wires) + 1
            for w in gate.wires:
                level[w] = step
        return max(level)

    def output_labels(self) -> list[str]:
        """A short name per output: z0.., zz0_1.., p0101.. (bitstring with qubit 0 first)."""
        n = self.n_qubits
        labels: list[str] = []
        for obs in self.observables:
            if obs == "z":
                labels += [f"z{i}" for i in range(n)]
            elif obs == "zz":
                labels += [f"zz{i}_{i + 1}" for i in range(n - 1)]
            else:
                labels += [f"p{b:0{n}b}" for b in range(2**n)]
        return labels

    def draw(self) -> str:
        """A compact ASCII drawing: one line per qubit, @ control, X target, | crossing."""
        n = self.n_qubits
        columns: list[dict[int, str]] = []
        free = [0] * n  # first column where each wire is idle
        for gate in self.operations():
            low, high = min(gate.wires), max(gate.wires)
            # A two-qubit gate blocks the wires it crosses so the drawing stays readable.
            col = max(free[low : high + 1])
            while len(columns) <= col:
                columns.append({})
            cells = columns[col]
            if gate.name in ("cnot", "cz"):
                for w in range(low + 1, high):
                    cells[w] = "|"
                cells[gate.wires[0]] = "@"
                cells[gate.wires[1]] = "X" if gate.name == "cnot" else "@"
            else:
                label = gate.name.upper()
                cells[gate.wires[0]] = (
                    f"{label}({gate.param[0]}{gate.param[1]})" if gate.param else label
                )
            for w in range(low, high + 1):
                free[w] = col + 1
        width = len(f"q{n - 1}")
        lines = []
        for q in range(n):
            row = [f"q{q}".rjust(width) + ": -"]
            for cells in columns:
                span = max(len(c) for c in cells.values())
                row.append(cells.get(q, "").center(span, "-") + "-")
            lines.append("".join(row))
        return "\n".join(lines)

    def summary(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.gate_counts().items()))
        final = "" if self.final_rotations is None else f", final {self.final_rotations}"
        return (
            f"{plural(self.n_qubits, 'qubit')}, {plural(self.n_layers, 'layer')}, "
            f"{self.encoding}, {self.rotations}, "
            f"{self.entangler}{final}, observables {'+'.join(self.observables)}: "
            f"{self.n_weights} weights, {self.n_outputs} outputs, depth {self.depth()}, "
            f"gates {counts}"
        )

    # --- identity and serialisation ----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "n_qubits": self.n_qubits,
            "n_layers": self.n_layers,
            "encoding": self.encoding,
            "rotations": self.rotations,
            "entangler": self.entangler,
            "observables": list(self.observables),
        }
        # Left out when unset so templates saved before the field keep their hash.
        if self.final_rotations is not None:
            data["final_rotations"] = self.final_rotations
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CircuitTemplate:
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise TemplateError(f"unknown template fields {unknown}; accepted: {', '.join(FIELDS)}")
        missing = [f for f in ("n_qubits", "n_layers") if f not in data]
        if missing:
            raise TemplateError(f"template is missing required fields {missing}")
        fields = dict(data)
        if "observables" in fields and isinstance(fields["observables"], list):
            fields["observables"] = tuple(fields["observables"])
        return cls(**fields)

    @property
    def hash(self) -> str:
        """Stable across processes and versions: sha256 of the canonical JSON, 16 hex chars."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
