"""One peer simulator on one circuit, run by bench_peers.py in the peers' own environment.

Reads a JSON request on stdin: the circuit as gates (CircuitTemplate.operations()), inputs x
[B, n_inputs], shared weights w, and whether to time. Writes JSON on stdout: outputs <Z_i>,
the gradient of their sum in x and in w, and, when timing, the best mean ms per call.
Imports nothing of qorch (and no torch): numpy, jax, tensorcircuit, pennylane only.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

Gate = tuple[str, list[int], list[Any] | None]
Fn = Callable[[Any, Any], Any]


def _angle(param: list[Any], x: Any, w: Any) -> Any:
    kind, index = param
    return x[..., index] if kind == "x" else w[index]


def _jax_pair(outputs: Fn) -> tuple[Fn, Fn]:
    """(values, step) from outputs(x, w) [B, n] on JAX: the step is the jitted forward and
    backward of the outputs' sum in x and w."""
    import jax

    def total(x: Any, w: Any) -> Any:
        out = outputs(x, w)
        return out.sum(), out

    grad = jax.jit(jax.value_and_grad(total, argnums=(0, 1), has_aux=True))

    def values(x: Any, w: Any) -> Any:
        return grad(x, w)[0][1]

    def step(x: Any, w: Any) -> Any:
        return jax.block_until_ready(grad(x, w)[1])

    return values, step


def tensorcircuit_pair(ops: list[Gate], n: int) -> tuple[Fn, Fn]:
    """TensorCircuit-NG on JAX: one circuit per row by vmap, the whole step jitted."""
    import jax
    import jax.numpy as jnp
    import tensorcircuit as tc

    tc.set_backend("jax")
    tc.set_dtype("complex128")

    def row(x: Any, w: Any) -> Any:
        c = tc.Circuit(n)
        for name, wires, param in ops:
            if param is None:
                getattr(c, name)(*wires)
            else:
                getattr(c, name)(wires[0], theta=_angle(param, x, w))
        return jnp.stack([jnp.real(c.expectation_ps(z=[q])) for q in range(n)])

    return _jax_pair(jax.vmap(row, in_axes=(0, None)))


def pennylane_pair(ops: list[Gate], n: int, peer: str) -> tuple[Fn, Fn]:
    """PennyLane, the batch broadcast through one tape: default.qubit by backprop, as it
    comes (NumPy autograd) or on JAX jitted; lightning.qubit by its adjoint method."""
    import pennylane as qml

    gates = {"h": qml.Hadamard, "rx": qml.RX, "ry": qml.RY, "rz": qml.RZ,
             "cnot": qml.CNOT, "cz": qml.CZ}
    jitted = peer.endswith("+jit")
    device = peer.removesuffix("+jit")

    @qml.qnode(qml.device(device, wires=n), interface="jax" if jitted else "autograd",
               diff_method="backprop" if device == "default.qubit" else "adjoint")
    def circuit(x: Any, w: Any) -> Any:
        for name, wires, param in ops:
            if param is None:
                gates[name](wires=wires)
            else:
                gates[name](_angle(param, x, w), wires=wires[0])
        return [qml.expval(qml.PauliZ(q)) for q in range(n)]

    if jitted:
        import jax.numpy as jnp

        return _jax_pair(lambda x, w: jnp.stack(circuit(x, w), axis=-1))
    from pennylane import numpy as pnp

    differentiate = qml.grad(lambda x, w: pnp.sum(pnp.stack(circuit(x, w))), argnums=[0, 1])

    def values(x: Any, w: Any) -> Any:
        return np.stack(circuit(x, w), axis=-1)

    def step(x: Any, w: Any) -> Any:
        return differentiate(pnp.array(x, requires_grad=True), pnp.array(w, requires_grad=True))

    return values, step


def best_mean_ms(step: Fn, x: Any, w: Any, budget_s: float, repeats: int) -> float:
    """Best of `repeats` means over calls filling budget/repeats: disturbances only add."""
    started = time.perf_counter()
    step(x, w)
    once = time.perf_counter() - started
    calls = max(1, min(500, int(budget_s / repeats / max(once, 1e-6))))
    if once * repeats > budget_s:
        return once * 1e3  # a single call already spends the budget
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            step(x, w)
        best = min(best, (time.perf_counter() - started) / calls)
    return best * 1e3


def main() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    request = json.load(sys.stdin)
    ops = [(g[0], list(g[1]), g[2]) for g in request["ops"]]
    n = request["n_qubits"]
    peer = request["peer"]
    values, step = (tensorcircuit_pair(ops, n) if peer == "tensorcircuit"
                    else pennylane_pair(ops, n, peer))
    x, w = (np.asarray(request[k], dtype=np.float64) for k in ("x", "w"))
    if peer == "tensorcircuit" or peer.endswith("+jit"):
        x, w = jax.numpy.asarray(x), jax.numpy.asarray(w)
    grad_x, grad_w = step(x, w)
    reply: dict[str, Any] = {"values": np.asarray(values(x, w)).tolist(),
                             "grad_x": np.asarray(grad_x).tolist(),
                             "grad_w": np.asarray(grad_w).tolist()}
    if request.get("budget_s"):
        reply["ms"] = best_mean_ms(step, x, w, request["budget_s"], request["repeats"])
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    main()
