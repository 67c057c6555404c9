"""qorch's exact layer against TensorCircuit-NG (JAX, jit + vmap), PennyLane default.qubit
(backprop; as it comes and jitted) and lightning.qubit (adjoint): forward + backward in inputs
and weights, float64, RY encoding + L x (RY layer, CNOT ring), <Z> per qubit. Prints JSON.

Every implementation first computes the same rows; values and gradients must agree with
qorch's to 1e-10 before any time counts. `--busy` measures everything once more with a
process spinning on the last core (one of two, on the machine this was written for).

The peers run in their own environment (bench/.venv-peers with PEER_PACKAGES),
one process per peer and configuration, through bench/peers_worker.py.
Usage: .venv/bin/python bench/bench_peers.py [--busy] [--budget 3] [--configs 4x2x64,...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.simulator.engine import simulate

BENCH = Path(__file__).resolve().parent
PEERS_PYTHON = BENCH / ".venv-peers" / "bin" / "python"
# What bench/.venv-peers holds (python3 -m venv bench/.venv-peers, then pip install these).
PEER_PACKAGES = ("tensorcircuit-ng", "jax", "pennylane", "pennylane-lightning", "numpy")
PEERS = ("tensorcircuit", "default.qubit", "default.qubit+jit", "lightning.qubit")
CONFIGS = ("4x2x64", "4x2x256", "8x4x64", "12x4x64", "16x4x64")  # qubits x layers x batch
TOLERANCE = 1e-10


def parse(config: str) -> tuple[int, int, int]:
    qubits, layers, batch = (int(v) for v in config.split("x"))
    return qubits, layers, batch


def inputs(template: CircuitTemplate, batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(template.n_qubits * 1000 + batch)
    x = rng.uniform(-math.pi, math.pi, (batch, template.n_inputs))
    return x, rng.uniform(-math.pi, math.pi, template.n_weights)


def qorch_step(template: CircuitTemplate, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    x.grad = w.grad = None
    out = simulate(template, x, w)
    out.sum().backward()
    return out


def qorch_run(template: CircuitTemplate, xs: np.ndarray, ws: np.ndarray,
              budget_s: float, repeats: int) -> dict[str, Any]:
    """The same reply as a peer worker's, from the in-process torch simulator."""
    x = torch.tensor(xs, requires_grad=True)
    w = torch.tensor(ws, requires_grad=True)
    out = qorch_step(template, x, w)
    assert x.grad is not None and w.grad is not None
    reply = {"values": out.detach().numpy(), "grad_x": x.grad.numpy().copy(),
             "grad_w": w.grad.numpy().copy()}
    started = time.perf_counter()
    qorch_step(template, x, w)
    once = time.perf_counter() - started
    calls = max(1, min(500, int(budget_s / repeats / max(once, 1e-6))))
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            qorch_step(template, x, w)
        best = min(best, (time.perf_counter() - started) / calls)
    reply["ms"] = best * 1e3
    return reply


def peer_run(peer: str, template: CircuitTemplate, xs: np.ndarray, ws: np.ndarray,
             budget_s: float, repeats: int) -> dict[str, Any]:
    request = {"peer": peer, "n_qubits": template.n_qubits,
               "ops": [[g.name, list(g.wires), g.param] for g in template.operations()],
               "x": xs.tolist(), "w": ws.tolist(), "budget_s": budget_s, "repeats": repeats}
    done = subprocess.run([str(PEERS_PYTHON), str(BENCH / "peers_worker.py")],
                          input=json.dumps(request), capture_output=True, text=True)
    if done.returncode:  # e.g. out of memory at 16 qubits: recorded, not fatal
        lines = (done.stderr.strip() or f"exit status {done.returncode}").splitlines()
        return {"error": lines[-1][:300]}
    reply: dict[str, Any] = json.loads(done.stdout)
    for key in ("values", "grad_x", "grad_w"):
        reply[key] = np.asarray(reply[key])
    return reply


def disagreement(a: dict[str, Any], b: dict[str, Any]) -> float:
    return max(float(np.abs(a[k] - b[k]).max()) for k in ("values", "grad_x", "grad_w"))


@contextmanager
def spinning(busy: bool) -> Iterator[None]:
    """A process spinning on the last core for the duration of the block, when busy."""
    if not busy:
        yield
        return
    core = max(os.sched_getaffinity(0))
    code = f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True: pass"
    spinner = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(0.5)
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def measure(config: str, busy: bool, budget_s: float, repeats: int,
            peer_names: list[str]) -> dict[str, Any]:
    qubits, layers, batch = parse(config)
    template = CircuitTemplate(qubits, layers, "angle-ry", "ry", "cnot-ring", ("z",))
    xs, ws = inputs(template, batch)
    with spinning(busy):
        ours = qorch_run(template, xs, ws, budget_s, repeats)
        peers = {p: peer_run(p, template, xs, ws, budget_s, repeats) for p in peer_names}
    failed = {p: r["error"] for p, r in peers.items() if "error" in r}
    ran = {p: r for p, r in peers.items() if p not in failed}
    worst = {p: disagreement(ours, r) for p, r in ran.items()}
    bad = {p: d for p, d in worst.items() if d > TOLERANCE}
    if bad:
        raise SystemExit(f"{config}: peers disagree with qorch beyond {TOLERANCE}: {bad}")
    row = {"config": config, "busy": busy, "qorch_ms": round(ours["ms"], 3),
           **{f"{p}_ms": round(r["ms"], 3) for p, r in ran.items()}, "failed": failed}
    if ran:
        strongest = min(ran, key=lambda p: ran[p]["ms"])
        row.update(strongest_peer=strongest,
                   speedup_vs_strongest=round(ran[strongest]["ms"] / ours["ms"], 2),
                   max_abs_disagreement=max(worst.values()))
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--busy", action="store_true", help="also measure with a core busy")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--peers", default=",".join(PEERS))
    args = parser.parse_args(argv)
    if not PEERS_PYTHON.exists():
        raise SystemExit(f"no {PEERS_PYTHON}: python3 -m venv bench/.venv-peers && "
                         f"bench/.venv-peers/bin/pip install {' '.join(PEER_PACKAGES)}")
    load_before = [round(v, 2) for v in os.getloadavg()]
    rows = []
    for busy in (False, True) if args.busy else (False,):
        for config in args.configs.split(","):
            rows.append(measure(config, busy, args.budget, args.repeats,
                                args.peers.split(",")))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    quiet = {r["config"]: r for r in rows if not r["busy"]}
    slowdown = {
        r["config"]: {k: round(r[k] / quiet[r["config"]][k], 2)
                      for k in r if k.endswith("_ms") and k in quiet.get(r["config"], {})}
        for r in rows if r["busy"]
    }
    report = {"benchmark": "exact layer forward+backward (inputs and weights), float64, "
                           "RY encoding + L x (RY, CNOT ring), <Z> per qubit",
              "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
              "cpus": os.cpu_count(), "load_average_before": load_before,
              "load_average_after": [round(v, 2) for v in os.getloadavg()],
              "results": rows, "busy_over_quiet": slowdown}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
