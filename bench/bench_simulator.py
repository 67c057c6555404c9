"""Quantum layer fwd+bwd: the in-house torch simulator against PennyLane TorchLayer; prints JSON."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from typing import Any

import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.simulator.engine import simulate

SIZES = ((4, 2), (8, 4), (12, 4))
CIRCUITS = (
    ("angle-ry", "ryrz", "cnot-ring"),  # the TrainSpec default
    ("angle-ry", "ry", "cnot-ring"),
    ("angle-rx", "rot", "cnot-ring"),
    ("reupload-rx", "rot", "cz-ring"),
)
BATCH = 64


class SimulatorLayer(torch.nn.Module):
    """What the jobs layer wraps: shared trainable weights, inputs from the classical part."""

    def __init__(self, template: CircuitTemplate) -> None:
        super().__init__()
        self.template = template
        self.weights = torch.nn.Parameter(torch.rand(template.n_weights) * 2 * torch.pi)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return simulate(self.template, inputs, self.weights)


def pennylane_layer(template: CircuitTemplate) -> torch.nn.Module:
    """The same circuit as a qml.qnn.TorchLayer on default.qubit with backprop."""
    import pennylane as qml

    gates = {"h": qml.Hadamard, "rx": qml.RX, "ry": qml.RY, "rz": qml.RZ}
    two = {"cnot": qml.CNOT, "cz": qml.CZ}
    dev = qml.device("default.qubit", wires=template.n_qubits)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(inputs: torch.Tensor, weights: torch.Tensor) -> Any:
        for gate in template.operations():
            if gate.name in two:
                two[gate.name](wires=list(gate.wires))
            elif gate.param is None:
                gates[gate.name](wires=gate.wires[0])
            else:
                kind, index = gate.param
                angle = inputs[..., index] if kind == "x" else weights[index]
                gates[gate.name](angle, wires=gate.wires[0])
        out: list[Any] = []
        n = template.n_qubits
        for obs in template.observables:
            if obs == "z":
                out += [qml.expval(qml.PauliZ(i)) for i in range(n)]
            elif obs == "zz":
                out += [qml.expval(qml.PauliZ(i) @ qml.PauliZ(i + 1)) for i in range(n - 1)]
            else:
                out.append(qml.probs(wires=range(n)))
        return out

    return qml.qnn.TorchLayer(circuit, {"weights": (template.n_weights,)})


def _step(layer: torch.nn.Module, inputs: torch.Tensor) -> None:
    layer.zero_grad(set_to_none=True)
    inputs.grad = None
    layer(inputs).sum().backward()


def _mean_ms(layer: torch.nn.Module, inputs: torch.Tensor, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        _step(layer, inputs)
    return (time.perf_counter() - start) / calls * 1e3


def bench(template: CircuitTemplate, budget_s: float, repeats: int = 5) -> dict[str, Any]:
    """Best-of-`repeats` mean ms per forward+backward, the two layers interleaved so that load
    from other processes hits both alike; best, since disturbances only ever add time."""
    torch.manual_seed(0)
    inputs = torch.rand(BATCH, template.n_inputs, requires_grad=True)
    ours = SimulatorLayer(template)
    theirs = pennylane_layer(template)
    with torch.no_grad():
        theirs.weights.copy_(ours.weights)  # type: ignore[operator]
        assert torch.allclose(ours(inputs), theirs(inputs).float(), atol=1e-4)
    layers = {"ours": ours, "pennylane": theirs}
    calls = {}
    for name, layer in layers.items():
        _step(layer, inputs)
        once = _mean_ms(layer, inputs, 1) / 1e3
        calls[name] = max(2, min(200, int(budget_s / repeats / max(once, 1e-6))))
    best = dict.fromkeys(layers, math.inf)
    for _ in range(repeats):
        for name, layer in layers.items():
            best[name] = min(best[name], _mean_ms(layer, inputs, calls[name]))
    return {
        "circuit": f"{template.encoding}/{template.rotations}/{template.entangler}",
        "template_hash": template.hash,
        "qubits": template.n_qubits,
        "layers": template.n_layers,
        "ours_ms": round(best["ours"], 3),
        "pennylane_ms": round(best["pennylane"], 3),
        "speedup": round(best["pennylane"] / best["ours"], 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--circuits", type=int, default=len(CIRCUITS), help="how many circuits")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = [round(v, 2) for v in os.getloadavg()]
    results = []
    for encoding, rotations, entangler in CIRCUITS[: args.circuits]:
        for n, layers in SIZES:
            template = CircuitTemplate(n, layers, encoding, rotations, entangler, ("z",))
            results.append(bench(template, args.budget))
    import pennylane as qml

    report: dict[str, Any] = {
        "benchmark": "quantum layer forward+backward, batch 64, float32 inputs",
        "peer": "pennylane TorchLayer, default.qubit, diff_method=backprop",
        "torch": torch.__version__,
        "pennylane": qml.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "batch": BATCH,
        "load_average_before": load_before,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "min_speedup_by_size": {
            f"{n}q{layers}l": min(r["speedup"] for r in results if r["qubits"] == n)
            for n, layers in SIZES
        },
        "median_speedup": statistics.median(r["speedup"] for r in results),
    }
    # One result per line: readable, and still one JSON document.
    rows = ",\n    ".join(json.dumps(r) for r in results)
    print(json.dumps(report, indent=2)[:-2] + f',\n  "results": [\n    {rows}\n  ]\n}}')


if __name__ == "__main__":
    main()
