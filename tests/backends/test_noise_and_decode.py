"""The --noise spec parser and the shot decoders (bit order, observables, sparse histograms)."""

from __future__ import annotations

import numpy as np
import pytest

from qorch.backends.circuits.decode import (
    outputs_from_bits,
    outputs_from_bitstring_counts,
    outputs_from_qiskit_counts,
    reverse_bits,
)
from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import NoiseSpecError, ProviderJobError
from qorch.backends.noise import NoiseSpec, accepted_keys, parse_noise


def test_parse_full_spec_and_canonical_string() -> None:
    spec = parse_noise("depol1=0.001, depol2=0.01,readout=0.02,amp=0.001,phase=0.002")
    assert spec == NoiseSpec(depol1=0.001, depol2=0.01, readout=0.02, amp=0.001, phase=0.002)
    assert parse_noise(spec.to_string()) == spec
    assert parse_noise("none").is_noiseless and parse_noise("").is_noiseless
    assert parse_noise(None).to_string() == "none"
    thermal = parse_noise("t1=50e-6,t2=70e-6,gate_time=50e-9")
    assert thermal.has_thermal and thermal.two_qubit_time == pytest.approx(250e-9)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("depol1=0.9", "depol1=0.9 is out of range"),
        ("readout=-0.1", "[0, 0.5]"),
        ("foo=1", "unknown noise key 'foo'"),
        ("depol1", "expected key=value"),
        ("depol2=abc", "not a number"),
        ("t1=50e-6", "needs both t1 and t2"),
        ("t1=10e-6,t2=30e-6", "exceeds 2*t1"),
        ("amp=0.1,amp=0.2", "given twice"),
        ("phase=nan", "out of range"),
    ],
)
def test_bad_specs_are_one_line_errors_naming_key_and_range(spec: str, needle: str) -> None:
    with pytest.raises(NoiseSpecError) as info:
        parse_noise(spec)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_key_error_lists_every_accepted_key() -> None:
    with pytest.raises(NoiseSpecError) as info:
        parse_noise("depolarizing=0.1")
    for key in ("depol1", "depol2", "readout", "amp", "phase", "t1", "t2", "gate_time"):
        assert key in str(info.value)
    assert accepted_keys() in str(info.value)


def test_aer_model_covers_the_exported_gates() -> None:
    from qorch.backends.qiskit.noise import aer_noise_model

    model = aer_noise_model(parse_noise("depol1=0.01,depol2=0.02,readout=0.05,t1=50e-6,t2=70e-6"))
    assert {"rx", "ry", "rz", "h", "cx", "cz", "measure"} <= set(model.noise_instructions)


def test_braket_refuses_thermal_and_adds_pragmas() -> None:
    from qorch.backends.braket.compile import to_braket
    from qorch.backends.braket.noise import apply_braket_noise

    circuit = to_braket(CircuitTemplate(2, 1))
    with pytest.raises(NoiseSpecError, match="only supported on aer"):
        apply_braket_noise(parse_noise("t1=50e-6,t2=70e-6"), circuit)
    noisy = apply_braket_noise(parse_noise("depol1=0.01,depol2=0.02,readout=0.05"), circuit)
    names = {type(i.operator).__name__ for i in noisy.instructions}
    assert {"Depolarizing", "TwoQubitDepolarizing", "BitFlip"} <= names


def test_qiskit_counts_are_little_endian_and_reordered() -> None:
    t = CircuitTemplate(3, 1, observables=("z", "zz", "probs"))
    # qiskit: clbit 0 is the rightmost character, so "001" means qubit 0 measured 1.
    out = outputs_from_qiskit_counts(t, [{"001": 3, "0x6": 1}])  # 0x6 = qubits 1 and 2
    z = out[0, :3]
    np.testing.assert_allclose(z, [1 - 2 * 3 / 4, 1 - 2 * 1 / 4, 1 - 2 * 1 / 4])
    zz = out[0, 3:5]  # q0q1: (1,0) x3 -> -1, (0,1) x1 -> -1; q1q2: (0,0) x3, (1,1) x1 -> +1
    np.testing.assert_allclose(zz, [-1.0, 1.0])
    probs = out[0, 5:]
    assert probs[0b100] == 0.75 and probs[0b011] == 0.25  # qubit 0 is the MSB


def test_the_three_decoders_agree() -> None:
    t = CircuitTemplate(4, 1, observables=("z", "zz", "probs"))
    rng = np.random.default_rng(0)
    bits = rng.random((5, 300, 4)) < rng.random((5, 1, 4))
    from_bits = outputs_from_bits(t, bits)
    big = [dict(zip(*np.unique(["".join("1" if b else "0" for b in s) for s in row],
                               return_counts=True), strict=True)) for row in bits]  # fmt: skip
    np.testing.assert_allclose(outputs_from_bitstring_counts(t, big), from_bits)
    little = [{k[::-1]: v for k, v in row.items()} for row in big]
    np.testing.assert_allclose(outputs_from_qiskit_counts(t, little), from_bits)
    assert list(reverse_bits(np.array([1, 2, 8]), 4)) == [8, 4, 1]


def test_decoders_refuse_malformed_results() -> None:
    t = CircuitTemplate(2, 1)
    with pytest.raises(ProviderJobError):
        outputs_from_bitstring_counts(t, [{"101": 5}])
    with pytest.raises(ProviderJobError):
        outputs_from_qiskit_counts(t, [{}])
    with pytest.raises(ProviderJobError):
        outputs_from_bits(t, np.zeros((2, 10, 3), dtype=bool))
