"""Measured shots (counts, bit arrays) to template outputs [R, n_outputs], qubit 0 as the MSB."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ProviderJobError


def _check_width(template: CircuitTemplate, width: int, what: str) -> None:
    if width != template.n_qubits:
        raise ProviderJobError(
            f"{what} has {width} measured bits but the template has {template.n_qubits} qubits"
        )


def outputs_from_histogram(
    template: CircuitTemplate, states: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Outputs [n_outputs] of one row from observed basis states (qubit 0 = MSB) and counts.

    Works on the observed states only, so a 20-qubit z/zz template never builds 2^20 arrays.
    """
    n = template.n_qubits
    states = np.asarray(states, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if total <= 0:
        raise ProviderJobError("the provider returned no shots for a circuit")
    bits = (states[:, None] >> (n - 1 - np.arange(n))) & 1
    parts = []
    for obs in template.observables:
        if obs == "z":
            parts.append(1.0 - 2.0 * (weights @ bits) / total)
        elif obs == "zz":
            parts.append(1.0 - 2.0 * (weights @ (bits[:, :-1] ^ bits[:, 1:])) / total)
        else:
            parts.append(np.bincount(states, weights, minlength=2**n) / total)
    return np.concatenate(parts)


def reverse_bits(values: np.ndarray, n: int) -> np.ndarray:
    """Bit-reverse n-bit integers: little-endian (qiskit clbit i = bit i) <-> qubit 0 as MSB."""
    values = np.asarray(values, dtype=np.int64)
    out = np.zeros_like(values)
    for i in range(n):
        out |= ((values >> i) & 1) << (n - 1 - i)
    return out


def _key_to_int(key: str) -> int:
    key = key.replace(" ", "")
    return int(key, 16) if key.startswith("0x") else int(key, 2)


def _outputs_from_counts(
    template: CircuitTemplate,
    counts: Sequence[Mapping[str, int | float]],
    states_of: Callable[[list[str]], np.ndarray],
) -> np.ndarray:
    """Outputs [R, n_outputs] from count dicts; `states_of` turns keys into MSB-first states."""
    rows = []
    for row in counts:
        if not row:
            raise ProviderJobError("the provider returned empty counts for a circuit")
        weights = np.fromiter(row.values(), dtype=np.float64, count=len(row))
        rows.append(outputs_from_histogram(template, states_of(list(row)), weights))
    return np.stack(rows)


def outputs_from_qiskit_counts(
    template: CircuitTemplate, counts: Sequence[Mapping[str, int | float]]
) -> np.ndarray:
    """Outputs [R, n_outputs] from qiskit count dicts (bitstring or hex keys, clbit 0 rightmost)."""
    n = template.n_qubits

    def states_of(keys: list[str]) -> np.ndarray:
        little = np.fromiter((_key_to_int(k) for k in keys), dtype=np.int64, count=len(keys))
        if int(little.max()) >= 2**n:
            raise ProviderJobError(f"counts key {max(keys)!r} does not fit {n} measured bits")
        return reverse_bits(little, n)

    return _outputs_from_counts(template, counts, states_of)


def outputs_from_bitstring_counts(
    template: CircuitTemplate, counts: Sequence[Mapping[str, int | float]]
) -> np.ndarray:
    """Outputs [R, n_outputs] from Braket-style counts: qubit 0 is the leftmost character."""

    def states_of(keys: list[str]) -> np.ndarray:
        _check_width(template, len(keys[0]), f"counts key {keys[0]!r}")
        return np.fromiter((int(k, 2) for k in keys), dtype=np.int64, count=len(keys))

    return _outputs_from_counts(template, counts, states_of)


def outputs_from_bits(template: CircuitTemplate, bits: np.ndarray) -> np.ndarray:
    """Outputs [R, n_outputs] from per-shot bits [R, shots, n] with column i = qubit i."""
    bits = np.asarray(bits)
    if bits.ndim != 3:
        raise ProviderJobError(f"expected per-shot bits [R, shots, n], got shape {bits.shape}")
    _check_width(template, bits.shape[2], "the result")
    n = template.n_qubits
    b = bits.astype(np.int64)
    shots = b.shape[1]
    parts = []
    for obs in template.observables:
        if obs == "z":
            parts.append(1.0 - 2.0 * b.mean(axis=1))
        elif obs == "zz":
            parts.append(1.0 - 2.0 * (b[:, :, :-1] ^ b[:, :, 1:]).mean(axis=1))
        else:
            states = b @ (1 << (n - 1 - np.arange(n)))
            offsets = (np.arange(b.shape[0]) * 2**n)[:, None]
            flat = np.bincount((states + offsets).ravel(), minlength=b.shape[0] * 2**n)
            parts.append(flat.reshape(b.shape[0], 2**n) / shots)
    return np.concatenate(parts, axis=1)
