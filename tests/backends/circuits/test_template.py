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
        ({"encoding": "angle-ryy"}, ["encoding", "'angle-ryy'", "zz-feature"]),
        ({"rotations": "rxx"}, ["rotations", "'rxx'", "ryrz", "rot"]),
        ({"final_rotations": "y"}, ["final_rotations", "'y'", "ryrz"]),
        ({"rotations": ["ry"]}, ["rotations", "['ry']"]),
        ({"entangler": "ring"}, ["entangler", "'ring'", "cz-ring", "strong"]),
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
        (3, "cnot-chain-reverse", ((1, 2), (0, 1))),
        (1, "strong", ()),
        (2, "strong", ((0, 1), (1, 0))),
        (4, "strong", ((0, 1), (1, 2), (2, 3), (3, 0))),
    ],
)
def test_entangler_pairs(n: int, entangler: str, pairs: tuple[tuple[int, int], ...]) -> None:
    assert CircuitTemplate(n, 1, entangler=entangler).entangler_pairs() == pairs


def test_strong_entangler_reach_grows_with_the_layer() -> None:
    template = CircuitTemplate(4, 4, entangler="strong")
    assert template.entangler_pairs(1) == ((0, 2), (1, 3), (2, 0), (3, 1))
    assert template.entangler_pairs(2) == ((0, 3), (1, 0), (2, 1), (3, 2))
    assert template.entangler_pairs(3) == template.entangler_pairs(0)


def test_zz_feature_map_reads_pairs_of_features() -> None:
    template = CircuitTemplate(3, 1, "zz-feature", "ry", "cnot-chain-reverse", ("zz",),
                               final_rotations="ry")
    assert template.n_features == 3 and template.n_inputs == 6
    assert [s.second for s in template.input_slots()] == [None, None, None, 1, 2, 2]
    assert {s.scale for s in template.input_slots()} == {2.0}
    # 2 repetitions of (3 H, 3 RZ(x), 3 pairs × CX·RZ·CX), then RY, 2 CNOTs, final RY.
    assert template.gate_counts() == {"h": 6, "rz": 12, "cnot": 12 + 2, "ry": 6}
    assert template.n_weights == 6 and not template.is_layered and not template.is_real
    pair_gates = [g for g in template.operations() if g.param == ("x", 5)]
    assert [g.wires for g in pair_gates] == [(2,), (2,)]


def test_final_rotations_come_after_the_last_entangler() -> None:
    template = CircuitTemplate(2, 1, "angle-ry", "rz", "cnot-chain", ("z",), final_rotations="ry")
    names = [(g.name, g.param) for g in template.operations()]
    assert names[-3:] == [("cnot", None), ("ry", ("w", 2)), ("ry", ("w", 3))]
    assert "final ry" in template.summary()
    assert CircuitTemplate.from_dict(template.to_dict()) == template
    # Unset, the field stays out of the dict so older templates keep their hash.
    assert "final_rotations" not in CircuitTemplate(2, 1).to_dict()


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
        {"final_rotations": "ry"},
        {"entangler": "strong"},
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
