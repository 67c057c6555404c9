"""From exact or estimated basis probabilities to template outputs (numpy, qubit 0 as MSB)."""

from __future__ import annotations

import numpy as np

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import ParameterError


def eigenvalue_matrix(template: CircuitTemplate, observable: str) -> np.ndarray:
    """[2^n, m] eigenvalues of the z or zz observables, so that <O> = probabilities @ matrix."""
    n = template.n_qubits
    states = np.arange(2**n)
    z = 1.0 - 2.0 * ((states[:, None] >> (n - 1 - np.arange(n))) & 1)
    return z if observable == "z" else z[:, :-1] * z[:, 1:]


def outputs_from_probs(template: CircuitTemplate, probs: np.ndarray) -> np.ndarray:
    """Outputs [..., n_outputs] from probabilities [..., 2^n] indexed with qubit 0 as MSB."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape[-1] != 2**template.n_qubits:
        raise ParameterError(
            f"probabilities must have 2^{template.n_qubits} = {2**template.n_qubits} entries "
            f"per row, got {probs.shape[-1]}"
        )
    parts = [
        probs if obs == "probs" else probs @ eigenvalue_matrix(template, obs)
        for obs in template.observables
    ]
    return np.concatenate(parts, axis=-1)
