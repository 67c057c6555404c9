"""CircuitTemplate: validation, sizes, identity, serialisation and the summary helpers."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import BackendError, TemplateError

BASE = CircuitTemplate(4, 2, "angle-ry", "ry", "cnot-ring", ("z",))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"n_qubits": 0}, ["n_qubits", "0", "1..20"]),
        ({"n_qubits": 21}, ["n_qubits", "21", "1..20"]),
        ({"n_qubits": True}, ["n_qubits", "True"]),
        ({"n_qubits": "4"}, ["n_qubits", "'4'"]),
        ({"n_layers": 0}, ["n_layers", "0", "1..50"]),
        ({"n_layers": 51}, ["n_layers", "51", "1..50"]),
        ({"encoding": "angle-ryy"}, ["encoding", "'angle-ryy'", "reupload-rx"]),
        ({"rotations": "rx"}, ["rotations", "'rx'", "ryrz", "rot"]),
        ({"rotations": ["ry"]}, ["rotations", "['ry']"]),
        ({"entangler": "ring"}, ["entangler", "'ring'", "cz-ring"]),
        ({"observables": ()}, ["observables", "z, zz, probs"]),
        ({"observables": ("x",)}, ["observables", "'x'"]),
        ({"observables": ("z", "z")}, ["observables", "distinct"]),
        ({"observables": "z"}, ["observables", "'z'"]),
        ({"n_qubits": 1, "observables": ("zz",)}, ["zz", "n_qubits >= 2"]),
    ],
)
def test_validation_names_the_bad_value(fields: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(TemplateError) as info:
        dataclasses.replace(BASE, **fields)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message, (part, message)
    assert isinstance(info.value, BackendError)


def test_zz_with_other_observables_is_allowed_on_one_qubit() -> None:
    template = CircuitTemplate(1, 1, observables=("z", "zz"))
    assert template.n_outputs == 1


def test_observables_list_is_stored_as_tuple() -> None:
    template = CircuitTemplate(2, 1, observables=["zz", "z"])  # type: ignore[arg-type]
    assert template.observables == ("zz", "z")
    assert hash(template) == hash(CircuitTemplate(2, 1, observables=("zz", "z")))


@pytest.mark.parametrize(("rotations", "k"), [("ry", 1), ("rz", 1), ("ryrz", 2), ("rot", 3)])
def test_sizes(rotations: str, k: int) -> None:
    template = CircuitTemplate(5, 3, "reupload-rx", rotations, "cz-ring", ("probs", "z", "zz"))
    assert template.n_inputs == 5
    assert template.weights_per_layer == 5 * k
    assert template.n_weights == 15 * k
    assert template.weight_shape == (3, 5, k)
    assert template.n_outputs == 32 + 5 + 4
    assert len(template.output_labels()) == template.n_outputs
    assert template.output_labels()[:2] == ["p00000", "p00001"]


@pytest.mark.parametrize(
    ("n", "entangler", "pairs"),
    [
        (1, "cnot-ring", ()),
        (2, "cnot-ring", ((0, 1),)),
        (2, "cz-ring", ((0, 1),)),
        (3, "cnot-ring", ((0, 1), (1, 2), (2, 0))),
        (3, "cnot-chain", ((0, 1), (1, 2))),
    ],
)
def test_entangler_pairs(n: int, entangler: str, pairs: tuple[tuple[int, int], ...]) -> None:
    assert CircuitTemplate(n, 1, entangler=entangler).entangler_pairs() == pairs


def test_hash_is_pinned_and_changes_with_every_field() -> None:
    # Pinned: stored executions refer to templates by this hash across versions.
    assert BASE.hash == CircuitTemplate(4, 2).hash
    assert len(BASE.hash) == 16 and int(BASE.hash, 16) >= 0
    assert BASE.hash == "873e1c5ce5f5bcb7"
    changes: list[dict[str, Any]] = [
        {"n_qubits": 5},
        {"n_layers": 3},
        {"encoding": "angle-rx"},
        {"rotations": "rot"},
        {"entangler": "cz-ring"},
        {"observables": ("z", "zz")},
        {"observables": ("probs",)},
    ]
    hashes = {dataclasses.replace(BASE, **c).hash for c in changes}
    assert len(hashes) == len(changes) and BASE.hash not in hashes
    order = CircuitTemplate(4, 2, observables=("zz", "z")).hash
    assert order != CircuitTemplate(4, 2, observables=("z", "zz")).hash


def test_dict_round_trip_through_json() -> None:
    template = CircuitTemplate(3, 4, "reupload-ry", "ryrz", "cnot-chain", ("probs", "zz"))
    data = json.loads(json.dumps(template.to_dict()))
    again = CircuitTemplate.from_dict(data)
    assert again == template and again.hash == template.hash


def test_from_dict_refuses_unknown_and_missing_fields() -> None:
    with pytest.raises(TemplateError, match="unknown template fields \\['qubits'\\]"):
        CircuitTemplate.from_dict({"n_qubits": 2, "n_layers": 1, "qubits": 3})
    with pytest.raises(TemplateError, match="n_layers"):
        CircuitTemplate.from_dict({"n_qubits": 2})


def test_gate_counts_and_depth() -> None:
    template = CircuitTemplate(3, 2, "angle-rz", "rot", "cnot-ring", ("z",))
    assert template.gate_counts() == {"h": 3, "rz": 3 + 2 * 3 * 2, "ry": 2 * 3, "cnot": 6}
    # H, RZ(x), RZ, RY, RZ = 5 steps; ring of 3 CNOTs is sequential = 3 steps; the second
    # layer's rotations on qubit 0 wait for the closing CNOT: 3 + 3 again.
    assert template.depth() == 5 + 3 + 3 + 3
    reupload = CircuitTemplate(2, 3, "reupload-ry", "ry", "cnot-chain", ("z",))
    assert reupload.gate_counts() == {"ry": 12, "cnot": 3}
    assert reupload.depth() == 3 * 3


def test_operations_index_weights_in_weight_shape_order() -> None:
    template = CircuitTemplate(2, 2, "angle-ry", "ryrz", "cz-ring", ("z",))
    weight_gates = [g for g in template.operations() if g.param and g.param[0] == "w"]
    assert [g.param[1] for g in weight_gates if g.param] == list(range(template.n_weights))
    # flat index (layer * n + qubit) * k + r
    assert weight_gates[5].name == "rz" and weight_gates[5].wires == (0,)


def test_draw_mentions_every_qubit() -> None:
    template = CircuitTemplate(11, 2, "angle-rz", "rot", "cnot-ring", ("z",))
    lines = template.draw().splitlines()
    assert len(lines) == 11
    for q, line in enumerate(lines):
        assert line.lstrip().startswith(f"q{q}:")
        assert f"RZ(x{q})" in line
    assert len({len(line) for line in lines}) == 1
    assert "X" in lines[0] and "@" in lines[10]  # the ring's closing CNOT(10, 0)
    assert "11 qubits, 2 layers" in template.summary()


def test_draw_single_qubit() -> None:
    assert CircuitTemplate(1, 1, "reupload-rx", "rz", "cz-ring").draw() == "q0: -RX(x0)-RZ(w0)-"
